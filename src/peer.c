/* Peer table, EPOCH tracking, dead-peer timer, SA records. */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "kinkd.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sadb.h"
#include "stats.h"
#include "xact.h"

static void	peer_dpd(void *);

struct kink_peer *
peer_new(struct kinkd *kd, struct conf_peer *cp)
{
	struct kink_peer *pe;

	if ((pe = calloc(1, sizeof(*pe))) == NULL) {
		log_warn("peer_new");
		return NULL;
	}
	pe->pe_kd = kd;
	pe->pe_conf = cp;
	strlcpy(pe->pe_name, cp->p_name, sizeof(pe->pe_name));
	strlcpy(pe->pe_principal, cp->p_principal, sizeof(pe->pe_principal));
	pe->pe_state = CTL_PEER_UNKNOWN;
	if (timer_init(&pe->pe_dpd, kd->kd_base, peer_dpd, pe) == -1) {
		free(pe);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&kd->kd_peers, pe, pe_entry);
	return pe;
}

void
peer_free(struct kink_peer *pe)
{
	struct kinkd *kd;

	if (pe == NULL)
		return;
	kd = pe->pe_kd;
	timer_fini(&pe->pe_dpd);
	xact_abort_peer(kd, pe, "peer removed");
	u2u_probe_cancel(pe);
	u2u_forget(pe, 1);
	peer_sa_flush(kd, pe, "peer removed");
	TAILQ_REMOVE(&kd->kd_peers, pe, pe_entry);
	free(pe);
}

struct kink_peer *
peer_by_name(struct kinkd *kd, const char *name)
{
	struct kink_peer *pe;

	TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry)
		if (strcmp(pe->pe_name, name) == 0)
			return pe;
	return NULL;
}

struct kink_peer *
peer_by_principal(struct kinkd *kd, const char *princ)
{
	struct kink_peer *pe;

	TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry)
		if (strcmp(pe->pe_principal, princ) == 0)
			return pe;
	return NULL;
}

int
peer_nsa(const struct kink_peer *pe)
{
	struct kink_sarec *sr;
	int n = 0;

	TAILQ_FOREACH(sr, &pe->pe_kd->kd_sas, sr_entry)
		if (sr->sr_peer == pe)
			n++;
	return n;
}

void
peer_seen(struct kink_peer *pe)
{
	pe->pe_last_seen = time(NULL);
	pe->pe_last_ms = timer_now_ms();
	if (pe->pe_state != CTL_PEER_ALIVE) {
		if (pe->pe_state == CTL_PEER_SUSPECTED) {
			log_info("peer %s: alive again", pe->pe_name);
			kinkd_event(pe->pe_kd, CTL_EV_PEER_STATE, pe->pe_name,
			    0, "alive");
		}
		pe->pe_state = CTL_PEER_ALIVE;
	}
	peer_dpd_arm(pe);
}

