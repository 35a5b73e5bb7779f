/*
 * The Kerberos layer: everything KINK needs from MIT libkrb5, behind an API
 * that never exposes a krb5 type (src/krb.c is the only file that includes
 * <krb5.h>).  docs/arch/krb.md explains the design choices.
 *
 * Threads: all functions here are called from the libevent loop thread.
 * KDC traffic (initial TGT from the keytab, service and user-to-user
 * tickets) runs on one worker thread with its own krb5_context, and
 * AP-REQ verification may run on a pool of them (krb_verify); results
 * come back through the loop as callbacks, never from inside the request
 * call.  Nothing here blocks the loop on the network.
 *
 * Errors: functions returning `krb_err` give 0 on success or a libkrb5
 * error code (a distinct value per cause: replay, skew, expired, wrong
 * principal, bad kvno, no key, corrupt input ...).  krb_err_rfc() maps one
 * to the RFC 4120 error number to put in a KINK_KRB_ERROR (34, 37, ...);
 * krb_err_str() gives log text.  Failures are logged here, at the failure
 * site; callers need not log them again.
 *
 * Keys: struct krb_key is an owned copy (enctype + bytes) wiped on free.
 * The KINK key is always the ticket's session key, never a subkey.
 */
#ifndef KINK_KRB_H
#define KINK_KRB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "krb_prf.h"

struct event_base;
struct krb_ctx;
struct krb_ticket;
struct krb_client;
struct krb_acceptor;
struct krb_key;
struct krb_req;

typedef int32_t krb_err;

/* RFC 4430 section 8 key usages. */
#define KRB_USAGE_KINK_ENCRYPT	39
#define KRB_USAGE_KINK_CKSUM	40

/* Authenticators kept per transaction for matching a REPLY (notes c.7). */
#define KRB_CLIENT_MAX_AUTH	8
#define KRB_PRINC_MAX		256	/* longest principal name we accept */

/* RFC 4120 section 7.5.9 numbers used by KINK (notes c.6). */
#define KRB_ERR_GENERIC			60
#define KRB_AP_ERR_BAD_INTEGRITY	31
#define KRB_AP_ERR_TKT_EXPIRED		32
#define KRB_AP_ERR_TKT_NYV		33
#define KRB_AP_ERR_REPEAT		34
#define KRB_AP_ERR_NOT_US		35
#define KRB_AP_ERR_BADMATCH		36
#define KRB_AP_ERR_SKEW			37
#define KRB_AP_ERR_BADVERSION		39
#define KRB_AP_ERR_MSG_TYPE		40
#define KRB_AP_ERR_MODIFIED		41
#define KRB_AP_ERR_BADKEYVER		44
#define KRB_AP_ERR_NOKEY		45
#define KRB_AP_ERR_MUT_FAIL		46
#define KRB_AP_ERR_USER_TO_USER_REQUIRED 69
#define KDC_ERR_MUST_USE_USER2USER	27

/* ---- context ------------------------------------------------------- */

struct krb_ctx_opts {
	/* kinkd's replay cache file, "/path" or "type:/path"; NULL takes
	 * the path of KRB5RCACHENAME, else kinkd_<euid>.rcache in
	 * KRB5RCACHEDIR (default /var/tmp).  Opened and mapped in
	 * krb_ctx_new, before any privilege drop, and kept.  "none:" turns
	 * replay detection off (test tools only). */
	const char	*ko_rcache;
	/* Give up on one KDC request after this many ms (0 = 30000).  The
	 * callback then gets KRB5_KDC_UNREACH even if libkrb5 still waits. */
	unsigned int	 ko_kdc_timeout_ms;
	/* Threads that verify AP-REQs (krb_verify); 0 = none, krb_verify
	 * is then not to be called and krb_rd_req runs on the loop.  At
	 * most KRB_WORKERS_MAX. */
	int		 ko_workers;
};
#define KRB_WORKERS_MAX	64

