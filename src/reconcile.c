/*
 * Reconciliation (reconcile.h).  A run snapshots the records installed
 * now, asks the backend for a dump (answered after every request queued
 * before it), and compares at the dump's end: a record of the snapshot
 * still present but not in the dump was lost by the kernel; a dumped SA
 * neither in the snapshot, nor a record now, nor an SPI a live
 * transaction reserved, belongs to nobody.  Records made during the dump
 * are not judged, nor SAs removed during it.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "engine.h"
#include "isakmp_num.h"
#include "kink.h"
#include "kinkd.h"
#include "log.h"
#include "peer.h"
#include "reconcile.h"
#include "sadb.h"
#include "sarec.h"
#include "xact.h"

struct rc_sa {
	uint8_t			 rs_proto;
	uint8_t			 rs_mode;
	struct sockaddr_storage	 rs_src;
	uint32_t		 rs_spi;
	uint32_t		 rs_reqid;
	struct sockaddr_storage	 rs_dst;
};

struct rc_list {
	struct rc_sa		*rl_v;
	size_t			 rl_n, rl_cap;
	int			 rl_sorted;	/* by rc_sa_cmp, for bsearch */
};

/* One policy's SPD entries being repaired: what its log lines name. */
struct rc_spd {
	struct reconcile	*rp_rc;
	char			 rp_peer[CTL_NAME_MAX + 1];
	char			 rp_pol[POL_NAME_MAX];
	char			 rp_l[INET6_ADDRSTRLEN + 24];
	char			 rp_r[INET6_ADDRSTRLEN + 24];
	uint8_t			 rp_ulproto;
};

struct reconcile {
	struct reconcile	*rc_next;	/* kd_rc_runs: runs in flight */
	/* The dump, then one per SPD answer awaited: freed at 0. */
	int			 rc_refs;
	struct rc_spd		*rc_spds;
	struct kinkd		*rc_kd;
	struct rc_list		 rc_before;	/* records at the start */
	struct rc_list		 rc_dump;	/* what the kernel holds */
	int			 rc_failed;
	reconcile_done_fn	*rc_done;
	void			*rc_arg;
};

static int
rc_push(struct rc_list *l, const struct kink_sa *sa)
{
	struct rc_sa *v;

	if (l->rl_n == l->rl_cap) {
		size_t cap = l->rl_cap ? l->rl_cap * 2 : 32;

		if ((v = reallocarray(l->rl_v, cap, sizeof(*v))) == NULL)
			return -1;
		l->rl_v = v;
		l->rl_cap = cap;
	}
	l->rl_sorted = 0;
	v = &l->rl_v[l->rl_n++];
	v->rs_proto = sa->sa_proto;
	v->rs_spi = sa->sa_spi;
	v->rs_reqid = sa->sa_reqid;
	v->rs_dst = sa->sa_dst;
	v->rs_src = sa->sa_src;
	v->rs_mode = sa->sa_mode;
	return 0;
}

/* (SPI, protocol, destination); equal addresses as addr_eq() has them. */
static int
rc_sa_cmp(const void *va, const void *vb)
{
	const struct rc_sa *a = va, *b = vb;

	if (a->rs_spi != b->rs_spi)
		return a->rs_spi < b->rs_spi ? -1 : 1;
	if (a->rs_proto != b->rs_proto)
		return a->rs_proto < b->rs_proto ? -1 : 1;
	if (a->rs_dst.ss_family != b->rs_dst.ss_family)
		return a->rs_dst.ss_family < b->rs_dst.ss_family ? -1 : 1;
	if (a->rs_dst.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->rs_dst)->sin_addr,
		    &((const struct sockaddr_in *)&b->rs_dst)->sin_addr, 4);
	if (a->rs_dst.ss_family == AF_INET6)
		return memcmp(
		    &((const struct sockaddr_in6 *)&a->rs_dst)->sin6_addr,
		    &((const struct sockaddr_in6 *)&b->rs_dst)->sin6_addr, 16);
	return 0;
}

/*
 * Sorted once, then searched: a run compares two lists of every SA, so
 * a scan per lookup would cost the square of the SAs held.
 */
