/*
 * The engine's SA backend under privilege separation: every sadb op is
 * one broker_msg request over the socketpair to the broker, which checks
 * it and runs it on the real backend; answers and kernel events come back
 * on the same socket (docs/arch/privsep.md).  Requests are matched to
 * answers by sequence number; the broker answers in order.
 */
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker_msg.h"
#include "log.h"
#include "sadb.h"
#include "sadb_broker.h"

enum pend_kind { PK_DONE, PK_SPI, PK_DUMP, PK_SPD };

struct pend {
	TAILQ_ENTRY(pend)	 p_entry;
	uint32_t		 p_seq;
	enum pend_kind		 p_kind;
	sadb_done_cb		 p_done;
	sadb_spi_cb		 p_spi;
	sadb_dump_cb		 p_dump;
	sadb_spd_cb		 p_spd;
	int			 p_left;	/* PK_SPD: answers to come */
	void			*p_arg;
};

/* A datagram read while waiting for a synchronous answer: later. */
struct stash {
	TAILQ_ENTRY(stash)	 s_entry;
	size_t			 s_len;
	uint8_t			 s_buf[];
};

struct sbk {
	int			 sb_fd;
	struct event		*sb_ev, *sb_ev_stash;
	uint32_t		 sb_seq;
	TAILQ_HEAD(, pend)	 sb_pend;
	TAILQ_HEAD(, stash)	 sb_stash;
	struct sadb_ops		 sb_ops;	/* named after the real backend */
	char			 sb_name[BM_TEXT_MAX + 1];
	char			 sb_caps_src[BM_TEXT_MAX + 1];
};

static struct sbk *
sbk(struct sadb *sd)
{
	return sd->sd_priv;
}

