/*
 * What both kernel codecs share, pure like them: the IPsec DOI -> kernel
 * algorithm tables, the check that an SA's algorithms exist in the
 * kernel, and the SPD directions a policy needs.
 */
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "isakmp_num.h"
#include "kern_msg.h"

/* PF_KEY numbers (Linux pfkeyv2.h); XFRM names (Linux crypto API). */
static const struct sadb_algmap enc_algs[] = {
	{ ESP_DES,	 2, "cbc(des)",		0, 0 },
	{ ESP_3DES,	 3, "cbc(des3_ede)",	0, 0 },
	{ ESP_NULL,	11, "ecb(cipher_null)",	0, 0 },
	{ ESP_AES_CBC,	12, "cbc(aes)",		0, 0 },
	{ ESP_AES_CTR,	13, "rfc3686(ctr(aes))", 0, 0 },
	{ ESP_AES_GCM_8, 18, "rfc4106(gcm(aes))", 64, 1 },
	{ ESP_AES_GCM_12, 19, "rfc4106(gcm(aes))", 96, 1 },
	{ ESP_AES_GCM_16, 20, "rfc4106(gcm(aes))", 128, 1 },
};

/* DOI Authentication Algorithm attribute -> PF_KEY differs (SHA1 2 -> 3). */
static const struct sadb_algmap auth_algs[] = {
	{ AUTH_ALG_HMAC_MD5,	 2, "hmac(md5)",	96, 0 },
	{ AUTH_ALG_HMAC_SHA,	 3, "hmac(sha1)",	96, 0 },
	{ AUTH_ALG_HMAC_SHA2_256, 5, "hmac(sha256)",	128, 0 },
	{ AUTH_ALG_HMAC_SHA2_384, 6, "hmac(sha384)",	192, 0 },
	{ AUTH_ALG_HMAC_SHA2_512, 7, "hmac(sha512)",	256, 0 },
	{ AUTH_ALG_AES_XCBC_MAC, 9, "xcbc(aes)",	96, 0 },
};

/*
 * IPComp transform (RFC 2407 4.4.5) -> PF_KEY SADB_X_CALG_* (which Linux
 * takes in sadb_sa_encrypt of an IPCOMP SA) and the crypto API name.
 */
static const struct sadb_algmap comp_algs[] = {
	{ IPCOMP_DEFLATE, 2, "deflate",	0, 0 },
};

const struct sadb_algmap *
sadb_alg_comp_at(int i)
{
	if (i < 0 || (size_t)i >= sizeof(comp_algs) / sizeof(comp_algs[0]))
		return NULL;
	return &comp_algs[i];
}

const struct sadb_algmap *
sadb_alg_comp(uint8_t t)
{
	const struct sadb_algmap *m;

	for (int i = 0; (m = sadb_alg_comp_at(i)) != NULL; i++)
		if (m->al_doi == t)
			return m;
	return NULL;
}

const struct sadb_algmap *
sadb_alg_enc_at(int i)
{
	if (i < 0 || (size_t)i >= sizeof(enc_algs) / sizeof(enc_algs[0]))
		return NULL;
	return &enc_algs[i];
}

const struct sadb_algmap *
sadb_alg_auth_at(int i)
{
	if (i < 0 || (size_t)i >= sizeof(auth_algs) / sizeof(auth_algs[0]))
		return NULL;
	return &auth_algs[i];
}

static int
caps_index(const struct sadb_algmap *(*at)(int), const struct sadb_algmap *m)
{
	for (int i = 0; at(i) != NULL; i++)
		if (at(i) == m)
			return i;
	return -1;
}

int
sadb_caps_xform(const struct sadb_caps *c, uint8_t proto,
    const struct kink_xform *x, char *why, size_t len)
{
	const struct sadb_algmap *m;
	int i;

	if (proto == IPPROTO_COMP) {
		if (!c->kc_comp_known)
			return 1;
		if ((m = sadb_alg_comp(x->x_id)) == NULL ||
		    (i = caps_index(sadb_alg_comp_at, m)) < 0 ||
		    i >= SADB_CAPS_MAX || !c->kc_comp[i]) {
			snprintf(why, len, "the kernel has no IPComp %s (%s)",
			    m != NULL ? m->al_xfrm : "such compression",
			    SADB_CAPS_COMP_SOURCE);
			return 0;
		}
		return 1;
	}
	if (!c->kc_known)
		return 1;
	if (proto == IPPROTO_ESP && x->x_id != 0) {
		if ((m = sadb_alg_enc(x->x_id)) == NULL ||
		    (i = caps_index(sadb_alg_enc_at, m)) < 0 ||
		    i >= SADB_CAPS_MAX || !c->kc_enc[i]) {
			snprintf(why, len, "the kernel has no %s (%s)",
			    m != NULL ? m->al_xfrm : "such cipher",
			    c->kc_source);
			return 0;
		}
		if (x->x_keylen != 0 && ((c->kc_enc_min[i] != 0 &&
		    x->x_keylen < c->kc_enc_min[i]) || (c->kc_enc_max[i] != 0 &&
		    x->x_keylen > c->kc_enc_max[i]))) {
			snprintf(why, len, "the kernel's %s takes %u..%u-bit "
			    "keys, not %u (%s)", m->al_xfrm, c->kc_enc_min[i],
			    c->kc_enc_max[i], x->x_keylen, c->kc_source);
			return 0;
		}
	}
	if (x->x_auth != 0) {
		if ((m = sadb_alg_auth(x->x_auth)) == NULL ||
		    (i = caps_index(sadb_alg_auth_at, m)) < 0 ||
		    i >= SADB_CAPS_MAX || !c->kc_auth[i]) {
			snprintf(why, len, "the kernel has no %s (%s)",
			    m != NULL ? m->al_xfrm : "such integrity algorithm",
			    c->kc_source);
			return 0;
		}
	}
	return 1;
}

