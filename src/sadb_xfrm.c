/*
 * The XFRM netlink backend (Linux).  One NETLINK_XFRM socket carries the
 * requests (each with NLM_F_ACK, matched to its answer by nlmsg_seq) and
 * the ACQUIRE and EXPIRE multicast groups.  Unlike PF_KEY it installs
 * AEAD SAs (AES-GCM, RFC 4106).  The kernel checks CAP_NET_ADMIN on every
 * message, not only when the socket opens (docs/arch/kernel.md).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "isakmp_num.h"
#include "log.h"
#include "sadb_kern.h"

#define XFRM_MSG_MAX_LEN	2048	/* largest request we build */
#define XFRM_RECV_LEN		65536

struct nlmsg {
	uint8_t		 m_buf[XFRM_MSG_MAX_LEN] __attribute__((aligned(8)));
	size_t		 m_len;
	int		 m_err;		/* overflow */
};

static void	*nl_put(struct nlmsg *, size_t);
static int	 nl_attr(struct nlmsg *, uint16_t, const void *, size_t,
		    void **);

static void
nl_init(struct nlmsg *m, uint16_t type, uint16_t flags, size_t hdrlen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->m_buf;

	memset(m->m_buf, 0, sizeof(m->m_buf));
	m->m_len = NLMSG_HDRLEN;
	m->m_err = 0;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	(void)nl_put(m, hdrlen);
}

static void *
nl_put(struct nlmsg *m, size_t len)
{
	void *p;

	if (m->m_len + NLMSG_ALIGN(len) > sizeof(m->m_buf)) {
		m->m_err = 1;
		return NULL;
	}
	p = m->m_buf + m->m_len;
	m->m_len += NLMSG_ALIGN(len);
	return p;
}

