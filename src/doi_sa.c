/*
 * IPsec DOI algorithms, KEYMAT (RFC 4430 7), kernel lifetimes and the
 * struct kink_sa pairs of a choice; the negotiation context.
 */
#include <arpa/inet.h>

#include "addr.h"
#include "doi_int.h"

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
uint16_t
doi_ah_auth(uint8_t ah_id)
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
int
doi_trans_usable(uint8_t proto, const struct isakmp_trans *t)
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
		return a->a_keylen == 0 && doi_ah_auth(t->t_id) != 0 &&
		    (a->a_auth == 0 || a->a_auth == doi_ah_auth(t->t_id));
	/* IPCOMP (RFC 2407 4.4.5): deflate only, and no keys of any kind. */
	if (proto == PROTO_IPCOMP)
		return t->t_id == IPCOMP_DEFLATE && a->a_keylen == 0 &&
		    a->a_auth == 0;
	return 0;
}

/* Does a transform match what a suite allows for its protocol? */
int
doi_trans_matches(uint8_t proto, const struct isakmp_trans *t,
    const struct kink_xform *x, const struct kink_policy *pol)
{
	const struct isakmp_attrs *a = &t->t_attrs;
	uint16_t mode = a->a_mode ? a->a_mode : ENCAP_MODE_TRANSPORT;
	uint16_t xauth = x->x_auth;

	if (!x->x_present || !doi_trans_usable(proto, t) || t->t_id != x->x_id)
		return 0;
	if (mode != pol->pol_mode)
		return 0;
	/*
	 * RFC 2409 5.5 wants the group in every transform with PFS; an
	 * IPCOMP transform without it takes no KEYMAT, so it is let pass.
	 */
	if (a->a_group != pol->pol_pfs_group &&
	    !(proto == PROTO_IPCOMP && a->a_group == 0))
		return 0;
	if (proto == PROTO_IPCOMP)
		return 1;
	if (proto == PROTO_IPSEC_AH) {
		if (xauth == 0)
			xauth = doi_ah_auth(x->x_id);
		return (a->a_auth ? a->a_auth : doi_ah_auth(t->t_id)) == xauth;
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

/*
 * A number in [0, n) from the random word r (multiply and shift: the
 * bias, n / 2^32 at most, is nothing next to a lifetime's seconds).
 */
static uint32_t
rand_below(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

/*
 * A word for the soft lifetimes' jitter.  It only keeps the two ends
 * from rekeying at once (RFC 4430 3.6); it is no secret (the peer sees
 * when we rekey) and keys nothing, so it comes from POSIX's jrand48,
 * seeded once per thread by arc4random: every arc4random call is a
 * system call (libbsd's fork check is a getpid; glibc's own arc4random
 * a getrandom), which a CREATE would otherwise make per SA value.
 */
static uint32_t
jitter_word(void)
{
	static _Thread_local unsigned short xs[3];
	static _Thread_local int seeded;

	if (!seeded) {
		arc4random_buf(xs, sizeof(xs));
		seeded = 1;
	}
	return (uint32_t)jrand48(xs);
}

uint32_t
doi_soft_secs(uint32_t hard, uint32_t t_retrans)
{
	return doi_soft_secs_r(hard, t_retrans, arc4random());
}

uint32_t
doi_soft_secs_r(uint32_t hard, uint32_t t_retrans, uint32_t r)
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
	return hard - (lo + rand_below(r, hi - lo + 1));
}

static uint64_t
soft_bytes(uint64_t hard)
{
	/* No limit draws nothing. */
	if (hard == 0)
		return 0;
	/* 80..90 % of the hard limit. */
	return hard - hard / 10 -
	    (hard / 10) * rand_below(jitter_word(), 1001) / 1000;
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
	} else if (pk->pk_proto == PROTO_IPCOMP)
		sa->sa_enc = pk->pk_t.t_id;	/* the CPI's algorithm; no keys */
	else
		sa->sa_auth = a->a_auth ? a->a_auth : doi_ah_auth(pk->pk_t.t_id);
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
	sa->sa_life_soft_secs = doi_soft_secs_r(hard, c->c_t_retrans,
	    jitter_word());
	sa->sa_life_hard_bytes = (uint64_t)a->a_life_kbytes * 1024;
	sa->sa_life_soft_bytes = soft_bytes(sa->sa_life_hard_bytes);
	/* Selectors: this host's side is the source of outbound traffic. */
	if (c->c_nid == 2) {
		int me = c->c_role == ROLE_INIT ? 0 : 1;

		if (doi_id_to_sel(&c->c_id[me], &sl) < 0 ||
		    doi_id_to_sel(&c->c_id[!me], &sr) < 0)
			goto out;
		sa->sa_sel_ulproto = c->c_id[0].id_proto;
	} else {
		/*
		 * No IDs: the two hosts, all protocols, whatever wider
		 * policy holds them (the initiator installs the same).
		 */
		doi_host_sel(&sl, &c->c_local);
		doi_host_sel(&sr, &c->c_remote);
		sa->sa_sel_ulproto = 0;
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

uint32_t
doi_in_spi(const struct doi_ctx *c, uint8_t proto)
{
	if (proto == PROTO_IPCOMP)
		return c->c_in.ds_ipcomp;
	return proto == PROTO_IPSEC_AH ? c->c_in.ds_ah : c->c_in.ds_esp;
}

/*
 * The IPComp SA lives and dies with the SA it compresses for: the same
 * lifetimes (soft ones included), so both expire together.
 */
static void
same_life(struct kink_sa *ipc, const struct kink_sa *with)
{
	ipc->sa_life_hard_secs = with->sa_life_hard_secs;
	ipc->sa_life_soft_secs = with->sa_life_soft_secs;
	ipc->sa_life_hard_bytes = with->sa_life_hard_bytes;
	ipc->sa_life_soft_bytes = with->sa_life_soft_bytes;
}

/* Both directions for every picked protocol: ESP, AH, then IPCOMP. */
int
doi_make_sas(struct doi_ctx *c, const struct doi_pick *picks, int npick,
    doi_prf_fn prf, void *arg, struct doi_result *r, int want_out)
{
	static const uint8_t order[] = { PROTO_IPSEC_ESP, PROTO_IPSEC_AH,
	    PROTO_IPCOMP };
	int n = 0;

	for (size_t pass = 0; pass < sizeof(order); pass++)
		for (int i = 0; i < npick; i++) {
			const struct doi_pick *pk = &picks[i];

			if (pk->pk_proto != order[pass])
				continue;
			if (n >= DOI_MAX_SA)
				return -1;
			if (make_sa(c, pk, SA_DIR_IN, doi_in_spi(c, pk->pk_proto),
			    prf, arg, &r->dr_in[n]) != 0)
				return -1;
			if (want_out && make_sa(c, pk, SA_DIR_OUT,
			    pk->pk_peer_spi, prf, arg, &r->dr_out[n]) != 0)
				return -1;
			if (pk->pk_proto == PROTO_IPCOMP && n > 0) {
				same_life(&r->dr_in[n], &r->dr_in[0]);
				if (want_out)
					same_life(&r->dr_out[n], &r->dr_out[0]);
			}
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

struct doi_ctx *
doi_ctx_new(int role, const struct sockaddr *local, const struct sockaddr *remote)
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
doi_set_notify(struct doi_ctx *c, uint16_t type)
{
	c->c_test_notify = type;
}

void
doi_resp_set_life_notify(struct doi_ctx *c, int on)
{
	c->c_life_notify = on != 0;
}

int
doi_notifies(struct doi_ctx *c, uint16_t *types, int max)
{
	int n;

	if (c == NULL)
		return 0;
	for (int i = 0; i < c->c_nnotify && i < max; i++)
		types[i] = c->c_notify[i];
	n = c->c_nnotify;
	c->c_nnotify = 0;	/* each is logged once */
	return n;
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
