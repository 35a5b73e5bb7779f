/*
 * The test build of kinkd ($(B)/tests/kinkd-test): the daemon's own body
 * (kinkd_main) with the hooks the daemon, host and vm tiers drive it
 * through.  None of this is linked into the production kinkd.
 *
 * On SIGUSR1 the daemon reads "<control socket>.inject", one line each,
 * and removes it:
 *	acquire REQID [DST]	ACQUIRE for the policy with that reqid
 *				(DST: the destination, for a range peer)
 *	soft SPI | hard SPI	soft / hard EXPIRE of the SA with that SPI
 *	soft SPI DST		the same SPI and protocol, destination DST
 *				(another SA a kernel may hold: not ours)
 *	offset PEER SECONDS	our clock towards PEER (krb_peer_set_offset)
 *	refuse gcm | refuse none	null backend refuses AES-GCM or not
 *				(takes effect on the next reload); none
 *				also ends `refuse add`
 *	refuse add [in|out]	null backend answers every later SA add
 *				(of that direction; default both) ENOSYS
 *	refuse-reply		the next authenticated CREATE REPLY is
 *				refused as if doi_init_reply had (3.2 ACK)
 *	send-qmvers V		our next command's KINK_ISAKMP carries QM
 *				version V (e.g. 0x20; 12 BADQMVERS tests)
 *	reply-ackreq		the next DELETE/STATUS REPLY we send has
 *				ACKREQ (section 4 allows it on CREATE only)
 *	send-notify T		our next CREATE's KINK_ISAKMP carries a
 *				Notify of type T (a Notify in a request)
 *	kernel-add SPI REQID SRC DST [ipcomp]	an ESP SA kinkd has no
 *				record of (with "ipcomp": an IPComp SA, CPI
 *				SPI, deflate)
 *	kernel-del SPI		the backend drops one of kinkd's SAs and
 *				kinkd is not told
 *	impair LOSS DUP		from now on drop LOSS % of the KINK
 *				datagrams we send and send DUP % of the
 *				rest twice, at random (the VM soak: its
 *				kernel has no netem); "impair 0 0" ends it
 *	fill-sas PEER N		N pairs of SA records for PEER (its first
 *				policy), installed in the backend as a CREATE
 *				would: many SAs without N exchanges; made 256
 *				pairs a loop pass, logged when all are
 *	park-max BYTES		at most BYTES of commands parked while
 *				their learned peer's DNS check runs
 *				(site.c; 0: the built-in 1 MiB)
 *	loop-probe		log the longest gap between two ticks of
 *				the loop probe since the last loop-probe, in
 *				wall time and in the loop thread's CPU time
 *	privsep-spd		ask the backend for an SPD entry no
 *				configured policy has (203.0.113.1 ->
 *				203.0.113.2): the broker refuses it (-P)
 *	privsep-sa		ask for an SA under the first configured
 *				policy's reqid towards 203.0.113.2
 *	privsep-write		open "<control socket>.written" for writing:
 *				-P fails it with EROFS (no writable filesystem)
 *	privsep-syscall		make a system call outside the engine's
 *				seccomp allowlist (mknodat): -P kills it
 * SPI and REQID in decimal or 0x hex.  Other backends ignore the file.
 * Under privilege separation the null-backend lines reach the broker's
 * backend through knob_broker, the broker's test hook (kh_broker_test).
 * KINKD_NULL_REFUSE=gcm in the environment has the null backend refuse
 * AES-GCM from the start (so start-up filtering can be tested too).
 * KINKD_LOOP_PROBE=1 starts the loop probe: a 1 ms timer whose lateness
 * is how long the loop was busy between two events.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "broker_msg.h"
#include "conf.h"
#include "ctl.h"
#include "engine.h"
#include "isakmp_num.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "sadb.h"
#include "sadb_broker.h"
#include "sarec.h"

static int	knob_refuse_replies;
static struct event *probe_ev;
static uint64_t	probe_last_us, probe_max_us, probe_ticks;
static uint64_t	probe_last_cpu, probe_max_cpu;	/* loop thread's CPU, us */