static int
rc_has(struct rc_list *l, uint8_t proto, uint32_t spi,
    const struct sockaddr_storage *dst)
{
	struct rc_sa key, *hit;

	if (!l->rl_sorted && l->rl_n > 1)
		qsort(l->rl_v, l->rl_n, sizeof(*l->rl_v), rc_sa_cmp);
	l->rl_sorted = 1;
	memset(&key, 0, sizeof(key));
	key.rs_proto = proto;
	key.rs_spi = spi;
	key.rs_dst = *dst;
	if (l->rl_n == 0 || (hit = bsearch(&key, l->rl_v, l->rl_n,
	    sizeof(*l->rl_v), rc_sa_cmp)) == NULL)
		return 0;
	/* addr_eq() matches no other family. */
	return addr_eq((const struct sockaddr *)&hit->rs_dst,
	    (const struct sockaddr *)dst);
}

/* An SPI some live transaction reserved (its SA is not recorded yet). */
static int
rc_spi_busy(struct kink_engine *en, uint32_t spi)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &en->en_xacts, xa_entry)
		if (x->xa_state != XS_DONE && x->xa_state != XS_FAILED &&
		    (x->xa_spis.ds_esp == spi || x->xa_spis.ds_ah == spi ||
		    x->xa_spis.ds_ipcomp == spi))
			return 1;
	return 0;
}

static struct kink_sarec *
rc_record(struct kink_engine *en, uint8_t proto, uint32_t spi,
    const struct sockaddr_storage *dst)
{
	return sarec_find_dst(en, dst, proto, spi);
}

/* "what (reconcile HH:MM:SS)": when it was found, local time. */
static void
rc_why(struct kink_sarec *sr, const char *what)
{
	time_t now = time(NULL);
	struct tm tm;
	char hms[16];

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
		strlcpy(hms, "?", sizeof(hms));
	sarec_why(sr, "%s (reconcile %s)", what, hms);
}

/* Lost: marked, and the pair renegotiated once per pair. */
static int
rc_lost(struct reconcile *rc)
{
	struct kink_engine *en = &rc->rc_kd->kd_eng;
	struct kink_sarec *sr, *o;
	const struct kink_policy *pol;
	struct sarec_key pk;
	size_t i;
	int n = 0;

	for (i = 0; i < rc->rc_before.rl_n; i++) {
		struct rc_sa *b = &rc->rc_before.rl_v[i];

		if (rc_has(&rc->rc_dump, b->rs_proto, b->rs_spi, &b->rs_dst) ||
		    (sr = rc_record(en, b->rs_proto, b->rs_spi,
		    &b->rs_dst)) == NULL || !sr->sr_installed ||
		    sr->sr_state != CTL_SA_MATURE)
			continue;
		n++;
		/* Gone from the kernel: removing it later must not ask. */
		sr->sr_installed = 0;
		sr->sr_state = CTL_SA_MISSING;
		rc_why(sr, "kernel lost it");
		log_warnx("reconcile: peer %s policy %s: SA %s %s spi "
		    "0x%08x lost by the kernel; renegotiating",
		    sr->sr_peer->pe_name, sr->sr_policy,
		    sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
		    sa_proto_name(sr->sr_sa.sa_proto),
		    sr->sr_sa.sa_spi);
		/* One rekey per pair: another lost SA of it is marked only. */
		memset(&pk, 0, sizeof(pk));
		pk.k_pair = sr->sr_pair;
		for (o = sarec_next(en, NULL, &pk); o != NULL;
		    o = sarec_next(en, o, &pk))
			if (o != sr && o->sr_state == CTL_SA_MISSING)
				break;
		if (o != NULL || sr->sr_peer->pe_conf == NULL ||
		    (pol = conf_policy_by_name(sr->sr_peer->pe_conf,
		    sr->sr_policy)) == NULL ||
		    xact_create_in_progress(en, sr->sr_peer, sr->sr_policy))
			continue;
		if (xact_create_start(en, sr->sr_peer, pol, NULL,
		    sr->sr_pair) == -1)
			log_warnx("reconcile: peer %s policy %s: CREATE not "
			    "started", sr->sr_peer->pe_name, sr->sr_policy);
	}
	return n;
}

