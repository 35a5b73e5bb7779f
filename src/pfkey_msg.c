/*
 * PF_KEY v2 encoder and decoder (RFC 2367 with the KAME/Linux SPD
 * extensions).  Linux facts this relies on (docs/arch/kernel.md): UPDATE
 * keeps the keys of a valid SA (the driver replaces by DELETE + ADD), no
 * AEAD (AES-GCM fails), replay window at most 32, policy reqids above
 * 0x3fff are not kept, dump replies count their own sequence down to 0,
 * ACQUIRE names the policy but not its reqid.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/pfkeyv2.h>
#include <linux/ipsec.h>
#include <errno.h>
#include <string.h>

#include "isakmp_num.h"
#include "pfkey_msg.h"

/* The caller's buffer being filled. */
struct pkw {
	uint8_t		*w_buf;
	size_t		 w_cap;
	size_t		 w_len;		/* octets, a multiple of 8 */
	int		 w_err;		/* overflow */
};

uint32_t
pfkey_kreqid(struct pfkey_state *ps, uint32_t r)
{
	uint32_t cand;
	int i, n;

	if (r <= SADB_PFKEY_REQID_MAX)
		return r;
	for (i = 0; i < ps->ps_nkr; i++)
		if (ps->ps_kr[i].kr_reqid == r)
			return ps->ps_kr[i].kr_kernel;
	if (ps->ps_nkr == PFKEY_MAXPOL)
		return 0;
	/* Next stand-in not in use (the range has more than PFKEY_MAXPOL). */
	for (n = 0; n <= SADB_PFKEY_REQID_MAX - PFKEY_KREQID_FIRST; n++) {
		if (ps->ps_krnext < PFKEY_KREQID_FIRST ||
		    ps->ps_krnext > SADB_PFKEY_REQID_MAX)
			ps->ps_krnext = PFKEY_KREQID_FIRST;
		cand = ps->ps_krnext++;
		for (i = 0; i < ps->ps_nkr; i++)
			if (ps->ps_kr[i].kr_kernel == cand)
				break;
		if (i == ps->ps_nkr) {
			ps->ps_kr[ps->ps_nkr].kr_reqid = r;
			ps->ps_kr[ps->ps_nkr++].kr_kernel = cand;
			return cand;
		}
	}
	return 0;
}

/* kinkd's reqid for what the kernel reports. */
static uint32_t
ureqid(const struct pfkey_state *ps, uint32_t k)
{
	int i;

	for (i = 0; i < ps->ps_nkr; i++)
		if (ps->ps_kr[i].kr_kernel == k)
			return ps->ps_kr[i].kr_reqid;
	return k;
}

void
pfkey_pol_remember(struct pfkey_state *ps, uint32_t id, uint32_t reqid)
{
	int i;

	for (i = 0; i < ps->ps_npol; i++)
		if (ps->ps_pol[i].pp_id == id) {
			ps->ps_pol[i].pp_reqid = reqid;
			return;
		}
	if (ps->ps_npol == PFKEY_MAXPOL) {
		memmove(&ps->ps_pol[0], &ps->ps_pol[1],
		    (PFKEY_MAXPOL - 1) * sizeof(ps->ps_pol[0]));
		ps->ps_npol--;
	}
	ps->ps_pol[ps->ps_npol].pp_id = id;
	ps->ps_pol[ps->ps_npol++].pp_reqid = reqid;
}

static int
comp_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	return a->ss_family == AF_INET6 &&
	    memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

uint32_t
pfkey_comp_remember(struct pfkey_state *ps, const struct kink_sa *sa)
{
	int i;

	for (i = 0; i < ps->ps_ncomp; i++)
		if (ps->ps_comp[i].pc_cpi == sa->sa_spi &&
		    comp_same(&ps->ps_comp[i].pc_dst, &sa->sa_dst))
			break;
	if (i == ps->ps_ncomp) {
		/* Full: the oldest goes (its SA is likely gone by now). */
		if (ps->ps_ncomp == PFKEY_MAXCOMP) {
			memmove(&ps->ps_comp[0], &ps->ps_comp[1],
			    (PFKEY_MAXCOMP - 1) * sizeof(ps->ps_comp[0]));
			ps->ps_ncomp--;
		}
		i = ps->ps_ncomp++;
	}
	ps->ps_comp[i].pc_cpi = sa->sa_spi;
	ps->ps_comp[i].pc_dst = sa->sa_dst;
	ps->ps_comp[i].pc_reqid = sa->sa_reqid;
	return 0;
}

