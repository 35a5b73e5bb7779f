/*
 * Linux XFRM netlink encoder and decoder.  Requests carry NLM_F_ACK so
 * each ends with an NLMSG_ERROR (0 or an errno); a dump ends with
 * NLMSG_DONE.  Unlike PF_KEY it installs AEAD SAs (AES-GCM, RFC 4106).
 * Netlink aligns to 4 octets while these structs hold 64-bit fields, so
 * the decoder copies them into aligned structs before reading.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "isakmp_num.h"
#include "xfrm_msg.h"

/* The caller's buffer being filled. */
struct nlw {
	uint8_t		*w_buf;
	size_t		 w_cap;
	size_t		 w_len;
	int		 w_err;		/* overflow */
};

static void *
nl_put(struct nlw *m, size_t len)
{
	void *p;

	if (m->w_err || m->w_len + NLMSG_ALIGN(len) > m->w_cap) {
		m->w_err = 1;
		return NULL;
	}
	p = m->w_buf + m->w_len;
	m->w_len += NLMSG_ALIGN(len);
	return p;
}

/* Header and the fixed part of hdrlen octets; returns the fixed part. */
static void *
nl_init(struct nlw *m, uint16_t type, uint16_t flags, size_t hdrlen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->w_buf;

	memset(m->w_buf, 0, m->w_cap);
	m->w_len = 0;
	m->w_err = 0;
	if (nl_put(m, NLMSG_HDRLEN) == NULL)
		return NULL;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	return nl_put(m, hdrlen);
}

static int
nl_attr(struct nlw *m, uint16_t type, const void *data, size_t len,
    void **out)
{
	struct nlattr *a;

	if ((a = nl_put(m, NLA_HDRLEN + len)) == NULL)
		return -1;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (data != NULL)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	if (out != NULL)
		*out = (uint8_t *)a + NLA_HDRLEN;
	return 0;
}

static void
addr_to_xfrm(const struct sockaddr_storage *ss, xfrm_address_t *x)
{
	memset(x, 0, sizeof(*x));
	if (ss->ss_family == AF_INET)
		memcpy(&x->a4, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(&x->a6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
}

static void
xfrm_to_addr(const xfrm_address_t *x, uint16_t family,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, &x->a4, 4);
	else if (family == AF_INET6)
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, &x->a6, 16);
}

static uint8_t
xfrm_proto(uint8_t doi)
{
	return doi == PROTO_IPSEC_AH ? IPPROTO_AH : doi == PROTO_IPCOMP ?
	    IPPROTO_COMP : IPPROTO_ESP;
}

static void
sel_fill(struct xfrm_selector *sel, const struct kink_selector *s,
    const struct kink_selector *d, uint8_t ulproto)
{
	memset(sel, 0, sizeof(*sel));
	if (s->sel_addr.ss_family == 0)
		return;		/* any: the kernel matches every packet */
	sel->family = s->sel_addr.ss_family;
	addr_to_xfrm(&s->sel_addr, &sel->saddr);
	addr_to_xfrm(&d->sel_addr, &sel->daddr);
	sel->prefixlen_s = s->sel_plen;
	sel->prefixlen_d = d->sel_plen;
	sel->proto = ulproto;
	if (s->sel_port != 0) {
		sel->sport = htons(s->sel_port);
		sel->sport_mask = 0xffff;
	}
	if (d->sel_port != 0) {
		sel->dport = htons(d->sel_port);
		sel->dport_mask = 0xffff;
	}
}

static uint64_t
lim(uint64_t v)
{
	return v == 0 ? XFRM_INF : v;
}

