/*
 * Message assembly for a transaction: a command with AP-REQ (and a fresh
 * authenticator each time, RFC 4430 section 9), a REPLY with AP-REP, the
 * optional KINK_ENCRYPT around the inner payloads and the Cksum over the
 * rest under the session key; and sending xa_msg with the retransmission
 * timer armed.  Below the core: it calls no other transaction module.
 */
#include <sys/socket.h>

#include <string.h>

#include "conf.h"
#include "kink.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

static struct krb_key *
xact_key(struct kink_xact *x)
{
	if (x->xa_role == XR_INIT)
		return x->xa_client ? krb_client_key(x->xa_client) : NULL;
	return x->xa_acc ? krb_acceptor_key(x->xa_acc) : NULL;
}

int
xact_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	struct kink_xact *x = arg;
	struct krb_key *key = xact_key(x);
	enum krb_prf_kind kind = KRB_PRF_RFC3961;

	if (key == NULL)
		return -1;
	if (x->xa_peer->pe_conf != NULL &&
	    x->xa_peer->pe_conf->p_prf == CONF_PRF_MIT)
		kind = KRB_PRF_MIT;
	return krb_prf(key, kind, in, inlen, out, outlen);
}

/*
 * Encrypt the inner chain and append the Cksum: the common tail.  At -vvv
 * the message is traced with its plaintext chain (kept only for that).
 */
static int
xact_seal(struct kink_xact *x, struct kink_builder *kb, struct krb_key *key,
    int encrypted)
{
	struct buf tmp, plain;
	struct rbuf v;
	int rv = -1, trace = log_enabled(3);

	buf_init(&tmp, KINK_MAX_MSG);
	buf_init(&plain, KINK_MAX_MSG);
	if (encrypted) {
		if (wire_build_encrypt_plain(kb, &v) != 0 ||
		    (trace && buf_put(&plain, v.rb_p, v.rb_len) == -1) ||
		    krb_encrypt(key, v.rb_p, v.rb_len, &tmp) != 0 ||
		    wire_build_encrypt_end(kb, tmp.b_data, tmp.b_len) != 0)
			goto out;
		buf_reset(&tmp);
	}
	if (wire_build_finish(kb, &v) != 0 ||
	    krb_cksum_make(key, v.rb_p, v.rb_len, &tmp) != 0 ||
	    wire_build_cksum(kb, tmp.b_data, tmp.b_len) != 0)
		goto out;
	if (trace)
		xact_trace("out", x->xa_peer->pe_name, x->xa_msg.b_data,
		    x->xa_msg.b_len, encrypted ? plain.b_data : NULL,
		    plain.b_len);
	rv = 0;
out:
	buf_free(&plain);
	buf_free(&tmp);
	return rv;
}

int
xact_build_cmd(struct kink_xact *x)
{
	return xact_build_msg(x, x->xa_cmd, &x->xa_qm, x->xa_first);
}

int
xact_build_msg(struct kink_xact *x, uint8_t type, const struct buf *qm,
    uint8_t first)
{
	const struct engine_hooks *hooks = x->xa_en->en_hooks;
	struct kink_builder kb;
	struct krb_key *key;
	struct buf apreq;
	krb_err e;
	int rv = -1, enc = 0;

	buf_init(&apreq, KINK_MAX_MSG);
	if ((key = xact_key(x)) == NULL)
		goto out;
	if ((e = krb_client_mk_req(x->xa_client, &apreq)) != 0) {
		/*
		 * Expired on the peer's clock (an adopted offset) before it
		 * is on ours: without this the cached ticket would fail
		 * every exchange until our own margin drops it.
		 */
		if (krb_err_rfc(e) == KRB_AP_ERR_TKT_EXPIRED)
			krb_ticket_forget(x->xa_en->en_krb,
			    x->xa_peer->pe_principal);
		goto out;
	}
	wire_build_begin(&kb, &x->xa_msg, type, KINK_DOI_IPSEC, x->xa_xid, 0);
	wire_build_ap_req(&kb, x->xa_en->en_epoch, apreq.b_data, apreq.b_len);
	if (qm != NULL && qm->b_len > 0) {
		enc = 1;
		wire_build_encrypt_begin(&kb);
		if (x->xa_qmvers == 0 && hooks != NULL &&
		    hooks->eh_qmversion != NULL)
			/* Kept for the exchange: every resend says the same. */
			x->xa_qmvers = hooks->eh_qmversion(hooks->eh_arg);
		wire_build_isakmp(&kb, first, x->xa_qmvers ? x->xa_qmvers :
		    KINK_QMVERSION, qm->b_data, qm->b_len);
	}
	if (xact_seal(x, &kb, key, enc) == -1) {
		log_warnx(XFMT "cannot build %s: %s", XARG(x),
		    wire_msgtype_name(type), wire_strerror(kb.kb_err));
		goto out;
	}
	rv = 0;
out:
	buf_free(&apreq);
	return rv;
}

