/*
 * The PF_KEY codec (src/pfkey_msg.c) without a kernel: every request kind
 * it builds against golden messages (tests/unit/data/kern/pfkey*.hex,
 * byte for byte what the backend sent before the driver/codec split), and
 * the decoder on answers, dump parts, ACQUIRE and EXPIRE, plus truncated
 * and garbled input rejected without reading past the message.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/pfkeyv2.h>
#include <linux/ipsec.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "isakmp_num.h"
#include "kern_golden.h"
#include "pfkey_msg.h"
#include "sadb_kern.h"
#include "test.h"

#define KBUF_ALIGN __attribute__((aligned(8)))

static struct pfkey_state ps = { .ps_pid = KC_PID };

/* The golden message <name>, 8-aligned. */
static int
golden(int fam, const char *kind, uint8_t *buf, size_t *len)
{
	return kg_golden("pfkey", fam, kind, buf, len);
}

static int
build(const struct kreq *rq, uint8_t *buf, size_t max)
{
	return pfkey_build(&ps, rq, buf, max);
}

static void
build_all(int fam)
{
	static const uint8_t dirs[3] = {
	    IPSEC_DIR_OUTBOUND, IPSEC_DIR_INBOUND, IPSEC_DIR_FWD
	};

	kg_build_all("pfkey", fam, 1, dirs, 25, build);
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

	kc_init(&c, AF_INET);
	ASSERT_INT_EQ(pfkey_dirs(&c.transport, d), 2);
	ASSERT_INT_EQ(d[0], IPSEC_DIR_OUTBOUND);
	ASSERT_INT_EQ(d[1], IPSEC_DIR_INBOUND);
	ASSERT_INT_EQ(pfkey_dirs(&c.tunnel, d), 3);
	ASSERT_INT_EQ(d[2], IPSEC_DIR_FWD);
}

TEST(build_refuses)
{
	struct kc c;
	struct kink_sa sa;
	struct kreq rq = { .kr_op = KREQ_ADD, .kr_seq = KC_SEQ, .kr_sa = &sa };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	size_t i;

	kc_init(&c, AF_INET6);
	sa = c.add;
	sa.sa_enc = 99;			/* no PF_KEY number */
	errno = 0;
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EOPNOTSUPP);
	sa = c.add;
	sa.sa_auth = 77;
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EOPNOTSUPP);
	sa = c.ah_tunnel;
	sa.sa_auth = 0;			/* AH needs an algorithm */
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	/* Too small a buffer: EMSGSIZE, and no key left in it. */
	sa = c.add;
	memset(buf, 0x5a, sizeof(buf));
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, 200), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	for (i = 0; i < 200; i++)
		ASSERT_INT_EQ((buf)[i], 0);
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, 8), -1);
	ASSERT_INT_EQ(errno, EMSGSIZE);
	rq.kr_op = 99;
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
}

TEST(kreqid_standins)
{
	static struct pfkey_state s;
	int i;

	memset(&s, 0, sizeof(s));
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0), 0);
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x3fff), 0x3fff);
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x12345678), PFKEY_KREQID_FIRST);
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x4000), PFKEY_KREQID_FIRST + 1);
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x12345678), PFKEY_KREQID_FIRST);
	for (i = 2; i < PFKEY_MAXPOL; i++)
		ASSERT_INT_NE(pfkey_kreqid(&s, 0x10000 + (uint32_t)i), 0);
	/* Table full: no stand-in for a new reqid, old ones still map. */
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x7fffffff), 0);
	ASSERT_INT_EQ(pfkey_kreqid(&s, 0x4000), PFKEY_KREQID_FIRST + 1);
}

/* A golden message turned into what the kernel sends back. */
static size_t
kernel_msg(int fam, const char *kind, uint8_t type, uint32_t pid,
    uint32_t seq, uint8_t *buf)
{
	struct sadb_msg *h = (struct sadb_msg *)buf;
	size_t len = 0;

	if (golden(fam, kind, buf, &len) == -1)
		return 0;
	h->sadb_msg_type = type;
	h->sadb_msg_pid = pid;
	h->sadb_msg_seq = seq;
	return len;
}

