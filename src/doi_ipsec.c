/*
 * IPsec DOI negotiation, KEYMAT and PFS for KINK CREATE (see doi_ipsec.h).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "doi_ipsec.h"
#include "dh.h"

#define NONCE_LEN	16	/* what we send; racoon2 sends 16 too */
#define KEYMAT_MAX	128	/* enc (<= 36) + auth (<= 64) */
#define SEED_MAX	(DH_MAX_LEN + 5 + 2 * ISAKMP_NONCE_MAX)

/*
 * RFC 4430 3.6: soft = hard - random(T-retrans .. T-rekey), T-rekey at
 * least twice T-retrans.  The daemon sets T-retrans from its configured
 * retransmission cycle (doi_set_retrans); this is the default cycle.
 */
#define DOI_T_RETRANS	31	/* 1+2+4+8+16 s, a full retransmit cycle */

enum { ROLE_INIT = 1, ROLE_RESP };

/* One protocol of the chosen (or optimistic) proposal. */
struct doi_pick {
	uint8_t		 pk_proto;
	uint32_t	 pk_peer_spi;	/* the peer's inbound SPI */
	struct isakmp_trans pk_t;	/* the one transform, final attrs */
};

struct doi_ctx {
	int		 c_role;
	struct sockaddr_storage c_local, c_remote;
	struct kink_policy c_pol;	/* initiator's copy; responder's match */
	const struct kink_policy *c_polp;	/* responder: caller's pointer */
	struct doi_spis	 c_in;		/* this host's inbound SPIs */
	uint8_t		 c_ni[ISAKMP_NONCE_MAX], c_nr[ISAKMP_NONCE_MAX];
	size_t		 c_nilen, c_nrlen;
	int		 c_nonce_fixed;
	struct kink_dh	*c_dh;
	uint8_t		 c_gxy[DH_MAX_LEN];
	size_t		 c_gxylen;
	struct isakmp_sa c_offer;	/* initiator: what we proposed */
	int		 c_send_ids;
	struct isakmp_id c_id[2];	/* IDci, IDcr as sent or received */
	int		 c_nid;
	/* Responder: the choice. */
	int		 c_npick;
	struct doi_pick	 c_pick[DOI_MAX_SA];
	uint8_t		 c_pick_num;	/* Proposal # chosen */
	int		 c_optimistic;
	int		 c_chosen;
	uint32_t	 c_t_retrans;	/* seconds of one retransmit cycle */
};

/* --- small helpers --------------------------------------------------- */

/* Seconds lifetime: absent means RFC 2407's default (4.5). */
static uint32_t
eff_secs(uint32_t v)
{
	return v ? v : IPSECDOI_ATTR_SA_LD_SEC_DEFAULT;
}

static void
set_err(struct doi_error *e, int err)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->de_err = err;
	e->de_notify = isakmp_err_notify(err);
}

/* A host selector (/32 or /128) for an address. */
static void
host_sel(struct kink_selector *sel, const struct sockaddr_storage *ss)
{
	memset(sel, 0, sizeof(*sel));
	memcpy(&sel->sel_addr, ss, addr_len(addr_sa(ss)));
	addr_set_port(&sel->sel_addr, 0);
	sel->sel_plen = ss->ss_family == AF_INET6 ? 128 : 32;
}

static int
sel_set(const struct kink_selector *s)
{
	return s->sel_addr.ss_family == AF_INET ||
	    s->sel_addr.ss_family == AF_INET6;
}

/* "192.0.2.0/24 port 80" (no port when any); into out[len]. */
static void
sel_str(const struct kink_selector *s, char *out, size_t len)
{
	char a[ADDR_STRLEN];
	size_t n;

	addr_ntop(addr_sa(&s->sel_addr), a, sizeof(a));
	n = (size_t)snprintf(out, len, "%s/%u", a, s->sel_plen);
	if (s->sel_port != 0 && n < len)
		snprintf(out + n, len - n, " port %u", s->sel_port);
}

/* Selector -> ID payload (ADDR for a host, SUBNET otherwise). */
static void
sel_to_id(const struct kink_selector *s, uint8_t ulproto,
    struct isakmp_id *id)
{
	size_t alen;
	const uint8_t *a = addr_bytes(addr_sa(&s->sel_addr), &alen);
	int v6 = alen == 16;

	memset(id, 0, sizeof(*id));
	id->id_alen = (uint8_t)alen;
	id->id_proto = ulproto;
	id->id_port = ulproto ? s->sel_port : 0;
	memcpy(id->id_addr, a, alen);
	if (s->sel_plen == alen * 8) {
		id->id_type = v6 ? IPSEC_ID_IPV6_ADDR : IPSEC_ID_IPV4_ADDR;
		return;
	}
	id->id_type = v6 ? IPSEC_ID_IPV6_ADDR_SUBNET : IPSEC_ID_IPV4_ADDR_SUBNET;
	for (int i = 0; i < s->sel_plen; i++)
		id->id_addr2[i / 8] |= 0x80 >> (i % 8);
	for (size_t i = 0; i < alen; i++)
		id->id_addr[i] &= id->id_addr2[i];
}

/* ID payload -> selector; -1 if a range is not a prefix. */
static int
id_to_sel(const struct isakmp_id *id, struct kink_selector *s)
{
	int plen = id->id_alen * 8, i;

	memset(s, 0, sizeof(*s));
	if (id->id_alen == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->sel_addr;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, id->id_addr, 16);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&s->sel_addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, id->id_addr, 4);
	}
	switch (id->id_type) {
	case IPSEC_ID_IPV4_ADDR_SUBNET:
	case IPSEC_ID_IPV6_ADDR_SUBNET:
		for (plen = 0; plen < id->id_alen * 8 &&
		    (id->id_addr2[plen / 8] & (0x80 >> (plen % 8))); plen++)
			;
		break;
	case IPSEC_ID_IPV4_ADDR_RANGE:
	case IPSEC_ID_IPV6_ADDR_RANGE:
		/* Only a range that is exactly a prefix maps to one. */
		for (plen = id->id_alen * 8; plen > 0; plen--) {
			int b = plen - 1;

			if ((id->id_addr[b / 8] & (0x80 >> (b % 8))) != 0 ||
			    (id->id_addr2[b / 8] & (0x80 >> (b % 8))) == 0)
				break;
		}
		for (i = 0; i < plen; i++)
			if (((id->id_addr[i / 8] ^ id->id_addr2[i / 8]) &
			    (0x80 >> (i % 8))) != 0)
				return -1;
		break;
	}
	s->sel_plen = (uint8_t)plen;
	s->sel_port = id->id_port;
	return 0;
}