int
xact_build_reply(struct kink_xact *x, uint8_t flags, uint32_t kinkerr,
    const struct buf *qm, uint8_t first)
{
	const struct engine_hooks *hooks = x->xa_en->en_hooks;
	struct kink_builder kb;
	struct krb_key *key;
	struct buf aprep;
	int rv = -1, enc = 0;

	if (x->xa_cmd != KINK_MSGTYPE_CREATE && hooks != NULL &&
	    hooks->eh_reply_flags != NULL)
		flags |= hooks->eh_reply_flags(hooks->eh_arg);
	buf_init(&aprep, KINK_MAX_MSG);
	if ((key = xact_key(x)) == NULL ||
	    krb_acceptor_mk_rep(x->xa_acc, &aprep) != 0)
		goto out;
	wire_build_begin(&kb, &x->xa_msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC,
	    x->xa_xid, flags);
	wire_build_ap_rep(&kb, x->xa_en->en_epoch, aprep.b_data, aprep.b_len);
	if (kinkerr != 0 || (qm != NULL && qm->b_len > 0)) {
		enc = 1;
		wire_build_encrypt_begin(&kb);
		if (kinkerr != 0)
			wire_build_error(&kb, kinkerr);
		if (qm != NULL && qm->b_len > 0)
			wire_build_isakmp(&kb, first, KINK_QMVERSION,
			    qm->b_data, qm->b_len);
	}
	if (xact_seal(x, &kb, key, enc) == -1) {
		log_warnx(XFMT "cannot build REPLY: %s", XARG(x),
		    wire_strerror(kb.kb_err));
		goto out;
	}
	rv = 0;
out:
	buf_free(&aprep);
	return rv;
}

int
xact_send(struct kink_xact *x, int retrans)
{
	struct kink_conf *c = x->xa_en->en_conf;
	uint32_t iv = x->xa_interval, cycle;
	int rv;

	rv = engine_send(x->xa_en, &x->xa_local, &x->xa_remote,
	    x->xa_msg.b_data, x->xa_msg.b_len);
	x->xa_tries++;
	if (retrans) {
		/*
		 * A command started from a longer, measured interval still
		 * waits one configured cycle in all (T-retrans, which
		 * T-rekey and the peer's reply cache are sized by): the
		 * last wait is cut short and xact_timeout gives up there.
		 */
		if (x->xa_role == XR_INIT) {
			cycle = conf_retrans_cycle_ms(c);
			if (x->xa_waited_ms < cycle &&
			    iv > cycle - x->xa_waited_ms)
				iv = cycle - x->xa_waited_ms;
			x->xa_waited_ms += iv;
		}
		/* A failed send is retried on the timer like a lost one. */
		timer_add_ms(&x->xa_timer, iv);
		x->xa_interval = x->xa_interval * 2 > c->c_retrans_max_ms ?
		    c->c_retrans_max_ms : x->xa_interval * 2;
	}
	return rv;
}

int
xact_send_first(struct kink_xact *x)
{
	struct kink_conf *c = x->xa_en->en_conf;

	x->xa_tries = 0;
	x->xa_waited_ms = 0;
	x->xa_interval = c->c_retrans_ms;
	x->xa_sent_ms = 0;
	/*
	 * Our commands wait as long as this peer's round trips say; a REPLY
	 * waiting for its ACK keeps the configured interval, which the
	 * peer's reply cache and aging are sized by.
	 */
	if (x->xa_role == XR_INIT && x->xa_peer != NULL) {
		x->xa_interval = rtt_first_ms(&x->xa_peer->pe_rtt,
		    c->c_retrans_ms, c->c_retrans_max_ms);
		x->xa_sent_ms = timer_now_ms();
	}
	return xact_send(x, 1);
}

void
xact_send_ack(struct kink_xact *x)
{
	if (xact_build_msg(x, KINK_MSGTYPE_ACK, NULL, 0) == -1)
		return;
	stats_inc(STAT_ACK_SENT);
	xact_send(x, 0);
}
