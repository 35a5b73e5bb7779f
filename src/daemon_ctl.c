/*
 * Glue between the control server's handlers (src/control.h) and the
 * daemon's state: each handler reads the tables, starts exchanges, or
 * reloads, and answers through control_send_*() / control_end().
 * INITIATE and DELETE_SA answer when their exchanges end.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "ctl_msg.h"
#include "kern_msg.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "reconcile.h"
#include "reload.h"
#include "sarec.h"
#include "site.h"
#include "sadb.h"
#include "stats.h"
#include "timer.h"
#include "version.h"
#include "wire.h"
#include "xact.h"

static void
fill_sa(struct ctl_sa *cs, const struct kink_sarec *sr, int bytes_known)
{
	struct kink_sa full, *sa = &full;

	sa_rec_get(&sr->sr_sa, &full);
	memset(cs, 0, sizeof(*cs));
	strlcpy(cs->cs_peer, sr->sr_peer->pe_name, sizeof(cs->cs_peer));
	strlcpy(cs->cs_policy, sr->sr_policy, sizeof(cs->cs_policy));
	cs->cs_dir = sa->sa_dir;
	cs->cs_proto = sa->sa_proto;
	cs->cs_mode = sa->sa_mode;
	cs->cs_state = sr->sr_state;
	cs->cs_spi = sa->sa_spi;
	ctl_addr_from_sockaddr(&cs->cs_src,
	    (const struct sockaddr *)&sa->sa_src);
	ctl_addr_from_sockaddr(&cs->cs_dst,
	    (const struct sockaddr *)&sa->sa_dst);
	cs->cs_enc = sa->sa_enc;
	cs->cs_enc_keylen = sa->sa_enc_keylen;
	cs->cs_auth = sa->sa_auth;
	/* control_send_sa() zeroes these unless the root caller asked. */
	cs->cs_enckey_len = sa->sa_enckey_len;
	memcpy(cs->cs_enckey, sa->sa_enckey, sa->sa_enckey_len);
	cs->cs_authkey_len = sa->sa_authkey_len;
	memcpy(cs->cs_authkey, sa->sa_authkey, sa->sa_authkey_len);
	cs->cs_life_soft_secs = sa->sa_life_soft_secs;
	cs->cs_life_hard_secs = sa->sa_life_hard_secs;
	cs->cs_life_soft_bytes = sa->sa_life_soft_bytes;
	cs->cs_life_hard_bytes = sa->sa_life_hard_bytes;
	cs->cs_created = (uint64_t)sr->sr_created;
	cs->cs_bytes = bytes_known ? sr->sr_bytes : CTL_UNKNOWN64;
	if (sr->sr_why != NULL)
		strlcpy(cs->cs_reason, sr->sr_why, sizeof(cs->cs_reason));
	sa_free_keys(&full);
}

/*
 * SHOW_SA is answered from a backend dump merged with kinkd's records:
 * byte counters for the SAs both know, the kernel's SAs (in kinkd's reqid
 * range) that kinkd has no record of as CTL_SA_KERNEL_ONLY, and records
 * whose SA the kernel no longer holds as CTL_SA_MISSING.
 */
struct show_sa {
	TAILQ_ENTRY(show_sa)	 ss_entry;	/* show_sas */
	struct kinkd		*ss_kd;
	struct control_req	*ss_req;
	char			 ss_peer[CTL_NAME_MAX + 1];
	int			 ss_dumped;	/* the dump ended well */
	/*
	 * Records the dump saw carry this number or a later listing's; the
	 * newest record when the dump began bounds the ones it must see.
	 */
	uint64_t		 ss_gen;
	uint64_t		 ss_seq0;
	uint64_t		 ss_cursor;	/* sr_seq of the last one sent */
	uint64_t		 ss_nsent, ss_passes;
	struct timer		 ss_timer;	/* the next chunk */
};

/*
 * A listing sends SHOW_SA_CHUNK records per loop pass, and none while
 * the client has SHOW_SA_OUTQ octets unread, so KINK messages and other
 * requests are served between chunks however many SAs there are, and
 * the daemon never buffers a whole listing.
 */
#define SHOW_SA_CHUNK	256
#define SHOW_SA_OUTQ	(256 * 1024)
#define SHOW_SA_WAIT_MS	2