/*
 * One per daemon.  `principal` is our own name ("kink/<fqdn>@REALM");
 * `keytab` its keytab path ("FILE:" prefix optional).  Starts getting the
 * TGT from the keytab in the background at once, and again before it
 * expires.  NULL on failure (logged: no keytab, unreadable keytab, bad
 * principal, thread/pipe failure).  A keytab that lacks the principal
 * fails later, in the ticket callbacks, with the keytab's error.
 */
struct krb_ctx	*krb_ctx_new(struct event_base *, const char *principal,
		    const char *keytab, const struct krb_ctx_opts *);
/* Cancels outstanding requests (their callbacks are not called), waits for
 * the worker to finish its current KDC exchange, frees everything. */
void		 krb_ctx_free(struct krb_ctx *);
/* Re-read the keytab into memory now (it is also re-read within a second
 * of the file changing).  0, or -1 (logged) with the old keys kept. */
int		 krb_keytab_reload(struct krb_ctx *);
const char	*krb_ctx_principal(const struct krb_ctx *);

/* "kink/" + lower-cased fqdn + "@" + realm (NULL = krb5.conf default
 * realm) into out.  0 or -1. */
int		 krb_host_principal(const char *fqdn, const char *realm,
		    char *out, size_t outsz);

/* Error helpers. */
int		 krb_err_rfc(krb_err);		/* RFC 4120 number, 60 if none */
const char	*krb_err_str(struct krb_ctx *, krb_err); /* valid until next call */

/* ---- tickets (asynchronous) ------------------------------------------ */

/*
 * Called from the event loop with err == 0 and a ticket reference the
 * callee owns (krb_ticket_free when done), or err != 0 and tkt == NULL.
 * The request handle is dead once the callback runs.
 */
typedef void (*krb_ticket_cb)(krb_err err, struct krb_ticket *tkt, void *arg);

/*
 * A service ticket for `peer_principal`.  Tickets are cached per peer and
 * reused while more than a tenth of their lifetime (at least 60 s) is left;
 * a transaction keeps its reference for all its retransmissions.  Returns
 * a handle for krb_req_cancel, or NULL (logged; callback not called).
 */
struct krb_req	*krb_get_ticket(struct krb_ctx *, const char *peer_principal,
		    krb_ticket_cb, void *arg);
/*
 * User-to-user: a ticket for `peer_principal` encrypted in the session key
 * of the peer's TGT (DER Ticket from its KINK_TGT_REP).  Not cached.
 */
struct krb_req	*krb_get_ticket_u2u(struct krb_ctx *, const char *peer_principal,
		    const uint8_t *peer_tgt, size_t peer_tgt_len,
		    krb_ticket_cb, void *arg);
/* The callback will not be called. */
void		 krb_req_cancel(struct krb_req *);
/* Forget the cached ticket of a peer (e.g. after KRB_AP_ERR_TKT_EXPIRED). */
void		 krb_ticket_forget(struct krb_ctx *, const char *peer_principal);

struct krb_ticket *krb_ticket_ref(struct krb_ticket *);
void		 krb_ticket_free(struct krb_ticket *);	/* drops a reference */
time_t		 krb_ticket_endtime(const struct krb_ticket *);
int		 krb_ticket_is_u2u(const struct krb_ticket *);

/*
 * Our own TGT (DER Ticket, the body of a KINK_TGT_REP) appended to out.
 * Only call when policy allows handing it out.  KRB5_CC_NOTFOUND if the
 * TGT has not been obtained yet.
 */
krb_err		 krb_get_tgt(struct krb_ctx *, struct buf *out);

/* ---- initiator: AP-REQ / AP-REP ------------------------------------ */

/* One per transaction, holding the ticket and every authenticator sent. */
struct krb_client *krb_client_new(struct krb_ctx *, struct krb_ticket *);
void		 krb_client_free(struct krb_client *);
/*
 * A fresh AP-REQ (mutual authentication required; use-session-key for a
 * U2U ticket) appended to out.  Each call makes a new authenticator and
 * remembers it (the oldest is dropped after KRB_CLIENT_MAX_AUTH), with the
 * peer's clock offset applied.
 */
