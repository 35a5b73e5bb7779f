/*
 * The PF_KEY v2 backend (RFC 2367 with the KAME/Linux SPD extensions).
 * Requests carry our pid and a fresh sequence number; the kernel's answer
 * (often broadcast to every PF_KEY socket) is matched on both.  Linux
 * facts this file relies on are in /work/shared/ref/pfkey-notes.md and
 * docs/arch/kernel.md: UPDATE keeps the keys of a valid SA (replace is
 * DELETE + ADD), no AEAD (AES-GCM fails), replay window at most 32,
 * policy reqids above 0x3fff are not kept, dump replies count their own
 * sequence down to 0, CAP_NET_ADMIN is checked when the socket is created.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/pfkeyv2.h>
#include <linux/ipsec.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "isakmp_num.h"
#include "log.h"
#include "sadb_kern.h"

#define PK_MSG_MAX	2048		/* largest request we build */
#define PK_RECV_LEN	65536
#define PK_MAXPOL	1024		/* policy id -> reqid entries */

struct pkmsg {
	uint64_t	 m_buf[PK_MSG_MAX / 8];
	size_t		 m_len;		/* octets, a multiple of 8 */
	int		 m_err;
};

struct pk_pol {
	uint32_t	 pp_id;		/* kernel policy index */
	uint32_t	 pp_reqid;	/* kinkd's reqid for it */
};

/*
 * Linux keeps a policy template's reqid only up to 0x3fff (above, it
 * makes one up), and outbound lookup wants SA reqid == template reqid
 * exactly.  kinkd's reqids (conf hashes them into 1..0x3fffffff) above
 * that get a stand-in from PK_KREQID_FIRST..0x3fff, used for both the
 * policy and its SAs, and mapped back in dumps and events.
 */
#define PK_KREQID_FIRST	0x2000
struct pk_kreqid {
	uint32_t	 kr_reqid;	/* kinkd's */
	uint32_t	 kr_kernel;	/* what the kernel sees */
};

struct pk_extra {
	pid_t		 px_pid;
	uint32_t	 px_dump;	/* seq of the dump in flight, or 0 */
	struct pk_pol	 px_pol[PK_MAXPOL];
	int		 px_npol;
	struct pk_kreqid px_kr[PK_MAXPOL];
	int		 px_nkr;
	uint32_t	 px_krnext;
};

/* The kernel's reqid for kinkd's reqid r; 0 when none is free. */
static uint32_t
kreqid(struct pk_extra *px, uint32_t r)
{
	uint32_t cand;
	int i, n;

	if (r <= SADB_PFKEY_REQID_MAX)
		return r;
	for (i = 0; i < px->px_nkr; i++)
		if (px->px_kr[i].kr_reqid == r)
			return px->px_kr[i].kr_kernel;
	if (px->px_nkr == PK_MAXPOL)
		return 0;
	/* Next stand-in not in use (the range has more than PK_MAXPOL). */
	for (n = 0; n <= SADB_PFKEY_REQID_MAX - PK_KREQID_FIRST; n++) {
		if (px->px_krnext < PK_KREQID_FIRST ||
		    px->px_krnext > SADB_PFKEY_REQID_MAX)
			px->px_krnext = PK_KREQID_FIRST;
		cand = px->px_krnext++;
		for (i = 0; i < px->px_nkr; i++)
			if (px->px_kr[i].kr_kernel == cand)
				break;
		if (i == px->px_nkr) {
			px->px_kr[px->px_nkr].kr_reqid = r;
			px->px_kr[px->px_nkr++].kr_kernel = cand;
			return cand;
		}
	}
	return 0;
}

/* kinkd's reqid for what the kernel reports. */
static uint32_t
ureqid(const struct pk_extra *px, uint32_t k)
{
	int i;

	for (i = 0; i < px->px_nkr; i++)
		if (px->px_kr[i].kr_kernel == k)
			return px->px_kr[i].kr_reqid;
	return k;
}

static struct sadb_msg *
pk_init(struct pkmsg *m, uint8_t type, uint8_t satype)
{
	struct sadb_msg *h = (struct sadb_msg *)m->m_buf;

	memset(m->m_buf, 0, sizeof(m->m_buf));
	m->m_len = sizeof(*h);
	m->m_err = 0;
	h->sadb_msg_version = PF_KEY_V2;
	h->sadb_msg_type = type;
	h->sadb_msg_satype = satype;
	return h;
}

