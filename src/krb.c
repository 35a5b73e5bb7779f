/*
 * The Kerberos layer on the public API of MIT libkrb5 or Heimdal (see
 * krb.h for the contract, docs/arch/krb.md for the choices, krb_int.h for
 * the differences between the two libraries).  With krb_kdc.c the
 * only files that include <krb5.h> (through krb_int.h).
 *
 * Two krb5_contexts: kc_ctx belongs to the event-loop thread and does the
 * local work here (AP-REQ/AP-REP, KRB-ERROR, checksums, encryption, PRF;
 * none of it talks to the network), kc_wctx belongs to the worker thread
 * in krb_kdc.c and does every KDC exchange.
 */
#include "config.h"

#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "krb_int.h"
#include "krb_heimdal.h"
#include "krb_prf.h"
#include "krb_rcache.h"

#include <openssl/evp.h>

/* ---- errors -------------------------------------------------------- */

/* Lines per second krb_log writes; the rest are counted. */
#define KRB_LOG_RATE	10

const char *
krb_err_str(struct krb_ctx *ctx, krb_err err)
{
	if (ctx->kc_errstr != NULL)
		krb5_free_error_message(ctx->kc_ctx, ctx->kc_errstr);
	ctx->kc_errstr = krb5_get_error_message(ctx->kc_ctx, err);
	return ctx->kc_errstr != NULL ? ctx->kc_errstr : "unknown error";
}

void
krb_log(struct krb_ctx *ctx, krb_err err, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	/*
	 * Most of these answer what a datagram carried (any sender can make
	 * an AP-REQ fail), so they share a per-second budget.
	 */
	if (!log_rate_now(&ctx->kc_lograte, KRB_LOG_RATE, "Kerberos input"))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("krb: %s: %s (krb5 %ld, rfc %d)", msg, krb_err_str(ctx, err),
	    (long)err, krb_err_rfc(err));
}

void
krb_log_text(struct krb_ctx *ctx, krb_err err, const char *errtext,
    const char *what)
{
	if (!log_rate_now(&ctx->kc_lograte, KRB_LOG_RATE, "Kerberos input"))
		return;
	log_warnx("krb: %s: %s (krb5 %ld, rfc %d)", what,
	    errtext != NULL ? errtext : "unknown error", (long)err,
	    krb_err_rfc(err));
}

/* A line to log: now on the loop, or kept for the loop by a worker. */
static void __attribute__((format(printf, 3, 4)))
krb_vnote(struct krb_verifier *v, krb_err err, const char *fmt, ...)
{
	char		 msg[192];
	const char	*t;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!v->kv_worker) {
		if (err != 0)
			krb_log(v->kv_ctx, err, "%s", msg);
		else
			log_info("krb: %s", msg);
		return;
	}
	if (err == 0) {
		snprintf(v->kv_note, sizeof(v->kv_note), "%s", msg);
		return;
	}
	t = krb5_get_error_message(v->kv_k, err);
	snprintf(v->kv_note, sizeof(v->kv_note), "%s: %s (krb5 %ld, rfc %d)",
	    msg, t != NULL ? t : "unknown error", (long)err, krb_err_rfc(err));
	krb5_free_error_message(v->kv_k, t);
}

int
krb_err_rfc(krb_err err)
{
	if (err == 0)
		return 0;
	if (err > ERROR_TABLE_BASE_krb5 && err <= ERROR_TABLE_BASE_krb5 + 127)
		return (int)(err - ERROR_TABLE_BASE_krb5);
	switch (err) {
	case KRB5KRB_AP_WRONG_PRINC:
		return KRB_AP_ERR_NOT_US;
#ifndef KINK_HEIMDAL
	/* Heimdal has no code of its own for "principal there, kvno not":
	 * its keytab says KRB5_KT_NOTFOUND (NOKEY) for both. */
	case KRB5_KT_KVNONOTFOUND:
		return KRB_AP_ERR_BADKEYVER;
#endif
	case KRB5_KT_NOTFOUND:
	case KRB5_KT_END:
	case ENOENT:
	case EACCES:
		return KRB_AP_ERR_NOKEY;
	case KRB5_MUTUAL_FAILED:
		return KRB_AP_ERR_MUT_FAIL;
	case KRB5_RC_REPLAY:
		return KRB_AP_ERR_REPEAT;
	default:
		return KRB_ERR_GENERIC;
	}
}

/* ---- keys ---------------------------------------------------------- */

static struct krb_key *
krb_key_new_raw(krb5_context kctx, int enctype, const uint8_t *p, size_t len)
{
	struct krb_key	*k;
	void		*q;

	if (len == 0 || len > 256 || (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((q = malloc(len)) == NULL) {
		free(k);
		return NULL;
	}
	memcpy(q, p, len);
#ifdef KINK_HEIMDAL
	k->kk_kb.keyvalue.data = q;
	k->kk_kb.keyvalue.length = len;
	k->kk_kb.keytype = enctype;
#else
	k->kk_kb.contents = q;
	k->kk_kb.length = len;
	k->kk_kb.enctype = enctype;
	k->kk_kb.magic = KV5M_KEYBLOCK;
#endif
	k->kk_ctx = kctx;
	return k;
}

struct krb_key *
krb_key_new(struct krb_ctx *ctx, int enctype, const uint8_t *p, size_t len)
{
	if (!krb5_c_valid_enctype(enctype))
		return NULL;
	return krb_key_new_raw(ctx->kc_ctx, enctype, p, len);
}

static struct krb_key *
krb_key_from_kb(krb5_context kctx, const krb5_keyblock *kb)
{
	return krb_key_new_raw(kctx, KRB_KB_ETYPE(kb), KRB_KB_DATA(kb),
	    KRB_KB_LEN(kb));
}

struct krb_key *
krb_key_dup(const struct krb_key *k)
{
	return krb_key_from_kb(k->kk_ctx, &k->kk_kb);
}

void
krb_key_free(struct krb_key *k)
{
	if (k == NULL)
		return;
	krb_prf_key_free(k->kk_prf);
#ifdef KINK_HEIMDAL
	if (k->kk_k5 != NULL)
		krb5_crypto_destroy(k->kk_ctx, k->kk_k5);
#else
	krb5_k_free_key(k->kk_ctx, k->kk_k5);
#endif
	freezero(KRB_KB_DATA(&k->kk_kb), KRB_KB_LEN(&k->kk_kb));
	freezero(k, sizeof(*k));
}

int
krb_key_enctype(const struct krb_key *k)
{
	return KRB_KB_ETYPE(&k->kk_kb);
}

#ifdef KINK_HEIMDAL
/*
 * Heimdal: the Cksum, KINK_ENCRYPT and the library PRF go through one
 * krb5_crypto per key, made at first use (it keeps the derived keys, as
 * MIT's krb5_key does).  Heimdal allocates every output; kinkd copies it
 * into its buffer and wipes the library's copy of plaintext and PRF.
 */
static krb_err
krb_key_k5(struct krb_key *k)
{
	if (k->kk_k5 != NULL)
		return 0;
	return krb5_crypto_init(k->kk_ctx, &k->kk_kb, 0, &k->kk_k5);
}

/* The enctype's mandatory checksum type is the krb5_crypto's own; RFC
 * 4430 requires a keyed one. */
static krb_err
krb_key_cksumtype(struct krb_key *k)
{
	krb5_cksumtype	t = 0;
	krb_err		err;

	if (k->kk_cksumtype != 0)
		return 0;
	if ((err = krb_key_k5(k)) != 0 ||
	    (err = krb5_crypto_get_checksum_type(k->kk_ctx, k->kk_k5, &t)) != 0)
		return err;
	if (!krb5_c_is_keyed_cksum(t))
		return KRB5_BAD_ENCTYPE;
	k->kk_cksumtype = t;
	return 0;
}

krb_err
krb_cksum_make(struct krb_key *k, const uint8_t *p, size_t len,
    struct buf *out)
{
	krb5_checksum	cs;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_cksumtype(k)) != 0)
		return err;
	memset(&cs, 0, sizeof(cs));
	if ((err = krb5_create_checksum(k->kk_ctx, k->kk_k5,
	    KRB_USAGE_KINK_CKSUM, k->kk_cksumtype, (void *)(uintptr_t)p, len,
	    &cs)) != 0)
		return err;
	if (buf_put(out, cs.checksum.data, cs.checksum.length) == -1)
		err = ENOMEM;
	krb5_free_checksum_contents(k->kk_ctx, &cs);
	return err;
}