static int
sbk_send(struct sbk *s, struct bmsg *m)
{
	uint8_t buf[BM_MAX];
	int n;

	m->bm_seq = ++s->sb_seq;
	if ((n = bm_encode(m, buf, sizeof(buf))) == -1)
		return -1;
	if (send(s->sb_fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	return 0;
}

static int
sbk_request(struct sadb *sd, struct bmsg *m, enum pend_kind kind,
    sadb_done_cb done, sadb_spi_cb spi, sadb_dump_cb dump, void *arg)
{
	struct sbk *s = sbk(sd);
	struct pend *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	if (sbk_send(s, m) == -1) {
		int e = errno;

		free(p);
		errno = e;
		return -1;
	}
	p->p_seq = m->bm_seq;
	p->p_kind = kind;
	p->p_done = done;
	p->p_spi = spi;
	p->p_dump = dump;
	p->p_arg = arg;
	TAILQ_INSERT_TAIL(&s->sb_pend, p, p_entry);
	return 0;
}

static struct pend *
pend_find(struct sbk *s, uint32_t seq)
{
	struct pend *p;

	TAILQ_FOREACH(p, &s->sb_pend, p_entry)
		if (p->p_seq == seq)
			return p;
	return NULL;
}

/* One answer or event from the broker. */
static void
sbk_dispatch(struct sadb *sd, const uint8_t *buf, size_t len)
{
	struct sbk *s = sbk(sd);
	struct bmsg *m;
	struct pend *p;
	int r;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if ((r = bm_decode(buf, len, BM_FROM_BROKER, m)) != BM_OK) {
		log_warnx("privsep: bad message from the broker: %s",
		    bm_strerror(r));
		goto out;
	}
	if (m->bm_type == BM_R_EVENT) {
		sadb_upcall(sd, &m->bm_ev);
		goto out;
	}
	if (m->bm_type == BM_R_SIGNAL) {
		/* The daemon's own signal events take it from here. */
		if (m->bm_flag == SIGHUP || m->bm_flag == SIGTERM ||
		    m->bm_flag == SIGINT || m->bm_flag == SIGUSR1)
			raise((int)m->bm_flag);
		goto out;
	}
	if ((p = pend_find(s, m->bm_seq)) == NULL) {
		log_warnx("privsep: broker answer %s for no request (seq %u)",
		    bm_type_name(m->bm_type), m->bm_seq);
		goto out;
	}
	if (m->bm_type == BM_R_SA && p->p_kind == PK_DUMP) {
		if (p->p_dump != NULL)
			p->p_dump(0, &m->bm_sa, p->p_arg);
		goto out;
	}
	if (p->p_kind == PK_SPD) {
		/* Its count came synchronously (sbk_spdq). */
		if (m->bm_type != BM_R_SPD) {
			log_warnx("privsep: broker answer %s to an SPD query",
			    bm_type_name(m->bm_type));
			goto out;
		}
		if (--p->p_left <= 0)
			TAILQ_REMOVE(&s->sb_pend, p, p_entry);
		if (p->p_spd != NULL)
			p->p_spd(m->bm_err, (int)m->bm_flag, p->p_arg);
		if (p->p_left <= 0)
			free(p);
		goto out;
	}
	TAILQ_REMOVE(&s->sb_pend, p, p_entry);
	if (m->bm_type == BM_R_END && p->p_kind == PK_DUMP) {
		if (p->p_dump != NULL)
			p->p_dump(m->bm_err, NULL, p->p_arg);
	} else if (m->bm_type == BM_R_SPI && p->p_kind == PK_SPI) {
		if (p->p_spi != NULL)
			p->p_spi(m->bm_err, m->bm_spi, p->p_arg);
	} else if (m->bm_type == BM_R_DONE && p->p_kind == PK_DONE) {
		if (p->p_done != NULL)
			p->p_done(m->bm_err, p->p_arg);
	} else {
		/* Refused before the op ran: the kind of answer differs. */
		int err = m->bm_err ? m->bm_err : EPROTO;

		if (p->p_kind == PK_DUMP && p->p_dump != NULL)
			p->p_dump(err, NULL, p->p_arg);
		else if (p->p_kind == PK_SPI && p->p_spi != NULL)
			p->p_spi(err, 0, p->p_arg);
		else if (p->p_kind == PK_DONE && p->p_done != NULL)
			p->p_done(err, p->p_arg);
	}
	free(p);
out:
	explicit_bzero(m, sizeof(*m));
	free(m);
}

static void __attribute__((noreturn))
sbk_gone(void)
{
	/*
	 * Nothing works without the kernel: init restarts the pair.  _exit,
	 * not exit: the exit handlers join the KDC worker, which may sit in
	 * a KDC request for seconds while this engine still holds the
	 * control socket's lock, and a restarted kinkd would find it taken.
	 */
	log_warnx("privsep: the broker is gone; the engine exits");
	_exit(1);
}

static void
sbk_read(evutil_socket_t fd, short ev, void *arg)
{
	struct sadb *sd = arg;
	uint8_t buf[BM_MAX + 1];
	ssize_t n;

	(void)ev;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			sbk_gone();
		sbk_dispatch(sd, buf, (size_t)n);
	}
}

static void
sbk_unstash(evutil_socket_t fd, short ev, void *arg)
{
	struct sadb *sd = arg;
	struct sbk *s = sbk(sd);
	struct stash *st;

	(void)fd;
	(void)ev;
	while ((st = TAILQ_FIRST(&s->sb_stash)) != NULL) {
		TAILQ_REMOVE(&s->sb_stash, st, s_entry);
		sbk_dispatch(sd, st->s_buf, st->s_len);
		free(st);
	}
}

/*
 * Wait for the answer of type `type` to request `seq` (0: any of that
 * type); what else arrives meanwhile is dispatched later from the loop.
 */
static int
sbk_wait(struct sadb *sd, uint8_t type, uint32_t seq, struct bmsg *m)
{
	struct sbk *s = sbk(sd);
	uint8_t buf[BM_MAX + 1];
	struct stash *st;
	ssize_t n;

	for (;;) {
		if ((n = recv(s->sb_fd, buf, sizeof(buf), 0)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (bm_decode(buf, (size_t)n, BM_FROM_BROKER, m) == BM_OK &&
		    m->bm_type == type && (seq == 0 || m->bm_seq == seq))
			return 0;
		if ((st = malloc(sizeof(*st) + (size_t)n)) == NULL)
			return -1;
		st->s_len = (size_t)n;
		memcpy(st->s_buf, buf, (size_t)n);
		TAILQ_INSERT_TAIL(&s->sb_stash, st, s_entry);
		if (s->sb_ev_stash != NULL)
			event_active(s->sb_ev_stash, EV_TIMEOUT, 0);
	}
}

static int
sbk_open(struct sadb *sd)
{
	(void)sd;
	return 0;
}

static void
sbk_close(struct sadb *sd)
{
	struct sbk *s = sbk(sd);
	struct pend *p;
	struct stash *st;

	if (s == NULL)
		return;
	if (s->sb_ev != NULL)
		event_free(s->sb_ev);
	if (s->sb_ev_stash != NULL)
		event_free(s->sb_ev_stash);
	while ((p = TAILQ_FIRST(&s->sb_pend)) != NULL) {
		TAILQ_REMOVE(&s->sb_pend, p, p_entry);
		free(p);
	}
	while ((st = TAILQ_FIRST(&s->sb_stash)) != NULL) {
		TAILQ_REMOVE(&s->sb_stash, st, s_entry);
		free(st);
	}
	close(s->sb_fd);
	free(s);
	sd->sd_priv = NULL;
}

static int
sbk_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	struct bmsg m;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_GETSPI;
	m.bm_src = *src;
	m.bm_dst = *dst;
	m.bm_proto = proto;
	return sbk_request(sd, &m, PK_SPI, NULL, cb, NULL, arg);
}

static int
sbk_sa(struct sadb *sd, uint8_t type, const struct kink_sa *sa,
    uint32_t flag, enum pend_kind kind, sadb_done_cb done, sadb_dump_cb dump,
    void *arg)
{
	struct bmsg *m;
	int r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->bm_type = type;
	m->bm_sa = *sa;
	m->bm_flag = flag;
	r = sbk_request(sd, m, kind, done, NULL, dump, arg);
	explicit_bzero(m, sizeof(*m));
	free(m);
	return r;
}

static int
sbk_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	return sbk_sa(sd, BM_ADD, sa, replace != 0, PK_DONE, cb, NULL, arg);
}

static int
sbk_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	return sbk_sa(sd, BM_DEL, sa, 0, PK_DONE, cb, NULL, arg);
}

