/*
 * The XFRM codec (src/xfrm_msg.c) without a kernel: every request kind it
 * builds against golden messages (tests/unit/data/kern/xfrm*.hex, byte
 * for byte what the backend sent before the driver/codec split), and the
 * decoder on ACKs and errors, SAs (ALLOCSPI answers, GET and dump
 * entries), ACQUIRE and EXPIRE, plus truncated and garbled input.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "kern_golden.h"
#include "sadb_kern.h"
#include "test.h"
#include "xfrm_msg.h"

#define KBUF_ALIGN __attribute__((aligned(8)))

static int
golden(int fam, const char *kind, uint8_t *buf, size_t *len)
{
	return kg_golden("xfrm", fam, kind, buf, len);
}

static int
build(const struct kreq *rq, uint8_t *buf, size_t max)
{
	return xfrm_build(rq, buf, max);
}

static void
build_all(int fam)
{
	static const uint8_t dirs[3] = {
	    XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD
	};

	kg_build_all("xfrm", fam, 0, dirs, 22, build);
}

TEST(build_golden_v4)
{
	build_all(AF_INET);
}

TEST(build_golden_v6)
{
	build_all(AF_INET6);
}

TEST(build_dirs)
{
	struct kc c;
	uint8_t d[3];

	kc_init(&c, AF_INET6);
	ASSERT_INT_EQ(xfrm_dirs(&c.transport, d), 2);
	ASSERT_INT_EQ(d[0], XFRM_POLICY_OUT);
	ASSERT_INT_EQ(d[1], XFRM_POLICY_IN);
	ASSERT_INT_EQ(xfrm_dirs(&c.tunnel, d), 3);
	ASSERT_INT_EQ(d[2], XFRM_POLICY_FWD);
}

/*
 * GETPOLICY (show policies) names the entry exactly as DELPOLICY does:
 * each one is its DELPOLICY golden message with only the type changed.
 */
TEST(build_spd_get)
{
	static const struct {
		const char *kind;
		int tunnel;
		uint8_t dir;
	} t[] = {
		{ "spddel-transport-out", 0, XFRM_POLICY_OUT },
		{ "spddel-transport-in", 0, XFRM_POLICY_IN },
		{ "spddel-tunnel-out", 1, XFRM_POLICY_OUT },
		{ "spddel-tunnel-in", 1, XFRM_POLICY_IN },
		{ "spddel-tunnel-fwd", 1, XFRM_POLICY_FWD },
	};
	uint8_t want[KMSG_MAX] KBUF_ALIGN, got[KMSG_MAX] KBUF_ALIGN;
	struct nlmsghdr *h = (struct nlmsghdr *)want;
	size_t wl;
	struct kc c;

	for (int fam = AF_INET; fam != -1;
	    fam = fam == AF_INET ? AF_INET6 : -1) {
		kc_init(&c, fam);
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			struct kreq rq = { .kr_op = KREQ_SPD_GET,
			    .kr_seq = KC_SEQ, .kr_dir = t[i].dir,
			    .kr_pol = t[i].tunnel ? &c.tunnel : &c.transport };

			ASSERT_INT_EQ(golden(fam, t[i].kind, want, &wl), 0);
			ASSERT_INT_EQ(h->nlmsg_type, XFRM_MSG_DELPOLICY);
			h->nlmsg_type = XFRM_MSG_GETPOLICY;
			ASSERT_INT_EQ(build(&rq, got, sizeof(got)), wl);
			ASSERT_MEM_EQ(got, want, wl);
		}
	}
}

/* What ends a GETPOLICY: the ACK (held) or ENOENT; the entry itself,
 * sent first, is not an answer. */
TEST(parse_spd_get_answers)
{
	uint8_t buf[256] KBUF_ALIGN;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr e;
	struct kin in;

	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct xfrm_userpolicy_info));
	h->nlmsg_type = XFRM_MSG_NEWPOLICY;
	h->nlmsg_seq = KC_SEQ;
	h->nlmsg_pid = 77;
	xfrm_parse(buf, h->nlmsg_len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);

	memset(buf, 0, sizeof(buf));
	memset(&e, 0, sizeof(e));
	e.error = -ENOENT;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(e));
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_seq = KC_SEQ;
	h->nlmsg_pid = 77;
	memcpy(NLMSG_DATA(h), &e, sizeof(e));
	xfrm_parse(buf, h->nlmsg_len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_seq, KC_SEQ);
	ASSERT_INT_EQ(in.ki_err, ENOENT);
}

