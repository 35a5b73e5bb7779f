/*
 * STATUS (RFC 4430 sections 3.4, 3.7, 6.5): a bare AP-REQ is a probe; the
 * REPLY's verified AP-REP (and EPOCH, checked in xact.c) is the answer.
 * No answer only makes the peer "suspected": nothing unauthenticated, and
 * no silence, removes SAs.  A changed EPOCH does, in peer_epoch().
 */
#include <sys/socket.h>

#include <string.h>

#include "conf.h"
#include "control.h"
#include "isakmp_num.h"
#include "kink.h"
#include "kinkd.h"
#include "log.h"
#include "net.h"
#include "peer.h"
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
status_start(struct kinkd *kd, struct kink_peer *pe, struct xact_waiter *w)
{
	struct conf_peer *cp = pe->pe_conf;
	struct kink_sarec *sr;
	struct kink_xact *x;

	if ((x = xact_new(kd, pe, xact_new_xid(kd), XR_INIT,
	    KINK_MSGTYPE_STATUS)) == NULL)
		return -1;
	xact_wait(x, w);
	/* Where our SAs with the peer are, else its first address. */
	TAILQ_FOREACH(sr, &kd->kd_sas, sr_entry)
		if (sr->sr_peer == pe && sr->sr_sa.sa_dir == SA_DIR_IN) {
			x->xa_remote = sr->sr_sa.sa_src;
			x->xa_local = sr->sr_sa.sa_dst;
			break;
		}
	if (x->xa_remote.ss_family == 0) {
		if (cp == NULL || cp->p_naddrs == 0) {
			xact_fail(x, CTL_ERR_FAILED, "peer has no address");
			return -1;
		}
		x->xa_remote = cp->p_addrs[0];
		if (cp->p_local.ss_family == x->xa_remote.ss_family)
			x->xa_local = cp->p_local;
		else if (net_local_for(kd->kd_net, &x->xa_remote,
		    &x->xa_local) == -1) {
			xact_fail(x, CTL_ERR_FAILED, "no local address");
			return -1;
		}
	}
	net_set_port(&x->xa_remote, kd->kd_conf->c_port);
	net_set_port(&x->xa_local, kd->kd_conf->c_port);
	if (w == NULL)
		pe->pe_probe = x;
	return xact_get_ticket(x, status_send);
}

void
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

void
status_giveup(struct kink_xact *x)
{
	struct kink_peer *pe = x->xa_peer;

	if (pe->pe_state != CTL_PEER_SUSPECTED) {
		pe->pe_state = CTL_PEER_SUSPECTED;
		kinkd_event(x->xa_kd, CTL_EV_PEER_STATE, pe->pe_name, 0,
		    "suspected");
	}
	log_info("peer %s: no answer to STATUS; SAs kept until it proves "
	    "otherwise", pe->pe_name);
}

void
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
