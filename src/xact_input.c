/*
 * The input path.  Processing order for a command (notes a.4, racoon2):
 * AP-REQ verify (keytab, replay cache) -> Cksum -> decrypt -> EPOCH ->
 * the exchange's xo_respond (or the reply cache for a duplicate).  A bad
 * Cksum is dropped silently.  Nothing is allocated for a message before
 * its AP-REQ and Cksum verified.  A REPLY: AP-REP -> Cksum -> decrypt ->
 * EPOCH -> xo_reply; error REPLYs only steer the initiator (clock skew,
 * expired ticket, User-to-User).  Top of the engine: nothing calls back
 * into this file but the environment's receive side.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "kink.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sarec.h"
#include "site.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

static const char *
cmd_name(uint8_t cmd)
{
	return wire_msgtype_name(cmd);
}

/*
 * A REPLY carrying only errors (RFC 4430 6.1): KINK_ERROR and/or a
 * KRB_ERROR, with a Cksum when a session key exists (`acc`, e.g. after a
 * clock-skew failure), else unauthenticated.  No state is kept.
 */
static void
send_error(struct kink_engine *en, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, uint32_t xid, uint32_t kinkerr,
    int krbcode, struct krb_acceptor *acc)
{
	struct kink_builder kb;
	struct buf msg, der, ck;
	struct krb_key *key = acc ? krb_acceptor_key(acc) : NULL;
	struct rbuf cov;

	if (engine_ratelimit(en, from)) {
		stats_inc(STAT_DROP_UNAUTH);
		return;
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&der, KINK_MAX_MSG);
	buf_init(&ck, 256);
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC, xid,
	    0);
	if (krbcode != 0 && krb_mk_error(en->en_krb, krbcode, acc, &der) == 0)
		wire_build_krb_error(&kb, der.b_data, der.b_len);
	if (kinkerr != 0 || der.b_len == 0)
		wire_build_error(&kb, kinkerr ? kinkerr : KINK_INTERR);
	wire_build_finish(&kb, &cov);
	if (kb.kb_err == 0 && key != NULL &&
	    krb_cksum_make(key, cov.rb_p, cov.rb_len, &ck) == 0)
		wire_build_cksum(&kb, ck.b_data, ck.b_len);
	if (kb.kb_err == 0 && engine_send(en, to, from, msg.b_data,
	    msg.b_len) == 0)
		stats_inc(STAT_ERR_SENT);
	buf_free(&msg);
	buf_free(&der);
	buf_free(&ck);
}

/*
 * Count a dropped message and tell the monitors, so that every drop
 * `show stats` counts is also an event an admin can watch for.
 */
static void __attribute__((format(printf, 5, 6)))
input_drop(struct kink_engine *en, enum stat_id st, const char *peer,
    uint32_t xid, const char *fmt, ...)
{
	char text[CTL_TEXT_MAX + 1];
	va_list ap;

	stats_inc(st);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	engine_event(en, CTL_EV_DROP, peer, xid, "%s", text);
}

/* Cksum check over the covered octets; 0 = valid. */
static int
verify_cksum(const struct kink_msg *m, struct krb_key *key)
{
	uint8_t tmp[KINK_MAX_MSG];
	size_t len;

	if (key == NULL || m->m_cksumlen == 0)
		return -1;
	if (wire_cksum_input(m, tmp, sizeof(tmp), &len) != 0)
		return -1;
	if (krb_cksum_verify(key, tmp, len, m->m_cksum.rb_p,
	    m->m_cksum.rb_len) != 0)
		return -1;
	return 0;
}

/*
 * Decrypt KINK_ENCRYPT into `plain` (which must outlive *m): 0, -1 when it
 * does not decrypt, or the wire error (> 0) of the decrypted inner chain.
 */
static int
open_encrypt(struct kink_msg *m, struct krb_key *key, struct buf *plain)
{
	int err;

	if (!wire_has(m, KINK_ENCRYPT))
		return 0;
	if (krb_decrypt(key, m->m_encrypt.rb_p, m->m_encrypt.rb_len,
	    plain) != 0)
		return -1;
	if ((err = wire_parse_inner(m, plain->b_data, plain->b_len)) != 0)
		return err > 0 ? err : -1;
	return 0;
}

/*
 * A new EPOCH from the peer means it restarted: every SA made with it is
 * invalid (except those of pair `keep_pair`, the exchange the EPOCH
 * arrived in; 0 = none) and its cached REPLYs go.
 */
