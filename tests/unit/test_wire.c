/*
 * KINK wire codec: golden messages from RFC 4430's figures, round trips,
 * one case per malformed class, the checksum-input helper, a deterministic
 * mutation loop and the name tables.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kink.h"
#include "buf.h"
#include "wire.h"
#include "test.h"
#include "wire_rebuild.h"

#define MAXMSG	(KINK_MAX_MSG + 64)

static const char *const goldens[] = {
	"create.hex", "delete.hex", "reply.hex", "reply_error.hex",
	"gettgt.hex", "reply_tgt.hex", "ack.hex", "status.hex",
};
#define NGOLDEN	(sizeof(goldens) / sizeof(goldens[0]))

static uint8_t gbuf[MAXMSG];
static size_t glen;

static int
load(const char *name)
{
	return test_hex_file(name, gbuf, sizeof(gbuf), &glen);
}

/* A view must lie inside [p, p + len). */
static int
inside(struct rbuf r, const uint8_t *p, size_t len)
{
	if (r.rb_len == 0)
		return 1;
	return r.rb_p >= p && r.rb_p <= p + len && r.rb_len <= len &&
	    (size_t)(r.rb_p - p) + r.rb_len <= len;
}


/* Parse a golden file, rebuild it, compare octet for octet. */
static int
golden_roundtrip(const char *name, struct kink_msg *m)
{
	struct buf out;
	int r;

	if (load(name) != 0) {
		test_fail(__FILE__, __LINE__, "cannot read %s", name);
		return -1;
	}
	if ((r = wire_parse(m, gbuf, glen)) != 0 ||
	    (r = wire_check_type(m)) != 0) {
		test_fail(__FILE__, __LINE__, "%s: %s", name, wire_strerror(r));
		return -1;
	}
	buf_init(&out, 0);
	if ((r = wire_test_rebuild(m, &out)) != 0) {
		test_fail(__FILE__, __LINE__, "%s: rebuild: %s", name,
		    wire_strerror(r));
		buf_free(&out);
		return -1;
	}
	if (out.b_len != glen || memcmp(out.b_data, gbuf, glen) != 0) {
		test_hexdump("golden ", gbuf, glen);
		test_hexdump("rebuilt", out.b_data, out.b_len);
		test_fail(__FILE__, __LINE__, "%s: rebuilt message differs",
		    name);
		buf_free(&out);
		return -1;
	}
	buf_free(&out);
	return 0;
}

static const uint8_t apreq_der[] = {
	0x6e, 0x12, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
	0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41
};

TEST(golden_create)
{
	struct kink_msg m;

	if (golden_roundtrip("create.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_CREATE);
	ASSERT_INT_EQ(m.m_mjver, 1);
	ASSERT_INT_EQ(m.m_length, 100);
	ASSERT_INT_EQ(m.m_doi, KINK_DOI_IPSEC);
	ASSERT_INT_EQ(m.m_xid, 0x1a2b3c4d);
	ASSERT_INT_EQ(m.m_next, KINK_AP_REQ);
	ASSERT_INT_EQ(wire_ackreq(&m), 0);
	ASSERT_INT_EQ(m.m_cksumlen, 12);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_AP_REQ) | (1U << KINK_ENCRYPT));
	ASSERT_INT_EQ(m.m_npayloads, 2);
	ASSERT_INT_EQ(m.m_ap_req_epoch, 0x7fffffff);
	ASSERT_INT_EQ(m.m_ap_req.rb_len, sizeof(apreq_der));
	ASSERT_MEM_EQ(m.m_ap_req.rb_p, apreq_der, sizeof(apreq_der));
	ASSERT_TRUE(m.m_ap_req.rb_p == gbuf + 24);	/* a view, not a copy */
	ASSERT_INT_EQ(m.m_encrypt.rb_len, 37);
	ASSERT_TRUE(m.m_encrypt.rb_p == gbuf + 48);
	ASSERT_INT_EQ(m.m_encrypt.rb_p[0], 0xc0);
	ASSERT_INT_EQ(m.m_covered.rb_len, 88);
	ASSERT_INT_EQ(m.m_cksum.rb_len, 12);
	ASSERT_TRUE(m.m_cksum.rb_p == gbuf + 88);
	ASSERT_INT_EQ(m.m_cksum.rb_p[0], 0xa0);
	ASSERT_INT_EQ(m.m_excess, 0);
	ASSERT_INT_EQ(m.m_decrypted, 0);
}

TEST(golden_create_inner)
{
	static const uint8_t qm[] = {
		0x0a, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x11, 0x22, 0x33, 0x44
	};
	uint8_t plain[256];
	size_t plen;
	struct kink_msg m;
	struct kink_builder kb;
	struct buf out;
	struct rbuf pv;

	ASSERT_INT_EQ(test_hex_file("create_inner.hex", plain, sizeof(plain),
	    &plen), 0);
	ASSERT_INT_EQ(load("create.hex"), 0);
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(m.m_nisakmp, 0);
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), 0);
	ASSERT_INT_EQ(m.m_decrypted, 1);
	ASSERT_INT_EQ(m.m_nisakmp, 1);
	ASSERT_INT_EQ(m.m_inner, 1U << KINK_ISAKMP);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_encrypted, 1);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_inner_next, 1);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_qmver, KINK_QMVERSION);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_body.rb_len, sizeof(qm));
	ASSERT_MEM_EQ(m.m_isakmp[0].ip_body.rb_p, qm, sizeof(qm));
	ASSERT_TRUE(m.m_isakmp[0].ip_body.rb_p == plain + 12);
	/* Decrypted once: a second time is the caller's mistake. */
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen),
	    KINK_WE_NOT_ENCRYPTED);

	/* The builder hands out exactly this plaintext to encrypt. */
	buf_init(&out, 0);
	wire_build_begin(&kb, &out, KINK_MSGTYPE_CREATE, KINK_DOI_IPSEC,
	    0x1a2b3c4d, 0);
	wire_build_ap_req(&kb, 0x7fffffff, apreq_der, sizeof(apreq_der));
	wire_build_encrypt_begin(&kb);
	wire_build_isakmp(&kb, 1, KINK_QMVERSION, qm, sizeof(qm));
	ASSERT_INT_EQ(wire_build_encrypt_plain(&kb, &pv), 0);
	ASSERT_INT_EQ(pv.rb_len, plen);
	ASSERT_MEM_EQ(pv.rb_p, plain, plen);
	/* And with the golden ciphertext and Cksum, the golden message. */
	ASSERT_INT_EQ(wire_build_encrypt_end(&kb, m.m_encrypt.rb_p,
	    m.m_encrypt.rb_len), 0);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(wire_build_cksum(&kb, m.m_cksum.rb_p, 12), 0);
	ASSERT_INT_EQ(out.b_len, glen);
	ASSERT_MEM_EQ(out.b_data, gbuf, glen);
	buf_free(&out);
}

