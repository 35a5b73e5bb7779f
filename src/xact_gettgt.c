/*
 * GETTGT (RFC 4430 sections 3.1, 3.7.1, 6.6).
 *
 * Initiator: when the KDC answers KDC_ERR_MUST_USE_USER2USER for the
 * peer's ticket and the peer's policy says "u2u allow", the transaction
 * sends GETTGT{TGT_REQ(peer principal)} (unauthenticated, retransmitted
 * like any command), takes the TGT from the KINK_TGT_REP, gets a U2U
 * ticket under it and carries on.  An unauthenticated KINK_ERROR
 * (U2UDENIED) is recorded, not acted on: the exchange gives up on time.
 * The other trigger, a KRB_AP_ERR_USER_TO_USER_REQUIRED REPLY from the
 * peer, starts the exchange over (new XID) straight with GETTGT.  The
 * peer's TGT and the U2U ticket are cached per peer (struct kink_peer):
 * later exchanges reuse the ticket until it nears its end, then make a
 * new one under the cached TGT; an error REPLY to a cached U2U ticket, or
 * a TGT_REP carrying a different TGT (3.7.1: the peer restarted), drops
 * them and starts that exchange over once; a TGT_REP replaces them only
 * once the KDC issued a ticket under its TGT (u2u_tgt_rep).  As responder, kinkd answers
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

#include "conf.h"
#include "control.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

/* Any peer allowed User-to-User: then AP-REQs may carry U2U tickets. */
int
xact_u2u_allowed(struct kinkd *kd)
{
	int i;

	for (i = 0; i < kd->kd_conf->c_npeers; i++)
		if (kd->kd_conf->c_peers[i].p_u2u)
			return 1;
	return 0;
}

int
u2u_store_tgt(struct kink_peer *pe, const uint8_t *tgt, size_t len)
{
	uint8_t *copy;

	if (pe->pe_u2u_tgt != NULL && pe->pe_u2u_tgtlen == len &&
	    memcmp(pe->pe_u2u_tgt, tgt, len) == 0)
		return 0;
	if (len == 0 || (copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, tgt, len);
	u2u_forget(pe, 1);
	pe->pe_u2u_tgt = copy;
	pe->pe_u2u_tgtlen = len;
	return 1;
}

void
u2u_forget(struct kink_peer *pe, int tgt)
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
	struct kinkd	*up_kd;
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

void
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
	x = xact_by_serial(up->up_kd, up->up_serial);
	if (err != 0) {
		/* Forged, or not the peer's: nothing changes (3.7.1). */
		log_info("peer %s: TGT_REP did not give a User-to-User ticket "
		    "(%s); cached ticket kept", pe->pe_name,
		    krb_err_str(up->up_kd->kd_krb, err));
		u2u_probe_free(up);
		return;
	}
	/* The KDC vouched for it: the peer's new TGT, and its ticket. */
	if (u2u_store_tgt(pe, up->up_tgt, up->up_tgtlen) != -1) {
		krb_ticket_free(pe->pe_u2u_tkt);
		pe->pe_u2u_tkt = krb_ticket_ref(tkt);
	}
	krb_ticket_free(tkt);
	u2u_probe_free(up);
	if (x != NULL && !x->xa_completed)
		xact_restart(x, "peer's TGT changed");
}

void
u2u_tgt_rep(struct kink_xact *x, const uint8_t *tgt, size_t len)
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
	up->up_kd = x->xa_kd;
	up->up_peer = pe;
	up->up_serial = x->xa_serial;
	pe->pe_u2u_probe = krb_get_ticket_u2u(x->xa_kd->kd_krb,
	    pe->pe_principal, tgt, len, u2u_probe_cb, up);
	if (pe->pe_u2u_probe == NULL) {
		u2u_probe_free(up);
		return;
	}
	pe->pe_u2u_probe_arg = up;
	log_info(XFMT "TGT_REP to a command: trying the TGT it carries",
	    XARG(x));
}

int
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

