/*
 * Transactions (RFC 4430 sections 3 and 9): one struct kink_xact per
 * exchange, keyed by (peer, XID, role).  The states are DATA (xact.c's
 * table: name, legal successors, whether the timer retransmits, what a
 * timeout does) and every change goes through xact_state(), which checks
 * the transition, logs it and counts it.
 *
 * Initiator: I_TICKET (service ticket from the KDC; when the KDC says the
 * peer needs User-to-User and policy allows it: I_GETTGT, the peer's TGT
 * by GETTGT, then I_TICKET again for the U2U ticket) -> I_GETSPI (inbound
 * SPIs from sadb; CREATE only) -> I_CREATE / I_DELETE / I_STATUS (command
 * sent, retransmitted on timer T with truncated exponential backoff, each
 * copy rebuilt with a new authenticator and Cksum, same ticket) -> DONE, or
 * I_AGING after an ACK (the ACK is regenerated for a duplicate REPLY until
 * a full retransmission cycle has passed).
 *
 * Responder: created only after the AP-REQ and the Cksum verified.
 * R_GETSPI (CREATE) -> R_ACKWAIT (REPLY with ACKREQ, retransmitted until
 * the ACK) -> R_CACHE (REPLY kept for reply-cache ms to answer duplicate
 * commands without executing them twice) -> freed.
 *
 * DONE and FAILED are terminal: the xact leaves every lookup at once and
 * is freed from the loop, so callers may still touch it after the change.
 *
 * The core (xact.c) names no exchange: each exchange type registers a
 * struct xact_ops at start-up (engine_init) and the core and the input
 * path call its hooks.  Layers, each calling only down: xact_msg.c
 * (assembly, sealing, sending) < xact.c (table, state machine, timers) <
 * xact_gettgt.c (tickets, User-to-User, GETTGT) < xact_status.c (STATUS,
 * dead-peer detection) < xact_delete.c < xact_create.c < xact_input.c
 * (the authenticated input path).
 */
#ifndef KINK_XACT_H
#define KINK_XACT_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>

#include "buf.h"
#include "doi_ipsec.h"
#include "engine.h"
#include "policy.h"
#include "timer.h"

struct kink_peer;
struct kink_sarec;
struct kink_msg;
struct krb_req;
struct krb_client;
struct krb_acceptor;
struct control_req;
struct conf_peer;

enum xact_role { XR_INIT = 1, XR_RESP = 2 };	/* = CTL_ROLE_* */

enum xact_st {
	XS_NEW = 0,
	XS_I_TICKET,
	XS_I_GETTGT,
	XS_I_GETSPI,
	XS_I_CREATE,
	XS_I_AGING,
	XS_I_DELETE,
	XS_I_STATUS,
	XS_R_GETSPI,
	XS_R_ACKWAIT,
	XS_R_CACHE,
	XS_DONE,
	XS_FAILED,
	XS_MAX
};

/*
 * Several transactions answering one control request (kinkctl initiate
 * with every policy of a peer): the request ends when the last one does.
 */
struct xact_waiter {
	struct control_req	*w_req;
	int			 w_pending;
	int			 w_failed;
	uint16_t		 w_code;	/* CTL_ERR_* of 1st failure */
	char			 w_text[256];
};

struct kink_xact {
	TAILQ_ENTRY(kink_xact)	 xa_entry;
	TAILQ_ENTRY(kink_xact)	 xa_ackwait_entry;	/* en_ackwait */
	RB_ENTRY(kink_xact)	 xa_xid_node;	/* en_xact_xids */
	RB_ENTRY(kink_xact)	 xa_serial_node;	/* en_xact_serials */
	struct kink_engine	*xa_en;
	struct kink_peer	*xa_peer;
	uint64_t		 xa_serial;	/* for async callbacks */
	uint32_t		 xa_xid;
	uint8_t			 xa_role;	/* enum xact_role */
	uint8_t			 xa_cmd;	/* KINK_MSGTYPE_* */
	enum xact_st		 xa_state;
	uint8_t			 xa_completed;	/* result logged/reported */
	uint8_t			 xa_ok;		/* ... and it was a success */
	struct timer		 xa_timer;
	uint32_t		 xa_interval;	/* next retransmit, ms */
	uint16_t		 xa_tries;	/* sends so far */
	uint32_t		 xa_waited_ms;	/* a command's waits so far */
	uint64_t		 xa_start_ms;
	/* First send of a command, for the peer's RTT; 0: no sample. */
	uint64_t		 xa_sent_ms;
	struct sockaddr_storage	 xa_local, xa_remote;	/* with ports */
	struct buf		 xa_msg;	/* last sent / cached REPLY */
	char			 xa_lasterr[128];	/* peer said */
	char			 xa_note[160];	/* SPIs, for the info line */