static TAILQ_HEAD(, show_sa) show_sas = TAILQ_HEAD_INITIALIZER(show_sas);
static uint64_t show_sa_gen;

static void
show_sa_free(struct show_sa *ss)
{
	TAILQ_REMOVE(&show_sas, ss, ss_entry);
	timer_fini(&ss->ss_timer);
	free(ss);
}

static void
show_sa_chunk(void *arg)
{
	struct show_sa *ss = arg;
	struct kink_engine *en = &ss->ss_kd->kd_eng;
	struct kink_sarec *sr;
	struct ctl_sa cs;
	int n, known;

	if (!control_req_alive(ss->ss_req))
		sr = NULL;	/* the client left: end at once */
	else if (control_req_queued(ss->ss_req) > SHOW_SA_OUTQ) {
		timer_add_ms(&ss->ss_timer, SHOW_SA_WAIT_MS);
		return;
	} else
		sr = sarec_after(en, ss->ss_cursor);
	for (n = 0; sr != NULL && n < SHOW_SA_CHUNK;
	    sr = sarec_after(en, ss->ss_cursor), n++) {
		ss->ss_cursor = sr->sr_seq;
		if (ss->ss_peer[0] != '\0' &&
		    strcmp(sr->sr_peer->pe_name, ss->ss_peer) != 0)
			continue;
		known = sr->sr_dump_gen >= ss->ss_gen;
		fill_sa(&cs, sr, known);
		/*
		 * Larval SPIs, SAs whose ADD is not sent and SAs made after
		 * the dump began are not due.
		 */
		if (ss->ss_dumped && sr->sr_installed && !known &&
		    sr->sr_state != CTL_SA_LARVAL && sr->sr_seq <= ss->ss_seq0) {
			cs.cs_state = CTL_SA_MISSING;
			if (cs.cs_reason[0] == '\0')
				strlcpy(cs.cs_reason, "not in the kernel's SA "
				    "table", sizeof(cs.cs_reason));
		}
		control_send_sa(ss->ss_req, &cs);
		explicit_bzero(&cs, sizeof(cs));
		ss->ss_nsent++;
	}
	ss->ss_passes++;
	if (sr != NULL) {
		timer_add_ms(&ss->ss_timer, 0);
		return;
	}
	log_debug("control: show sa %llu: %llu records in %llu passes",
	    (unsigned long long)ss->ss_gen, (unsigned long long)ss->ss_nsent,
	    (unsigned long long)ss->ss_passes);
	control_end(ss->ss_req);
	show_sa_free(ss);
}

