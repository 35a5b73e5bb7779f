/*
 * GETTGT (RFC 4430 sections 3.1, 3.7.1, 6.6).
 *
 * Initiator: when the KDC answers KDC_ERR_MUST_USE_USER2USER for the
 * peer's ticket and the peer's policy says "u2u allow", the transaction
 * sends GETTGT{TGT_REQ(peer principal)} (unauthenticated, retransmitted
 * like any command), takes the TGT from the KINK_TGT_REP, gets a U2U
 * ticket under it and carries on.  A KINK_U2UDENIED (unauthenticated)
 * has the exchange ask the KDC for an ordinary ticket if it has not yet
 * (RFC 4430 5.6: "MAY retry with the non-User-to-User mode (if it has
 * not yet been tried)"): a peer we knew as User-to-User that got a
 * service key.  Only that ticket's success clears the peer's
 * User-to-User state, so a forged denial costs one exchange at most.
 * If the KDC already refused this exchange an ordinary ticket, the
 * denial is recorded and the exchange gives up on time.
 * The other trigger, a KRB_AP_ERR_USER_TO_USER_REQUIRED REPLY from the
 * peer, starts the exchange over (new XID) straight with GETTGT.  The
 * peer's TGT and the U2U ticket are cached per peer (struct kink_peer):
 * later exchanges reuse the ticket until it nears its end, then make a
 * new one under the cached TGT; an error REPLY to a cached U2U ticket, or
 * a TGT_REP carrying a different TGT (3.7.1: the peer restarted), drops
 * them and starts that exchange over once; a TGT_REP replaces them only
 * once the KDC issued a ticket under its TGT (xact_gettgt_tgt_rep).  As
 * responder, kinkd answers
 * a ticket that does not decrypt from a peer allowed U2U with a REPLY
 * carrying its TGT (3.7.1), so that initiator needs no GETTGT.
 *
 * Responder: the request is unauthenticated, so it is answered without
 * creating any state, at a bounded rate, and only for a configured peer
 * (by source address) whose policy allows User-to-User; everyone else
 * gets KINK_U2UDENIED.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "kink.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "stats.h"
#include "timer.h"
#include "wire.h"
#include "xact.h"

static int	gettgt_start(struct kink_xact *);

/* ---- tickets ----------------------------------------------------------- */

struct ticket_wait {
	struct kink_engine	*tw_en;
	uint64_t	 tw_serial;
	void		(*tw_next)(struct kink_xact *);
	/* The TGT a U2U ticket is asked under: cached only once the KDC
	 * issued one (3.7.1: the old ticket stays until then). */
	uint8_t		*tw_tgt;	/* same allocation, after the struct */
	size_t		 tw_tgtlen;
};

static void
xact_ticket_cb(krb_err err, struct krb_ticket *tkt, void *arg)
{
	struct ticket_wait *tw = arg;
	struct kink_xact *x;
	void (*next)(struct kink_xact *) = tw->tw_next;

	x = xact_by_serial(tw->tw_en, tw->tw_serial);
	if (x == NULL) {
		free(tw);
		krb_ticket_free(tkt);
		return;
	}
	x->xa_kreq = NULL;
	x->xa_kreq_arg = NULL;
	if (err != 0 && krb_err_rfc(err) == KDC_ERR_MUST_USE_USER2USER &&
	    !x->xa_u2u_tried && x->xa_peer->pe_conf != NULL &&
	    x->xa_peer->pe_conf->p_u2u) {
		/* 3.1: the peer's TGT by GETTGT, then a U2U ticket. */
		free(tw);
		x->xa_u2u_tried = 1;
		x->xa_peer->pe_u2u = 1;
		gettgt_start(x);
		return;
	}
	if (err == 0 && x->xa_u2u_fallback && !krb_ticket_is_u2u(tkt)) {
		struct kink_peer *pe = x->xa_peer;

		log_info(XFMT "ordinary ticket for %s: the peer is no longer "
		    "User-to-User", XARG(x), pe->pe_principal);
		pe->pe_u2u = 0;
		xact_gettgt_forget(pe, 1);
	}
	if (err == 0 && krb_ticket_is_u2u(tkt)) {
		struct kink_peer *pe = x->xa_peer;

		x->xa_u2u_used = 1;
		if (tw->tw_tgtlen > 0 && xact_gettgt_store_tgt(pe,
		    tw->tw_tgt, tw->tw_tgtlen) == -1)
			xact_gettgt_forget(pe, 1);
		if (pe->pe_u2u_tkt != tkt) {
			krb_ticket_free(pe->pe_u2u_tkt);
			pe->pe_u2u_tkt = krb_ticket_ref(tkt);
		}
	}
	free(tw);
	if (err != 0) {
		stats_inc(STAT_KDC_ERR);
		xact_fail(x, CTL_ERR_FAILED, "no ticket for %s: %s%s",
		    x->xa_peer->pe_principal,
		    krb_err_str(x->xa_en->en_krb, err), x->xa_u2u_fallback ?
		    " (after the peer denied User-to-User)" : "");
		return;
	}
	x->xa_client = krb_client_new(x->xa_en->en_krb, tkt);
	krb_ticket_free(tkt);
	if (x->xa_client == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "krb client");
		return;
	}
	/* The KDC picks the session key (AD still gives RC4 to accounts
	 * set to it): the one fact about it an operator may need. */
	if (log_enabled(1)) {
		char en[48];

		log_debug("xid 0x%08x peer %s: ticket, session key %s",
		    XARG(x), krb_enctype_name(krb_key_enctype(
		    krb_client_key(x->xa_client)), en, sizeof(en)));
	}
	next(x);
}

