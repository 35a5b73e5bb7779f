/*
 * STATUS (RFC 4430 sections 3.4, 3.7, 6.5): a bare AP-REQ is a probe; the
 * REPLY's verified AP-REP (and EPOCH, checked in xact.c) is the answer.
 * No answer only makes the peer "suspected": nothing unauthenticated, and
 * no silence, removes SAs.  A changed EPOCH does (xact_input.c).
 *
 * Dead-peer detection lives here too: it is STATUS sent on a timer.
 */
#include <sys/socket.h>

#include <string.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "isakmp_num.h"
#include "kink.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sarec.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

static void
status_send(struct kink_xact *x)
{
	if (xact_build_cmd(x) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the STATUS");
		return;
	}
	if (xact_state(x, XS_I_STATUS) == 0) {
		stats_inc(STAT_STATUS_SENT);
		xact_send_first(x);
	}
}

int
xact_status_start(struct kink_engine *en, struct kink_peer *pe,
    struct xact_waiter *w)
{
	struct conf_peer *cp = pe->pe_conf;
	struct kink_sarec *sr;
	struct kink_xact *x;

	if ((x = xact_new(en, pe, xact_new_xid(en), XR_INIT,
	    KINK_MSGTYPE_STATUS)) == NULL)
		return -1;
	xact_wait(x, w);
	/* Where our SAs with the peer are, else its first address. */
	if ((sr = sarec_first_dir(en, pe, SA_DIR_IN)) != NULL) {
		sa_addr_get(&sr->sr_sa.sa_src, &x->xa_remote);
		sa_addr_get(&sr->sr_sa.sa_dst, &x->xa_local);
	}
	if (x->xa_remote.ss_family == 0) {
		if (cp == NULL || cp->p_naddrs == 0) {
			xact_fail(x, CTL_ERR_FAILED, "peer has no address");
			return -1;
		}
		x->xa_remote = cp->p_addrs[0];
		if (cp->p_local.ss_family == x->xa_remote.ss_family)
			x->xa_local = cp->p_local;
		else if (engine_local_for(en, &x->xa_remote,
		    &x->xa_local) == -1) {
			xact_fail(x, CTL_ERR_FAILED, "no local address");
			return -1;
		}
	}
	addr_set_port(&x->xa_remote, en->en_conf->c_port);
	addr_set_port(&x->xa_local, en->en_conf->c_port);
	if (w == NULL)
		pe->pe_probe = x;
	return xact_gettgt_ticket(x, status_send);
}

static void
status_reply(struct kink_xact *x, const struct kink_msg *m)
{
	if (x->xa_state != XS_I_STATUS) {
		stats_inc(STAT_DROP_STATE);
		return;
	}
	xact_complete(x, 1, 0, "peer alive%s", wire_has(m, KINK_ERROR) ?
	    " (with KINK_ERROR)" : "");
	xact_state(x, XS_DONE);
}

static void
status_giveup(struct kink_xact *x)
{
	struct kink_peer *pe = x->xa_peer;

	if (pe->pe_state != CTL_PEER_SUSPECTED) {
		pe->pe_state = CTL_PEER_SUSPECTED;
		engine_event(x->xa_en, CTL_EV_PEER_STATE, pe->pe_name, 0,
		    "suspected");
	}
	log_info("peer %s: no answer to STATUS; SAs kept until it proves "
	    "otherwise", pe->pe_name);
}

static void
status_respond(struct kink_xact *x, const struct kink_msg *m)
{
	/* Notify payloads are only logged; the answer is a bare REPLY. */
	if (m->m_nisakmp > 0)
		log_debug(XFMT "STATUS carries %u KINK_ISAKMP payloads",
		    XARG(x), m->m_nisakmp);
	if (xact_build_reply(x, 0, 0, NULL, 0) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the REPLY");
		return;
	}
	xact_send(x, 0);
	xact_complete(x, 1, 0, "answered");
	xact_state(x, XS_R_CACHE);
}

static int
status_restart(struct kink_xact *old, struct xact_waiter *w)
{
	return xact_status_start(old->xa_en, old->xa_peer, w);
}

/* ---- dead-peer detection ------------------------------------------------ */

void
xact_status_seen(struct kink_peer *pe)
{
	pe->pe_last_seen = time(NULL);
	pe->pe_last_ms = timer_now_ms();
	if (pe->pe_state != CTL_PEER_ALIVE) {
		if (pe->pe_state == CTL_PEER_SUSPECTED) {
			log_info("peer %s: alive again", pe->pe_name);
			engine_event(pe->pe_en, CTL_EV_PEER_STATE, pe->pe_name,
			    0, "alive");
		}
		pe->pe_state = CTL_PEER_ALIVE;
	}
	xact_status_dpd_arm(pe);
}