/* The algorithm attributes of an SA (name, key, ICV/truncation). */
static void
sa_algs(struct nlw *m, const struct kink_sa *sa,
    const struct sadb_algmap *enc, const struct sadb_algmap *auth)
{
	if (sa->sa_proto == PROTO_IPCOMP) {
		struct xfrm_algo *a;

		/* Linux wants XFRMA_ALG_COMP alone: no key, nothing else. */
		if (nl_attr(m, XFRMA_ALG_COMP, NULL, sizeof(*a),
		    (void **)&a) == -1)
			return;
		strlcpy(a->alg_name, enc->al_xfrm, sizeof(a->alg_name));
		return;
	}
	if (enc != NULL && enc->al_aead) {
		struct xfrm_algo_aead *a;
		size_t kl = sa->sa_enckey_len;

		if (nl_attr(m, XFRMA_ALG_AEAD, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			return;
		strlcpy(a->alg_name, enc->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		a->alg_icv_len = enc->al_trunc;
		memcpy(a->alg_key, sa->sa_enckey, kl);
	} else if (enc != NULL) {
		struct xfrm_algo *a;
		size_t kl = sa->sa_enckey_len;

		if (nl_attr(m, XFRMA_ALG_CRYPT, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			return;
		strlcpy(a->alg_name, enc->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		memcpy(a->alg_key, sa->sa_enckey, kl);
	}
	if (auth != NULL) {
		struct xfrm_algo_auth *a;
		size_t kl = sa->sa_authkey_len;

		if (nl_attr(m, XFRMA_ALG_AUTH_TRUNC, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			return;
		strlcpy(a->alg_name, auth->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		a->alg_trunc_len = auth->al_trunc;
		memcpy(a->alg_key, sa->sa_authkey, kl);
	}
}

/* XFRM_MSG_NEWSA or UPDSA for sa.  -1 with errno (not for overflow). */
static int
build_sa(struct nlw *m, uint16_t type, const struct kink_sa *sa,
    uint32_t reqid)
{
	struct xfrm_usersa_info *p;
	const struct sadb_algmap *enc, *auth;

	if (sadb_alg_sa(sa, &enc, &auth) == -1)
		return -1;
	if ((p = nl_init(m, type, NLM_F_ACK, sizeof(*p))) == NULL)
		return 0;
	sel_fill(&p->sel, &sa->sa_sel_src, &sa->sa_sel_dst, sa->sa_sel_ulproto);
	addr_to_xfrm(&sa->sa_dst, &p->id.daddr);
	p->id.spi = htonl(sa->sa_spi);
	p->id.proto = xfrm_proto(sa->sa_proto);
	addr_to_xfrm(&sa->sa_src, &p->saddr);
	p->family = sa->sa_dst.ss_family;
	p->mode = sa->sa_mode == ENCAP_MODE_TUNNEL ? XFRM_MODE_TUNNEL :
	    XFRM_MODE_TRANSPORT;
	p->reqid = reqid;
	/* IPComp has no sequence number to protect (RFC 3173 2.1). */
	p->replay_window = sa->sa_proto == PROTO_IPCOMP ? 0 : 32;
	p->lft.soft_byte_limit = lim(sa->sa_life_soft_bytes);
	p->lft.hard_byte_limit = lim(sa->sa_life_hard_bytes);
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;
	p->lft.soft_add_expires_seconds = sa->sa_life_soft_secs;
	p->lft.hard_add_expires_seconds = sa->sa_life_hard_secs;
	sa_algs(m, sa, enc, auth);
	return 0;
}

static void
build_getspi(struct nlw *m, const struct kreq *rq)
{
	struct xfrm_userspi_info *p;

	if ((p = nl_init(m, XFRM_MSG_ALLOCSPI, NLM_F_ACK, sizeof(*p))) == NULL)
		return;
	addr_to_xfrm(rq->kr_dst, &p->info.id.daddr);
	p->info.id.proto = xfrm_proto(rq->kr_proto);
	addr_to_xfrm(rq->kr_src, &p->info.saddr);
	p->info.family = rq->kr_dst->ss_family;
	/* kr_sa: a larval SA to find, whose mode must match. */
	p->info.mode = rq->kr_sa != NULL &&
	    rq->kr_sa->sa_mode == ENCAP_MODE_TUNNEL ? XFRM_MODE_TUNNEL :
	    XFRM_MODE_TRANSPORT;
	p->info.reqid = rq->kr_reqid;
	if (rq->kr_proto == PROTO_IPCOMP) {
		/* A CPI: 16 bits, the kernel refuses a wider range. */
		p->min = KERN_CPI_MIN;
		p->max = KERN_CPI_MAX;
	} else {
		p->min = 0x100;		/* 1-255 are reserved (RFC 4303) */
		p->max = 0xffffffff;
	}
}

/* DELSA or GETSA: the SA by (dst, SPI, proto), the source if known. */
static void
build_said(struct nlw *m, uint16_t type, const struct kink_sa *sa)
{
	struct xfrm_usersa_id *p;
	xfrm_address_t saddr;

	if ((p = nl_init(m, type, NLM_F_ACK, sizeof(*p))) == NULL)
		return;
	addr_to_xfrm(&sa->sa_dst, &p->daddr);
	p->spi = htonl(sa->sa_spi);
	p->family = sa->sa_dst.ss_family;
	p->proto = xfrm_proto(sa->sa_proto);
	addr_to_xfrm(&sa->sa_src, &saddr);
	if (sa->sa_src.ss_family != 0)
		(void)nl_attr(m, XFRMA_SRCADDR, &saddr, sizeof(saddr), NULL);
}

int
xfrm_dirs(const struct kink_policy *pol, uint8_t dirs[3])
{
	static const uint8_t val[3] = { XFRM_POLICY_OUT, XFRM_POLICY_IN,
	    XFRM_POLICY_FWD };

	return kern_pol_dirs(pol, val, dirs);
}

static void
pol_sel(const struct kink_policy *pol, uint8_t dir,
    struct xfrm_selector *sel)
{
	if (dir == XFRM_POLICY_OUT)
		sel_fill(sel, &pol->pol_src, &pol->pol_dst, pol->pol_ulproto);
	else
		sel_fill(sel, &pol->pol_dst, &pol->pol_src, pol->pol_ulproto);
	if (sel->family == 0)
		sel->family = pol->pol_src.sel_addr.ss_family;
}

static void
build_pol(struct nlw *m, const struct kink_policy *pol, uint8_t dir,
    int excl, uint32_t reqid)
{
	struct xfrm_userpolicy_info *p;
	struct xfrm_user_tmpl t[3];
	const struct kink_suite *s = &pol->pol_suites[0];
	int nt = 0, i;

	if ((p = nl_init(m, excl ? XFRM_MSG_NEWPOLICY : XFRM_MSG_UPDPOLICY,
	    NLM_F_ACK, sizeof(*p))) == NULL)
		return;
	pol_sel(pol, dir, &p->sel);
	p->lft.soft_byte_limit = p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = p->lft.hard_packet_limit = XFRM_INF;
	p->dir = dir;
	p->priority = kern_pol_priority(pol);
	p->action = XFRM_POLICY_ALLOW;
	p->share = XFRM_SHARE_ANY;
	memset(t, 0, sizeof(t));
	/*
	 * ESP inside AH for a bundle: templates go innermost first.  IPComp,
	 * when asked for, is innermost (compress, then encrypt) and optional:
	 * the kernel sends small or incompressible packets without it.  It
	 * is there when any suite has IPComp, not only the first: the peer
	 * may choose any of them (kern_pol_ipcomp()).
	 */
	if (kern_pol_ipcomp(pol)) {
		t[nt].id.proto = IPPROTO_COMP;
		t[nt++].optional = 1;
	}
	if (pol->pol_nsuites == 0 || s->s_esp.x_present)
		t[nt++].id.proto = IPPROTO_ESP;
	if (pol->pol_nsuites > 0 && s->s_ah.x_present)
		t[nt++].id.proto = IPPROTO_AH;
	for (i = 0; i < nt; i++) {
		t[i].reqid = reqid;
		t[i].share = XFRM_SHARE_ANY;
		t[i].aalgos = t[i].ealgos = t[i].calgos = ~0U;
		if (pol->pol_mode == ENCAP_MODE_TUNNEL) {
			const struct sockaddr_storage *src, *dst;

			t[i].mode = XFRM_MODE_TUNNEL;
			src = dir == XFRM_POLICY_OUT ? &pol->pol_tun_local :
			    &pol->pol_tun_remote;
			dst = dir == XFRM_POLICY_OUT ? &pol->pol_tun_remote :
			    &pol->pol_tun_local;
			t[i].family = dst->ss_family;
			addr_to_xfrm(src, &t[i].saddr);
			addr_to_xfrm(dst, &t[i].id.daddr);
		} else {
			t[i].mode = XFRM_MODE_TRANSPORT;
			t[i].family = pol->pol_src.sel_addr.ss_family;
		}
	}
	(void)nl_attr(m, XFRMA_TMPL, t, sizeof(t[0]) * (size_t)nt, NULL);
}

/*
 * DELPOLICY, or GETPOLICY: the kernel sends the entry (ignored) and then,
 * as NLM_F_ACK asks, the ACK; ENOENT when it has none.
 */
static void
build_polid(struct nlw *m, uint16_t type, const struct kink_policy *pol,
    uint8_t dir)
{
	struct xfrm_userpolicy_id *p;

	if ((p = nl_init(m, type, NLM_F_ACK, sizeof(*p))) == NULL)
		return;
	pol_sel(pol, dir, &p->sel);
	p->dir = dir;
}

int
xfrm_build(const struct kreq *rq, uint8_t *buf, size_t cap)
{
	struct nlw m = { buf, cap, 0, 0 };
	struct nlmsghdr *h;

	switch (rq->kr_op) {
	case KREQ_GETSPI:
		build_getspi(&m, rq);
		break;
	case KREQ_ADD:
	case KREQ_UPDATE:
		if (build_sa(&m, rq->kr_op == KREQ_ADD ? XFRM_MSG_NEWSA :
		    XFRM_MSG_UPDSA, rq->kr_sa, rq->kr_reqid) == -1)
			return -1;
		break;
	case KREQ_DELETE:
		build_said(&m, XFRM_MSG_DELSA, rq->kr_sa);
		break;
	case KREQ_GET:
		build_said(&m, XFRM_MSG_GETSA, rq->kr_sa);
		break;
	case KREQ_DUMP:
		(void)nl_init(&m, XFRM_MSG_GETSA, NLM_F_DUMP, 0);
		break;
	case KREQ_SPD_ADD:
		build_pol(&m, rq->kr_pol, rq->kr_dir, rq->kr_excl,
		    rq->kr_reqid);
		break;
	case KREQ_SPD_DEL:
		build_polid(&m, XFRM_MSG_DELPOLICY, rq->kr_pol, rq->kr_dir);
		break;
	case KREQ_SPD_GET:
		build_polid(&m, XFRM_MSG_GETPOLICY, rq->kr_pol, rq->kr_dir);
		break;
	default:	/* REGISTER is PF_KEY's */
		errno = EINVAL;
		return -1;
	}
	if (m.w_err) {
		explicit_bzero(buf, cap);	/* may hold a key */
		errno = EMSGSIZE;
		return -1;
	}
	h = (struct nlmsghdr *)buf;
	h->nlmsg_len = (uint32_t)m.w_len;
	h->nlmsg_seq = rq->kr_seq;
	return (int)m.w_len;
}

size_t
xfrm_next(const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	size_t al;

	if (len < sizeof(*h) || h->nlmsg_len < sizeof(*h) ||
	    h->nlmsg_len > len)
		return 0;
	al = NLMSG_ALIGN(h->nlmsg_len);
	return al < len ? al : len;
}

/* Attributes after a fixed header of hdrlen octets. */
static const struct nlattr *
nl_find(const struct nlmsghdr *h, size_t hdrlen, uint16_t type)
{
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(hdrlen);
	const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - p)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (NLA_ALIGN(a->nla_len) >= end - p)
			return NULL;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static uint8_t
comp_back(const char *name)
{
	const struct sadb_algmap *al;

	for (int i = 0; (al = sadb_alg_comp_at(i)) != NULL; i++)
		if (strcmp(al->al_xfrm, name) == 0)
			return al->al_doi;
	return 0;
}

static uint8_t
alg_back(const char *name, int auth, uint16_t icv)
{
	unsigned v;

	for (v = 1; v < 256; v++) {
		const struct sadb_algmap *al = auth ? sadb_alg_auth((uint16_t)v) :
		    sadb_alg_enc((uint8_t)v);

		if (al != NULL && strcmp(al->al_xfrm, name) == 0 &&
		    (!al->al_aead || al->al_trunc == icv))
			return (uint8_t)v;
	}
	return 0;
}

/* An algorithm attribute's name, NUL-terminated whatever the kernel sent. */
#define ALG_NAME(name, al) do {						\
	memcpy((name), (al)->alg_name, sizeof((al)->alg_name));		\
	(name)[sizeof((al)->alg_name)] = '\0';				\
} while (0)

static void
sa_algs_back(const struct nlmsghdr *h, size_t hdrlen, struct kink_sa *sa)
{
	const struct nlattr *a;
	char name[sizeof(((struct xfrm_algo *)0)->alg_name) + 1];

	if ((a = nl_find(h, hdrlen, XFRMA_ALG_AEAD)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo_aead)) {
		const struct xfrm_algo_aead *al = (const void *)(a + 1);

		ALG_NAME(name, al);
		sa->sa_enc = alg_back(name, 0, (uint16_t)al->alg_icv_len);
		sa->sa_enc_keylen = (uint16_t)(al->alg_key_len - 32);
	}
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_CRYPT)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo)) {
		const struct xfrm_algo *al = (const void *)(a + 1);

		ALG_NAME(name, al);
		sa->sa_enc = alg_back(name, 0, 0);
		sa->sa_enc_keylen = (uint16_t)al->alg_key_len;
	}
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_AUTH_TRUNC)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo_auth)) {
		const struct xfrm_algo_auth *al = (const void *)(a + 1);

		ALG_NAME(name, al);
		sa->sa_auth = alg_back(name, 1, 0);
	}
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_COMP)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo)) {
		const struct xfrm_algo *al = (const void *)(a + 1);

		ALG_NAME(name, al);
		sa->sa_enc = comp_back(name);
	}
}