static int
sel_eq(const struct kink_selector *a, const struct kink_selector *b)
{
	size_t la, lb;
	const uint8_t *pa = addr_bytes(addr_sa(&a->sel_addr), &la);
	const uint8_t *pb = addr_bytes(addr_sa(&b->sel_addr), &lb);
	int full = a->sel_plen / 8, rem = a->sel_plen % 8;

	if (a->sel_addr.ss_family != b->sel_addr.ss_family ||
	    a->sel_plen != b->sel_plen || a->sel_port != b->sel_port)
		return 0;
	if (memcmp(pa, pb, full) != 0)
		return 0;
	return rem == 0 ||
	    ((pa[full] ^ pb[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

static void
random_bytes(uint8_t *p, size_t n)
{
	arc4random_buf(p, n);
}

/* --- algorithms ------------------------------------------------------ */

int
doi_enc_keylen(uint8_t esp_id, uint16_t keylen_bits)
{
	switch (esp_id) {
	case ESP_3DES:
		return keylen_bits == 0 || keylen_bits == 192 ? 24 : -1;
	case ESP_NULL:
		return keylen_bits == 0 ? 0 : -1;
	case ESP_AES_CBC:
		if (keylen_bits == 128 || keylen_bits == 192 ||
		    keylen_bits == 256)
			return keylen_bits / 8;
		return -1;
	case ESP_AES_CTR:	/* RFC 3686 5.1: key + 4-octet nonce */
	case ESP_AES_GCM_8:	/* RFC 4106 8.1: key + 4-octet salt */
	case ESP_AES_GCM_12:
	case ESP_AES_GCM_16:
		if (keylen_bits == 128 || keylen_bits == 192 ||
		    keylen_bits == 256)
			return keylen_bits / 8 + 4;
		return -1;
	}
	return -1;
}

int
doi_auth_keylen(uint16_t auth)
{
	switch (auth) {
	case 0:
		return 0;
	case AUTH_ALG_HMAC_MD5:
		return 16;
	case AUTH_ALG_HMAC_SHA:
		return 20;
	case AUTH_ALG_HMAC_SHA2_256:
		return 32;
	case AUTH_ALG_HMAC_SHA2_384:
		return 48;
	case AUTH_ALG_HMAC_SHA2_512:
		return 64;
	case AUTH_ALG_AES_XCBC_MAC:
		return 16;
	}
	return -1;
}

static int
esp_is_aead(uint8_t id)
{
	return id == ESP_AES_GCM_8 || id == ESP_AES_GCM_12 ||
	    id == ESP_AES_GCM_16;
}

/* The AH transform id names the hash the Auth Algorithm attr repeats. */
static uint16_t
ah_auth(uint8_t ah_id)
{
	switch (ah_id) {
	case AH_MD5:
		return AUTH_ALG_HMAC_MD5;
	case AH_SHA:
		return AUTH_ALG_HMAC_SHA;
	case AH_SHA2_256:
		return AUTH_ALG_HMAC_SHA2_256;
	case AH_SHA2_384:
		return AUTH_ALG_HMAC_SHA2_384;
	case AH_SHA2_512:
		return AUTH_ALG_HMAC_SHA2_512;
	case AH_AES_XCBC_MAC:
		return AUTH_ALG_AES_XCBC_MAC;
	}
	return 0;
}

/* Can we build a kernel SA from this transform at all? */
static int
trans_usable(uint8_t proto, const struct isakmp_trans *t)
{
	const struct isakmp_attrs *a = &t->t_attrs;

	if (t->t_err != 0 || a->a_rounds != 0)
		return 0;
	if (proto == PROTO_IPSEC_ESP) {
		if (doi_enc_keylen(t->t_id, a->a_keylen) < 0 ||
		    doi_auth_keylen(a->a_auth) < 0)
			return 0;
		/* Combined mode carries no separate integrity algorithm. */
		if (esp_is_aead(t->t_id) && a->a_auth != 0)
			return 0;
		if (t->t_id == ESP_NULL && a->a_auth == 0)
			return 0;
		return 1;
	}
	if (proto == PROTO_IPSEC_AH)
		return a->a_keylen == 0 && ah_auth(t->t_id) != 0 &&
		    (a->a_auth == 0 || a->a_auth == ah_auth(t->t_id));
	return 0;	/* IPCOMP: not negotiated yet */
}

/* Does a transform match what a suite allows for its protocol? */
static int
trans_matches(uint8_t proto, const struct isakmp_trans *t,
    const struct kink_xform *x, const struct kink_policy *pol)
{
	const struct isakmp_attrs *a = &t->t_attrs;
	uint16_t mode = a->a_mode ? a->a_mode : ENCAP_MODE_TRANSPORT;
	uint16_t xauth = x->x_auth;

	if (!x->x_present || !trans_usable(proto, t) || t->t_id != x->x_id)
		return 0;
	if (mode != pol->pol_mode || a->a_group != pol->pol_pfs_group)
		return 0;
	if (proto == PROTO_IPSEC_AH) {
		if (xauth == 0)
			xauth = ah_auth(x->x_id);
		return (a->a_auth ? a->a_auth : ah_auth(t->t_id)) == xauth;
	}
	return a->a_keylen == x->x_keylen && a->a_auth == xauth;
}

/* --- KEYMAT ---------------------------------------------------------- */

int
doi_keymat(doi_prf_fn prf, void *arg, const uint8_t *gxy, size_t gxylen,
    uint8_t proto, uint32_t spi, const uint8_t *ni, size_t nilen,
    const uint8_t *nr, size_t nrlen, uint8_t *out, size_t outlen)
{
	uint8_t in[DOI_PRF_MAX + SEED_MAX], k[DOI_PRF_MAX];
	size_t seedlen, klen = 0, done = 0, n;
	uint8_t *seed = in + DOI_PRF_MAX;
	int rc = -1;

	if (gxylen > DH_MAX_LEN || nilen > ISAKMP_NONCE_MAX ||
	    nrlen > ISAKMP_NONCE_MAX || (gxylen && gxy == NULL) ||
	    (nrlen && nr == NULL) || ni == NULL)
		return -1;
	/* seed = [g^xy |] protocol | SPI | Ni_b [| Nr_b] */
	seedlen = 0;
	if (gxylen) {
		memcpy(seed, gxy, gxylen);
		seedlen = gxylen;
	}
	seed[seedlen++] = proto;
	put_be32(seed + seedlen, spi);
	seedlen += 4;
	memcpy(seed + seedlen, ni, nilen);
	seedlen += nilen;
	if (nrlen) {
		memcpy(seed + seedlen, nr, nrlen);
		seedlen += nrlen;
	}
	/* K1 = prf(seed); Kn = prf(Kn-1 | seed): Kn-1 sits just before. */
	while (done < outlen) {
		memcpy(seed - klen, k, klen);
		n = sizeof(k);
		if (prf(arg, seed - klen, klen + seedlen, k, &n) != 0 ||
		    n == 0 || n > DOI_PRF_MAX)
			goto out;
		klen = n;
		if (n > outlen - done)
			n = outlen - done;
		memcpy(out + done, k, n);
		done += n;
	}
	rc = 0;
out:
	explicit_bzero(in, sizeof(in));
	explicit_bzero(k, sizeof(k));
	return rc;
}

uint32_t
doi_soft_secs(uint32_t hard, uint32_t t_retrans)
{
	uint32_t lo, hi;

	if (hard < 4)
		return hard;
	if (t_retrans == 0)
		t_retrans = DOI_T_RETRANS;
	/* T-rekey = 4 x T-retrans: a rekey can survive a lost exchange. */
	lo = t_retrans;
	hi = t_retrans > UINT32_MAX / 4 ? UINT32_MAX : 4 * t_retrans;
	/* Short lifetimes: keep the soft expiry in the second half. */
	if (hi > hard / 2) {
		hi = hard / 2;
		lo = hi / 4;
	}
	if (lo == 0)
		lo = 1;
	return hard - (lo + arc4random_uniform(hi - lo + 1));
}

static uint64_t
soft_bytes(uint64_t hard)
{
	/* 80..90 % of the hard limit. */
	return hard - hard / 10 - (hard / 10) * arc4random_uniform(1001) / 1000;
}

/*
 * One SA of the pair: `spi` chosen by the SA's destination, keys from
 * KEYMAT over exactly that SPI (RFC 4430 section 7).
 */
static int
make_sa(struct doi_ctx *c, const struct doi_pick *pk, int dir, uint32_t spi,
    doi_prf_fn prf, void *arg, struct kink_sa *sa)
{
	const struct isakmp_attrs *a = &pk->pk_t.t_attrs;
	const struct kink_policy *pol = &c->c_pol;
	const struct sockaddr_storage *lo = &c->c_local, *re = &c->c_remote;
	struct kink_selector sl, sr;
	uint8_t km[KEYMAT_MAX];
	int enc = 0, auth, rc = -1;
	uint32_t hard;

	memset(sa, 0, sizeof(*sa));
	if (pol->pol_mode == ENCAP_MODE_TUNNEL &&
	    pol->pol_tun_local.ss_family != 0 &&
	    pol->pol_tun_remote.ss_family != 0) {
		lo = &pol->pol_tun_local;
		re = &pol->pol_tun_remote;
	}
	if (dir == SA_DIR_IN) {
		memcpy(&sa->sa_src, re, sizeof(*re));
		memcpy(&sa->sa_dst, lo, sizeof(*lo));
	} else {
		memcpy(&sa->sa_src, lo, sizeof(*lo));
		memcpy(&sa->sa_dst, re, sizeof(*re));
	}
	sa->sa_proto = pk->pk_proto;
	sa->sa_dir = (uint8_t)dir;
	sa->sa_mode = a->a_mode ? (uint8_t)a->a_mode : ENCAP_MODE_TRANSPORT;
	sa->sa_spi = spi;
	sa->sa_reqid = pol->pol_reqid;
	if (pk->pk_proto == PROTO_IPSEC_ESP) {
		sa->sa_enc = pk->pk_t.t_id;
		sa->sa_enc_keylen = a->a_keylen;
		sa->sa_auth = a->a_auth;
		enc = doi_enc_keylen(pk->pk_t.t_id, a->a_keylen);
	} else
		sa->sa_auth = a->a_auth ? a->a_auth : ah_auth(pk->pk_t.t_id);
	auth = doi_auth_keylen(sa->sa_auth);
	if (enc < 0 || auth < 0 || enc > SA_KEY_MAX || auth > SA_KEY_MAX)
		goto out;
	if (enc + auth > 0 && doi_keymat(prf, arg, c->c_gxy, c->c_gxylen,
	    pk->pk_proto, spi, c->c_ni, c->c_nilen, c->c_nr, c->c_nrlen,
	    km, (size_t)(enc + auth)) != 0)
		goto out;
	/* RFC 4301 4.5.2: encryption key first, integrity key after. */
	memcpy(sa->sa_enckey, km, (size_t)enc);
	sa->sa_enckey_len = (uint8_t)enc;
	memcpy(sa->sa_authkey, km + enc, (size_t)auth);
	sa->sa_authkey_len = (uint8_t)auth;
	/* Absent means the default (RFC 2407 4.5), never "no expiry". */
	hard = eff_secs(a->a_life_secs);
	sa->sa_life_hard_secs = hard;
	sa->sa_life_soft_secs = doi_soft_secs(hard, c->c_t_retrans);
	sa->sa_life_hard_bytes = (uint64_t)a->a_life_kbytes * 1024;
	sa->sa_life_soft_bytes = soft_bytes(sa->sa_life_hard_bytes);
	/* Selectors: this host's side is the source of outbound traffic. */
	if (c->c_nid == 2) {
		int me = c->c_role == ROLE_INIT ? 0 : 1;

		if (id_to_sel(&c->c_id[me], &sl) < 0 ||
		    id_to_sel(&c->c_id[!me], &sr) < 0)
			goto out;
		sa->sa_sel_ulproto = c->c_id[0].id_proto;
	} else if (sel_set(&pol->pol_src) && sel_set(&pol->pol_dst)) {
		sl = pol->pol_src;
		sr = pol->pol_dst;
		sa->sa_sel_ulproto = pol->pol_ulproto;
	} else {
		host_sel(&sl, &c->c_local);
		host_sel(&sr, &c->c_remote);
		sa->sa_sel_ulproto = pol->pol_ulproto;
	}
	sa->sa_sel_src = dir == SA_DIR_OUT ? sl : sr;
	sa->sa_sel_dst = dir == SA_DIR_OUT ? sr : sl;
	rc = 0;
out:
	explicit_bzero(km, sizeof(km));
	if (rc != 0)
		sa_free_keys(sa);
	return rc;
}

static uint32_t
in_spi(const struct doi_ctx *c, uint8_t proto)
{
	return proto == PROTO_IPSEC_AH ? c->c_in.ds_ah : c->c_in.ds_esp;
}

/* Both directions for every picked protocol, ESP before AH. */
static int
make_sas(struct doi_ctx *c, const struct doi_pick *picks, int npick,
    doi_prf_fn prf, void *arg, struct doi_result *r, int want_out)
{
	int n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < npick; i++) {
			const struct doi_pick *pk = &picks[i];

			if ((pass == 0) != (pk->pk_proto == PROTO_IPSEC_ESP))
				continue;
			if (make_sa(c, pk, SA_DIR_IN, in_spi(c, pk->pk_proto),
			    prf, arg, &r->dr_in[n]) != 0)
				return -1;
			if (want_out && make_sa(c, pk, SA_DIR_OUT,
			    pk->pk_peer_spi, prf, arg, &r->dr_out[n]) != 0)
				return -1;
			n++;
		}
	r->dr_nsa = n;
	return 0;
}

void
doi_result_clear(struct doi_result *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < DOI_MAX_SA; i++) {
		sa_free_keys(&r->dr_in[i]);
		sa_free_keys(&r->dr_out[i]);
	}
	explicit_bzero(r, sizeof(*r));
}

/* --- contexts -------------------------------------------------------- */

static struct doi_ctx *
ctx_new(int role, const struct sockaddr *local, const struct sockaddr *remote)
{
	struct doi_ctx *c;

	if (local == NULL || remote == NULL ||
	    (local->sa_family != AF_INET && local->sa_family != AF_INET6) ||
	    local->sa_family != remote->sa_family)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_role = role;
	c->c_t_retrans = DOI_T_RETRANS;
	memcpy(&c->c_local, local, addr_len(local));
	memcpy(&c->c_remote, remote, addr_len(remote));
	return c;
}

void
doi_ctx_free(struct doi_ctx *c)
{
	if (c == NULL)
		return;
	dh_free(c->c_dh);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

void
doi_set_retrans(struct doi_ctx *c, uint32_t secs)
{
	c->c_t_retrans = secs ? secs : DOI_T_RETRANS;
}

int
doi_set_nonce(struct doi_ctx *c, const uint8_t *p, size_t len)
{
	uint8_t *dst = c->c_role == ROLE_INIT ? c->c_ni : c->c_nr;

	if (len < ISAKMP_NONCE_MIN || len > ISAKMP_NONCE_MAX)
		return -1;
	memcpy(dst, p, len);
	if (c->c_role == ROLE_INIT)
		c->c_nilen = len;
	else
		c->c_nrlen = len;
	c->c_nonce_fixed = 1;
	return 0;
}

int
doi_get_gxy(const struct doi_ctx *c, uint8_t *out, size_t max, size_t *len)
{
	if (c == NULL || c->c_gxylen > max)
		return -1;
	memcpy(out, c->c_gxy, c->c_gxylen);
	*len = c->c_gxylen;
	return 0;
}

unsigned
doi_policy_protos(const struct kink_policy *pol)
{
	unsigned m = 0;

	for (int i = 0; i < pol->pol_nsuites && i < POL_MAX_SUITES; i++) {
		if (pol->pol_suites[i].s_esp.x_present)
			m |= DOI_PROTO_BIT(PROTO_IPSEC_ESP);
		if (pol->pol_suites[i].s_ah.x_present)
			m |= DOI_PROTO_BIT(PROTO_IPSEC_AH);
	}
	return m;
}

static void
xform_attrs(const struct kink_policy *pol, uint8_t proto,
    const struct kink_xform *x, struct isakmp_trans *t)
{
	memset(t, 0, sizeof(*t));
	t->t_id = x->x_id;
	t->t_attrs.a_life_secs = pol->pol_life_secs;
	t->t_attrs.a_life_kbytes = pol->pol_life_kbytes;
	t->t_attrs.a_mode = pol->pol_mode;
	t->t_attrs.a_group = pol->pol_pfs_group;
	if (proto == PROTO_IPSEC_ESP) {
		t->t_attrs.a_keylen = x->x_keylen;
		t->t_attrs.a_auth = x->x_auth;
	} else	/* RFC 2407 4.5: AH MUST carry the Auth Algorithm too. */
		t->t_attrs.a_auth = x->x_auth ? x->x_auth : ah_auth(x->x_id);
}

static int
suite_kind(const struct kink_suite *s)
{
	return (s->s_esp.x_present ? 1 : 0) | (s->s_ah.x_present ? 2 : 0);
}

/*
 * Proposals from the policy's suites in order, so the first suite is the
 * optimistic proposal.  Consecutive single-protocol suites share one
 * Proposal as several Transforms (racoon2's shape, notes h.9); an AH+ESP
 * suite is a bundle of its own: two Proposals with the same number.
 */
static int
build_offer(struct doi_ctx *c)
{
	const struct kink_policy *pol = &c->c_pol;
	struct isakmp_sa *sa = &c->c_offer;
	int num = 0;

	memset(sa, 0, sizeof(*sa));
	sa->sa_doi = IPSEC_DOI;
	sa->sa_sit = IPSEC_SIT_IDENTITY_ONLY;
	for (int i = 0; i < pol->pol_nsuites; i++) {
		const struct kink_suite *s = &pol->pol_suites[i];
		int kind = suite_kind(s);
		struct isakmp_prop *p = NULL;

		if (kind == 0)
			return -1;
		if (kind != 3 && i > 0 && suite_kind(&pol->pol_suites[i - 1]) ==
		    kind && sa->sa_prop[sa->sa_nprop - 1].p_ntrans <
		    ISAKMP_MAX_TRANS)
			p = &sa->sa_prop[sa->sa_nprop - 1];
		if (p != NULL) {
			const struct kink_xform *x = kind == 1 ? &s->s_esp :
			    &s->s_ah;

			xform_attrs(pol, p->p_proto, x, &p->p_trans[p->p_ntrans]);
			p->p_trans[p->p_ntrans].t_num = (uint8_t)(p->p_ntrans + 1);
			p->p_ntrans++;
			continue;
		}
		num++;
		for (int k = 0; k < 2; k++) {
			uint8_t proto = k == 0 ? PROTO_IPSEC_ESP : PROTO_IPSEC_AH;
			const struct kink_xform *x = k == 0 ? &s->s_esp : &s->s_ah;

			if (!x->x_present)
				continue;
			if (sa->sa_nprop >= ISAKMP_MAX_PROPS)
				return -1;
			p = &sa->sa_prop[sa->sa_nprop++];
			p->p_num = (uint8_t)num;
			p->p_proto = proto;
			p->p_spisize = 4;
			p->p_spi = in_spi(c, proto);
			p->p_ntrans = 1;
			xform_attrs(pol, proto, x, &p->p_trans[0]);
			p->p_trans[0].t_num = 1;
		}
	}
	return sa->sa_nprop > 0 ? 0 : -1;
}

struct doi_ctx *
doi_init_new(const struct kink_policy *pol, const struct sockaddr *local,
    const struct sockaddr *remote, const struct doi_spis *in)
{
	struct doi_ctx *c;
	unsigned need;

	if (pol == NULL || in == NULL || pol->pol_nsuites < 1 ||
	    pol->pol_nsuites > POL_MAX_SUITES)
		return NULL;
	if ((c = ctx_new(ROLE_INIT, local, remote)) == NULL)
		return NULL;
	c->c_pol = *pol;
	c->c_in = *in;
	need = doi_policy_protos(pol);
	if (((need & DOI_PROTO_BIT(PROTO_IPSEC_ESP)) && in->ds_esp < 256) ||
	    ((need & DOI_PROTO_BIT(PROTO_IPSEC_AH)) && in->ds_ah < 256))
		goto fail;
	if (build_offer(c) != 0)
		goto fail;
	c->c_nilen = NONCE_LEN;
	random_bytes(c->c_ni, c->c_nilen);
	if (pol->pol_pfs_group != 0 &&
	    (c->c_dh = dh_new(pol->pol_pfs_group)) == NULL)
		goto fail;
	/*
	 * IDs only when the selectors are not just the two hosts: racoon2
	 * never sends them and ignores them (notes h.10).
	 */
	if (sel_set(&pol->pol_src) && sel_set(&pol->pol_dst)) {
		struct kink_selector hl, hr;

		host_sel(&hl, &c->c_local);
		host_sel(&hr, &c->c_remote);
		if (!sel_eq(&pol->pol_src, &hl) || !sel_eq(&pol->pol_dst, &hr) ||
		    pol->pol_ulproto != 0) {
			sel_to_id(&pol->pol_src, pol->pol_ulproto, &c->c_id[0]);
			sel_to_id(&pol->pol_dst, pol->pol_ulproto, &c->c_id[1]);
			c->c_send_ids = 1;
		}
	}
	return c;
fail:
	doi_ctx_free(c);
	return NULL;
}

int
doi_init_proposal(struct doi_ctx *c, struct buf *qm, uint8_t *first)
{
	struct isakmp_msg *m;
	uint8_t ke[DH_MAX_LEN];
	int rc = -1;

	if (c == NULL || c->c_role != ROLE_INIT)
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->m_has_sa = 1;
	m->m_sa = c->c_offer;
	m->m_nonce = rbuf_make(c->c_ni, c->c_nilen);
	if (c->c_dh != NULL) {
		size_t kl = dh_pub_len(dh_group(c->c_dh));

		if (dh_public(c->c_dh, ke, kl) != 0)
			goto out;
		m->m_ke = rbuf_make(ke, kl);
	}
	if (c->c_send_ids) {
		m->m_nid = 2;
		m->m_id[0] = c->c_id[0];
		m->m_id[1] = c->c_id[1];
	}
	if (isakmp_build(m, qm, first) != 0)
		goto out;
	rc = 0;
out:
	free(m);
	return rc;
}

/* Our optimistic picks: the first transform of each first proposal. */
static int
optimistic_picks(const struct isakmp_sa *sa, struct doi_pick *pk)
{
	int n = 0;

	for (int i = 0; i < sa->sa_nprop &&
	    sa->sa_prop[i].p_num == sa->sa_prop[0].p_num; i++) {
		if (n >= DOI_MAX_SA)
			return -1;
		memset(&pk[n], 0, sizeof(pk[n]));
		pk[n].pk_proto = sa->sa_prop[i].p_proto;
		pk[n].pk_peer_spi = sa->sa_prop[i].p_spi;
		pk[n].pk_t = sa->sa_prop[i].p_trans[0];
		n++;
	}
	return n;
}

int
doi_init_optimistic(struct doi_ctx *c, doi_prf_fn prf, void *arg,
    struct doi_result *r)
{
	struct doi_pick pk[DOI_MAX_SA];
	int n;

	memset(r, 0, sizeof(*r));
	/* KE means 3-way from the start: nothing to install early. */
	if (c == NULL || c->c_role != ROLE_INIT || c->c_dh != NULL)
		return -1;
	if ((n = optimistic_picks(&c->c_offer, pk)) < 0)
		return -1;
	if (c->c_send_ids)
		c->c_nid = 2;
	c->c_nrlen = 0;
	if (make_sas(c, pk, n, prf, arg, r, 0) != 0) {
		doi_result_clear(r);
		return -1;
	}
	r->dr_optimistic = 1;
	return 0;
}

static int
peer_error_notify(const struct isakmp_msg *m, struct doi_error *err)
{
	for (int i = 0; i < m->m_nnotify; i++) {
		const struct isakmp_notify *n = &m->m_notify[i];

		/* Status types are to be ignored (RFC 4430 5.5). */
		if (n->n_type > ISAKMP_NTYPE_ERROR_MAX)
			continue;
		set_err(err, ISAKMP_ERR_PEER_NOTIFY);
		err->de_notify = n->n_type;
		err->de_proto = n->n_proto;
		err->de_datalen = n->n_data.rb_len < sizeof(err->de_data) ?
		    n->n_data.rb_len : sizeof(err->de_data);
		if (err->de_datalen)
			memcpy(err->de_data, n->n_data.rb_p, err->de_datalen);
		if (n->n_spi.rb_len == 4)
			err->de_spi = get_be32(n->n_spi.rb_p);
		return 1;
	}
	return 0;
}

/*
 * The initiator's reading of the REPLY's SA payload: one proposal (one
 * per protocol of a bundle) with one transform each, every one what we
 * offered, lifetimes not raised.  Fills pk[0..*np) with our transforms
 * at the lifetimes agreed; *optimistic is cleared unless the REPLY took
 * the first proposal's first transforms.  0, or the ISAKMP_ERR_* to send.
 */
static int
reply_picks(const struct doi_ctx *c, const struct isakmp_sa *rs,
    struct doi_pick *pk, int *np, int *optimistic)
{
	int rc;

	/* One proposal (one per protocol of a bundle), one transform each. */
	for (int i = 0; i < rs->sa_nprop; i++) {
		const struct isakmp_prop *p = &rs->sa_prop[i];
		const struct isakmp_prop *o = NULL;
		const struct isakmp_trans *ot = NULL, *t = &p->p_trans[0];
		struct doi_pick *pick;
		int j;

		rc = ISAKMP_ERR_BAD_REPLY;
		if (p->p_num != rs->sa_prop[0].p_num || p->p_ntrans != 1 ||
		    *np >= DOI_MAX_SA)
			return rc;
		for (j = 0; j < c->c_offer.sa_nprop; j++)
			if (c->c_offer.sa_prop[j].p_num == p->p_num &&
			    c->c_offer.sa_prop[j].p_proto == p->p_proto) {
				o = &c->c_offer.sa_prop[j];
				break;
			}
		if (o == NULL)
			return rc;
		for (int k = 0; k < o->p_ntrans; k++)
			if (o->p_trans[k].t_num == t->t_num)
				ot = &o->p_trans[k];
		if (ot == NULL || t->t_id != ot->t_id || t->t_err != 0 ||
		    t->t_attrs.a_mode != ot->t_attrs.a_mode ||
		    t->t_attrs.a_keylen != ot->t_attrs.a_keylen ||
		    t->t_attrs.a_auth != ot->t_attrs.a_auth ||
		    t->t_attrs.a_group != ot->t_attrs.a_group ||
		    t->t_attrs.a_rounds != ot->t_attrs.a_rounds)
			return rc;
		for (int k = 0; k < *np; k++)
			if (pk[k].pk_proto == p->p_proto)
				return rc;
		/* Lower is fine, higher never (RFC 4430 3.2). */
		rc = ISAKMP_ERR_LIFE_RAISED;
		if (eff_secs(t->t_attrs.a_life_secs) >
		    eff_secs(ot->t_attrs.a_life_secs))
			return rc;
		if (ot->t_attrs.a_life_kbytes && t->t_attrs.a_life_kbytes >
		    ot->t_attrs.a_life_kbytes)
			return rc;
		pick = &pk[*np];
		memset(pick, 0, sizeof(*pick));
		pick->pk_proto = p->p_proto;
		pick->pk_peer_spi = p->p_spi;
		pick->pk_t = *ot;
		/* The shorter lifetimes win; absent in the REPLY = ours. */
		if (t->t_attrs.a_life_secs)
			pick->pk_t.t_attrs.a_life_secs = t->t_attrs.a_life_secs;
		if (t->t_attrs.a_life_kbytes)
			pick->pk_t.t_attrs.a_life_kbytes =
			    t->t_attrs.a_life_kbytes;
		if (ot != &o->p_trans[0] || p->p_num != c->c_offer.sa_prop[0].p_num)
			*optimistic = 0;
		(*np)++;
	}
	/* Every protocol of the chosen proposal must be answered. */
	rc = ISAKMP_ERR_BAD_REPLY;
	for (int j = 0, cnt = 0; j < c->c_offer.sa_nprop; j++) {
		if (c->c_offer.sa_prop[j].p_num != rs->sa_prop[0].p_num)
			continue;
		if (++cnt > *np)
			return rc;
	}
	return 0;
}

/*
 * The REPLY lowered a lifetime below the optimistic inbound SAs' (3.2:
 * the shorter one binds both directions), so they need replacing even
 * with the same keys.
 */
static int
life_lowered(const struct doi_pick *opt, int nopt, const struct doi_pick *pk,
    int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < nopt; j++) {
			const struct isakmp_attrs *a = &pk[i].pk_t.t_attrs;
			const struct isakmp_attrs *o = &opt[j].pk_t.t_attrs;

			if (opt[j].pk_proto == pk[i].pk_proto &&
			    (eff_secs(a->a_life_secs) !=
			    eff_secs(o->a_life_secs) ||
			    a->a_life_kbytes != o->a_life_kbytes))
				return 1;
		}
	return 0;
}

int
doi_init_reply(struct doi_ctx *c, const uint8_t *qm, size_t len,
    uint8_t first, doi_prf_fn prf, void *arg, struct doi_result *r,
    struct doi_error *err)
{
	struct isakmp_msg *m;
	struct doi_pick pk[DOI_MAX_SA], opt[DOI_MAX_SA];
	int rc, n = 0, nopt, optimistic = 1, pfs;

	memset(r, 0, sizeof(*r));
	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_INIT) {
		set_err(err, ISAKMP_ERR_INTERNAL);
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		set_err(err, ISAKMP_ERR_NOMEM);
		return -1;
	}
	if ((rc = isakmp_parse(qm, len, first, m)) != 0)
		goto fail;
	if (peer_error_notify(m, err))
		goto failp;
	if (!m->m_has_sa) {
		rc = ISAKMP_ERR_MISSING;
		goto fail;
	}
	if ((rc = reply_picks(c, &m->m_sa, pk, &n, &optimistic)) != 0)
		goto fail;
	pfs = c->c_dh != NULL;
	if (pfs != (m->m_ke.rb_p != NULL)) {
		rc = pfs ? ISAKMP_ERR_KE_MISMATCH : ISAKMP_ERR_BAD_REPLY;
		goto fail;
	}
	if (pfs) {
		uint16_t g = dh_group(c->c_dh);

		rc = ISAKMP_ERR_KE_MISMATCH;
		c->c_gxylen = dh_secret_len(g);
		if (dh_derive(c->c_dh, m->m_ke.rb_p, m->m_ke.rb_len, c->c_gxy,
		    c->c_gxylen) != 0)
			goto fail;
	}
	c->c_nrlen = 0;
	if (m->m_nonce.rb_p != NULL) {
		memcpy(c->c_nr, m->m_nonce.rb_p, m->m_nonce.rb_len);
		c->c_nrlen = m->m_nonce.rb_len;
	}
	c->c_nid = c->c_send_ids ? 2 : 0;
	rc = ISAKMP_ERR_INTERNAL;
	if (make_sas(c, pk, n, prf, arg, r, 1) != 0)
		goto fail;
	r->dr_optimistic = (uint8_t)optimistic;
	r->dr_pfs = (uint8_t)pfs;
	/*
	 * The inbound SAs of doi_init_optimistic hold other keys (or other
	 * algorithms) unless the optimistic proposal won without Nr and
	 * without KE.  Compare keys too, so nothing rests on that reading.
	 */
	nopt = optimistic_picks(&c->c_offer, opt);
	r->dr_in_changed = !(optimistic && c->c_nrlen == 0 && !pfs &&
	    nopt == n) || life_lowered(opt, nopt, pk, n);
	free(m);
	return 0;
fail:
	set_err(err, rc);
failp:
	doi_result_clear(r);
	c->c_gxylen = 0;
	explicit_bzero(c->c_gxy, sizeof(c->c_gxy));
	free(m);
	return -1;
}

/* --- responder ------------------------------------------------------- */

struct doi_ctx *
doi_resp_new(const struct sockaddr *local, const struct sockaddr *remote)
{
	return ctx_new(ROLE_RESP, local, remote);
}

/*
 * IDs (if any) against a policy, seen from the responder.  No IDs means
 * the SA is between the two hosts the CREATE travelled between, all
 * protocols: the initiator leaves them out exactly then (doi_init_new).
 * So without IDs only a policy without selectors or with exactly those
 * host selectors qualifies; otherwise a peer with an IPv4 and an IPv6
 * host-to-host policy would get the first one for either CREATE.
 */
static int
ids_match(const struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *pol)
{
	struct kink_selector si, sr;

	if (m->m_nid == 0) {
		if (!sel_set(&pol->pol_src) || !sel_set(&pol->pol_dst))
			return 1;
		host_sel(&si, &c->c_remote);
		host_sel(&sr, &c->c_local);
		return pol->pol_ulproto == 0 && sel_eq(&si, &pol->pol_dst) &&
		    sel_eq(&sr, &pol->pol_src);
	}
	if (!sel_set(&pol->pol_src) || !sel_set(&pol->pol_dst))
		return 0;
	if (id_to_sel(&m->m_id[0], &si) < 0 || id_to_sel(&m->m_id[1], &sr) < 0)
		return 0;
	if (m->m_id[0].id_proto != m->m_id[1].id_proto ||
	    m->m_id[0].id_proto != pol->pol_ulproto)
		return 0;
	/* IDci is the initiator's side: our remote selector. */
	return sel_eq(&si, &pol->pol_dst) && sel_eq(&sr, &pol->pol_src);
}

/*
 * Try one proposal (the props [start, end) with the same number) against
 * one policy: the suite giving the initiator's earliest transforms wins.
 */
static int
try_proposal(const struct isakmp_sa *sa, int start, int end,
    const struct kink_policy *pol, struct doi_pick *pk, int *npick,
    int *first_trans)
{
	int best = -1, besti[2] = { 0, 0 };
	int pe = -1, pa = -1;

	for (int i = start; i < end; i++) {
		if (sa->sa_prop[i].p_proto == PROTO_IPSEC_ESP && pe < 0)
			pe = i;
		else if (sa->sa_prop[i].p_proto == PROTO_IPSEC_AH && pa < 0)
			pa = i;
		else
			return 0;	/* IPCOMP, or a protocol twice */
	}
	for (int s = 0; s < pol->pol_nsuites && s < POL_MAX_SUITES; s++) {
		const struct kink_suite *su = &pol->pol_suites[s];
		int ie = -1, ia = -1;

		if ((pe >= 0) != su->s_esp.x_present ||
		    (pa >= 0) != su->s_ah.x_present)
			continue;
		if (pe >= 0) {
			const struct isakmp_prop *p = &sa->sa_prop[pe];

			for (int t = 0; t < p->p_ntrans && ie < 0; t++)
				if (trans_matches(PROTO_IPSEC_ESP,
				    &p->p_trans[t], &su->s_esp, pol))
					ie = t;
			if (ie < 0)
				continue;
		}
		if (pa >= 0) {
			const struct isakmp_prop *p = &sa->sa_prop[pa];

			for (int t = 0; t < p->p_ntrans && ia < 0; t++)
				if (trans_matches(PROTO_IPSEC_AH,
				    &p->p_trans[t], &su->s_ah, pol))
					ia = t;
			if (ia < 0)
				continue;
		}
		if (best < 0 || ie < besti[0] ||
		    (ie == besti[0] && ia < besti[1])) {
			best = s;
			besti[0] = ie;
			besti[1] = ia;
		}
	}
	if (best < 0)
		return 0;
	*npick = 0;
	*first_trans = 1;
	for (int k = 0; k < 2; k++) {
		int pi = k == 0 ? pe : pa, ti = besti[k];

		if (pi < 0)
			continue;
		memset(&pk[*npick], 0, sizeof(pk[0]));
		pk[*npick].pk_proto = sa->sa_prop[pi].p_proto;
		pk[*npick].pk_peer_spi = sa->sa_prop[pi].p_spi;
		pk[*npick].pk_t = sa->sa_prop[pi].p_trans[ti];
		if (ti != 0)
			*first_trans = 0;
		(*npick)++;
	}
	return 1;
}

/* Lower the lifetimes to our policy; never raise them (RFC 4430 3.2). */
static void
lower_life(struct isakmp_attrs *a, const struct kink_policy *pol)
{
	if (pol->pol_life_secs && pol->pol_life_secs < eff_secs(a->a_life_secs))
		a->a_life_secs = pol->pol_life_secs;
	/* Adding a byte limit to a proposal without one would read as a
	   raise to racoon2 (notes h.11): lower only what was sent. */
	if (pol->pol_life_kbytes && a->a_life_kbytes &&
	    pol->pol_life_kbytes < a->a_life_kbytes)
		a->a_life_kbytes = pol->pol_life_kbytes;
}

/*
 * The first proposal, in the initiator's order, that one of our policies
 * (IDs and PFS matching) accepts: 1 with the picks, the policy and the
 * optimistic flag in c, else 0.
 */
static int
choose_proposal(struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *const *pols, int npols)
{
	const struct isakmp_sa *sa = &m->m_sa;
	int found = 0;

	for (int s = 0; s < sa->sa_nprop && !found; ) {
		int e = s;

		while (e < sa->sa_nprop && sa->sa_prop[e].p_num ==
		    sa->sa_prop[s].p_num)
			e++;
		for (int i = 0; i < npols && !found; i++) {
			const struct kink_policy *pol = pols[i];
			int ft;

			if (!ids_match(c, m, pol) ||
			    (pol->pol_pfs_group != 0) != (m->m_ke.rb_p != NULL))
				continue;
			if (try_proposal(sa, s, e, pol, c->c_pick, &c->c_npick,
			    &ft)) {
				found = 1;
				c->c_polp = pol;
				c->c_pol = *pol;
				c->c_pick_num = sa->sa_prop[s].p_num;
				c->c_optimistic = s == 0 && ft;
			}
		}
		s = e;
	}
	return found;
}

/*
 * Why ID_POLICY, for the admin reading the log: the selectors the
 * initiator proposed (from its side) and the configured policy that
 * shares the most of them, as that is most often the one meant.
 */
static void
id_policy_text(const struct isakmp_msg *m,
    const struct kink_policy *const *pols, int npols, struct doi_error *err)
{
	struct kink_selector si, sr;
	char a[64], b[64], pa[64], pb[64];
	int best = -1, bscore = -1;

	if (err == NULL)
		return;
	if (id_to_sel(&m->m_id[0], &si) < 0 || id_to_sel(&m->m_id[1], &sr) < 0) {
		snprintf(err->de_text, sizeof(err->de_text),
		    "proposed IDs are ranges no policy can hold");
		return;
	}
	sel_str(&si, a, sizeof(a));
	sel_str(&sr, b, sizeof(b));
	for (int i = 0; i < npols; i++) {
		int sc = sel_eq(&si, &pols[i]->pol_dst) +
		    sel_eq(&sr, &pols[i]->pol_src) +
		    (m->m_id[0].id_proto == pols[i]->pol_ulproto);

		if (sel_set(&pols[i]->pol_src) && sel_set(&pols[i]->pol_dst) &&
		    sc > bscore) {
			best = i;
			bscore = sc;
		}
	}
	if (best < 0) {
		snprintf(err->de_text, sizeof(err->de_text), "proposed from %s "
		    "to %s proto %u; no policy with selectors", a, b,
		    m->m_id[0].id_proto);
		return;
	}
	/* The policy's from/to are our side first: swap to match. */
	sel_str(&pols[best]->pol_dst, pa, sizeof(pa));
	sel_str(&pols[best]->pol_src, pb, sizeof(pb));
	snprintf(err->de_text, sizeof(err->de_text), "proposed from %s to %s "
	    "proto %u; nearest policy %s: from %s to %s proto %u", a, b,
	    m->m_id[0].id_proto, pols[best]->pol_name, pa, pb,
	    pols[best]->pol_ulproto);
}

int
doi_resp_choose(struct doi_ctx *c, const struct kink_policy *const *pols,
    int npols, const uint8_t *qm, size_t len, uint8_t first,
    doi_spi_inuse_fn inuse, void *inuse_arg, struct doi_error *err)
{
	struct isakmp_msg *m;
	int rc, any_pfs = 0, any_ids = 0;

	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_RESP || c->c_chosen ||
	    (npols > 0 && pols == NULL)) {
		set_err(err, ISAKMP_ERR_INTERNAL);
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		set_err(err, ISAKMP_ERR_NOMEM);
		return -1;
	}
	if ((rc = isakmp_parse(qm, len, first, m)) != 0) {
		set_err(err, rc);
		if (rc == ISAKMP_ERR_PAYLOAD_TYPE && err != NULL) {
			err->de_data[0] = m->m_err_type;
			err->de_datalen = 1;
		}
		goto fail;
	}
	rc = ISAKMP_ERR_MISSING;
	if (!m->m_has_sa || m->m_nonce.rb_p == NULL)
		goto failrc;
	for (int i = 0; i < npols; i++) {
		if (pols[i]->pol_pfs_group != 0)
			any_pfs = 1;
		if (ids_match(c, m, pols[i]))
			any_ids = 1;
	}
	/* KE we cannot do: INVALID-PAYLOAD-TYPE naming KE (RFC 4430 3.2). */
	if (m->m_ke.rb_p != NULL && !any_pfs) {
		set_err(err, ISAKMP_ERR_KE_REFUSED);
		if (err != NULL) {
			err->de_data[0] = ISAKMP_NPTYPE_KE;
			err->de_datalen = 1;
		}
		goto fail;
	}
	/* IDs that fit no policy at all are the IDs' fault, not the SA's. */
	rc = ISAKMP_ERR_ID_POLICY;
	if (m->m_nid == 2 && !any_ids) {
		set_err(err, rc);
		id_policy_text(m, pols, npols, err);
		goto fail;
	}
	rc = ISAKMP_ERR_NO_PROPOSAL;
	if (!choose_proposal(c, m, pols, npols))
		goto failrc;
	/* The SPIs the initiator picked for our outbound SAs. */
	for (int i = 0; i < c->c_npick; i++) {
		struct doi_pick *pk = &c->c_pick[i];

		if (inuse != NULL && inuse(inuse_arg, pk->pk_proto,
		    pk->pk_peer_spi)) {
			set_err(err, ISAKMP_ERR_SPI_IN_USE);
			if (err != NULL) {
				err->de_proto = pk->pk_proto;
				err->de_spi = pk->pk_peer_spi;
			}
			goto fail;
		}
		lower_life(&pk->pk_t.t_attrs, &c->c_pol);
	}
	if (m->m_ke.rb_p != NULL) {
		uint16_t g = c->c_pol.pol_pfs_group;

		rc = ISAKMP_ERR_KE_MISMATCH;
		if (m->m_ke.rb_len != dh_pub_len(g) ||
		    (c->c_dh = dh_new(g)) == NULL)
			goto failrc;
		c->c_gxylen = dh_secret_len(g);
		if (dh_derive(c->c_dh, m->m_ke.rb_p, m->m_ke.rb_len, c->c_gxy,
		    c->c_gxylen) != 0)
			goto failrc;
	}
	memcpy(c->c_ni, m->m_nonce.rb_p, m->m_nonce.rb_len);
	c->c_nilen = m->m_nonce.rb_len;
	c->c_nid = m->m_nid;
	memcpy(c->c_id, m->m_id, sizeof(c->c_id));
	c->c_chosen = 1;
	free(m);
	return 0;
failrc:
	set_err(err, rc);
fail:
	/* No state: forget whatever the failed attempt picked. */
	dh_free(c->c_dh);
	c->c_dh = NULL;
	c->c_npick = 0;
	c->c_polp = NULL;
	c->c_gxylen = 0;
	explicit_bzero(c->c_gxy, sizeof(c->c_gxy));
	free(m);
	return -1;
}

