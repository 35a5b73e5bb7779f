/*
 * RFC 3961 simplified-profile PRF (section 5.3) for the enctypes KINK peers
 * use in practice: des3-cbc-sha1-kd (16), aes128/aes256-cts-hmac-sha1-96
 * (17/18, RFC 3962); and RFC 4757's PRF for arcfour-hmac (23), which Active
 * Directory still issues: HMAC-SHA1 keyed with the session key, 20 octets.
 * Written against the RFC texts; libcrypto supplies the raw block ciphers,
 * SHA-1 and HMAC that MIT's public API does not expose.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "krb_prf.h"

#define ET_DES3		16
#define ET_AES128	17
#define ET_AES256	18
#define ET_RC4		23	/* arcfour-hmac, RFC 4757 */
#define RC4_KEYLEN	16

#define NFOLD_MAX	64	/* largest n-fold output we ever need, octets */
#define CTS_MAX		256	/* longest CTS input (the PRF needs 20) */
#define SHA1_LEN	20

struct prf_etype {
	int		 pe_enctype;
	size_t		 pe_keylen;	/* protocol key octets */
	size_t		 pe_seedlen;	/* DR output (k-truncate) octets */
	size_t		 pe_block;	/* cipher block octets */
	size_t		 pe_m;		/* message block size m (RFC 3961) */
	const EVP_CIPHER *(*pe_ecb)(void);
	const EVP_CIPHER *(*pe_cbc)(void);
};

static const struct prf_etype prf_etypes[] = {
	{ ET_DES3, 24, 21, 8, 8, EVP_des_ede3_ecb, EVP_des_ede3_cbc },
	{ ET_AES128, 16, 16, 16, 1, EVP_aes_128_ecb, EVP_aes_128_cbc },
	{ ET_AES256, 32, 32, 16, 1, EVP_aes_256_ecb, EVP_aes_256_cbc },
};

static const struct prf_etype *
prf_etype_find(int enctype, size_t keylen)
{
	size_t	i;

	for (i = 0; i < sizeof(prf_etypes) / sizeof(prf_etypes[0]); i++)
		if (prf_etypes[i].pe_enctype == enctype &&
		    prf_etypes[i].pe_keylen == keylen)
			return &prf_etypes[i];
	return NULL;
}

/* Encrypt len octets (a multiple of the block size) with no padding and a
 * zero IV; ECB for single blocks, CBC otherwise. */
