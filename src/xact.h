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
 */
#ifndef KINK_XACT_H
#define KINK_XACT_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>

#include "buf.h"
#include "doi_ipsec.h"
#include "policy.h"
#include "timer.h"

struct kinkd;
struct kink_peer;
struct kink_msg;
struct krb_req;
struct krb_client;
struct krb_acceptor;
struct control_req;

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

#define XACT_MAX_DEL	8	/* SPIs in one DELETE we send */

struct kink_xact {
	TAILQ_ENTRY(kink_xact)	 xa_entry;
	struct kinkd		*xa_kd;
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
	uint64_t		 xa_start_ms;
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
	/* Started over (xact_restart): no second time. */
	uint8_t			 xa_renewed;
	uint8_t			 xa_u2u_used;	/* our ticket is User-to-User */
	uint8_t			 xa_qmvers;	/* test: QM version sent, 0 = 1.0 */
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


	struct xact_waiter	*xa_waiter;
};
TAILQ_HEAD(kink_xact_head, kink_xact);

/* xact.c: table, state machine, timers, message assembly, input. */
struct kink_xact *xact_new(struct kinkd *, struct kink_peer *, uint32_t xid,
	    enum xact_role, uint8_t cmd);
void	xact_free(struct kink_xact *);
struct kink_xact *xact_find(struct kinkd *, struct kink_peer *, uint32_t xid,
	    enum xact_role);
struct kink_xact *xact_by_serial(struct kinkd *, uint64_t);
int	xact_state(struct kink_xact *, enum xact_st);
const char *xact_state_name(enum xact_st);
/* 1 if the state table allows from -> to (tests, show xact). */
int	xact_transition_ok(enum xact_st from, enum xact_st to);
/* Log the one info line, tell the waiter, count; once per xact. */
void	xact_complete(struct kink_xact *, int ok, uint16_t ctlerr,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Complete as failed and end in FAILED. */
void	xact_fail(struct kink_xact *, uint16_t ctlerr, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	xact_abort_peer(struct kinkd *, struct kink_peer *, const char *why);
void	xact_flush_cache(struct kinkd *, struct kink_peer *);
/* Attach to a waiter (takes one pending count). */
void	xact_wait(struct kink_xact *, struct xact_waiter *);
struct xact_waiter *xact_waiter_new(struct control_req *);
void	xact_waiter_done(struct xact_waiter *, int ok, uint16_t code,
	    const char *text);

/* Initiator: get a ticket, then call `next`. */
int	xact_get_ticket(struct kink_xact *, void (*next)(struct kink_xact *));
/* The same with a User-to-User ticket under the peer's TGT (DER Ticket). */
int	xact_get_ticket_u2u(struct kink_xact *, const uint8_t *tgt, size_t);
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
/* KEYMAT prf over the transaction's session key (doi_prf_fn). */
int	xact_prf(void *x, const uint8_t *, size_t, uint8_t *, size_t *);
/* Full retransmission cycle in ms (ACK regeneration window). */
uint32_t xact_cycle_ms(struct kinkd *);
uint32_t xact_new_xid(struct kinkd *);

/*
 * 1 when a log line a peer can trigger may be written now (at most
 * XACT_LOG_RATE a second; the rest are counted and summarized).
 */
int	xact_log_ok(struct kinkd *);
/* 1 when answers to unauthenticated input are over their rate. */
int	xact_ratelimit(struct kinkd *);

/* Datagram entry point (net.c callback). */
void	xact_input(void *kd, const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to, const uint8_t *, size_t);

/*
 * Fail `x` (an initiator) and start the same exchange again under a new
 * XID, taking over its kinkctl waiter; once: a restarted one just fails.
 */
void	xact_restart(struct kink_xact *, const char *why);

/* xact_create.c */
int	create_start(struct kinkd *, struct kink_peer *,
	    const struct kink_policy *, struct xact_waiter *,
	    uint32_t rekey_pair);
int	create_in_progress(struct kinkd *, struct kink_peer *,
	    const char *policy);
void	create_respond(struct kink_xact *, const struct kink_msg *);
void	create_reply(struct kink_xact *, const struct kink_msg *);
void	xact_send_ack(struct kink_xact *);
void	create_ack(struct kink_xact *);
void	create_cleanup(struct kink_xact *);

/* xact_delete.c */
int	delete_start(struct kinkd *, uint32_t pair, struct xact_waiter *);
/*
 * One DELETE for several pairs of one peer (at most DELETE_MAX_PAIRS):
 * a flush costs one transaction per DELETE_MAX_PAIRS pairs, not per pair.
 */
#define DELETE_MAX_PAIRS	32
int	delete_start_pairs(struct kinkd *, const uint32_t *pairs, int npairs,
	    struct xact_waiter *);
void	delete_respond(struct kink_xact *, const struct kink_msg *);
void	delete_reply(struct kink_xact *, const struct kink_msg *);
void	delete_giveup(struct kink_xact *);
/*
 * The same DELETE again under a new XID (after a protected
 * KRB_AP_ERR_TKT_EXPIRED): the SAs `old` named now wait for the new one.
 */
int	delete_renew(struct kink_xact *old, struct xact_waiter *);

/* xact_status.c */
int	status_start(struct kinkd *, struct kink_peer *, struct xact_waiter *);
void	status_respond(struct kink_xact *, const struct kink_msg *);
void	status_reply(struct kink_xact *, const struct kink_msg *);
void	status_giveup(struct kink_xact *);

/* xact_gettgt.c: the responder answers statelessly. */
int	gettgt_start(struct kink_xact *);
void	gettgt_reply(struct kink_xact *, const struct kink_msg *);
int	xact_u2u_allowed(struct kinkd *);
/*
 * 3.7.1 responder: a command whose ticket did not decrypt, from a peer
 * allowed U2U, gets a REPLY with our TGT.  0 answered, -1 not (send the
 * usual error).
 */
int	gettgt_stale_ticket(struct kinkd *, uint32_t xid,
	    const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to);
/*
 * The peer's TGT from a TGT_REP: 1 if it differs from the one held (the
 * U2U ticket made under the old one is dropped), 0 if the same, -1 on
 * allocation failure.
 */
int	u2u_store_tgt(struct kink_peer *, const uint8_t *, size_t);
/* Drop the cached U2U ticket, and the peer's TGT too when `tgt`. */
void	u2u_forget(struct kink_peer *, int tgt);
/*
 * A TGT_REP answering command `x` (3.7.1): unauthenticated, so the cache
 * stays; a U2U ticket is requested under the new TGT and only if the KDC
 * issues one does it replace the cache and `x` start over (new XID).
 */
void	u2u_tgt_rep(struct kink_xact *x, const uint8_t *tgt, size_t len);
/* Cancel a pending u2u_tgt_rep request of the peer. */
void	u2u_probe_cancel(struct kink_peer *);
void	gettgt_respond(struct kinkd *, const struct kink_msg *,
	    const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to);

/* Log prefix for a transaction (STYLE 6.4). */
#define XFMT		"xid 0x%08x peer %s: "
#define XARG(x)		(x)->xa_xid, (x)->xa_peer->pe_name

#endif