static int
rc_orphans(struct reconcile *rc)
{
	struct kink_engine *en = &rc->rc_kd->kd_eng;
	struct kink_sa sa;
	size_t i;
	int n = 0;

	for (i = 0; i < rc->rc_dump.rl_n; i++) {
		struct rc_sa *d = &rc->rc_dump.rl_v[i];

		if (d->rs_spi == 0)
			continue;	/* larval: rc_larval() */
		if (rc_has(&rc->rc_before, d->rs_proto, d->rs_spi,
		    &d->rs_dst) || rc_record(en, d->rs_proto, d->rs_spi,
		    &d->rs_dst) != NULL || rc_spi_busy(en, d->rs_spi))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_proto = d->rs_proto;
		sa.sa_spi = d->rs_spi;
		sa.sa_reqid = d->rs_reqid;
		sa.sa_dst = d->rs_dst;
		log_warnx("reconcile: SA %s spi 0x%08x (reqid %u) is kinkd's "
		    "but has no owner; removed",
		    sa_proto_name(d->rs_proto), d->rs_spi,
		    d->rs_reqid);
		sadb_del(en->en_sadb, &sa, sadb_done_log,
		    (void *)"delete orphaned SA");
		n++;
	}
	return n;
}

void
reconcile_larval_log(const struct kink_sa *sa, const char *why)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	log_info("removing larval SA (acquire pending) %s %s -> %s reqid %u "
	    "%s", sa_proto_name(sa->sa_proto),
	    addr_ntop((const struct sockaddr *)&sa->sa_src, src, sizeof(src)),
	    addr_ntop((const struct sockaddr *)&sa->sa_dst, dst, sizeof(dst)),
	    sa->sa_reqid, why);
}

/* A CREATE of ours toward dst is running: its ACQUIRE's larval SA. */
static int
rc_create_toward(struct kink_engine *en, const struct sockaddr_storage *dst)
{
	struct kink_xact *x;
	int i;

	TAILQ_FOREACH(x, &en->en_xacts, xa_entry) {
		const struct conf_peer *cp = x->xa_peer->pe_conf;

		if (x->xa_state == XS_DONE || x->xa_state == XS_FAILED ||
		    x->xa_cmd != KINK_MSGTYPE_CREATE || cp == NULL)
			continue;
		for (i = 0; i < cp->p_naddrs; i++)
			if (addr_eq((const struct sockaddr *)&cp->p_addrs[i],
			    (const struct sockaddr *)dst))
				return 1;
	}
	return 0;
}

/*
 * A larval IPComp SA of a policy whose pair is in force: the optional
 * template's request after the peer chose no IPComp (upcall.c drops its
 * ACQUIRE).  Removing it would only have the next packet ask again.
 */
static int
rc_comp_expected(struct kink_engine *en, const struct rc_sa *d)
{
	struct kink_policy *pol;
	struct kink_peer *pe;

	return d->rs_proto == PROTO_IPCOMP && (pe = peer_by_reqid(en,
	    d->rs_reqid, &pol)) != NULL && sarec_live_out(en, pe,
	    pol->pol_name) != NULL;
}

/*
 * Larval SAs (SPI 0) in kinkd's reqid range: the kernel's placeholders
 * for ACQUIREs, which block further ACQUIREs for their selector until
 * they expire.  One a CREATE is answering stays; the others (a previous
 * run's, a failed exchange's) go, so the next packet asks again at once.
 */
static int
rc_larval(struct reconcile *rc)
{
	struct kink_engine *en = &rc->rc_kd->kd_eng;
	struct kink_sa sa;
	size_t i;
	int n = 0;

	for (i = 0; i < rc->rc_dump.rl_n; i++) {
		struct rc_sa *d = &rc->rc_dump.rl_v[i];

		if (d->rs_spi != 0 || rc_create_toward(en, &d->rs_dst) ||
		    rc_comp_expected(en, d))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_proto = d->rs_proto;
		sa.sa_mode = d->rs_mode;
		sa.sa_reqid = d->rs_reqid;
		sa.sa_src = d->rs_src;
		sa.sa_dst = d->rs_dst;
		reconcile_larval_log(&sa, "(reconcile)");
		if (sadb_del_larval(en->en_sadb, &sa, sadb_done_log,
		    (void *)"delete larval SA") == 0)
			n++;
	}
	return n;
}

