/*
 * The broker: the privileged process of kinkd under privilege separation
 * (docs/arch/privsep.md).  It alone holds the kernel SA interface; it
 * reads only broker_msg requests from the engine (never network input),
 * checks each against its own copy of the configuration (broker_check.c),
 * runs the allowed ones on the real backend and sends the answers and the
 * kernel's events back.  When the engine dies it logs why and returns, so
 * the service exits and init restarts it; SAs stay in the kernel as after
 * any crash (the next start's stale-SA cleanup and reconcile handle them).
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "broker_check.h"
#include "broker_msg.h"
#include "log.h"
#include "pfkey_msg.h"
#include "sadb.h"
#include "sandbox.h"
#include "timer.h"

/* An answer or event the engine's socket had no room for yet. */
struct bk_out {
	TAILQ_ENTRY(bk_out)	 bo_entry;
	size_t			 bo_len;
	uint8_t			 bo_buf[];
};

/*
 * Queued for the engine, in octets, before the broker stops reading its
 * requests until half of it went out: a bound on what an engine that
 * never reads can make the broker hold (a dump of 100,000 SAs is ~15 MB).
 */
#define BK_OUTQ_MAX	(64u << 20)

struct broker {
	const struct broker_args *bk_args;
	struct event_base	*bk_base;
	struct sadb		*bk_sadb;
	struct kink_conf	*bk_conf;
	uint64_t		 bk_conf_ms;	/* when it was last read */
	struct timespec		 bk_conf_mtime;	/* the file's, then */
	struct event		*bk_ev_read, *bk_ev_write, *bk_ev_sig[5];
	TAILQ_HEAD(, bk_out)	 bk_outq;
	size_t			 bk_outq_len;
	int			 bk_paused;	/* reading stopped: outq full */
	int			 bk_status;
	int			 bk_reaped;	/* never signal a reused pid */
};

/* One request in flight on the real backend. */
struct breq {
	struct broker	*br_bk;
	uint32_t	 br_seq;
	int		 br_left;	/* SPD answers still to come */
};

/*
 * Never blocks on the engine: an engine blocked sending requests while
 * the broker blocked sending answers would be a deadlock (fill-sas of
 * 8,000 pairs did it).  What does not fit waits in order in bk_outq.
 */
static int
bk_send_now(struct broker *bk, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while ((n = send(bk->bk_args->ba_fd, buf, len, MSG_NOSIGNAL |
	    MSG_DONTWAIT)) == -1 && errno == EINTR)
		;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == ENOBUFS))
		return 0;
	/* Sent, or the engine gone: SIGCHLD ends the loop. */
	return 1;
}

static void
bk_drain(evutil_socket_t fd, short ev, void *arg)
{
	struct broker *bk = arg;
	struct bk_out *o;

	(void)fd;
	(void)ev;
	while ((o = TAILQ_FIRST(&bk->bk_outq)) != NULL) {
		if (!bk_send_now(bk, o->bo_buf, o->bo_len))
			return;
		TAILQ_REMOVE(&bk->bk_outq, o, bo_entry);
		bk->bk_outq_len -= o->bo_len;
		free(o);
		if (bk->bk_paused && bk->bk_outq_len < BK_OUTQ_MAX / 2) {
			bk->bk_paused = 0;
			event_add(bk->bk_ev_read, NULL);
		}
	}
	event_del(bk->bk_ev_write);
}

static void
bk_send(struct broker *bk, struct bmsg *m)
{
	uint8_t buf[BM_MAX];
	struct bk_out *o;
	int n;

	if ((n = bm_encode(m, buf, sizeof(buf))) == -1) {
		log_warnx("privsep: cannot encode %s", bm_type_name(m->bm_type));
		return;
	}
	if (TAILQ_EMPTY(&bk->bk_outq) && bk_send_now(bk, buf, (size_t)n))
		return;
	if ((o = malloc(sizeof(*o) + (size_t)n)) == NULL) {
		log_warn("privsep: broker: an answer to the engine lost");
		return;
	}
	o->bo_len = (size_t)n;
	memcpy(o->bo_buf, buf, (size_t)n);
	TAILQ_INSERT_TAIL(&bk->bk_outq, o, bo_entry);
	bk->bk_outq_len += (size_t)n;
	if (bk->bk_ev_write != NULL)
		event_add(bk->bk_ev_write, NULL);
	if (!bk->bk_paused && bk->bk_outq_len > BK_OUTQ_MAX &&
	    bk->bk_ev_read != NULL) {
		bk->bk_paused = 1;
		event_del(bk->bk_ev_read);
		log_warnx("privsep: broker: the engine does not read its "
		    "answers (%zu octets queued); its requests wait",
		    bk->bk_outq_len);
	}
}