static int
prf_cipher(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *in,
    size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 iv[16] = { 0 };
	int		 n1 = 0, n2 = 0, rc = -1;

	if (len > INT32_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, c, NULL, key, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != len)
		goto out;
	rc = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static int
nfold_bit(const uint8_t *in, size_t nbits, size_t pos)
{
	size_t	copy = pos / nbits, j = pos % nbits;
	size_t	rot = (13 * copy) % nbits;
	size_t	src = (j + nbits - rot) % nbits;	/* rotate right by rot */

	return (in[src / 8] >> (7 - src % 8)) & 1;
}

/*
 * n-fold, spelled out as in RFC 3961 section 5.1: repeat the input, each
 * copy rotated right 13 bits more than the previous one, until the length is
 * the lcm of input and output lengths; then add the output-sized chunks with
 * one's-complement (end-around carry) addition.  Bitwise on purpose: it is
 * only run on constants a handful of octets long.
 */
void
krb_prf_nfold(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
	uint8_t	chunk[NFOLD_MAX];
	size_t	a, b, t, lcm, nbits, c, i, k;
	unsigned int carry;

	if (outlen == 0 || outlen > NFOLD_MAX || inlen == 0)
		return;
	for (a = inlen, b = outlen; b != 0; t = a % b, a = b, b = t)
		;
	lcm = inlen / a * outlen;
	nbits = inlen * 8;
	memset(out, 0, outlen);
	for (c = 0; c < lcm / outlen; c++) {
		for (i = 0; i < outlen; i++) {
			chunk[i] = 0;
			for (k = 0; k < 8; k++)
				chunk[i] |= nfold_bit(in, nbits,
				    (c * outlen + i) * 8 + k) << (7 - k);
		}
		carry = 0;
		for (i = outlen; i-- > 0;) {
			carry += out[i] + chunk[i];
			out[i] = carry & 0xff;
			carry >>= 8;
		}
		while (carry) {
			for (i = outlen; i-- > 0;) {
				carry += out[i];
				out[i] = carry & 0xff;
				carry >>= 8;
				if (carry == 0)
					break;
			}
		}
	}
}

int
krb_prf_dr(int enctype, const uint8_t *key, size_t keylen,
    const uint8_t *constant, size_t clen, uint8_t *dr, size_t *drlen)
{
	const struct prf_etype *pe;
	uint8_t	blk[16], stream[48];
	size_t	have;
	int	rc = -1;

	if ((pe = prf_etype_find(enctype, keylen)) == NULL || clen == 0)
		return -1;
	if (clen == pe->pe_block)
		memcpy(blk, constant, clen);
	else
		krb_prf_nfold(constant, clen, blk, pe->pe_block);
	/* K1 = E(key, constant), K(i+1) = E(key, Ki), concatenated. */
	for (have = 0; have < pe->pe_seedlen; have += pe->pe_block) {
		if (prf_cipher(pe->pe_ecb(), key, have ? stream + have -
		    pe->pe_block : blk, pe->pe_block, stream + have) == -1)
			goto out;
	}
	memcpy(dr, stream, pe->pe_seedlen);
	*drlen = pe->pe_seedlen;
	rc = 0;
 out:
	OPENSSL_cleanse(stream, sizeof(stream));
	return rc;
}

/* DES3random-to-key (RFC 3961 section 6.3.1): 7 octets -> 8 with parity. */
static void
des3_random_to_key(const uint8_t *in, uint8_t *out)
{
	size_t	g, i;
	uint8_t	x;
	int	ones, k;

	for (g = 0; g < 3; g++) {
		const uint8_t *s = in + 7 * g;
		uint8_t *d = out + 8 * g;

		d[7] = 0;
		for (i = 0; i < 7; i++) {
			d[i] = s[i] & 0xfe;
			d[7] |= (s[i] & 1) << (i + 1);
		}
		for (i = 0; i < 8; i++) {	/* odd parity in the low bit */
			x = d[i] & 0xfe;
			for (ones = 0, k = 1; k < 8; k++)
				ones += (x >> k) & 1;
			d[i] = x | ((ones & 1) ? 0 : 1);
		}
	}
}

int
krb_prf_dk(int enctype, const uint8_t *key, size_t keylen,
    const uint8_t *constant, size_t clen, uint8_t *dk, size_t *dklen)
{
	uint8_t	dr[48];
	size_t	drlen;
	int	rc = -1;

	if (krb_prf_dr(enctype, key, keylen, constant, clen, dr, &drlen) == -1)
		goto out;
	if (enctype == ET_DES3)
		des3_random_to_key(dr, dk);
	else
		memcpy(dk, dr, drlen);		/* AES: identity */
	*dklen = keylen;
	rc = 0;
 out:
	OPENSSL_cleanse(dr, sizeof(dr));
	return rc;
}

/* RFC 3962 section 5: CBC with IV 0, then the last two blocks swapped and
 * the (new) last one truncated to the length of the final partial block. */
int
krb_prf_aes_cts(const uint8_t *key, size_t keylen, const uint8_t *in,
    size_t len, uint8_t *out)
{
	const EVP_CIPHER *c;
	uint8_t	buf[CTS_MAX], ct[CTS_MAX];
	size_t	nblk, last;
	int	rc = -1;

	if (keylen == 16)
		c = EVP_aes_128_cbc();
	else if (keylen == 32)
		c = EVP_aes_256_cbc();
	else
		return -1;
	if (len < 16 || len > CTS_MAX)
		return -1;
	nblk = (len + 15) / 16;
	memset(buf, 0, nblk * 16);
	memcpy(buf, in, len);
	if (prf_cipher(c, key, buf, nblk * 16, ct) == -1)
		goto out;
	if (nblk == 1) {
		memcpy(out, ct, 16);
	} else {
		last = len - (nblk - 1) * 16;	/* 1..16 */
		memcpy(out, ct, (nblk - 2) * 16);
		memcpy(out + (nblk - 2) * 16, ct + (nblk - 1) * 16, 16);
		memcpy(out + (nblk - 1) * 16, ct + (nblk - 2) * 16, last);
	}
	rc = 0;
 out:
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(ct, sizeof(ct));
	return rc;
}

/*
 * A session key's PRF state: DK(key, "prf") already expanded into a CBC
 * cipher context, and SHA-1 fetched, once per key instead of once per
 * call (the derivation alone is three block encryptions and as many
 * cipher fetches and key schedules).
 */
struct krb_prf_key {
	const struct prf_etype	*pk_pe;		/* NULL for RC4 */
	EVP_CIPHER_CTX		*pk_cbc;	/* keyed, no padding */
	EVP_MD			*pk_sha1;
	uint8_t			 pk_rc4[RC4_KEYLEN]; /* RC4: the HMAC key */
};

void
krb_prf_key_free(struct krb_prf_key *pk)
{
	if (pk == NULL)
		return;
	EVP_CIPHER_CTX_free(pk->pk_cbc);	/* wipes the key schedule */
	EVP_MD_free(pk->pk_sha1);
	OPENSSL_clear_free(pk, sizeof(*pk));
}

struct krb_prf_key *
krb_prf_key_new(int enctype, const uint8_t *key, size_t keylen)
{
	static const uint8_t prfconst[] = { 'p', 'r', 'f' };
	struct krb_prf_key *pk;
	uint8_t		 dk[32];
	size_t		 dklen;
	int		 ok;

	if ((pk = OPENSSL_zalloc(sizeof(*pk))) == NULL)
		return NULL;
	if (enctype == ET_RC4 && keylen == RC4_KEYLEN) {
		memcpy(pk->pk_rc4, key, RC4_KEYLEN);
		return pk;
	}
	if ((pk->pk_pe = prf_etype_find(enctype, keylen)) == NULL) {
		OPENSSL_free(pk);
		return NULL;
	}
	ok = krb_prf_dk(enctype, key, keylen, prfconst, sizeof(prfconst), dk,
	    &dklen) == 0 &&
	    (pk->pk_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) != NULL &&
	    (pk->pk_cbc = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_EncryptInit_ex(pk->pk_cbc, pk->pk_pe->pe_cbc(), NULL, dk,
	    NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(pk->pk_cbc, 0) == 1;
	OPENSSL_cleanse(dk, sizeof(dk));
	if (!ok) {
		krb_prf_key_free(pk);
		return NULL;
	}
	return pk;
}

/* CBC over whole blocks with IV 0, on the keyed context. */
static int
prf_key_cbc(struct krb_prf_key *pk, const uint8_t *in, size_t len,
    uint8_t *out)
{
	static const uint8_t iv[16];
	int	n1 = 0, n2 = 0;

	if (len > INT32_MAX ||
	    EVP_EncryptInit_ex(pk->pk_cbc, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(pk->pk_cbc, out, &n1, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(pk->pk_cbc, out + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != len)
		return -1;
	return 0;
}

int
krb_prf_key_run(struct krb_prf_key *pk, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t *outlen)
{
	const struct prf_etype *pe = pk->pk_pe;
	uint8_t		 h[SHA1_LEN], buf[32], ct[32];
	unsigned int	 hlen = 0;
	size_t		 tlen, nblk, last;
	int		 rc = -1;

	if (pe == NULL) {	/* RC4: PRF = HMAC-SHA1(key, in) (RFC 4757) */
		if (HMAC(EVP_sha1(), pk->pk_rc4, RC4_KEYLEN, in, inlen, out,
		    &hlen) == NULL || hlen != SHA1_LEN)
			return -1;
		*outlen = hlen;
		return 0;
	}
	if (EVP_Digest(in, inlen, h, &hlen, pk->pk_sha1, NULL) != 1 ||
	    hlen != SHA1_LEN)
		goto out;
	tlen = hlen / pe->pe_m * pe->pe_m;	/* truncate to a multiple of m */
	if (pe->pe_enctype == ET_DES3) {
		if (tlen % pe->pe_block != 0 || prf_key_cbc(pk, h, tlen, out))
			goto out;
	} else {
		/* AES-CTS (RFC 3962 section 5), as krb_prf_aes_cts. */
		nblk = (tlen + 15) / 16;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, h, tlen);
		if (nblk != 2 || prf_key_cbc(pk, buf, 32, ct) == -1)
			goto out;
		last = tlen - 16;
		memcpy(out, ct + 16, 16);
		memcpy(out + 16, ct, last);
	}
	*outlen = tlen;
	rc = 0;
 out:
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(ct, sizeof(ct));
	return rc;
}

int
krb_prf_rfc3961(int enctype, const uint8_t *key, size_t keylen,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	struct krb_prf_key *pk;
	int		 rc;

	if ((pk = krb_prf_key_new(enctype, key, keylen)) == NULL)
		return -1;
	rc = krb_prf_key_run(pk, in, inlen, out, outlen);
	krb_prf_key_free(pk);
	return rc;
}
