/*
 * The peer table: one struct kink_peer per configured peer, with the
 * state that outlives transactions and reloads (the principal, the EPOCH
 * last seen in a verified AP-REQ/AP-REP, liveness, the User-to-User
 * cache).  pe_conf points into the active configuration and is re-pointed
 * on reload.  The clock offset and the ticket cache live in the krb
 * module, keyed by principal; the SAs made with a peer are SA records
 * (sarec.h).  This module only keeps the table: what happens when a peer
 * comes or goes is xact_peer_add()/xact_peer_remove().
 */
#ifndef KINK_PEER_H
#define KINK_PEER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>
#include <time.h>

#include "ctl.h"
#include "engine.h"
#include "rtt.h"
#include "timer.h"

struct conf_peer;
struct kink_policy;
struct krb_ticket;
struct krb_req;

#define PE_U2U_NEXT_USE		1	/* User-to-User, cache allowed */
#define PE_U2U_NEXT_FRESH	2	/* User-to-User, a fresh TGT */

struct kink_peer {
	TAILQ_ENTRY(kink_peer)	 pe_entry;
	RB_ENTRY(kink_peer)	 pe_name_node;	/* en_peer_names */
	RB_ENTRY(kink_peer)	 pe_princ_node;	/* en_peer_princs */
	uint64_t		 pe_seq;	/* order added */
	struct kink_engine	*pe_en;
	/* Its SA records, in the order they were made. */
	TAILQ_HEAD(, kink_sarec) pe_sas;
	int			 pe_nsas;
	char			 pe_name[CTL_NAME_MAX + 1];
	char			 pe_principal[CTL_PRINC_MAX + 1];
	struct conf_peer	*pe_conf;
	uint8_t			 pe_epoch_known;
	uint32_t		 pe_epoch;
	uint8_t			 pe_state;	/* CTL_PEER_* */
	time_t			 pe_last_seen;	/* last authenticated message */
	uint64_t		 pe_last_ms;	/* the same, monotonic */
	int			 pe_nxact;
	struct timer		 pe_dpd;	/* dead-peer check (STATUS) */
	struct kink_xact	*pe_probe;	/* STATUS in flight */
	uint64_t		 pe_icmp_ms;	/* last ICMP hint acted on */
	int			 pe_initiated;	/* we started a CREATE to it */
	/*
	 * User-to-User (RFC 4430 3.1, 3.7.1): set once the KDC or the peer
	 * said this peer needs it; the peer's TGT from its last TGT_REP and
	 * the U2U ticket made under it are reused until the ticket nears its
	 * end or the peer shows it no longer holds that TGT.
	 */
	uint8_t			 pe_u2u;
	/*
	 * PE_U2U_NEXT_*: how the exchange a restart is starting gets its
	 * ticket, set only around that restart, so that an unauthenticated
	 * error changes that one exchange and no lasting state (pe_u2u and
	 * the cache change on authenticated evidence only).
	 */
	uint8_t			 pe_u2u_next;
	uint8_t			*pe_u2u_tgt;
	size_t			 pe_u2u_tgtlen;
	struct krb_ticket	*pe_u2u_tkt;
	/* A TGT_REP's TGT being tried: cache replaced only if it works. */
	struct krb_req		*pe_u2u_probe;
	void			*pe_u2u_probe_arg;
	/* The last exchange that failed, and why (`kinkctl show peers`). */
	char			 pe_lasterr[CTL_REASON_MAX + 1];
	time_t			 pe_lasterr_time;
	/* Round trips of our commands: their first retransmit interval. */
	struct rtt_est		 pe_rtt;
	/*
	 * A learned peer (src/site.c): made from range peer pe_range for
	 * the host found at its one address; pe_conf is its own copy
	 * (freed with the peer), pe_how says how the binding of principal
	 * and address was confirmed.  pe_idle_ms: when it last had no SA.
	 */
	uint8_t			 pe_learned;
	char			 pe_range[CTL_NAME_MAX + 1];
	char			 pe_how[CTL_REASON_MAX + 1];
	uint64_t		 pe_idle_ms;
	struct sockaddr_storage	 pe_local;	/* "me" in its policies */
	struct conf_peer	*pe_next_conf;	/* during a reload */
	/*
	 * Removed from the configuration by a reload while its DELETEs were
	 * in flight (xact_peer_retire): out of every lookup, pe_conf its own
	 * bare copy (no policies), freed once its last transaction ends.
	 */
	uint8_t			 pe_retired;
	struct timer		 pe_retire;
};

/* A new entry in the engine's table; NULL on allocation failure. */
struct kink_peer *peer_new(struct kink_engine *, struct conf_peer *);
/* Out of the table and freed; the caller released what hangs off it. */
void	peer_free(struct kink_peer *);
/* Out of the name, principal and reqid lookups, still in the list. */
void	peer_unindex(struct kink_peer *);
struct kink_peer *peer_by_name(struct kink_engine *, const char *);
struct kink_peer *peer_by_principal(struct kink_engine *, const char *);
/* Policy of a configured peer by name; NULL if absent. */
struct kink_policy *peer_policy(struct kink_peer *, const char *name);
/* The configured policy with that reqid (and its peer); NULL if none. */
struct kink_peer *peer_by_reqid(struct kink_engine *, uint32_t reqid,
	    struct kink_policy **);

#endif