krb_err		 krb_client_mk_req(struct krb_client *, struct buf *out);
/* Verify an AP-REP against any authenticator of this transaction. */
krb_err		 krb_client_rd_rep(struct krb_client *, const uint8_t *, size_t);
/* The ticket's session key (borrowed; lives as long as the client). */
struct krb_key	*krb_client_key(struct krb_client *);

/* ---- responder: AP-REQ / AP-REP ------------------------------------ */

#define KRB_RDREQ_U2U	0x1	/* also accept a U2U ticket under our TGT */

/*
 * Verify an AP-REQ with the keytab (and the replay cache).  *accp is set
 * whenever something usable for a KRB_ERROR exists, even on failure: after
 * KRB_AP_ERR_SKEW it holds the session key and the authenticator's time so
 * the error can be reflected and checksummed.  Free it with
 * krb_acceptor_free in every case where it is non-NULL.
 */
krb_err		 krb_rd_req(struct krb_ctx *, const uint8_t *, size_t,
		    int flags, struct krb_acceptor **accp);
/*
 * The same work on a worker thread (ko_workers > 0), for the responder's
 * throughput: the AP-REQ is copied, verified with the worker's own krb5
 * context and a reference to the current keytab copy, checked against
 * the one replay cache (under a lock: exact across workers), and, with
 * KRB_RDREQ_MKREP, its AP-REP made there too.  `cb` then runs on the
 * loop with what krb_rd_req would have returned (the acceptor is the
 * callee's), the result already logged.  NULL (nothing queued, logged at
 * debug) when KRB_VERIFY_QUEUE_MAX requests are waiting: the caller
 * drops the message as an overload.  Callbacks never run from inside
 * this call.
 */
#define KRB_RDREQ_MKREP		0x2
#define KRB_VERIFY_QUEUE_MAX	256
typedef void (*krb_verify_cb)(krb_err err, struct krb_acceptor *acc,
		    void *arg);
struct krb_vreq;
struct krb_vreq	*krb_verify(struct krb_ctx *, const uint8_t *, size_t,
		    int flags, krb_verify_cb cb, void *arg);
/* The callback will not be called (a request being verified finishes,
 * its result is thrown away). */
void		 krb_verify_cancel(struct krb_vreq *);
/* Worker threads running (0: verification on the loop). */
int		 krb_workers(const struct krb_ctx *);
/* Requests handed to the workers and not yet delivered (0 without a
 * pool): queued, being verified, or waiting for the loop. */
int		 krb_verify_pending(const struct krb_ctx *);
/* AP-REP for a verified AP-REQ, appended to out. */
krb_err		 krb_acceptor_mk_rep(struct krb_acceptor *, struct buf *out);
void		 krb_acceptor_free(struct krb_acceptor *);
/* Session key (borrowed) or NULL; client principal or NULL; ctime. */
struct krb_key	*krb_acceptor_key(struct krb_acceptor *);
const char	*krb_acceptor_client(const struct krb_acceptor *);
int		 krb_acceptor_ctime(const struct krb_acceptor *, time_t *sec,
		    int32_t *usec);

/* ---- KRB_ERROR ----------------------------------------------------- */

struct krb_error_info {
	int		 ke_code;	/* RFC 4120 number */
	time_t		 ke_stime;
	int32_t		 ke_susec;
	int		 ke_has_ctime;
	time_t		 ke_ctime;
	int32_t		 ke_cusec;
};

/*
 * A KRB-ERROR with `rfc_code`, server time now, our principal as server,
 * and the client's ctime/cusec reflected when `acc` carries them.  KINK's
 * protection is the KINK Cksum over the whole message (RFC 4430 4.2.3).
 */
krb_err		 krb_mk_error(struct krb_ctx *, int rfc_code,
		    const struct krb_acceptor *acc, struct buf *out);
krb_err		 krb_rd_error(struct krb_ctx *, const uint8_t *, size_t,
		    struct krb_error_info *);