int
peer_epoch(struct kink_peer *pe, uint32_t epoch, uint32_t keep_pair)
{
	struct kinkd *kd = pe->pe_kd;
	struct kink_sarec *sr, *next;
	int n = 0;

	if (epoch == 0) {
		/* racoon2 does the same: 0 carries no information. */
		log_debug("peer %s: EPOCH 0 ignored", pe->pe_name);
		return 0;
	}
	if (!pe->pe_epoch_known) {
		pe->pe_epoch_known = 1;
		pe->pe_epoch = epoch;
		return 0;
	}
	if (pe->pe_epoch == epoch)
		return 0;
	for (sr = TAILQ_FIRST(&kd->kd_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (sr->sr_peer != pe ||
		    (keep_pair && sr->sr_pair == keep_pair))
			continue;
		peer_sa_del(sr, "peer restarted");
		n++;
	}
	log_info("peer %s: restarted (EPOCH 0x%08x -> 0x%08x), %d SAs removed",
	    pe->pe_name, pe->pe_epoch, epoch, n);
	kinkd_event(kd, CTL_EV_PEER_EPOCH, pe->pe_name, 0,
	    "epoch 0x%08x -> 0x%08x, %d SAs removed", pe->pe_epoch, epoch, n);
	stats_inc(STAT_EPOCH_CHANGE);
	pe->pe_epoch = epoch;
	/* A restarted peer reuses XIDs: its old REPLYs must not answer. */
	xact_flush_cache(kd, pe);
	return 1;
}

void
peer_dpd_arm(struct kink_peer *pe)
{
	uint32_t ms = pe->pe_kd->kd_conf->c_deadpeer_ms;

	timer_del(&pe->pe_dpd);
	if (ms > 0)
		timer_add_ms(&pe->pe_dpd, ms);
}

/*
 * The dead-peer interval passed without authenticated traffic: probe with
 * STATUS.  Only a
 * verified answer (or EPOCH) changes anything: silence makes the peer
 * "suspected", never dead.
 */
static void
peer_dpd(void *arg)
{
	struct kink_peer *pe = arg;
	struct kinkd *kd = pe->pe_kd;

	if (kd->kd_stopping)
		return;
	peer_dpd_arm(pe);
	/*
	 * Worth probing: a peer we hold SAs with, or one we have talked to
	 * (a probe then also learns its EPOCH, i.e. whether it restarted).
	 */
	if (pe->pe_probe != NULL || (peer_nsa(pe) == 0 &&
	    pe->pe_last_seen == 0))
		return;
	if (pe->pe_last_ms != 0 &&
	    timer_now_ms() - pe->pe_last_ms < kd->kd_conf->c_deadpeer_ms)
		return;
	/* Suspected only once the probe goes unanswered (status_giveup). */
	log_debug("peer %s: silent for %u ms, probing with STATUS",
	    pe->pe_name, kd->kd_conf->c_deadpeer_ms);
	status_start(kd, pe, NULL);
}

/* ---- SA records ------------------------------------------------------ */

static void
sarec_grace(void *arg)
{
	peer_sa_del(arg, "delete grace over");
}

static const char *
proto_name(uint8_t proto)
{
	return proto == PROTO_IPSEC_AH ? "ah" : "esp";
}

struct kink_sarec *
peer_sa_add(struct kink_peer *pe, const char *policy, uint32_t reqid,
    uint32_t pair, int initiator, const struct kink_sa *sa, int replace)
{
	struct kinkd *kd = pe->pe_kd;
	struct kink_sarec *sr;
	char a[NET_ADDRSTRLEN];

	if (replace && (sr = peer_sa_find(kd, sa->sa_proto, sa->sa_spi,
	    sa->sa_dir)) != NULL && sr->sr_peer == pe) {
		sa_free_keys(&sr->sr_sa);
		sr->sr_sa = *sa;
		sr->sr_pair = pair;
	} else {
		if ((sr = calloc(1, sizeof(*sr))) == NULL) {
			log_warn("peer_sa_add");
			return NULL;
		}
		if (timer_init(&sr->sr_timer, kd->kd_base, sarec_grace,
		    sr) == -1) {
			free(sr);
			return NULL;
		}
		sr->sr_peer = pe;
		strlcpy(sr->sr_policy, policy, sizeof(sr->sr_policy));
		sr->sr_reqid = reqid;
		sr->sr_pair = pair;
		sr->sr_initiator = initiator;
		sr->sr_created = time(NULL);
		sr->sr_sa = *sa;
		TAILQ_INSERT_TAIL(&kd->kd_sas, sr, sr_entry);
		kd->kd_nsas++;
		replace = 0;
	}
	sr->sr_state = CTL_SA_MATURE;
	sr->sr_installed = 1;
	sr->sr_sa.sa_reqid = reqid;
	if (sadb_add(kd->kd_sadb, &sr->sr_sa, replace, kinkd_sadb_done,
	    (void *)"add SA") == -1)
		log_warnx("peer %s: sadb add failed", pe->pe_name);
	stats_inc(STAT_SA_ADD);
	log_debug("peer %s: SA %s %s spi 0x%08x to %s installed%s",
	    pe->pe_name, sa->sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sa->sa_proto), sa->sa_spi,
	    net_ntop((const struct sockaddr *)&sa->sa_dst, a, sizeof(a)),
	    replace ? " (keys replaced)" : "");
	/* A key replacement is no new SA: tests count sa-add per SA. */
	kinkd_event(kd, replace ? PEER_EV_SA_UPDATE : CTL_EV_SA_ADD,
	    pe->pe_name, 0, "%s %s spi 0x%08x policy %s",
	    sa->sa_dir == SA_DIR_IN ? "in" : "out", proto_name(sa->sa_proto),
	    sa->sa_spi, policy);
	return sr;
}

void
peer_sa_forget(struct kink_sarec *sr)
{
	struct kinkd *kd = sr->sr_peer->pe_kd;

	timer_fini(&sr->sr_timer);
	TAILQ_REMOVE(&kd->kd_sas, sr, sr_entry);
	kd->kd_nsas--;
	stats_inc(STAT_SA_DEL);
	kinkd_event(kd, CTL_EV_SA_DEL, sr->sr_peer->pe_name, 0,
	    "%s %s spi 0x%08x", sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi);
	sa_free_keys(&sr->sr_sa);
	free(sr);
}

void
peer_sa_del(struct kink_sarec *sr, const char *why)
{
	struct kinkd *kd = sr->sr_peer->pe_kd;

	log_debug("peer %s: SA %s %s spi 0x%08x removed: %s",
	    sr->sr_peer->pe_name, sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi, why);
	if (sr->sr_installed && sadb_del(kd->kd_sadb, &sr->sr_sa,
	    kinkd_sadb_done, (void *)"delete SA") == -1)
		log_warnx("peer %s: sadb delete failed", sr->sr_peer->pe_name);
	peer_sa_forget(sr);
}

void
peer_sa_del_later(struct kink_sarec *sr, uint32_t ms)
{
	if (ms == 0) {
		peer_sa_del(sr, "deleted");
		return;
	}
	sr->sr_state = CTL_SA_DYING;
	if (!timer_pending(&sr->sr_timer))
		timer_add_ms(&sr->sr_timer, ms);
}

struct kink_sarec *
peer_sa_find(struct kinkd *kd, uint8_t proto, uint32_t spi, uint8_t dir)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &kd->kd_sas, sr_entry)
		if (sr->sr_sa.sa_spi == spi && (proto == 0 ||
		    sr->sr_sa.sa_proto == proto) && (dir == 0 ||
		    sr->sr_sa.sa_dir == dir))
			return sr;
	return NULL;
}

int
peer_pair_del(struct kinkd *kd, uint32_t pair, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	for (sr = TAILQ_FIRST(&kd->kd_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (sr->sr_pair == pair) {
			peer_sa_del(sr, why);
			n++;
		}
	}
	return n;
}

int
peer_sa_flush(struct kinkd *kd, struct kink_peer *pe, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	for (sr = TAILQ_FIRST(&kd->kd_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (pe == NULL || sr->sr_peer == pe) {
			peer_sa_del(sr, why);
			n++;
		}
	}
	return n;
}