/* An extension of len octets (padded to 8), zeroed, header filled. */
static void *
pk_ext(struct pkmsg *m, uint16_t type, size_t len)
{
	struct sadb_ext *e;
	size_t plen = (len + 7) & ~(size_t)7;

	if (m->m_len + plen > sizeof(m->m_buf)) {
		m->m_err = 1;
		return NULL;
	}
	e = (struct sadb_ext *)((uint8_t *)m->m_buf + m->m_len);
	e->sadb_ext_len = (uint16_t)(plen / 8);
	e->sadb_ext_type = type;
	m->m_len += plen;
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
pk_addr(struct pkmsg *m, uint16_t type, const struct sockaddr_storage *ss,
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
	return doi == PROTO_IPSEC_AH ? SADB_SATYPE_AH : SADB_SATYPE_ESP;
}

static int
pk_send(struct sadb_kern *k, struct pkmsg *m, uint32_t seq)
{
	struct pk_extra *px = k->k_extra;
	struct sadb_msg *h = (struct sadb_msg *)m->m_buf;

	if (m->m_err) {
		errno = EMSGSIZE;
		return -1;
	}
	h->sadb_msg_len = (uint16_t)(m->m_len / 8);
	h->sadb_msg_seq = seq;
	h->sadb_msg_pid = (uint32_t)px->px_pid;
	if (send(k->k_fd, m->m_buf, m->m_len, 0) == -1) {
		log_warn("sadb pfkey: send type %u", h->sadb_msg_type);
		return -1;
	}
	return 0;
}

static void
pk_key(struct pkmsg *m, uint16_t type, const uint8_t *key, size_t len)
{
	struct sadb_key *k;

	if ((k = pk_ext(m, type, sizeof(*k) + len)) == NULL)
		return;
	k->sadb_key_bits = (uint16_t)(len * 8);
	memcpy(k + 1, key, len);
}

static void
pk_lifetime(struct pkmsg *m, uint16_t type, uint32_t secs, uint64_t bytes)
{
	struct sadb_lifetime *l;

	if ((l = pk_ext(m, type, sizeof(*l))) == NULL)
		return;
	l->sadb_lifetime_addtime = secs;
	l->sadb_lifetime_bytes = bytes;
}

static void
pk_sa2(struct pkmsg *m, uint8_t mode, uint32_t reqid)
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

/* ADD or UPDATE for sa, into m.  -1 with errno. */
static int
build_sa(struct pkmsg *m, uint8_t type, const struct kink_sa *sa,
    uint32_t kreq)
{
	const struct sadb_algmap *enc = NULL, *auth = NULL;
	struct sadb_sa *s;

	if (sa->sa_proto == PROTO_IPSEC_ESP &&
	    (enc = sadb_alg_enc(sa->sa_enc)) == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sa->sa_auth != 0 && (auth = sadb_alg_auth(sa->sa_auth)) == NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sa->sa_proto == PROTO_IPSEC_AH && auth == NULL) {
		errno = EINVAL;
		return -1;
	}
	pk_init(m, type, pk_satype(sa->sa_proto));
	if ((s = pk_ext(m, SADB_EXT_SA, sizeof(*s))) == NULL)
		goto toobig;
	s->sadb_sa_spi = htonl(sa->sa_spi);
	s->sadb_sa_replay = 32;		/* Linux caps PF_KEY windows at 32 */
	s->sadb_sa_state = SADB_SASTATE_MATURE;
	s->sadb_sa_auth = auth != NULL ? auth->al_pfkey : SADB_AALG_NONE;
	s->sadb_sa_encrypt = enc != NULL ? enc->al_pfkey : SADB_EALG_NONE;
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
	if (enc != NULL)	/* even ESP NULL needs the extension */
		pk_key(m, SADB_EXT_KEY_ENCRYPT, sa->sa_enckey,
		    sa->sa_enckey_len);
	pk_sa2(m, pk_mode(sa->sa_mode), kreq);
	if (m->m_err)
		goto toobig;
	return 0;
 toobig:
	explicit_bzero(m->m_buf, sizeof(m->m_buf));
	errno = EMSGSIZE;
	return -1;
}

static int
pfkey_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	struct sadb_spirange *r;
	struct pkmsg m;
	int e;

	if (src->ss_family != dst->ss_family) {
		errno = EINVAL;
		return -1;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_SPI, arg)) == NULL)
		return -1;
	rq->rq_spicb = cb;
	rq->rq_sa.sa_dst = *dst;
	rq->rq_sa.sa_proto = proto;
	pk_init(&m, SADB_GETSPI, pk_satype(proto));
	pk_addr(&m, SADB_EXT_ADDRESS_SRC, src, full_plen(src), 0, 0);
	pk_addr(&m, SADB_EXT_ADDRESS_DST, dst, full_plen(dst), 0, 0);
	pk_sa2(&m, IPSEC_MODE_TRANSPORT, SADB_LARVAL_REQID_BASE |
	    (++k->k_larval_reqid & ~SADB_LARVAL_REQID_BASE));
	if ((r = pk_ext(&m, SADB_EXT_SPIRANGE, sizeof(*r))) != NULL) {
		r->sadb_spirange_min = 0x100;	/* 1-255 reserved */
		r->sadb_spirange_max = 0xffffffff;
	}
	if (pk_send(k, &m, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
pk_del_msg(struct sadb_kern *k, const struct kink_sa *sa, uint32_t seq)
{
	struct pkmsg m;
	struct sadb_sa *s;

	pk_init(&m, SADB_DELETE, pk_satype(sa->sa_proto));
	if ((s = pk_ext(&m, SADB_EXT_SA, sizeof(*s))) != NULL)
		s->sadb_sa_spi = htonl(sa->sa_spi);
	pk_addr(&m, SADB_EXT_ADDRESS_SRC, &sa->sa_src, full_plen(&sa->sa_src),
	    0, 0);
	pk_addr(&m, SADB_EXT_ADDRESS_DST, &sa->sa_dst, full_plen(&sa->sa_dst),
	    0, 0);
	return pk_send(k, &m, seq);
}

static int
pfkey_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq, *del = NULL;
	struct pkmsg m;
	uint32_t kreq;
	int larval, e;

	if ((kreq = kreqid(k->k_extra, sa->sa_reqid)) == 0 &&
	    sa->sa_reqid != 0) {
		errno = ENOSPC;
		return -1;
	}
	larval = sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if (replace) {
		/* Linux's UPDATE keeps the old keys of a mature SA. */
		if ((del = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
			return -1;
		if (pk_del_msg(k, sa, del->rq_seq) == -1)
			goto fail;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		goto fail;
	rq->rq_done = cb;
	/* After GETSPI the larval SA must be UPDATEd (ADD says EEXIST); if
	 * it expired meanwhile, UPDATE says ESRCH and the ADD follows. */
	if (larval && !replace) {
		struct sadb_msg *h;

		if (build_sa(&m, SADB_ADD, sa, kreq) == -1 ||
		    (rq->rq_fallback = malloc(m.m_len)) == NULL) {
			e = errno;
			sadb_req_free(rq);
			errno = e;
			goto fail;
		}
		h = (struct sadb_msg *)m.m_buf;
		h->sadb_msg_len = (uint16_t)(m.m_len / 8);
		h->sadb_msg_seq = rq->rq_seq;
		h->sadb_msg_pid = (uint32_t)((struct pk_extra *)k->k_extra)->px_pid;
		memcpy(rq->rq_fallback, m.m_buf, m.m_len);
		rq->rq_fallback_len = m.m_len;
		explicit_bzero(m.m_buf, sizeof(m.m_buf));
	}
	if (build_sa(&m, larval && !replace ? SADB_UPDATE : SADB_ADD,
	    sa, kreq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		goto fail;
	}
	e = pk_send(k, &m, rq->rq_seq) == -1 ? errno : 0;
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
pfkey_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	int e;

	(void)sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if ((rq = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		return -1;
	rq->rq_done = cb;
	if (pk_del_msg(k, sa, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
pfkey_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *rq;
	struct sadb_sa *s;
	struct pkmsg m;
	int e;

	if ((rq = sadb_req_new(k, SADB_REQ_GET, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	pk_init(&m, SADB_GET, pk_satype(sa->sa_proto));
	if ((s = pk_ext(&m, SADB_EXT_SA, sizeof(*s))) != NULL)
		s->sadb_sa_spi = htonl(sa->sa_spi);
	/* Linux wants both addresses; the source is not used to look up. */
	pk_addr(&m, SADB_EXT_ADDRESS_SRC, sa->sa_src.ss_family ? &sa->sa_src :
	    &sa->sa_dst, full_plen(&sa->sa_dst), 0, 0);
	pk_addr(&m, SADB_EXT_ADDRESS_DST, &sa->sa_dst, full_plen(&sa->sa_dst),
	    0, 0);
	if (pk_send(k, &m, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

static int
pfkey_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct pk_extra *px = k->k_extra;
	struct sadb_req *rq;
	struct pkmsg m;
	int e;

	/* One at a time (the kernel would say EBUSY); a timed-out dump is
	 * no longer in the queue. */
	if (px->px_dump != 0 && sadb_req_find(k, px->px_dump) != NULL) {
		errno = EBUSY;
		return -1;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_DUMP, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	pk_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC);
	if (pk_send(k, &m, rq->rq_seq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	px->px_dump = rq->rq_seq;
	return 0;
}

static int
pol_dirs(const struct kink_policy *pol, uint8_t dirs[3])
{
	int n = 0;

	dirs[n++] = IPSEC_DIR_OUTBOUND;
	dirs[n++] = IPSEC_DIR_INBOUND;
	if (pol->pol_mode == ENCAP_MODE_TUNNEL)	/* gateways forward */
		dirs[n++] = IPSEC_DIR_FWD;
	return n;
}

static int
build_pol(struct pkmsg *m, const struct kink_policy *pol, uint8_t dir,
    int del, uint32_t kreq)
{
	const struct kink_selector *s, *d;
	const struct kink_suite *su = &pol->pol_suites[0];
	struct sadb_x_policy *xp;
	uint8_t ul = pol->pol_ulproto ? pol->pol_ulproto : IPSEC_ULPROTO_ANY;
	uint16_t protos[2];
	size_t rqlen, tl = 0;
	int np = 0, i;

	s = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_src : &pol->pol_dst;
	d = dir == IPSEC_DIR_OUTBOUND ? &pol->pol_dst : &pol->pol_src;
	pk_init(m, del ? SADB_X_SPDDELETE : SADB_X_SPDUPDATE,
	    SADB_SATYPE_UNSPEC);
	pk_addr(m, SADB_EXT_ADDRESS_SRC, &s->sel_addr, s->sel_plen,
	    s->sel_port, ul);
	pk_addr(m, SADB_EXT_ADDRESS_DST, &d->sel_addr, d->sel_plen,
	    d->sel_port, ul);
	if (pol->pol_nsuites == 0 || su->s_esp.x_present)
		protos[np++] = IPPROTO_ESP;
	if (pol->pol_nsuites > 0 && su->s_ah.x_present)
		protos[np++] = IPPROTO_AH;
	if (pol->pol_mode == ENCAP_MODE_TUNNEL)
		tl = 2 * ss_len(&pol->pol_tun_local);
	rqlen = sizeof(struct sadb_x_ipsecrequest) + tl;
	if ((xp = pk_ext(m, SADB_X_EXT_POLICY, sizeof(*xp) +
	    (del ? 0 : (size_t)np * rqlen))) == NULL)
		goto toobig;
	xp->sadb_x_policy_type = IPSEC_POLICY_IPSEC;
	xp->sadb_x_policy_dir = dir;
	for (i = 0; !del && i < np; i++) {
		struct sadb_x_ipsecrequest *r = (void *)((uint8_t *)(xp + 1) +
		    (size_t)i * rqlen);

		r->sadb_x_ipsecrequest_len = (uint16_t)rqlen;
		r->sadb_x_ipsecrequest_proto = protos[i];
		r->sadb_x_ipsecrequest_mode = pk_mode(pol->pol_mode);
		/* UNIQUE: only SAs with this reqid serve the policy. */
		r->sadb_x_ipsecrequest_level = kreq != 0 ?
		    IPSEC_LEVEL_UNIQUE : IPSEC_LEVEL_REQUIRE;
		r->sadb_x_ipsecrequest_reqid = kreq;
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
	if (m->m_err)
		goto toobig;
	return 0;
 toobig:
	errno = EMSGSIZE;
	return -1;
}

static int
pfkey_spd(struct sadb *sd, const struct kink_policy *pol, int del,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct sadb_req *last, *rq;
	struct pkmsg m;
	uint8_t dirs[3];
	uint32_t kreq = 0;
	int n, i, e;

	if (!del && pol->pol_reqid != 0 &&
	    (kreq = kreqid(k->k_extra, pol->pol_reqid)) == 0) {
		errno = ENOSPC;
		return -1;
	}
	n = pol_dirs(pol, dirs);
	if ((last = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		return -1;
	last->rq_done = cb;
	last->rq_sa.sa_reqid = pol->pol_reqid;
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			rq = last;
		else if ((rq = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
			goto fail;
		else {
			rq->rq_parent = last->rq_seq;
			rq->rq_sa.sa_reqid = pol->pol_reqid;
		}
		if (build_pol(&m, pol, dirs[i], del, kreq) == -1 ||
		    pk_send(k, &m, rq->rq_seq) == -1) {
			if (rq != last)
				sadb_req_free(rq);
			goto fail;
		}
	}
	return 0;
 fail:
	e = errno;
	if (i == 0) {
		sadb_req_free(last);
		errno = e;
		return -1;
	}
	last->rq_prev_err = e;
	return 0;
}

static int
pfkey_spd_add(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return pfkey_spd(sd, pol, 0, cb, arg);
}

static int
pfkey_spd_del(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return pfkey_spd(sd, pol, 1, cb, arg);
}

/* Received message, split into its extensions (views into the buffer). */
struct pk_parsed {
	const struct sadb_msg *p_h;
	const struct sadb_ext *p_ext[SADB_EXT_MAX + 1];
};

static int
pk_parse(const uint8_t *buf, size_t len, struct pk_parsed *p)
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

		if (el < sizeof(*e) || off + el > len)
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

/* The kernel's SA (DUMP, EXPIRE) as kinkd describes it, without keys. */
static int
sa_from_pk(const struct pk_extra *px, const struct pk_parsed *p,
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
	    PROTO_IPSEC_AH : PROTO_IPSEC_ESP;
	sa->sa_spi = ntohl(s->sadb_sa_spi);
	sa->sa_auth = alg_back(s->sadb_sa_auth, 1);
	if (sa->sa_proto == PROTO_IPSEC_ESP)
		sa->sa_enc = alg_back(s->sadb_sa_encrypt, 0);
	sa->sa_mode = ENCAP_MODE_TRANSPORT;
	if (s2 != NULL) {
		sa->sa_reqid = ureqid(px, s2->sadb_x_sa2_reqid);
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
pol_remember(struct pk_extra *px, uint32_t id, uint32_t reqid)
{
	int i;

	for (i = 0; i < px->px_npol; i++)
		if (px->px_pol[i].pp_id == id) {
			px->px_pol[i].pp_reqid = reqid;
			return;
		}
	if (px->px_npol == PK_MAXPOL) {
		memmove(&px->px_pol[0], &px->px_pol[1],
		    (PK_MAXPOL - 1) * sizeof(px->px_pol[0]));
		px->px_npol--;
	}
	px->px_pol[px->px_npol].pp_id = id;
	px->px_pol[px->px_npol++].pp_reqid = reqid;
}

static uint32_t
pol_reqid(const struct pk_extra *px, uint32_t id)
{
	int i;

	for (i = 0; i < px->px_npol; i++)
		if (px->px_pol[i].pp_id == id)
			return px->px_pol[i].pp_reqid;
	return 0;
}

static void
pk_acquire(struct sadb_kern *k, const struct pk_parsed *p)
{
	const struct sadb_x_policy *xp =
	    (const void *)p->p_ext[SADB_X_EXT_POLICY];
	struct sadb_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_type = SADB_EV_ACQUIRE;
	if (pk_getaddr(p, SADB_EXT_ADDRESS_SRC, &ev.ev_src) == -1 ||
	    pk_getaddr(p, SADB_EXT_ADDRESS_DST, &ev.ev_dst) == -1)
		return;
	/* No reqid in a Linux ACQUIRE: the policy id leads back to it. */
	if (xp != NULL)
		ev.ev_reqid = pol_reqid(k->k_extra, xp->sadb_x_policy_id);
	log_debug("sadb pfkey: ACQUIRE policy %u reqid %u",
	    xp ? xp->sadb_x_policy_id : 0, ev.ev_reqid);
	sadb_upcall(k->k_sd, &ev);
}

static void
pk_expire(struct sadb_kern *k, const struct pk_parsed *p)
{
	struct sadb_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ev_type = p->p_ext[SADB_EXT_LIFETIME_HARD] != NULL ?
	    SADB_EV_EXPIRE_HARD : SADB_EV_EXPIRE_SOFT;
	if (sa_from_pk(k->k_extra, p, &ev.ev_sa) == -1)
		return;
	ev.ev_reqid = ev.ev_sa.sa_reqid;
	ev.ev_src = ev.ev_sa.sa_src;
	ev.ev_dst = ev.ev_sa.sa_dst;
	log_debug("sadb pfkey: %s EXPIRE spi 0x%08x",
	    ev.ev_type == SADB_EV_EXPIRE_HARD ? "hard" : "soft",
	    ev.ev_sa.sa_spi);
	sadb_upcall(k->k_sd, &ev);
}

static void
pk_dump_msg(struct sadb_kern *k, const struct pk_parsed *p)
{
	struct pk_extra *px = k->k_extra;
	struct sadb_req *rq;
	struct kink_sa sa;
	uint32_t seq = px->px_dump;
	int last = p->p_h->sadb_msg_seq == 0;

	if ((rq = sadb_req_find(k, seq)) == NULL) {
		px->px_dump = 0;	/* timed out: the rest is noise */
		return;
	}
	if (p->p_h->sadb_msg_errno != 0) {
		px->px_dump = 0;
		/* ENOENT: nothing to dump, an empty answer. */
		sadb_req_finish(rq, p->p_h->sadb_msg_errno == ENOENT ? 0 :
		    p->p_h->sadb_msg_errno);
		return;
	}
	if (sa_from_pk(px, p, &sa) == 0 && rq->rq_dumpcb != NULL &&
	    sadb_reqid_ours(k->k_sd, sa.sa_reqid))
		rq->rq_dumpcb(0, &sa, rq->rq_arg);
	/* The callback may have closed us, or timed out nothing: look again. */
	if (last && !k->k_dead && (rq = sadb_req_find(k, seq)) != NULL) {
		px->px_dump = 0;
		sadb_req_finish(rq, 0);
	}
}

static void
pk_answer(struct sadb_kern *k, const struct pk_parsed *p)
{
	struct pk_extra *px = k->k_extra;
	const struct sadb_msg *h = p->p_h;
	struct sadb_req *rq;

	if (h->sadb_msg_type == SADB_DUMP && px->px_dump != 0 &&
	    (h->sadb_msg_errno == 0 || h->sadb_msg_seq == px->px_dump)) {
		pk_dump_msg(k, p);
		return;
	}
	if ((rq = sadb_req_find(k, h->sadb_msg_seq)) == NULL)
		return;		/* timed out already, or not ours */
	if (h->sadb_msg_errno != 0) {
		if (h->sadb_msg_errno == ESRCH && rq->rq_fallback != NULL) {
			/* The larval SA expired: ADD instead of UPDATE. */
			ssize_t n = send(k->k_fd, rq->rq_fallback,
			    rq->rq_fallback_len, 0);

			freezero(rq->rq_fallback, rq->rq_fallback_len);
			rq->rq_fallback = NULL;
			if (n == -1)
				sadb_req_finish(rq, errno);
			return;
		}
		sadb_req_finish(rq, h->sadb_msg_errno);
		return;
	}
	switch (h->sadb_msg_type) {
	case SADB_GETSPI: {
		const struct sadb_sa *s = (const void *)p->p_ext[SADB_EXT_SA];

		if (rq->rq_kind != SADB_REQ_SPI || s == NULL) {
			sadb_req_finish(rq, EPROTO);
			return;
		}
		rq->rq_spi = ntohl(s->sadb_sa_spi);
		rq->rq_gotspi = 1;
		sadb_larval_add(k, &rq->rq_sa.sa_dst, rq->rq_spi,
		    rq->rq_sa.sa_proto);
		sadb_req_finish(rq, 0);
		return;
	}
	case SADB_GET: {
		struct kink_sa sa;

		if (rq->rq_kind != SADB_REQ_GET || sa_from_pk(px, p, &sa) == -1) {
			sadb_req_finish(rq, EPROTO);
			return;
		}
		if (rq->rq_dumpcb != NULL)
			rq->rq_dumpcb(0, &sa, rq->rq_arg);
		if (!k->k_dead && (rq = sadb_req_find(k, h->sadb_msg_seq)) != NULL)
			sadb_req_finish(rq, 0);
		return;
	}
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDADD: {
		const struct sadb_x_policy *xp =
		    (const void *)p->p_ext[SADB_X_EXT_POLICY];

		if (xp != NULL && xp->sadb_x_policy_dir == IPSEC_DIR_OUTBOUND)
			pol_remember(px, xp->sadb_x_policy_id,
			    rq->rq_sa.sa_reqid);
		sadb_req_finish(rq, 0);
		return;
	}
	default:
		sadb_req_finish(rq, 0);
		return;
	}
}

static void
pfkey_read(evutil_socket_t fd, short what, void *arg)
{
	struct sadb_kern *k = arg;
	struct pk_extra *px = k->k_extra;
	static uint64_t buf[PK_RECV_LEN / 8];
	struct pk_parsed p;
	ssize_t n;

	k->k_incb = 1;
	while (!k->k_dead) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("sadb pfkey: recv");
			break;
		}
		if (pk_parse((const uint8_t *)buf, (size_t)n, &p) == -1) {
			log_debug("sadb pfkey: malformed message (%zd octets)",
			    n);
			continue;
		}
		if (p.p_h->sadb_msg_pid == 0 &&
		    p.p_h->sadb_msg_type == SADB_ACQUIRE)
			pk_acquire(k, &p);
		else if (p.p_h->sadb_msg_pid == 0 &&
		    p.p_h->sadb_msg_type == SADB_EXPIRE)
			pk_expire(k, &p);
		else if (p.p_h->sadb_msg_pid == (uint32_t)px->px_pid)
			pk_answer(k, &p);
	}
	explicit_bzero(buf, sizeof(buf));	/* ADD echoes carry keys */
	k->k_incb = 0;
	if (k->k_dead) {
		sadb_req_free_all(k);
		free(k->k_extra);
		free(k);
	}
}

static int
pk_register(struct sadb_kern *k, uint8_t satype)
{
	struct sadb_req *rq;
	struct pkmsg m;

	if ((rq = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
		return -1;
	pk_init(&m, SADB_REGISTER, satype);
	if (pk_send(k, &m, rq->rq_seq) == -1) {
		sadb_req_free(rq);
		return -1;
	}
	return 0;
}

static int
pfkey_open(struct sadb *sd)
{
	struct sadb_kern *k = NULL;
	struct pk_extra *px = NULL;
	int fd, sz = SADB_KERN_RCVBUF, e;

	/* CAP_NET_ADMIN is checked here, once. */
	if ((fd = socket(PF_KEY, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_KEY_V2)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (px = calloc(1, sizeof(*px))) == NULL)
		goto fail;
	k->k_sd = sd;
	k->k_fd = fd;
	k->k_extra = px;
	px->px_pid = getpid();
	TAILQ_INIT(&k->k_reqs);
	k->k_seq = ((uint32_t)px->px_pid << 16) ^ (uint32_t)(uintptr_t)k;
	if ((k->k_ev = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    pfkey_read, k)) == NULL || event_add(k->k_ev, NULL) == -1)
		goto fail;
	sd->sd_priv = k;
	/* Only registered sockets hear ACQUIRE and EXPIRE. */
	if (pk_register(k, SADB_SATYPE_ESP) == -1 ||
	    pk_register(k, SADB_SATYPE_AH) == -1) {
		sd->sd_priv = NULL;
		goto fail;
	}
	return 0;
 fail:
	e = errno;
	if (k != NULL) {
		if (k->k_ev != NULL)
			event_free(k->k_ev);
		sadb_req_free_all(k);
	}
	free(px);
	free(k);
	close(fd);
	errno = e;
	return -1;
}

static void
pfkey_close(struct sadb *sd)
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
		/* Freed by pfkey_read on its way out; no more callbacks. */
		k->k_dead = 1;
		k->k_sd = NULL;
		return;
	}
	sadb_req_free_all(k);
	free(k->k_extra);
	free(k);
}

const struct sadb_ops sadb_pfkey_ops = {
	.name = "pfkey",
	.open = pfkey_open,
	.close = pfkey_close,
	.getspi = pfkey_getspi,
	.add = pfkey_add,
	.del = pfkey_del,
	.dump = pfkey_dump,
	.spd_add = pfkey_spd_add,
	.spd_del = pfkey_spd_del,
	.get = pfkey_get,
};