static int
sbk_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	return sbk_sa(sd, BM_GET, sa, 0, PK_DUMP, NULL, cb, arg);
}

static int
sbk_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	struct bmsg m;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_DUMP;
	return sbk_request(sd, &m, PK_DUMP, NULL, NULL, cb, arg);
}

static int
sbk_spd(struct sadb *sd, uint8_t type, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	struct bmsg *m;
	int r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->bm_type = type;
	m->bm_pol = *pol;
	r = sbk_request(sd, m, PK_DONE, cb, NULL, NULL, arg);
	free(m);
	return r;
}

static int
sbk_spd_add(struct sadb *sd, const struct kink_policy *pol, sadb_done_cb cb,
    void *arg)
{
	return sbk_spd(sd, BM_SPD_ADD, pol, cb, arg);
}

static int
sbk_spd_del(struct sadb *sd, const struct kink_policy *pol, sadb_done_cb cb,
    void *arg)
{
	return sbk_spd(sd, BM_SPD_DEL, pol, cb, arg);
}

static int
sbk_del_larval(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	return sbk_sa(sd, BM_DEL_LARVAL, sa, 0, PK_DONE, cb, NULL, arg);
}

/*
 * SPD repair and query return how many callbacks will come: the broker
 * answers R_COUNT at once (its backend queued the work), then one R_SPD
 * per direction through the loop.
 */
static int
sbk_spdq(struct sadb *sd, uint8_t type, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	struct sbk *s = sbk(sd);
	struct bmsg *m;
	struct pend *p;
	int n;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->bm_type = type;
	m->bm_pol = *pol;
	if (sbk_request(sd, m, PK_SPD, NULL, NULL, NULL, arg) == -1) {
		free(m);
		return -1;
	}
	p = pend_find(s, m->bm_seq);
	p->p_spd = cb;
	if (sbk_wait(sd, BM_R_COUNT, m->bm_seq, m) == -1)
		sbk_gone();
	/* At most one answer per direction: out, in, forward. */
	n = m->bm_err != 0 ? -m->bm_err : m->bm_flag == 0 ||
	    m->bm_flag > 3 ? -EPROTO : (int)m->bm_flag;
	free(m);
	if (n < 0) {
		TAILQ_REMOVE(&s->sb_pend, p, p_entry);
		free(p);
		errno = -n;
		return -1;
	}
	p->p_left = n;
	return n;
}

static int
sbk_spd_repair(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	return sbk_spdq(sd, BM_SPD_REPAIR, pol, cb, arg);
}

static int
sbk_spd_get(struct sadb *sd, const struct kink_policy *pol, sadb_spd_cb cb,
    void *arg)
{
	return sbk_spdq(sd, BM_SPD_GET, pol, cb, arg);
}

/* Synchronous, as the op is: the start-up and reload filters ask it. */
static int
sbk_supports(struct sadb *sd, uint8_t proto, const struct kink_xform *x,
    const char **why)
{
	static char reason[BM_TEXT_MAX + 1];
	struct bmsg m;
	uint32_t seq;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_SUPPORTS;
	m.bm_proto = proto;
	m.bm_xf = *x;
	if (sbk_send(sbk(sd), &m) == -1)
		sbk_gone();
	seq = m.bm_seq;
	if (sbk_wait(sd, BM_R_SUPPORTS, seq, &m) == -1)
		sbk_gone();
	if (m.bm_flag)
		return 1;
	strlcpy(reason, m.bm_text, sizeof(reason));
	*why = reason;
	return 0;
}