krb_err
krb_cksum_verify(struct krb_key *k, const uint8_t *p, size_t len,
    const uint8_t *cksum, size_t cksumlen)
{
	krb5_checksum	cs;
	size_t		want;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_cksum_len(k, &want)) != 0)
		return err;
	if (cksumlen != want)
		return KRB5KRB_AP_ERR_BAD_INTEGRITY;
	memset(&cs, 0, sizeof(cs));
	cs.cksumtype = k->kk_cksumtype;
	cs.checksum.length = cksumlen;
	cs.checksum.data = (void *)(uintptr_t)cksum;
	/* 0, or KRB5KRB_AP_ERR_BAD_INTEGRITY when it does not match. */
	return krb5_verify_checksum(k->kk_ctx, k->kk_k5, KRB_USAGE_KINK_CKSUM,
	    (void *)(uintptr_t)p, len, &cs);
}

/* Heimdal's krb5_c_encrypt_length makes a random key per call: the
 * key's own krb5_crypto answers without one. */
krb_err
krb_encrypt_len(struct krb_key *k, size_t inlen, size_t *outlen)
{
	krb_err	err;

	if ((err = krb_key_k5(k)) != 0)
		return err;
	*outlen = krb5_get_wrapped_length(k->kk_ctx, k->kk_k5, inlen);
	return 0;
}

krb_err
krb_encrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_data	enc;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_k5(k)) != 0)
		return err;
	krb5_data_zero(&enc);
	if ((err = krb5_encrypt(k->kk_ctx, k->kk_k5, KRB_USAGE_KINK_ENCRYPT,
	    p, len, &enc)) == 0 &&
	    buf_put(out, enc.data, enc.length) == -1)
		err = ENOMEM;
	krb5_data_free(&enc);
	return err;
}

krb_err
krb_decrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_data	plain;
	krb_err		err;

	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_k5(k)) != 0)
		return err;
	krb5_data_zero(&plain);
	if ((err = krb5_decrypt(k->kk_ctx, k->kk_k5, KRB_USAGE_KINK_ENCRYPT,
	    (void *)(uintptr_t)p, len, &plain)) == 0 &&
	    buf_put(out, plain.data, plain.length) == -1)
		err = ENOMEM;
	if (plain.data != NULL)
		explicit_bzero(plain.data, plain.length);
	krb5_data_free(&plain);
	return err;
}

/*
 * The library's PRF of the key's enctype (RFC 3961 section 3 as each
 * enctype's RFC defines it): Heimdal's krb5_crypto_prf.  Its output
 * length is the one to trust: Heimdal 7.8's krb5_crypto_prf_length says
 * 16 for aes-sha2 (the PRF gives 32 and 48, as RFC 8009 and MIT) and
 * fails for rc4 (the PRF gives 20).
 */
static int
krb_prf_lib(struct krb_key *k, const uint8_t *p, size_t len, uint8_t *out,
    size_t *outlen)
{
	krb5_data	in = krb_data_view(p, len), o;
	int		rc = -1;

	if (krb_key_k5(k) != 0)
		return -1;
	krb5_data_zero(&o);
	if (krb5_crypto_prf(k->kk_ctx, k->kk_k5, &in, &o) != 0)
		return -1;
	if (o.length > 0 && o.length <= KRB_PRF_MAX) {
		memcpy(out, o.data, o.length);
		*outlen = o.length;
		rc = 0;
	}
	explicit_bzero(o.data, o.length);
	krb5_data_free(&o);
	return rc;
}
#else
/* MIT: the krb5_key form of k, made once (MIT keeps its derived keys in
 * it), for krb5_k_make_checksum, krb5_k_encrypt and krb5_k_prf. */
static krb_err
krb_key_k5(struct krb_key *k)
{
	if (k->kk_k5 != NULL)
		return 0;
	return krb5_k_create_key(k->kk_ctx, &k->kk_kb, &k->kk_k5);
}

/*
 * The enctype's mandatory checksum type, learned by asking libkrb5 for a
 * checksum with type 0 (krb5.h: "0 = mandatory-to-implement for the key's
 * enctype").  RFC 4430 requires a keyed one.
 */
