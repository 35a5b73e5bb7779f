/*
 * Quick Mode PFS through libcrypto's EVP interface (OpenSSL 3): RFC 3526
 * group 14 is OpenSSL's named DH group "modp_2048"; RFC 5903 group 19 is
 * "prime256v1".
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "isakmp_num.h"
#include "dh.h"

struct kink_dh {
	uint16_t	 dh_group;
	EVP_PKEY	*dh_key;
};

struct dh_group_desc {
	uint16_t	 g_id;
	const char	*g_type;	/* "DH" or "EC" */
	const char	*g_name;	/* OpenSSL group name */
	size_t		 g_publen;
	size_t		 g_secretlen;
};

static const struct dh_group_desc groups[] = {
	{ OAKLEY_GROUP_MODP2048, "DH", "modp_2048", 256, 256 },
	{ OAKLEY_GROUP_ECP256, "EC", "prime256v1", 64, 32 },
};

static const struct dh_group_desc *
group_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].g_id == id)
			return &groups[i];
	return NULL;
}

int
dh_group_supported(uint16_t group)
{
	return group_find(group) != NULL;
}

size_t
dh_pub_len(uint16_t group)
{
	const struct dh_group_desc *g = group_find(group);

	return g ? g->g_publen : 0;
}

size_t
dh_secret_len(uint16_t group)
{
	const struct dh_group_desc *g = group_find(group);

	return g ? g->g_secretlen : 0;
}

struct kink_dh *
dh_new(uint16_t group)
{
	const struct dh_group_desc *g = group_find(group);
	struct kink_dh *dh = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	if (g == NULL)
		return NULL;
	if ((dh = calloc(1, sizeof(*dh))) == NULL)
		goto fail;
	dh->dh_group = group;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, g->g_type, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, g->g_name) <= 0 ||
	    EVP_PKEY_generate(ctx, &dh->dh_key) <= 0)
		goto fail;
	EVP_PKEY_CTX_free(ctx);
	return dh;
fail:
	EVP_PKEY_CTX_free(ctx);
	dh_free(dh);
	return NULL;
}

void
dh_free(struct kink_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->dh_key);	/* clears the private key */
	free(dh);
}

uint16_t
dh_group(const struct kink_dh *dh)
{
	return dh->dh_group;
}

int
dh_public(const struct kink_dh *dh, uint8_t *out, size_t outlen)
{
	const struct dh_group_desc *g = group_find(dh->dh_group);
	uint8_t pt[1 + 2 * 66];
	size_t ptlen = 0;
	BIGNUM *bn = NULL;
	int rc = -1;

	if (g == NULL || outlen != g->g_publen)
		return -1;
	if (strcmp(g->g_type, "DH") == 0) {
		if (EVP_PKEY_get_bn_param(dh->dh_key, OSSL_PKEY_PARAM_PUB_KEY,
		    &bn) <= 0 || BN_bn2binpad(bn, out, (int)outlen) < 0)
			goto out;
	} else {
		/* Uncompressed point 04 | x | y; IKE sends x | y. */
		if (EVP_PKEY_get_octet_string_param(dh->dh_key,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
		    &ptlen) <= 0 || ptlen != outlen + 1 || pt[0] != 0x04)
			goto out;
		memcpy(out, pt + 1, outlen);
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

/* An EVP_PKEY holding only the peer's public value. */
static EVP_PKEY *
peer_key(const struct dh_group_desc *g, const uint8_t *peer, size_t len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;
	uint8_t pt[1 + 2 * 66];

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    g->g_name, 0) <= 0)
		goto out;
	if (strcmp(g->g_type, "DH") == 0) {
		if ((bn = BN_bin2bn(peer, (int)len, NULL)) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    bn) <= 0)
			goto out;
	} else {
		if (len + 1 > sizeof(pt))
			goto out;
		pt[0] = 0x04;
		memcpy(pt + 1, peer, len);
		if (OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, len + 1) <= 0)
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, g->g_type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	return pk;
}

int
dh_derive(const struct kink_dh *dh, const uint8_t *peer, size_t peerlen,
    uint8_t *out, size_t outlen)
{
	const struct dh_group_desc *g = group_find(dh->dh_group);
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t tmp[DH_MAX_LEN];
	size_t len = sizeof(tmp);
	int rc = -1;

	if (g == NULL || peerlen != g->g_publen || outlen != g->g_secretlen)
		return -1;
	if ((pk = peer_key(g, peer, peerlen)) == NULL)
		goto out;
	/* Reject 0, 1, p-1, small-subgroup and off-curve values. */
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) <= 0)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->dh_key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, pk) <= 0 ||
	    EVP_PKEY_derive(ctx, tmp, &len) <= 0 || len > outlen)
		goto out;
	/* libcrypto drops leading zeros of g^xy; IKE keeps them. */
	memset(out, 0, outlen - len);
	memcpy(out + outlen - len, tmp, len);
	rc = 0;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_free(pk);
	return rc;
}