/* An answer of one message: the SPI of R_SPI, the direction of R_SPD. */
static void
bk_answer_val(struct broker *bk, uint8_t type, uint32_t seq, int err,
    uint32_t spi, uint32_t flag)
{
	struct bmsg m;

	memset(&m, 0, sizeof(m));
	m.bm_type = type;
	m.bm_seq = seq;
	m.bm_err = err;
	m.bm_spi = spi;
	m.bm_flag = flag;
	bk_send(bk, &m);
}

static void
bk_answer(struct broker *bk, uint8_t type, uint32_t seq, int err)
{
	bk_answer_val(bk, type, seq, err, 0, 0);
}

static void
bk_upcall(const struct sadb_event *ev, void *arg)
{
	struct broker *bk = arg;
	struct bmsg m;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_EVENT;
	m.bm_ev = *ev;
	sa_free_keys(&m.bm_ev.ev_sa);
	bk_send(bk, &m);
}

static void
bk_done(int err, void *arg)
{
	struct breq *r = arg;

	bk_answer(r->br_bk, BM_R_DONE, r->br_seq, err);
	free(r);
}

static void
bk_spi(int err, uint32_t spi, void *arg)
{
	struct breq *r = arg;

	bk_answer_val(r->br_bk, BM_R_SPI, r->br_seq, err, spi, 0);
	free(r);
}

static void
bk_dump(int err, const struct kink_sa *sa, void *arg)
{
	struct breq *r = arg;
	struct bmsg m;

	memset(&m, 0, sizeof(m));
	m.bm_seq = r->br_seq;
	if (sa != NULL) {
		m.bm_type = BM_R_SA;
		m.bm_sa = *sa;
		sa_free_keys(&m.bm_sa);
		bk_send(r->br_bk, &m);
		return;
	}
	m.bm_type = BM_R_END;
	m.bm_err = err;
	bk_send(r->br_bk, &m);
	free(r);
}

static void
bk_spd(int err, int dir, void *arg)
{
	struct breq *r = arg;

	bk_answer_val(r->br_bk, BM_R_SPD, r->br_seq, err, 0, (uint32_t)dir);
	if (--r->br_left <= 0)
		free(r);
}

/*
 * SPD repair and query: the engine's op returns how many answers will
 * come, so it waits for R_COUNT; the per-direction R_SPDs follow from
 * the loop (a backend never calls back from inside the request).
 */
static int
bk_spd_run(struct broker *bk, struct bmsg *m, struct breq *r)
{
	int n;

	if (m->bm_type == BM_SPD_REPAIR)
		n = sadb_spd_repair(bk->bk_sadb, &m->bm_pol, bk_spd, r);
	else
		n = sadb_spd_get(bk->bk_sadb, &m->bm_pol, bk_spd, r);
	if (n <= 0) {
		if (n == 0)
			errno = EIO;
		return -1;
	}
	r->br_left = n;
	memset(m, 0, sizeof(*m));
	m->bm_type = BM_R_COUNT;
	m->bm_seq = r->br_seq;
	m->bm_flag = (uint32_t)n;
	bk_send(bk, m);
	return 0;
}

static struct timespec
conf_mtime(const char *path)
{
	struct timespec none = { 0, 0 };
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mtim : none;
}

/* The broker's own reading of the file: the engine's is never trusted. */
static int
bk_load(struct broker *bk)
{
	struct conf_errors e;
	struct kink_conf *c;

	memset(&e, 0, sizeof(e));
	bk->bk_conf_mtime = conf_mtime(bk->bk_args->ba_conf_path);
	c = conf_load(bk->bk_args->ba_conf_path, bk->bk_args->ba_defines, &e);
	conf_errors_free(&e);
	bk->bk_conf_ms = timer_now_ms();
	if (c == NULL) {
		/* The engine reads the same file and reports its errors. */
		log_info("privsep: broker: %s does not load; the previous "
		    "configuration stays in force", bk->bk_args->ba_conf_path);
		return -1;
	}
	conf_free(bk->bk_conf);
	bk->bk_conf = c;
	return 0;
}