TEST(build_refuses)
{
	struct kc c;
	struct kink_sa sa;
	struct kreq rq = { .kr_op = KREQ_ADD, .kr_seq = KC_SEQ, .kr_sa = &sa };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	size_t i;

	kc_init(&c, AF_INET);
	sa = c.add;
	sa.sa_enc = 99;
	errno = 0;
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EOPNOTSUPP);
	sa = c.ah_tunnel;
	sa.sa_auth = 0;
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	/* The keys would not fit: EMSGSIZE, and no key left behind. */
	sa = c.add;
	memset(buf, 0x5a, sizeof(buf));
	ASSERT_INT_EQ(xfrm_build(&rq, buf, 300), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	for (i = 0; i < 300; i++)
		ASSERT_INT_EQ(buf[i], 0);
	rq.kr_op = KREQ_REGISTER;	/* PF_KEY's, not XFRM's */
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
}

/* An nlmsghdr + payload + attributes message, by hand. */
static size_t
nl_msg(uint8_t *buf, uint16_t type, uint32_t seq, const void *fixed,
    size_t flen, const void *attrs, size_t alen)
{
	struct nlmsghdr h;

	memset(buf, 0, KMSG_MAX);
	memset(&h, 0, sizeof(h));
	h.nlmsg_type = type;
	h.nlmsg_seq = seq;
	h.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + NLMSG_ALIGN(flen) + alen);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + NLMSG_HDRLEN, fixed, flen);
	if (alen != 0)
		memcpy(buf + NLMSG_HDRLEN + NLMSG_ALIGN(flen), attrs, alen);
	return h.nlmsg_len;
}

TEST(parse_ack_and_errors)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct nlmsgerr e;
	struct kin in;
	size_t len;

	memset(&e, 0, sizeof(e));
	len = nl_msg(buf, NLMSG_ERROR, KC_SEQ, &e, sizeof(e), NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_seq, KC_SEQ);
	ASSERT_INT_EQ(in.ki_err, 0);
	e.error = -ESRCH;
	len = nl_msg(buf, NLMSG_ERROR, KC_SEQ, &e, sizeof(e), NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_err, ESRCH);
	e.error = INT_MIN;		/* cannot be negated */
	len = nl_msg(buf, NLMSG_ERROR, KC_SEQ, &e, sizeof(e), NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_err, EPROTO);
	/* Too short for an nlmsgerr: the request fails with EPROTO. */
	len = nl_msg(buf, NLMSG_ERROR, KC_SEQ, &e, 4, NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_err, EPROTO);
	len = nl_msg(buf, NLMSG_DONE, 9, &e, 4, NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_seq, 9);
	ASSERT_INT_EQ(in.ki_err, 0);
	len = nl_msg(buf, XFRM_MSG_NEWPOLICY, 9, &e, 4, NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);
}

static void
check_sa(const struct kink_sa *got, const struct kink_sa *want)
{
	ASSERT_INT_EQ(got->sa_spi, want->sa_spi);
	ASSERT_INT_EQ(got->sa_proto, want->sa_proto);
	ASSERT_INT_EQ(got->sa_mode, want->sa_mode);
	ASSERT_INT_EQ(got->sa_reqid, want->sa_reqid);
	ASSERT_INT_EQ(got->sa_enc, want->sa_enc);
	ASSERT_INT_EQ(got->sa_auth, want->sa_auth);
	ASSERT_INT_EQ(got->sa_life_soft_secs, want->sa_life_soft_secs);
	ASSERT_INT_EQ(got->sa_life_hard_secs, want->sa_life_hard_secs);
	ASSERT_INT_EQ(got->sa_life_soft_bytes, want->sa_life_soft_bytes);
	ASSERT_INT_EQ(got->sa_life_hard_bytes, want->sa_life_hard_bytes);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_src), addr_sa(&want->sa_src)), 1);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_dst), addr_sa(&want->sa_dst)), 1);
	ASSERT_INT_EQ(got->sa_sel_src.sel_plen, want->sa_sel_src.sel_plen);
	ASSERT_INT_EQ(got->sa_sel_dst.sel_port, want->sa_sel_dst.sel_port);
	ASSERT_INT_EQ(got->sa_sel_ulproto, want->sa_sel_ulproto);
	ASSERT_INT_EQ(got->sa_enckey_len, 0);
	ASSERT_INT_EQ(got->sa_authkey_len, 0);
}

/* A golden NEWSA as the kernel's answer (GET, dump entry). */
static size_t
kernel_sa(int fam, const char *kind, uint32_t seq, uint8_t *buf)
{
	size_t len = 0;

	if (golden(fam, kind, buf, &len) == -1)
		return 0;
	((struct nlmsghdr *)buf)->nlmsg_seq = seq;
	((struct nlmsghdr *)buf)->nlmsg_flags = 0;
	return len;
}