/* kinkd's reqid of an IPComp SA the kernel holds with reqid 0. */
static uint32_t
comp_reqid(const struct pfkey_state *ps, const struct sockaddr_storage *dst,
    uint32_t cpi)
{
	int i;

	for (i = 0; i < ps->ps_ncomp; i++)
		if (ps->ps_comp[i].pc_cpi == cpi &&
		    comp_same(&ps->ps_comp[i].pc_dst, dst))
			return ps->ps_comp[i].pc_reqid;
	return 0;
}

static uint32_t
pol_reqid(const struct pfkey_state *ps, uint32_t id)
{
	int i;

	for (i = 0; i < ps->ps_npol; i++)
		if (ps->ps_pol[i].pp_id == id)
			return ps->ps_pol[i].pp_reqid;
	return 0;
}

static struct sadb_msg *
pk_init(struct pkw *m, uint8_t type, uint8_t satype)
{
	struct sadb_msg *h = (struct sadb_msg *)m->w_buf;

	memset(m->w_buf, 0, m->w_cap);
	m->w_len = sizeof(*h);
	m->w_err = m->w_cap < sizeof(*h);
	if (m->w_err)
		return NULL;
	h->sadb_msg_version = PF_KEY_V2;
	h->sadb_msg_type = type;
	h->sadb_msg_satype = satype;
	return h;
}

/* An extension of len octets (padded to 8), zeroed, header filled. */
static void *
pk_ext(struct pkw *m, uint16_t type, size_t len)
{
	struct sadb_ext *e;
	size_t plen = (len + 7) & ~(size_t)7;

	if (m->w_err || m->w_len + plen > m->w_cap) {
		m->w_err = 1;
		return NULL;
	}
	e = (struct sadb_ext *)(m->w_buf + m->w_len);
	e->sadb_ext_len = (uint16_t)(plen / 8);
	e->sadb_ext_type = type;
	m->w_len += plen;
	return e;
}

static size_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static uint8_t
full_plen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? 128 : 32;
}

/* Address extension; port is kept (selectors), the rest zeroed. */
static void
pk_addr(struct pkw *m, uint16_t type, const struct sockaddr_storage *ss,
    uint8_t plen, uint16_t port, uint8_t proto)
{
	struct sadb_address *a;
	size_t sl = ss_len(ss);

	if ((a = pk_ext(m, type, sizeof(*a) + sl)) == NULL)
		return;
	a->sadb_address_proto = proto;
	a->sadb_address_prefixlen = plen;
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)(a + 1);

		s->sin6_family = AF_INET6;
		s->sin6_addr = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		s->sin6_port = htons(port);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)(a + 1);

		s->sin_family = AF_INET;
		s->sin_addr = ((const struct sockaddr_in *)ss)->sin_addr;
		s->sin_port = htons(port);
	}
}

static uint8_t
pk_satype(uint8_t doi)
{
	return doi == PROTO_IPSEC_AH ? SADB_SATYPE_AH : doi == PROTO_IPCOMP ?
	    SADB_X_SATYPE_IPCOMP : SADB_SATYPE_ESP;
}

static void
pk_key(struct pkw *m, uint16_t type, const uint8_t *key, size_t len)
{
	struct sadb_key *k;

	if ((k = pk_ext(m, type, sizeof(*k) + len)) == NULL)
		return;
	k->sadb_key_bits = (uint16_t)(len * 8);
	memcpy(k + 1, key, len);
}

static void
pk_lifetime(struct pkw *m, uint16_t type, uint32_t secs, uint64_t bytes)
{
	struct sadb_lifetime *l;

	if ((l = pk_ext(m, type, sizeof(*l))) == NULL)
		return;
	l->sadb_lifetime_addtime = secs;
	l->sadb_lifetime_bytes = bytes;
}

static void
pk_sa2(struct pkw *m, uint8_t mode, uint32_t reqid)
{
	struct sadb_x_sa2 *s;

	if ((s = pk_ext(m, SADB_X_EXT_SA2, sizeof(*s))) == NULL)
		return;
	s->sadb_x_sa2_mode = mode;
	s->sadb_x_sa2_reqid = reqid;
}

static uint8_t
pk_mode(uint8_t doi)
{
	return doi == ENCAP_MODE_TUNNEL ? IPSEC_MODE_TUNNEL :
	    IPSEC_MODE_TRANSPORT;
}

/* SA extension with only the SPI (DELETE, GET). */
static void
pk_spi(struct pkw *m, uint32_t spi)
{
	struct sadb_sa *s;

	if ((s = pk_ext(m, SADB_EXT_SA, sizeof(*s))) != NULL)
		s->sadb_sa_spi = htonl(spi);
}