unsigned
doi_resp_protos(const struct doi_ctx *c)
{
	unsigned mask = 0;

	if (c == NULL || !c->c_chosen)
		return 0;
	for (int i = 0; i < c->c_npick; i++)
		mask |= DOI_PROTO_BIT(c->c_pick[i].pk_proto);
	return mask;
}

int
doi_resp_finish(struct doi_ctx *c, const struct doi_spis *in,
    doi_prf_fn prf, void *arg, struct buf *qm, uint8_t *first,
    struct doi_result *r, struct doi_error *err)
{
	struct isakmp_msg *m = NULL;
	uint8_t ke[DH_MAX_LEN];
	int rc = ISAKMP_ERR_INTERNAL, add_nr;
	size_t start = qm->b_len;

	memset(r, 0, sizeof(*r));
	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_RESP || !c->c_chosen || in == NULL)
		goto fail;
	c->c_in = *in;
	for (int i = 0; i < c->c_npick; i++)
		if (in_spi(c, c->c_pick[i].pk_proto) < 256)
			goto fail;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		rc = ISAKMP_ERR_NOMEM;
		goto fail;
	}
	/*
	 * Nr only off the optimistic path (and with KE, which is 3-way
	 * anyway): racoon2 initiators recompute inbound keys only when the
	 * answer is not optimistic (notes c.1, h.8).
	 */
	add_nr = !c->c_optimistic || c->c_dh != NULL;
	if (add_nr) {
		if (!c->c_nonce_fixed) {
			c->c_nrlen = NONCE_LEN;
			random_bytes(c->c_nr, c->c_nrlen);
		}
		m->m_nonce = rbuf_make(c->c_nr, c->c_nrlen);
	} else
		c->c_nrlen = 0;
	m->m_has_sa = 1;
	m->m_sa.sa_doi = IPSEC_DOI;
	m->m_sa.sa_sit = IPSEC_SIT_IDENTITY_ONLY;
	m->m_sa.sa_nprop = c->c_npick;
	for (int i = 0; i < c->c_npick; i++) {
		struct isakmp_prop *p = &m->m_sa.sa_prop[i];

		p->p_num = c->c_pick_num;
		p->p_proto = c->c_pick[i].pk_proto;
		p->p_spisize = 4;
		p->p_spi = in_spi(c, p->p_proto);
		p->p_ntrans = 1;
		p->p_trans[0] = c->c_pick[i].pk_t;
	}
	if (c->c_dh != NULL) {
		size_t kl = dh_pub_len(dh_group(c->c_dh));

		if (dh_public(c->c_dh, ke, kl) != 0)
			goto fail;
		m->m_ke = rbuf_make(ke, kl);
	}
	if (c->c_nid == 2) {
		m->m_nid = 2;
		m->m_id[0] = c->c_id[0];
		m->m_id[1] = c->c_id[1];
	}
	if ((rc = isakmp_build(m, qm, first)) != 0)
		goto fail;
	rc = ISAKMP_ERR_INTERNAL;
	if (make_sas(c, c->c_pick, c->c_npick, prf, arg, r, 1) != 0)
		goto fail;
	r->dr_optimistic = (uint8_t)c->c_optimistic;
	r->dr_pfs = c->c_dh != NULL;
	/* RFC 4430 3.2: ACK when not optimistic, with Nr, or with KE. */
	r->dr_ackreq = !c->c_optimistic || add_nr || r->dr_pfs;
	r->dr_policy = c->c_polp;
	free(m);
	return 0;
fail:
	set_err(err, rc);
	doi_result_clear(r);
	if (qm->b_len > start)
		qm->b_len = start;
	free(m);
	return -1;
}

int
doi_notify_build(const struct doi_error *e, struct buf *qm, uint8_t *first)
{
	struct isakmp_msg *m;
	uint8_t spi[4];
	int rc;

	if (e == NULL || e->de_notify == 0 || e->de_datalen > sizeof(e->de_data))
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->m_nnotify = 1;
	m->m_notify[0].n_doi = IPSEC_DOI;
	m->m_notify[0].n_proto = e->de_proto;
	m->m_notify[0].n_type = e->de_notify;
	if (e->de_proto != 0 && e->de_spi != 0) {
		put_be32(spi, e->de_spi);
		m->m_notify[0].n_spi = rbuf_make(spi, 4);
	}
	m->m_notify[0].n_data = rbuf_make(e->de_data, e->de_datalen);
	rc = isakmp_build(m, qm, first);
	free(m);
	return rc == 0 ? 0 : -1;
}