static krb_err
krb_key_cksumtype(struct krb_key *k)
{
	krb5_checksum	cs;
	krb5_data	empty = { KV5M_DATA, 0, NULL };
	krb_err		err;

	if (k->kk_cksumtype != 0)
		return 0;
	memset(&cs, 0, sizeof(cs));
	if ((err = krb5_c_make_checksum(k->kk_ctx, 0, &k->kk_kb,
	    KRB_USAGE_KINK_CKSUM, &empty, &cs)) != 0)
		return err;
	k->kk_cksumtype = cs.checksum_type;
	krb5_free_checksum_contents(k->kk_ctx, &cs);
	if (!krb5_c_is_keyed_cksum(k->kk_cksumtype)) {
		k->kk_cksumtype = 0;
		return KRB5_BAD_ENCTYPE;
	}
	return 0;
}

krb_err
krb_cksum_make(struct krb_key *k, const uint8_t *p, size_t len,
    struct buf *out)
{
	krb5_checksum	cs;
	krb5_data	in = krb_data_view(p, len);
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_cksumtype(k)) != 0)
		return err;
	memset(&cs, 0, sizeof(cs));
	if ((err = krb_key_k5(k)) != 0)
		return err;
	if ((err = krb5_k_make_checksum(k->kk_ctx, k->kk_cksumtype, k->kk_k5,
	    KRB_USAGE_KINK_CKSUM, &in, &cs)) != 0)
		return err;
	if (buf_put(out, cs.contents, cs.length) == -1)
		err = ENOMEM;
	krb5_free_checksum_contents(k->kk_ctx, &cs);
	return err;
}

krb_err
krb_cksum_verify(struct krb_key *k, const uint8_t *p, size_t len,
    const uint8_t *cksum, size_t cksumlen)
{
	krb5_checksum	cs;
	krb5_data	in = krb_data_view(p, len);
	krb5_boolean	valid = 0;
	size_t		want;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_cksum_len(k, &want)) != 0)
		return err;
	if (cksumlen != want)
		return KRB5KRB_AP_ERR_BAD_INTEGRITY;
	memset(&cs, 0, sizeof(cs));
	cs.magic = KV5M_CHECKSUM;
	cs.checksum_type = k->kk_cksumtype;
	cs.length = cksumlen;
	cs.contents = (krb5_octet *)cksum;
	if ((err = krb_key_k5(k)) != 0)
		return err;
	if ((err = krb5_k_verify_checksum(k->kk_ctx, k->kk_k5,
	    KRB_USAGE_KINK_CKSUM, &in, &cs, &valid)) != 0)
		return err;
	return valid ? 0 : KRB5KRB_AP_ERR_BAD_INTEGRITY;
}

krb_err
krb_encrypt_len(struct krb_key *k, size_t inlen, size_t *outlen)
{
	return krb5_c_encrypt_length(k->kk_ctx, k->kk_kb.enctype, inlen, outlen);
}

krb_err
krb_encrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_data	in = krb_data_view(p, len);
	krb5_enc_data	enc;
	size_t		clen;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_encrypt_len(k, len, &clen)) != 0)
		return err;
	if ((err = krb_key_k5(k)) != 0)
		return err;
	memset(&enc, 0, sizeof(enc));
	if ((enc.ciphertext.data = malloc(clen)) == NULL)
		return ENOMEM;
	enc.ciphertext.length = clen;
	if ((err = krb5_k_encrypt(k->kk_ctx, k->kk_k5, KRB_USAGE_KINK_ENCRYPT,
	    NULL, &in, &enc)) == 0 &&
	    buf_put(out, enc.ciphertext.data, enc.ciphertext.length) == -1)
		err = ENOMEM;
	free(enc.ciphertext.data);
	return err;
}

krb_err
krb_decrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_enc_data	enc;
	krb5_data	plain;
	size_t		cap;
	krb_err		err;

	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_k5(k)) != 0)
		return err;
	memset(&enc, 0, sizeof(enc));
	enc.magic = KV5M_ENC_DATA;
	enc.enctype = k->kk_kb.enctype;
	enc.ciphertext.length = len;
	enc.ciphertext.data = (char *)p;
	cap = len;
	plain.magic = KV5M_DATA;
	plain.length = cap;
	if ((plain.data = malloc(cap)) == NULL)
		return ENOMEM;
	if ((err = krb5_k_decrypt(k->kk_ctx, k->kk_k5, KRB_USAGE_KINK_ENCRYPT,
	    NULL, &enc, &plain)) == 0 &&
	    buf_put(out, plain.data, plain.length) == -1)
		err = ENOMEM;
	freezero(plain.data, cap);
	return err;
}

/* MIT: krb5_k_prf (krb5_c_prf on the cached krb5_key). */
static int
krb_prf_lib(struct krb_key *k, const uint8_t *p, size_t len, uint8_t *out,
    size_t *outlen)
{
	krb5_data	in = krb_data_view(p, len), o;
	size_t		plen;

	if (krb5_c_prf_length(k->kk_ctx, KRB_KB_ETYPE(&k->kk_kb), &plen) != 0 ||
	    plen > KRB_PRF_MAX || krb_key_k5(k) != 0)
		return -1;
	o = krb_data_view(out, plen);
	if (krb5_k_prf(k->kk_ctx, k->kk_k5, &in, &o) != 0)
		return -1;
	*outlen = plen;
	return 0;
}
#endif

krb_err
krb_cksum_len(struct krb_key *k, size_t *len)
{
	krb_err	err;

	if ((err = krb_key_cksumtype(k)) != 0)
		return err;
	return krb5_c_checksum_length(k->kk_ctx, k->kk_cksumtype, len);
}

int
krb_prf(struct krb_key *k, enum krb_prf_kind kind, const uint8_t *p,
    size_t len, uint8_t *out, size_t *outlen)
{
	int	et = KRB_KB_ETYPE(&k->kk_kb);

	if (len > BUF_MAX)
		return -1;
	if (kind == KRB_PRF_RFC3961) {
		if (k->kk_prf == NULL)
			k->kk_prf = krb_prf_key_new(et, KRB_KB_DATA(&k->kk_kb),
			    KRB_KB_LEN(&k->kk_kb));
		if (k->kk_prf != NULL &&
		    krb_prf_key_run(k->kk_prf, p, len, out, outlen) == 0)
			return 0;
		/* krb_prf.c covers des3, aes-sha1 and rc4 (RFC 4757's
		 * HMAC-SHA1, which the library's PRF computes too); for the
		 * rest the library follows the enctype's own RFC, so its PRF is
		 * the RFC function. */
		if (et == ENCTYPE_DES3_CBC_SHA1 ||
		    et == ENCTYPE_AES128_CTS_HMAC_SHA1_96 ||
		    et == ENCTYPE_AES256_CTS_HMAC_SHA1_96)
			return -1;
	}
	return krb_prf_lib(k, p, len, out, outlen);
}