/* fill-sas in batches, a loop pass each, so the backend drains between. */
#define FILL_BATCH	256
static struct {
	struct kinkd	*f_kd;
	char		 f_peer[CTL_NAME_MAX + 1];
	long		 f_n, f_left;
	struct event	*f_ev;
} fill;
static int	knob_reply_ackreq;
static uint8_t	knob_send_qmvers;
static uint16_t	knob_send_notify;
static unsigned	knob_loss_pct, knob_dup_pct;
static engine_send_fn *knob_real_send;
static unsigned long knob_lost, knob_dup;

/*
 * The null backend's knobs: on the engine's handle, or, under privsep
 * (the handle a proxy), through the broker's test hook below.
 */
static int
knob_null(struct kinkd *kd, uint32_t knob, uint32_t arg,
    const struct sadb_event *ev, const struct kink_sa *sa)
{
	struct sadb *sd = kd->kd_eng.en_sadb;
	int r;

	if (sa != NULL) {
		/* Another tool's SA, not the engine's request: unchecked. */
		r = sadb_broker_test(sd, knob, 0, NULL, sa, sadb_done_log,
		    (void *)"inject kernel-add");
		if (r == -1 && errno == EOPNOTSUPP)
			r = sadb_add(sd, sa, 0, sadb_done_log,
			    (void *)"inject kernel-add");
		return r;
	}
	if (ev != NULL)
		r = sadb_null_event(sd, ev);
	else if (knob == SBK_TEST_REFUSE_GCM)
		r = sadb_null_refuse_gcm(sd, (int)arg);
	else if (knob == SBK_TEST_REFUSE_ADD)
		r = sadb_null_refuse_add(sd, arg);
	else
		r = sadb_null_refuse_spd_get(sd, (int)arg);
	if (r == -1 && errno == EOPNOTSUPP)
		r = sadb_broker_test(sd, knob, arg, ev, sa, sadb_done_log,
		    (void *)"test knob through the broker");
	return r;
}

/* The broker's end (test build only): the knob on the real backend. */
static int
knob_broker(struct sadb *sd, const struct bmsg *m)
{
	int r;

	if (m->bm_type == BM_TEST_EVENT)
		r = sadb_null_event(sd, &m->bm_ev);
	else if (m->bm_flag == SBK_TEST_REFUSE_GCM)
		r = sadb_null_refuse_gcm(sd, m->bm_spi != 0);
	else if (m->bm_flag == SBK_TEST_REFUSE_ADD)
		r = sadb_null_refuse_add(sd, m->bm_spi);
	else if (m->bm_flag == SBK_TEST_REFUSE_SPD_GET)
		r = sadb_null_refuse_spd_get(sd, m->bm_spi != 0);
	else if (m->bm_flag == SBK_TEST_KERNEL_ADD)
		/* Answered at once: the add's own result is logged. */
		r = sadb_add(sd, &m->bm_sa, 0, sadb_done_log,
		    (void *)"inject kernel-add");
	else {
		errno = EINVAL;
		r = -1;
	}
	return r == -1 ? errno : 0;
}

/* Between the engine and the sockets: what a lossy network would do. */
static int
knob_impaired_send(void *net, const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote, const uint8_t *p, size_t len)
{
	if (knob_loss_pct > 0 && arc4random_uniform(100) < knob_loss_pct) {
		knob_lost++;
		return 0;
	}
	if (knob_dup_pct > 0 && arc4random_uniform(100) < knob_dup_pct) {
		knob_dup++;
		(void)knob_real_send(net, local, remote, p, len);
	}
	return knob_real_send(net, local, remote, p, len);
}