TEST(golden_delete)
{
	struct kink_msg m;

	if (golden_roundtrip("delete.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_DELETE);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_AP_REQ) | (1U << KINK_ISAKMP));
	ASSERT_INT_EQ(m.m_nisakmp, 1);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_inner_next, 12);	/* ISAKMP Delete */
	ASSERT_INT_EQ(m.m_isakmp[0].ip_encrypted, 0);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_body.rb_len, 16);
	ASSERT_INT_EQ(m.m_cksumlen, 12);
}

TEST(golden_reply)
{
	struct kink_msg m;

	if (golden_roundtrip("reply.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_REPLY);
	ASSERT_INT_EQ(wire_ackreq(&m), 1);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_AP_REP) | (1U << KINK_ISAKMP));
	ASSERT_INT_EQ(m.m_ap_rep_epoch, 0x65a1b2c3);
	ASSERT_INT_EQ(m.m_ap_rep.rb_len, 15);
	ASSERT_INT_EQ(m.m_ap_rep.rb_p[0], 0x6f);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_body.rb_len, 20);
}

TEST(golden_reply_error)
{
	struct kink_msg m;

	if (golden_roundtrip("reply_error.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_REPLY);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_KRB_ERROR) | (1U << KINK_ERROR));
	ASSERT_INT_EQ(m.m_error, KINK_PROTOERR);
	ASSERT_INT_EQ(m.m_krb_error.rb_len, 13);
	ASSERT_INT_EQ(m.m_krb_error.rb_p[0], 0x7e);
	ASSERT_INT_EQ(m.m_cksumlen, 0);
	ASSERT_INT_EQ(m.m_cksum.rb_len, 0);
	ASSERT_INT_EQ(m.m_covered.rb_len, m.m_length);
}

TEST(golden_gettgt)
{
	static const char princ[] = "kink/beta.example.org@EXAMPLE.ORG";
	struct kink_msg m;

	if (golden_roundtrip("gettgt.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_GETTGT);
	ASSERT_INT_EQ(m.m_present, 1U << KINK_TGT_REQ);
	ASSERT_INT_EQ(m.m_tgt_req.rb_len, strlen(princ));
	ASSERT_MEM_EQ(m.m_tgt_req.rb_p, princ, strlen(princ));
	ASSERT_INT_EQ(m.m_length, 56);	/* 16 + 37 + 3 padding */
}

TEST(golden_reply_tgt)
{
	struct kink_msg m;

	if (golden_roundtrip("reply_tgt.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_present, 1U << KINK_TGT_REP);
	ASSERT_INT_EQ(m.m_tgt_rep.rb_len, 25);
	ASSERT_INT_EQ(m.m_tgt_rep.rb_p[0], 0x61);
}

TEST(golden_ack)
{
	struct kink_msg m;

	if (golden_roundtrip("ack.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_ACK);
	ASSERT_INT_EQ(m.m_present, 1U << KINK_AP_REQ);
	ASSERT_INT_EQ(m.m_npayloads, 1);
	ASSERT_INT_EQ(m.m_length, 16 + 28 + 12);
}

TEST(golden_status)
{
	struct kink_msg m;

	if (golden_roundtrip("status.hex", &m) != 0)
		return;
	ASSERT_INT_EQ(m.m_type, KINK_MSGTYPE_STATUS);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_AP_REQ) | (1U << KINK_ISAKMP));
	ASSERT_INT_EQ(m.m_isakmp[0].ip_inner_next, 11);	/* ISAKMP Notify */
	ASSERT_INT_EQ(m.m_cksumlen, 20);
}

/* §4 Cksum, notes b.2, computed by hand for create.hex. */
TEST(cksum_input_create)
{
	static const uint8_t hdr[16] = {
		0x01, 0x10, 0x00, 0x58,		/* Length = 88 = 100 - 12 */
		0x00, 0x00, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d,
		0x01, 0x00, 0x00, 0x00		/* CksumLen = 0 */
	};
	uint8_t out[MAXMSG];
	size_t olen = 0;
	struct kink_msg m;
	struct kink_builder kb;
	struct buf b;
	struct rbuf cov;

	ASSERT_INT_EQ(load("create.hex"), 0);
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(wire_cksum_input(&m, out, sizeof(out), &olen), 0);
	ASSERT_INT_EQ(olen, 88);
	ASSERT_MEM_EQ(out, hdr, 16);
	ASSERT_MEM_EQ(out + 16, gbuf + 16, 88 - 16);	/* incl. ENCRYPT pad */
	/* The received header is left as it was. */
	ASSERT_INT_EQ(gbuf[3], 100);
	ASSERT_INT_EQ(gbuf[15], 12);
	ASSERT_INT_EQ(wire_cksum_input(&m, out, 87, &olen), KINK_WE_NOSPACE);

	/* The builder's covered view is the same octets, in place. */
	buf_init(&b, 0);
	ASSERT_INT_EQ(wire_test_rebuild(&m, &b), 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 0x1a2b3c4d, 0);
	wire_build_ap_req(&kb, 0x7fffffff, apreq_der, sizeof(apreq_der));
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &cov);
	wire_build_encrypt_end(&kb, m.m_encrypt.rb_p, m.m_encrypt.rb_len);
	ASSERT_INT_EQ(wire_build_finish(&kb, &cov), 0);
	ASSERT_INT_EQ(cov.rb_len, 88);
	ASSERT_MEM_EQ(cov.rb_p, out, 88);
	buf_free(&b);
}

TEST(cksum_input_unauthenticated)
{
	uint8_t out[MAXMSG];
	size_t olen = 0;
	struct kink_msg m;

	ASSERT_INT_EQ(load("gettgt.hex"), 0);
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(wire_cksum_input(&m, out, sizeof(out), &olen), 0);
	ASSERT_INT_EQ(olen, glen);
	ASSERT_MEM_EQ(out, gbuf, glen);
	memset(&m, 0, sizeof(m));
	ASSERT_INT_EQ(wire_cksum_input(&m, out, sizeof(out), &olen),
	    KINK_WE_ARG);
}

/* Round trips: builder -> parser for every message and payload type. */

static uint8_t big[KINK_MAX_MSG];

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

TEST(roundtrip_every_type_and_size)
{
	static const uint8_t types[] = {
		KINK_MSGTYPE_CREATE, KINK_MSGTYPE_DELETE, KINK_MSGTYPE_REPLY,
		KINK_MSGTYPE_GETTGT, KINK_MSGTYPE_ACK, KINK_MSGTYPE_STATUS
	};
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 255, 1000 };
	uint8_t d[1024];
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	struct rbuf cov;
	size_t ti, si;
	uint8_t ck[20];

	fill(d, sizeof(d), 3);
	fill(ck, sizeof(ck), 9);
	buf_init(&b, 0);
	for (ti = 0; ti < sizeof(types); ti++)
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		uint8_t flags = types[ti] == KINK_MSGTYPE_REPLY ? KINK_ACKREQ : 0;

		wire_build_begin(&kb, &b, types[ti], KINK_DOI_IPSEC,
		    0xfedcba98 + (uint32_t)n, flags);
		wire_build_ap_req(&kb, 1, d, n);
		wire_build_ap_rep(&kb, 0xffffffff, d + 1, n);
		wire_build_tgt_req(&kb, d + 2, n);
		wire_build_tgt_rep(&kb, d + 3, n);
		wire_build_krb_error(&kb, d + 4, n);
		wire_build_error(&kb, (uint32_t)n * 0x01010101);
		wire_build_isakmp(&kb, 1, KINK_QMVERSION, d + 5, n);
		wire_build_isakmp(&kb, 12, KINK_QMVERSION, d + 6, n + 1);
		wire_build_encrypt_begin(&kb);
		wire_build_encrypt_plain(&kb, &cov);
		wire_build_encrypt_end(&kb, d + 7, n);
		ASSERT_INT_EQ(wire_build_finish(&kb, &cov), 0);
		ASSERT_INT_EQ(cov.rb_len % 4, 0);
		ASSERT_INT_EQ(wire_build_cksum(&kb, ck, 1 + n % 20), 0);
		ASSERT_INT_EQ(b.b_len, cov.rb_len + 1 + n % 20);

		ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
		ASSERT_INT_EQ(m.m_type, types[ti]);
		ASSERT_INT_EQ(m.m_xid, 0xfedcba98 + (uint32_t)n);
		ASSERT_INT_EQ(wire_ackreq(&m), flags != 0);
		ASSERT_INT_EQ(m.m_length, b.b_len);
		ASSERT_INT_EQ(m.m_npayloads, 9);
		ASSERT_INT_EQ(m.m_ap_req_epoch, 1);
		ASSERT_INT_EQ(m.m_ap_rep_epoch, 0xffffffff);
		ASSERT_TRUE(rbuf_eq(&m.m_ap_req, d, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_ap_rep, d + 1, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_tgt_req, d + 2, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_tgt_rep, d + 3, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_krb_error, d + 4, n) == 1);
		ASSERT_INT_EQ(m.m_error, (uint32_t)n * 0x01010101);
		ASSERT_INT_EQ(m.m_nisakmp, 2);
		ASSERT_INT_EQ(m.m_isakmp[1].ip_inner_next, 12);
		ASSERT_TRUE(rbuf_eq(&m.m_isakmp[0].ip_body, d + 5, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_isakmp[1].ip_body, d + 6, n + 1) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_encrypt, d + 7, n) == 1);
		ASSERT_TRUE(rbuf_eq(&m.m_cksum, ck, 1 + n % 20) == 1);
	}
	buf_free(&b);
}

/* Smallest message: header only, no payloads, no Cksum. */
TEST(roundtrip_minimal)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;

	buf_init(&b, 0);
	ASSERT_INT_EQ(wire_build_begin(&kb, &b, KINK_MSGTYPE_STATUS, 1, 0, 0),
	    0);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(b.b_len, KINK_HDR_LEN);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	ASSERT_INT_EQ(m.m_present, 0);
	ASSERT_INT_EQ(m.m_length, 16);
	buf_free(&b);
}

/* Largest message: exactly KINK_MAX_MSG octets; one more is refused. */
TEST(roundtrip_maximal)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	size_t n = KINK_MAX_MSG - KINK_HDR_LEN - KINK_AP_HDR_LEN - 12;
	uint8_t ck[12] = { 1 };

	fill(big, sizeof(big), 1);
	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 7, 0);
	wire_build_ap_req(&kb, 5, big, n);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(wire_build_cksum(&kb, ck, sizeof(ck)), 0);
	ASSERT_INT_EQ(b.b_len, KINK_MAX_MSG);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	ASSERT_INT_EQ(m.m_length, KINK_MAX_MSG);
	ASSERT_TRUE(rbuf_eq(&m.m_ap_req, big, n) == 1);

	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 7, 0);
	wire_build_ap_req(&kb, 5, big, n);
	wire_build_finish(&kb, NULL);
	ASSERT_INT_EQ(wire_build_cksum(&kb, ck, sizeof(ck) + 1),
	    KINK_WE_NOSPACE);

	/* A single payload longer than its 16-bit length field can say. */
	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 7, 0);
	ASSERT_INT_EQ(wire_build_tgt_rep(&kb, big, 65533), KINK_WE_NOSPACE);
	buf_free(&b);
}