TEST(parse_sa_entries)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct kc c;
	struct kin in;
	size_t len;
	int fam;

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_init(&c, fam);
		ASSERT_TRUE((len = kernel_sa(fam, "add", 5, buf)) != 0);
		xfrm_parse(buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_SA);
		ASSERT_INT_EQ(in.ki_seq, 5);
		ASSERT_INT_EQ(in.ki_spi, c.add.sa_spi);
		ASSERT_TRUE(!in.ki_foreign);
		check_sa(&in.ki_sa, &c.add);
		ASSERT_INT_EQ(in.ki_sa.sa_enc_keylen, 128);
		if (test_failed_cur)
			return;
		ASSERT_TRUE((len = kernel_sa(fam, "add-ah-tunnel", 5, buf)) !=
		    0);
		xfrm_parse(buf, len, &in);
		check_sa(&in.ki_sa, &c.ah_tunnel);
		if (test_failed_cur)
			return;
		/* AEAD: the ICV length picks the transform; salt not in
		 * the key length. */
		ASSERT_TRUE((len = kernel_sa(fam, "add-gcm", 5, buf)) != 0);
		xfrm_parse(buf, len, &in);
		check_sa(&in.ki_sa, &c.gcm);
		ASSERT_INT_EQ(in.ki_sa.sa_enc_keylen, 128);
		if (test_failed_cur)
			return;
	}
	/* The IPIP states Linux makes for a tunnel-mode IPComp SA are not
	 * kinkd's (IPComp SAs are: parse_ipcomp_sa). */
	len = kernel_sa(AF_INET, "add", 5, buf);
	buf[NLMSG_HDRLEN + offsetof(struct xfrm_usersa_info, id.proto)] =
	    IPPROTO_IPIP;
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_SA);
	ASSERT_TRUE(in.ki_foreign);
}

TEST(parse_acquire)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN, at[256] KBUF_ALIGN;
	struct xfrm_user_acquire acq;
	struct xfrm_user_tmpl t;
	struct nlattr a;
	struct kc c;
	struct kin in;
	size_t len;

	kc_init(&c, AF_INET6);
	memset(&acq, 0, sizeof(acq));
	memcpy(&acq.id.daddr, &((struct sockaddr_in6 *)&c.b)->sin6_addr, 16);
	memcpy(&acq.saddr, &((struct sockaddr_in6 *)&c.a)->sin6_addr, 16);
	acq.policy.sel.family = AF_INET6;
	memset(&t, 0, sizeof(t));
	t.reqid = 0x12345678;
	t.family = AF_INET6;
	a.nla_len = (uint16_t)(NLA_HDRLEN + sizeof(t));
	a.nla_type = XFRMA_TMPL;
	memcpy(at, &a, sizeof(a));
	memcpy(at + NLA_HDRLEN, &t, sizeof(t));
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, sizeof(acq), at,
	    a.nla_len);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x12345678);
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_src), addr_sa(&c.a)));
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_dst), addr_sa(&c.b)));
	ASSERT_INT_EQ(in.ki_ev.ev_proto, 0);	/* id.proto 0: unsaid */
	/*
	 * The protocol it wants: an optional IPComp template's ACQUIRE is
	 * told apart from ESP's and AH's (same reqid, the policy's).
	 */
	acq.id.proto = IPPROTO_COMP;
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, sizeof(acq), at,
	    a.nla_len);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x12345678);
	acq.id.proto = IPPROTO_ESP;
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, sizeof(acq), at,
	    a.nla_len);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPSEC_ESP);
	acq.id.proto = IPPROTO_AH;
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, sizeof(acq), at,
	    a.nla_len);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPSEC_AH);
	/* No template: reqid 0, addresses still there. */
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, sizeof(acq), NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0);
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_dst), addr_sa(&c.b)));
	/* With a seq it answers someone's request: not an event. */
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 3, &acq, sizeof(acq), NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);
	/* Too short for the struct: nothing. */
	len = nl_msg(buf, XFRM_MSG_ACQUIRE, 0, &acq, 40, NULL, 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);
}

/* EXPIRE: the SA of a golden NEWSA, the hard flag, its attributes. */
static size_t
kernel_expire(int fam, int hard, uint8_t *buf)
{
	uint8_t sa[KMSG_MAX] KBUF_ALIGN;
	struct xfrm_user_expire x;
	size_t len, alen;

	if ((len = kernel_sa(fam, "add", 0, sa)) == 0)
		return 0;
	memset(&x, 0, sizeof(x));
	memcpy(&x.state, sa + NLMSG_HDRLEN, sizeof(x.state));
	x.hard = (uint8_t)hard;
	alen = len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(x.state));
	return nl_msg(buf, XFRM_MSG_EXPIRE, 0, &x, sizeof(x),
	    sa + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(x.state)), alen);
}

