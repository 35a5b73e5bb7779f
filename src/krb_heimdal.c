/*
 * Heimdal only (make KRB5=heimdal): what MIT's krb5_rd_req tells by
 * itself and Heimdal's does not.  Pure libkrb5 calls on the loop's
 * context; krb.c turns the results into its acceptor.  Empty in an MIT
 * build.  docs/arch/krb.md, "MIT and Heimdal".
 */
#include "config.h"

#ifdef KINK_HEIMDAL
#include <stdint.h>

#include "krb_int.h"
#include "krb_heimdal.h"

/* The keytab entry of our principal for the ticket's kvno (0 = any) and
 * enctype. */
static krb5_error_code
krb_hd_ktent(struct krb_ctx *ctx, const krb5_ap_req *ap, int anykvno,
    krb5_keytab_entry *e)
{
	krb5_kvno	kvno = 0;

	if (!anykvno && ap->ticket.enc_part.kvno != NULL)
		kvno = (krb5_kvno)*ap->ticket.enc_part.kvno;
	return krb5_kt_get_entry(ctx->kc_ctx, ctx->kc_keytab, ctx->kc_princ,
	    kvno, ap->ticket.enc_part.etype, e);
}

/* An error of Heimdal's ASN.1 decoder. */
static int
krb_hd_asn1_err(krb_err err)
{
	return err >= ERROR_TABLE_BASE_asn1 && err < ERROR_TABLE_BASE_asn1 + 256;
}

/*
 * Heimdal looks up the keytab key for *our* principal and tries it, so a
 * ticket for another service, or for a kvno we no longer hold, fails as
 * "bad integrity" or "not found in keytab"; an unreadable keytab is "not
 * found" too; and anything that is not an AP-REQ gets its ASN.1
 * decoder's error.  MIT says WRONG_PRINC, KT_KVNONOTFOUND, the keytab's
 * own error and AP_ERR_MSG_TYPE, and RFC 4430 peers act on the RFC codes
 * (NOT_US, BADKEYVER, NOKEY, MSG_TYPE), so the cause is found here: only
 * after a failure, never on the path of a good AP-REQ.
 */
static krb_err
krb_hd_why(struct krb_ctx *ctx, const krb5_data *in, krb_err err)
{
	krb5_context		k = ctx->kc_ctx;
	krb5_ap_req		ap;
	krb5_keytab_entry	e;
	krb5_kt_cursor		cur;
	Principal		srv;
	krb_err			kterr;

	if (krb5_decode_ap_req(k, in, &ap) != 0) {
		/* Not even the AP-REQ's own tag (APPLICATION 14). */
		if (krb_hd_asn1_err(err) && in->length > 0 &&
		    ((const uint8_t *)in->data)[0] != 0x6e)
			return KRB5KRB_AP_ERR_MSG_TYPE;
		return err;
	}
	srv.name = ap.ticket.sname;
	srv.realm = ap.ticket.realm;
	if (!krb5_principal_compare(k, &srv, ctx->kc_princ))
		err = KRB5KRB_AP_WRONG_PRINC;
	else if (err == KRB5_KT_NOTFOUND &&
	    (kterr = krb5_kt_start_seq_get(k, ctx->kc_keytab, &cur)) != 0)
		err = kterr;		/* the keytab itself */
	else if (err == KRB5_KT_NOTFOUND) {
		krb5_kt_end_seq_get(k, ctx->kc_keytab, &cur);
		if (krb_hd_ktent(ctx, &ap, 1, &e) == 0) {
			krb5_kt_free_entry(k, &e);
			err = KRB5KRB_AP_ERR_BADKEYVER;
		}
	} else if (err == KRB5KRB_AP_ERR_BAD_INTEGRITY &&
	    krb_hd_ktent(ctx, &ap, 0, &e) != 0 &&
	    krb_hd_ktent(ctx, &ap, 1, &e) == 0) {
		/* After the U2U retry: the keytab pass said kvno. */
		krb5_kt_free_entry(k, &e);
		err = KRB5KRB_AP_ERR_BADKEYVER;
	}
	free_AP_REQ(&ap);
	return err;
}

krb_err
krb_hd_rd_req_why(struct krb_ctx *ctx, const krb5_data *in, krb_err err)
{
	krb_err	why;

	if (err != KRB5KRB_AP_ERR_BAD_INTEGRITY && err != KRB5_KT_NOTFOUND &&
	    !krb_hd_asn1_err(err))
		return err;
	/* Heimdal's error message follows the last call that failed: a
	 * new cause gets the plain text of its own code. */
	why = krb_hd_why(ctx, in, err);
	if (why == KRB5KRB_AP_WRONG_PRINC || why == KRB5KRB_AP_ERR_BADKEYVER ||
	    why == KRB5KRB_AP_ERR_MSG_TYPE)
		krb5_clear_error_message(ctx->kc_ctx);
	return why;
}

/*
 * Heimdal checks the ticket's times (TKT_EXPIRED, TKT_NYV) before it
 * decrypts the authenticator, so after those it holds neither the session
 * key nor the client's ctime, which MIT keeps and RFC 4430 3.4 needs for a
 * protected error.  Verify again without the ticket time check
 * (KRB5_VERIFY_AP_REQ_IGNORE_INVALID; the authenticator's own skew check
 * stays); on success *key and *auth are the caller's.
 */
krb_err
krb_hd_rd_req_untimed(struct krb_ctx *ctx, const krb5_data *in,
    krb5_keyblock **key, krb_authp *auth)
{
	krb5_context		k = ctx->kc_ctx;
	krb5_ap_req		ap;
	krb5_keytab_entry	e;
	krb5_auth_context	ac = NULL;
	krb5_ticket		*t = NULL;
	krb_err			err;

	*key = NULL;
	*auth = NULL;
	if ((err = krb5_decode_ap_req(k, in, &ap)) != 0)
		return err;
	if ((err = krb_hd_ktent(ctx, &ap, 0, &e)) != 0) {
		free_AP_REQ(&ap);
		return err;
	}
	if ((err = krb5_auth_con_init(k, &ac)) == 0 &&
	    (err = krb5_verify_ap_req2(k, &ac, &ap, ctx->kc_princ,
	    &e.keyblock, KRB5_VERIFY_AP_REQ_IGNORE_INVALID, NULL, &t,
	    KRB5_KU_AP_REQ_AUTH)) == 0 &&
	    (err = krb5_auth_con_getkey(k, ac, key)) == 0 &&
	    (err = krb5_auth_con_getauthenticator(k, ac, auth)) != 0) {
		krb5_free_keyblock(k, *key);
		*key = NULL;
	}
	if (t != NULL)
		krb5_free_ticket(k, t);
	if (ac != NULL)
		krb5_auth_con_free(k, ac);
	krb5_kt_free_entry(k, &e);
	free_AP_REQ(&ap);
	return err;
}
#endif