/* WIRE_MAX_ISAKMP KINK_ISAKMP payloads parse; one more is TOO_MANY. */
TEST(roundtrip_max_isakmp)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	uint8_t body[3] = { 1, 2, 3 };
	int i;

	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 7, 0);
	for (i = 0; i < WIRE_MAX_ISAKMP; i++)
		wire_build_isakmp(&kb, (uint8_t)i, KINK_QMVERSION, body,
		    (size_t)i % 4);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	ASSERT_INT_EQ(m.m_nisakmp, WIRE_MAX_ISAKMP);
	for (i = 0; i < WIRE_MAX_ISAKMP; i++) {
		ASSERT_INT_EQ(m.m_isakmp[i].ip_inner_next, i);
		ASSERT_TRUE(rbuf_eq(&m.m_isakmp[i].ip_body, body,
		    (size_t)i % 4) == 1);
	}

	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 7, 0);
	for (i = 0; i < WIRE_MAX_ISAKMP + 1; i++)
		wire_build_isakmp(&kb, 1, KINK_QMVERSION, body, 1);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), KINK_WE_TOO_MANY);
	buf_free(&b);
}

/* Every payload that may be encrypted, through the inner parser. */
TEST(roundtrip_inner_all_types)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	struct rbuf pv;
	uint8_t plain[512], d[64];
	size_t plen;

	fill(d, sizeof(d), 0x41);
	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_REPLY, 1, 9, 0);
	wire_build_ap_rep(&kb, 2, d, 10);
	wire_build_isakmp(&kb, 1, KINK_QMVERSION, d, 5);	/* outer one */
	wire_build_encrypt_begin(&kb);
	wire_build_krb_error(&kb, d, 11);
	wire_build_tgt_req(&kb, d + 1, 6);
	wire_build_tgt_rep(&kb, d + 2, 7);
	wire_build_error(&kb, KINK_INVDOI);
	wire_build_isakmp(&kb, 11, KINK_QMVERSION, d + 3, 9);
	ASSERT_INT_EQ(wire_build_encrypt_plain(&kb, &pv), 0);
	ASSERT_TRUE(pv.rb_len < sizeof(plain) - 5);
	memcpy(plain, pv.rb_p, pv.rb_len);
	plen = pv.rb_len;
	ASSERT_INT_EQ(plain[0], KINK_KRB_ERROR);	/* InnerNextPload */
	/* Cipher padding after the inner chain is ignored (notes b.3). */
	memset(plain + plen, 0xee, 5);
	/* Identity "encryption": the codec does not care what it carries. */
	ASSERT_INT_EQ(wire_build_encrypt_end(&kb, plain, plen), 0);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);

	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	ASSERT_INT_EQ(m.m_present, (1U << KINK_AP_REP) | (1U << KINK_ISAKMP) |
	    (1U << KINK_ENCRYPT));
	ASSERT_TRUE(rbuf_eq(&m.m_encrypt, plain, plen) == 1);
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen + 5), 0);
	ASSERT_INT_EQ(m.m_inner, (1U << KINK_KRB_ERROR) | (1U << KINK_TGT_REQ) |
	    (1U << KINK_TGT_REP) | (1U << KINK_ERROR) | (1U << KINK_ISAKMP));
	ASSERT_TRUE(rbuf_eq(&m.m_krb_error, d, 11) == 1);
	ASSERT_TRUE(rbuf_eq(&m.m_tgt_req, d + 1, 6) == 1);
	ASSERT_TRUE(rbuf_eq(&m.m_tgt_rep, d + 2, 7) == 1);
	ASSERT_INT_EQ(m.m_error, KINK_INVDOI);
	ASSERT_INT_EQ(m.m_nisakmp, 2);
	ASSERT_INT_EQ(m.m_isakmp[0].ip_encrypted, 0);
	ASSERT_INT_EQ(m.m_isakmp[1].ip_encrypted, 1);
	ASSERT_TRUE(rbuf_eq(&m.m_isakmp[1].ip_body, d + 3, 9) == 1);
	ASSERT_INT_EQ(m.m_npayloads, 8);

	/* Empty encrypted chain: plaintext is InnerNextPload DONE + 3. */
	wire_build_begin(&kb, &b, KINK_MSGTYPE_STATUS, 1, 9, 0);
	wire_build_ap_req(&kb, 2, d, 10);
	wire_build_encrypt_begin(&kb);
	ASSERT_INT_EQ(wire_build_encrypt_plain(&kb, &pv), 0);
	ASSERT_INT_EQ(pv.rb_len, 4);
	ASSERT_INT_EQ(pv.rb_p[0], KINK_DONE);
	buf_free(&b);
}