/* The extension of a type in a message, or NULL. */
static struct sadb_ext *
find_ext(uint8_t *buf, uint16_t type)
{
	uint8_t *p = buf;
	size_t len = (size_t)((struct sadb_msg *)buf)->sadb_msg_len * 8, off;

	for (off = sizeof(struct sadb_msg); off < len;
	    off += ((struct sadb_ext *)(p + off))->sadb_ext_len * 8)
		if (((struct sadb_ext *)(p + off))->sadb_ext_type == type)
			return (struct sadb_ext *)(p + off);
	return NULL;
}

TEST(parse_getspi_answer)
{
	/* RFC 2367 3.1.1: header, then SA (spi 0x1000abcd) by hand. */
	static const char *hex =
	    "02 01 00 03 04 00 00 00 04 03 02 01 92 10 00 00"
	    "02 00 01 00 10 00 ab cd 00 00 00 00 00 00 00 00";
	uint8_t buf[64] KBUF_ALIGN;
	size_t len;
	struct kin in;

	ASSERT_INT_EQ(test_hex_decode(hex, buf, sizeof(buf), &len),
	    0);
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_SPI);
	ASSERT_INT_EQ(in.ki_seq, KC_SEQ);
	ASSERT_INT_EQ(in.ki_err, 0);
	ASSERT_TRUE(in.ki_have);
	ASSERT_INT_EQ(in.ki_spi, 0x1000abcd);
	/* Without the SA: the driver answers EPROTO. */
	((struct sadb_msg *)buf)->sadb_msg_len = 2;
	pfkey_parse(&ps, buf, 16, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_SPI);
	ASSERT_TRUE(!in.ki_have);
}

TEST(parse_errno_answer)
{
	/* UPDATE refused with ESRCH (3): the larval SA expired. */
	static const char *hex =
	    "02 02 03 03 02 00 00 00 04 03 02 01 92 10 00 00";
	uint8_t buf[16] KBUF_ALIGN;
	size_t len;
	struct kin in;

	ASSERT_INT_EQ(test_hex_decode(hex, buf, sizeof(buf), &len),
	    0);
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_err, ESRCH);
	ASSERT_INT_EQ(in.ki_seq, KC_SEQ);
	/* Someone else's answer (another pid) is not ours. */
	((struct sadb_msg *)buf)->sadb_msg_pid = KC_PID + 1;
	pfkey_parse(&ps, buf, len, &in);
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
	ASSERT_INT_EQ(got->sa_enc_keylen, want->sa_enckey_len * 8);
	ASSERT_INT_EQ(got->sa_life_soft_secs, want->sa_life_soft_secs);
	ASSERT_INT_EQ(got->sa_life_hard_secs, want->sa_life_hard_secs);
	ASSERT_INT_EQ(got->sa_life_soft_bytes, want->sa_life_soft_bytes);
	ASSERT_INT_EQ(got->sa_life_hard_bytes, want->sa_life_hard_bytes);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_src), addr_sa(&want->sa_src)), 1);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_dst), addr_sa(&want->sa_dst)), 1);
	ASSERT_INT_EQ(got->sa_enckey_len, 0);
	ASSERT_INT_EQ(got->sa_authkey_len, 0);
}