static void
show_sa_stray(struct show_sa *ss, const struct kink_sa *sa)
{
	struct kink_policy *pol;
	struct kink_peer *pe;
	const struct sockaddr_storage *local = NULL;
	struct ctl_sa cs;

	pe = peer_by_reqid(&ss->ss_kd->kd_eng, sa->sa_reqid, &pol);
	if (ss->ss_peer[0] != '\0' &&
	    (pe == NULL || strcmp(pe->pe_name, ss->ss_peer) != 0))
		return;
	memset(&cs, 0, sizeof(cs));
	if (pe != NULL) {
		strlcpy(cs.cs_peer, pe->pe_name, sizeof(cs.cs_peer));
		strlcpy(cs.cs_policy, pol->pol_name, sizeof(cs.cs_policy));
		local = pol->pol_mode == ENCAP_MODE_TUNNEL ?
		    &pol->pol_tun_local : &pol->pol_src.sel_addr;
	}
	/* Kernel dumps carry no direction: inbound is addressed to us. */
	cs.cs_dir = sa->sa_dir;
	if (cs.cs_dir != CTL_SA_DIR_IN && cs.cs_dir != CTL_SA_DIR_OUT)
		cs.cs_dir = local != NULL && addr_eq(
		    (const struct sockaddr *)&sa->sa_dst,
		    (const struct sockaddr *)local) ? CTL_SA_DIR_IN :
		    CTL_SA_DIR_OUT;
	cs.cs_proto = sa->sa_proto;
	cs.cs_mode = sa->sa_mode;
	if (cs.cs_mode != ENCAP_MODE_TUNNEL)
		cs.cs_mode = ENCAP_MODE_TRANSPORT;
	cs.cs_state = CTL_SA_KERNEL_ONLY;
	/* SPI 0: the kernel's placeholder while an ACQUIRE waits. */
	if (sa->sa_spi == 0) {
		cs.cs_state = CTL_SA_LARVAL;
		cs.cs_dir = CTL_SA_DIR_OUT;
		strlcpy(cs.cs_reason, "larval (acquire pending)",
		    sizeof(cs.cs_reason));
	} else
		strlcpy(cs.cs_reason, "no record in kinkd (another run's or "
		    "another tool's)", sizeof(cs.cs_reason));
	cs.cs_spi = sa->sa_spi;
	ctl_addr_from_sockaddr(&cs.cs_src,
	    (const struct sockaddr *)&sa->sa_src);
	ctl_addr_from_sockaddr(&cs.cs_dst,
	    (const struct sockaddr *)&sa->sa_dst);
	cs.cs_enc = sa->sa_enc;
	cs.cs_enc_keylen = sa->sa_enc_keylen;
	cs.cs_auth = sa->sa_auth;
	/* No keys: they are not kinkd's to hand out. */
	cs.cs_life_soft_secs = sa->sa_life_soft_secs;
	cs.cs_life_hard_secs = sa->sa_life_hard_secs;
	cs.cs_life_soft_bytes = sa->sa_life_soft_bytes;
	cs.cs_life_hard_bytes = sa->sa_life_hard_bytes;
	cs.cs_bytes = sa->sa_cur_bytes;
	if (cs.cs_proto != PROTO_IPSEC_AH && cs.cs_proto != PROTO_IPSEC_ESP &&
	    cs.cs_proto != PROTO_IPCOMP)
		return;		/* not one kinkd could have made */
	control_send_sa(ss->ss_req, &cs);
}

static void
show_sa_dump(int err, const struct kink_sa *sa, void *arg)
{
	struct show_sa *ss = arg;
	struct kink_sarec *sr;
	int known = 0;

	if (sa == NULL) {
		ss->ss_dumped = err == 0;
		show_sa_chunk(ss);
		return;
	}
	for (sr = sarec_find_dst(&ss->ss_kd->kd_eng, &sa->sa_dst,
	    sa->sa_proto, sa->sa_spi); sr != NULL; sr = sarec_next_dst(sr)) {
		sr->sr_bytes = sa->sa_cur_bytes;
		if (sr->sr_dump_gen < ss->ss_gen)
			sr->sr_dump_gen = ss->ss_gen;
		known = 1;
	}
	if (!known)
		show_sa_stray(ss, sa);
}