/* ---- principal names ----------------------------------------------- */

int
krb_host_principal(const char *fqdn, const char *realm, char *out,
    size_t outsz)
{
	krb5_context	kctx = NULL;
	char		*def = NULL, *p;
	int		n, rc = -1;

	if (realm == NULL) {
		if (krb5_init_context(&kctx) != 0)
			return -1;
		if (krb5_get_default_realm(kctx, &def) != 0)
			goto out;
		realm = def;
	}
	n = snprintf(out, outsz, "kink/%s@%s", fqdn, realm);
	if (n < 0 || (size_t)n >= outsz)
		goto out;
	for (p = out + 5; *p != '\0' && *p != '@'; p++)
		*p = (char)tolower((unsigned char)*p);
	rc = 0;
 out:
	if (def != NULL)
		krb5_free_default_realm(kctx, def);
	if (kctx != NULL)
		krb5_free_context(kctx);
	return rc;
}

const char *
krb_ctx_principal(const struct krb_ctx *ctx)
{
	return ctx->kc_name;
}

/* ---- peers --------------------------------------------------------- */

struct krb_peer *
krb_peer_get(struct krb_ctx *ctx, const char *name, int create)
{
	struct krb_peer	*kp;

	TAILQ_FOREACH(kp, &ctx->kc_peers, kp_entry)
		if (strcmp(kp->kp_name, name) == 0)
			return kp;
	if (!create || (kp = calloc(1, sizeof(*kp))) == NULL)
		return NULL;
	if ((kp->kp_name = strdup(name)) == NULL) {
		free(kp);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ctx->kc_peers, kp, kp_entry);
	return kp;
}

int
krb_peer_offset(struct krb_ctx *ctx, const char *peer, int32_t *off)
{
	struct krb_peer	*kp = krb_peer_get(ctx, peer, 0);

	*off = kp != NULL ? kp->kp_offset : 0;
	return 0;
}

int
krb_peer_set_offset(struct krb_ctx *ctx, const char *peer, int32_t off)
{
	struct krb_peer	*kp;

	if ((kp = krb_peer_get(ctx, peer, 1)) == NULL)
		return -1;
	kp->kp_offset = off;
	return 0;
}

/* ---- tickets ------------------------------------------------------- */

struct krb_ticket *
krb_ticket_new(struct krb_ctx *ctx, krb5_creds *creds, const char *peer,
    int u2u)
{
	struct krb_ticket *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->kt_peer = strdup(peer)) == NULL) {
		free(t);
		return NULL;
	}
	t->kt_refs = 1;
	t->kt_ctx = ctx;
	t->kt_creds = creds;
	t->kt_u2u = u2u;
	return t;
}

struct krb_ticket *
krb_ticket_ref(struct krb_ticket *t)
{
	t->kt_refs++;
	return t;
}

void
krb_ticket_free(struct krb_ticket *t)
{
	if (t == NULL || --t->kt_refs > 0)
		return;
	/* krb5_free_creds zeroes the session key before freeing it. */
	krb5_free_creds(t->kt_ctx->kc_ctx, t->kt_creds);
	free(t->kt_peer);
	free(t);
}

time_t
krb_ticket_endtime(const struct krb_ticket *t)
{
	return (time_t)(uint32_t)t->kt_creds->times.endtime;
}

int
krb_ticket_is_u2u(const struct krb_ticket *t)
{
	return t->kt_u2u;
}

int
krb_ticket_fresh(const struct krb_ticket *t, int32_t offset)
{
	/* On the peer's clock as we know it: it checks the end, not us. */
	time_t	now = time(NULL) + offset, end = krb_ticket_endtime(t);
	time_t	start = (time_t)(uint32_t)t->kt_creds->times.starttime;
	time_t	margin = (end - start) / 10;

	if (margin < KRB_TKT_MARGIN_MIN)
		margin = KRB_TKT_MARGIN_MIN;
	return end - now > margin;
}

void
krb_ticket_forget(struct krb_ctx *ctx, const char *peer)
{
	struct krb_peer	*kp = krb_peer_get(ctx, peer, 0);

	if (kp != NULL && kp->kp_ticket != NULL) {
		krb_ticket_free(kp->kp_ticket);
		kp->kp_ticket = NULL;
	}
}

/* ---- initiator ----------------------------------------------------- */

struct krb_client *
krb_client_new(struct krb_ctx *ctx, struct krb_ticket *t)
{
	struct krb_client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->cl_ctx = ctx;
	/* The ticket's session key: KINK ignores subkeys (RFC 4430 7). */
	if ((cl->cl_key = krb_key_from_kb(ctx->kc_ctx,
	    KRB_CREDS_KEY(t->kt_creds))) == NULL) {
		free(cl);
		return NULL;
	}
	cl->cl_tkt = krb_ticket_ref(t);
	return cl;
}

void
krb_client_free(struct krb_client *cl)
{
	size_t	i;

	if (cl == NULL)
		return;
	for (i = 0; i < cl->cl_nac; i++)
		krb5_auth_con_free(cl->cl_ctx->kc_ctx, cl->cl_ac[i]);
	krb_key_free(cl->cl_key);
	krb_ticket_free(cl->cl_tkt);
	free(cl);
}

struct krb_key *
krb_client_key(struct krb_client *cl)
{
	return cl->cl_key;
}

/*
 * MIT keeps one time offset per krb5_context.  The loop is single-threaded
 * and mk_req does no I/O, so the peer's offset is installed just around
 * the call and removed afterwards (docs/arch/krb.md).
 */
static void
krb_clock_set(krb5_context k, int32_t off)
{
#ifdef KINK_HEIMDAL
	/* Heimdal sets the offset itself, exactly; its krb5_us_timeofday
	 * ignores the microsecond part of one set with set_real_time. */
	krb5_set_kdc_sec_offset(k, off, 0);
#else
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	krb5_set_real_time(k, (krb5_timestamp)(tv.tv_sec + off),
	    (int32_t)tv.tv_usec);
#endif
}

/* krb5_us_timeofday in microseconds (includes any offset set on k). */
static int64_t
krb_now_us(krb5_context k)
{
	krb5_timestamp	sec = 0;
	int32_t	usec = 0;

	krb5_us_timeofday(k, &sec, &usec);
	return (int64_t)(uint32_t)sec * 1000000 + usec;
}

/*
 * MIT keeps the client's authenticator in the auth context but with the
 * client principal cleared, so krb5_auth_con_getauthenticator cannot copy
 * it on the initiator side.  Instead the window [lo, hi] read from the same
 * (monotonic, offset-adjusted) clock around krb5_mk_req_extended brackets
 * the ctime/cusec that went into the authenticator.
 */