/* The kernel's SA as kinkd describes it, without keys. */
static void
sa_from_xfrm(const struct nlmsghdr *h, const struct xfrm_usersa_info *p,
    size_t hdrlen, struct kink_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	xfrm_to_addr(&p->saddr, p->family, &sa->sa_src);
	xfrm_to_addr(&p->id.daddr, p->family, &sa->sa_dst);
	sa->sa_proto = p->id.proto == IPPROTO_AH ? PROTO_IPSEC_AH :
	    p->id.proto == IPPROTO_COMP ? PROTO_IPCOMP : PROTO_IPSEC_ESP;
	sa->sa_mode = p->mode == XFRM_MODE_TUNNEL ? ENCAP_MODE_TUNNEL :
	    ENCAP_MODE_TRANSPORT;
	sa->sa_spi = ntohl(p->id.spi);
	sa->sa_reqid = p->reqid;
	sa->sa_life_soft_secs = (uint32_t)p->lft.soft_add_expires_seconds;
	sa->sa_life_hard_secs = (uint32_t)p->lft.hard_add_expires_seconds;
	sa->sa_life_soft_bytes = p->lft.soft_byte_limit == XFRM_INF ? 0 :
	    p->lft.soft_byte_limit;
	sa->sa_life_hard_bytes = p->lft.hard_byte_limit == XFRM_INF ? 0 :
	    p->lft.hard_byte_limit;
	sa->sa_cur_bytes = p->curlft.bytes;
	sa->sa_cur_packets = p->curlft.packets;
	if (p->sel.family != 0) {
		xfrm_to_addr(&p->sel.saddr, p->sel.family,
		    &sa->sa_sel_src.sel_addr);
		xfrm_to_addr(&p->sel.daddr, p->sel.family,
		    &sa->sa_sel_dst.sel_addr);
		sa->sa_sel_src.sel_plen = p->sel.prefixlen_s;
		sa->sa_sel_dst.sel_plen = p->sel.prefixlen_d;
		sa->sa_sel_src.sel_port = ntohs(p->sel.sport);
		sa->sa_sel_dst.sel_port = ntohs(p->sel.dport);
		sa->sa_sel_ulproto = p->sel.proto;
	}
	sa_algs_back(h, hdrlen, sa);
}