/* Malformed classes: each asserts its exact code. */

/* Copy a golden message into an exact-size heap buffer (ASan sees reads). */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	if (q != NULL && len > 0)
		memcpy(q, p, len);
	return q;
}

static int
parse_exact(const uint8_t *p, size_t len, struct kink_msg *m)
{
	uint8_t *q = dup_exact(p, len);
	int r;

	r = wire_parse(m, q, len);
	free(q);
	return r;
}

TEST(bad_short)
{
	struct kink_msg m;
	size_t n;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	for (n = 0; n < KINK_HDR_LEN; n++)
		ASSERT_INT_EQ(parse_exact(gbuf, n, &m), KINK_WE_SHORT);
	ASSERT_INT_EQ(wire_parse(&m, NULL, 100), KINK_WE_SHORT);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_SHORT), WIRE_ACT_DROP);
}

TEST(bad_majver)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[1] = 0x20;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_MAJVER);
	ASSERT_INT_EQ(m.m_mjver, 2);
	ASSERT_INT_EQ(m.m_xid, 0x1a2b3c4d);	/* for the INVMAJ reply */
	gbuf[1] = 0x00;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_MAJVER);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_MAJVER), KINK_INVMAJ);
}

TEST(bad_length_long)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	/* Datagram cut short of Length. */
	ASSERT_INT_EQ(parse_exact(gbuf, glen - 1, &m), KINK_WE_LEN_LONG);
	gbuf[2] = 0xff;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_LEN_LONG);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_LEN_LONG), KINK_PROTOERR);
}

TEST(bad_length_short)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[2] = 0;
	gbuf[3] = 15;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_LEN_SHORT);
	gbuf[3] = 0;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_LEN_SHORT);
	/* Length inside the chain: the payload overruns the message. */
	ASSERT_INT_EQ(load("gettgt.hex"), 0);
	gbuf[3] = 30;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_OVERRUN);
}

/* §4 Length: data after the message is allowed and ignored. */
TEST(length_excess_ignored)
{
	uint8_t d[MAXMSG];
	struct kink_msg m;

	ASSERT_INT_EQ(load("create.hex"), 0);
	memcpy(d, gbuf, glen);
	memset(d + glen, 0xab, 37);
	ASSERT_INT_EQ(parse_exact(d, glen + 37, &m), 0);
	ASSERT_INT_EQ(m.m_excess, 37);
	ASSERT_INT_EQ(m.m_raw.rb_len, glen);
	ASSERT_INT_EQ(m.m_cksum.rb_len, 12);
}

/* §4.1: the last payload's padding may be left out of Length. */
TEST(last_padding_omitted)
{
	struct kink_msg m;
	size_t cut;

	ASSERT_INT_EQ(load("gettgt.hex"), 0);	/* 37 + 3 pad */
	for (cut = 1; cut <= 3; cut++) {
		gbuf[3] = (uint8_t)(glen - cut);
		ASSERT_INT_EQ(parse_exact(gbuf, glen - cut, &m), 0);
		ASSERT_INT_EQ(m.m_tgt_req.rb_len, 33);
	}
	/* One octet more and the payload itself is cut. */
	gbuf[3] = (uint8_t)(glen - 4);
	ASSERT_INT_EQ(parse_exact(gbuf, glen - 4, &m), KINK_WE_PL_OVERRUN);
	/* A payload that is not last must be padded. */
	ASSERT_INT_EQ(load("reply_error.hex"), 0);	/* KRB_ERROR 17 + 3 */
	memmove(gbuf + 16 + 17, gbuf + 16 + 20, glen - 36);
	gbuf[3] = (uint8_t)(glen - 3);
	ASSERT_INT_EQ(parse_exact(gbuf, glen - 3, &m), KINK_WE_PL_SHORT);
}

TEST(bad_msgtype)
{
	static const uint8_t bad[] = { 0, 7, 127, 128, 255 };
	struct kink_msg m;
	size_t i;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	for (i = 0; i < sizeof(bad); i++) {
		gbuf[0] = bad[i];
		ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_MSGTYPE);
	}
	ASSERT_INT_EQ(wire_err_action(KINK_WE_MSGTYPE), WIRE_ACT_DROP);
}

TEST(bad_cksumlen)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);	/* Length 56 */
	gbuf[15] = 56 - 16 + 1;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_CKSUMLEN);
	gbuf[14] = 0xff;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_CKSUMLEN);
	/* Exactly the whole body: no payloads, all Cksum; legal layout. */
	gbuf[14] = 0;
	gbuf[15] = 56 - 16;
	gbuf[12] = KINK_DONE;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(m.m_cksum.rb_len, 40);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_CKSUMLEN), KINK_PROTOERR);
}

TEST(bad_cksum_align)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("create.hex"), 0);	/* CksumLen 12 */
	gbuf[15] = 11;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_CKSUM_ALIGN);
	gbuf[15] = 13;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_CKSUM_ALIGN);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_CKSUM_ALIGN), KINK_PROTOERR);
}

TEST(bad_doi)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[7] = 2;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_DOI);
	ASSERT_INT_EQ(m.m_doi, 2);
	gbuf[7] = 0;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_DOI);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_DOI), KINK_INVDOI);
}