static void
input_epoch(struct kink_peer *pe, uint32_t epoch, uint32_t keep_pair)
{
	struct kink_engine *en = pe->pe_en;
	int n;

	if (epoch == 0) {
		/* racoon2 does the same: 0 carries no information. */
		log_debug("peer %s: EPOCH 0 ignored", pe->pe_name);
		return;
	}
	if (!pe->pe_epoch_known) {
		pe->pe_epoch_known = 1;
		pe->pe_epoch = epoch;
		return;
	}
	if (pe->pe_epoch == epoch)
		return;
	n = sarec_flush_but(en, pe, keep_pair, "peer restarted");
	log_info("peer %s: restarted (EPOCH 0x%08x -> 0x%08x), %d SAs removed",
	    pe->pe_name, pe->pe_epoch, epoch, n);
	engine_event(en, CTL_EV_PEER_EPOCH, pe->pe_name, 0,
	    "epoch 0x%08x -> 0x%08x, %d SAs removed", pe->pe_epoch, epoch, n);
	stats_inc(STAT_EPOCH_CHANGE);
	pe->pe_epoch = epoch;
	/* A restarted peer reuses XIDs: its old REPLYs must not answer. */
	xact_flush_cache(en, pe);
}

/* The AP-REQ did not verify: maybe answer (3.7.1 TGT, or an error). */
static void
input_bad_apreq(struct kink_engine *en, struct kink_msg *m, krb_err e,
    struct krb_acceptor *acc, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const char *a)
{
	stats_inc(STAT_DROP_KRB);
	log_debug("xid 0x%08x from %s: AP-REQ rejected: %s", m->m_xid, a,
	    krb_err_str(en->en_krb, e));
	engine_event(en, CTL_EV_DROP, "", m->m_xid, "AP-REQ from %s: %s", a,
	    krb_err_str(en->en_krb, e));
	if (m->m_type == KINK_MSGTYPE_ACK)
		return;
	/*
	 * A ticket that does not decrypt may be a U2U ticket made under a
	 * TGT we no longer have (restart, renewal): 3.7.1.
	 */
	if ((krb_err_rfc(e) == KRB_AP_ERR_BAD_INTEGRITY ||
	    krb_err_rfc(e) == KRB_AP_ERR_NOKEY) && engine_u2u_allowed(en) &&
	    xact_gettgt_stale_ticket(en, m->m_xid, from, to) == 0)
		return;
	/*
	 * The error carries a Cksum only when the session key is known
	 * (skew): that is what lets the initiator trust it.
	 */
	send_error(en, from, to, m->m_xid, 0, krb_err_rfc(e),
	    (acc && krb_acceptor_key(acc) &&
	    verify_cksum(m, krb_acceptor_key(acc)) == 0) ? acc : NULL);
}

/*
 * Decrypted, but the inner chain is malformed: answer what the wire
 * table says (12: a Quick Mode version we do not do gets KINK_BADQMVERS),
 * with a Cksum under the session key (6.1), as the unencrypted case is.
 */
static void
input_bad_inner(struct kink_engine *en, struct kink_msg *m,
    struct kink_peer *pe, int werr, struct krb_acceptor *acc,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	int act = wire_err_action(werr);
	int answer = act > 0 && m->m_type != KINK_MSGTYPE_ACK;

	input_drop(en, STAT_DROP_PARSE, pe->pe_name, m->m_xid,
	    "inside KINK_ENCRYPT: %s", wire_strerror(werr));
	if (engine_log_ok(en))
		log_warnx("xid 0x%08x peer %s: inside KINK_ENCRYPT: %s%s%s",
		    m->m_xid, pe->pe_name, wire_strerror(werr),
		    answer ? ", answered KINK_ERROR " : "",
		    answer ? wire_error_name((uint32_t)act) : "");
	if (answer)
		send_error(en, from, to, m->m_xid, (uint32_t)act, 0, acc);
}

static void input_resume(void *, struct kink_peer *, int);

/* A verified command waiting for its learned peer's address check. */
struct kink_parked {
	struct kink_engine	*pk_en;
	struct krb_acceptor	*pk_acc;
	struct sockaddr_storage	 pk_from, pk_to;
	uint32_t		 pk_xid;
	size_t			 pk_len;
	uint8_t			 pk_msg[];
};

/*
 * The peer of a verified AP-REQ: a listed peer by principal, else a
 * learned one, found or confirmed for a source address in a range.  A
 * confirmation that waits on DNS parks a copy of the message with the
 * acceptor (*accp taken, *v SITE_PARKED): input_resume goes on with it.
 */
static struct kink_peer *
input_peer(struct kink_engine *en, const struct kink_msg *m,
    const char *princ, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, struct krb_acceptor **accp,
    enum site_verdict *v)
{
	struct kink_peer *pe = peer_by_principal(en, princ);
	struct kink_parked *pk;
	size_t sz = sizeof(*pk) + m->m_raw.rb_len;

