/*
 * Heimdal only (make KRB5=heimdal): what MIT's krb5_rd_req tells by
 * itself and Heimdal's does not.  Pure libkrb5 calls on the verifier's
 * context (the loop's or a worker's); krb.c turns the results into its acceptor.  Empty in an MIT
 * build.  docs/arch/krb.md, "MIT and Heimdal".
 */
#include "config.h"

#ifdef KINK_HEIMDAL
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "krb_int.h"
#include "krb_heimdal.h"

/* The keytab entry of our principal for the ticket's kvno (0 = any) and
 * enctype. */
static krb5_error_code
krb_hd_ktent(const struct krb_verifier *v, const krb5_ap_req *ap, int anykvno,
    krb5_keytab_entry *e)
{
	krb5_kvno	kvno = 0;

	if (!anykvno && ap->ticket.enc_part.kvno != NULL)
		kvno = (krb5_kvno)*ap->ticket.enc_part.kvno;
	return krb5_kt_get_entry(v->kv_k, v->kv_kt, v->kv_princ,
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
krb_hd_why(const struct krb_verifier *v, const krb5_data *in, krb_err err)
{
	krb5_context		k = v->kv_k;
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
	if (!krb5_principal_compare(k, &srv, v->kv_princ))
		err = KRB5KRB_AP_WRONG_PRINC;
	else if (err == KRB5_KT_NOTFOUND &&
	    (kterr = krb5_kt_start_seq_get(k, v->kv_kt, &cur)) != 0)
		err = kterr;		/* the keytab itself */
	else if (err == KRB5_KT_NOTFOUND) {
		krb5_kt_end_seq_get(k, v->kv_kt, &cur);
		if (krb_hd_ktent(v, &ap, 1, &e) == 0) {
			krb5_kt_free_entry(k, &e);
			err = KRB5KRB_AP_ERR_BADKEYVER;
		}
	} else if (err == KRB5KRB_AP_ERR_BAD_INTEGRITY &&
	    krb_hd_ktent(v, &ap, 0, &e) != 0 &&
	    krb_hd_ktent(v, &ap, 1, &e) == 0) {
		/* After the U2U retry: the keytab pass said kvno. */
		krb5_kt_free_entry(k, &e);
		err = KRB5KRB_AP_ERR_BADKEYVER;
	}
	free_AP_REQ(&ap);
	return err;
}

krb_err
krb_hd_rd_req_why(const struct krb_verifier *v, const krb5_data *in, krb_err err)
{
	krb_err	why;

	if (err != KRB5KRB_AP_ERR_BAD_INTEGRITY && err != KRB5_KT_NOTFOUND &&
	    !krb_hd_asn1_err(err))
		return err;
	/* Heimdal's error message follows the last call that failed: a
	 * new cause gets the plain text of its own code. */
	why = krb_hd_why(v, in, err);
	if (why == KRB5KRB_AP_WRONG_PRINC || why == KRB5KRB_AP_ERR_BADKEYVER ||
	    why == KRB5KRB_AP_ERR_MSG_TYPE)
		krb5_clear_error_message(v->kv_k);
	return why;
}

/* The ASN.1 value of type T sealed in `e` under `crypto` (key usage u). */
#define KRB_HD_OPEN(k, crypto, u, e, T, out) __extension__ ({		\
	krb5_data	 d_;						\
	krb_err		 r_;						\
	size_t		 l_;						\
	krb5_data_zero(&d_);						\
	r_ = krb5_decrypt_EncryptedData((k), (crypto), (u), (e), &d_);	\
	if (r_ == 0)							\
		r_ = decode_##T(d_.data, d_.length, (out), &l_);	\
	if (d_.data != NULL)						\
		explicit_bzero(d_.data, d_.length);			\
	krb5_data_free(&d_);						\
	r_; })

/*
 * Heimdal checks the ticket's times (TKT_EXPIRED, TKT_NYV) before it
 * decrypts the authenticator, and krb5_verify_ap_req2 checks them
 * whatever its flags, so after those it holds neither the session key
 * nor the client's ctime, which MIT keeps and RFC 4430 3.4 needs for a
 * protected error.  Open the ticket with the keytab key and the
 * authenticator with its session key here, checking that both name the
 * same client; the key is used for nothing but that error.  On success
 * *key and *auth are the caller's.
 */
krb_err
krb_hd_rd_req_untimed(const struct krb_verifier *v, const krb5_data *in,
    krb5_keyblock **key, krb_authp *auth)
{
	krb5_context		k = v->kv_k;
	krb5_ap_req		ap;
	krb5_keytab_entry	e;
	krb5_crypto		c = NULL;
	EncTicketPart		tkt;
	Authenticator		*au;
	krb_err			err;

	*key = NULL;
	*auth = NULL;
	memset(&tkt, 0, sizeof(tkt));
	if ((au = calloc(1, sizeof(*au))) == NULL)
		return ENOMEM;
	if ((err = krb5_decode_ap_req(k, in, &ap)) != 0) {
		free(au);
		return err;
	}
	if ((err = krb_hd_ktent(v, &ap, 0, &e)) != 0)
		goto out;
	if ((err = krb5_crypto_init(k, &e.keyblock, 0, &c)) == 0 &&
	    (err = KRB_HD_OPEN(k, c, KRB5_KU_TICKET, &ap.ticket.enc_part,
	    EncTicketPart, &tkt)) == 0) {
		krb5_crypto_destroy(k, c);
		c = NULL;
		if ((err = krb5_crypto_init(k, &tkt.key, 0, &c)) == 0)
			err = KRB_HD_OPEN(k, c, KRB5_KU_AP_REQ_AUTH,
			    &ap.authenticator, Authenticator, au);
		if (err == 0) {
			Principal	pa, pt;

			pa.name = au->cname;
			pa.realm = au->crealm;
			pt.name = tkt.cname;
			pt.realm = tkt.crealm;
			if (!krb5_principal_compare(k, &pa, &pt))
				err = KRB5KRB_AP_ERR_BADMATCH;
		}
		if (err == 0)
			err = krb5_copy_keyblock(k, &tkt.key, key);
	}
	if (c != NULL)
		krb5_crypto_destroy(k, c);
	free_EncTicketPart(&tkt);
	krb5_kt_free_entry(k, &e);
 out:
	free_AP_REQ(&ap);
	if (err == 0)
		*auth = au;
	else
		krb5_free_authenticator(k, &au);
	return err;
}
#endif