TEST(parse_get_and_dump)
{
	static struct pfkey_state s = { .ps_pid = KC_PID };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct kc c;
	struct kin in;
	size_t len;
	int fam;

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_init(&c, fam);
		ASSERT_TRUE((len = kernel_msg(fam, "add", SADB_GET, KC_PID,
		    KC_SEQ, buf)) != 0);
		pfkey_parse(&s, buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_GET);
		ASSERT_TRUE(in.ki_have);
		check_sa(&in.ki_sa, &c.add);
		if (test_failed_cur)
			return;
		/* Dump parts number themselves; the last is 0. */
		ASSERT_TRUE((len = kernel_msg(fam, "add", SADB_DUMP, KC_PID, 7,
		    buf)) != 0);
		pfkey_parse(&s, buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_DUMP);
		ASSERT_TRUE(in.ki_have && !in.ki_last);
		check_sa(&in.ki_sa, &c.add);
		if (test_failed_cur)
			return;
		((struct sadb_msg *)buf)->sadb_msg_seq = 0;
		pfkey_parse(&s, buf, len, &in);
		ASSERT_TRUE(in.ki_kind == KIN_DUMP && in.ki_last);
		/* The stand-in reqid maps back to kinkd's. */
		ASSERT_INT_EQ(pfkey_kreqid(&s, 0x12345678), KC_STANDIN);
		ASSERT_TRUE((len = kernel_msg(fam, "add-ah-tunnel", SADB_DUMP,
		    KC_PID, 1, buf)) != 0);
		pfkey_parse(&s, buf, len, &in);
		ASSERT_TRUE(in.ki_have);
		ASSERT_INT_EQ(in.ki_sa.sa_reqid, 0x12345678);
		ASSERT_INT_EQ(in.ki_sa.sa_mode, ENCAP_MODE_TUNNEL);
		ASSERT_INT_EQ(in.ki_sa.sa_proto, PROTO_IPSEC_AH);
		ASSERT_INT_EQ(in.ki_sa.sa_auth, AUTH_ALG_HMAC_SHA2_256);
		ASSERT_INT_EQ(in.ki_sa.sa_enc, 0);
	}
	/* An empty dump is an ENOENT answer. */
	len = kernel_msg(AF_INET, "dump", SADB_DUMP, KC_PID, KC_SEQ, buf);
	((struct sadb_msg *)buf)->sadb_msg_errno = ENOENT;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DUMP);
	ASSERT_INT_EQ(in.ki_err, ENOENT);
	ASSERT_TRUE(!in.ki_have);
}

TEST(parse_spd_answer_and_acquire)
{
	static struct pfkey_state s = { .ps_pid = KC_PID };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct sadb_x_policy *xp;
	struct kc c;
	struct kin in;
	size_t len;

	kc_init(&c, AF_INET);
	/* The kernel's SPDUPDATE echo carries the policy's id. */
	len = kernel_msg(AF_INET, "spdadd-transport-out", SADB_X_SPDUPDATE,
	    KC_PID, KC_SEQ, buf);
	ASSERT_TRUE((xp = (void *)find_ext(buf, SADB_X_EXT_POLICY)) != NULL);
	xp->sadb_x_policy_id = 0x42;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DONE);
	ASSERT_INT_EQ(in.ki_err, 0);
	ASSERT_TRUE(in.ki_polid_set);
	ASSERT_INT_EQ(in.ki_polid, 0x42);
	/* Inbound entries are not remembered (ACQUIREs are outbound). */
	xp->sadb_x_policy_dir = IPSEC_DIR_INBOUND;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_TRUE(in.ki_kind == KIN_DONE && !in.ki_polid_set);
	/* ACQUIRE: pid 0, the policy id leads back to the reqid. */
	xp->sadb_x_policy_dir = IPSEC_DIR_OUTBOUND;
	pfkey_pol_remember(&s, 0x42, 0x12345678);
	((struct sadb_msg *)buf)->sadb_msg_type = SADB_ACQUIRE;
	((struct sadb_msg *)buf)->sadb_msg_pid = 0;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x12345678);
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_src), addr_sa(&c.a)));
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_dst), addr_sa(&c.b)));
	ASSERT_INT_EQ(in.ki_ev.ev_proto, 0);	/* satype UNSPEC: unsaid */
	/* The satype names the protocol: IPComp's optional request too. */
	((struct sadb_msg *)buf)->sadb_msg_satype = SADB_X_SATYPE_IPCOMP;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_ACQUIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x12345678);
	((struct sadb_msg *)buf)->sadb_msg_satype = SADB_SATYPE_ESP;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPSEC_ESP);
	((struct sadb_msg *)buf)->sadb_msg_satype = SADB_SATYPE_AH;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_ev.ev_proto, PROTO_IPSEC_AH);
	/* An unknown policy: reqid 0; no addresses: nothing to report. */
	xp->sadb_x_policy_id = 0x43;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0);
	find_ext(buf, SADB_EXT_ADDRESS_DST)->sadb_ext_type = 99;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);
}