static void
inject_impair(struct kinkd *kd, unsigned loss, unsigned dup)
{
	struct kink_engine *en = &kd->kd_eng;

	if (knob_real_send == NULL) {
		knob_real_send = en->en_send;
		en->en_send = knob_impaired_send;
	}
	knob_loss_pct = loss > 100 ? 100 : loss;
	knob_dup_pct = dup > 100 ? 100 : dup;
	log_info("inject: impair loss %u%% dup %u%% (so far %lu lost, "
	    "%lu duplicated)", knob_loss_pct, knob_dup_pct, knob_lost,
	    knob_dup);
}

/* The kernel changing behind kinkd's back (show sa's merge). */
static void
inject_kernel(struct kinkd *kd, const char *line)
{
	char src[INET6_ADDRSTRLEN + 1], dst[INET6_ADDRSTRLEN + 1];
	char peer[65], pol[65];
	unsigned long spi, reqid;
	struct kink_peer *pe;
	struct kink_policy *kp;
	struct kink_sarec *sr;
	struct kink_sa key;
	struct kink_sa sa;
	char kind[8] = "";

	if (sscanf(line, "kernel-add %li %li %46s %46s %7s", (long *)&spi,
	    (long *)&reqid, src, dst, kind) >= 4) {
		memset(&sa, 0, sizeof(sa));
		if (addr_parse(src, &sa.sa_src) == -1 ||
		    addr_parse(dst, &sa.sa_dst) == -1) {
			log_warnx("inject: bad address in %s", line);
			return;
		}
		sa.sa_proto = PROTO_IPSEC_ESP;
		sa.sa_dir = SA_DIR_OUT;
		sa.sa_mode = ENCAP_MODE_TRANSPORT;
		sa.sa_spi = (uint32_t)spi;
		sa.sa_reqid = (uint32_t)reqid;
		sa.sa_enc = ESP_AES_CBC;
		sa.sa_enc_keylen = 128;
		sa.sa_enckey_len = 16;
		arc4random_buf(sa.sa_enckey, sa.sa_enckey_len);
		if (strcmp(kind, "ipcomp") == 0) {
			sa.sa_proto = PROTO_IPCOMP;
			sa.sa_enc = IPCOMP_DEFLATE;
			sa.sa_enc_keylen = 0;
			sa_free_keys(&sa);
		}
		knob_null(kd, SBK_TEST_KERNEL_ADD, 0, NULL, &sa);
		sa_free_keys(&sa);
		log_info("inject: kernel-add 0x%lx", spi);
	} else if (sscanf(line, "kernel-spd-del %64s %64s", peer, pol) == 2) {
		/* An admin's `ip xfrm policy delete`: kinkd's records stay. */
		if ((pe = peer_by_name(&kd->kd_eng, peer)) == NULL ||
		    (kp = peer_policy(pe, pol)) == NULL) {
			log_warnx("inject: kernel-spd-del: no policy %s", line);
			return;
		}
		sadb_spd_del(kd->kd_eng.en_sadb, kp, sadb_done_log,
		    (void *)"inject kernel-spd-del");
		log_info("inject: kernel-spd-del %s %s", peer, pol);
	} else if (sscanf(line, "kernel-del %li", (long *)&spi) == 1) {
		sr = sarec_find(&kd->kd_eng, 0, (uint32_t)spi, 0);
		if (sr == NULL) {
			log_warnx("inject: kernel-del: no SA 0x%lx", spi);
			return;
		}
		sa_rec_get(&sr->sr_sa, &key);
		sa_free_keys(&key);
		sadb_del(kd->kd_eng.en_sadb, &key, sadb_done_log,
		    (void *)"inject kernel-del");
		log_info("inject: kernel-del 0x%lx", spi);
	}
}

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Wall time between ticks counts time the machine gave to others too;
 * the loop thread's CPU time between them is the work done in between.
 */