	*v = SITE_REFUSED;
	if (pe != NULL && !pe->pe_learned)
		return pe;
	if ((pk = malloc(sz)) != NULL) {
		pk->pk_en = en;
		pk->pk_acc = *accp;
		pk->pk_from = *from;
		pk->pk_to = *to;
		pk->pk_xid = m->m_xid;
		pk->pk_len = m->m_raw.rb_len;
		memcpy(pk->pk_msg, m->m_raw.rb_p, pk->pk_len);
	}
	pe = site_input(en, princ, from, to, pk ? input_resume : NULL, pk, sz,
	    v);
	if (*v == SITE_PARKED)
		*accp = NULL;
	else
		free(pk);
	return pe;
}

/* The verified client `princ` has no peer here: dropped, as logged. */
static void
input_nopeer(struct kink_engine *en, uint32_t xid, const char *a,
    const char *princ)
{
	input_drop(en, STAT_DROP_NOPEER, "", xid,
	    "from %s: not a configured peer", a);
	if (engine_log_ok(en))
		log_info("xid 0x%08x from %s: principal %s is not a configured "
		    "peer", xid, a, princ ? princ : "?");
}

/* A command without AP_REQ: 0 (dropped, maybe answered), else 1. */
static int
input_has_apreq(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	char a[ADDR_STRLEN];

	if (wire_has(m, KINK_AP_REQ))
		return 1;
	addr_ntop((const struct sockaddr *)from, a, sizeof(a));
	input_drop(en, STAT_DROP_UNAUTH, "", m->m_xid,
	    "%s from %s without AP_REQ", cmd_name(m->m_type), a);
	log_debug("xid 0x%08x from %s: %s without AP_REQ", m->m_xid, a,
	    cmd_name(m->m_type));
	if (m->m_type != KINK_MSGTYPE_ACK)
		send_error(en, from, to, m->m_xid, KINK_PROTOERR, 0, NULL);
	return 0;
}

/* Cksum and KINK_ENCRYPT of a command of `pe`: 0, else dropped. */
static int
input_opened(struct kink_engine *en, struct kink_msg *m,
    struct kink_peer *pe, struct krb_acceptor *acc,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to,
    struct buf *plain)
{
	int werr;

	if (verify_cksum(m, krb_acceptor_key(acc)) != 0) {
		/* RFC 4430 section 4: MUST be dropped, silently. */
		input_drop(en, STAT_DROP_CKSUM, pe->pe_name, m->m_xid,
		    "bad Cksum");
		log_debug("xid 0x%08x peer %s: bad Cksum, dropped", m->m_xid,
		    pe->pe_name);
		return -1;
	}
	if ((werr = open_encrypt(m, krb_acceptor_key(acc), plain)) == -1) {
		input_drop(en, STAT_DROP_DECRYPT, pe->pe_name, m->m_xid,
		    "KINK_ENCRYPT does not decrypt");
		if (engine_log_ok(en))
			log_warnx("xid 0x%08x peer %s: KINK_ENCRYPT does "
			    "not decrypt", m->m_xid, pe->pe_name);
		return -1;
	}
	if (werr > 0) {
		input_bad_inner(en, m, pe, werr, acc, from, to);
		return -1;
	}
	xact_trace("in", pe->pe_name, m->m_raw.rb_p, m->m_raw.rb_len,
	    wire_has(m, KINK_ENCRYPT) ? plain->b_data : NULL, plain->b_len);
	return 0;
}

/*
 * Peer, Cksum and KINK_ENCRYPT of a command whose AP-REQ gave `e` (on
 * the loop or on a worker): the peer, with *accp holding the session, or
 * NULL when the message was dropped or answered.
 */
static struct kink_peer *
input_authenticated(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to,
    krb_err e, struct krb_acceptor **accp, struct buf *plain)
{
	struct kink_peer *pe;
	char a[ADDR_STRLEN];
	const char *princ;
	enum site_verdict v;

	addr_ntop((const struct sockaddr *)from, a, sizeof(a));
	if (e != 0) {
		input_bad_apreq(en, m, e, *accp, from, to, a);
		return NULL;
	}
	if ((princ = krb_acceptor_client(*accp)) == NULL) {
		input_nopeer(en, m->m_xid, a, princ);
		return NULL;
	}
	if ((pe = input_peer(en, m, princ, from, to, accp, &v)) == NULL) {
		if (v == SITE_REFUSED)
			input_nopeer(en, m->m_xid, a, princ);
		else if (v == SITE_DUP) {
			/* Its first copy waits for the check: no answer. */
			stats_inc(STAT_DUP_INPROGRESS);
			log_debug("xid 0x%08x from %s: %s while its peer's "
			    "address is being checked, dropped", m->m_xid, a,
			    cmd_name(m->m_type));
		}
		return NULL;
	}
	return input_opened(en, m, pe, *accp, from, to, plain) == 0 ? pe :
	    NULL;
}