/* "10.0.0.1/32 port 443" */
static const char *
rc_sel(const struct kink_selector *s, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN], port[16] = "";

	if (s->sel_port != 0)
		snprintf(port, sizeof(port), " port %u", s->sel_port);
	snprintf(out, len, "%s/%u%s", addr_ntop((const struct sockaddr *)
	    &s->sel_addr, a, sizeof(a)), s->sel_plen, port);
	return out;
}

static void rc_unref(struct reconcile *);

static void
rc_spd_cb(int err, int dir, void *arg)
{
	struct rc_spd *rp = arg;
	const char *d = dir == SADB_SPD_OUT ? "out" : dir == SADB_SPD_IN ?
	    "in" : "fwd";
	const char *from = dir == SADB_SPD_OUT ? rp->rp_l : rp->rp_r;
	const char *to = dir == SADB_SPD_OUT ? rp->rp_r : rp->rp_l;

	if (err == 0)
		log_warnx("reconcile: peer %s policy %s: SPD %s %s -> %s "
		    "proto %u was not in the kernel; re-installed",
		    rp->rp_peer, rp->rp_pol, d, from, to, rp->rp_ulproto);
	else if (err != EEXIST)
		log_warnx("reconcile: peer %s policy %s: SPD %s %s -> %s "
		    "proto %u: %s", rp->rp_peer, rp->rp_pol, d, from, to,
		    rp->rp_ulproto, strerror(err));
	rc_unref(rp->rp_rc);
}

/* Repair the SPD entries of one configured policy; np < 0: count them. */
static int
rc_spd_pol(struct reconcile *rc, const struct conf_peer *cp,
    const struct kink_policy *tmpl, int *k, int np)
{
	struct kink_engine *en = &rc->rc_kd->kd_eng;
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	struct rc_spd *rp;
	int j, m, n = 0, nq = conf_policy_spd(cp, tmpl, q, CONF_MAX_PEER_ADDRS);

	for (j = 0; j < nq; j++) {
		const struct kink_policy *pol = &q[j];

		if (np < 0) {
			n++;
			continue;
		}
		if (rc->rc_spds == NULL || *k >= np) {
			if (sadb_spd_add(en->en_sadb, pol, sadb_done_log,
			    (void *)"reconcile SPD entry") == 0)
				n++;
			continue;
		}
		rp = &rc->rc_spds[(*k)++];
		rp->rp_rc = rc;
		strlcpy(rp->rp_peer, cp->p_name, sizeof(rp->rp_peer));
		strlcpy(rp->rp_pol, pol->pol_name, sizeof(rp->rp_pol));
		rc_sel(&pol->pol_src, rp->rp_l, sizeof(rp->rp_l));
		rc_sel(&pol->pol_dst, rp->rp_r, sizeof(rp->rp_r));
		rp->rp_ulproto = pol->pol_ulproto;
		if ((m = sadb_spd_repair(en->en_sadb, pol, rc_spd_cb, rp)) > 0) {
			rc->rc_refs += m;
			n++;
		} else if (sadb_spd_add(en->en_sadb, pol, sadb_done_log,
		    (void *)"reconcile SPD entry") == 0)
			n++;
	}
	return n;
}

/*
 * Every SPD entry is written again (an update in place where the kernel
 * still has it); where the backend can tell, each entry the kernel had
 * lost is one log line with its selectors and direction.  The entries are
 * the configuration's, as kinkd installs them at start and on reload: a
 * range peer's are its template's (one per range), and a learned peer has
 * none of its own (the range's entry raises its ACQUIREs and covers its
 * SAs; a /32 entry per learned peer would outlive the peer and is not one
 * the broker may install).
 */
static int
rc_spd(struct reconcile *rc)
{
	const struct kink_conf *c = rc->rc_kd->kd_eng.en_conf;
	int i, j, k = 0, n = 0, np = 0;

	for (i = 0; c != NULL && i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++)
			np += rc_spd_pol(rc, &c->c_peers[i],
			    &c->c_peers[i].p_policies[j], &k, -1);
	if (np > 0 && (rc->rc_spds = calloc((size_t)np,
	    sizeof(*rc->rc_spds))) == NULL)
		log_warnx("reconcile: out of memory; SPD entries not checked");
	for (i = 0; c != NULL && i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++)
			n += rc_spd_pol(rc, &c->c_peers[i],
			    &c->c_peers[i].p_policies[j], &k, np);
	return n;
}