static void
check_sel(const struct kink_selector *got, const struct kink_selector *want)
{
	ASSERT_TRUE(addr_eq(addr_sa(&got->sel_addr), addr_sa(&want->sel_addr)));
	ASSERT_INT_EQ(got->sel_plen, want->sel_plen);
	ASSERT_INT_EQ(got->sel_port, want->sel_port);
}

/* SPDDUMP parts: each entry's direction and selector as the kernel has
 * it (the SPDADD golden messages stand for the kernel's entries). */
TEST(parse_spd_dump)
{
	static struct pfkey_state s = { .ps_pid = KC_PID };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct sadb_x_policy *xp;
	struct kc c;
	struct kin in;
	size_t len;
	int fam;

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_init(&c, fam);
		ASSERT_TRUE((len = kernel_msg(fam, "spdadd-transport-in",
		    SADB_X_SPDDUMP, KC_PID, 3, buf)) != 0);
		pfkey_parse(&s, buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_DUMP);
		ASSERT_TRUE(in.ki_spd && in.ki_have && !in.ki_last);
		ASSERT_INT_EQ(in.ki_spd_dir, IPSEC_DIR_INBOUND);
		ASSERT_TRUE(in.ki_spd_ipsec);
		ASSERT_INT_EQ(in.ki_spd_ulproto, c.transport.pol_ulproto);
		/* Inbound: from the policy's destination to its source. */
		check_sel(&in.ki_spd_src, &c.transport.pol_dst);
		check_sel(&in.ki_spd_dst, &c.transport.pol_src);
		ASSERT_TRUE((len = kernel_msg(fam, "spdadd-tunnel-out",
		    SADB_X_SPDDUMP, KC_PID, 0, buf)) != 0);
		pfkey_parse(&s, buf, len, &in);
		ASSERT_TRUE(in.ki_kind == KIN_DUMP && in.ki_have && in.ki_last);
		ASSERT_INT_EQ(in.ki_spd_dir, IPSEC_DIR_OUTBOUND);
		check_sel(&in.ki_spd_src, &c.tunnel.pol_src);
		check_sel(&in.ki_spd_dst, &c.tunnel.pol_dst);
		/* A bypass entry is told apart from kinkd's IPSEC ones. */
		xp = (void *)find_ext(buf, SADB_X_EXT_POLICY);
		ASSERT_TRUE(xp != NULL);
		xp->sadb_x_policy_type = IPSEC_POLICY_NONE;
		pfkey_parse(&s, buf, len, &in);
		ASSERT_TRUE(in.ki_have && !in.ki_spd_ipsec);
		/* No policy extension: a part, but nothing to compare. */
		find_ext(buf, SADB_X_EXT_POLICY)->sadb_ext_type = 99;
		pfkey_parse(&s, buf, len, &in);
		ASSERT_TRUE(in.ki_kind == KIN_DUMP && in.ki_spd && !in.ki_have);
	}
	/* An empty SPD: the kernel answers the request with ENOENT. */
	len = kernel_msg(AF_INET, "spddump", SADB_X_SPDDUMP, KC_PID, KC_SEQ,
	    buf);
	((struct sadb_msg *)buf)->sadb_msg_errno = ENOENT;
	pfkey_parse(&s, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_DUMP);
	ASSERT_INT_EQ(in.ki_seq, KC_SEQ);
	ASSERT_INT_EQ(in.ki_err, ENOENT);
	ASSERT_TRUE(!in.ki_have);
}