/* ADD or UPDATE for sa.  -1 with errno. */
static int
build_sa(struct pkw *m, uint8_t type, const struct kink_sa *sa,
    uint32_t kreq)
{
	const struct sadb_algmap *enc, *auth;
	struct sadb_sa *s;

	if (sadb_alg_sa(sa, &enc, &auth) == -1)
		return -1;
	pk_init(m, type, pk_satype(sa->sa_proto));
	if ((s = pk_ext(m, SADB_EXT_SA, sizeof(*s))) == NULL)
		return -1;
	s->sadb_sa_spi = htonl(sa->sa_spi);
	s->sadb_sa_state = SADB_SASTATE_MATURE;
	s->sadb_sa_auth = auth != NULL ? auth->al_pfkey : SADB_AALG_NONE;
	/* IPComp (KAME, Linux af_key): SADB_X_CALG_* in sadb_sa_encrypt. */
	s->sadb_sa_encrypt = enc != NULL ? enc->al_pfkey : SADB_EALG_NONE;
	/* Linux caps PF_KEY windows at 32; IPComp has no sequence number. */
	if (sa->sa_proto != PROTO_IPCOMP)
		s->sadb_sa_replay = 32;
	/* Linux wants HARD and SOFT together or neither. */
	if (sa->sa_life_hard_secs || sa->sa_life_soft_secs ||
	    sa->sa_life_hard_bytes || sa->sa_life_soft_bytes) {
		pk_lifetime(m, SADB_EXT_LIFETIME_HARD, sa->sa_life_hard_secs,
		    sa->sa_life_hard_bytes);
		pk_lifetime(m, SADB_EXT_LIFETIME_SOFT, sa->sa_life_soft_secs,
		    sa->sa_life_soft_bytes);
	}
	pk_addr(m, SADB_EXT_ADDRESS_SRC, &sa->sa_src, full_plen(&sa->sa_src),
	    0, 0);
	pk_addr(m, SADB_EXT_ADDRESS_DST, &sa->sa_dst, full_plen(&sa->sa_dst),
	    0, 0);
	if (auth != NULL)
		pk_key(m, SADB_EXT_KEY_AUTH, sa->sa_authkey,
		    sa->sa_authkey_len);
	/* Even ESP NULL needs the extension; IPComp has no key. */
	if (enc != NULL && sa->sa_proto != PROTO_IPCOMP)
		pk_key(m, SADB_EXT_KEY_ENCRYPT, sa->sa_enckey,
		    sa->sa_enckey_len);
	pk_sa2(m, pk_mode(sa->sa_mode), kreq);
	return 0;
}

static void
build_getspi(struct pkw *m, const struct kreq *rq)
{
	struct sadb_spirange *r;

	pk_init(m, SADB_GETSPI, pk_satype(rq->kr_proto));
	pk_addr(m, SADB_EXT_ADDRESS_SRC, rq->kr_src, full_plen(rq->kr_src),
	    0, 0);
	pk_addr(m, SADB_EXT_ADDRESS_DST, rq->kr_dst, full_plen(rq->kr_dst),
	    0, 0);
	/* kr_sa: a larval SA to find, whose mode must match. */
	pk_sa2(m, rq->kr_sa != NULL ? pk_mode(rq->kr_sa->sa_mode) :
	    IPSEC_MODE_TRANSPORT, rq->kr_reqid);
	if ((r = pk_ext(m, SADB_EXT_SPIRANGE, sizeof(*r))) == NULL)
		return;
	if (rq->kr_proto == PROTO_IPCOMP) {
		/* A CPI: af_key refuses a range past 16 bits. */
		r->sadb_spirange_min = KERN_CPI_MIN;
		r->sadb_spirange_max = KERN_CPI_MAX;
	} else {
		r->sadb_spirange_min = 0x100;	/* 1-255 reserved */
		r->sadb_spirange_max = 0xffffffff;
	}
}

static void
build_del(struct pkw *m, const struct kink_sa *sa)
{
	pk_init(m, SADB_DELETE, pk_satype(sa->sa_proto));
	pk_spi(m, sa->sa_spi);
	pk_addr(m, SADB_EXT_ADDRESS_SRC, &sa->sa_src, full_plen(&sa->sa_src),
	    0, 0);
	pk_addr(m, SADB_EXT_ADDRESS_DST, &sa->sa_dst, full_plen(&sa->sa_dst),
	    0, 0);
}