void
sadb_caps_names(const struct sadb_caps *c, int enc, char *out, size_t len)
{
	const struct sadb_algmap *(*at)(int) = enc == 2 ? sadb_alg_comp_at :
	    enc ? sadb_alg_enc_at : sadb_alg_auth_at;
	const uint8_t *have = enc == 2 ? c->kc_comp : enc ? c->kc_enc :
	    c->kc_auth;

	if (len == 0)
		return;
	out[0] = '\0';
	for (int i = 0; at(i) != NULL && i < SADB_CAPS_MAX; i++) {
		int dup = 0;

		if (!have[i])
			continue;
		/* The GCM ICV sizes share one name. */
		for (int j = 0; j < i; j++)
			if (have[j] && strcmp(at(j)->al_xfrm,
			    at(i)->al_xfrm) == 0)
				dup = 1;
		if (dup)
			continue;
		if (out[0] != '\0')
			strlcat(out, " ", len);
		strlcat(out, at(i)->al_xfrm, len);
	}
}

const struct sadb_algmap *
sadb_alg_enc(uint8_t t)
{
	size_t i;

	for (i = 0; i < sizeof(enc_algs) / sizeof(enc_algs[0]); i++)
		if (enc_algs[i].al_doi == t)
			return &enc_algs[i];
	return NULL;
}

const struct sadb_algmap *
sadb_alg_auth(uint16_t a)
{
	size_t i;

	for (i = 0; i < sizeof(auth_algs) / sizeof(auth_algs[0]); i++)
		if (auth_algs[i].al_doi == a)
			return &auth_algs[i];
	return NULL;
}

int
sadb_alg_sa(const struct kink_sa *sa, const struct sadb_algmap **enc,
    const struct sadb_algmap **auth)
{
	*enc = *auth = NULL;
	/* IPComp: the compression algorithm in *enc, never a key. */
	if (sa->sa_proto == PROTO_IPCOMP) {
		if (sa->sa_auth != 0 || sa->sa_spi > 0xffff) {
			errno = EINVAL;
			return -1;
		}
		if ((*enc = sadb_alg_comp(sa->sa_enc)) == NULL) {
			errno = EOPNOTSUPP;
			return -1;
		}
		return 0;
	}
	if (sa->sa_proto == PROTO_IPSEC_ESP &&
	    (*enc = sadb_alg_enc(sa->sa_enc)) == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sa->sa_auth != 0 && (*auth = sadb_alg_auth(sa->sa_auth)) == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sa->sa_proto == PROTO_IPSEC_AH && *auth == NULL) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
kern_pol_dirs(const struct kink_policy *pol, const uint8_t val[3],
    uint8_t dirs[3])
{
	int n = 0;

	dirs[n++] = val[0];
	dirs[n++] = val[1];
	/* Gateways forward: traffic for the subnet behind us is checked
	 * against fwd, not in. */
	if (pol->pol_mode == ENCAP_MODE_TUNNEL)
		dirs[n++] = val[2];
	return n;
}

static unsigned
sel_bits(const struct kink_selector *sel)
{
	return sel->sel_plen + (sel->sel_port != 0 ? 16 : 0);
}

uint32_t
kern_pol_priority(const struct kink_policy *pol)
{
	unsigned spec = sel_bits(&pol->pol_src) + sel_bits(&pol->pol_dst) +
	    (pol->pol_ulproto != 0 ? 8 : 0);

	return KERN_PRIO_BASE - spec;
}

int
kern_pol_ipcomp(const struct kink_policy *pol)
{
	for (int i = 0; i < pol->pol_nsuites; i++)
		if (pol->pol_suites[i].s_ipcomp.x_present)
			return 1;
	return 0;
}

/* Every address of prefix b is inside prefix a. */
static int
sel_covers(const struct kink_selector *a, const struct kink_selector *b)
{
	const uint8_t *pa, *pb;
	unsigned n, i;

	if (a->sel_addr.ss_family != b->sel_addr.ss_family ||
	    a->sel_plen > b->sel_plen)
		return 0;
	if (a->sel_port != 0 && a->sel_port != b->sel_port)
		return 0;
	if (a->sel_addr.ss_family == AF_INET) {
		pa = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)&a->sel_addr)->sin_addr;
		pb = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)&b->sel_addr)->sin_addr;
	} else if (a->sel_addr.ss_family == AF_INET6) {
		pa = ((const struct sockaddr_in6 *)
		    (const void *)&a->sel_addr)->sin6_addr.s6_addr;
		pb = ((const struct sockaddr_in6 *)
		    (const void *)&b->sel_addr)->sin6_addr.s6_addr;
	} else
		return 0;
	n = a->sel_plen;
	for (i = 0; i < n / 8; i++)
		if (pa[i] != pb[i])
			return 0;
	if (n % 8 != 0) {
		uint8_t m = (uint8_t)(0xff << (8 - n % 8));

		if ((pa[i] & m) != (pb[i] & m))
			return 0;
	}
	return 1;
}

int
kern_pol_shadows(const struct kink_policy *a, const struct kink_policy *b)
{
	if (a->pol_ulproto != 0 && a->pol_ulproto != b->pol_ulproto)
		return 0;
	if (!sel_covers(&a->pol_src, &b->pol_src) ||
	    !sel_covers(&a->pol_dst, &b->pol_dst))
		return 0;
	return kern_pol_priority(a) <= kern_pol_priority(b);
}