/*
 * A delete of a previous run's SA under PF_KEY: the kernel holds the
 * stand-in reqid that run handed out (0x2000..0x3fff, for a reqid over
 * 0x3fff), which this backend cannot map back to a policy.  Every SA in
 * that range is kinkd's (the start-up cleanup and reconcile find them by
 * it); removing one takes nothing a compromised engine could not take by
 * deleting the SAs of its configured policies.
 */
static int
bk_stale_standin(struct broker *bk, const struct bmsg *m)
{
	return (m->bm_type == BM_DEL || m->bm_type == BM_DEL_LARVAL) &&
	    strcmp(sadb_backend(bk->bk_sadb), "pfkey") == 0 &&
	    m->bm_sa.sa_reqid >= PFKEY_KREQID_FIRST &&
	    m->bm_sa.sa_reqid <= SADB_PFKEY_REQID_MAX &&
	    (m->bm_type == BM_DEL_LARVAL ? m->bm_sa.sa_spi == 0 : 1);
}

static int
bk_allowed(struct broker *bk, const struct bmsg *m)
{
	struct timespec mt;
	char why[256];

	if (bk_check(bk->bk_conf, m, why, sizeof(why)) ||
	    bk_stale_standin(bk, m))
		return 1;
	/*
	 * A policy added by a reload the broker has not read yet: read the
	 * file again when it changed, else at most once a second (an
	 * included file may have), whatever the engine sends.
	 */
	mt = conf_mtime(bk->bk_args->ba_conf_path);
	if ((mt.tv_sec != bk->bk_conf_mtime.tv_sec ||
	    mt.tv_nsec != bk->bk_conf_mtime.tv_nsec ||
	    timer_now_ms() - bk->bk_conf_ms >= 1000) && bk_load(bk) == 0 &&
	    bk_check(bk->bk_conf, m, why, sizeof(why)))
		return 1;
	log_warnx("privsep: broker refused %s from the engine: %s",
	    bm_type_name(m->bm_type), why);
	return 0;
}

/* What the backend learnt the kernel installs; ENOENT: nothing. */
static void
bk_caps_answer(struct broker *bk, struct bmsg *m, struct breq *r)
{
	struct sadb_caps c;
	int e;

	memset(&c, 0, sizeof(c));
	errno = 0;
	e = sadb_caps(bk->bk_sadb, &c) == -1 ? (errno ? errno : ENOENT) : 0;
	memset(m, 0, sizeof(*m));
	m->bm_type = BM_R_CAPS;
	m->bm_seq = r->br_seq;
	m->bm_err = e;
	if (e == 0) {
		m->bm_caps = c;
		m->bm_caps.kc_source = NULL;
		if (c.kc_source != NULL)
			strlcpy(m->bm_text, c.kc_source, sizeof(m->bm_text));
	}
	bk_send(bk, m);
	free(r);
}