krb_err
krb_client_mk_req(struct krb_client *cl, struct buf *out)
{
	struct krb_ctx		*ctx = cl->cl_ctx;
	krb5_context		 k = ctx->kc_ctx;
	krb5_auth_context	 ac = NULL;
	krb5_data		 req = krb_data_view(NULL, 0);
	krb5_flags		 opts = AP_OPTS_MUTUAL_REQUIRED;
	int32_t			 off = 0;
	int64_t			 lo, hi;
	krb_err			 err;

	krb_peer_offset(ctx, cl->cl_tkt->kt_peer, &off);
	if (cl->cl_tkt->kt_u2u)
		opts |= AP_OPTS_USE_SESSION_KEY;
	if (off != 0)
		krb_clock_set(k, off);
	lo = krb_now_us(k);
	err = krb5_mk_req_extended(k, &ac, opts, NULL, cl->cl_tkt->kt_creds,
	    &req);
	hi = krb_now_us(k);
	if (off != 0)
		krb_clock_set(k, 0);
	if (err != 0) {
		krb_log(ctx, err, "AP-REQ for %s", cl->cl_tkt->kt_peer);
		goto out;
	}
	if (buf_put(out, req.data, req.length) == -1) {
		/* An AD ticket's PAC grows with the client's groups: say why
		 * the message cannot be sent, with the sizes. */
		/* unsigned int in MIT's krb5_data, size_t in Heimdal's. */
		log_warnx("krb: AP-REQ for %s is %zu octets (ticket %zu), more "
		    "than a KINK message can carry (%zu): our ticket's "
		    "authorization data (an AD PAC: group memberships) is "
		    "too large", cl->cl_tkt->kt_peer, (size_t)req.length,
		    (size_t)cl->cl_tkt->kt_creds->ticket.length,
		    out->b_max != 0 ? out->b_max : (size_t)BUF_MAX);
		err = ENOMEM;
		goto out;
	}
	if (cl->cl_nac == KRB_CLIENT_MAX_AUTH) {
		krb5_auth_con_free(k, cl->cl_ac[0]);
		memmove(&cl->cl_ac[0], &cl->cl_ac[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_ac[0]));
		memmove(&cl->cl_tlo[0], &cl->cl_tlo[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_tlo[0]));
		memmove(&cl->cl_thi[0], &cl->cl_thi[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_thi[0]));
		cl->cl_nac--;
	}
	cl->cl_ac[cl->cl_nac] = ac;
	cl->cl_tlo[cl->cl_nac] = lo;
	cl->cl_thi[cl->cl_nac] = hi;
	cl->cl_nac++;
	ac = NULL;
 out:
	if (ac != NULL)
		krb5_auth_con_free(k, ac);
	krb_data_free(k, &req);
	return err;
}

krb_err
krb_client_rd_rep(struct krb_client *cl, const uint8_t *p, size_t len)
{
	krb5_context		 k = cl->cl_ctx->kc_ctx;
	krb5_data		 in = krb_data_view(p, len);
	krb5_ap_rep_enc_part	*repl = NULL;
	krb_err			 err = KRB5_MUTUAL_FAILED, e;
	size_t			 i;

	if (len == 0 || len > BUF_MAX) {
		err = KRB5_BAD_MSIZE;
		goto out;
	}
	/* Newest first: a REPLY usually answers the latest retransmission. */
	for (i = cl->cl_nac; i-- > 0;) {
		e = krb5_rd_rep(k, cl->cl_ac[i], &in, &repl);
		if (e == 0) {
			krb5_free_ap_rep_enc_part(k, repl);
			return 0;
		}
		/* A mismatch of one authenticator says nothing; anything
		 * else (garbage, wrong key) is the same for all of them.
		 * MIT says KRB5_MUTUAL_FAILED for it, Heimdal
		 * KRB5KRB_AP_ERR_MUT_FAIL. */
		if (e != KRB5_MUTUAL_FAILED && e != KRB5KRB_AP_ERR_MUT_FAIL) {
			err = e;
			break;
		}
	}
 out:
	krb_log(cl->cl_ctx, err, "AP-REP from %s", cl->cl_tkt->kt_peer);
	return err;
}

int
krb_client_skew(struct krb_client *cl, const struct krb_error_info *ei,
    int protected)
{
	struct krb_ctx	*ctx = cl->cl_ctx;
	const char	*peer = cl->cl_tkt->kt_peer;
	int32_t		 off = 0;
	int64_t		 t;
	size_t		 i;

	if (ei->ke_code != KRB_AP_ERR_SKEW)
		return 0;
	if (!protected) {
		log_info("krb: unprotected clock-skew error from %s ignored",
		    peer);
		return 0;
	}
	if (!ei->ke_has_ctime)
		goto notours;
	t = (int64_t)ei->ke_ctime * 1000000 + ei->ke_cusec;
	for (i = 0; i < cl->cl_nac; i++)
		if (t >= cl->cl_tlo[i] && t <= cl->cl_thi[i])
			break;
	if (i == cl->cl_nac)
		goto notours;
	/* Our ctime already carried the old offset. */
	krb_peer_offset(ctx, peer, &off);
	off += (int32_t)(ei->ke_stime - ei->ke_ctime);
	if (krb_peer_set_offset(ctx, peer, off) == -1)
		return 0;
	log_info("krb: clock offset for %s now %ld s", peer, (long)off);
	return 1;
 notours:
	log_info("krb: clock-skew error from %s does not reflect our "
	    "authenticator; ignored", peer);
	return 0;
}

/* ---- responder ----------------------------------------------------- */

void
krb_acceptor_free(struct krb_acceptor *a)
{
	if (a == NULL)
		return;
	if (a->ac_ac != NULL)
		krb5_auth_con_free(a->ac_k, a->ac_ac);
	krb5_free_principal(a->ac_k, a->ac_cprinc);
	krb_key_free(a->ac_key);
	free(a->ac_client);
	free(a->ac_rep);
	free(a);
}

struct krb_key *
krb_acceptor_key(struct krb_acceptor *a)
{
	return a->ac_key;
}

const char *
krb_acceptor_client(const struct krb_acceptor *a)
{
	return a->ac_client;
}

int
krb_acceptor_ctime(const struct krb_acceptor *a, time_t *sec, int32_t *usec)
{
	if (!a->ac_has_ctime)
		return -1;
	*sec = (time_t)(uint32_t)a->ac_ctime;
	*usec = a->ac_cusec;
	return 0;
}