/* The ACK for responder `x` (NULL: none live for the XID). */
static void
input_ack(struct kink_engine *en, struct kink_peer *pe, struct kink_xact *x,
    const struct kink_msg *m)
{
	const struct xact_ops *ops;

	if (x != NULL && x->xa_state == XS_R_ACKWAIT) {
		stats_inc(STAT_ACK_RCVD);
		if ((ops = en->en_ops[x->xa_cmd]) != NULL &&
		    ops->xo_ack != NULL)
			ops->xo_ack(x);
	} else if (x != NULL)
		input_drop(en, STAT_DROP_STATE, pe->pe_name, m->m_xid,
		    "duplicate ACK");
	else {
		input_drop(en, STAT_DROP_NOXACT, pe->pe_name, m->m_xid,
		    "ACK for no transaction");
		log_debug("xid 0x%08x peer %s: ACK for no transaction",
		    m->m_xid, pe->pe_name);
	}
}

/* A command for an XID the peer already used: the reply cache. */
static void
input_duplicate(struct kink_engine *en, struct kink_xact *x,
    const struct kink_msg *m)
{
	if (x->xa_cmd != m->m_type) {
		input_drop(en, STAT_DROP_STATE, x->xa_peer->pe_name, m->m_xid,
		    "%s reuses the XID of a %s", cmd_name(m->m_type),
		    cmd_name(x->xa_cmd));
		if (engine_log_ok(en))
			log_info(XFMT "%s reuses the XID of a %s, dropped",
			    XARG(x), cmd_name(m->m_type), cmd_name(x->xa_cmd));
	} else if (x->xa_state == XS_R_CACHE || x->xa_state == XS_R_ACKWAIT) {
		/* Answered already: the same REPLY, not a new SA. */
		stats_inc(STAT_DUP_CACHED);
		log_debug(XFMT "duplicate %s, REPLY from cache", XARG(x),
		    cmd_name(m->m_type));
		engine_send(en, &x->xa_local, &x->xa_remote, x->xa_msg.b_data,
		    x->xa_msg.b_len);
	} else
		stats_inc(STAT_DUP_INPROGRESS);
}

/*
 * A valid command of a peer is taken only from one of the peer's
 * configured addresses: its REPLYs (and the cached ones) go back to the
 * source, so one raced from elsewhere would steer the exchange to
 * whoever sent it.  A peer without addresses (responder only) has none
 * to check against.
 */
static int
input_addr_bound(struct kink_engine *en, struct kink_peer *pe,
    const struct kink_msg *m, const struct sockaddr_storage *from)
{
	const struct conf_peer *cp = pe->pe_conf;
	char a[ADDR_STRLEN];
	int i;

	if (cp != NULL && cp->p_naddrs == 0)
		return 1;
	for (i = 0; cp != NULL && i < cp->p_naddrs; i++)
		if (addr_eq(addr_sa(&cp->p_addrs[i]),
		    (const struct sockaddr *)from))
			return 1;
	addr_ntop((const struct sockaddr *)from, a, sizeof(a));
	input_drop(en, STAT_DROP_ADDR, pe->pe_name, m->m_xid,
	    "%s from %s, not an address of the peer", cmd_name(m->m_type), a);
	if (engine_log_ok(en))
		log_warnx("xid 0x%08x peer %s: %s from %s, not an address of "
		    "the peer, dropped", m->m_xid, pe->pe_name,
		    cmd_name(m->m_type), a);
	return 0;
}

/*
 * An authenticated command of `pe` (acc is ours to keep or free): the
 * reply cache for a duplicate, else a new responder transaction.  With
 * verification on workers, a retransmission that overtook its first
 * copy's verification is sorted out here all the same: results come
 * back one at a time on the loop, and the later one finds the XID's
 * transaction.
 */
static void
input_command_auth(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to,
    struct kink_peer *pe, struct krb_acceptor *acc)
{
	const struct xact_ops *ops = en->en_ops[m->m_type];
	struct kink_xact *x;

	if (!input_addr_bound(en, pe, m, from))
		goto out;
	input_epoch(pe, m->m_ap_req_epoch, 0);
	xact_status_seen(pe);

	x = xact_find(en, pe, m->m_xid, XR_RESP);
	if (m->m_type == KINK_MSGTYPE_ACK) {
		input_ack(en, pe, x, m);
		goto out;
	}
	if (x != NULL) {
		input_duplicate(en, x, m);
		goto out;
	}
	if ((x = xact_new(en, pe, m->m_xid, XR_RESP, m->m_type)) == NULL)
		goto out;
	x->xa_acc = acc;
	acc = NULL;
	x->xa_local = *to;
	x->xa_remote = *from;
	engine_event(en, CTL_EV_XACT_START, pe->pe_name, x->xa_xid,
	    "responder %s", cmd_name(x->xa_cmd));
	if (ops != NULL && ops->xo_respond != NULL)
		ops->xo_respond(x, m);
	else
		xact_fail(x, 0, "unexpected command");
out:
	krb_acceptor_free(acc);
}