/* A cached U2U ticket, handed over from the loop like a krb answer. */
struct u2u_cached {
	struct ticket_wait	 uc_tw;
	struct krb_ticket	*uc_tkt;
	struct timer		 uc_timer;
};

static void
u2u_cached_cb(void *arg)
{
	struct u2u_cached *uc = arg;
	struct ticket_wait *tw;

	timer_fini(&uc->uc_timer);
	/* xact_ticket_cb frees the wait and drops the reference. */
	if ((tw = malloc(sizeof(*tw))) == NULL) {
		struct kink_xact *x = xact_by_serial(uc->uc_tw.tw_en,
		    uc->uc_tw.tw_serial);

		krb_ticket_free(uc->uc_tkt);
		free(uc);
		if (x != NULL)
			xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	*tw = uc->uc_tw;
	xact_ticket_cb(0, uc->uc_tkt, tw);
	free(uc);
}

/* Like kinkd's margin for ordinary tickets (krb.c): 60 s or a tenth. */
static int
u2u_ticket_fresh(const struct krb_ticket *t)
{
	return krb_ticket_endtime(t) - time(NULL) > 60;
}

/*
 * A peer known to need User-to-User: the cached ticket, else a new one
 * under the cached TGT, else GETTGT.  0 / -1 like xact_gettgt_ticket.
 */
static int
gettgt_cached_u2u(struct kink_xact *x)
{
	struct kink_peer *pe = x->xa_peer;
	struct u2u_cached *uc;

	x->xa_u2u_tried = 1;
	if (pe->pe_u2u_next == PE_U2U_NEXT_FRESH)
		/* An unauthenticated refusal: ask, keep the cache. */
		return gettgt_start(x);
	if (pe->pe_u2u_tkt != NULL && !u2u_ticket_fresh(pe->pe_u2u_tkt))
		xact_gettgt_forget(pe, 0);
	if (pe->pe_u2u_tkt != NULL) {
		if ((uc = calloc(1, sizeof(*uc))) == NULL) {
			xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
			return -1;
		}
		uc->uc_tw.tw_en = x->xa_en;
		uc->uc_tw.tw_serial = x->xa_serial;
		uc->uc_tw.tw_next = x->xa_next;
		uc->uc_tkt = krb_ticket_ref(pe->pe_u2u_tkt);
		/* Never from inside the call, as the krb layer promises. */
		if (timer_init(&uc->uc_timer, x->xa_en->en_base, u2u_cached_cb,
		    uc) == -1) {
			krb_ticket_free(uc->uc_tkt);
			free(uc);
			xact_fail(x, CTL_ERR_INTERNAL, "timer_init");
			return -1;
		}
		timer_add_ms(&uc->uc_timer, 0);
		log_debug(XFMT "cached User-to-User ticket", XARG(x));
		return 0;
	}
	if (pe->pe_u2u_tgt != NULL)
		return xact_gettgt_ticket_u2u(x, pe->pe_u2u_tgt,
		    pe->pe_u2u_tgtlen);
	return gettgt_start(x);
}

static int	gettgt_plain(struct kink_xact *,
		    void (*)(struct kink_xact *));

int
xact_gettgt_ticket(struct kink_xact *x, void (*next)(struct kink_xact *))
{
	if (xact_state(x, XS_I_TICKET) == -1)
		return -1;
	if ((x->xa_peer->pe_u2u || x->xa_peer->pe_u2u_next) &&
	    x->xa_peer->pe_conf != NULL && x->xa_peer->pe_conf->p_u2u) {
		x->xa_next = next;
		return gettgt_cached_u2u(x);
	}
	return gettgt_plain(x, next);
}

/* An ordinary service ticket for the peer from the KDC. */
static int
gettgt_plain(struct kink_xact *x, void (*next)(struct kink_xact *))
{
	struct ticket_wait *tw;

	x->xa_plain_tried = 1;
	if ((tw = calloc(1, sizeof(*tw))) == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return -1;
	}
	tw->tw_en = x->xa_en;
	tw->tw_serial = x->xa_serial;
	tw->tw_next = next;
	x->xa_next = next;
	x->xa_kreq = krb_get_ticket(x->xa_en->en_krb, x->xa_peer->pe_principal,
	    xact_ticket_cb, tw);
	if (x->xa_kreq == NULL) {
		free(tw);
		xact_fail(x, CTL_ERR_FAILED, "cannot request a ticket");
		return -1;
	}
	/* xact_free() cancels the request and frees the thunk. */
	x->xa_kreq_arg = tw;
	return 0;
}

int
xact_gettgt_ticket_u2u(struct kink_xact *x, const uint8_t *tgt, size_t len)
{
	struct ticket_wait *tw;

	if (x->xa_state != XS_I_TICKET && xact_state(x, XS_I_TICKET) == -1)
		return -1;
	if ((tw = calloc(1, sizeof(*tw) + len)) == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return -1;
	}
	tw->tw_en = x->xa_en;
	tw->tw_serial = x->xa_serial;
	tw->tw_next = x->xa_next;
	tw->tw_tgt = (uint8_t *)(tw + 1);
	memcpy(tw->tw_tgt, tgt, len);
	tw->tw_tgtlen = len;
	x->xa_kreq = krb_get_ticket_u2u(x->xa_en->en_krb,
	    x->xa_peer->pe_principal, tgt, len, xact_ticket_cb, tw);
	if (x->xa_kreq == NULL) {
		free(tw);
		xact_fail(x, CTL_ERR_FAILED, "cannot request a U2U ticket");
		return -1;
	}
	x->xa_kreq_arg = tw;
	return 0;
}

/* ---- the User-to-User cache --------------------------------------------- */

int
xact_gettgt_store_tgt(struct kink_peer *pe, const uint8_t *tgt, size_t len)
{
	uint8_t *copy;

	if (pe->pe_u2u_tgt != NULL && pe->pe_u2u_tgtlen == len &&
	    memcmp(pe->pe_u2u_tgt, tgt, len) == 0)
		return 0;
	if (len == 0 || (copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, tgt, len);
	xact_gettgt_forget(pe, 1);
	pe->pe_u2u_tgt = copy;
	pe->pe_u2u_tgtlen = len;
	return 1;
}

void
xact_gettgt_forget(struct kink_peer *pe, int tgt)
{
	krb_ticket_free(pe->pe_u2u_tkt);
	pe->pe_u2u_tkt = NULL;
	if (!tgt)
		return;
	free(pe->pe_u2u_tgt);
	pe->pe_u2u_tgt = NULL;
	pe->pe_u2u_tgtlen = 0;
}

struct u2u_probe {
	struct kink_engine	*up_en;
	struct kink_peer *up_peer;
	uint64_t	 up_serial;
	uint8_t		*up_tgt;
	size_t		 up_tgtlen;
};

static void
u2u_probe_free(struct u2u_probe *up)
{
	if (up == NULL)
		return;
	free(up->up_tgt);
	free(up);
}

static void
u2u_probe_cancel(struct kink_peer *pe)
{
	krb_req_cancel(pe->pe_u2u_probe);
	u2u_probe_free(pe->pe_u2u_probe_arg);
	pe->pe_u2u_probe = NULL;
	pe->pe_u2u_probe_arg = NULL;
}

static void
u2u_probe_cb(krb_err err, struct krb_ticket *tkt, void *arg)
{
	struct u2u_probe *up = arg;
	struct kink_peer *pe = up->up_peer;
	struct kink_xact *x;

	pe->pe_u2u_probe = NULL;
	pe->pe_u2u_probe_arg = NULL;
	x = xact_by_serial(up->up_en, up->up_serial);
	if (err != 0) {
		/* Forged, or not the peer's: nothing changes (3.7.1). */
		log_info("peer %s: TGT_REP did not give a User-to-User ticket "
		    "(%s); cached ticket kept", pe->pe_name,
		    krb_err_str(up->up_en->en_krb, err));
		u2u_probe_free(up);
		return;
	}
	/* The KDC vouched for it: the peer's new TGT, and its ticket. */
	if (xact_gettgt_store_tgt(pe, up->up_tgt, up->up_tgtlen) != -1) {
		krb_ticket_free(pe->pe_u2u_tkt);
		pe->pe_u2u_tkt = krb_ticket_ref(tkt);
	}
	krb_ticket_free(tkt);
	u2u_probe_free(up);
	if (x != NULL && !x->xa_completed)
		xact_restart(x, "peer's TGT changed");
}

void
xact_gettgt_tgt_rep(struct kink_xact *x, const uint8_t *tgt, size_t len)
{
	struct kink_peer *pe = x->xa_peer;
	struct u2u_probe *up;

	if (pe->pe_u2u_probe != NULL || len == 0 ||
	    (pe->pe_u2u_tgt != NULL && pe->pe_u2u_tgtlen == len &&
	    memcmp(pe->pe_u2u_tgt, tgt, len) == 0))
		return;
	if ((up = calloc(1, sizeof(*up))) == NULL ||
	    (up->up_tgt = malloc(len)) == NULL) {
		free(up);
		return;
	}
	memcpy(up->up_tgt, tgt, len);
	up->up_tgtlen = len;
	up->up_en = x->xa_en;
	up->up_peer = pe;
	up->up_serial = x->xa_serial;
	pe->pe_u2u_probe = krb_get_ticket_u2u(x->xa_en->en_krb,
	    pe->pe_principal, tgt, len, u2u_probe_cb, up);
	if (pe->pe_u2u_probe == NULL) {
		u2u_probe_free(up);
		return;
	}
	pe->pe_u2u_probe_arg = up;
	log_info(XFMT "TGT_REP to a command: trying the TGT it carries",
	    XARG(x));
}

static int
gettgt_start(struct kink_xact *x)
{
	struct kink_builder kb;

	wire_build_begin(&kb, &x->xa_msg, KINK_MSGTYPE_GETTGT, KINK_DOI_IPSEC,
	    x->xa_xid, 0);
	wire_build_tgt_req(&kb, x->xa_peer->pe_principal,
	    strlen(x->xa_peer->pe_principal));
	wire_build_finish(&kb, NULL);
	if (kb.kb_err != 0) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build GETTGT: %s",
		    wire_strerror(kb.kb_err));
		return -1;
	}
	log_info(XFMT "the KDC requires User-to-User: asking for the peer's "
	    "TGT", XARG(x));
	if (xact_state(x, XS_I_GETTGT) == -1)
		return -1;
	return xact_send_first(x);
}