TEST(parse_expire_soft_hard)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct kc c;
	struct kin in;
	size_t len;

	kc_init(&c, AF_INET);
	ASSERT_TRUE((len = kernel_expire(AF_INET, 0, buf)) != 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_EXPIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_EXPIRE_SOFT);
	check_sa(&in.ki_ev.ev_sa, &c.add);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x1234);
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_dst), addr_sa(&c.b)));
	ASSERT_TRUE((len = kernel_expire(AF_INET, 1, buf)) != 0);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_EXPIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_EXPIRE_HARD);
	ASSERT_INT_EQ(in.ki_ev.ev_sa.sa_spi, c.add.sa_spi);
}

TEST(next_splits_datagram)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN, two[KMSG_MAX] KBUF_ALIGN;
	struct nlmsgerr e;
	size_t l1, l2;

	memset(&e, 0, sizeof(e));
	l1 = kernel_sa(AF_INET, "add", 5, buf);
	memcpy(two, buf, l1);
	l2 = nl_msg(buf, NLMSG_ERROR, 5, &e, sizeof(e), NULL, 0);
	memcpy(two + NLMSG_ALIGN(l1), buf, l2);
	ASSERT_INT_EQ(xfrm_next(two, NLMSG_ALIGN(l1) + l2), NLMSG_ALIGN(l1));
	ASSERT_INT_EQ(xfrm_next(two + NLMSG_ALIGN(l1), l2), l2);
	ASSERT_INT_EQ(xfrm_next(two, 15), 0);
	ASSERT_INT_EQ(xfrm_next(two, l1 - 1), 0);
	((struct nlmsghdr *)two)->nlmsg_len = 8;	/* below the header */
	ASSERT_INT_EQ(xfrm_next(two, l1), 0);
}

TEST(parse_truncated)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN, *cut;
	struct kin in;
	size_t len, l;

	len = kernel_expire(AF_INET6, 1, buf);
	ASSERT_TRUE(len > 0);
	for (l = 0; l < len; l++) {
		/* Exactly l octets on the heap: ASan sees any overread. */
		ASSERT_TRUE((cut = malloc(l + 1)) != NULL);
		memcpy(cut, buf, l);
		xfrm_parse(cut, l, &in);
		free(cut);
		ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	}
	/* A message that says it is shorter than its struct: nothing. */
	for (l = NLMSG_HDRLEN; l < len; l += 4) {
		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)l;
		xfrm_parse(buf, l, &in);
		ASSERT_INT_EQ(in.ki_kind, l < NLMSG_LENGTH(
		    sizeof(struct xfrm_user_expire)) ? KIN_IGNORE : KIN_EXPIRE);
	}
}

TEST(parse_garbled_attrs)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct nlattr *a;
	struct kin in;
	size_t len, off = NLMSG_HDRLEN +
	    NLMSG_ALIGN(sizeof(struct xfrm_usersa_info));

	/* The first attribute (the cipher) says 0 or too long: attributes
	 * are not read, the SA comes without algorithms. */
	len = kernel_sa(AF_INET, "add", 5, buf);
	a = (struct nlattr *)(buf + off);
	a->nla_len = 0;
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_SA);
	ASSERT_INT_EQ(in.ki_sa.sa_enc, 0);
	ASSERT_INT_EQ(in.ki_sa.sa_auth, 0);
	a->nla_len = (uint16_t)(len - off + 4);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_sa.sa_enc, 0);
	/* Shorter than its struct: that algorithm is not read. */
	len = kernel_sa(AF_INET, "add", 5, buf);
	a->nla_len = NLA_HDRLEN + 8;
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_sa.sa_enc, 0);
	/* An unterminated algorithm name is cut, not overread. */
	len = kernel_sa(AF_INET, "add", 5, buf);
	memset(buf + off + NLA_HDRLEN, 'x', 64);
	xfrm_parse(buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_SA);
	ASSERT_INT_EQ(in.ki_sa.sa_enc, 0);
	ASSERT_INT_EQ(in.ki_sa.sa_auth, AUTH_ALG_HMAC_SHA);
}

static void
pol(struct kink_policy *p, int fam, const char *src, int splen,
    const char *dst, int dplen, uint8_t proto, uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	kc_addr(&p->pol_src.sel_addr, fam, src);
	p->pol_src.sel_plen = (uint8_t)splen;
	kc_addr(&p->pol_dst.sel_addr, fam, dst);
	p->pol_dst.sel_plen = (uint8_t)dplen;
	p->pol_dst.sel_port = dport;
	p->pol_ulproto = proto;
}