static int
bk_run(struct broker *bk, struct bmsg *m, struct breq *r)
{
	struct kink_suite su;
	const char *why = NULL;

	switch (m->bm_type) {
	case BM_GETSPI:
		return sadb_getspi(bk->bk_sadb, &m->bm_src, &m->bm_dst,
		    m->bm_proto, bk_spi, r);
	case BM_ADD:
		return sadb_add(bk->bk_sadb, &m->bm_sa, m->bm_flag != 0,
		    bk_done, r);
	case BM_DEL:
		return sadb_del(bk->bk_sadb, &m->bm_sa, bk_done, r);
	case BM_DUMP:
		return sadb_dump(bk->bk_sadb, bk_dump, r);
	case BM_GET:
		return sadb_get(bk->bk_sadb, &m->bm_sa, bk_dump, r);
	case BM_SPD_ADD:
		return sadb_spd_add(bk->bk_sadb, &m->bm_pol, bk_done, r);
	case BM_SPD_DEL:
		return sadb_spd_del(bk->bk_sadb, &m->bm_pol, bk_done, r);
	case BM_DEL_LARVAL:
		return sadb_del_larval(bk->bk_sadb, &m->bm_sa, bk_done, r);
	case BM_SPD_REPAIR:
	case BM_SPD_GET:
		return bk_spd_run(bk, m, r);
	case BM_CAPS:
		bk_caps_answer(bk, m, r);
		return 0;
	case BM_SUPPORTS:
		memset(&su, 0, sizeof(su));
		if (m->bm_proto == IPPROTO_AH)
			su.s_ah = m->bm_xf;
		else if (m->bm_proto == IPPROTO_COMP)
			su.s_ipcomp = m->bm_xf;	/* asked alone, as ESP is */
		else
			su.s_esp = m->bm_xf;
		memset(m, 0, sizeof(*m));
		m->bm_type = BM_R_SUPPORTS;
		m->bm_seq = r->br_seq;
		m->bm_flag = (uint32_t)sadb_supports(bk->bk_sadb, &su, &why);
		if (why != NULL)
			strlcpy(m->bm_text, why, sizeof(m->bm_text));
		bk_send(bk, m);
		free(r);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* The answer a refused or failed request gets, by its type. */
static uint8_t
bk_fail_type(uint8_t type)
{
	switch (type) {
	case BM_GETSPI:
		return BM_R_SPI;
	case BM_DUMP:
	case BM_GET:
		return BM_R_END;
	case BM_SUPPORTS:
		return BM_R_SUPPORTS;
	case BM_CAPS:
		return BM_R_CAPS;
	case BM_SPD_REPAIR:
	case BM_SPD_GET:
		return BM_R_COUNT;
	default:
		return BM_R_DONE;
	}
}

static void
bk_request(struct broker *bk, const uint8_t *buf, size_t len)
{
	struct bmsg *m;
	struct breq *r;
	int d;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if ((d = bm_decode(buf, len, BM_FROM_ENGINE, m)) != BM_OK) {
		log_warnx("privsep: broker refused a malformed request from "
		    "the engine (%zu octets): %s", len, bm_strerror(d));
		goto out;
	}
	if ((m->bm_type == BM_TEST || m->bm_type == BM_TEST_EVENT) &&
	    bk->bk_args->ba_test != NULL) {
		bk_answer(bk, BM_R_DONE, m->bm_seq,
		    bk->bk_args->ba_test(bk->bk_sadb, m));
		goto out;
	}
	if (!bk_allowed(bk, m)) {
		bk_answer(bk, bk_fail_type(m->bm_type), m->bm_seq, EPERM);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		bk_answer(bk, bk_fail_type(m->bm_type), m->bm_seq, ENOMEM);
		goto out;
	}
	r->br_bk = bk;
	r->br_seq = m->bm_seq;
	if (bk_run(bk, m, r) == -1) {
		bk_answer(bk, bk_fail_type(m->bm_type), r->br_seq,
		    errno ? errno : EIO);
		free(r);
	}
out:
	explicit_bzero(m, sizeof(*m));
	free(m);
}

static void
bk_read(evutil_socket_t fd, short ev, void *arg)
{
	struct broker *bk = arg;
	uint8_t buf[BM_MAX + 1];
	ssize_t n;

	(void)ev;
	for (;;) {
		if (bk->bk_paused)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The engine closed its end: SIGCHLD says why. */
			event_del(bk->bk_ev_read);
			return;
		}
		bk_request(bk, buf, (size_t)n > sizeof(buf) ? sizeof(buf) :
		    (size_t)n);
	}
}

/* Why the engine ended, for the one log line that matters after it. */
static void
bk_reap(struct broker *bk)
{
	int st;
	pid_t p;

	while ((p = waitpid(bk->bk_args->ba_engine, &st, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (p != bk->bk_args->ba_engine)
		return;
	bk->bk_reaped = 1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
		log_warnx("privsep: the engine (pid %d) was killed by its "
		    "seccomp filter (SIGSYS: a system call outside its "
		    "allowlist); the broker exits", (int)p);
		bk->bk_status = 1;
	} else if (WIFSIGNALED(st)) {
		log_warnx("privsep: the engine (pid %d) was killed by signal "
		    "%d (%s); the broker exits", (int)p, WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
		bk->bk_status = 1;
	} else {
		bk->bk_status = WEXITSTATUS(st) == 0 ? 0 : 1;
		if (bk->bk_status != 0)
			log_warnx("privsep: the engine (pid %d) exited with "
			    "status %d; the broker exits", (int)p,
			    WEXITSTATUS(st));
	}
	event_base_loopexit(bk->bk_base, NULL);
}

static void
bk_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct broker *bk = arg;
	struct bmsg m;

	(void)ev;
	if (sig == SIGCHLD) {
		bk_reap(bk);
		return;
	}
	if (sig == SIGHUP)
		(void)bk_load(bk);
	/*
	 * The engine does the work of a reload or a stop (USR1: a test
	 * build's inject file, read by the engine).  Not kill(2): the engine
	 * runs as `set user`, and signalling another user takes CAP_KILL,
	 * which the broker does not keep.
	 */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_SIGNAL;
	m.bm_flag = (uint32_t)sig;
	bk_send(bk, &m);
}

/* Root with CAP_NET_ADMIN only: all the kernel interface needs. */
static void
bk_caps(void)
{
	struct __user_cap_header_struct ch;
	struct __user_cap_data_struct cd[_LINUX_CAPABILITY_U32S_3];
	int cap;

	if (getuid() != 0)
		return;
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (cap != CAP_NET_ADMIN &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			break;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	memset(&ch, 0, sizeof(ch));
	memset(cd, 0, sizeof(cd));
	ch.version = _LINUX_CAPABILITY_VERSION_3;
	cd[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
	    cd[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
	    CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &ch, cd) == -1)
		log_warn("privsep: broker: capset");
	sandbox_san_dumpable();
}

int
broker_main(const struct broker_args *ba)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT,
	    SIGUSR1 };
	struct broker bk_store, *bk = &bk_store;
	struct bk_out *o;
	struct bmsg m;
	size_t i;

	memset(bk, 0, sizeof(*bk));
	TAILQ_INIT(&bk->bk_outq);
	bk->bk_args = ba;
	bk->bk_status = 1;
	if ((bk->bk_base = event_base_new()) == NULL)
		fatalx("privsep: broker: event_base_new failed");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((bk->bk_ev_sig[i] = evsignal_new(bk->bk_base, sigs[i],
		    bk_signal, bk)) == NULL ||
		    evsignal_add(bk->bk_ev_sig[i], NULL) == -1)
			fatalx("privsep: broker: signal setup failed");
	if (bk_load(bk) == -1)
		goto out;
	if ((bk->bk_sadb = sadb_new(bk->bk_base, ba->ba_backend, bk_upcall,
	    bk)) == NULL) {
		log_warn("privsep: broker: SA backend %s", ba->ba_backend);
		goto out;
	}
	bk_caps();
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_HELLO;
	strlcpy(m.bm_text, sadb_backend(bk->bk_sadb), sizeof(m.bm_text));
	bk_send(bk, &m);
	if ((bk->bk_ev_write = event_new(bk->bk_base, ba->ba_fd,
	    EV_WRITE | EV_PERSIST, bk_drain, bk)) == NULL)
		fatalx("privsep: broker: event_new failed");
	if (!TAILQ_EMPTY(&bk->bk_outq))
		event_add(bk->bk_ev_write, NULL);
	if ((bk->bk_ev_read = event_new(bk->bk_base, ba->ba_fd,
	    EV_READ | EV_PERSIST, bk_read, bk)) == NULL ||
	    event_add(bk->bk_ev_read, NULL) == -1)
		fatalx("privsep: broker: event_new failed");
	log_debug("privsep: broker up (pid %d, engine %d, backend %s)",
	    (int)getpid(), (int)ba->ba_engine, sadb_backend(bk->bk_sadb));
	bk_reap(bk);	/* an engine that died before the loop started */
	event_base_dispatch(bk->bk_base);
out:
	if (!bk->bk_reaped) {
		/* The engine may still run (no backend): it must not stay. */
		kill(ba->ba_engine, SIGTERM);
		bk_reap(bk);
	}
	if (bk->bk_ev_read != NULL)
		event_free(bk->bk_ev_read);
	if (bk->bk_ev_write != NULL)
		event_free(bk->bk_ev_write);
	while ((o = TAILQ_FIRST(&bk->bk_outq)) != NULL) {
		TAILQ_REMOVE(&bk->bk_outq, o, bo_entry);
		free(o);
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (bk->bk_ev_sig[i] != NULL)
			event_free(bk->bk_ev_sig[i]);
	sadb_free(bk->bk_sadb);
	conf_free(bk->bk_conf);
	event_base_free(bk->bk_base);
	close(ba->ba_fd);
	return bk->bk_status;
}