static void
gettgt_reply(struct kink_xact *x, const struct kink_msg *m)
{
	if (wire_has(m, KINK_TGT_REP)) {
		log_debug(XFMT "TGT_REP: %zu octets", XARG(x),
		    m->m_tgt_rep.rb_len);
		/* Unauthenticated: it replaces the cached TGT and ticket
		 * only once the KDC issued a ticket under it (3.7.1). */
		xact_gettgt_ticket_u2u(x, m->m_tgt_rep.rb_p,
		    m->m_tgt_rep.rb_len);
		return;
	}
	stats_inc(STAT_ERR_RCVD);
	if (wire_has(m, KINK_ERROR))
		snprintf(x->xa_lasterr, sizeof(x->xa_lasterr),
		    "KINK_ERROR %s to GETTGT (unauthenticated)",
		    wire_error_name(m->m_error));
	if (!wire_has(m, KINK_ERROR) || m->m_error != KINK_U2UDENIED ||
	    x->xa_u2u_fallback)
		return;
	if (x->xa_plain_tried) {
		log_info(XFMT "the peer denies User-to-User (KINK_U2UDENIED) "
		    "and the KDC refused an ordinary ticket: no retry",
		    XARG(x));
		x->xa_u2u_fallback = 1;	/* said once */
		return;
	}
	log_info(XFMT "the peer denies User-to-User (KINK_U2UDENIED): "
	    "retrying with an ordinary ticket", XARG(x));
	x->xa_u2u_fallback = 1;
	if (xact_state(x, XS_I_TICKET) == -1)
		return;
	gettgt_plain(x, x->xa_next);
}