static void
build_get(struct pkw *m, const struct kink_sa *sa)
{
	pk_init(m, SADB_GET, pk_satype(sa->sa_proto));
	pk_spi(m, sa->sa_spi);
	/* Linux wants both addresses; the source is not used to look up. */
	pk_addr(m, SADB_EXT_ADDRESS_SRC, sa->sa_src.ss_family ? &sa->sa_src :
	    &sa->sa_dst, full_plen(&sa->sa_dst), 0, 0);
	pk_addr(m, SADB_EXT_ADDRESS_DST, &sa->sa_dst, full_plen(&sa->sa_dst),
	    0, 0);
}

int
pfkey_dirs(const struct kink_policy *pol, uint8_t dirs[3])
{
	static const uint8_t val[3] = { IPSEC_DIR_OUTBOUND, IPSEC_DIR_INBOUND,
	    IPSEC_DIR_FWD };

	return kern_pol_dirs(pol, val, dirs);
}

/* The ipsecrequests of a policy: one per protocol, tunnel ends after. */
static void
pol_requests(struct sadb_x_policy *xp, const struct kink_policy *pol,
    uint8_t dir, const uint16_t *protos, int np, size_t rqlen, size_t tl,
    uint32_t kreq)
{
	int i;

	for (i = 0; i < np; i++) {
		struct sadb_x_ipsecrequest *r = (void *)((uint8_t *)(xp + 1) +
		    (size_t)i * rqlen);

		r->sadb_x_ipsecrequest_len = (uint16_t)rqlen;
		r->sadb_x_ipsecrequest_proto = protos[i];
		r->sadb_x_ipsecrequest_mode = pk_mode(pol->pol_mode);
		/*
		 * UNIQUE: only SAs with this reqid serve the policy.  IPComp
		 * is USE (optional: packets the kernel did not compress come
		 * without it), and Linux keeps no reqid for a USE request:
		 * its IPComp SAs carry reqid 0 (pfkey_comp_remember()).
		 */
		if (protos[i] == IPPROTO_COMP) {
			r->sadb_x_ipsecrequest_level = IPSEC_LEVEL_USE;
		} else {
			r->sadb_x_ipsecrequest_level = kreq != 0 ?
			    IPSEC_LEVEL_UNIQUE : IPSEC_LEVEL_REQUIRE;
			r->sadb_x_ipsecrequest_reqid = kreq;
		}
		if (tl != 0) {
			const struct sockaddr_storage *src, *dst;
			uint8_t *p = (uint8_t *)(r + 1);

			src = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_tun_local :
			    &pol->pol_tun_remote;
			dst = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_tun_remote :
			    &pol->pol_tun_local;
			memcpy(p, src, tl / 2);
			memcpy(p + tl / 2, dst, tl / 2);
		}
	}
}

static void
build_pol(struct pkw *m, const struct kink_policy *pol, uint8_t dir,
    int del, int excl, uint32_t kreq)
{
	const struct kink_selector *s, *d;
	const struct kink_suite *su = &pol->pol_suites[0];
	struct sadb_x_policy *xp;
	uint8_t ul = pol->pol_ulproto ? pol->pol_ulproto : IPSEC_ULPROTO_ANY;
	uint16_t protos[3];
	size_t rqlen, tl = 0;
	int np = 0;

	s = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_src : &pol->pol_dst;
	d = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_dst : &pol->pol_src;
	pk_init(m, del ? SADB_X_SPDDELETE : excl ? SADB_X_SPDADD :
	    SADB_X_SPDUPDATE, SADB_SATYPE_UNSPEC);
	pk_addr(m, SADB_EXT_ADDRESS_SRC, &s->sel_addr, s->sel_plen,
	    s->sel_port, ul);
	pk_addr(m, SADB_EXT_ADDRESS_DST, &d->sel_addr, d->sel_plen,
	    d->sel_port, ul);
	/* Innermost first, as XFRM: IPComp (if any suite has it), ESP, AH. */
	if (kern_pol_ipcomp(pol))
		protos[np++] = IPPROTO_COMP;
	if (pol->pol_nsuites == 0 || su->s_esp.x_present)
		protos[np++] = IPPROTO_ESP;
	if (pol->pol_nsuites > 0 && su->s_ah.x_present)
		protos[np++] = IPPROTO_AH;
	if (pol->pol_mode == ENCAP_MODE_TUNNEL)
		tl = 2 * ss_len(&pol->pol_tun_local);
	rqlen = sizeof(struct sadb_x_ipsecrequest) + tl;
	if ((xp = pk_ext(m, SADB_X_EXT_POLICY, sizeof(*xp) +
	    (del ? 0 : (size_t)np * rqlen))) == NULL)
		return;
	xp->sadb_x_policy_type = IPSEC_POLICY_IPSEC;
	xp->sadb_x_policy_dir = dir;
	if (!del)
		xp->sadb_x_policy_priority = kern_pol_priority(pol);
	if (!del)
		pol_requests(xp, pol, dir, protos, np, rqlen, tl, kreq);
}