TEST(bad_payload_short)
{
	struct kink_msg m;

	/* Generic Payload Length < 4. */
	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[18] = 0;
	gbuf[19] = 3;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_SHORT);
	gbuf[19] = 0;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_SHORT);
	/* AP_REQ without room for EPOCH. */
	gbuf[19] = 7;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_SHORT);
	/* ISAKMP without InnerNextPload/QM version/RESERVED. */
	ASSERT_INT_EQ(load("status.hex"), 0);	/* ISAKMP at 44 */
	gbuf[47] = 7;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_SHORT);
	/* 1..3 octets left where a payload header should be. */
	ASSERT_INT_EQ(load("gettgt.hex"), 0);
	gbuf[3] = 16 + 34;		/* Length: 2 octets after TGT_REQ */
	gbuf[19] = 32;
	gbuf[16] = KINK_ERROR;		/* TGT_REQ -> ERROR, no room */
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_SHORT);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_PL_SHORT), KINK_PROTOERR);
}

TEST(bad_payload_overrun)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("ack.hex"), 0);	/* AP_REQ 28 at 16, L0 44 */
	gbuf[19] = 29;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_OVERRUN);
	/* Overrunning into the Cksum counts too. */
	gbuf[19] = 28 + 4;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_OVERRUN);
	gbuf[18] = 0xff;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_OVERRUN);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_PL_OVERRUN), KINK_PROTOERR);
}

TEST(bad_error_length)
{
	struct kink_msg m;

	ASSERT_INT_EQ(load("reply_error.hex"), 0);	/* ERROR at 36 */
	ASSERT_INT_EQ(gbuf[36 + 3], 8);
	gbuf[39] = 7;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_LEN);
	gbuf[39] = 4;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_PL_LEN);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_PL_LEN), KINK_PROTOERR);
}

TEST(bad_no_done)
{
	struct kink_msg m;

	/* The last payload points at a next one that is not there. */
	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[16] = KINK_ISAKMP;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_NO_DONE);
	/* Header says there are payloads, and there are none. */
	ASSERT_INT_EQ(load("ack.hex"), 0);
	gbuf[3] = 16;
	gbuf[15] = 0;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, 16), KINK_WE_NO_DONE);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_NO_DONE), KINK_PROTOERR);
}

TEST(bad_trailing)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;

	/* Four octets inside Length after the chain, before the Cksum. */
	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_ACK, 1, 1, 0);
	wire_build_ap_req(&kb, 1, apreq_der, sizeof(apreq_der));
	wire_build_finish(&kb, NULL);
	buf_put_u32(&b, 0);
	buf_put(&b, "0123456789ab", 12);
	buf_set_u16(&b, 2, (uint16_t)b.b_len);
	buf_set_u16(&b, 14, 12);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), KINK_WE_TRAILING);
	/* Without a Cksum, trailing octets are only OK outside Length. */
	buf_set_u16(&b, 14, 0);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), KINK_WE_TRAILING);
	buf_set_u16(&b, 2, 44);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	ASSERT_INT_EQ(m.m_excess, 16);
	buf_free(&b);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_TRAILING), KINK_PROTOERR);
}

TEST(bad_unknown_payload)
{
	static const uint8_t bad[] = { 9, 42, 127, 128, 255 };
	struct kink_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		ASSERT_INT_EQ(load("ack.hex"), 0);
		gbuf[12] = bad[i];	/* first payload */
		ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_UNKNOWN_PL);
		ASSERT_INT_EQ(load("delete.hex"), 0);
		gbuf[16] = bad[i];	/* second payload */
		ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_UNKNOWN_PL);
	}
	ASSERT_INT_EQ(wire_err_action(KINK_WE_UNKNOWN_PL), KINK_PROTOERR);
}

TEST(bad_encrypt_not_last)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	struct rbuf pv;

	ASSERT_INT_EQ(load("create.hex"), 0);	/* ENCRYPT at 44 */
	gbuf[44] = KINK_ISAKMP;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_ENCRYPT_NOT_LAST);
	gbuf[44] = KINK_AP_REQ;
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_ENCRYPT_NOT_LAST);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_ENCRYPT_NOT_LAST), KINK_PROTOERR);
	/* The builder cannot put anything after it. */
	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &pv);
	wire_build_encrypt_end(&kb, "x", 1);
	ASSERT_INT_EQ(wire_build_error(&kb, 1), KINK_WE_BUILD_STATE);
	buf_free(&b);
}

TEST(bad_duplicate)
{
	static const uint8_t once[] = {
		KINK_AP_REQ, KINK_AP_REP, KINK_KRB_ERROR, KINK_TGT_REQ,
		KINK_TGT_REP, KINK_ERROR
	};
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	size_t i;
	int j;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(once); i++) {
		wire_build_begin(&kb, &b, KINK_MSGTYPE_CREATE, 1, 1, 0);
		for (j = 0; j < 2; j++) {
			switch (once[i]) {
			case KINK_AP_REQ:
				wire_build_ap_req(&kb, 1, "ab", 2);
				break;
			case KINK_AP_REP:
				wire_build_ap_rep(&kb, 1, "ab", 2);
				break;
			case KINK_KRB_ERROR:
				wire_build_krb_error(&kb, "ab", 2);
				break;
			case KINK_TGT_REQ:
				wire_build_tgt_req(&kb, "ab", 2);
				break;
			case KINK_TGT_REP:
				wire_build_tgt_rep(&kb, "ab", 2);
				break;
			case KINK_ERROR:
				wire_build_error(&kb, 1);
				break;
			}
			/* Something in between: duplicates need not touch. */
			wire_build_isakmp(&kb, 0, KINK_QMVERSION, NULL, 0);
		}
		ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
		ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), KINK_WE_DUP);
	}
	buf_free(&b);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_DUP), KINK_PROTOERR);
}

/* A KINK_ERROR outside and another inside KINK_ENCRYPT is a duplicate. */
TEST(bad_duplicate_inner_outer)
{
	static const uint8_t plain[] = {
		KINK_ERROR, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2
	};
	struct kink_builder kb;
	struct kink_msg m, before;
	struct buf b;
	struct rbuf pv;

	buf_init(&b, 0);
	wire_build_begin(&kb, &b, KINK_MSGTYPE_REPLY, 1, 1, 0);
	wire_build_ap_rep(&kb, 1, "ab", 2);
	wire_build_error(&kb, KINK_PROTOERR);
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &pv);
	wire_build_encrypt_end(&kb, "ct", 2);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(wire_parse(&m, b.b_data, b.b_len), 0);
	before = m;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, sizeof(plain)), KINK_WE_DUP);
	/* A failed inner parse leaves the message as it was. */
	ASSERT_MEM_EQ(&m, &before, sizeof(m));
	buf_free(&b);
}

TEST(bad_qmversion)
{
	static const uint8_t bad[] = { 0x00, 0x11, 0x20, 0x0f, 0xff };
	struct kink_msg m;
	size_t i;

	ASSERT_INT_EQ(load("status.hex"), 0);	/* ISAKMP at 44, QM at 49 */
	ASSERT_INT_EQ(gbuf[49], 0x10);
	for (i = 0; i < sizeof(bad); i++) {
		gbuf[49] = bad[i];
		ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), KINK_WE_QMVERS);
	}
	ASSERT_INT_EQ(wire_err_action(KINK_WE_QMVERS), KINK_BADQMVERS);
}