static void
probe_tick(evutil_socket_t fd, short what, void *arg)
{
	uint64_t now = clock_us(CLOCK_MONOTONIC);
	uint64_t cpu = clock_us(CLOCK_THREAD_CPUTIME_ID);

	if (probe_last_us != 0 && now - probe_last_us > probe_max_us)
		probe_max_us = now - probe_last_us;
	if (probe_last_us != 0 && cpu - probe_last_cpu > probe_max_cpu)
		probe_max_cpu = cpu - probe_last_cpu;
	probe_last_us = now;
	probe_last_cpu = cpu;
	probe_ticks++;
}

/* One batch of the fill under way, as if from CREATEs with the peer. */
static void
fill_batch(evutil_socket_t fd, short what, void *arg)
{
	struct kink_engine *en = &fill.f_kd->kd_eng;
	struct timeval zero = { 0, 0 };
	struct kink_policy *pol;
	struct kink_peer *pe;
	struct kink_sa sa;
	long i;
	int d;

	if ((pe = peer_by_name(en, fill.f_peer)) == NULL ||
	    pe->pe_conf == NULL || pe->pe_conf->p_npolicies == 0 ||
	    pe->pe_conf->p_naddrs == 0) {
		log_warnx("inject: fill-sas: peer %s gone", fill.f_peer);
		fill.f_left = 0;
		return;
	}
	pol = &pe->pe_conf->p_policies[0];
	for (i = 0; i < FILL_BATCH && fill.f_left > 0; i++, fill.f_left--) {
		uint32_t pair = ++en->en_next_pair;

		for (d = SA_DIR_IN; d <= SA_DIR_OUT; d++) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_src = pe->pe_conf->p_addrs[0];
			addr_parse(sa.sa_src.ss_family == AF_INET6 ? "::1" :
			    "127.0.0.1", &sa.sa_dst);
			if (d == SA_DIR_OUT) {
				sa.sa_dst = sa.sa_src;
				addr_parse(sa.sa_src.ss_family == AF_INET6 ?
				    "::1" : "127.0.0.1", &sa.sa_src);
			}
			sa.sa_proto = PROTO_IPSEC_ESP;
			sa.sa_dir = (uint8_t)d;
			sa.sa_mode = ENCAP_MODE_TRANSPORT;
			do
				sa.sa_spi = arc4random() | 0x100;
			while (sarec_find(en, 0, sa.sa_spi, 0) != NULL);
			sa.sa_enc = ESP_AES_CBC;
			sa.sa_enc_keylen = 128;
			sa.sa_enckey_len = 16;
			arc4random_buf(sa.sa_enckey, sa.sa_enckey_len);
			sarec_add(en, pe, pol->pol_name, pol->pol_reqid, pair,
			    1, &sa, 0);
			sa_free_keys(&sa);
		}
	}
	if (fill.f_left > 0)
		event_add(fill.f_ev, &zero);
	else
		log_info("inject: fill-sas %s %ld", fill.f_peer, fill.f_n);
}

static void
inject_fill(struct kinkd *kd, const char *line)
{
	struct timeval zero = { 0, 0 };
	char peer[CTL_NAME_MAX + 1];
	long n;

	if (sscanf(line, "fill-sas %64s %ld", peer, &n) != 2 || n < 0 ||
	    fill.f_left > 0) {
		log_warnx("inject: bad fill-sas line (or one under way)");
		return;
	}
	if (fill.f_ev == NULL && (fill.f_ev = event_new(kd->kd_eng.en_base,
	    -1, 0, fill_batch, NULL)) == NULL)
		return;
	fill.f_kd = kd;
	strlcpy(fill.f_peer, peer, sizeof(fill.f_peer));
	fill.f_n = fill.f_left = n;
	event_add(fill.f_ev, &zero);
}

