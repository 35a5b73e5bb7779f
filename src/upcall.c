/*
 * Kernel upcalls (sadb ACQUIRE and EXPIRE) turned into exchanges: an
 * ACQUIRE starts a CREATE for the policy with that reqid (not one for
 * IPComp while a pair is in force: comp_unwanted()), a soft expiry
 * has the SA's initiator rekey (RFC 4430 3.6), a hard expiry deletes the
 * pair with the peer.  Above the exchanges; the sadb backend calls
 * upcall_sadb() through the pointer given to sadb_new().
 */
#include <sys/queue.h>

#include <string.h>

#include "conf.h"
#include "isakmp_num.h"
#include "engine.h"
#include "log.h"
#include "peer.h"
#include "sadb.h"
#include "sarec.h"
#include "site.h"
#include "stats.h"
#include "upcall.h"
#include "xact.h"

/*
 * An ACQUIRE for IPComp while a pair of the policy is in force: the
 * policy's optional IPComp template (on when any suite has IPComp) found
 * no IPComp SA because the peer chose a suite without it.  The kernel
 * asks again every larval lifetime; a CREATE would make a new pair each
 * time and the peer would choose the same.  Logged once per pair.
 */
static int
comp_unwanted(struct kink_engine *en, const struct sadb_event *ev,
    struct kink_peer *pe, const struct kink_policy *pol)
{
	struct kink_sarec *sr;

	if (ev->ev_proto != PROTO_IPCOMP ||
	    (sr = sarec_live_out(en, pe, pol->pol_name)) == NULL)
		return 0;
	if (!sr->sr_acq_noted) {
		sr->sr_acq_noted = 1;
		log_debug("peer %s chose no IPComp; policy %s: ACQUIRE for "
		    "IPComp ignored while pair %u is in force", pe->pe_name,
		    pol->pol_name, sr->sr_pair);
	}
	return 1;
}

/* A range peer's ACQUIRE for IPComp its learned host does not need. */
static int
site_comp_unwanted(struct kink_engine *en, const struct sadb_event *ev)
{
	struct kink_peer *pe;
	int i;

	if (ev->ev_proto != PROTO_IPCOMP || (pe = site_peer_by_addr(en,
	    (const struct sockaddr *)&ev->ev_dst)) == NULL || pe->pe_conf ==
	    NULL)
		return 0;
	for (i = 0; i < pe->pe_conf->p_npolicies; i++)
		if (pe->pe_conf->p_policies[i].pol_reqid == ev->ev_reqid)
			return comp_unwanted(en, ev, pe,
			    &pe->pe_conf->p_policies[i]);
	return 0;
}

void
upcall_sadb(const struct sadb_event *ev, void *arg)
{
	struct kink_engine *en = arg;
	struct kink_policy *pol;
	struct kink_peer *pe;
	struct kink_sarec *sr;

	if (en->en_stopping)
		return;
	switch (ev->ev_type) {
	case SADB_EV_ACQUIRE:
		stats_inc(STAT_ACQUIRE);
		/* A range peer's policy: the host is found first. */
		if (site_reqid(en, ev->ev_reqid)) {
			if (site_comp_unwanted(en, ev))
				return;
			if (site_initiate(en, (const struct sockaddr *)
			    &ev->ev_dst, "", ev->ev_reqid, NULL) == -1)
				log_info("ACQUIRE for reqid %u: destination "
				    "in no range", ev->ev_reqid);
			return;
		}
		if ((pe = peer_by_reqid(en, ev->ev_reqid, &pol)) == NULL) {
			log_info("ACQUIRE for reqid %u: no such policy",
			    ev->ev_reqid);
			return;
		}
		if (comp_unwanted(en, ev, pe, pol))
			return;
		if (xact_create_in_progress(en, pe, pol->pol_name)) {
			log_debug("peer %s policy %s: ACQUIRE while a CREATE "
			    "is running", pe->pe_name, pol->pol_name);
			return;
		}
		log_info("peer %s policy %s: ACQUIRE, starting CREATE",
		    pe->pe_name, pol->pol_name);
		xact_create_start(en, pe, pol, NULL, 0);
		break;
	case SADB_EV_EXPIRE_SOFT:
		stats_inc(STAT_EXPIRE_SOFT);
		if ((sr = sarec_find_dst(en, &ev->ev_sa.sa_dst,
		    ev->ev_sa.sa_proto, ev->ev_sa.sa_spi)) == NULL)
			return;
		/*
		 * Each SA of the pair has its own soft lifetime, so each
		 * expires on its own: the first one rekeys the whole pair
		 * and the others find it dying.
		 */
		if (sr->sr_state != CTL_SA_MATURE ||
		    sarec_pair_dying(en, sr->sr_pair) == 0)
			return;
		pe = sr->sr_peer;
		sarec_pair_why(en, sr->sr_pair, sr->sr_initiator ?
		    "expired (soft), rekey pending" :
		    "expired (soft), the peer rekeys");
		/* The SA's initiator rekeys (3.6); the responder waits. */
		if (!sr->sr_initiator ||
		    (pol = peer_policy(pe, sr->sr_policy)) == NULL)
			return;
		log_info("peer %s policy %s: soft expiry of spi 0x%08x, "
		    "rekeying", pe->pe_name, pol->pol_name, sr->sr_sa.sa_spi);
		xact_create_start(en, pe, pol, NULL, sr->sr_pair);
		break;
	case SADB_EV_EXPIRE_HARD:
		stats_inc(STAT_EXPIRE_HARD);
		if ((sr = sarec_find_dst(en, &ev->ev_sa.sa_dst,
		    ev->ev_sa.sa_proto, ev->ev_sa.sa_spi)) == NULL)
			return;
		{
			uint32_t pair = sr->sr_pair;

			log_info("peer %s: hard expiry of spi 0x%08x, "
			    "deleting its pair with the peer",
			    sr->sr_peer->pe_name, sr->sr_sa.sa_spi);
			/*
			 * The kernel dropped this one (no backend delete for
			 * it), but the peer's twins may outlive it: its
			 * kernel counts time and bytes on its own clock and
			 * traffic.  A DELETE (3.3) names our inbound SPIs,
			 * the expired one included, so the peer drops both
			 * directions; our outbound twin goes now, the rest
			 * after the REPLY and delete-grace (docs/arch).
			 */
			sr->sr_installed = 0;
			sr->sr_state = CTL_SA_DYING;
			sarec_why(sr, "expired (hard): the kernel "
			    "removed it");
			if (xact_delete_start(en, pair, NULL) == -1)
				sarec_pair_del(en, pair, "twin expired");
		}
		break;
	}
}