static int
nl_attr(struct nlmsg *m, uint16_t type, const void *data, size_t len,
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

static void *
nl_body(struct nlmsg *m)
{
	return m->m_buf + NLMSG_HDRLEN;
}

/* Send m as request rq (its seq); -1 with errno when the send fails. */
static int
nl_send(struct sadb_kern *k, struct nlmsg *m, uint32_t seq)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->m_buf;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (m->m_err) {
		errno = EMSGSIZE;
		return -1;
	}
	h->nlmsg_len = (uint32_t)m->m_len;
	h->nlmsg_seq = seq;
	n = sendto(k->k_fd, m->m_buf, m->m_len, 0, (struct sockaddr *)&nl,
	    sizeof(nl));
	if (n == -1) {
		log_warn("sadb xfrm: send type %u", h->nlmsg_type);
		return -1;
	}
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
	return doi == PROTO_IPSEC_AH ? IPPROTO_AH : IPPROTO_ESP;
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

/* XFRM_MSG_NEWSA or UPDSA for sa, into m.  -1 with errno. */
static int
build_sa(struct nlmsg *m, uint16_t type, const struct kink_sa *sa)
{
	struct xfrm_usersa_info *p;
	const struct sadb_algmap *enc = NULL, *auth = NULL;

	if (sa->sa_proto == PROTO_IPSEC_ESP) {
		if ((enc = sadb_alg_enc(sa->sa_enc)) == NULL) {
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	if (sa->sa_auth != 0 && (auth = sadb_alg_auth(sa->sa_auth)) == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sa->sa_proto == PROTO_IPSEC_AH && auth == NULL) {
		errno = EINVAL;
		return -1;
	}
	nl_init(m, type, NLM_F_ACK, sizeof(*p));
	p = nl_body(m);
	sel_fill(&p->sel, &sa->sa_sel_src, &sa->sa_sel_dst, sa->sa_sel_ulproto);
	addr_to_xfrm(&sa->sa_dst, &p->id.daddr);
	p->id.spi = htonl(sa->sa_spi);
	p->id.proto = xfrm_proto(sa->sa_proto);
	addr_to_xfrm(&sa->sa_src, &p->saddr);
	p->family = sa->sa_dst.ss_family;
	p->mode = sa->sa_mode == ENCAP_MODE_TUNNEL ? XFRM_MODE_TUNNEL :
	    XFRM_MODE_TRANSPORT;
	p->reqid = sa->sa_reqid;
	p->replay_window = 32;
	p->lft.soft_byte_limit = lim(sa->sa_life_soft_bytes);
	p->lft.hard_byte_limit = lim(sa->sa_life_hard_bytes);
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;
	p->lft.soft_add_expires_seconds = sa->sa_life_soft_secs;
	p->lft.hard_add_expires_seconds = sa->sa_life_hard_secs;
	if (enc != NULL && enc->al_aead) {
		struct xfrm_algo_aead *a;
		size_t kl = sa->sa_enckey_len;

		if (nl_attr(m, XFRMA_ALG_AEAD, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			goto toobig;
		strlcpy(a->alg_name, enc->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		a->alg_icv_len = enc->al_trunc;
		memcpy(a->alg_key, sa->sa_enckey, kl);
	} else if (enc != NULL) {
		struct xfrm_algo *a;
		size_t kl = sa->sa_enckey_len;

		if (nl_attr(m, XFRMA_ALG_CRYPT, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			goto toobig;
		strlcpy(a->alg_name, enc->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		memcpy(a->alg_key, sa->sa_enckey, kl);
	}
	if (auth != NULL) {
		struct xfrm_algo_auth *a;
		size_t kl = sa->sa_authkey_len;

		if (nl_attr(m, XFRMA_ALG_AUTH_TRUNC, NULL, sizeof(*a) + kl,
		    (void **)&a) == -1)
			goto toobig;
		strlcpy(a->alg_name, auth->al_xfrm, sizeof(a->alg_name));
		a->alg_key_len = (unsigned)kl * 8;
		a->alg_trunc_len = auth->al_trunc;
		memcpy(a->alg_key, sa->sa_authkey, kl);
	}
	if (m->m_err)
		goto toobig;
	return 0;
 toobig:
	explicit_bzero(m->m_buf, sizeof(m->m_buf));
	errno = EMSGSIZE;
	return -1;
}

static int
xfrm_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	struct xfrm_userspi_info *p;
	struct nlmsg m;

	if (src->ss_family != dst->ss_family) {
		errno = EINVAL;
		return -1;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_SPI, arg)) == NULL)
		return -1;
	rq->rq_spicb = cb;
	rq->rq_sa.sa_dst = *dst;
	rq->rq_sa.sa_proto = proto;
	nl_init(&m, XFRM_MSG_ALLOCSPI, NLM_F_ACK, sizeof(*p));
	p = nl_body(&m);
	addr_to_xfrm(dst, &p->info.id.daddr);
	p->info.id.proto = xfrm_proto(proto);
	addr_to_xfrm(src, &p->info.saddr);
	p->info.family = dst->ss_family;
	p->info.mode = XFRM_MODE_TRANSPORT;
	p->info.reqid = SADB_LARVAL_REQID_BASE |
	    (++k->k_larval_reqid & ~SADB_LARVAL_REQID_BASE);
	p->min = 0x100;		/* 1-255 are reserved (RFC 4303) */
	p->max = 0xffffffff;
	if (nl_send(k, &m, rq->rq_seq) == -1) {
		int e = errno;

		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
xfrm_del_msg(struct sadb_kern *k, const struct kink_sa *sa, uint32_t seq)
{
	struct xfrm_usersa_id *p;
	struct nlmsg m;
	xfrm_address_t saddr;

	nl_init(&m, XFRM_MSG_DELSA, NLM_F_ACK, sizeof(*p));
	p = nl_body(&m);
	addr_to_xfrm(&sa->sa_dst, &p->daddr);
	p->spi = htonl(sa->sa_spi);
	p->family = sa->sa_dst.ss_family;
	p->proto = xfrm_proto(sa->sa_proto);
	addr_to_xfrm(&sa->sa_src, &saddr);
	if (sa->sa_src.ss_family != 0)
		(void)nl_attr(&m, XFRMA_SRCADDR, &saddr, sizeof(saddr), NULL);
	return nl_send(k, &m, seq);
}

static int
xfrm_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq, *del = NULL;
	struct nlmsg m;
	int larval, e;

	larval = sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if (replace) {
		/* Linux's UPDATE keeps the old keys of a valid SA. */
		if ((del = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
			return -1;
		if (xfrm_del_msg(k, sa, del->rq_seq) == -1)
			goto fail;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		goto fail;
	rq->rq_done = cb;
	/* After getspi the larval SA must be UPDATEd (ADD says EEXIST); if
	 * it expired meanwhile (30 s), UPDATE says ESRCH and ADD follows. */
	if (larval && !replace) {
		if (build_sa(&m, XFRM_MSG_NEWSA, sa) == -1 ||
		    (rq->rq_fallback = malloc(m.m_len)) == NULL) {
			e = errno;
			sadb_req_free(rq);
			errno = e;
			goto fail;
		}
		memcpy(rq->rq_fallback, m.m_buf, m.m_len);
		rq->rq_fallback_len = m.m_len;
		((struct nlmsghdr *)rq->rq_fallback)->nlmsg_len =
		    (uint32_t)m.m_len;
		((struct nlmsghdr *)rq->rq_fallback)->nlmsg_seq = rq->rq_seq;
		explicit_bzero(m.m_buf, sizeof(m.m_buf));
	}
	if (build_sa(&m, larval && !replace ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA,
	    sa) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		goto fail;
	}
	e = nl_send(k, &m, rq->rq_seq) == -1 ? errno : 0;
	explicit_bzero(m.m_buf, sizeof(m.m_buf));
	if (e != 0) {
		sadb_req_free(rq);
		errno = e;
		goto fail;
	}
	return 0;
 fail:
	e = errno;
	if (del != NULL)
		sadb_req_free(del);
	errno = e;
	return -1;
}

static int
xfrm_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	int e;

	(void)sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if ((rq = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		return -1;
	rq->rq_done = cb;
	if (xfrm_del_msg(k, sa, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
xfrm_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	struct xfrm_usersa_id *p;
	struct nlmsg m;
	xfrm_address_t saddr;
	int e;

	if ((rq = sadb_req_new(k, SADB_REQ_GET, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	nl_init(&m, XFRM_MSG_GETSA, NLM_F_ACK, sizeof(*p));
	p = nl_body(&m);
	addr_to_xfrm(&sa->sa_dst, &p->daddr);
	p->spi = htonl(sa->sa_spi);
	p->family = sa->sa_dst.ss_family;
	p->proto = xfrm_proto(sa->sa_proto);
	addr_to_xfrm(&sa->sa_src, &saddr);
	if (sa->sa_src.ss_family != 0)
		(void)nl_attr(&m, XFRMA_SRCADDR, &saddr, sizeof(saddr), NULL);
	if (nl_send(k, &m, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
xfrm_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	struct nlmsg m;
	int e;

	if ((rq = sadb_req_new(k, SADB_REQ_DUMP, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	nl_init(&m, XFRM_MSG_GETSA, NLM_F_DUMP, 0);
	if (nl_send(k, &m, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

/* Directions a policy needs: out, in, and fwd for tunnels (forwarded
 * traffic for the subnet behind us is checked against fwd, not in). */
static int
pol_dirs(const struct kink_policy *pol, uint8_t dirs[3])
{
	int n = 0;

	dirs[n++] = XFRM_POLICY_OUT;
	dirs[n++] = XFRM_POLICY_IN;
	if (pol->pol_mode == ENCAP_MODE_TUNNEL)
		dirs[n++] = XFRM_POLICY_FWD;
	return n;
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

static int
build_pol(struct nlmsg *m, const struct kink_policy *pol, uint8_t dir)
{
	struct xfrm_userpolicy_info *p;
	struct xfrm_user_tmpl t[2];
	const struct kink_suite *s = &pol->pol_suites[0];
	int nt = 0, i;

	nl_init(m, XFRM_MSG_UPDPOLICY, NLM_F_ACK, sizeof(*p));
	p = nl_body(m);
	pol_sel(pol, dir, &p->sel);
	p->lft.soft_byte_limit = p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = p->lft.hard_packet_limit = XFRM_INF;
	p->dir = dir;
	p->action = XFRM_POLICY_ALLOW;
	p->share = XFRM_SHARE_ANY;
	memset(t, 0, sizeof(t));
	/* ESP inside AH for a bundle: templates go innermost first. */
	if (pol->pol_nsuites == 0 || s->s_esp.x_present)
		t[nt++].id.proto = IPPROTO_ESP;
	if (pol->pol_nsuites > 0 && s->s_ah.x_present)
		t[nt++].id.proto = IPPROTO_AH;
	for (i = 0; i < nt; i++) {
		t[i].reqid = pol->pol_reqid;
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
	if (m->m_err) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static int
build_poldel(struct nlmsg *m, const struct kink_policy *pol, uint8_t dir)
{
	struct xfrm_userpolicy_id *p;

	nl_init(m, XFRM_MSG_DELPOLICY, NLM_F_ACK, sizeof(*p));
	p = nl_body(m);
	pol_sel(pol, dir, &p->sel);
	p->dir = dir;
	return 0;
}

/* One call, one kernel message per direction; the last reports for all. */
static int
xfrm_spd(struct sadb *sd, const struct kink_policy *pol, int del,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *last, *rq;
	struct nlmsg m;
	uint8_t dirs[3];
	int n, i, e;

	n = pol_dirs(pol, dirs);
	if ((last = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		return -1;
	last->rq_done = cb;
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			rq = last;
		else if ((rq = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
			goto fail;
		else
			rq->rq_parent = last->rq_seq;
		if ((del ? build_poldel(&m, pol, dirs[i]) :
		    build_pol(&m, pol, dirs[i])) == -1 ||
		    nl_send(k, &m, rq->rq_seq) == -1) {
			if (rq != last)
				sadb_req_free(rq);
			goto fail;
		}
	}
	return 0;
 fail:
	e = errno;
	/* Messages already sent still get answers; last tells the caller. */
	if (i == 0) {
		sadb_req_free(last);
		errno = e;
		return -1;
	}
	last->rq_prev_err = e;
	return 0;
}

static int
xfrm_spd_add(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return xfrm_spd(sd, pol, 0, cb, arg);
}

static int
xfrm_spd_del(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return xfrm_spd(sd, pol, 1, cb, arg);
}

/* Attributes after a fixed header of hdrlen octets. */
static const struct nlattr *
nl_find(const struct nlmsghdr *h, size_t hdrlen, uint16_t type)
{
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(hdrlen);
	const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
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

/* The kernel's SA as kinkd describes it, without keys. */
static void
sa_from_xfrm(const struct nlmsghdr *h, const struct xfrm_usersa_info *p,
    size_t hdrlen, struct kink_sa *sa)
{
	const struct nlattr *a;

	memset(sa, 0, sizeof(*sa));
	xfrm_to_addr(&p->saddr, p->family, &sa->sa_src);
	xfrm_to_addr(&p->id.daddr, p->family, &sa->sa_dst);
	sa->sa_proto = p->id.proto == IPPROTO_AH ? PROTO_IPSEC_AH :
	    PROTO_IPSEC_ESP;
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
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_AEAD)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo_aead)) {
		const struct xfrm_algo_aead *al = (const void *)(a + 1);
		char name[sizeof(al->alg_name) + 1];

		memcpy(name, al->alg_name, sizeof(al->alg_name));
		name[sizeof(al->alg_name)] = '\0';
		sa->sa_enc = alg_back(name, 0, (uint16_t)al->alg_icv_len);
		sa->sa_enc_keylen = (uint16_t)(al->alg_key_len - 32);
	}
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_CRYPT)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo)) {
		const struct xfrm_algo *al = (const void *)(a + 1);
		char name[sizeof(al->alg_name) + 1];

		memcpy(name, al->alg_name, sizeof(al->alg_name));
		name[sizeof(al->alg_name)] = '\0';
		sa->sa_enc = alg_back(name, 0, 0);
		sa->sa_enc_keylen = (uint16_t)al->alg_key_len;
	}
	if ((a = nl_find(h, hdrlen, XFRMA_ALG_AUTH_TRUNC)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_algo_auth)) {
		const struct xfrm_algo_auth *al = (const void *)(a + 1);
		char name[sizeof(al->alg_name) + 1];

		memcpy(name, al->alg_name, sizeof(al->alg_name));
		name[sizeof(al->alg_name)] = '\0';
		sa->sa_auth = alg_back(name, 1, 0);
	}
}

/* Netlink aligns to 4 octets, these structs hold 64-bit fields: copy. */
static void
xfrm_acquire(struct sadb_kern *k, const struct nlmsghdr *h)
{
	struct xfrm_user_acquire acq, *p = &acq;
	const struct nlattr *a;
	struct sadb_event ev;
	uint16_t family;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*p)))
		return;
	memcpy(&acq, NLMSG_DATA(h), sizeof(acq));
	family = p->policy.sel.family;
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = SADB_EV_ACQUIRE;
	if ((a = nl_find(h, sizeof(*p), XFRMA_TMPL)) != NULL &&
	    a->nla_len >= NLA_HDRLEN + sizeof(struct xfrm_user_tmpl)) {
		const struct xfrm_user_tmpl *t = (const void *)(a + 1);

		ev.ev_reqid = t->reqid;
		if (t->family != 0)
			family = t->family;
	}
	xfrm_to_addr(&p->saddr, family, &ev.ev_src);
	xfrm_to_addr(&p->id.daddr, family, &ev.ev_dst);
	log_debug("sadb xfrm: ACQUIRE reqid %u", ev.ev_reqid);
	sadb_upcall(k->k_sd, &ev);
}

static void
xfrm_expire(struct sadb_kern *k, const struct nlmsghdr *h)
{
	struct xfrm_user_expire exp, *p = &exp;
	struct sadb_event ev;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*p)))
		return;
	memcpy(&exp, NLMSG_DATA(h), sizeof(exp));
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = p->hard ? SADB_EV_EXPIRE_HARD : SADB_EV_EXPIRE_SOFT;
	sa_from_xfrm(h, &p->state, sizeof(*p), &ev.ev_sa);
	ev.ev_reqid = ev.ev_sa.sa_reqid;
	ev.ev_src = ev.ev_sa.sa_src;
	ev.ev_dst = ev.ev_sa.sa_dst;
	log_debug("sadb xfrm: %s EXPIRE spi 0x%08x", p->hard ? "hard" : "soft",
	    ev.ev_sa.sa_spi);
	sadb_upcall(k->k_sd, &ev);
}

static void
xfrm_answer(struct sadb_kern *k, const struct nlmsghdr *h)
{
	struct sadb_req *rq;

	if ((rq = sadb_req_find(k, h->nlmsg_seq)) == NULL)
		return;		/* timed out already, or not ours */
	switch (h->nlmsg_type) {
	case NLMSG_ERROR: {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		int err;

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			sadb_req_finish(rq, EPROTO);
			return;
		}
		err = -e->error;
		if (err == ESRCH && rq->rq_fallback != NULL) {
			/* The larval SA expired: ADD instead of UPDATE. */
			ssize_t n = send(k->k_fd, rq->rq_fallback,
			    rq->rq_fallback_len, 0);

			freezero(rq->rq_fallback, rq->rq_fallback_len);
			rq->rq_fallback = NULL;
			if (n == -1)
				sadb_req_finish(rq, errno);
			return;
		}
		sadb_req_finish(rq, err);
		return;
	}
	case NLMSG_DONE:
		sadb_req_finish(rq, 0);
		return;
	case XFRM_MSG_NEWSA: {
		struct xfrm_usersa_info info, *p = &info;
		struct kink_sa sa;

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*p)))
			return;
		memcpy(&info, NLMSG_DATA(h), sizeof(info));
		if (rq->rq_kind == SADB_REQ_SPI) {
			rq->rq_spi = ntohl(p->id.spi);
			rq->rq_gotspi = 1;
			sadb_larval_add(k, &rq->rq_sa.sa_dst, rq->rq_spi,
			    rq->rq_sa.sa_proto);
			return;
		}
		if (rq->rq_kind != SADB_REQ_DUMP && rq->rq_kind != SADB_REQ_GET)
			return;
		if (rq->rq_kind == SADB_REQ_DUMP &&
		    (!sadb_reqid_ours(k->k_sd, p->reqid) ||
		    p->id.proto == IPPROTO_COMP))
			return;
		sa_from_xfrm(h, p, sizeof(*p), &sa);
		if (rq->rq_dumpcb != NULL)
			rq->rq_dumpcb(0, &sa, rq->rq_arg);
		return;
	}
	default:
		return;
	}
}

static void
xfrm_read(evutil_socket_t fd, short what, void *arg)
{
	struct sadb_kern *k = arg;
	static uint8_t buf[XFRM_RECV_LEN] __attribute__((aligned(8)));
	ssize_t n;

	k->k_incb = 1;
	while (!k->k_dead) {
		const struct nlmsghdr *h;
		size_t len;

		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Multicast overran the buffer: events lost;
				 * the kernel re-sends ACQUIREs for traffic. */
				log_warnx("sadb xfrm: receive buffer overrun");
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("sadb xfrm: recv");
			break;
		}
		len = (size_t)n;
		for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, len) &&
		    !k->k_dead; h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_pid == 0 && h->nlmsg_seq == 0 &&
			    h->nlmsg_type == XFRM_MSG_ACQUIRE)
				xfrm_acquire(k, h);
			else if (h->nlmsg_pid == 0 && h->nlmsg_seq == 0 &&
			    h->nlmsg_type == XFRM_MSG_EXPIRE)
				xfrm_expire(k, h);
			else
				xfrm_answer(k, h);
		}
	}
	k->k_incb = 0;
	if (k->k_dead) {
		sadb_req_free_all(k);
		free(k);
	}
}

static int
xfrm_open(struct sadb *sd)
{
	struct sadb_kern *k;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int fd, sz = SADB_KERN_RCVBUF, e;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_XFRM)) == -1)
		return -1;
	/* Joining the groups needs CAP_NET_ADMIN: fails here, not later. */
	nl.nl_groups = XFRMGRP_ACQUIRE | XFRMGRP_EXPIRE;
	if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if ((k = calloc(1, sizeof(*k))) == NULL)
		goto fail;
	k->k_sd = sd;
	k->k_fd = fd;
	TAILQ_INIT(&k->k_reqs);
	k->k_seq = (uint32_t)getpid() << 16;
	if ((k->k_ev = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    xfrm_read, k)) == NULL || event_add(k->k_ev, NULL) == -1) {
		if (k->k_ev != NULL)
			event_free(k->k_ev);
		free(k);
		errno = ENOMEM;
		goto fail;
	}
	sd->sd_priv = k;
	return 0;
 fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static void
xfrm_close(struct sadb *sd)
{
	struct sadb_kern *k = sd->sd_priv;

	if (k == NULL)
		return;
	sd->sd_priv = NULL;
	event_free(k->k_ev);
	close(k->k_fd);
	k->k_fd = -1;
	explicit_bzero(k->k_larval, sizeof(k->k_larval));
	if (k->k_incb) {
		/* Freed by xfrm_read on its way out; no more callbacks. */
		k->k_dead = 1;
		k->k_sd = NULL;
		return;
	}
	sadb_req_free_all(k);
	free(k);
}

const struct sadb_ops sadb_xfrm_ops = {
	.name = "xfrm",
	.open = xfrm_open,
	.close = xfrm_close,
	.getspi = xfrm_getspi,
	.add = xfrm_add,
	.del = xfrm_del,
	.dump = xfrm_dump,
	.spd_add = xfrm_spd_add,
	.spd_del = xfrm_spd_del,
	.get = xfrm_get,
};