int
xact_gettgt_stale_ticket(struct kink_engine *en, uint32_t xid,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct conf_peer *cp;
	struct kink_builder kb;
	struct buf msg, tgt;
	char a[ADDR_STRLEN];
	int rv = -1;

	cp = conf_peer_by_addr(en->en_conf, (const struct sockaddr *)from);
	if (cp == NULL || !cp->p_u2u)
		return -1;
	if (engine_ratelimit(en, from)) {
		stats_inc(STAT_DROP_UNAUTH);
		return 0;	/* answered as far as the caller goes */
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&tgt, KINK_MAX_MSG);
	if (krb_get_tgt(en->en_krb, &tgt) != 0)
		goto out;
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC, xid,
	    0);
	wire_build_tgt_rep(&kb, tgt.b_data, tgt.b_len);
	wire_build_finish(&kb, NULL);
	if (kb.kb_err != 0 || engine_send(en, to, from, msg.b_data,
	    msg.b_len) != 0)
		goto out;
	if (engine_log_ok(en))
		log_info("xid 0x%08x from %s: ticket does not decrypt, "
		    "answered with our TGT (3.7.1)", xid,
		    addr_ntop((const struct sockaddr *)from, a, sizeof(a)));
	rv = 0;
out:
	buf_free(&msg);
	buf_free(&tgt);
	return rv;
}