	/* Kerberos. */
	struct krb_req		*xa_kreq;
	void			*xa_kreq_arg;	/* freed if cancelled */
	/* What follows the ticket. */
	void			(*xa_next)(struct kink_xact *);
	uint8_t			 xa_u2u_tried;
	uint8_t			 xa_plain_tried;	/* an ordinary ticket asked */
	uint8_t			 xa_u2u_fallback; /* after KINK_U2UDENIED */
	/* Started over (xact_restart): no second time. */
	uint8_t			 xa_renewed;
	uint8_t			 xa_u2u_used;	/* our ticket is User-to-User */
	uint8_t			 xa_qmvers;	/* QM version sent, 0 = 1.0 */
	struct krb_client	*xa_client;	/* initiator */
	struct krb_acceptor	*xa_acc;	/* responder */

	/* CREATE. */
	struct kink_policy	 xa_pol;	/* a copy: survives reload */
	uint8_t			 xa_has_pol;
	struct doi_ctx		*xa_doi;
	struct doi_spis		 xa_spis;
	unsigned		 xa_spi_want, xa_spi_got;
	uint8_t			 xa_spi_failed;
	struct buf		 xa_qm;		/* KINK_ISAKMP body we send */
	uint8_t			 xa_first;
	struct doi_result	 xa_res;
	uint8_t			 xa_opt_in;	/* optimistic inbound is in */
	uint8_t			 xa_spis_used;	/* SPIs now belong to SAs */
	uint32_t		 xa_pair;
	uint32_t		 xa_rekey_pair;	/* delete this pair when done */
	/* SA installs the kernel has not answered yet; then xa_inst_next. */
	int			 xa_inst_pending;
	int			 xa_inst_err;	/* first refusal (errno) */
	char			 xa_inst_why[160];	/* ... in words */
	void			(*xa_inst_next)(struct kink_xact *);
	uint8_t			 xa_inst_ack;	/* the REPLY wants an ACK */

	struct xact_waiter	*xa_waiter;
};

/*
 * One exchange type, registered with xact_register().  Every hook may be
 * NULL.  The core calls xo_giveup, xo_cleanup and xo_restart*; the input
 * path xo_respond, xo_reply, xo_ack and xo_input; xact_peer_add/remove
 * xo_peer_new/xo_peer_gone (for every registered type).
 */
struct xact_ops {
	uint8_t	 xo_type;			/* KINK_MSGTYPE_* */
	/* A verified new command: x is a fresh responder. */
	void	(*xo_respond)(struct kink_xact *, const struct kink_msg *);
	/*
	 * An authenticated REPLY to our command; for GETTGT, any REPLY to
	 * a transaction waiting in I_GETTGT (the TGT_REP is unprotected).
	 */
	void	(*xo_reply)(struct kink_xact *, const struct kink_msg *);
	/* The ACK our REPLY asked for. */
	void	(*xo_ack)(struct kink_xact *);
	/* Retransmissions ran out; the core fails x next. */
	void	(*xo_giveup)(struct kink_xact *);
	/* I_AGING ended with no duplicate REPLY for a full cycle. */
	void	(*xo_aged)(struct kink_xact *);
	/* x is being freed: release what the exchange holds. */
	void	(*xo_cleanup)(struct kink_xact *);
	/* Whether x can start over at all (xact_restart). */
	int	(*xo_restartable)(const struct kink_xact *);
	/*
	 * The same exchange again under a new XID for waiter w; 0 / -1.
	 * Called after x failed, or before when xo_restart_first is set.
	 */
	int	(*xo_restart)(struct kink_xact *, struct xact_waiter *);
	uint8_t	 xo_restart_first;
	/* A message of this type answered without a transaction. */
	void	(*xo_input)(struct kink_engine *, const struct kink_msg *,
		    const struct sockaddr_storage *from,
		    const struct sockaddr_storage *to);
	/* A peer enters the table; -1 fails the addition. */
	int	(*xo_peer_new)(struct kink_peer *);
	void	(*xo_peer_gone)(struct kink_peer *);
};