void
xact_status_dpd_arm(struct kink_peer *pe)
{
	uint32_t ms = pe->pe_en->en_conf->c_deadpeer_ms;

	/*
	 * Both ends of a pair arm at the same moment (their exchange), so
	 * both would probe together, each needing its own service ticket for
	 * the other.  An end that never initiated to the peer (it has no
	 * ticket for it) waits 1/4 longer: the initiator's probe re-arms it
	 * first, and a live pair costs one STATUS per interval and no second
	 * ticket; if the initiator goes silent, this end still probes.
	 */
	if (!pe->pe_initiated)
		ms += ms / 4;
	timer_del(&pe->pe_dpd);
	/* A peer removed by reload is only finishing its DELETEs. */
	if (ms > 0 && !pe->pe_retired)
		timer_add_ms(&pe->pe_dpd, ms);
}

/*
 * The dead-peer interval passed without authenticated traffic: probe with
 * STATUS.  Only a verified answer (or EPOCH) changes anything: silence
 * makes the peer "suspected", never dead.
 */
static void
status_dpd(void *arg)
{
	struct kink_peer *pe = arg;
	struct kink_engine *en = pe->pe_en;

	if (en->en_stopping)
		return;
	xact_status_dpd_arm(pe);
	/*
	 * Worth probing: a peer we hold SAs with, or one we have talked to
	 * (a probe then also learns its EPOCH, i.e. whether it restarted).
	 */
	if (pe->pe_probe != NULL || (sarec_count(en, pe) == 0 &&
	    pe->pe_last_seen == 0))
		return;
	/*
	 * Traffic re-arms the timer, so this is only a guard; its slack
	 * absorbs a timer that fires a tick early, which skipped a whole
	 * interval and let the other end (armed 1/4 later) probe first.
	 */
	if (pe->pe_last_ms != 0 && timer_now_ms() - pe->pe_last_ms <
	    en->en_conf->c_deadpeer_ms - en->en_conf->c_deadpeer_ms / 8)
		return;
	/* Suspected only once the probe goes unanswered (status_giveup). */
	log_debug("peer %s: silent for %u ms, probing with STATUS",
	    pe->pe_name, en->en_conf->c_deadpeer_ms);
	xact_status_start(en, pe, NULL);
}

/*
 * RFC 4430 3.7: ICMP unreachable "SHOULD" be taken as a hint to check the
 * peer.  Unauthenticated, so it only starts the STATUS probe dead-peer
 * detection would send later, to a peer that dead-peer detection would
 * probe (SAs with it, or talked to); the probe's own outcome decides (an
 * answer: alive; silence: suspected, SAs kept).  Rate: no probe in
 * flight, and one per peer per retransmission cycle (at least 1 s).
 */
void
xact_status_icmp(void *arg, const struct sockaddr_storage *dst,
    const char *what)
{
	struct kink_engine *en = arg;
	struct kink_peer *pe;
	struct conf_peer *cp;
	char a[ADDR_STRLEN];
	uint64_t now = timer_now_ms(), gap;

	if (en->en_stopping || addr_port((const struct sockaddr *)dst) !=
	    en->en_conf->c_port)
		return;
	cp = conf_peer_by_addr(en->en_conf, (const struct sockaddr *)dst);
	if (cp == NULL || (pe = peer_by_name(en, cp->p_name)) == NULL)
		return;
	/* As for the dead-peer timer: a peer we hold SAs with or talked to. */
	if (sarec_count(en, pe) == 0 && pe->pe_last_seen == 0)
		return;
	gap = xact_cycle_ms(en);
	if (gap < 1000)
		gap = 1000;
	if (pe->pe_probe != NULL || (pe->pe_icmp_ms != 0 &&
	    now - pe->pe_icmp_ms < gap))
		return;
	pe->pe_icmp_ms = now;
	stats_inc(STAT_ICMP_PROBE);
	log_info("peer %s: ICMP %s from %s port %u: probing with STATUS "
	    "(a hint, not a verdict)", pe->pe_name, what,
	    addr_ntop((const struct sockaddr *)dst, a, sizeof(a)),
	    addr_port((const struct sockaddr *)dst));
	xact_status_start(en, pe, NULL);
}

static int
status_peer_new(struct kink_peer *pe)
{
	return timer_init(&pe->pe_dpd, pe->pe_en->en_base, status_dpd, pe);
}

static void
status_peer_gone(struct kink_peer *pe)
{
	timer_fini(&pe->pe_dpd);
}

const struct xact_ops xact_status_ops = {
	.xo_type = KINK_MSGTYPE_STATUS,
	.xo_respond = status_respond,
	.xo_reply = status_reply,
	.xo_giveup = status_giveup,
	.xo_restart = status_restart,
	.xo_peer_new = status_peer_new,
	.xo_peer_gone = status_peer_gone,
};