void
gettgt_reply(struct kink_xact *x, const struct kink_msg *m)
{
	if (wire_has(m, KINK_TGT_REP)) {
		log_debug(XFMT "TGT_REP: %zu octets", XARG(x),
		    m->m_tgt_rep.rb_len);
		/* Kept for the next exchanges: one GETTGT per peer TGT. */
		(void)u2u_store_tgt(x->xa_peer, m->m_tgt_rep.rb_p,
		    m->m_tgt_rep.rb_len);
		xact_get_ticket_u2u(x, m->m_tgt_rep.rb_p, m->m_tgt_rep.rb_len);
		return;
	}
	stats_inc(STAT_ERR_RCVD);
	if (wire_has(m, KINK_ERROR))
		snprintf(x->xa_lasterr, sizeof(x->xa_lasterr),
		    "KINK_ERROR %s to GETTGT (unauthenticated)",
		    wire_error_name(m->m_error));
}

int
gettgt_stale_ticket(struct kinkd *kd, uint32_t xid,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct conf_peer *cp;
	struct kink_builder kb;
	struct buf msg, tgt;
	char a[NET_ADDRSTRLEN];
	int rv = -1;

	cp = conf_peer_by_addr(kd->kd_conf, (const struct sockaddr *)from);
	if (cp == NULL || !cp->p_u2u)
		return -1;
	if (xact_ratelimit(kd)) {
		stats_inc(STAT_DROP_UNAUTH);
		return 0;	/* answered as far as the caller goes */
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&tgt, KINK_MAX_MSG);
	if (krb_get_tgt(kd->kd_krb, &tgt) != 0)
		goto out;
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC, xid,
	    0);
	wire_build_tgt_rep(&kb, tgt.b_data, tgt.b_len);
	wire_build_finish(&kb, NULL);
	if (kb.kb_err != 0 || net_send(kd->kd_net, to, from, msg.b_data,
	    msg.b_len) != 0)
		goto out;
	if (xact_log_ok(kd))
		log_info("xid 0x%08x from %s: ticket does not decrypt, "
		    "answered with our TGT (3.7.1)", xid,
		    net_ntop((const struct sockaddr *)from, a, sizeof(a)));
	rv = 0;
out:
	buf_free(&msg);
	buf_free(&tgt);
	return rv;
}

void
gettgt_respond(struct kinkd *kd, const struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct conf_peer *cp;
	struct kink_builder kb;
	struct buf msg, tgt, der;
	char a[NET_ADDRSTRLEN];
	int allow, us;

	if (xact_ratelimit(kd)) {
		stats_inc(STAT_DROP_UNAUTH);
		return;
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&tgt, KINK_MAX_MSG);
	buf_init(&der, KINK_MAX_MSG);
	cp = conf_peer_by_addr(kd->kd_conf, (const struct sockaddr *)from);
	/* 4.2.4: the TGT's cname must be the name asked for: ours only. */
	us = wire_has(m, KINK_TGT_REQ) && rbuf_eq(&m->m_tgt_req,
	    kd->kd_principal, strlen(kd->kd_principal));
	allow = cp != NULL && cp->p_u2u && us &&
	    krb_get_tgt(kd->kd_krb, &tgt) == 0;
	log_info("xid 0x%08x from %s: GETTGT %s", m->m_xid,
	    net_ntop((const struct sockaddr *)from, a, sizeof(a)),
	    allow ? "answered with our TGT" : cp != NULL && cp->p_u2u && !us ?
	    "for another principal: KRB_AP_ERR_NOT_US" : "denied");
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC,
	    m->m_xid, 0);
	if (allow)
		wire_build_tgt_rep(&kb, tgt.b_data, tgt.b_len);
	else if (cp != NULL && cp->p_u2u && !us &&
	    krb_mk_error(kd->kd_krb, KRB_AP_ERR_NOT_US, NULL, &der) == 0)
		/* "MAY return a KRB_AP_ERR_NOT_US" (4.2.4). */
		wire_build_krb_error(&kb, der.b_data, der.b_len);
	else
		wire_build_error(&kb, KINK_U2UDENIED);
	wire_build_finish(&kb, NULL);
	if (kb.kb_err == 0 && net_send(kd->kd_net, to, from, msg.b_data,
	    msg.b_len) == 0 && !allow)
		stats_inc(STAT_ERR_SENT);
	buf_free(&msg);
	buf_free(&tgt);
	buf_free(&der);
}
