/* SA records (see sarec.h): the table, its indexes and backend calls. */
#include <sys/queue.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
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

static int
seq_cmp(const struct kink_sarec *a, const struct kink_sarec *b)
{
	return a->sr_seq < b->sr_seq ? -1 : a->sr_seq > b->sr_seq;
}

/* (SPI, protocol, destination), then age: a unique key per record. */
static int
spi_cmp(const struct kink_sarec *a, const struct kink_sarec *b)
{
	int c;

	if (a->sr_sa.sa_spi != b->sr_sa.sa_spi)
		return a->sr_sa.sa_spi < b->sr_sa.sa_spi ? -1 : 1;
	if (a->sr_sa.sa_proto != b->sr_sa.sa_proto)
		return a->sr_sa.sa_proto < b->sr_sa.sa_proto ? -1 : 1;
	if ((c = addr_cmp(&a->sr_sa.sa_dst.sa, &b->sr_sa.sa_dst.sa)) != 0)
		return c;
	return seq_cmp(a, b);
}

static int
pair_cmp(const struct kink_sarec *a, const struct kink_sarec *b)
{
	if (a->sr_pair != b->sr_pair)
		return a->sr_pair < b->sr_pair ? -1 : 1;
	return seq_cmp(a, b);
}

ENGINE_RB_GENERATE(kink_sarec_head, kink_sarec, sr_seq_node, seq_cmp)
ENGINE_RB_GENERATE(kink_sarec_spis, kink_sarec, sr_spi_node, spi_cmp)
ENGINE_RB_GENERATE(kink_sarec_pairs, kink_sarec, sr_pair_node, pair_cmp)

static void
sarec_grace(void *arg)
{
	sarec_del(arg, "delete grace over");
}

static const char *
proto_name(uint8_t proto)
{
	return sa_proto_name(proto);
}

static void
sarec_link(struct kink_engine *en, struct kink_sarec *sr)
{
	sr->sr_seq = ++en->en_sa_seq;
	RB_INSERT(kink_sarec_head, &en->en_sas, sr);
	RB_INSERT(kink_sarec_spis, &en->en_sa_spis, sr);
	RB_INSERT(kink_sarec_pairs, &en->en_sa_pairs, sr);
	TAILQ_INSERT_TAIL(&sr->sr_peer->pe_sas, sr, sr_peer_entry);
	sr->sr_peer->pe_nsas++;
	en->en_nsas++;
}