static void
rc_free(struct reconcile *rc)
{
	struct reconcile **pp;

	for (pp = &rc->rc_kd->kd_rc_runs; *pp != NULL; pp = &(*pp)->rc_next)
		if (*pp == rc) {
			*pp = rc->rc_next;
			break;
		}
	free(rc->rc_before.rl_v);
	free(rc->rc_dump.rl_v);
	free(rc->rc_spds);
	free(rc);
}

static void
rc_unref(struct reconcile *rc)
{
	if (--rc->rc_refs == 0)
		rc_free(rc);
}

static void
rc_dump_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct reconcile *rc = arg;
	struct reconcile_result rr;

	if (sa != NULL) {
		if (err == 0 && rc_push(&rc->rc_dump, sa) == -1)
			rc->rc_failed = 1;
		return;
	}
	memset(&rr, 0, sizeof(rr));
	if (err != 0 || rc->rc_failed || rc->rc_kd->kd_eng.en_stopping) {
		log_warnx("reconcile: the kernel's SAs could not be read; "
		    "nothing changed");
		if (rc->rc_done != NULL)
			rc->rc_done(rc->rc_arg, -1, &rr);
		rc_free(rc);
		return;
	}
	rr.rr_lost = rc_lost(rc);
	rr.rr_orphans = rc_orphans(rc);
	rr.rr_larval = rc_larval(rc);
	rr.rr_spd = rc_spd(rc);
	log_debug("reconcile: %d lost, %d orphans removed, %d SPD entries "
	    "written", rr.rr_lost, rr.rr_orphans, rr.rr_spd);
	if (rc->rc_done != NULL)
		rc->rc_done(rc->rc_arg, 0, &rr);
	rc_unref(rc);
}

int
reconcile_start(struct kinkd *kd, const char *why, reconcile_done_fn *done,
    void *arg)
{
	struct kink_engine *en = &kd->kd_eng;
	struct kink_sarec *sr;
	struct kink_sa key;
	struct reconcile *rc;

	if (en->en_stopping || (rc = calloc(1, sizeof(*rc))) == NULL)
		return -1;
	rc->rc_kd = kd;
	rc->rc_refs = 1;
	rc->rc_done = done;
	rc->rc_arg = arg;
	for (sr = sarec_next(en, NULL, NULL); sr != NULL;
	    sr = sarec_next(en, sr, NULL)) {
		if (!sr->sr_installed)
			continue;
		sa_rec_get(&sr->sr_sa, &key);
		sa_free_keys(&key);
		if (rc_push(&rc->rc_before, &key) == -1) {
			rc_free(rc);
			return -1;
		}
	}
	rc->rc_next = kd->kd_rc_runs;
	kd->kd_rc_runs = rc;
	log_debug("reconcile (%s): %zu records", why, rc->rc_before.rl_n);
	if (sadb_dump(en->en_sadb, rc_dump_cb, rc) == -1) {
		log_warnx("reconcile: the backend cannot dump its SAs");
		rc_free(rc);
		return -1;
	}
	return 0;
}

static void
rc_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct kinkd *kd = arg;

	reconcile_start(kd, "periodic", NULL, NULL);
	reconcile_arm(kd);
}

void
reconcile_arm(struct kinkd *kd)
{
	struct kink_engine *en = &kd->kd_eng;
	uint32_t ms = en->en_conf->c_reconcile_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (kd->kd_ev_reconcile == NULL && (kd->kd_ev_reconcile =
	    evtimer_new(en->en_base, rc_tick, kd)) == NULL) {
		log_warnx("reconcile: no timer; periodic runs off");
		return;
	}
	evtimer_del(kd->kd_ev_reconcile);
	if (ms > 0 && !en->en_stopping)
		evtimer_add(kd->kd_ev_reconcile, &tv);
}

/* Before the backend goes: it drops pending dumps without a call. */
void
reconcile_fini(struct kinkd *kd)
{
	while (kd->kd_rc_runs != NULL)
		rc_free(kd->kd_rc_runs);
	if (kd->kd_ev_reconcile != NULL)
		event_free(kd->kd_ev_reconcile);
	kd->kd_ev_reconcile = NULL;
}
