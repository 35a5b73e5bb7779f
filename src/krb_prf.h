/*
 * RFC 3961 simplified-profile pseudo-random function, computed with
 * libcrypto because MIT's public API offers neither a raw block cipher nor
 * DK().  This file must not include <krb5.h> (see krb.h for the rest of the
 * Kerberos layer).  Why it exists: MIT's krb5_c_prf truncates SHA-1 to the
 * cipher block size for AES (16 octets out), while RFC 3962 sets the message
 * block size m = 1, so the RFC's PRF yields all 20 octets (what racoon2 uses).
 */
#ifndef KINK_KRB_PRF_H
#define KINK_KRB_PRF_H

#include <stddef.h>
#include <stdint.h>

/* PRF selection per peer (kinkd.conf "prf rfc3961 | mit"). */
enum krb_prf_kind { KRB_PRF_RFC3961 = 0, KRB_PRF_MIT = 1 };
#define KRB_PRF_MAX 64

/* RFC 3961 pseudo-random function of `enctype` keyed with the raw session key
 * (key/keylen). For aes128/aes256-cts-hmac-sha1-96 (17/18) per RFC 3962 with m = 1: 20-octet
 * output = AES-CTS(DK(key,"prf"), SHA-1(in), iv 0). des3-cbc-sha1-kd (16): 16 octets.
 * arcfour-hmac (23): RFC 4757's own PRF, HMAC-SHA1(key, in), 20 octets.
 * Returns 0 and sets *outlen, or -1 (unsupported enctype / error). Pure libcrypto.
 * `out` must hold KRB_PRF_MAX octets. */
int krb_prf_rfc3961(int enctype, const uint8_t *key, size_t keylen,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen);

/* The same with the derived key and cipher set up once per session key
 * (kept for the life of the key that owns it).  key_new: NULL for an
 * enctype this file does not cover, or on failure. */
struct krb_prf_key;
struct krb_prf_key *krb_prf_key_new(int enctype, const uint8_t *key,
	    size_t keylen);
int	krb_prf_key_run(struct krb_prf_key *, const uint8_t *in, size_t inlen,
	    uint8_t *out, size_t *outlen);
void	krb_prf_key_free(struct krb_prf_key *);

/*
 * The building blocks, exported for known-answer tests against RFC 3961
 * appendix A and RFC 3962 appendix B.  Not for other modules.
 */
/* n-fold(in) to outlen octets (RFC 3961 section 5.1). */
void	krb_prf_nfold(const uint8_t *in, size_t inlen, uint8_t *out,
	    size_t outlen);
/* DK(key, constant) for enctype 16, 17 or 18 (RFC 3961 5.1, 6.3; RFC 3962).
 * *dklen is set to the protocol key length.  0 or -1. */
int	krb_prf_dk(int enctype, const uint8_t *key, size_t keylen,
	    const uint8_t *constant, size_t clen, uint8_t *dk, size_t *dklen);
/* DR(key, constant): the pre-random-to-key octets (k-truncated). */
int	krb_prf_dr(int enctype, const uint8_t *key, size_t keylen,
	    const uint8_t *constant, size_t clen, uint8_t *dr, size_t *drlen);
/* AES-CBC with ciphertext stealing, iv 0 (RFC 3962 section 5); len >= 16. */
int	krb_prf_aes_cts(const uint8_t *key, size_t keylen, const uint8_t *in,
	    size_t len, uint8_t *out);

#endif