int
pfkey_build(const struct pfkey_state *ps, const struct kreq *rq,
    uint8_t *buf, size_t cap)
{
	struct pkw m = { buf, cap, 0, 0 };
	struct sadb_msg *h;

	switch (rq->kr_op) {
	case KREQ_GETSPI:
		build_getspi(&m, rq);
		break;
	case KREQ_ADD:
	case KREQ_UPDATE:
		if (build_sa(&m, rq->kr_op == KREQ_ADD ? SADB_ADD :
		    SADB_UPDATE, rq->kr_sa, rq->kr_reqid) == -1 && !m.w_err)
			return -1;
		break;
	case KREQ_DELETE:
		build_del(&m, rq->kr_sa);
		break;
	case KREQ_GET:
		build_get(&m, rq->kr_sa);
		break;
	case KREQ_DUMP:
		pk_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC);
		break;
	case KREQ_SPD_DUMP:
		pk_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC);
		break;
	case KREQ_SPD_ADD:
	case KREQ_SPD_DEL:
		build_pol(&m, rq->kr_pol, rq->kr_dir, rq->kr_op == KREQ_SPD_DEL,
		    rq->kr_excl, rq->kr_reqid);
		break;
	case KREQ_REGISTER:
		pk_init(&m, SADB_REGISTER, pk_satype(rq->kr_proto));
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (m.w_err) {
		explicit_bzero(buf, cap);	/* may hold a key */
		errno = EMSGSIZE;
		return -1;
	}
	h = (struct sadb_msg *)buf;
	h->sadb_msg_len = (uint16_t)(m.w_len / 8);
	h->sadb_msg_seq = rq->kr_seq;
	h->sadb_msg_pid = ps->ps_pid;
	return (int)m.w_len;
}

/*
 * The size the decoder reads of each extension it uses: a shorter one
 * makes the message malformed (the kernel never sends one; a fuzzer does).
 */
static size_t
ext_min(uint16_t type)
{
	switch (type) {
	case SADB_EXT_SA:
		return sizeof(struct sadb_sa);
	case SADB_EXT_LIFETIME_CURRENT:
	case SADB_EXT_LIFETIME_HARD:
	case SADB_EXT_LIFETIME_SOFT:
		return sizeof(struct sadb_lifetime);
	case SADB_EXT_KEY_ENCRYPT:
		return sizeof(struct sadb_key);
	case SADB_X_EXT_SA2:
		return sizeof(struct sadb_x_sa2);
	case SADB_X_EXT_POLICY:
		return sizeof(struct sadb_x_policy);
	default:
		return sizeof(struct sadb_ext);
	}
}

/* One supported list: each algorithm PF_KEY names, onto the table. */
static int
caps_list(const struct sadb_ext *e, int enc, struct sadb_caps *c)
{
	const struct sadb_algmap *(*at)(int) = enc ? sadb_alg_enc_at :
	    sadb_alg_auth_at;
	size_t el = (size_t)e->sadb_ext_len * 8, off;
	struct sadb_alg a;

	if (el < sizeof(struct sadb_supported) ||
	    (el - sizeof(struct sadb_supported)) % sizeof(a) != 0)
		return -1;
	for (off = sizeof(struct sadb_supported); off < el; off += sizeof(a)) {
		memcpy(&a, (const uint8_t *)e + off, sizeof(a));
		for (int i = 0; at(i) != NULL && i < SADB_CAPS_MAX; i++) {
			if (at(i)->al_pfkey != a.sadb_alg_id || at(i)->al_aead)
				continue;
			if (!enc) {
				c->kc_auth[i] = 1;
				continue;
			}
			c->kc_enc[i] = 1;
			c->kc_enc_min[i] = a.sadb_alg_minbits;
			c->kc_enc_max[i] = a.sadb_alg_maxbits;
		}
	}
	return 0;
}

