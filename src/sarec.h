/*
 * SA records: the engine's own account of the SAs it installed (what
 * `kinkctl show sa` lists), each tied to a peer, a policy and the pair of
 * one CREATE.  Every install and removal goes to the sadb backend too.
 * Every lookup goes through an index (red-black trees from <sys/tree.h>:
 * by sequence, by (SPI, protocol, destination), by pair; a list per
 * peer), so its cost does not grow with the number of SAs held.
 */
#ifndef KINK_SAREC_H
#define KINK_SAREC_H

#include <sys/queue.h>
#include <stdint.h>
#include <time.h>

#include "ctl.h"
#include "engine.h"
#include "policy.h"
#include "sadb.h"
#include "sa.h"
#include "sa_rec.h"
#include "timer.h"

struct kink_peer;

/* Monitor event for an SA whose keys were replaced (3-way CREATE). */
#define SAREC_EV_UPDATE	"sa-update"

struct kink_sarec {
	RB_ENTRY(kink_sarec)	 sr_seq_node;	/* en_sas */
	RB_ENTRY(kink_sarec)	 sr_spi_node;	/* en_sa_spis */
	RB_ENTRY(kink_sarec)	 sr_pair_node;	/* en_sa_pairs */
	TAILQ_ENTRY(kink_sarec)	 sr_peer_entry;	/* pe_sas */
	uint64_t		 sr_seq;	/* order made, never reused */
	struct kink_engine	*sr_en;
	struct kink_peer	*sr_peer;
	char			 sr_policy[POL_NAME_MAX];
	uint32_t		 sr_reqid;
	uint32_t		 sr_pair;	/* one CREATE: its in/out SAs */
	uint8_t			 sr_initiator;	/* we sent the CREATE */
	uint8_t			 sr_state;	/* CTL_SA_* */
	uint8_t			 sr_installed;	/* backend has the keys */
	time_t			 sr_created;
	struct timer		 sr_timer;	/* DELETE grace */
	uint64_t		 sr_del_serial;	/* DELETE xact naming it */
	uint64_t		 sr_bytes;	/* from the last backend dump */
	uint64_t		 sr_dump_gen;	/* last listing that saw it */
	uint8_t			 sr_acq_noted;	/* IPComp ACQUIRE logged */
	/* Compact (one is held per SA): keys wiped on free. */
	struct kink_sa_rec	 sr_sa;
	/* Why it is not in force (missing, dying), for `show sa`; NULL: none. */
	char			*sr_why;
};

/* Which records a walk visits; a zero field matches any. */
struct sarec_key {
	struct kink_peer	*k_peer;
	uint32_t		 k_pair;
	uint64_t		 k_del_serial;	/* named by that DELETE */
	uint8_t			 k_dir;		/* SA_DIR_* */
};

/*
 * The record after `prev` (NULL: the first) matching `key` (NULL: any),
 * in the order they were added.  Taking the next one before removing the
 * current one makes a removing walk safe.
 */
struct kink_sarec *sarec_next(struct kink_engine *, struct kink_sarec *prev,
	    const struct sarec_key *);
/*
 * The first record made after the one numbered `seq` (0: the first), or
 * NULL: a listing resumes here whatever was removed since.
 */
struct kink_sarec *sarec_after(struct kink_engine *, uint64_t seq);
/* Record and install; with `replace`, new keys for the same SPI. */
struct kink_sarec *sarec_add(struct kink_engine *, struct kink_peer *,
	    const char *policy, uint32_t reqid, uint32_t pair, int initiator,
	    const struct kink_sa *, int replace);
/*
 * The same, the backend's answer going to `cb` (the kernel may refuse
 * the SA: the record then stays, sr_installed cleared by the caller).
 * *srp is the record (NULL if none could be made); -1 when `cb` will
 * not be called (no record, or the request could not be queued).
 */
int	sarec_add_cb(struct kink_engine *, struct kink_peer *,
	    const char *policy, uint32_t reqid, uint32_t pair, int initiator,
	    const struct kink_sa *, int replace, sadb_done_cb, void *,
	    struct kink_sarec **srp);
/* Remove from the backend and the table now. */
void	sarec_del(struct kink_sarec *, const char *why);
/* Remove after `ms` (RFC 4430 3.3 grace); 0 = now. */
void	sarec_del_later(struct kink_sarec *, uint32_t ms);
/* Forget a record without touching the backend (it is already gone). */
void	sarec_forget(struct kink_sarec *);
/* By SPI; proto and dir 0 = any. */
struct kink_sarec *sarec_find(struct kink_engine *, uint8_t proto,
	    uint32_t spi, uint8_t dir);
/*
 * The SA a kernel event names: SPIs are unique per (destination,
 * protocol) only (RFC 4301 4.1), so both are compared.
 */
struct kink_sarec *sarec_find_dst(struct kink_engine *,
	    const struct sockaddr_storage *dst, uint8_t proto, uint32_t spi);
/* The next record with the same destination, protocol and SPI. */
struct kink_sarec *sarec_next_dst(struct kink_sarec *);
/* By SPI among one peer's SAs of direction `dir`. */
struct kink_sarec *sarec_find_peer(struct kink_engine *, struct kink_peer *,
	    uint8_t proto, uint32_t spi, uint8_t dir);
/* A peer's first SA of direction `dir`; NULL if none. */
struct kink_sarec *sarec_first_dir(struct kink_engine *, struct kink_peer *,
	    uint8_t dir);
/*
 * The peer's outbound SA of `policy` in force: mature, or soft-expired
 * with its rekey pending (dying, no DELETE names it); NULL if none.
 */
struct kink_sarec *sarec_live_out(struct kink_engine *, struct kink_peer *,
	    const char *policy);
/* Every SA of a pair marked dying; how many were mature. */
int	sarec_pair_dying(struct kink_engine *, uint32_t pair);
/* Every SA of a pair gets `why` (sr_why) unless it has one. */
void	sarec_pair_why(struct kink_engine *, uint32_t pair, const char *why);
/* Every SA of a pair, removed now. */
int	sarec_pair_del(struct kink_engine *, uint32_t pair, const char *why);
/* Every SA of the peer (NULL = all), removed now; how many. */
int	sarec_flush(struct kink_engine *, struct kink_peer *, const char *why);
/* Every SA of the peer except those of `keep_pair` (0 = none); how many. */
int	sarec_flush_but(struct kink_engine *, struct kink_peer *,
	    uint32_t keep_pair, const char *why);
/*
 * Why the SA is not in force (at most CTL_REASON_MAX octets kept); a
 * reason that cannot be stored is dropped, the record stays.
 */
void	sarec_why(struct kink_sarec *, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
/* Every record forgotten, the backend untouched (shutdown). */
void	sarec_forget_all(struct kink_engine *);
int	sarec_count(struct kink_engine *, const struct kink_peer *);

#endif