static void
xfrm_acquire(const struct nlmsghdr *h, struct kin *out)
{
	struct xfrm_user_acquire acq, *p = &acq;
	const struct nlattr *a;
	struct sadb_event *ev = &out->ki_ev;
	uint16_t family;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*p)))
		return;
	memcpy(&acq, NLMSG_DATA(h), sizeof(acq));
	family = p->policy.sel.family;
	ev->ev_type = SADB_EV_ACQUIRE;
	ev->ev_proto = p->id.proto == IPPROTO_AH ? PROTO_IPSEC_AH :
	    p->id.proto == IPPROTO_COMP ? PROTO_IPCOMP : p->id.proto ==
	    IPPROTO_ESP ? PROTO_IPSEC_ESP : 0;
	if ((a = nl_find(h, sizeof(*p), XFRMA_TMPL)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_user_tmpl)) {
		struct xfrm_user_tmpl t;

		memcpy(&t, a + 1, sizeof(t));
		ev->ev_reqid = t.reqid;
		if (t.family != 0)
			family = t.family;
	}
	xfrm_to_addr(&p->saddr, family, &ev->ev_src);
	xfrm_to_addr(&p->id.daddr, family, &ev->ev_dst);
	out->ki_kind = KIN_ACQUIRE;
}

static void
xfrm_expire(const struct nlmsghdr *h, struct kin *out)
{
	struct xfrm_user_expire exp, *p = &exp;
	struct sadb_event *ev = &out->ki_ev;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*p)))
		return;
	memcpy(&exp, NLMSG_DATA(h), sizeof(exp));
	ev->ev_type = p->hard ? SADB_EV_EXPIRE_HARD : SADB_EV_EXPIRE_SOFT;
	sa_from_xfrm(h, &p->state, sizeof(*p), &ev->ev_sa);
	ev->ev_reqid = ev->ev_sa.sa_reqid;
	ev->ev_src = ev->ev_sa.sa_src;
	ev->ev_dst = ev->ev_sa.sa_dst;
	out->ki_kind = KIN_EXPIRE;
}

