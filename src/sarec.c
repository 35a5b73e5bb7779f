/* SA records (see sarec.h): the table and its backend calls. */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "ctl.h"
#include "isakmp_num.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sadb.h"
#include "sarec.h"
#include "stats.h"

static void
sarec_grace(void *arg)
{
	sarec_del(arg, "delete grace over");
}

static const char *
proto_name(uint8_t proto)
{
	return proto == PROTO_IPSEC_AH ? "ah" : "esp";
}

struct kink_sarec *
sarec_add(struct kink_engine *en, struct kink_peer *pe, const char *policy,
    uint32_t reqid, uint32_t pair, int initiator, const struct kink_sa *sa,
    int replace)
{
	struct kink_sarec *sr;

	sarec_add_cb(en, pe, policy, reqid, pair, initiator, sa, replace,
	    sadb_done_log, (void *)"add SA", &sr);
	return sr;
}

int
sarec_add_cb(struct kink_engine *en, struct kink_peer *pe,
    const char *policy, uint32_t reqid, uint32_t pair, int initiator,
    const struct kink_sa *sa, int replace, sadb_done_cb cb, void *arg,
    struct kink_sarec **srp)
{
	struct kink_sarec *sr;
	int rc = 0;
	char a[ADDR_STRLEN];

	if (replace && (sr = sarec_find(en, sa->sa_proto, sa->sa_spi,
	    sa->sa_dir)) != NULL && sr->sr_peer == pe) {
		sa_free_keys(&sr->sr_sa);
		sr->sr_sa = *sa;
		sr->sr_pair = pair;
	} else {
		*srp = NULL;
		if ((sr = calloc(1, sizeof(*sr))) == NULL) {
			log_warn("sarec_add");
			return -1;
		}
		if (timer_init(&sr->sr_timer, en->en_base, sarec_grace,
		    sr) == -1) {
			free(sr);
			return -1;
		}
		sr->sr_en = en;
		sr->sr_peer = pe;
		strlcpy(sr->sr_policy, policy, sizeof(sr->sr_policy));
		sr->sr_reqid = reqid;
		sr->sr_pair = pair;
		sr->sr_initiator = initiator;
		sr->sr_created = time(NULL);
		sr->sr_sa = *sa;
		TAILQ_INSERT_TAIL(&en->en_sas, sr, sr_entry);
		en->en_nsas++;
		replace = 0;
	}
	sr->sr_state = CTL_SA_MATURE;
	sr->sr_installed = 1;
	sr->sr_sa.sa_reqid = reqid;
	*srp = sr;
	if (sadb_add(en->en_sadb, &sr->sr_sa, replace, cb, arg) == -1) {
		/* Never called back: the kernel has no such SA. */
		log_warnx("peer %s: sadb add failed", pe->pe_name);
		sr->sr_installed = 0;
		rc = -1;
	}
	stats_inc(STAT_SA_ADD);
	log_debug("peer %s: SA %s %s spi 0x%08x to %s installed%s",
	    pe->pe_name, sa->sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sa->sa_proto), sa->sa_spi,
	    addr_ntop((const struct sockaddr *)&sa->sa_dst, a, sizeof(a)),
	    replace ? " (keys replaced)" : "");
	/* A key replacement is no new SA: tests count sa-add per SA. */
	engine_event(en, replace ? SAREC_EV_UPDATE : CTL_EV_SA_ADD,
	    pe->pe_name, 0, "%s %s spi 0x%08x policy %s",
	    sa->sa_dir == SA_DIR_IN ? "in" : "out", proto_name(sa->sa_proto),
	    sa->sa_spi, policy);
	return rc;
}

void
sarec_forget(struct kink_sarec *sr)
{
	struct kink_engine *en = sr->sr_en;

	timer_fini(&sr->sr_timer);
	TAILQ_REMOVE(&en->en_sas, sr, sr_entry);
	en->en_nsas--;
	stats_inc(STAT_SA_DEL);
	engine_event(en, CTL_EV_SA_DEL, sr->sr_peer->pe_name, 0,
	    "%s %s spi 0x%08x", sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi);
	sa_free_keys(&sr->sr_sa);
	free(sr);
}

void
sarec_del(struct kink_sarec *sr, const char *why)
{
	log_debug("peer %s: SA %s %s spi 0x%08x removed: %s",
	    sr->sr_peer->pe_name, sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi, why);
	if (sr->sr_installed && sadb_del(sr->sr_en->en_sadb, &sr->sr_sa,
	    sadb_done_log, (void *)"delete SA") == -1)
		log_warnx("peer %s: sadb delete failed", sr->sr_peer->pe_name);
	sarec_forget(sr);
}