TEST(parse_expire_soft_hard)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct kc c;
	struct kin in;
	size_t len;

	kc_init(&c, AF_INET6);
	/* Hard: the LIFETIME_HARD extension is there. */
	len = kernel_msg(AF_INET6, "add", SADB_EXPIRE, 0, 0, buf);
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_EXPIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_EXPIRE_HARD);
	ASSERT_INT_EQ(in.ki_ev.ev_sa.sa_spi, c.add.sa_spi);
	ASSERT_INT_EQ(in.ki_ev.ev_reqid, 0x1234);
	ASSERT_TRUE(addr_eq(addr_sa(&in.ki_ev.ev_dst), addr_sa(&c.b)));
	ASSERT_INT_EQ(in.ki_ev.ev_sa.sa_enckey_len, 0);
	/* Soft: CURRENT and SOFT only (CURRENT is not the SA's usage). */
	find_ext(buf, SADB_EXT_LIFETIME_HARD)->sadb_ext_type =
	    SADB_EXT_LIFETIME_CURRENT;
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_EXPIRE);
	ASSERT_INT_EQ(in.ki_ev.ev_type, SADB_EV_EXPIRE_SOFT);
	ASSERT_INT_EQ(in.ki_ev.ev_sa.sa_life_soft_secs, 100);
	ASSERT_INT_EQ(in.ki_ev.ev_sa.sa_cur_bytes, 0);
	/* From a process (pid != 0) it is not the kernel's. */
	((struct sadb_msg *)buf)->sadb_msg_pid = 77;
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_IGNORE);
}

TEST(parse_truncated)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN, *cut;
	struct kin in;
	size_t len, l;

	len = kernel_msg(AF_INET6, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	ASSERT_TRUE(len > 0);
	for (l = 0; l < len; l++) {
		/* Exactly l octets on the heap: ASan sees any overread. */
		ASSERT_TRUE((cut = malloc(l + 1)) != NULL);
		memcpy(cut, buf, l);
		pfkey_parse(&ps, cut, l, &in);
		free(cut);
		ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	}
}

TEST(parse_garbled)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct sadb_msg *h = (struct sadb_msg *)buf;
	struct kin in;
	size_t len;

	len = kernel_msg(AF_INET, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	h->sadb_msg_version = 3;
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	h->sadb_msg_version = PF_KEY_V2;
	h->sadb_msg_len++;		/* says more than arrived */
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	h->sadb_msg_len--;
	find_ext(buf, SADB_EXT_SA)->sadb_ext_len = 1;	/* shorter than sadb_sa */
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	len = kernel_msg(AF_INET, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	find_ext(buf, SADB_X_EXT_SA2)->sadb_ext_len = 0;	/* no progress */
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	len = kernel_msg(AF_INET, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	find_ext(buf, SADB_X_EXT_SA2)->sadb_ext_len = 9;	/* past the end */
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_BAD);
	/* An address of an unknown family: no SA (the driver: EPROTO). */
	len = kernel_msg(AF_INET, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	((uint8_t *)find_ext(buf, SADB_EXT_ADDRESS_SRC))[8] = 99;
	pfkey_parse(&ps, buf, len, &in);
	ASSERT_INT_EQ(in.ki_kind, KIN_GET);
	ASSERT_TRUE(!in.ki_have);
}

/* The table index of an encryption / integrity algorithm (DOI value). */
static int
enc_idx(uint8_t doi)
{
	for (int i = 0; sadb_alg_enc_at(i) != NULL; i++)
		if (sadb_alg_enc_at(i)->al_doi == doi)
			return i;
	return -1;
}

static int
auth_idx(uint16_t doi)
{
	for (int i = 0; sadb_alg_auth_at(i) != NULL; i++)
		if (sadb_alg_auth_at(i)->al_doi == doi)
			return i;
	return -1;
}

/* SADB_REGISTER's supported lists onto the algorithm table (golden). */
TEST(caps_register_answer)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct sadb_caps c;
	struct kink_xform x;
	char why[160], names[256];
	size_t len;

	ASSERT_INT_EQ(golden(AF_INET, "register-answer", buf, &len), 0);
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(pfkey_caps_parse(buf, len, &c), 1);
	ASSERT_TRUE(c.kc_known);
	ASSERT_STR_EQ(c.kc_source, "SADB_REGISTER");
	ASSERT_TRUE(c.kc_enc[enc_idx(ESP_AES_CBC)]);
	ASSERT_INT_EQ(c.kc_enc_min[enc_idx(ESP_AES_CBC)], 128);
	ASSERT_INT_EQ(c.kc_enc_max[enc_idx(ESP_AES_CBC)], 256);
	ASSERT_TRUE(c.kc_enc[enc_idx(ESP_AES_CTR)]);
	ASSERT_TRUE(c.kc_enc[enc_idx(ESP_NULL)]);
	ASSERT_TRUE(!c.kc_enc[enc_idx(ESP_3DES)]);
	/* PF_KEY never lists AEAD; GCM stays refused. */
	ASSERT_TRUE(!c.kc_enc[enc_idx(ESP_AES_GCM_16)]);
	ASSERT_TRUE(c.kc_auth[auth_idx(AUTH_ALG_HMAC_SHA)]);
	ASSERT_TRUE(c.kc_auth[auth_idx(AUTH_ALG_HMAC_SHA2_512)]);
	ASSERT_TRUE(c.kc_auth[auth_idx(AUTH_ALG_AES_XCBC_MAC)]);
	sadb_caps_names(&c, 1, names, sizeof(names));
	ASSERT_STR_EQ(names, "cbc(des) ecb(cipher_null) cbc(aes) "
	    "rfc3686(ctr(aes))");
	sadb_caps_names(&c, 0, names, sizeof(names));
	ASSERT_STR_EQ(names, "hmac(md5) hmac(sha1) hmac(sha256) hmac(sha384) "
	    "hmac(sha512) xcbc(aes)");
	/* Transforms against it: allowed, missing cipher, key too long. */
	memset(&x, 0, sizeof(x));
	x.x_present = 1;
	x.x_id = ESP_AES_CBC;
	x.x_keylen = 256;
	x.x_auth = AUTH_ALG_HMAC_SHA2_256;
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_ESP, &x, why, sizeof(why)),
	    1);
	x.x_keylen = 512;
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_ESP, &x, why, sizeof(why)),
	    0);
	ASSERT_STR_EQ(why, "the kernel's cbc(aes) takes 128..256-bit keys, "
	    "not 512 (SADB_REGISTER)");
	x.x_id = ESP_3DES;
	x.x_keylen = 0;
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_ESP, &x, why, sizeof(why)),
	    0);
	ASSERT_STR_EQ(why, "the kernel has no cbc(des3_ede) (SADB_REGISTER)");
	/* Nothing known: nothing refused. */
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_ESP, &x, why, sizeof(why)),
	    1);
}