/*
 * The parked command's check answered (site.c): on with its peer, as if
 * the answer had been there at once; the AP-REQ verified before is not
 * verified again (the replay cache would refuse it).
 */
static void
input_resume(void *arg, struct kink_peer *pe, int refused)
{
	struct kink_parked *pk = arg;
	struct kink_engine *en = pk->pk_en;
	struct kink_msg m;
	struct buf plain;
	char a[ADDR_STRLEN];

	if (pe == NULL && refused) {
		addr_ntop((const struct sockaddr *)&pk->pk_from, a, sizeof(a));
		input_nopeer(en, pk->pk_xid, a, krb_acceptor_client(
		    pk->pk_acc));
	} else if (pe != NULL && !en->en_stopping &&
	    wire_parse(&m, pk->pk_msg, pk->pk_len) == 0) {
		buf_init(&plain, KINK_MAX_MSG);
		if (input_opened(en, &m, pe, pk->pk_acc, &pk->pk_from,
		    &pk->pk_to, &plain) == 0) {
			input_command_auth(en, &m, &pk->pk_from, &pk->pk_to,
			    pe, pk->pk_acc);
			pk->pk_acc = NULL;
		}
		buf_free(&plain);
	}
	krb_acceptor_free(pk->pk_acc);
	free(pk);
}

/* A command waiting for a verification worker: its own copy. */
struct kink_verifying {
	TAILQ_ENTRY(kink_verifying) kv_entry;
	struct kink_engine	*kv_en;
	struct krb_vreq		*kv_req;
	struct sockaddr_storage	 kv_from, kv_to;
	size_t			 kv_len;
	uint8_t			 kv_msg[];
};

static void
input_verified(krb_err e, struct krb_acceptor *acc, void *arg)
{
	struct kink_verifying *kv = arg;
	struct kink_engine *en = kv->kv_en;
	struct kink_peer *pe;
	struct kink_msg m;
	struct buf plain;

	TAILQ_REMOVE(&en->en_verifying, kv, kv_entry);
	stats_inc(STAT_KRB_WORKER);
	/* Parsed once already: the same octets parse the same again. */
	if (!en->en_stopping && wire_parse(&m, kv->kv_msg, kv->kv_len) == 0) {
		buf_init(&plain, KINK_MAX_MSG);
		if ((pe = input_authenticated(en, &m, &kv->kv_from,
		    &kv->kv_to, e, &acc, &plain)) != NULL) {
			input_command_auth(en, &m, &kv->kv_from, &kv->kv_to,
			    pe, acc);
			acc = NULL;
		}
		buf_free(&plain);
	}
	krb_acceptor_free(acc);
	free(kv);
}

/* Hand the AP-REQ to a worker; a full queue drops the message. */
static void
input_defer(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct kink_verifying *kv;
	char a[ADDR_STRLEN];
	int flags = engine_u2u_allowed(en) ? KRB_RDREQ_U2U : 0;

	if (m->m_type != KINK_MSGTYPE_ACK)
		flags |= KRB_RDREQ_MKREP;
	if ((kv = malloc(sizeof(*kv) + m->m_raw.rb_len)) != NULL) {
		kv->kv_en = en;
		kv->kv_from = *from;
		kv->kv_to = *to;
		kv->kv_len = m->m_raw.rb_len;
		memcpy(kv->kv_msg, m->m_raw.rb_p, kv->kv_len);
		if ((kv->kv_req = krb_verify(en->en_krb, m->m_ap_req.rb_p,
		    m->m_ap_req.rb_len, flags, input_verified, kv)) != NULL) {
			TAILQ_INSERT_TAIL(&en->en_verifying, kv, kv_entry);
			return;
		}
		free(kv);
	}
	addr_ntop((const struct sockaddr *)from, a, sizeof(a));
	input_drop(en, STAT_DROP_KRB_BUSY, "", m->m_xid,
	    "%s from %s: no room to verify its AP-REQ", cmd_name(m->m_type),
	    a);
	log_debug("xid 0x%08x from %s: %s dropped, AP-REQ verification queue "
	    "full", m->m_xid, a, cmd_name(m->m_type));
}

/* A datagram that, if well formed, has an AP-REQ to verify: a command
 * or an ACK (GETTGT is answered without one, a REPLY is ours). */
static int
input_wants_krb(const uint8_t *p, size_t len)
{
	return len >= KINK_HDR_LEN && p[0] != 0 && p[0] <= KINK_MSGTYPE_MAX &&
	    p[0] != KINK_MSGTYPE_REPLY && p[0] != KINK_MSGTYPE_GETTGT;
}