static void
xfrm_answer(const struct nlmsghdr *h, struct kin *out)
{
	out->ki_seq = h->nlmsg_seq;
	switch (h->nlmsg_type) {
	case NLMSG_ERROR: {
		struct nlmsgerr e;

		out->ki_kind = KIN_DONE;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e))) {
			out->ki_err = EPROTO;
			return;
		}
		memcpy(&e, NLMSG_DATA(h), sizeof(e));
		/* 0 is the ACK; a negated errno otherwise. */
		out->ki_err = e.error == INT_MIN ? EPROTO : -e.error;
		return;
	}
	case NLMSG_DONE:
		out->ki_kind = KIN_DONE;
		return;
	case XFRM_MSG_NEWSA: {
		struct xfrm_usersa_info info;

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(info)))
			return;
		memcpy(&info, NLMSG_DATA(h), sizeof(info));
		out->ki_kind = KIN_SA;
		out->ki_have = 1;
		out->ki_spi = ntohl(info.id.spi);
		/* Not kinkd's kind: IPIP (the kernel's own IPComp tunnel
		 * helper states), or anything else an administrator has. */
		out->ki_foreign = info.id.proto != IPPROTO_ESP &&
		    info.id.proto != IPPROTO_AH &&
		    info.id.proto != IPPROTO_COMP;
		sa_from_xfrm(h, &info, sizeof(info), &out->ki_sa);
		return;
	}
	default:
		return;
	}
}

void
xfrm_parse(const uint8_t *buf, size_t len, struct kin *out)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

	memset(out, 0, sizeof(*out));
	if (xfrm_next(buf, len) == 0) {
		out->ki_kind = KIN_BAD;
		return;
	}
	/* The kernel's multicasts carry pid 0 and seq 0. */
	if (h->nlmsg_pid == 0 && h->nlmsg_seq == 0 &&
	    h->nlmsg_type == XFRM_MSG_ACQUIRE)
		xfrm_acquire(h, out);
	else if (h->nlmsg_pid == 0 && h->nlmsg_seq == 0 &&
	    h->nlmsg_type == XFRM_MSG_EXPIRE)
		xfrm_expire(h, out);
	else
		xfrm_answer(h, out);
	if (out->ki_kind == KIN_IGNORE)
		memset(out, 0, sizeof(*out));
}