/* Other messages are not REGISTER answers; broken ones are refused. */
TEST(caps_register_bad)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN, *cut;
	struct sadb_msg *h = (struct sadb_msg *)buf;
	struct sadb_caps c;
	size_t len, l;

	memset(&c, 0, sizeof(c));
	len = kernel_msg(AF_INET, "add", SADB_GET, KC_PID, KC_SEQ, buf);
	ASSERT_INT_EQ(pfkey_caps_parse(buf, len, &c), 0);
	/* Our own REGISTER request: no supported list. */
	ASSERT_INT_EQ(golden(AF_INET, "register-esp", buf, &len), 0);
	ASSERT_INT_EQ(pfkey_caps_parse(buf, len, &c), -1);
	ASSERT_INT_EQ(golden(AF_INET, "register-answer", buf, &len), 0);
	for (l = 0; l < len; l++) {
		ASSERT_TRUE((cut = malloc(l + 1)) != NULL);
		memcpy(cut, buf, l);
		ASSERT_TRUE(pfkey_caps_parse(cut, l, &c) != 1);
		free(cut);
	}
	h->sadb_msg_errno = EINVAL;
	ASSERT_INT_EQ(pfkey_caps_parse(buf, len, &c), -1);
	h->sadb_msg_errno = 0;
	buf[16] = 0;	/* an extension of no length: no progress */
	ASSERT_INT_EQ(pfkey_caps_parse(buf, len, &c), -1);
	ASSERT_TRUE(!c.kc_known);
}

int
main(void)
{
	RUN(build_golden_v4);
	RUN(build_golden_v6);
	RUN(build_dirs);
	RUN(build_refuses);
	RUN(kreqid_standins);
	RUN(parse_getspi_answer);
	RUN(parse_errno_answer);
	RUN(parse_get_and_dump);
	RUN(parse_spd_answer_and_acquire);
	RUN(parse_spd_dump);
	RUN(parse_expire_soft_hard);
	RUN(parse_truncated);
	RUN(parse_garbled);
	RUN(caps_register_answer);
	RUN(caps_register_bad);
	return test_done();
}