/*
 * The hand-off to a worker costs a queue, a pipe byte and a loop wake-up
 * per AP-REQ: worth it only when something else can run meanwhile.  So
 * a worker gets it when requests are with the workers already (which
 * also keeps results in arrival order: one verified here would overtake
 * them) or the receive batch holds another AP-REQ to handle; alone, it
 * is verified here, as with no workers.
 */
static int
input_parallel(struct kink_engine *en)
{
	if (krb_workers(en->en_krb) == 0)
		return 0;
	if (krb_verify_pending(en->en_krb) > 0)
		return 1;
	return en->en_rx_more != NULL &&
	    en->en_rx_more(en->en_net, input_wants_krb) > 0;
}

static void
input_command(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct krb_acceptor *acc = NULL;
	struct kink_peer *pe;
	struct buf plain;
	krb_err e;

	if (!input_has_apreq(en, m, from, to))
		return;
	if (input_parallel(en)) {
		input_defer(en, m, from, to);
		return;
	}
	buf_init(&plain, KINK_MAX_MSG);
	e = krb_rd_req(en->en_krb, m->m_ap_req.rb_p, m->m_ap_req.rb_len,
	    engine_u2u_allowed(en) ? KRB_RDREQ_U2U : 0, &acc);
	if ((pe = input_authenticated(en, m, from, to, e, &acc, &plain)) !=
	    NULL) {
		input_command_auth(en, m, from, to, pe, acc);
		acc = NULL;
	}
	krb_acceptor_free(acc);
	buf_free(&plain);
}

void
xact_input_fini(struct kink_engine *en)
{
	struct kink_verifying *kv;

	while ((kv = TAILQ_FIRST(&en->en_verifying)) != NULL) {
		TAILQ_REMOVE(&en->en_verifying, kv, kv_entry);
		krb_verify_cancel(kv->kv_req);
		free(kv);
	}
}

/* The peer's policy allows User-to-User. */
static int
u2u_ok(const struct kink_xact *x)
{
	return x->xa_peer->pe_conf != NULL && x->xa_peer->pe_conf->p_u2u;
}

/* Start `x` over, the new exchange getting its ticket as `how` says. */
static void
restart_u2u(struct kink_xact *x, uint8_t how, const char *why)
{
	struct kink_peer *pe = x->xa_peer;

	pe->pe_u2u_next = how;
	xact_restart(x, why);
	pe->pe_u2u_next = 0;
}

/* A KRB_ERROR in an error REPLY to our command `x`. */
static void
input_krb_error(struct kink_engine *en, struct kink_xact *x,
    const struct krb_error_info *ki, int prot)
{
	snprintf(x->xa_lasterr, sizeof(x->xa_lasterr), "KRB_ERROR %d %s%s",
	    ki->ke_code, wire_krb_error_name(ki->ke_code),
	    prot ? "" : " (unauthenticated)");
	/* Only a protected SKEW moves our clock (3.5). */
	if (ki->ke_code == KRB_AP_ERR_SKEW &&
	    krb_client_skew(x->xa_client, ki, prot) == 1 &&
	    xact_retransmits(x->xa_state) && xact_build_cmd(x) == 0) {
		log_info(XFMT "clock offset adjusted, resending", XARG(x));
		xact_send(x, 1);
	} else if (prot && ki->ke_code == KRB_AP_ERR_TKT_EXPIRED) {
		krb_ticket_forget(en->en_krb, x->xa_peer->pe_principal);
		if (x->xa_u2u_used)
			xact_gettgt_forget(x->xa_peer, 0);
		xact_restart(x, "ticket expired at the peer");
	} else if (ki->ke_code == KRB_AP_ERR_USER_TO_USER_REQUIRED &&
	    u2u_ok(x) && !x->xa_u2u_used) {
		/*
		 * 3.1: acted on by policy.  Unauthenticated (as it is from a
		 * peer that cannot read our ticket), it decides this exchange
		 * only; the KDC's word (KDC_ERR_MUST_USE_USER2USER) is what
		 * marks a peer User-to-User for good.
		 */
		if (prot)
			x->xa_peer->pe_u2u = 1;
		restart_u2u(x, PE_U2U_NEXT_USE, "peer requires User-to-User");
	} else if (u2u_ok(x) && x->xa_u2u_used) {
		/*
		 * A U2U ticket the peer cannot use: most likely it restarted
		 * with a new TGT (3.7.1).  At most once per exchange; the SAs
		 * are not touched.  Unauthenticated, the cache stays (a forged
		 * error must not cost the peer its ticket): the new exchange
		 * fetches a fresh TGT, which replaces the cache only if it
		 * differs.
		 */
		if (prot)
			xact_gettgt_forget(x->xa_peer, 1);
		restart_u2u(x, prot ? 0 : PE_U2U_NEXT_FRESH,
		    "peer refused our User-to-User ticket");
	}
}