/* Outcomes of krb5_rd_req that come after the authenticator was
 * decrypted (RFC 4120 3.2.3 order: ticket, authenticator, then checks). */
static int
krb_rd_req_has_auth(krb_err err)
{
	switch (err) {
	case 0:
	case KRB5KRB_AP_ERR_SKEW:
	case KRB5KRB_AP_ERR_REPEAT:
#ifndef KINK_HEIMDAL
	/* Heimdal checks the ticket's times before the authenticator
	 * (krb_rd_req_untimed); its getauthenticator would copy an empty
	 * one. */
	case KRB5KRB_AP_ERR_TKT_EXPIRED:
	case KRB5KRB_AP_ERR_TKT_NYV:
#endif
		return 1;
	default:
		return 0;
	}
}

/* One krb5_rd_req attempt; `kb` non-NULL = user-to-user with that key. */
static krb_err
krb_rd_req_one(struct krb_verifier *v, const krb5_data *in,
    const krb5_keyblock *kb, struct krb_acceptor *a)
{
	krb5_context		 k = v->kv_k;
	krb5_ticket		*tkt = NULL;
	krb_authp		 auth = NULL;
	krb5_keyblock		*key = NULL;
	krb5_flags		 apopts = 0;
	krb_err			 err;

	if ((err = krb5_auth_con_init(k, &a->ac_ac)) != 0)
		return err;
	/* Without DO_TIME rd_req opens no replay cache: kinkd keeps its
	 * own (krb_rd_req_replay), without file I/O per ticket. */
	if ((err = krb5_auth_con_setflags(k, a->ac_ac, 0)) != 0)
		return err;
	/* User-to-user: the ticket is sealed in kb.  MIT's name for the
	 * call is setuseruserkey, Heimdal's setuserkey; both make rd_req
	 * decrypt the ticket with it instead of a keytab key. */
	if (kb != NULL &&
#ifdef KINK_HEIMDAL
	    (err = krb5_auth_con_setuserkey(k, a->ac_ac,
#else
	    (err = krb5_auth_con_setuseruserkey(k, a->ac_ac,
#endif
	    (krb5_keyblock *)kb)) != 0)
		return err;
	err = krb5_rd_req(k, &a->ac_ac, in, v->kv_princ,
	    kb != NULL ? NULL : v->kv_kt, &apopts, &tkt);

	/* Even a failed rd_req may leave the session key and the
	 * authenticator (skew, replay): keep them for the KRB_ERROR. */
	if (krb5_auth_con_getkey(k, a->ac_ac, &key) == 0 && key != NULL) {
		a->ac_key = krb_key_from_kb(k, key);
		krb5_free_keyblock(k, key);
	}
	/* MIT's getauthenticator copies without a NULL check: ask only when
	 * rd_req got as far as decrypting the authenticator. */
	if (krb_rd_req_has_auth(err) &&
	    krb5_auth_con_getauthenticator(k, a->ac_ac, &auth) == 0 &&
	    auth != NULL) {
		a->ac_has_ctime = 1;
		a->ac_ctime = auth->ctime;
		a->ac_cusec = auth->cusec;
		krb_auth_client(k, auth, &a->ac_cprinc);
		krb_auth_free(k, auth);
	}
	if (err == 0 && tkt != NULL && KRB_TKT_CLIENT(tkt) != NULL) {
		char *name = NULL;

		if ((err = krb5_unparse_name(k, KRB_TKT_CLIENT(tkt),
		    &name)) == 0) {
			a->ac_client = strdup(name);
			krb_name_free(k, name);
			if (a->ac_client == NULL)
				err = ENOMEM;
		}
		if (err == 0 && a->ac_key == NULL)
			err = KRB5KRB_AP_ERR_NOKEY;
	}
	if (tkt != NULL)	/* Heimdal's krb5_free_ticket needs one */
		krb5_free_ticket(k, tkt);
	return err;
}

static void
krb_acceptor_reset(struct krb_acceptor *a)
{
	struct krb_ctx	*ctx = a->ac_ctx;
	krb5_context	 k = a->ac_k;

	if (a->ac_ac != NULL)
		krb5_auth_con_free(k, a->ac_ac);
	krb5_free_principal(k, a->ac_cprinc);
	krb_key_free(a->ac_key);
	free(a->ac_client);
	memset(a, 0, sizeof(*a));
	a->ac_ctx = ctx;
	a->ac_k = k;
}

/* Failures after which a U2U ticket (sealed in our TGT's session key, not
 * in the keytab key) may still verify. */
static int
krb_rd_req_try_u2u(krb_err err)
{
	switch (err) {
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KRB_AP_ERR_NOKEY:
	case KRB5KRB_AP_ERR_BADKEYVER:
	case KRB5_KT_NOTFOUND:
#ifndef KINK_HEIMDAL
	case KRB5_KT_KVNONOTFOUND:
#endif
	case KRB5_KT_END:
	case ENOENT:
	case EACCES:
		return 1;
	default:
		return 0;
	}
}

/*
 * MIT drops the session key when it rejects an authenticator for skew, but
 * RFC 4430 wants the KRB_AP_ERR_SKEW protected by the KINK Cksum.  Verify
 * once more with our clock moved to the client's ctime (public
 * krb5_set_real_time; the loop is single-threaded), keep only the key, and
 * still report the skew.  MIT has already put the authenticator into the
 * replay cache on the first pass, so the second pass runs without one.
 */
static void
krb_rd_req_skewed(struct krb_verifier *v, const krb5_data *in,
    struct krb_acceptor *a)
{
	struct krb_acceptor	b;
	krb_err			err;

	memset(&b, 0, sizeof(b));
	b.ac_ctx = v->kv_ctx;
	b.ac_k = v->kv_k;
	/* The verifier's own context: a worker's clock moves alone. */
	krb5_set_real_time(v->kv_k, a->ac_ctime, a->ac_cusec);
	err = krb_rd_req_one(v, in, NULL, &b);
	krb_clock_set(v->kv_k, 0);
	if (err != 0)
		krb_vnote(v, err, "AP-REQ: re-check at the client's time");
	if (err == 0 && b.ac_key != NULL) {
		a->ac_key = b.ac_key;
		b.ac_key = NULL;
	}
	if (b.ac_ac != NULL)
		krb5_auth_con_free(v->kv_k, b.ac_ac);
	krb5_free_principal(v->kv_k, b.ac_cprinc);
	krb_key_free(b.ac_key);
	free(b.ac_client);
}

#ifdef KINK_HEIMDAL
/* Heimdal: the key and ctime of an AP-REQ refused for its ticket's times,
 * which MIT's rd_req leaves in the auth context (krb_heimdal.c). */
static void
krb_rd_req_untimed(struct krb_verifier *v, const krb5_data *in,
    struct krb_acceptor *a)
{
	krb5_keyblock	*key = NULL;
	krb_authp	 auth = NULL;

	if (krb_hd_rd_req_untimed(v, in, &key, &auth) != 0)
		return;
	a->ac_key = krb_key_from_kb(v->kv_k, key);
	a->ac_has_ctime = 1;
	a->ac_ctime = auth->ctime;
	a->ac_cusec = auth->cusec;
	krb_auth_client(v->kv_k, auth, &a->ac_cprinc);
	krb_auth_free(v->kv_k, auth);
	krb5_free_keyblock(v->kv_k, key);
}
#endif

/*
 * The replay check of a verified AP-REQ.  The digest covers what makes an
 * authenticator unique to its sender (client, ctime, cusec) and the
 * ticket's session key, so a replay is any copy of the same authenticator
 * under the same ticket however its DER is re-encoded, and two clients
 * (or two tickets) never collide.  A refused one loses its key and
 * client, as MIT's replay cache leaves them.
 */
static krb_err
krb_rd_req_replay(struct krb_verifier *v, struct krb_acceptor *a)
{
	struct krb_ctx	*ctx = v->kv_ctx;
	enum krb_rc_verdict verdict;
	EVP_MD_CTX	*md;
	uint8_t		 h[EVP_MAX_MD_SIZE];
	unsigned int	 hlen = 0;
	uint32_t	 ct = (uint32_t)a->ac_ctime;
	int32_t		 cu = a->ac_cusec, et = KRB_KB_ETYPE(&a->ac_key->kk_kb);
	struct timeval	 tv;
	int		 ok;

	if (ctx->kc_rc == NULL)
		return 0;		/* "none:" */
	if (!a->ac_has_ctime || a->ac_client == NULL)
		return KRB5KRB_AP_ERR_REPEAT;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return ENOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, a->ac_client, strlen(a->ac_client) + 1) == 1 &&
	    EVP_DigestUpdate(md, &ct, sizeof(ct)) == 1 &&
	    EVP_DigestUpdate(md, &cu, sizeof(cu)) == 1 &&
	    EVP_DigestUpdate(md, &et, sizeof(et)) == 1 &&
	    EVP_DigestUpdate(md, KRB_KB_DATA(&a->ac_key->kk_kb),
	    KRB_KB_LEN(&a->ac_key->kk_kb)) == 1 &&
	    EVP_DigestFinal_ex(md, h, &hlen) == 1 && hlen >= KRB_RC_DIGEST;
	EVP_MD_CTX_free(md);
	if (!ok)
		return KRB5_CRYPTO_INTERNAL;
	/* One lock around check-and-store: two copies of an authenticator
	 * on two workers are one FRESH and one REPLAY, never two FRESH. */
	pthread_mutex_lock(&ctx->kc_rcmtx);
	gettimeofday(&tv, NULL);
	verdict = krb_rc_check(ctx->kc_rc, h, (int64_t)ct * 1000000 + cu,
	    (int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
	pthread_mutex_unlock(&ctx->kc_rcmtx);
	switch (verdict) {
	case KRB_RC_FRESH:
		return 0;
	case KRB_RC_UNKNOWN:
		krb_vnote(v, 0, "AP-REQ from %s made before this replay "
		    "cache's memory starts: refused as a possible replay",
		    a->ac_client);
		break;
	case KRB_RC_REPLAY:
		break;
	}
	krb_key_free(a->ac_key);
	a->ac_key = NULL;
	free(a->ac_client);
	a->ac_client = NULL;
	return KRB5KRB_AP_ERR_REPEAT;
}

krb_err
krb_rd_req_v(struct krb_verifier *v, const uint8_t *p, size_t len,
    int flags, struct krb_acceptor **accp)
{
	struct krb_acceptor	*a;
	krb5_data		 in = krb_data_view(p, len);
	krb_err			 err;

	*accp = NULL;
	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ENOMEM;
	a->ac_ctx = v->kv_ctx;
	a->ac_k = v->kv_k;
	err = krb_rd_req_one(v, &in, NULL, a);
#ifdef KINK_HEIMDAL
	if (err == KRB5KRB_AP_ERR_TKT_EXPIRED || err == KRB5KRB_AP_ERR_TKT_NYV)
		krb_rd_req_untimed(v, &in, a);
#endif
	/* TKT_EXPIRED too: RFC 4430 3.4 has the initiator act on it only
	 * when protected, so it needs the key as much as SKEW does. */
	if ((err == KRB5KRB_AP_ERR_SKEW || err == KRB5KRB_AP_ERR_TKT_EXPIRED) &&
	    a->ac_key == NULL && a->ac_has_ctime)
		krb_rd_req_skewed(v, &in, a);
	if (err != 0 && (flags & KRB_RDREQ_U2U) && v->kv_tgtkey != NULL &&
	    krb_rd_req_try_u2u(err)) {
		krb_acceptor_reset(a);
		err = krb_rd_req_one(v, &in, v->kv_tgtkey, a);
	}
	if (err == 0)
		err = krb_rd_req_replay(v, a);
#ifdef KINK_HEIMDAL
	if (err != 0)
		err = krb_hd_rd_req_why(v, &in, err);
#endif
	if (err != 0 && a->ac_key == NULL && !a->ac_has_ctime) {
		krb_acceptor_free(a);
		return err;
	}
	*accp = a;
	return err;
}

krb_err
krb_rd_req(struct krb_ctx *ctx, const uint8_t *p, size_t len, int flags,
    struct krb_acceptor **accp)
{
	struct krb_verifier	v;
	krb_err			err;

	*accp = NULL;
	if (len == 0 || len > BUF_MAX) {
		if (log_rate_now(&ctx->kc_lograte, KRB_LOG_RATE,
		    "Kerberos input"))
			log_warnx("krb: AP-REQ: bad length %zu", len);
		return KRB5_BAD_MSIZE;
	}
	memset(&v, 0, sizeof(v));
	v.kv_ctx = ctx;
	v.kv_k = ctx->kc_ctx;
	v.kv_princ = ctx->kc_princ;
	v.kv_kt = ctx->kc_keytab;
	v.kv_tgtkey = ctx->kc_tgt != NULL ? KRB_CREDS_KEY(ctx->kc_tgt) : NULL;
	err = krb_rd_req_v(&v, p, len, flags, accp);
	if (err != 0)
		krb_log(ctx, err, "AP-REQ");
	else
		log_debug("krb: AP-REQ from %s verified", (*accp)->ac_client);
	return err;
}

krb_err
krb_acceptor_mk_rep(struct krb_acceptor *a, struct buf *out)
{
	krb5_context	k = a->ac_k;
	krb5_data	rep = krb_data_view(NULL, 0);
	krb_err		err;

	if (a->ac_client == NULL)
		return KRB5KRB_AP_ERR_MSG_TYPE;	/* not a verified AP-REQ */
	if (a->ac_rep != NULL)		/* made by a worker */
		return buf_put(out, a->ac_rep, a->ac_replen) == -1 ? ENOMEM : 0;
	if (a->ac_ac == NULL)
		return KRB5KRB_AP_ERR_MSG_TYPE;
	if ((err = krb5_mk_rep(k, a->ac_ac, &rep)) != 0) {
		krb_log(a->ac_ctx, err, "AP-REP for %s", a->ac_client);
		return err;
	}
	if (buf_put(out, rep.data, rep.length) == -1)
		err = ENOMEM;
	krb_data_free(k, &rep);
	return err;
}

/* ---- KRB-ERROR ----------------------------------------------------- */

#ifdef KINK_HEIMDAL
/*
 * Heimdal's krb5_mk_error takes the fields as arguments (the code as a
 * library error, ERROR_TABLE_BASE_krb5 + the RFC number) and reads the
 * time itself, with the context's offset, as MIT's caller does.
 */
krb_err
krb_mk_error(struct krb_ctx *ctx, int rfc_code, const struct krb_acceptor *a,
    struct buf *out)
{
	krb5_context	k = ctx->kc_ctx;
	krb5_data	der;
	time_t		ctime, *ctp = NULL;
	int		cusec, *cup = NULL;
	krb5_principal	client = NULL;
	krb_err		err;

	if (rfc_code < 0 || rfc_code > 127)
		return KRB5_PROG_ETYPE_NOSUPP;
	if (a != NULL && a->ac_has_ctime) {
		/* RFC 4120 5.9.1: reflect the client's ctime/cusec. */
		ctime = (time_t)a->ac_ctime;
		cusec = a->ac_cusec;
		ctp = &ctime;
		cup = &cusec;
		client = a->ac_cprinc;
	}
	krb5_data_zero(&der);
	if ((err = krb5_mk_error(k, ERROR_TABLE_BASE_krb5 + rfc_code, NULL,
	    NULL, client, ctx->kc_princ, ctp, cup, &der)) != 0) {
		krb_log(ctx, err, "KRB-ERROR %d", rfc_code);
		return err;
	}
	if (buf_put(out, der.data, der.length) == -1)
		err = ENOMEM;
	krb5_data_free(&der);
	return err;
}

/* Heimdal's krb5_rd_error fills the ASN.1 KRB_ERROR: ctime and cusec
 * are optional pointers there, plain numbers (0 = absent) in MIT. */
krb_err
krb_rd_error(struct krb_ctx *ctx, const uint8_t *p, size_t len,
    struct krb_error_info *ei)
{
	krb5_context	 k = ctx->kc_ctx;
	krb5_data	 in = krb_data_view(p, len);
	krb5_error	 e;
	krb_err		 err;

	memset(ei, 0, sizeof(*ei));
	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	memset(&e, 0, sizeof(e));
	if ((err = krb5_rd_error(k, &in, &e)) != 0) {
		krb_log(ctx, err, "KRB-ERROR");
		return err;
	}
	/* Heimdal's rd_error adds the error table base; MIT's does not. */
	ei->ke_code = (int)(e.error_code - ERROR_TABLE_BASE_krb5);
	ei->ke_stime = (time_t)(uint32_t)e.stime;
	ei->ke_susec = e.susec;
	if (e.ctime != NULL && *e.ctime != 0) {
		ei->ke_has_ctime = 1;
		ei->ke_ctime = (time_t)(uint32_t)*e.ctime;
		ei->ke_cusec = e.cusec != NULL ? *e.cusec : 0;
	}
	krb5_free_error_contents(k, &e);
	return 0;
}
#else
krb_err
krb_mk_error(struct krb_ctx *ctx, int rfc_code, const struct krb_acceptor *a,
    struct buf *out)
{
	krb5_context	k = ctx->kc_ctx;
	krb5_error	e;
	krb5_data	der = krb_data_view(NULL, 0);
	krb_err		err;

	if (rfc_code < 0 || rfc_code > 127)
		return KRB5_PROG_ETYPE_NOSUPP;
	memset(&e, 0, sizeof(e));
	e.magic = KV5M_ERROR;
	if ((err = krb5_us_timeofday(k, &e.stime, &e.susec)) != 0)
		return err;
	e.error = (krb5_ui_4)rfc_code;
	e.server = ctx->kc_princ;
	if (a != NULL && a->ac_has_ctime) {
		/* RFC 4120 5.9.1: reflect the client's ctime/cusec. */
		e.ctime = a->ac_ctime;
		e.cusec = a->ac_cusec;
		e.client = a->ac_cprinc;
	}
	if ((err = krb5_mk_error(k, &e, &der)) != 0) {
		krb_log(ctx, err, "KRB-ERROR %d", rfc_code);
		return err;
	}
	if (buf_put(out, der.data, der.length) == -1)
		err = ENOMEM;
	krb_data_free(k, &der);
	return err;
}

krb_err
krb_rd_error(struct krb_ctx *ctx, const uint8_t *p, size_t len,
    struct krb_error_info *ei)
{
	krb5_context	 k = ctx->kc_ctx;
	krb5_data	 in = krb_data_view(p, len);
	krb5_error	*e = NULL;
	krb_err		 err;

	memset(ei, 0, sizeof(*ei));
	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb5_rd_error(k, &in, &e)) != 0) {
		krb_log(ctx, err, "KRB-ERROR");
		return err;
	}
	ei->ke_code = (int)e->error;
	ei->ke_stime = (time_t)(uint32_t)e->stime;
	ei->ke_susec = e->susec;
	if (e->ctime != 0) {
		ei->ke_has_ctime = 1;
		ei->ke_ctime = (time_t)(uint32_t)e->ctime;
		ei->ke_cusec = e->cusec;
	}
	krb5_free_error(k, e);
	return 0;
}
#endif