static void
gettgt_respond(struct kink_engine *en, const struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct conf_peer *cp;
	struct kink_builder kb;
	struct buf msg, tgt, der;
	char a[ADDR_STRLEN];
	int allow, us;

	if (engine_ratelimit(en, from)) {
		stats_inc(STAT_DROP_UNAUTH);
		return;
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&tgt, KINK_MAX_MSG);
	buf_init(&der, KINK_MAX_MSG);
	cp = conf_peer_by_addr(en->en_conf, (const struct sockaddr *)from);
	/* 4.2.4: the TGT's cname must be the name asked for: ours only. */
	us = wire_has(m, KINK_TGT_REQ) && rbuf_eq(&m->m_tgt_req,
	    en->en_principal, strlen(en->en_principal));
	allow = cp != NULL && cp->p_u2u && us &&
	    krb_get_tgt(en->en_krb, &tgt) == 0;
	log_info("xid 0x%08x from %s: GETTGT %s", m->m_xid,
	    addr_ntop((const struct sockaddr *)from, a, sizeof(a)),
	    allow ? "answered with our TGT" : cp != NULL && cp->p_u2u && !us ?
	    "for another principal: KRB_AP_ERR_NOT_US" : "denied");
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC,
	    m->m_xid, 0);
	if (allow)
		wire_build_tgt_rep(&kb, tgt.b_data, tgt.b_len);
	else if (cp != NULL && cp->p_u2u && !us &&
	    krb_mk_error(en->en_krb, KRB_AP_ERR_NOT_US, NULL, &der) == 0)
		/* "MAY return a KRB_AP_ERR_NOT_US" (4.2.4). */
		wire_build_krb_error(&kb, der.b_data, der.b_len);
	else
		wire_build_error(&kb, KINK_U2UDENIED);
	wire_build_finish(&kb, NULL);
	if (kb.kb_err == 0 && engine_send(en, to, from, msg.b_data,
	    msg.b_len) == 0 && !allow)
		stats_inc(STAT_ERR_SENT);
	buf_free(&msg);
	buf_free(&tgt);
	buf_free(&der);
}

static void
gettgt_peer_gone(struct kink_peer *pe)
{
	u2u_probe_cancel(pe);
	xact_gettgt_forget(pe, 1);
}

const struct xact_ops xact_gettgt_ops = {
	.xo_type = KINK_MSGTYPE_GETTGT,
	.xo_reply = gettgt_reply,
	.xo_input = gettgt_respond,
	.xo_peer_gone = gettgt_peer_gone,
};