/* A REPLY without AP_REP to our command: errors only, maybe forged. */
static void
input_error_reply(struct kink_engine *en, struct kink_xact *x,
    const struct kink_msg *m, struct krb_key *key)
{
	struct krb_error_info ki;
	int prot = verify_cksum(m, key) == 0;

	stats_inc(STAT_ERR_RCVD);
	if (wire_has(m, KINK_KRB_ERROR) && krb_rd_error(en->en_krb,
	    m->m_krb_error.rb_p, m->m_krb_error.rb_len, &ki) == 0)
		input_krb_error(en, x, &ki, prot);
	else if (wire_has(m, KINK_ERROR))
		snprintf(x->xa_lasterr, sizeof(x->xa_lasterr),
		    "KINK_ERROR %s%s", wire_error_name(m->m_error),
		    prot ? "" : " (unauthenticated)");
	else if (wire_has(m, KINK_TGT_REP)) {
		/*
		 * 3.7.1: the peer cannot decrypt our U2U ticket and sent its
		 * TGT.  Nothing is concluded about the peer; a new U2U ticket
		 * under that TGT, new XID, once.
		 */
		strlcpy(x->xa_lasterr, "TGT_REP to a command",
		    sizeof(x->xa_lasterr));
		if (u2u_ok(x) && x->xa_peer->pe_u2u)
			xact_gettgt_tgt_rep(x, m->m_tgt_rep.rb_p,
			    m->m_tgt_rep.rb_len);
	} else
		strlcpy(x->xa_lasterr, "REPLY without AP_REP",
		    sizeof(x->xa_lasterr));
	if (engine_log_ok(en))
		log_info(XFMT "error REPLY: %s", XARG(x), x->xa_lasterr);
}

/* AP-REP, Cksum and KINK_ENCRYPT of a REPLY to `x`; 0 = authentic. */
static int
input_reply_verify(struct kink_engine *en, struct kink_xact *x,
    struct kink_msg *m, struct krb_key *key, struct buf *plain)
{
	if (krb_client_rd_rep(x->xa_client, m->m_ap_rep.rb_p,
	    m->m_ap_rep.rb_len) != 0) {
		input_drop(en, STAT_DROP_KRB, x->xa_peer->pe_name, x->xa_xid,
		    "AP-REP does not verify");
		log_debug(XFMT "AP-REP does not verify, dropped", XARG(x));
		return -1;
	}
	if (verify_cksum(m, key) != 0) {
		input_drop(en, STAT_DROP_CKSUM, x->xa_peer->pe_name, x->xa_xid,
		    "bad Cksum on REPLY");
		log_debug(XFMT "bad Cksum on REPLY, dropped", XARG(x));
		return -1;
	}
	if (open_encrypt(m, key, plain) != 0) {
		input_drop(en, STAT_DROP_DECRYPT, x->xa_peer->pe_name,
		    x->xa_xid, "REPLY's KINK_ENCRYPT does not decrypt");
		if (engine_log_ok(en))
			log_warnx(XFMT "REPLY's KINK_ENCRYPT does not decrypt",
			    XARG(x));
		return -1;
	}
	xact_trace("in", x->xa_peer->pe_name, m->m_raw.rb_p, m->m_raw.rb_len,
	    wire_has(m, KINK_ENCRYPT) ? plain->b_data : NULL, plain->b_len);
	return 0;
}

/*
 * Karn's rule: only a command sent once times its REPLY (after a resend
 * the REPLY may answer either copy).
 */
static void
input_rtt(struct kink_engine *en, struct kink_xact *x)
{
	struct kink_conf *c = en->en_conf;
	struct rtt_est *re = &x->xa_peer->pe_rtt;
	uint64_t now = timer_now_ms(), sent = x->xa_sent_ms;
	uint32_t r;

	x->xa_sent_ms = 0;
	if (sent == 0 || x->xa_tries != 1 || now < sent)
		return;
	r = now - sent > UINT32_MAX ? UINT32_MAX : (uint32_t)(now - sent);
	rtt_sample(re, r, c->c_retrans_ms, c->c_retrans_max_ms);
	log_debug(XFMT "round trip %u ms: srtt %u rttvar %u, first "
	    "retransmit after %u ms", XARG(x), r, re->re_srtt_ms,
	    re->re_rttvar_ms, re->re_rto_ms);
}