static void
h_show_sa(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct show_sa *ss;

	if (r->cr_peer[0] != '\0' &&
	    peer_by_name(&kd->kd_eng, r->cr_peer) == NULL) {
		control_error(req, CTL_ERR_NOPEER, "no peer %s", r->cr_peer);
		return;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	if (timer_init(&ss->ss_timer, kd->kd_eng.en_base, show_sa_chunk,
	    ss) == -1) {
		free(ss);
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&show_sas, ss, ss_entry);
	ss->ss_kd = kd;
	ss->ss_req = req;
	strlcpy(ss->ss_peer, r->cr_peer, sizeof(ss->ss_peer));
	/* Counters as the kernel has them now; none if it cannot say. */
	ss->ss_gen = ++show_sa_gen;
	ss->ss_seq0 = kd->kd_eng.en_sa_seq;
	log_debug("control: show sa %llu: listing %d records",
	    (unsigned long long)ss->ss_gen, kd->kd_eng.en_nsas);
	if (kd->kd_eng.en_stopping ||
	    sadb_dump(kd->kd_eng.en_sadb, show_sa_dump, ss) == -1)
		show_sa_chunk(ss);
}

/*
 * SHOW_POLICIES asks the backend for every direction entry of every
 * policy and answers once all the answers are in: what the kernel holds
 * now, not what kinkd wrote.  A backend that cannot tell leaves
 * CTL_POL_K_UNKNOWN.
 */
struct show_pol;
struct show_pol_slot {
	struct show_pol		*ps_sp;
	struct ctl_policy	 ps_cp;
};

struct show_pol {
	TAILQ_ENTRY(show_pol)	 sp_entry;	/* show_pols */
	struct kinkd		*sp_kd;
	struct control_req	*sp_req;
	struct show_pol_slot	*sp_slot;
	int			 sp_nslot;
	int			 sp_pending;	/* backend callbacks to come */
};

static TAILQ_HEAD(, show_pol) show_pols = TAILQ_HEAD_INITIALIZER(show_pols);

static void
show_pol_free(struct show_pol *sp)
{
	TAILQ_REMOVE(&show_pols, sp, sp_entry);
	free(sp->sp_slot);
	free(sp);
}

static void
show_pol_answer(struct show_pol *sp)
{
	int i;

	for (i = 0; i < sp->sp_nslot; i++)
		control_send_policy(sp->sp_req, &sp->sp_slot[i].ps_cp);
	control_end(sp->sp_req);
	show_pol_free(sp);
}

static void
show_pol_release(struct show_pol *sp)
{
	if (--sp->sp_pending == 0)
		show_pol_answer(sp);
}

static void
show_pol_spd(int err, int dir, void *arg)
{
	struct show_pol_slot *ps = arg;
	struct show_pol *sp = ps->ps_sp;
	int i;

	for (i = 0; i < ps->ps_cp.cpo_ndir; i++)
		if (ps->ps_cp.cpo_dir[i] == dir)
			ps->ps_cp.cpo_kernel[i] = err == 0 ? CTL_POL_K_YES :
			    err == ENOENT ? CTL_POL_K_NO : CTL_POL_K_UNKNOWN;
	show_pol_release(sp);
}

static void
show_pol_fill(struct ctl_policy *cp, const char *peer,
    const struct kink_policy *pol)
{
	static const uint8_t gen[3] = { CTL_POL_DIR_OUT, CTL_POL_DIR_IN,
	    CTL_POL_DIR_FWD };
	int n, i;

	memset(cp, 0, sizeof(*cp));
	strlcpy(cp->cpo_peer, peer, sizeof(cp->cpo_peer));
	strlcpy(cp->cpo_name, pol->pol_name, sizeof(cp->cpo_name));
	cp->cpo_reqid = pol->pol_reqid;
	cp->cpo_mode = pol->pol_mode;
	ctl_addr_from_sockaddr(&cp->cpo_src,
	    (const struct sockaddr *)&pol->pol_src.sel_addr);
	cp->cpo_src.ca_port = pol->pol_src.sel_port;
	cp->cpo_src_plen = pol->pol_src.sel_plen;
	ctl_addr_from_sockaddr(&cp->cpo_dst,
	    (const struct sockaddr *)&pol->pol_dst.sel_addr);
	cp->cpo_dst.ca_port = pol->pol_dst.sel_port;
	cp->cpo_dst_plen = pol->pol_dst.sel_plen;
	cp->cpo_ulproto = pol->pol_ulproto;
	cp->cpo_priority = kern_pol_priority(pol);
	n = kern_pol_dirs(pol, gen, cp->cpo_dir);
	cp->cpo_ndir = (uint8_t)(n > 0 ? n : 0);
	for (i = 0; i < CTL_POL_DIR_MAX; i++)
		cp->cpo_kernel[i] = CTL_POL_K_UNKNOWN;
}

/* One configured SPD entry of the answer, its kernel state asked for. */
static void
show_pol_slot(struct show_pol *sp, const char *peer,
    const struct kink_policy *pol)
{
	struct kink_engine *en = &sp->sp_kd->kd_eng;
	struct show_pol_slot *ps = &sp->sp_slot[sp->sp_nslot++];
	int k;

	ps->ps_sp = sp;
	show_pol_fill(&ps->ps_cp, peer, pol);
	if (ps->ps_cp.cpo_ndir == 0 || en->en_stopping ||
	    (k = sadb_spd_get(en->en_sadb, pol, show_pol_spd, ps)) <= 0)
		return;
	sp->sp_pending += k;
}

/*
 * The configuration's SPD entries, as kinkd installs them: a range peer's
 * are its template's (one per range, "me" any address of this host).  A
 * learned peer has none of its own (the range's entry covers it; `show
 * peers` lists it), and the broker would refuse a query for one.
 */
static void
h_show_policies(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	const struct kink_conf *c = kd->kd_eng.en_conf;
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	struct show_pol *sp;
	int n = 0, i, j, k, nq;

	for (i = 0; c != NULL && i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++)
			n += conf_policy_spd(&c->c_peers[i],
			    &c->c_peers[i].p_policies[j], q, CONF_MAX_PEER_ADDRS);
	if ((sp = calloc(1, sizeof(*sp))) == NULL || (n > 0 &&
	    (sp->sp_slot = calloc((size_t)n, sizeof(*sp->sp_slot))) == NULL)) {
		free(sp);
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&show_pols, sp, sp_entry);
	sp->sp_kd = kd;
	sp->sp_req = req;
	/* Held while asking, so no early answer can end the request. */
	sp->sp_pending = 1;
	for (i = 0; c != NULL && i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++) {
			nq = conf_policy_spd(&c->c_peers[i],
			    &c->c_peers[i].p_policies[j], q, CONF_MAX_PEER_ADDRS);
			for (k = 0; k < nq && sp->sp_nslot < n; k++)
				show_pol_slot(sp, c->c_peers[i].p_name, &q[k]);
		}
	show_pol_release(sp);
}

void
daemon_ctl_fini(struct kinkd *kd)
{
	struct show_sa *ss, *next;
	struct show_pol *sp, *spnext;

	for (sp = TAILQ_FIRST(&show_pols); sp != NULL; sp = spnext) {
		spnext = TAILQ_NEXT(sp, sp_entry);
		if (sp->sp_kd != kd)
			continue;
		control_error(sp->sp_req, CTL_ERR_INTERNAL, "shutting down");
		show_pol_free(sp);
	}

	for (ss = TAILQ_FIRST(&show_sas); ss != NULL; ss = next) {
		next = TAILQ_NEXT(ss, ss_entry);
		if (ss->ss_kd != kd)
			continue;
		control_error(ss->ss_req, CTL_ERR_INTERNAL, "shutting down");
		show_sa_free(ss);
	}
}

static void
h_show_peers(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_peer *pe;
	struct ctl_peer cp;
	int i;

	TAILQ_FOREACH(pe, &kd->kd_eng.en_peers, pe_entry) {
		memset(&cp, 0, sizeof(cp));
		strlcpy(cp.cp_name, pe->pe_name, sizeof(cp.cp_name));
		strlcpy(cp.cp_principal, pe->pe_principal,
		    sizeof(cp.cp_principal));
		cp.cp_state = pe->pe_state;
		for (i = 0; pe->pe_conf != NULL && i < pe->pe_conf->p_naddrs &&
		    i < CTL_PEER_ADDR_MAX; i++)
			ctl_addr_from_sockaddr(&cp.cp_addr[cp.cp_naddr++],
			    (const struct sockaddr *)&pe->pe_conf->p_addrs[i]);
		cp.cp_epoch_known = pe->pe_epoch_known;
		cp.cp_epoch = pe->pe_epoch;
		if (krb_peer_offset(kd->kd_eng.en_krb, pe->pe_principal,
		    &cp.cp_clock_offset) != 0)
			cp.cp_clock_offset = 0;
		cp.cp_last_seen = (uint64_t)pe->pe_last_seen;
		cp.cp_nsa = (uint32_t)sarec_count(&kd->kd_eng, pe);
		strlcpy(cp.cp_lasterr, pe->pe_lasterr, sizeof(cp.cp_lasterr));
		cp.cp_lasterr_time = (uint64_t)pe->pe_lasterr_time;
		cp.cp_rto_ms = rtt_first_ms(&pe->pe_rtt,
		    kd->kd_eng.en_conf->c_retrans_ms,
		    kd->kd_eng.en_conf->c_retrans_max_ms);
		cp.cp_rtt_samples = pe->pe_rtt.re_samples;
		cp.cp_srtt_ms = pe->pe_rtt.re_srtt_ms;
		cp.cp_rttvar_ms = pe->pe_rtt.re_rttvar_ms;
		cp.cp_learned = pe->pe_learned;
		strlcpy(cp.cp_range, pe->pe_range, sizeof(cp.cp_range));
		strlcpy(cp.cp_how, pe->pe_how, sizeof(cp.cp_how));
		control_send_peer(req, &cp);
	}
	control_end(req);
}

static void
h_show_xact(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_xact *x;
	struct ctl_xact cx;
	uint64_t now = timer_now_ms();

	TAILQ_FOREACH(x, &kd->kd_eng.en_xacts, xa_entry) {
		if (x->xa_state == XS_DONE || x->xa_state == XS_FAILED)
			continue;
		memset(&cx, 0, sizeof(cx));
		cx.cx_xid = x->xa_xid;
		strlcpy(cx.cx_peer, x->xa_peer->pe_name, sizeof(cx.cx_peer));
		cx.cx_cmd = x->xa_cmd;
		cx.cx_role = x->xa_role;
		strlcpy(cx.cx_state, xact_state_name(x->xa_state),
		    sizeof(cx.cx_state));
		cx.cx_tries = x->xa_tries;
		cx.cx_age_ms = (uint32_t)(now - x->xa_start_ms);
		control_send_xact(req, &cx);
	}
	control_end(req);
}

static void
h_show_stats(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	int i;

	for (i = 0; i < STAT_MAX; i++)
		control_send_stat(req, stats_name(i), stats_get(i));
	/* Gauges next to the counters. */
	control_send_stat(req, "xact_active", (uint64_t)kd->kd_eng.en_nxact);
	control_send_stat(req, "sa_count", (uint64_t)kd->kd_eng.en_nsas);
	control_send_stat(req, "uptime_ms", timer_now_ms() - kd->kd_start_ms);
	control_end(req);
}

static void h_initiate(struct control_req *, const struct ctl_req *, void *);

/*
 * "initiate ADDRESS": a listed peer with that address, else the host of a
 * range (found first).  1 when the request was taken.
 */
static int
h_initiate_addr(struct control_req *req, const struct ctl_req *r,
    struct kinkd *kd)
{
	struct sockaddr_storage ss;
	struct conf_peer *cp;
	struct kink_peer *pe;
	struct xact_waiter *w;

	if (addr_parse(r->cr_peer, &ss) == -1)
		return 0;
	if ((cp = conf_peer_by_addr(kd->kd_eng.en_conf, addr_sa(&ss))) != NULL &&
	    (pe = peer_by_name(&kd->kd_eng, cp->p_name)) != NULL) {
		struct ctl_req r2 = *r;

		strlcpy(r2.cr_peer, pe->pe_name, sizeof(r2.cr_peer));
		h_initiate(req, &r2, kd);
		return 1;
	}
	if (conf_peer_by_range(kd->kd_eng.en_conf, addr_sa(&ss)) == NULL)
		return 0;
	if ((w = xact_waiter_new(req)) == NULL) {
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return 1;
	}
	w->w_pending = 1;
	if (site_initiate(&kd->kd_eng, addr_sa(&ss), r->cr_policy, 0, w) == -1)
		xact_waiter_done(w, 0, CTL_ERR_NOPEER, "address in no range");
	else
		xact_waiter_done(w, 1, 0, "");
	return 1;
}

static void
h_initiate(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_peer *pe;
	struct kink_policy *pol;
	struct xact_waiter *w;
	int i, n = 0;

	if ((pe = peer_by_name(&kd->kd_eng, r->cr_peer)) == NULL &&
	    h_initiate_addr(req, r, kd))
		return;
	if (pe == NULL || pe->pe_conf == NULL) {
		control_error(req, CTL_ERR_NOPEER, "no peer %s", r->cr_peer);
		return;
	}
	if (r->cr_policy[0] != '\0' &&
	    peer_policy(pe, r->cr_policy) == NULL) {
		control_error(req, CTL_ERR_NOPOLICY, "peer %s has no policy %s",
		    pe->pe_name, r->cr_policy);
		return;
	}
	if (pe->pe_conf->p_npolicies == 0) {
		control_error(req, CTL_ERR_NOPOLICY, "peer %s has no policies",
		    pe->pe_name);
		return;
	}
	if ((w = xact_waiter_new(req)) == NULL) {
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	/* One count held here, so no CREATE can end the request early. */
	w->w_pending = 1;
	for (i = 0; i < pe->pe_conf->p_npolicies; i++) {
		pol = &pe->pe_conf->p_policies[i];
		if (r->cr_policy[0] != '\0' &&
		    strcmp(pol->pol_name, r->cr_policy) != 0)
			continue;
		n++;
		if (xact_create_start(&kd->kd_eng, pe, pol, w, 0) == -1 &&
		    !w->w_failed) {
			w->w_failed = 1;
			w->w_code = CTL_ERR_FAILED;
			snprintf(w->w_text, sizeof(w->w_text),
			    "policy %s: CREATE not started (see the log)",
			    pol->pol_name);
		}
	}
	xact_waiter_done(w, 1, 0, "");
}

static void
h_delete_sa(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_sarec *sr;
	struct xact_waiter *w;

	if ((sr = sarec_find(&kd->kd_eng, 0, r->cr_spi, 0)) == NULL) {
		control_error(req, CTL_ERR_NOSA, "no SA with spi 0x%08x",
		    r->cr_spi);
		return;
	}
	if ((w = xact_waiter_new(req)) == NULL) {
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	w->w_pending = 1;
	if (xact_delete_start(&kd->kd_eng, sr->sr_pair, w) == -1 &&
	    !w->w_failed) {
		w->w_failed = 1;
		w->w_code = CTL_ERR_FAILED;
		strlcpy(w->w_text, "DELETE not started (see the log)",
		    sizeof(w->w_text));
	}
	xact_waiter_done(w, 1, 0, "");
}

static void
h_flush_sa(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_peer *pe = NULL;
	int n;

	if (r->cr_peer[0] != '\0' &&
	    (pe = peer_by_name(&kd->kd_eng, r->cr_peer)) == NULL) {
		control_error(req, CTL_ERR_NOPEER, "no peer %s", r->cr_peer);
		return;
	}
	/*
	 * The peer is told with one DELETE per XACT_DELETE_MAX_PAIRS pairs
	 * naming our inbound SPIs (so a flush of many pairs costs few
	 * transactions), then every SA of those pairs goes at once, without
	 * the grace timer: a flush is the admin's "now".
	 */
	n = xact_delete_tell(&kd->kd_eng, pe, NULL, NULL, "flushed", NULL);
	log_info("flush: %d SAs removed%s%s", n, pe ? " for peer " : "",
	    pe ? pe->pe_name : "");
	control_end(req);
}

static void
h_reload(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	char *err;

	if ((err = calloc(1, CTL_ERRTEXT_MAX)) == NULL) {
		control_error(req, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	if (reload_config(kd, r->cr_file[0] ? r->cr_file : NULL, err,
	    CTL_ERRTEXT_MAX) == 0)
		control_end(req);
	else
		control_error(req, CTL_ERR_CONF, "%s", err);
	free(err);
}

static void
reconcile_answer(void *arg, int err, const struct reconcile_result *rr)
{
	struct control_req *req = arg;

	if (err != 0) {
		control_error(req, CTL_ERR_FAILED, "the kernel's SAs could not "
		    "be read; nothing changed (see the log)");
		return;
	}
	control_send_stat(req, "reconcile_lost", (uint64_t)rr->rr_lost);
	control_send_stat(req, "reconcile_orphans", (uint64_t)rr->rr_orphans);
	control_send_stat(req, "reconcile_spd", (uint64_t)rr->rr_spd);
	control_end(req);
}

static void
h_reconcile(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;

	if (reconcile_start(kd, "kinkctl", reconcile_answer, req) == -1)
		control_error(req, CTL_ERR_FAILED, "reconcile not started "
		    "(see the log)");
}

static void
h_log(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;

	switch (r->cr_level) {
	case CTL_LOG_VERBOSE:
		log_setverbose(kd->kd_verbose + 2);
		break;
	case CTL_LOG_DEBUG:
		log_setverbose(3);
		break;
	case CTL_LOG_INFO:
		log_setverbose(0);
		break;
	case CTL_LOG_WARNING:
		log_setverbose(-1);
		break;
	default:
		log_setverbose(kd->kd_verbose + kd->kd_eng.en_conf->c_verbose);
		break;
	}
	control_end(req);
}

/*
 * Our keys in the keytab now (kvno and enctype, as klist -k: a key
 * replaced under a running kinkd shows here) and the TGT's end, when the
 * worker has one.  Read per request: a local file, no KDC.
 */
static void
self_keys(struct control_req *req, struct kinkd *kd)
{
	const char *kt = kd->kd_eng.en_conf->c_keytab;
	struct krb_kt_entry e[KRB_KT_MAX];
	char why[512], when[32];
	struct tm tm;
	time_t end;
	int i, n;

	n = kt == NULL ? -1 : krb_keytab_keys(kt, kd->kd_eng.en_principal, e,
	    KRB_KT_MAX, why, sizeof(why));
	if (n == -1)
		control_send_info(req, "keytab_error", "%s", kt == NULL ?
		    "no keytab" : why);
	else if (n == 0)
		control_send_info(req, "keytab_error", "no key for %s",
		    kd->kd_eng.en_principal);
	for (i = 0; i < n && i < KRB_KT_MAX; i++)
		control_send_info(req, "key", "kvno %d %s", e[i].kte_kvno,
		    e[i].kte_etype);
	if ((end = krb_ctx_tgt_endtime(kd->kd_eng.en_krb)) != 0 &&
	    gmtime_r(&end, &tm) != NULL &&
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		control_send_info(req, "tgt_expires", "%s", when);
}

/*
 * What the kernel can install, as the backend learnt it at start (PF_KEY
 * SADB_REGISTER, or the crypto API for XFRM); nothing from a backend
 * that cannot tell (null, the privsep proxy).
 */
static void
self_kernel_algs(struct control_req *req, struct sadb *sd)
{
	struct sadb_caps caps;
	char names[256];

	if (sadb_caps(sd, &caps) == -1)
		return;
	control_send_info(req, "kernel_algs", "%s", caps.kc_source);
	sadb_caps_names(&caps, 1, names, sizeof(names));
	control_send_info(req, "kernel_enc", "%s", names);
	sadb_caps_names(&caps, 0, names, sizeof(names));
	control_send_info(req, "kernel_auth", "%s", names);
	/* IPComp's source is always the files (sadb.h): no name of its own. */
	if (caps.kc_comp_known) {
		sadb_caps_names(&caps, 2, names, sizeof(names));
		control_send_info(req, "kernel_comp", "%s", names);
	}
}

/*
 * Who this kinkd is, for an admin asking why nothing happens: version,
 * identity and where it listens, as one INFO record per fact.
 */
static void
h_show_self(struct control_req *req, const struct ctl_req *r, void *arg)
{
	struct kinkd *kd = arg;
	const struct kink_conf *c = kd->kd_eng.en_conf;
	char a[ADDR_STRLEN];

	(void)r;
	control_send_info(req, "version", "%s", kink_version);
	control_send_info(req, "principal", "%s", kd->kd_eng.en_principal);
	control_send_info(req, "keytab", "%s", c->c_keytab ? c->c_keytab : "");
	self_keys(req, kd);
	control_send_info(req, "krb_workers", "%d",
	    krb_workers(kd->kd_eng.en_krb));
	control_send_info(req, "config", "%s", kd->kd_conf_path);
	control_send_info(req, "socket", "%s", kd->kd_sockpath);
	control_send_info(req, "backend", "%s",
	    sadb_backend(kd->kd_eng.en_sadb));
	self_kernel_algs(req, kd->kd_eng.en_sadb);
	/* The pid the pidfile and init know: the broker's under privsep. */
	control_send_info(req, "pid", "%d", (int)(kd->kd_privsep_fd != -1 ?
	    getppid() : getpid()));
	control_send_info(req, "uptime_s", "%llu", (unsigned long long)
	    ((timer_now_ms() - kd->kd_start_ms) / 1000));
	for (int i = 0; i < c->c_nlisten; i++) {
		addr_ntop(addr_sa(&c->c_listen[i].l_addr), a, sizeof(a));
		control_send_info(req, "listen", "%s port %u", a,
		    (unsigned)addr_port(addr_sa(&c->c_listen[i].l_addr)));
	}
	control_end(req);
}

const struct control_handlers kinkd_ctl_handlers = {
	.h_show_sa = h_show_sa,
	.h_show_peers = h_show_peers,
	.h_show_xact = h_show_xact,
	.h_show_stats = h_show_stats,
	.h_initiate = h_initiate,
	.h_delete_sa = h_delete_sa,
	.h_flush_sa = h_flush_sa,
	.h_reload = h_reload,
	.h_log = h_log,
	.h_show_self = h_show_self,
	.h_reconcile = h_reconcile,
	.h_show_policies = h_show_policies,
};