/* xact.c: table, state machine, timers, waiters, exchange registry. */
void	xact_register(struct kink_engine *, const struct xact_ops *);
struct kink_xact *xact_new(struct kink_engine *, struct kink_peer *,
	    uint32_t xid, enum xact_role, uint8_t cmd);
void	xact_free(struct kink_xact *);
struct kink_xact *xact_find(struct kink_engine *, struct kink_peer *,
	    uint32_t xid, enum xact_role);
struct kink_xact *xact_by_serial(struct kink_engine *, uint64_t);
int	xact_state(struct kink_xact *, enum xact_st);
const char *xact_state_name(enum xact_st);
/* 1 if the state table allows from -> to (tests, show xact). */
int	xact_transition_ok(enum xact_st from, enum xact_st to);
/* 1 if the timer resends xa_msg in this state. */
int	xact_retransmits(enum xact_st);
/* Log the one info line, tell the waiter, count; once per xact. */
void	xact_complete(struct kink_xact *, int ok, uint16_t ctlerr,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Complete as failed and end in FAILED. */
void	xact_fail(struct kink_xact *, uint16_t ctlerr, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Complete and free every transaction of the peer (NULL = all). */
void	xact_abort_peer(struct kink_engine *, struct kink_peer *,
	    const char *why);
/* The peer's cached REPLYs fail (it restarted: its XIDs start over). */
void	xact_flush_cache(struct kink_engine *, struct kink_peer *);
/* Attach to a waiter (takes one pending count). */
void	xact_wait(struct kink_xact *, struct xact_waiter *);
struct xact_waiter *xact_waiter_new(struct control_req *);
void	xact_waiter_done(struct xact_waiter *, int ok, uint16_t code,
	    const char *text);
/* Full retransmission cycle in ms (ACK regeneration window). */
uint32_t xact_cycle_ms(struct kink_engine *);
uint32_t xact_new_xid(struct kink_engine *);
/*
 * Fail `x` (an initiator) and start the same exchange again under a new
 * XID, taking over its kinkctl waiter; once: a restarted one just fails.
 */
void	xact_restart(struct kink_xact *, const char *why);
/* A configured peer enters the table / leaves it with all it holds. */
struct kink_peer *xact_peer_add(struct kink_engine *, struct conf_peer *);
void	xact_peer_remove(struct kink_peer *, const char *why);
/*
 * A configured peer a reload removes, after its SAs were named in
 * DELETEs: every other transaction of it ends, and the peer stays, out of
 * every lookup, until its DELETEs are answered or given up; then it is
 * removed.  Without a DELETE in flight it is removed at once.
 */
void	xact_peer_retire(struct kink_peer *, const char *why);

/* xact_msg.c: message assembly, sealing and sending. */
/* Build xa_msg as a command (AP_REQ, [ENCRYPT{ISAKMP xa_qm}], Cksum). */
int	xact_build_cmd(struct kink_xact *);
/* The same with another type and body (the ACK: type ACK, qm NULL). */
int	xact_build_msg(struct kink_xact *, uint8_t type, const struct buf *qm,
	    uint8_t first);
/* Build xa_msg as REPLY: AP_REP, [ENCRYPT{[KINK_ERROR], [ISAKMP qm]}]. */
int	xact_build_reply(struct kink_xact *, uint8_t flags, uint32_t kinkerr,
	    const struct buf *qm, uint8_t first);
/* Send xa_msg; with `retrans`, arm the retransmission timer. */
int	xact_send(struct kink_xact *, int retrans);
/* First send of a command: reset backoff, send, arm. */
int	xact_send_first(struct kink_xact *);
/* Build and send an ACK for x's XID (RFC 4430 3.2). */
void	xact_send_ack(struct kink_xact *);
/* KEYMAT prf over the transaction's session key (doi_prf_fn). */
int	xact_prf(void *x, const uint8_t *, size_t, uint8_t *, size_t *);

/* xact_input.c: forget the commands still being verified (engine_fini). */
void	xact_input_fini(struct kink_engine *);
/* xact_input.c: datagram entry point (the env's receive side). */
void	xact_input(void *en, const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to, const uint8_t *, size_t);

/* xact_create.c */
extern const struct xact_ops xact_create_ops;
int	xact_create_start(struct kink_engine *, struct kink_peer *,
	    const struct kink_policy *, struct xact_waiter *,
	    uint32_t rekey_pair);
int	xact_create_in_progress(struct kink_engine *, struct kink_peer *,
	    const char *policy);

/* xact_delete.c */
extern const struct xact_ops xact_delete_ops;
int	xact_delete_start(struct kink_engine *, uint32_t pair,
	    struct xact_waiter *);
/*
 * One DELETE for several pairs of one peer (at most XACT_DELETE_MAX_PAIRS):
 * a flush costs one transaction per XACT_DELETE_MAX_PAIRS pairs, not per
 * pair.
 */
#define XACT_DELETE_MAX_PAIRS	32
int	xact_delete_start_pairs(struct kink_engine *, const uint32_t *pairs,
	    int npairs, struct xact_waiter *);

/*
 * Pairs removed on purpose (flush, reload, shutdown): the peer is told
 * with a DELETE, the SAs go now; `sel` NULL = all of `pe` (NULL = every
 * peer).  Returns the SAs removed; *ndelete (may be NULL) counts the
 * DELETE transactions started.
 */
int	xact_delete_tell(struct kink_engine *, struct kink_peer *,
	    int (*sel)(const struct kink_sarec *, void *), void *arg,
	    const char *why, int *ndelete);

/* xact_status.c: STATUS and dead-peer detection. */
extern const struct xact_ops xact_status_ops;
int	xact_status_start(struct kink_engine *, struct kink_peer *,
	    struct xact_waiter *);
/* Authenticated traffic from the peer: alive, restart the DPD clock. */
void	xact_status_seen(struct kink_peer *);
/*
 * net's ICMP callback (arg: the engine): an unreachable for a peer's KINK
 * port starts a STATUS probe early (RFC 4430 3.7), at most one per peer
 * per retransmission cycle; nothing else changes.
 */
void	xact_status_icmp(void *, const struct sockaddr_storage *,
	    const char *);
/* (Re)arm the dead-peer timer from the active config. */
void	xact_status_dpd_arm(struct kink_peer *);

/* xact_gettgt.c: tickets, the User-to-User cache, GETTGT. */
extern const struct xact_ops xact_gettgt_ops;
/* Initiator: get a ticket, then call `next`. */
int	xact_gettgt_ticket(struct kink_xact *,
	    void (*next)(struct kink_xact *));
/* The same with a User-to-User ticket under the peer's TGT (DER Ticket). */
int	xact_gettgt_ticket_u2u(struct kink_xact *, const uint8_t *tgt, size_t);
/*
 * The peer's TGT from a TGT_REP: 1 if it differs from the one held (the
 * U2U ticket made under the old one is dropped), 0 if the same, -1 on
 * allocation failure.
 */
int	xact_gettgt_store_tgt(struct kink_peer *, const uint8_t *, size_t);
/* Drop the cached U2U ticket, and the peer's TGT too when `tgt`. */
void	xact_gettgt_forget(struct kink_peer *, int tgt);
/*
 * A TGT_REP answering command `x` (3.7.1): unauthenticated, so the cache
 * stays; a U2U ticket is requested under the new TGT and only if the KDC
 * issues one does it replace the cache and `x` start over (new XID).
 */
void	xact_gettgt_tgt_rep(struct kink_xact *x, const uint8_t *tgt,
	    size_t len);
/*
 * 3.7.1 responder: a command whose ticket did not decrypt, from a peer
 * allowed U2U, gets a REPLY with our TGT.  0 answered, -1 not (send the
 * usual error).
 */
int	xact_gettgt_stale_ticket(struct kink_engine *, uint32_t xid,
	    const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to);

/*
 * -vvv (xact_trace.c): one line for a message `dir` ("in"/"out") with
 * `peer`: type, XID, flags, the payload chain with lengths and the ISAKMP
 * payload types, `plain` (the KINK_ENCRYPT plaintext, or NULL) as the
 * inner chain.  Never payload contents.  No-op below level 3.
 */
void	xact_trace(const char *dir, const char *peer, const uint8_t *msg,
	    size_t len, const uint8_t *plain, size_t plainlen);

/* Log prefix for a transaction. */
#define XFMT		"xid 0x%08x peer %s: "
#define XARG(x)		(x)->xa_xid, (x)->xa_peer->pe_name

#endif