/* More specific selectors get lower (winning) kernel priorities. */
TEST(pol_priority)
{
	struct kink_policy host, web, icmp, lan, lanhost, host6, web6;

	pol(&host, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, 0, 0);
	pol(&web, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, IPPROTO_TCP, 443);
	pol(&icmp, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, IPPROTO_ICMP, 0);
	pol(&lan, AF_INET, "10.1.0.0", 16, "10.2.0.0", 16, 0, 0);
	pol(&lanhost, AF_INET, "10.1.0.0", 16, "10.2.3.4", 32, 0, 0);
	pol(&host6, AF_INET6, "fd00::1", 128, "fd00::2", 128, 0, 0);
	pol(&web6, AF_INET6, "fd00::1", 128, "fd00::2", 128, IPPROTO_TCP, 443);
	/* Values: 1024 minus the bits that the selectors fix. */
	ASSERT_INT_EQ(kern_pol_priority(&host), 1024 - 64);
	ASSERT_INT_EQ(kern_pol_priority(&web), 1024 - 64 - 8 - 16);
	ASSERT_INT_EQ(kern_pol_priority(&icmp), 1024 - 64 - 8);
	ASSERT_INT_EQ(kern_pol_priority(&lan), 1024 - 32);
	ASSERT_INT_EQ(kern_pol_priority(&host6), 1024 - 256);
	ASSERT_INT_EQ(kern_pol_priority(&web6), 1024 - 256 - 24);
	if (!(kern_pol_priority(&web) < kern_pol_priority(&icmp) &&
	    kern_pol_priority(&icmp) < kern_pol_priority(&host) &&
	    kern_pol_priority(&lanhost) < kern_pol_priority(&lan) &&
	    kern_pol_priority(&web6) < kern_pol_priority(&host6)))
		test_fail(__FILE__, __LINE__, "a narrower policy does not win");
	/* The most specific of all still leaves room below for an admin's. */
	if (kern_pol_priority(&web6) < KERN_PRIO_BASE - KERN_PRIO_SPAN ||
	    KERN_PRIO_BASE - KERN_PRIO_SPAN <= 0)
		test_fail(__FILE__, __LINE__, "priority below the floor");
}

/* Shadowing: only a policy that takes all of another's traffic at the
 * same or a better priority hides it; a wider one never does. */
TEST(pol_shadows)
{
	struct kink_policy host, host2, web, web80, lan, lan9a, lan9b, lan9c,
	    host6;

	pol(&host, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, 0, 0);
	host2 = host;
	pol(&web, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, IPPROTO_TCP, 443);
	pol(&web80, AF_INET, "192.0.2.1", 32, "192.0.2.2", 32, IPPROTO_TCP,
	    80);
	pol(&lan, AF_INET, "10.0.0.0", 8, "10.0.0.0", 8, 0, 0);
	pol(&lan9a, AF_INET, "10.0.0.0", 9, "10.0.0.0", 9, 0, 0);
	/* Host bits beyond the prefix do not count; bit 9 does. */
	pol(&lan9b, AF_INET, "10.127.0.0", 9, "10.0.0.0", 9, 0, 0);
	pol(&lan9c, AF_INET, "10.128.0.0", 9, "10.0.0.0", 9, 0, 0);
	pol(&host6, AF_INET6, "fd00::1", 128, "fd00::2", 128, 0, 0);
	ASSERT_INT_EQ(kern_pol_shadows(&host, &host2), 1);
	ASSERT_INT_EQ(kern_pol_shadows(&host, &web), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&web, &host), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&web, &web80), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&lan, &lan9a), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&lan9a, &lan9b), 1);
	ASSERT_INT_EQ(kern_pol_shadows(&lan9a, &lan9c), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&host, &host6), 0);
	ASSERT_INT_EQ(kern_pol_shadows(&host6, &host6), 1);
}

int
main(void)
{
	RUN(build_golden_v4);
	RUN(build_golden_v6);
	RUN(build_dirs);
	RUN(build_spd_get);
	RUN(parse_spd_get_answers);
	RUN(build_refuses);
	RUN(parse_ack_and_errors);
	RUN(parse_sa_entries);
	RUN(parse_acquire);
	RUN(parse_expire_soft_hard);
	RUN(next_splits_datagram);
	RUN(parse_truncated);
	RUN(parse_garbled_attrs);
	RUN(pol_priority);
	RUN(pol_shadows);
	return test_done();
}