TEST(bad_inner)
{
	uint8_t plain[64];
	size_t plen;
	struct kink_msg m;

	ASSERT_INT_EQ(load("create.hex"), 0);
	ASSERT_INT_EQ(test_hex_file("create_inner.hex", plain, sizeof(plain),
	    &plen), 0);
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	/* Payloads that carry or need the key cannot be encrypted. */
	plain[0] = KINK_AP_REQ;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), KINK_WE_INNER_PL);
	plain[0] = KINK_AP_REP;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), KINK_WE_INNER_PL);
	plain[0] = KINK_ENCRYPT;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), KINK_WE_INNER_PL);
	ASSERT_INT_EQ(m.m_decrypted, 0);
	/* Shorter than InnerNextPload + RESERVED2. */
	plain[0] = KINK_ISAKMP;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, 3), KINK_WE_INNER_SHORT);
	ASSERT_INT_EQ(wire_parse_inner(&m, NULL, 0), KINK_WE_INNER_SHORT);
	/* Inner chain cut before its end. */
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen - 1),
	    KINK_WE_PL_OVERRUN);
	/* Inner chain that never reaches KINK_DONE. */
	plain[4] = KINK_ERROR;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), KINK_WE_NO_DONE);
	plain[4] = KINK_DONE;
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), 0);
	/* Not a message with KINK_ENCRYPT. */
	ASSERT_INT_EQ(load("ack.hex"), 0);
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen),
	    KINK_WE_NOT_ENCRYPTED);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_INNER_PL), KINK_PROTOERR);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_INNER_SHORT), KINK_PROTOERR);
}

/* §6 message construction. */
static int
typed(uint8_t type, uint32_t pls)
{
	struct kink_builder kb;
	struct kink_msg m;
	struct buf b;
	int r;

	buf_init(&b, 0);
	wire_build_begin(&kb, &b, type, 1, 1, 0);
	if (pls & (1U << KINK_AP_REQ))
		wire_build_ap_req(&kb, 1, "a", 1);
	if (pls & (1U << KINK_AP_REP))
		wire_build_ap_rep(&kb, 1, "a", 1);
	if (pls & (1U << KINK_KRB_ERROR))
		wire_build_krb_error(&kb, "a", 1);
	if (pls & (1U << KINK_TGT_REQ))
		wire_build_tgt_req(&kb, "a", 1);
	if (pls & (1U << KINK_TGT_REP))
		wire_build_tgt_rep(&kb, "a", 1);
	if (pls & (1U << KINK_ERROR))
		wire_build_error(&kb, KINK_PROTOERR);
	if (pls & (1U << KINK_ISAKMP))
		wire_build_isakmp(&kb, 1, KINK_QMVERSION, "a", 1);
	wire_build_finish(&kb, NULL);
	r = kb.kb_err ? -1 : wire_parse(&m, b.b_data, b.b_len);
	if (r == 0)
		r = wire_check_type(&m);
	buf_free(&b);
	return r;
}

#define P(t)	(1U << KINK_##t)

TEST(check_type_rules)
{
	struct kink_msg m;

	/* Valid §6 forms. */
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_CREATE, P(AP_REQ) | P(ISAKMP)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_DELETE, P(AP_REQ) | P(ISAKMP)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_STATUS, P(AP_REQ)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_ACK, P(AP_REQ)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_GETTGT, P(TGT_REQ)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(AP_REP) | P(ISAKMP)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(KRB_ERROR)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(ERROR)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(TGT_REP)), 0);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(AP_REP) | P(ERROR) |
	    P(ISAKMP)), 0);
	/* Missing the payload the type needs. */
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_CREATE, P(ISAKMP)),
	    KINK_WE_MISSING_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_DELETE, 0), KINK_WE_MISSING_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_STATUS, P(ISAKMP)),
	    KINK_WE_MISSING_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_ACK, 0), KINK_WE_MISSING_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_GETTGT, 0), KINK_WE_MISSING_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(ISAKMP)),
	    KINK_WE_MISSING_PL);
	/* Carrying what the type must not. */
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_ACK, P(AP_REQ) | P(ISAKMP)),
	    KINK_WE_UNEXPECTED_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_GETTGT, P(TGT_REQ) | P(AP_REQ)),
	    KINK_WE_UNEXPECTED_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_CREATE, P(AP_REQ) | P(AP_REP)),
	    KINK_WE_UNEXPECTED_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_STATUS, P(AP_REQ) | P(TGT_REP)),
	    KINK_WE_UNEXPECTED_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(AP_REP) | P(AP_REQ)),
	    KINK_WE_UNEXPECTED_PL);
	ASSERT_INT_EQ(typed(KINK_MSGTYPE_REPLY, P(ERROR) | P(TGT_REQ)),
	    KINK_WE_UNEXPECTED_PL);
	memset(&m, 0, sizeof(m));
	ASSERT_INT_EQ(wire_check_type(&m), KINK_WE_MSGTYPE);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_MISSING_PL), KINK_PROTOERR);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_UNEXPECTED_PL), KINK_PROTOERR);
}

/* RESERVED fields and padding are ignored on receipt (§4; see wire.c). */
TEST(reserved_ignored)
{
	uint8_t plain[64];
	size_t plen;
	struct kink_msg m;

	ASSERT_INT_EQ(load("create.hex"), 0);
	gbuf[1] = 0x1f;			/* RESRVED nibble */
	gbuf[13] = 0x7f;		/* RESERVED2, ACKREQ clear */
	gbuf[17] = 0xff;		/* AP_REQ RESERVED */
	gbuf[45] = 0xff;		/* ENCRYPT RESERVED */
	gbuf[85] = gbuf[86] = gbuf[87] = 0xee;	/* padding before Cksum */
	ASSERT_INT_EQ(wire_parse(&m, gbuf, glen), 0);
	ASSERT_INT_EQ(m.m_resv, 0xf);
	ASSERT_INT_EQ(m.m_flags, 0x7f);
	ASSERT_INT_EQ(wire_ackreq(&m), 0);
	/* And the builder writes zeros and refuses reserved flag bits. */
	{
		struct kink_builder kb;
		struct buf b;

		buf_init(&b, 0);
		ASSERT_INT_EQ(wire_build_begin(&kb, &b, 1, 1, 1, 0x01),
		    KINK_WE_ARG);
		ASSERT_INT_EQ(wire_build_ap_req(&kb, 0, "x", 1), KINK_WE_ARG);
		ASSERT_INT_EQ(wire_test_rebuild(&m, &b), 0);
		ASSERT_INT_EQ(b.b_data[1], 0x10);
		ASSERT_INT_EQ(b.b_data[13], 0);
		ASSERT_INT_EQ(b.b_data[17], 0);
		ASSERT_INT_EQ(b.b_data[85], 0);
		buf_free(&b);
	}
	ASSERT_INT_EQ(test_hex_file("create_inner.hex", plain, sizeof(plain),
	    &plen), 0);
	plain[1] = plain[2] = plain[3] = 0xff;	/* RESERVED2 of plaintext */
	plain[5] = 0xff;			/* ISAKMP RESERVED */
	plain[10] = plain[11] = 0xff;		/* ISAKMP RESERVED (2) */
	ASSERT_INT_EQ(wire_parse_inner(&m, plain, plen), 0);
	ASSERT_INT_EQ(m.m_nisakmp, 1);
}