int
pfkey_caps_parse(const uint8_t *buf, size_t len, struct sadb_caps *c)
{
	const struct sadb_msg *h = (const void *)buf;
	size_t off;
	int seen = 0;

	if (len < sizeof(*h) || h->sadb_msg_version != PF_KEY_V2 ||
	    h->sadb_msg_type != SADB_REGISTER)
		return 0;
	if ((size_t)h->sadb_msg_len * 8 != len || h->sadb_msg_errno != 0)
		return -1;
	for (off = sizeof(*h); off + sizeof(struct sadb_ext) <= len; ) {
		const struct sadb_ext *e = (const void *)(buf + off);
		size_t el = (size_t)e->sadb_ext_len * 8;

		if (el < sizeof(*e) || off + el > len)
			return -1;
		if (e->sadb_ext_type == SADB_EXT_SUPPORTED_AUTH ||
		    e->sadb_ext_type == SADB_EXT_SUPPORTED_ENCRYPT) {
			if (caps_list(e, e->sadb_ext_type ==
			    SADB_EXT_SUPPORTED_ENCRYPT, c) == -1)
				return -1;
			seen = 1;
		}
		off += el;
	}
	if (off != len || !seen)
		return -1;
	c->kc_known = 1;
	c->kc_source = "SADB_REGISTER";
	return 1;
}

/* Received message, split into its extensions (views into the buffer). */
struct pk_parsed {
	const struct sadb_msg *p_h;
	const struct sadb_ext *p_ext[SADB_EXT_MAX + 1];
};

static int
pk_split(const uint8_t *buf, size_t len, struct pk_parsed *p)
{
	size_t off;

	memset(p, 0, sizeof(*p));
	if (len < sizeof(struct sadb_msg))
		return -1;
	p->p_h = (const struct sadb_msg *)buf;
	if (p->p_h->sadb_msg_version != PF_KEY_V2 ||
	    (size_t)p->p_h->sadb_msg_len * 8 != len)
		return -1;
	for (off = sizeof(struct sadb_msg); off + sizeof(struct sadb_ext) <=
	    len; ) {
		const struct sadb_ext *e = (const void *)(buf + off);
		size_t el = (size_t)e->sadb_ext_len * 8;

		if (el < sizeof(*e) || off + el > len ||
		    el < ext_min(e->sadb_ext_type))
			return -1;
		if (e->sadb_ext_type <= SADB_EXT_MAX)
			p->p_ext[e->sadb_ext_type] = e;
		off += el;
	}
	return 0;
}

static int
pk_getaddr(const struct pk_parsed *p, uint16_t type,
    struct sockaddr_storage *ss)
{
	const struct sadb_address *a = (const void *)p->p_ext[type];
	const struct sockaddr *sa;
	size_t room;

	memset(ss, 0, sizeof(*ss));
	if (a == NULL)
		return -1;
	room = (size_t)a->sadb_address_len * 8 - sizeof(*a);
	sa = (const struct sockaddr *)(a + 1);
	if (room >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)ss)->sin_port = 0;
	} else if (room >= sizeof(struct sockaddr_in6) &&
	    sa->sa_family == AF_INET6) {
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)ss)->sin6_port = 0;
	} else
		return -1;
	return 0;
}

static uint8_t
alg_back(uint8_t pfkey, int auth)
{
	unsigned v;

	for (v = 1; v < 256; v++) {
		const struct sadb_algmap *al = auth ? sadb_alg_auth((uint16_t)v) :
		    sadb_alg_enc((uint8_t)v);

		if (al != NULL && al->al_pfkey == pfkey)
			return (uint8_t)v;
	}
	return 0;
}

static uint8_t
comp_back(uint8_t pfkey)
{
	const struct sadb_algmap *al;

	for (int i = 0; (al = sadb_alg_comp_at(i)) != NULL; i++)
		if (al->al_pfkey == pfkey)
			return al->al_doi;
	return 0;
}

/* The kernel's SA (DUMP, GET, EXPIRE) as kinkd describes it, no keys. */
static int
sa_from_pk(const struct pfkey_state *ps, const struct pk_parsed *p,
    struct kink_sa *sa)
{
	const struct sadb_sa *s = (const void *)p->p_ext[SADB_EXT_SA];
	const struct sadb_x_sa2 *s2 = (const void *)p->p_ext[SADB_X_EXT_SA2];
	const struct sadb_lifetime *h, *so;
	const struct sadb_key *ke;