/* What a compromised engine would try (-P: the broker and seccomp stop it). */
static void
inject_privsep(struct kinkd *kd, const char *line)
{
	struct kink_policy pol;
	struct kink_sa sa;
	long r;

	if (strncmp(line, "privsep-write", 13) == 0) {
		char path[1100];
		int fd;

		/* Beside the control socket: a directory the daemon may write. */
		snprintf(path, sizeof(path), "%s.written", kd->kd_sockpath);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		log_info("inject: privsep-write: open for writing %s (%s)",
		    fd == -1 ? "failed" : "succeeded",
		    fd == -1 ? strerror(errno) : "a writable filesystem");
		if (fd != -1)
			close(fd);
		return;
	}
	if (strncmp(line, "privsep-syscall", 15) == 0) {
		log_info("inject: privsep-syscall: mknodat");
		/* An empty path: harmless (ENOENT) where nothing forbids it. */
		r = syscall(SYS_mknodat, AT_FDCWD, "", S_IFIFO | 0600, 0);
		log_info("inject: privsep-syscall: mknodat returned %ld (%s)",
		    r, r == -1 ? strerror(errno) : "ok");
		return;
	}
	memset(&pol, 0, sizeof(pol));
	strlcpy(pol.pol_name, "foreign", sizeof(pol.pol_name));
	pol.pol_mode = ENCAP_MODE_TRANSPORT;
	addr_parse("203.0.113.1", &pol.pol_src.sel_addr);
	pol.pol_src.sel_plen = 32;
	addr_parse("203.0.113.2", &pol.pol_dst.sel_addr);
	pol.pol_dst.sel_plen = 32;
	pol.pol_nsuites = 1;
	pol.pol_suites[0].s_esp.x_present = 1;
	pol.pol_suites[0].s_esp.x_id = ESP_AES_CBC;
	pol.pol_suites[0].s_esp.x_keylen = 128;
	pol.pol_reqid = 0x3ffffff0;
	if (strncmp(line, "privsep-spd", 11) == 0) {
		log_info("inject: privsep-spd");
		sadb_spd_add(kd->kd_eng.en_sadb, &pol, sadb_done_log,
		    (void *)"add foreign SPD entry");
		return;
	}
	if (strncmp(line, "privsep-sa", 10) != 0 ||
	    kd->kd_eng.en_conf->c_npeers == 0 ||
	    kd->kd_eng.en_conf->c_peers[0].p_npolicies == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	addr_parse("203.0.113.1", &sa.sa_src);
	addr_parse("203.0.113.2", &sa.sa_dst);
	sa.sa_proto = PROTO_IPSEC_ESP;
	sa.sa_dir = SA_DIR_OUT;
	sa.sa_mode = kd->kd_eng.en_conf->c_peers[0].p_policies[0].pol_mode;
	sa.sa_spi = 0x7e570001;
	sa.sa_reqid = kd->kd_eng.en_conf->c_peers[0].p_policies[0].pol_reqid;
	sa.sa_enc = ESP_AES_CBC;
	sa.sa_enc_keylen = 128;
	sa.sa_enckey_len = 16;
	log_info("inject: privsep-sa");
	sadb_add(kd->kd_eng.en_sadb, &sa, 0, sadb_done_log,
	    (void *)"add foreign SA");
}

static void
test_inject(struct kinkd *kd)
{
	char path[1100], line[128], what[16], dst[INET6_ADDRSTRLEN + 1];
	struct sadb_event ev;
	struct kink_sarec *sr;
	unsigned long v;
	unsigned loss, dup;
	FILE *f;

	snprintf(path, sizeof(path), "%s.inject", kd->kd_sockpath);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("inject: %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char peer[CTL_NAME_MAX + 1];
		long off;
		struct kink_peer *pe;

		/* A wrong clock towards one peer (RFC 4430 3.5 tests). */
		if (sscanf(line, "offset %64s %ld", peer, &off) == 2) {
			if ((pe = peer_by_name(&kd->kd_eng, peer)) != NULL &&
			    krb_peer_set_offset(kd->kd_eng.en_krb,
			    pe->pe_principal,
			    (int32_t)off) == 0)
				log_info("inject: clock offset for %s %ld s",
				    peer, off);
			continue;
		}
		if (sscanf(line, "impair %u %u", &loss, &dup) == 2) {
			inject_impair(kd, loss, dup);
			continue;
		}
		if (strncmp(line, "privsep-", 8) == 0) {
			inject_privsep(kd, line);
			continue;
		}
		if (strncmp(line, "kernel-", 7) == 0) {
			inject_kernel(kd, line);
			continue;
		}
		if (strncmp(line, "fill-sas ", 9) == 0) {
			inject_fill(kd, line);
			continue;
		}
		if (sscanf(line, "park-max %lu", &v) == 1) {
			kd->kd_eng.en_park_max = v;
			log_info("inject: park-max %lu", v);
			continue;
		}
		if (strncmp(line, "loop-probe", 10) == 0) {
			log_info("inject: loop-probe max_gap_us=%llu "
			    "max_cpu_us=%llu ticks=%llu",
			    (unsigned long long)probe_max_us,
			    (unsigned long long)probe_max_cpu,
			    (unsigned long long)probe_ticks);
			probe_max_us = probe_max_cpu = probe_ticks = 0;
			continue;
		}
		if (sscanf(line, "send-qmvers %li", (long *)&v) == 1) {
			/* Our next command's KINK_ISAKMP has QM version v. */
			knob_send_qmvers = (uint8_t)v;
			log_info("inject: send-qmvers 0x%02lx", v);
			continue;
		}
		if (sscanf(line, "send-notify %li", (long *)&v) == 1) {
			/* Our next CREATE carries a Notify of type v. */
			knob_send_notify = (uint16_t)v;
			log_info("inject: send-notify %lu", v);
			continue;
		}
		if (strncmp(line, "reply-ackreq", 12) == 0) {
			/* The next DELETE/STATUS REPLY we send has ACKREQ. */
			knob_reply_ackreq++;
			log_info("inject: reply-ackreq");
			continue;
		}
		if (strncmp(line, "refuse-reply", 12) == 0) {
			/* The next CREATE REPLY is refused as if doi had. */
			knob_refuse_replies++;
			log_info("inject: refuse-reply");
			continue;
		}
		if (strncmp(line, "refuse add", 10) == 0) {
			/* Every later SA add (of one direction) fails. */
			unsigned dirs = strstr(line, " in") != NULL ?
			    1u << SA_DIR_IN : strstr(line + 10, " out") != NULL ?
			    1u << SA_DIR_OUT : (1u << SA_DIR_IN) |
			    (1u << SA_DIR_OUT);

			if (knob_null(kd, SBK_TEST_REFUSE_ADD, dirs,
			    NULL, NULL) == 0)
				log_info("inject: refuse add (0x%x)", dirs);
			continue;
		}
		if (strncmp(line, "refuse spd-get", 14) == 0) {
			/* A backend that cannot be asked (pfkey, -P). */
			if (knob_null(kd, SBK_TEST_REFUSE_SPD_GET, 1,
			    NULL, NULL) == 0)
				log_info("inject: refuse spd-get");
			continue;
		}
		if (strncmp(line, "refuse none", 11) == 0) {
			knob_null(kd, SBK_TEST_REFUSE_ADD, 0, NULL, NULL);
			knob_null(kd, SBK_TEST_REFUSE_SPD_GET, 0, NULL, NULL);
		}
		if (sscanf(line, "refuse %15s", what) == 1) {
			if (knob_null(kd, SBK_TEST_REFUSE_GCM,
			    strcmp(what, "gcm") == 0, NULL, NULL) == 0)
				log_info("inject: refuse %s", what);
			continue;
		}
		dst[0] = '\0';
		if (sscanf(line, "%15s %li %46s", what, (long *)&v, dst) < 2)
			continue;
		memset(&ev, 0, sizeof(ev));
		if (strcmp(what, "acquire") == 0) {
			ev.ev_type = SADB_EV_ACQUIRE;
			ev.ev_reqid = (uint32_t)v;
			/* a range peer's policy: the destination names the host */
			if (dst[0] != '\0' && addr_parse(dst, &ev.ev_dst) == -1) {
				log_warnx("inject: bad address");
				continue;
			}
		} else if (strcmp(what, "soft") == 0 ||
		    strcmp(what, "hard") == 0) {
			ev.ev_type = what[0] == 's' ? SADB_EV_EXPIRE_SOFT :
			    SADB_EV_EXPIRE_HARD;
			sr = sarec_find(&kd->kd_eng, 0, (uint32_t)v, 0);
			if (sr != NULL) {
				sa_rec_get(&sr->sr_sa, &ev.ev_sa);
				sa_free_keys(&ev.ev_sa);
				/* Another destination: not our SA that died. */
				if (ev.ev_type == SADB_EV_EXPIRE_HARD &&
				    dst[0] == '\0')
					/* the kernel's SA is gone by now */
					sadb_del(kd->kd_eng.en_sadb,
					    &ev.ev_sa, NULL, NULL);
			} else
				ev.ev_sa.sa_spi = (uint32_t)v;
			if (dst[0] != '\0' &&
			    addr_parse(dst, &ev.ev_sa.sa_dst) == -1) {
				log_warnx("inject: bad address");
				continue;
			}
		} else
			continue;
		if (knob_null(kd, 0, 0, &ev, NULL) == -1) {
			log_warn("inject %s", what);
			break;
		}
		log_info("inject: %s 0x%lx", what, v);
	}
	fclose(f);
	unlink(path);
}

static const char *
test_create_reply(void *arg)
{
	if (knob_refuse_replies == 0)
		return NULL;
	knob_refuse_replies--;
	return "REPLY refused (inject refuse-reply)";
}

static uint8_t
test_reply_flags(void *arg)
{
	if (knob_reply_ackreq == 0)
		return 0;
	/* Outside section 4: tests the initiator's 3.2 ACK. */
	knob_reply_ackreq--;
	return KINK_ACKREQ;
}

static uint8_t
test_qmversion(void *arg)
{
	uint8_t v = knob_send_qmvers;

	/* One exchange: it keeps the version for its resends. */
	knob_send_qmvers = 0;
	return v;
}

static uint16_t
test_create_notify(void *arg)
{
	uint16_t t = knob_send_notify;

	knob_send_notify = 0;
	return t;
}

static void
test_backend(struct kinkd *kd)
{
	const char *env = getenv("KINKD_NULL_REFUSE");

	struct timeval ms = { 0, 1000 };

	if (env != NULL && strcmp(env, "gcm") == 0)
		knob_null(kd, SBK_TEST_REFUSE_GCM, 1, NULL, NULL);
	env = getenv("KINKD_LOOP_PROBE");
	if (env != NULL && strcmp(env, "1") == 0 && probe_ev == NULL &&
	    (probe_ev = event_new(kd->kd_eng.en_base, -1, EV_PERSIST,
	    probe_tick, NULL)) != NULL)
		event_add(probe_ev, &ms);
}

static const struct engine_hooks test_engine_hooks = {
	.eh_create_reply = test_create_reply,
	.eh_reply_flags = test_reply_flags,
	.eh_qmversion = test_qmversion,
	.eh_create_notify = test_create_notify,
};

static const struct kinkd_hooks test_hooks = {
	.kh_backend = test_backend,
	.kh_sigusr1 = test_inject,
	.kh_engine = &test_engine_hooks,
	.kh_broker_test = knob_broker,
};

int
main(int argc, char *argv[])
{
	return kinkd_main(argc, argv, &test_hooks);
}