/* Builder misuse gives sticky, precise errors. */
TEST(builder_state)
{
	struct kink_builder kb;
	struct buf b;
	struct rbuf pv;

	buf_init(&b, 0);
	ASSERT_INT_EQ(wire_build_begin(&kb, NULL, 1, 1, 1, 0), KINK_WE_ARG);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), KINK_WE_ARG);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	ASSERT_INT_EQ(wire_build_cksum(&kb, "ck", 2), KINK_WE_BUILD_STATE);
	ASSERT_INT_EQ(wire_build_ap_req(&kb, 1, "x", 1), KINK_WE_BUILD_STATE);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	ASSERT_INT_EQ(wire_build_encrypt_plain(&kb, &pv), KINK_WE_BUILD_STATE);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	ASSERT_INT_EQ(wire_build_encrypt_begin(&kb), KINK_WE_BUILD_STATE);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), KINK_WE_BUILD_STATE);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &pv);
	ASSERT_INT_EQ(wire_build_isakmp(&kb, 1, 0x10, "x", 1),
	    KINK_WE_BUILD_STATE);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	ASSERT_INT_EQ(wire_build_tgt_req(&kb, NULL, 3), KINK_WE_ARG);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_finish(&kb, NULL);
	ASSERT_INT_EQ(wire_build_cksum(&kb, NULL, 0), KINK_WE_ARG);

	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_finish(&kb, NULL);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), KINK_WE_BUILD_STATE);

	/* Ciphertext that would push the message past KINK_MAX_MSG. */
	fill(big, sizeof(big), 2);
	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &pv);
	ASSERT_INT_EQ(wire_build_encrypt_end(&kb, big, KINK_MAX_MSG - 20 + 1),
	    KINK_WE_NOSPACE);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), KINK_WE_NOSPACE);
	wire_build_begin(&kb, &b, 1, 1, 1, 0);
	wire_build_encrypt_begin(&kb);
	wire_build_encrypt_plain(&kb, &pv);
	ASSERT_INT_EQ(wire_build_encrypt_end(&kb, big, KINK_MAX_MSG - 20), 0);
	ASSERT_INT_EQ(wire_build_finish(&kb, NULL), 0);
	ASSERT_INT_EQ(b.b_len, KINK_MAX_MSG);
	buf_free(&b);
}

/*
 * Deterministic mutation: every bit of every golden message flipped, and
 * every truncation.  Each result must parse or fail with a known code; a
 * message that parses must have its views inside the datagram and must
 * survive rebuild -> parse.  Exact-size heap copies let ASan see overreads.
 */
static int
check_one(const uint8_t *p, size_t len, const uint8_t *plain, size_t plen,
    unsigned long *nok)
{
	struct kink_msg m, m2;
	struct buf b;
	uint8_t out[MAXMSG];
	size_t olen, i;
	int r;

	r = wire_parse(&m, p, len);
	/* Outer parse errors are the header and chain classes only. */
	if (r < 0 || r >= KINK_WE_INNER_PL)
		return -1;
	if (r != 0)
		return 0;
	(*nok)++;
	if (!inside(m.m_raw, p, len) || !inside(m.m_covered, p, len) ||
	    !inside(m.m_cksum, p, len) || !inside(m.m_ap_req, p, len) ||
	    !inside(m.m_ap_rep, p, len) || !inside(m.m_krb_error, p, len) ||
	    !inside(m.m_tgt_req, p, len) || !inside(m.m_tgt_rep, p, len) ||
	    !inside(m.m_encrypt, p, len))
		return -1;
	for (i = 0; i < m.m_nisakmp; i++)
		if (!inside(m.m_isakmp[i].ip_body, p, len))
			return -1;
	r = wire_check_type(&m);
	if (r != 0 && r != KINK_WE_MISSING_PL && r != KINK_WE_UNEXPECTED_PL)
		return -1;
	if (wire_cksum_input(&m, out, sizeof(out), &olen) != 0 ||
	    olen + m.m_cksumlen != m.m_length)
		return -1;
	buf_init(&b, 0);
	r = wire_test_rebuild(&m, &b) == 0 ? wire_parse(&m2, b.b_data, b.b_len) : -1;
	buf_free(&b);
	if (r != 0)
		return -1;
	if (wire_has(&m, KINK_ENCRYPT))
		(void)wire_parse_inner(&m, plain, plen);
	return 0;
}

TEST(mutation_bitflip_truncate)
{
	uint8_t plain[64], *q;
	size_t plen, g, i, bit;
	unsigned long ok = 0, n = 0;

	ASSERT_INT_EQ(test_hex_file("create_inner.hex", plain, sizeof(plain),
	    &plen), 0);
	for (g = 0; g < NGOLDEN; g++) {
		ASSERT_INT_EQ(load(goldens[g]), 0);
		q = dup_exact(gbuf, glen);
		ASSERT_TRUE(q != NULL);
		for (i = 0; i < glen; i++)
			for (bit = 0; bit < 8; bit++) {
				q[i] ^= (uint8_t)(1 << bit);
				n++;
				if (check_one(q, glen, plain, plen, &ok) != 0) {
					test_fail(__FILE__, __LINE__,
					    "%s: bit %zu of octet %zu",
					    goldens[g], bit, i);
					free(q);
					return;
				}
				q[i] ^= (uint8_t)(1 << bit);
			}
		free(q);
		for (i = 0; i <= glen; i++) {
			q = dup_exact(gbuf, i);
			n++;
			if (check_one(q, i, plain, plen, &ok) != 0) {
				test_fail(__FILE__, __LINE__,
				    "%s: truncated to %zu", goldens[g], i);
				free(q);
				return;
			}
			free(q);
		}
	}
	/* Flipping reserved and opaque bits keeps messages valid. */
	ASSERT_TRUE(ok > n / 4);
	ASSERT_TRUE(ok < n);
	printf("# mutation: %lu inputs, %lu parsed\n", n, ok);
}