	memset(sa, 0, sizeof(*sa));
	if (s == NULL || pk_getaddr(p, SADB_EXT_ADDRESS_SRC, &sa->sa_src) ||
	    pk_getaddr(p, SADB_EXT_ADDRESS_DST, &sa->sa_dst))
		return -1;
	sa->sa_proto = p->p_h->sadb_msg_satype == SADB_SATYPE_AH ?
	    PROTO_IPSEC_AH : p->p_h->sadb_msg_satype == SADB_X_SATYPE_IPCOMP ?
	    PROTO_IPCOMP : PROTO_IPSEC_ESP;
	sa->sa_spi = ntohl(s->sadb_sa_spi);
	sa->sa_auth = alg_back(s->sadb_sa_auth, 1);
	if (sa->sa_proto == PROTO_IPSEC_ESP)
		sa->sa_enc = alg_back(s->sadb_sa_encrypt, 0);
	else if (sa->sa_proto == PROTO_IPCOMP)
		sa->sa_enc = comp_back(s->sadb_sa_encrypt);
	sa->sa_mode = ENCAP_MODE_TRANSPORT;
	if (s2 != NULL) {
		sa->sa_reqid = ureqid(ps, s2->sadb_x_sa2_reqid);
		if (sa->sa_proto == PROTO_IPCOMP && sa->sa_reqid == 0)
			sa->sa_reqid = comp_reqid(ps, &sa->sa_dst, sa->sa_spi);
		if (s2->sadb_x_sa2_mode == IPSEC_MODE_TUNNEL)
			sa->sa_mode = ENCAP_MODE_TUNNEL;
	}
	/* The key's length is public; the key itself is never copied. */
	if ((ke = (const void *)p->p_ext[SADB_EXT_KEY_ENCRYPT]) != NULL)
		sa->sa_enc_keylen = ke->sadb_key_bits;
	if ((h = (const void *)p->p_ext[SADB_EXT_LIFETIME_HARD]) != NULL) {
		sa->sa_life_hard_secs = (uint32_t)h->sadb_lifetime_addtime;
		sa->sa_life_hard_bytes = h->sadb_lifetime_bytes;
	}
	/* Linux counts packets in the current lifetime's allocations. */
	if ((h = (const void *)p->p_ext[SADB_EXT_LIFETIME_CURRENT]) != NULL &&
	    p->p_h->sadb_msg_type != SADB_EXPIRE) {
		sa->sa_cur_bytes = h->sadb_lifetime_bytes;
		sa->sa_cur_packets = h->sadb_lifetime_allocations;
	}
	if ((so = (const void *)p->p_ext[SADB_EXT_LIFETIME_SOFT]) != NULL) {
		sa->sa_life_soft_secs = (uint32_t)so->sadb_lifetime_addtime;
		sa->sa_life_soft_bytes = so->sadb_lifetime_bytes;
	}
	return 0;
}

static void
pk_acquire(const struct pfkey_state *ps, const struct pk_parsed *p,
    struct kin *out)
{
	const struct sadb_x_policy *xp =
	    (const void *)p->p_ext[SADB_X_EXT_POLICY];
	struct sadb_event *ev = &out->ki_ev;

	ev->ev_type = SADB_EV_ACQUIRE;
	ev->ev_proto = p->p_h->sadb_msg_satype == SADB_SATYPE_AH ?
	    PROTO_IPSEC_AH : p->p_h->sadb_msg_satype == SADB_X_SATYPE_IPCOMP ?
	    PROTO_IPCOMP : p->p_h->sadb_msg_satype == SADB_SATYPE_ESP ?
	    PROTO_IPSEC_ESP : 0;
	if (pk_getaddr(p, SADB_EXT_ADDRESS_SRC, &ev->ev_src) == -1 ||
	    pk_getaddr(p, SADB_EXT_ADDRESS_DST, &ev->ev_dst) == -1)
		return;
	/* No reqid in a Linux ACQUIRE: the policy id leads back to it. */
	if (xp != NULL) {
		ev->ev_reqid = pol_reqid(ps, xp->sadb_x_policy_id);
		out->ki_polid_set = 1;
		out->ki_polid = xp->sadb_x_policy_id;
	}
	out->ki_kind = KIN_ACQUIRE;
}

static void
pk_expire(const struct pfkey_state *ps, const struct pk_parsed *p,
    struct kin *out)
{
	struct sadb_event *ev = &out->ki_ev;

	ev->ev_type = p->p_ext[SADB_EXT_LIFETIME_HARD] != NULL ?
	    SADB_EV_EXPIRE_HARD : SADB_EV_EXPIRE_SOFT;
	if (sa_from_pk(ps, p, &ev->ev_sa) == -1)
		return;
	ev->ev_reqid = ev->ev_sa.sa_reqid;
	ev->ev_src = ev->ev_sa.sa_src;
	ev->ev_dst = ev->ev_sa.sa_dst;
	out->ki_kind = KIN_EXPIRE;
}