static void
sarec_unlink(struct kink_engine *en, struct kink_sarec *sr)
{
	RB_REMOVE(kink_sarec_head, &en->en_sas, sr);
	RB_REMOVE(kink_sarec_spis, &en->en_sa_spis, sr);
	RB_REMOVE(kink_sarec_pairs, &en->en_sa_pairs, sr);
	TAILQ_REMOVE(&sr->sr_peer->pe_sas, sr, sr_peer_entry);
	sr->sr_peer->pe_nsas--;
	en->en_nsas--;
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
	struct kink_sa full;
	int rc = 0, add;
	char a[ADDR_STRLEN];

	if (replace && (sr = sarec_find(en, sa->sa_proto, sa->sa_spi,
	    sa->sa_dir)) != NULL && sr->sr_peer == pe) {
		/* The new SA may change the keys the record is found by. */
		RB_REMOVE(kink_sarec_pairs, &en->en_sa_pairs, sr);
		RB_REMOVE(kink_sarec_spis, &en->en_sa_spis, sr);
		if (sa_rec_set(&sr->sr_sa, sa, 1) == -1) {
			/* The old keys are gone: the record goes too. */
			log_warn("sarec_add");
			RB_INSERT(kink_sarec_spis, &en->en_sa_spis, sr);
			RB_INSERT(kink_sarec_pairs, &en->en_sa_pairs, sr);
			sarec_del(sr, "no memory for its new keys");
			*srp = NULL;
			return -1;
		}
		sr->sr_pair = pair;
		RB_INSERT(kink_sarec_spis, &en->en_sa_spis, sr);
		RB_INSERT(kink_sarec_pairs, &en->en_sa_pairs, sr);
	} else {
		*srp = NULL;
		if ((sr = calloc(1, sizeof(*sr))) == NULL ||
		    sa_rec_set(&sr->sr_sa, sa, 1) == -1) {
			log_warn("sarec_add");
			free(sr);
			return -1;
		}
		/* The grace timer is made when needed: most SAs never wait. */
		sr->sr_en = en;
		sr->sr_peer = pe;
		strlcpy(sr->sr_policy, policy, sizeof(sr->sr_policy));
		sr->sr_reqid = reqid;
		sr->sr_pair = pair;
		sr->sr_initiator = initiator;
		sr->sr_created = time(NULL);
		sarec_link(en, sr);
		replace = 0;
	}
	sr->sr_state = CTL_SA_MATURE;
	sr->sr_installed = 1;
	sr->sr_sa.sa_reqid = reqid;
	*srp = sr;
	full = *sa;
	full.sa_reqid = reqid;
	add = sadb_add(en->en_sadb, &full, replace, cb, arg);
	sa_free_keys(&full);
	if (add == -1) {
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
	sarec_unlink(en, sr);
	stats_inc(STAT_SA_DEL);
	engine_event(en, CTL_EV_SA_DEL, sr->sr_peer->pe_name, 0,
	    "%s %s spi 0x%08x", sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi);
	sa_rec_free(&sr->sr_sa);
	free(sr->sr_why);
	free(sr);
}

void
sarec_del(struct kink_sarec *sr, const char *why)
{
	log_debug("peer %s: SA %s %s spi 0x%08x removed: %s",
	    sr->sr_peer->pe_name, sr->sr_sa.sa_dir == SA_DIR_IN ? "in" : "out",
	    proto_name(sr->sr_sa.sa_proto), sr->sr_sa.sa_spi, why);
	if (sr->sr_installed) {
		struct kink_sa key;

		/* What a delete names: no keys. */
		sa_rec_get(&sr->sr_sa, &key);
		sa_free_keys(&key);
		if (sadb_del(sr->sr_en->en_sadb, &key, sadb_done_log,
		    (void *)"delete SA") == -1)
			log_warnx("peer %s: sadb delete failed",
			    sr->sr_peer->pe_name);
	}
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
	if (sr->sr_timer.t_ev == NULL && timer_init(&sr->sr_timer,
	    sr->sr_en->en_base, sarec_grace, sr) == -1) {
		sarec_del(sr, "deleted (no memory for the grace timer)");
		return;
	}
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

/*
 * The record after `prev` in `k`'s index: a pair's records by pair, a
 * peer's on its list, the rest in the order made.
 */
static struct kink_sarec *
sarec_step(struct kink_engine *en, struct kink_sarec *prev,
    const struct sarec_key *k)
{
	struct kink_sarec find, *sr;

	if (k != NULL && k->k_pair != 0) {
		if (prev == NULL) {
			find.sr_pair = k->k_pair;
			find.sr_seq = 0;
			sr = RB_NFIND(kink_sarec_pairs, &en->en_sa_pairs, &find);
		} else
			sr = RB_NEXT(kink_sarec_pairs, &en->en_sa_pairs, prev);
		return sr != NULL && sr->sr_pair == k->k_pair ? sr : NULL;
	}
	if (k != NULL && k->k_peer != NULL)
		return prev == NULL ? TAILQ_FIRST(&k->k_peer->pe_sas) :
		    TAILQ_NEXT(prev, sr_peer_entry);
	return prev == NULL ? RB_MIN(kink_sarec_head, &en->en_sas) :
	    RB_NEXT(kink_sarec_head, &en->en_sas, prev);
}

struct kink_sarec *
sarec_next(struct kink_engine *en, struct kink_sarec *prev,
    const struct sarec_key *k)
{
	struct kink_sarec *sr = prev;

	do
		sr = sarec_step(en, sr, k);
	while (sr != NULL && !sarec_match(sr, k));
	return sr;
}

struct kink_sarec *
sarec_after(struct kink_engine *en, uint64_t seq)
{
	struct kink_sarec find;

	find.sr_seq = seq + 1;
	return seq == UINT64_MAX ? NULL :
	    RB_NFIND(kink_sarec_head, &en->en_sas, &find);
}

/* The first record (lowest key) with this SPI. */
static struct kink_sarec *
spi_first(struct kink_engine *en, uint32_t spi)
{
	struct kink_sarec find, *sr;

	memset(&find.sr_sa.sa_dst, 0, sizeof(find.sr_sa.sa_dst));
	find.sr_sa.sa_spi = spi;
	find.sr_sa.sa_proto = 0;
	find.sr_seq = 0;
	sr = RB_NFIND(kink_sarec_spis, &en->en_sa_spis, &find);
	return sr != NULL && sr->sr_sa.sa_spi == spi ? sr : NULL;
}

static struct kink_sarec *
spi_next(struct kink_engine *en, struct kink_sarec *sr)
{
	struct kink_sarec *n = RB_NEXT(kink_sarec_spis, &en->en_sa_spis, sr);

	return n != NULL && n->sr_sa.sa_spi == sr->sr_sa.sa_spi ? n : NULL;
}

/*
 * The oldest record of an SPI that matches: the same answer a walk in
 * the order made gave, from the few records sharing the SPI.
 */
static struct kink_sarec *
spi_oldest(struct kink_engine *en, struct kink_peer *pe, uint8_t proto,
    uint32_t spi, uint8_t dir)
{
	struct kink_sarec *sr, *best = NULL;

	for (sr = spi_first(en, spi); sr != NULL; sr = spi_next(en, sr))
		if ((proto == 0 || sr->sr_sa.sa_proto == proto) &&
		    (dir == 0 || sr->sr_sa.sa_dir == dir) &&
		    (pe == NULL || sr->sr_peer == pe) &&
		    (best == NULL || sr->sr_seq < best->sr_seq))
			best = sr;
	return best;
}

struct kink_sarec *
sarec_find(struct kink_engine *en, uint8_t proto, uint32_t spi, uint8_t dir)
{
	return spi_oldest(en, NULL, proto, spi, dir);
}

struct kink_sarec *
sarec_find_dst(struct kink_engine *en, const struct sockaddr_storage *dst,
    uint8_t proto, uint32_t spi)
{
	struct kink_sarec find, *sr;

	if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
		return NULL;	/* addr_eq() matches no other family */
	sa_addr_set(&find.sr_sa.sa_dst, dst);
	find.sr_sa.sa_spi = spi;
	find.sr_sa.sa_proto = proto;
	find.sr_seq = 0;
	sr = RB_NFIND(kink_sarec_spis, &en->en_sa_spis, &find);
	if (sr == NULL || sr->sr_sa.sa_spi != spi ||
	    sr->sr_sa.sa_proto != proto ||
	    addr_cmp(&sr->sr_sa.sa_dst.sa, addr_sa(dst)) != 0)
		return NULL;
	return sr;
}

struct kink_sarec *
sarec_next_dst(struct kink_sarec *sr)
{
	struct kink_sarec *n;

	n = RB_NEXT(kink_sarec_spis, &sr->sr_en->en_sa_spis, sr);
	if (n == NULL || n->sr_sa.sa_spi != sr->sr_sa.sa_spi ||
	    n->sr_sa.sa_proto != sr->sr_sa.sa_proto ||
	    addr_cmp(&n->sr_sa.sa_dst.sa, &sr->sr_sa.sa_dst.sa) != 0)
		return NULL;
	return n;
}

struct kink_sarec *
sarec_find_peer(struct kink_engine *en, struct kink_peer *pe, uint8_t proto,
    uint32_t spi, uint8_t dir)
{
	return spi_oldest(en, pe, proto, spi, dir);
}

struct kink_sarec *
sarec_first_dir(struct kink_engine *en, struct kink_peer *pe, uint8_t dir)
{
	struct kink_sarec *sr;

	TAILQ_FOREACH(sr, &pe->pe_sas, sr_peer_entry)
		if (sr->sr_sa.sa_dir == dir)
			return sr;
	return NULL;
}

struct kink_sarec *
sarec_live_out(struct kink_engine *en, struct kink_peer *pe,
    const char *policy)
{
	struct kink_sarec *sr;

	(void)en;
	TAILQ_FOREACH(sr, &pe->pe_sas, sr_peer_entry)
		if (sr->sr_sa.sa_dir == SA_DIR_OUT &&
		    strcmp(sr->sr_policy, policy) == 0 &&
		    (sr->sr_state == CTL_SA_MATURE ||
		    (sr->sr_state == CTL_SA_DYING &&
		    sr->sr_del_serial == 0 && sr->sr_installed)))
			return sr;
	return NULL;
}

int
sarec_pair_dying(struct kink_engine *en, uint32_t pair)
{
	struct kink_sarec *sr;
	struct sarec_key k;
	int n = 0;

	memset(&k, 0, sizeof(k));
	k.k_pair = pair;
	for (sr = sarec_next(en, NULL, &k); sr != NULL;
	    sr = sarec_next(en, sr, &k))
		if (sr->sr_state == CTL_SA_MATURE) {
			sr->sr_state = CTL_SA_DYING;
			n++;
		}
	return n;
}

int
sarec_pair_del(struct kink_engine *en, uint32_t pair, const char *why)
{
	struct kink_sarec *sr, *next;
	struct sarec_key k;
	int n = 0;

	memset(&k, 0, sizeof(k));
	k.k_pair = pair;
	for (sr = sarec_next(en, NULL, &k); sr != NULL; sr = next) {
		next = sarec_next(en, sr, &k);
		sarec_del(sr, why);
		n++;
	}
	return n;
}

int
sarec_flush(struct kink_engine *en, struct kink_peer *pe, const char *why)
{
	struct kink_sarec *sr, *next;
	struct sarec_key k;
	int n = 0;

	memset(&k, 0, sizeof(k));
	k.k_peer = pe;
	for (sr = sarec_next(en, NULL, &k); sr != NULL; sr = next) {
		next = sarec_next(en, sr, &k);
		sarec_del(sr, why);
		n++;
	}
	return n;
}

int
sarec_flush_but(struct kink_engine *en, struct kink_peer *pe,
    uint32_t keep_pair, const char *why)
{
	struct kink_sarec *sr, *next;
	int n = 0;

	if (pe == NULL)
		return 0;
	for (sr = TAILQ_FIRST(&pe->pe_sas); sr != NULL; sr = next) {
		next = TAILQ_NEXT(sr, sr_peer_entry);
		if (keep_pair && sr->sr_pair == keep_pair)
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

	while ((sr = RB_MIN(kink_sarec_head, &en->en_sas)) != NULL) {
		sr->sr_installed = 0;
		sarec_forget(sr);
	}
}

int
sarec_count(struct kink_engine *en, const struct kink_peer *pe)
{
	return pe != NULL ? pe->pe_nsas : 0;
}

void
sarec_pair_why(struct kink_engine *en, uint32_t pair, const char *why)
{
	struct sarec_key k = { .k_pair = pair };
	struct kink_sarec *sr;

	for (sr = sarec_next(en, NULL, &k); sr != NULL;
	    sr = sarec_next(en, sr, &k))
		if (sr->sr_why == NULL)
			sarec_why(sr, "%s", why);
}

void
sarec_why(struct kink_sarec *sr, const char *fmt, ...)
{
	char buf[CTL_REASON_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(sr->sr_why);
	sr->sr_why = strdup(buf);
}