/* Every defined value has its RFC name; ranges get theirs. */
TEST(names_complete)
{
	static const char *const mt[] = { "RESERVED", "CREATE", "DELETE",
	    "REPLY", "GETTGT", "ACK", "STATUS" };
	static const char *const pt[] = { "KINK_DONE", "KINK_AP_REQ",
	    "KINK_AP_REP", "KINK_KRB_ERROR", "KINK_TGT_REQ", "KINK_TGT_REP",
	    "KINK_ISAKMP", "KINK_ENCRYPT", "KINK_ERROR" };
	static const char *const et[] = { "KINK_OK", "KINK_PROTOERR",
	    "KINK_INVDOI", "KINK_INVMAJ", "RESERVED", "KINK_INTERR",
	    "KINK_BADQMVERS", "KINK_U2UDENIED" };
	unsigned int i;

	ASSERT_INT_EQ(sizeof(mt) / sizeof(mt[0]), KINK_MSGTYPE_MAX + 1);
	for (i = 0; i <= KINK_MSGTYPE_MAX; i++)
		ASSERT_STR_EQ(wire_msgtype_name(i), mt[i]);
	ASSERT_INT_EQ(sizeof(pt) / sizeof(pt[0]), KINK_PAYLOAD_MAX + 1);
	for (i = 0; i <= KINK_PAYLOAD_MAX; i++)
		ASSERT_STR_EQ(wire_payload_name(i), pt[i]);
	ASSERT_INT_EQ(sizeof(et) / sizeof(et[0]), KINK_ERROR_MAX + 1);
	for (i = 0; i <= KINK_ERROR_MAX; i++)
		ASSERT_STR_EQ(wire_error_name(i), et[i]);
	ASSERT_STR_EQ(wire_msgtype_name(7), "UNASSIGNED");
	ASSERT_STR_EQ(wire_msgtype_name(127), "UNASSIGNED");
	ASSERT_STR_EQ(wire_msgtype_name(128), "PRIVATE");
	ASSERT_STR_EQ(wire_msgtype_name(255), "PRIVATE");
	ASSERT_STR_EQ(wire_msgtype_name(256), "INVALID");
	ASSERT_STR_EQ(wire_payload_name(9), "UNASSIGNED");
	ASSERT_STR_EQ(wire_payload_name(200), "PRIVATE");
	ASSERT_STR_EQ(wire_error_name(8), "UNASSIGNED");
	ASSERT_STR_EQ(wire_error_name(8191), "UNASSIGNED");
	ASSERT_STR_EQ(wire_error_name(8192), "PRIVATE");
	ASSERT_STR_EQ(wire_error_name(16383), "PRIVATE");
	ASSERT_STR_EQ(wire_error_name(16384), "RESERVED");
	ASSERT_STR_EQ(wire_error_name(0xffffffff), "RESERVED");
	/* Notify types: RFC 2408 3.14.1 names, RFC 2407 status, ranges */
	ASSERT_STR_EQ(wire_notify_name(1), "INVALID-PAYLOAD-TYPE");
	ASSERT_STR_EQ(wire_notify_name(11), "INVALID-SPI");
	ASSERT_STR_EQ(wire_notify_name(14), "NO-PROPOSAL-CHOSEN");
	ASSERT_STR_EQ(wire_notify_name(16), "PAYLOAD-MALFORMED");
	ASSERT_STR_EQ(wire_notify_name(18), "INVALID-ID-INFORMATION");
	ASSERT_STR_EQ(wire_notify_name(30), "UNEQUAL-PAYLOAD-LENGTHS");
	ASSERT_STR_EQ(wire_notify_name(31), "RESERVED");
	ASSERT_STR_EQ(wire_notify_name(8192), "PRIVATE");
	ASSERT_STR_EQ(wire_notify_name(16384), "CONNECTED");
	ASSERT_STR_EQ(wire_notify_name(24576), "RESPONDER-LIFETIME");
	ASSERT_STR_EQ(wire_notify_name(24578), "INITIAL-CONTACT");
	ASSERT_STR_EQ(wire_notify_name(24579), "DOI-SPECIFIC");
	ASSERT_STR_EQ(wire_notify_name(40959), "PRIVATE");
	ASSERT_STR_EQ(wire_notify_name(40960), "RESERVED");
	ASSERT_STR_EQ(wire_notify_name(0), "INVALID");
	for (unsigned t = 1; t <= 30; t++)
		ASSERT_TRUE(strcmp(wire_notify_name(t), "RESERVED") != 0);
	/* KRB_ERROR codes (RFC 4120 7.5.9) */
	ASSERT_STR_EQ(wire_krb_error_name(0), "KDC_ERR_NONE");
	ASSERT_STR_EQ(wire_krb_error_name(27), "KDC_ERR_MUST_USE_USER2USER");
	ASSERT_STR_EQ(wire_krb_error_name(32), "KRB_AP_ERR_TKT_EXPIRED");
	ASSERT_STR_EQ(wire_krb_error_name(37), "KRB_AP_ERR_SKEW");
	ASSERT_STR_EQ(wire_krb_error_name(69),
	    "KRB_AP_ERR_USER_TO_USER_REQUIRED");
	ASSERT_STR_EQ(wire_krb_error_name(76), "KDC_ERR_KDC_NAME_MISMATCH");
	ASSERT_STR_EQ(wire_krb_error_name(30), "UNASSIGNED");
	ASSERT_STR_EQ(wire_krb_error_name(77), "UNASSIGNED");
	ASSERT_STR_EQ(wire_krb_error_name(-1), "UNASSIGNED");
}

/* Every wire error has its own text and a defined action. */
TEST(error_table_complete)
{
	int i, j, a;

	for (i = 0; i < KINK_WE_NERR; i++) {
		ASSERT_TRUE(strcmp(wire_strerror(i), "unknown wire error") != 0);
		for (j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(wire_strerror(i),
			    wire_strerror(j)) != 0);
		a = wire_err_action(i);
		ASSERT_TRUE(a == WIRE_ACT_DROP || a == KINK_PROTOERR ||
		    a == KINK_INVDOI || a == KINK_INVMAJ ||
		    a == KINK_BADQMVERS || (i == 0 && a == KINK_OK));
	}
	ASSERT_STR_EQ(wire_strerror(KINK_WE_NERR), "unknown wire error");
	ASSERT_STR_EQ(wire_strerror(-1), "unknown wire error");
	ASSERT_INT_EQ(wire_err_action(KINK_WE_NERR), WIRE_ACT_DROP);
	ASSERT_INT_EQ(wire_err_action(KINK_WE_OK), KINK_OK);
}

int
main(void)
{
	RUN(golden_create);
	RUN(golden_create_inner);
	RUN(golden_delete);
	RUN(golden_reply);
	RUN(golden_reply_error);
	RUN(golden_gettgt);
	RUN(golden_reply_tgt);
	RUN(golden_ack);
	RUN(golden_status);
	RUN(cksum_input_create);
	RUN(cksum_input_unauthenticated);
	RUN(roundtrip_every_type_and_size);
	RUN(roundtrip_minimal);
	RUN(roundtrip_maximal);
	RUN(roundtrip_max_isakmp);
	RUN(roundtrip_inner_all_types);
	RUN(bad_short);
	RUN(bad_majver);
	RUN(bad_length_long);
	RUN(bad_length_short);
	RUN(length_excess_ignored);
	RUN(last_padding_omitted);
	RUN(bad_msgtype);
	RUN(bad_cksumlen);
	RUN(bad_cksum_align);
	RUN(bad_doi);
	RUN(bad_payload_short);
	RUN(bad_payload_overrun);
	RUN(bad_error_length);
	RUN(bad_no_done);
	RUN(bad_trailing);
	RUN(bad_unknown_payload);
	RUN(bad_encrypt_not_last);
	RUN(bad_duplicate);
	RUN(bad_duplicate_inner_outer);
	RUN(bad_qmversion);
	RUN(bad_inner);
	RUN(check_type_rules);
	RUN(reserved_ignored);
	RUN(builder_state);
	RUN(mutation_bitflip_truncate);
	RUN(names_complete);
	RUN(error_table_complete);
	return test_done();
}