/*
 * Synchronous like SUPPORTS: start-up and `show self` ask it.  The
 * source's text lives here, as the real backend's did in the broker.
 */
static int
sbk_caps(struct sadb *sd, struct sadb_caps *out)
{
	struct sbk *s = sbk(sd);
	struct bmsg m;
	uint32_t seq;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_CAPS;
	if (sbk_send(s, &m) == -1)
		sbk_gone();
	seq = m.bm_seq;
	if (sbk_wait(sd, BM_R_CAPS, seq, &m) == -1)
		sbk_gone();
	if (m.bm_err != 0 || !m.bm_caps.kc_known) {
		errno = m.bm_err != 0 ? m.bm_err : ENOENT;
		return -1;
	}
	strlcpy(s->sb_caps_src, m.bm_text, sizeof(s->sb_caps_src));
	*out = m.bm_caps;
	out->kc_source = s->sb_caps_src;
	return 0;
}

static const struct sadb_ops sadb_broker_ops = {
	.name = "broker",
	.open = sbk_open,
	.close = sbk_close,
	.getspi = sbk_getspi,
	.add = sbk_add,
	.del = sbk_del,
	.dump = sbk_dump,
	.spd_add = sbk_spd_add,
	.spd_del = sbk_spd_del,
	.get = sbk_get,
	.supports = sbk_supports,
	.caps = sbk_caps,
	.del_larval = sbk_del_larval,
	.spd_repair = sbk_spd_repair,
	.spd_get = sbk_spd_get,
};

int
sadb_broker_test(struct sadb *sd, uint32_t knob, uint32_t arg,
    const struct sadb_event *ev, const struct kink_sa *sa, sadb_done_cb cb,
    void *cbarg)
{
	struct bmsg m;
	int r;

	if (sd->sd_ops->close != sbk_close) {
		errno = EOPNOTSUPP;
		return -1;
	}
	memset(&m, 0, sizeof(m));
	if (ev != NULL) {
		m.bm_type = BM_TEST_EVENT;
		m.bm_ev = *ev;
		sa_free_keys(&m.bm_ev.ev_sa);
	} else {
		m.bm_type = BM_TEST;
		m.bm_flag = knob;
		m.bm_spi = arg;
		if (sa != NULL)
			m.bm_sa = *sa;
	}
	r = sbk_request(sd, &m, PK_DONE, cb, NULL, NULL, cbarg);
	explicit_bzero(&m, sizeof(m));
	return r;
}

struct sadb *
sadb_broker_new(struct event_base *base, int fd, sadb_upcall_cb cb,
    void *arg)
{
	struct sadb *sd;
	struct sbk *s;
	struct bmsg m;

	if ((sd = calloc(1, sizeof(*sd))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		free(sd);
		return NULL;
	}
	s->sb_fd = fd;
	TAILQ_INIT(&s->sb_pend);
	TAILQ_INIT(&s->sb_stash);
	s->sb_ops = sadb_broker_ops;
	sd->sd_priv = s;
	sd->sd_ops = &s->sb_ops;
	sd->sd_base = base;
	sd->sd_upcall = cb;
	sd->sd_upcall_arg = arg;
	sd->sd_reqid_min = SADB_REQID_MIN;
	sd->sd_reqid_max = SADB_REQID_MAX;
	/* The broker names its backend once it opened it (or exits). */
	if (sbk_wait(sd, BM_R_HELLO, 0, &m) == -1) {
		errno = ENOENT;
		goto fail;
	}
	strlcpy(s->sb_name, m.bm_text, sizeof(s->sb_name));
	s->sb_ops.name = s->sb_name;
	if ((s->sb_ev = event_new(base, fd, EV_READ | EV_PERSIST, sbk_read,
	    sd)) == NULL || event_add(s->sb_ev, NULL) == -1 ||
	    (s->sb_ev_stash = event_new(base, -1, 0, sbk_unstash, sd)) ==
	    NULL)
		goto fail;
	if (!TAILQ_EMPTY(&s->sb_stash))
		event_active(s->sb_ev_stash, EV_TIMEOUT, 0);
	return sd;
fail:
	sbk_close(sd);
	free(sd);
	return NULL;
}