/*
 * The clock-skew rule (RFC 4430 3.5): adjust the peer's time offset only
 * for a KRB_AP_ERR_SKEW whose KINK Cksum verified (`protected` != 0) and
 * whose ctime/cusec is one of this transaction's authenticators (within the
 * microsecond window measured around its mk_req: MIT hides the exact value
 * on the initiator side).  Returns 1 if the offset was changed, else 0.
 * Call it only after the error's KINK Cksum was checked with
 * krb_client_key(); pass the result as `protected`.
 */
int		 krb_client_skew(struct krb_client *, const struct krb_error_info *,
		    int protected);
/* Per-peer clock offset (seconds added to our clock for that peer). */
int		 krb_peer_offset(struct krb_ctx *, const char *peer, int32_t *);
int		 krb_peer_set_offset(struct krb_ctx *, const char *peer, int32_t);

/* ---- keys: checksum, KINK_ENCRYPT, PRF ----------------------------- */

/* An owned key (copy of enctype + bytes); needs its krb_ctx alive. */
struct krb_key	*krb_key_new(struct krb_ctx *, int enctype, const uint8_t *,
		    size_t);
struct krb_key	*krb_key_dup(const struct krb_key *);
void		 krb_key_free(struct krb_key *);	/* wipes */
int		 krb_key_enctype(const struct krb_key *);
/* Checksum over a KINK message, usage 40, the enctype's mandatory type. */
krb_err		 krb_cksum_len(struct krb_key *, size_t *);
krb_err		 krb_cksum_make(struct krb_key *, const uint8_t *, size_t,
		    struct buf *out);
/* 0 if valid, KRB5KRB_AP_ERR_BAD_INTEGRITY (rfc 31) if not. */
krb_err		 krb_cksum_verify(struct krb_key *, const uint8_t *, size_t,
		    const uint8_t *cksum, size_t cksumlen);
/* KINK_ENCRYPT: usage 39, no ivec. */
krb_err		 krb_encrypt_len(struct krb_key *, size_t inlen, size_t *);
krb_err		 krb_encrypt(struct krb_key *, const uint8_t *, size_t,
		    struct buf *out);
krb_err		 krb_decrypt(struct krb_key *, const uint8_t *, size_t,
		    struct buf *out);
/*
 * The KEYMAT prf (RFC 4430 section 7).  KRB_PRF_RFC3961 is the RFC's
 * function (20 octets for AES, what racoon2 computes); KRB_PRF_MIT is
 * krb5_c_prf (16 octets for AES).  They agree for des3-cbc-sha1-kd, and
 * RFC3961 falls back to krb5_c_prf for enctypes krb_prf.c does not cover
 * (the RFC 3961 m = block size cases such as aes-sha2 and camellia, which
 * MIT implements per their RFCs).  out holds KRB_PRF_MAX.  0 or -1.
 */
int		 krb_prf(struct krb_key *, enum krb_prf_kind, const uint8_t *in,
		    size_t inlen, uint8_t *out, size_t *outlen);

/* ---- keytab and TGT, for kinkd -n and show self ---------------------- */

struct krb_kt_entry {
	int		 kte_kvno;
	int		 kte_enctype;
	char		 kte_etype[48];	/* MIT's name, e.g. aes256-cts-hmac-sha1-96 */
};
#define KRB_KT_MAX	16	/* entries reported per principal */

/*
 * The entries of `principal` in `keytab` ("FILE:" optional), kvno and
 * enctype only: the number found (0: the keytab lacks the principal; only
 * the first `max` are stored), or -1 with why ("cannot read it: ...") when
 * the keytab cannot be opened or read.  Its own krb5 context: no krb_ctx
 * needed.
 */
int		 krb_keytab_keys(const char *keytab, const char *principal,
		    struct krb_kt_entry *, int max, char *why, size_t whylen);
/* The enctype's name as MIT spells it ("aes256-cts-hmac-sha1-96",
 * "arcfour-hmac"), or "etype N"; into buf, which is returned. */
const char	*krb_enctype_name(int enctype, char *buf, size_t len);
/* End time of the TGT the worker obtained, 0 while there is none. */
time_t		 krb_ctx_tgt_endtime(const struct krb_ctx *);

#endif