/* An address extension as a selector: address, prefix, port, proto. */
static int
pk_getsel(const struct pk_parsed *p, uint16_t type, struct kink_selector *sel,
    uint8_t *proto)
{
	const struct sadb_address *a = (const void *)p->p_ext[type];
	const struct sockaddr *sa;

	memset(sel, 0, sizeof(*sel));
	if (pk_getaddr(p, type, &sel->sel_addr) == -1)
		return -1;
	sa = (const struct sockaddr *)(a + 1);
	sel->sel_plen = a->sadb_address_prefixlen;
	sel->sel_port = ntohs(sa->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)sa)->sin_port :
	    ((const struct sockaddr_in6 *)sa)->sin6_port);
	*proto = a->sadb_address_proto == IPSEC_ULPROTO_ANY ? 0 :
	    a->sadb_address_proto;
	return 0;
}

/* One part of an SPD dump: the entry's direction and selector. */
static void
pk_spd_part(const struct pk_parsed *p, struct kin *out)
{
	const struct sadb_x_policy *xp =
	    (const void *)p->p_ext[SADB_X_EXT_POLICY];
	uint8_t sp, dp;

	out->ki_spd = 1;
	if (out->ki_err != 0 || xp == NULL ||
	    pk_getsel(p, SADB_EXT_ADDRESS_SRC, &out->ki_spd_src, &sp) == -1 ||
	    pk_getsel(p, SADB_EXT_ADDRESS_DST, &out->ki_spd_dst, &dp) == -1)
		return;
	out->ki_have = 1;
	out->ki_spd_dir = xp->sadb_x_policy_dir;
	out->ki_spd_ipsec = xp->sadb_x_policy_type == IPSEC_POLICY_IPSEC;
	out->ki_spd_ulproto = sp;
}

/* An answer to one of our requests (our pid). */
static void
pk_answer(const struct pfkey_state *ps, const struct pk_parsed *p,
    struct kin *out)
{
	const struct sadb_msg *h = p->p_h;
	const struct sadb_sa *s = (const void *)p->p_ext[SADB_EXT_SA];
	const struct sadb_x_policy *xp =
	    (const void *)p->p_ext[SADB_X_EXT_POLICY];

	out->ki_seq = h->sadb_msg_seq;
	out->ki_err = h->sadb_msg_errno;
	out->ki_kind = KIN_DONE;
	switch (h->sadb_msg_type) {
	case SADB_DUMP:
		/* Dump replies count their seq down to 0, not ours. */
		out->ki_kind = KIN_DUMP;
		out->ki_last = h->sadb_msg_seq == 0;
		if (out->ki_err == 0)
			out->ki_have = sa_from_pk(ps, p, &out->ki_sa) == 0;
		return;
	case SADB_X_SPDDUMP:
		out->ki_kind = KIN_DUMP;
		out->ki_last = h->sadb_msg_seq == 0;
		pk_spd_part(p, out);
		return;
	case SADB_GETSPI:
		if (out->ki_err != 0)
			return;
		out->ki_kind = KIN_SPI;
		if ((out->ki_have = s != NULL))
			out->ki_spi = ntohl(s->sadb_sa_spi);
		return;
	case SADB_GET:
		if (out->ki_err != 0)
			return;
		out->ki_kind = KIN_GET;
		out->ki_have = sa_from_pk(ps, p, &out->ki_sa) == 0;
		return;
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDADD:
		if (out->ki_err == 0 && xp != NULL &&
		    xp->sadb_x_policy_dir == IPSEC_DIR_OUTBOUND) {
			out->ki_polid_set = 1;
			out->ki_polid = xp->sadb_x_policy_id;
		}
		return;
	default:
		return;
	}
}

void
pfkey_parse(const struct pfkey_state *ps, const uint8_t *buf, size_t len,
    struct kin *out)
{
	struct pk_parsed p;

	memset(out, 0, sizeof(*out));
	if (pk_split(buf, len, &p) == -1) {
		out->ki_kind = KIN_BAD;
		return;
	}
	/* The kernel's own messages carry pid 0, answers the asker's. */
	if (p.p_h->sadb_msg_pid == 0 && p.p_h->sadb_msg_type == SADB_ACQUIRE)
		pk_acquire(ps, &p, out);
	else if (p.p_h->sadb_msg_pid == 0 &&
	    p.p_h->sadb_msg_type == SADB_EXPIRE)
		pk_expire(ps, &p, out);
	else if (p.p_h->sadb_msg_pid == ps->ps_pid)
		pk_answer(ps, &p, out);
	if (out->ki_kind == KIN_IGNORE)
		memset(out, 0, sizeof(*out));
}