static void
input_reply(struct kink_engine *en, struct kink_msg *m,
    const struct sockaddr_storage *from)
{
	const struct xact_ops *ops, *gettgt = en->en_ops[KINK_MSGTYPE_GETTGT];
	struct kink_xact *x;
	struct krb_key *key;
	struct buf plain;
	char a[ADDR_STRLEN];

	buf_init(&plain, KINK_MAX_MSG);
	addr_ntop((const struct sockaddr *)from, a, sizeof(a));
	if ((x = xact_find(en, NULL, m->m_xid, XR_INIT)) != NULL &&
	    x->xa_state == XS_I_GETTGT) {
		if (gettgt != NULL && gettgt->xo_reply != NULL)
			gettgt->xo_reply(x, m);
		goto out;
	}
	if (x == NULL || x->xa_client == NULL) {
		input_drop(en, STAT_DROP_NOXACT, "", m->m_xid,
		    "REPLY from %s for no transaction", a);
		log_debug("xid 0x%08x from %s: REPLY for no transaction",
		    m->m_xid, a);
		goto out;
	}
	key = krb_client_key(x->xa_client);
	if (!wire_has(m, KINK_AP_REP)) {
		input_error_reply(en, x, m, key);
		goto out;
	}
	if (input_reply_verify(en, x, m, key, &plain) != 0)
		goto out;
	input_epoch(x->xa_peer, m->m_ap_rep_epoch, x->xa_pair);
	xact_status_seen(x->xa_peer);
	input_rtt(en, x);
	/*
	 * 3.2: an ACK whenever an authenticated REPLY has ACKREQ, "even if
	 * [we believe] the responder was in error".  CREATE does it itself
	 * (and regenerates it in I_AGING); DELETE and STATUS REPLYs carry
	 * ACKREQ only from a peer outside section 4, and an ACK costs nothing.
	 */
	if (wire_ackreq(m) &&
	    (x->xa_state == XS_I_DELETE || x->xa_state == XS_I_STATUS))
		xact_send_ack(x);
	if ((ops = en->en_ops[x->xa_cmd]) != NULL && ops->xo_reply != NULL)
		ops->xo_reply(x, m);
	else
		input_drop(en, STAT_DROP_STATE, x->xa_peer->pe_name, x->xa_xid,
		    "REPLY to a %s not handled", cmd_name(x->xa_cmd));
out:
	buf_free(&plain);
}

/*
 * The per-type payload rules (wire_check_type), before any Kerberos work:
 * a CREATE with a TGT_REQ is malformed, not an AP-REQ to verify.  A
 * command or ACK without its AP_REQ is left to input_has_apreq, which
 * answers it the same way (PROTOERR) but counts it as unauthenticated.
 */
static int
input_check_type(const struct kink_msg *m)
{
	int err = wire_check_type(m);

	if (err == KINK_WE_MISSING_PL && m->m_type != KINK_MSGTYPE_REPLY &&
	    m->m_type != KINK_MSGTYPE_GETTGT && !wire_has(m, KINK_AP_REQ))
		return 0;
	return err;
}

void
xact_input(void *arg, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len)
{
	struct kink_engine *en = arg;
	const struct xact_ops *ops;
	struct kink_msg m;
	char a[ADDR_STRLEN];
	int err, act;

	/* Stopping: only the REPLYs to our shutdown DELETEs still count. */
	if (en->en_stopping && (len == 0 || p[0] != KINK_MSGTYPE_REPLY))
		return;
	if ((err = wire_parse(&m, p, len)) != 0 ||
	    (err = input_check_type(&m)) != 0) {
		addr_ntop((const struct sockaddr *)from, a, sizeof(a));
		input_drop(en, STAT_DROP_PARSE, "", 0,
		    "malformed KINK message from %s: %s", a, wire_strerror(err));
		log_debug("from %s: malformed KINK message: %s", a,
		    wire_strerror(err));
		act = wire_err_action(err);
		/* Answer only what looks like a command (no REPLY loops). */
		if (act > 0 && len >= KINK_HDR_LEN && p[0] != 0 &&
		    p[0] != KINK_MSGTYPE_REPLY && p[0] != KINK_MSGTYPE_ACK &&
		    p[0] <= KINK_MSGTYPE_MAX)
			send_error(en, from, to, get_be32(p + 8),
			    (uint32_t)act, 0, NULL);
		return;
	}
	ops = m.m_type <= KINK_MSGTYPE_MAX ? en->en_ops[m.m_type] : NULL;
	if (m.m_type == KINK_MSGTYPE_REPLY)
		input_reply(en, &m, from);
	else if (ops != NULL && ops->xo_input != NULL)
		/* GETTGT: answered statelessly. */
		ops->xo_input(en, &m, from, to);
	else if (m.m_type == KINK_MSGTYPE_ACK ||
	    (ops != NULL && ops->xo_respond != NULL))
		input_command(en, &m, from, to);
	else
		input_drop(en, STAT_DROP_PARSE, "", m.m_xid,
		    "message type %u not handled", m.m_type);
}