void
sarec_del_later(struct kink_sarec *sr, uint32_t ms)
{
	if (ms == 0) {
		sarec_del(sr, "deleted");
		return;
	}
	sr->sr_state = CTL_SA_DYING;
	if (!timer_pending(&sr->sr_timer))
		timer_add_ms(&sr->sr_timer, ms);
}

static int
sarec_match(const struct kink_sarec *sr, const struct sarec_key *k)
{
	return k == NULL || ((k->k_peer == NULL || sr->sr_peer == k->k_peer) &&
	    (k->k_pair == 0 || sr->sr_pair == k->k_pair) &&
	    (k->k_del_serial == 0 || sr->sr_del_serial == k->k_del_serial) &&
	    (k->k_dir == 0 || sr->sr_sa.sa_dir == k->k_dir));
}

struct kink_sarec *
sarec_next(struct kink_engine *en, struct kink_sarec *prev,
    const struct sarec_key *k)
{
	struct kink_sarec *sr;

	sr = prev == NULL ? TAILQ_FIRST(&en->en_sas) : TAILQ_NEXT(prev,
	    sr_entry);
	while (sr != NULL && !sarec_match(sr, k))
		sr = TAILQ_NEXT(sr, sr_entry);
	return sr;
}

struct kink_sarec *
sarec_find(struct kink_engine *en, uint8_t proto, uint32_t spi, uint8_t dir)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_sa.sa_spi == spi && (proto == 0 ||
		    sr->sr_sa.sa_proto == proto) && (dir == 0 ||
		    sr->sr_sa.sa_dir == dir))
			return sr;
	return NULL;
}

struct kink_sarec *
sarec_find_dst(struct kink_engine *en, const struct sockaddr_storage *dst,
    uint8_t proto, uint32_t spi)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_sa.sa_spi == spi && sr->sr_sa.sa_proto == proto &&
		    addr_eq((const struct sockaddr *)&sr->sr_sa.sa_dst,
		    (const struct sockaddr *)dst))
			return sr;
	return NULL;
}

struct kink_sarec *
sarec_find_peer(struct kink_engine *en, struct kink_peer *pe, uint8_t proto,
    uint32_t spi, uint8_t dir)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_peer == pe && sr->sr_sa.sa_dir == dir &&
		    sr->sr_sa.sa_proto == proto && sr->sr_sa.sa_spi == spi)
			return sr;
	return NULL;
}

struct kink_sarec *
sarec_first_dir(struct kink_engine *en, struct kink_peer *pe, uint8_t dir)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_peer == pe && sr->sr_sa.sa_dir == dir)
			return sr;
	return NULL;
}

int
sarec_pair_dying(struct kink_engine *en, uint32_t pair)
{
	struct kink_sarec *sr;
	int n = 0;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_pair == pair && sr->sr_state == CTL_SA_MATURE) {
			sr->sr_state = CTL_SA_DYING;
			n++;
		}
	return n;
}

int
sarec_pair_del(struct kink_engine *en, uint32_t pair, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	for (sr = TAILQ_FIRST(&en->en_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (sr->sr_pair == pair) {
			sarec_del(sr, why);
			n++;
		}
	}
	return n;
}

int
sarec_flush(struct kink_engine *en, struct kink_peer *pe, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	for (sr = TAILQ_FIRST(&en->en_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (pe == NULL || sr->sr_peer == pe) {
			sarec_del(sr, why);
			n++;
		}
	}
	return n;
}

int
sarec_flush_but(struct kink_engine *en, struct kink_peer *pe,
    uint32_t keep_pair, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	for (sr = TAILQ_FIRST(&en->en_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_entry);
		if (sr->sr_peer != pe ||
		    (keep_pair && sr->sr_pair == keep_pair))
			continue;
		sarec_del(sr, why);
		n++;
	}
	return n;
}

void
sarec_forget_all(struct kink_engine *en)
{
	struct kink_sarec *sr;

	while ((sr = TAILQ_FIRST(&en->en_sas)) != NULL) {
		sr->sr_installed = 0;
		sarec_forget(sr);
	}
}

int
sarec_count(struct kink_engine *en, const struct kink_peer *pe)
{
	struct kink_sarec *sr;
	int n = 0;

	TAILQ_FOREACH(sr, &en->en_sas, sr_entry)
		if (sr->sr_peer == pe)
			n++;
	return n;
}

void
sarec_pair_why(struct kink_engine *en, uint32_t pair, const char *why)
{
	struct sarec_key k = { .k_pair = pair };
	struct kink_sarec *sr;

	for (sr = sarec_next(en, NULL, &k); sr != NULL;
	    sr = sarec_next(en, sr, &k))
		if (sr->sr_why[0] == '\0')
			strlcpy(sr->sr_why, why, sizeof(sr->sr_why));
}
