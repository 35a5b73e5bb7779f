/*
 * ISAKMP Quick Mode codec: golden payload chains (hand-assembled in
 * tests/unit/data/isakmp_*.hex), round trips, one case per malformed class
 * and per transform-level problem, the error table, and a mutation loop
 * (every bit flipped, every truncation) that must never crash and whose
 * accepted inputs must survive parse -> build -> parse unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "isakmp.h"
#include "test.h"

struct golden {
	const char	*g_file;
	uint8_t		 g_first;
};
static const struct golden goldens[] = {
	{ "isakmp_create.hex", ISAKMP_NPTYPE_SA },
	{ "isakmp_create_pfs_ids.hex", ISAKMP_NPTYPE_SA },
	{ "isakmp_bundle.hex", ISAKMP_NPTYPE_SA },
	{ "isakmp_notify.hex", ISAKMP_NPTYPE_N },
	{ "isakmp_delete.hex", ISAKMP_NPTYPE_D },
	{ "isakmp_ids_range.hex", ISAKMP_NPTYPE_ID },
	{ "isakmp_reply.hex", ISAKMP_NPTYPE_SA },
};
#define NGOLDEN	(sizeof(goldens) / sizeof(goldens[0]))

static uint8_t g[4096];
static size_t glen;
static struct isakmp_msg msg, msg2;

static int
load(const char *name)
{
	return test_hex_file(name, g, sizeof(g), &glen);
}

/* Parse, rebuild, compare with the input octets. */
static int
roundtrip(const uint8_t *p, size_t len, uint8_t first, struct isakmp_msg *m)
{
	struct buf b;
	uint8_t f2;
	int rc;

	buf_init(&b, 0);
	if ((rc = isakmp_parse(p, len, first, m)) != 0)
		goto out;
	rc = -1;
	if (isakmp_build(m, &b, &f2) != 0 || f2 != first || b.b_len != len ||
	    memcmp(b.b_data, p, len) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* A golden file into g, parsed into msg and rebuilt to the same octets. */
static int
load_roundtrip(const char *name, uint8_t first)
{
	if (load(name) != 0)
		return -1;
	return roundtrip(g, glen, first, &msg);
}

/* A golden file starting with an SA payload into g, parsed into msg. */
static int
load_parse(const char *name)
{
	if (load(name) != 0)
		return -1;
	return isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg);
}

TEST(golden_create)
{
	const struct isakmp_prop *p;
	const struct isakmp_trans *t;

	ASSERT_INT_EQ(load_roundtrip("isakmp_create.hex", ISAKMP_NPTYPE_SA), 0);
	ASSERT_INT_EQ(glen, 96);
	ASSERT_TRUE(msg.m_has_sa);
	ASSERT_INT_EQ(msg.m_sa.sa_doi, IPSEC_DOI);
	ASSERT_INT_EQ(msg.m_sa.sa_sit, IPSEC_SIT_IDENTITY_ONLY);
	ASSERT_INT_EQ(msg.m_sa.sa_nprop, 1);
	p = &msg.m_sa.sa_prop[0];
	ASSERT_INT_EQ(p->p_num, 1);
	ASSERT_INT_EQ(p->p_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(p->p_spi, 0x1234);
	ASSERT_INT_EQ(p->p_ntrans, 2);
	t = &p->p_trans[0];
	ASSERT_INT_EQ(t->t_id, ESP_AES_CBC);
	ASSERT_INT_EQ(t->t_err, 0);
	ASSERT_INT_EQ(t->t_attrs.a_life_secs, 3600);
	ASSERT_INT_EQ(t->t_attrs.a_life_kbytes, 0);
	ASSERT_INT_EQ(t->t_attrs.a_mode, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(t->t_attrs.a_keylen, 128);
	ASSERT_INT_EQ(t->t_attrs.a_auth, AUTH_ALG_HMAC_SHA);
	t = &p->p_trans[1];
	ASSERT_INT_EQ(t->t_num, 2);
	ASSERT_INT_EQ(t->t_id, ESP_3DES);
	ASSERT_INT_EQ(t->t_attrs.a_keylen, 0);
	ASSERT_INT_EQ(msg.m_nonce.rb_len, 16);
	ASSERT_TRUE(msg.m_nonce.rb_p == g + 80);
	ASSERT_TRUE(msg.m_ke.rb_p == NULL);
	ASSERT_INT_EQ(msg.m_nid, 0);
}

TEST(golden_create_pfs_ids)
{
	const struct isakmp_trans *t;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	ASSERT_INT_EQ(load_roundtrip("isakmp_create_pfs_ids.hex",
	    ISAKMP_NPTYPE_SA), 0);
	t = &msg.m_sa.sa_prop[0].p_trans[0];
	ASSERT_INT_EQ(t->t_attrs.a_life_secs, 28800);
	ASSERT_INT_EQ(t->t_attrs.a_mode, ENCAP_MODE_TUNNEL);
	ASSERT_INT_EQ(t->t_attrs.a_keylen, 256);
	ASSERT_INT_EQ(t->t_attrs.a_auth, AUTH_ALG_HMAC_SHA2_256);
	ASSERT_INT_EQ(t->t_attrs.a_group, OAKLEY_GROUP_MODP2048);
	ASSERT_INT_EQ(msg.m_nonce.rb_len, 8);
	ASSERT_INT_EQ(msg.m_ke.rb_len, 8);
	ASSERT_INT_EQ(msg.m_ke.rb_p[0], 1);
	ASSERT_INT_EQ(msg.m_nid, 2);
	ASSERT_INT_EQ(msg.m_id[0].id_type, IPSEC_ID_IPV4_ADDR_SUBNET);
	ASSERT_INT_EQ(msg.m_id[0].id_proto, 6);
	ASSERT_INT_EQ(msg.m_id[0].id_port, 80);
	ASSERT_INT_EQ(msg.m_id[0].id_alen, 4);
	ASSERT_INT_EQ(msg.m_id[0].id_addr[1], 1);
	ASSERT_INT_EQ(msg.m_id[0].id_addr2[1], 0xff);
	ASSERT_INT_EQ(msg.m_id[1].id_type, IPSEC_ID_IPV6_ADDR);
	ASSERT_INT_EQ(msg.m_id[1].id_alen, 16);
	ASSERT_MEM_EQ(msg.m_id[1].id_addr, v6, 16);
}

TEST(golden_bundle)
{
	const struct isakmp_sa *sa = &msg.m_sa;

	ASSERT_INT_EQ(load_roundtrip("isakmp_bundle.hex", ISAKMP_NPTYPE_SA), 0);
	ASSERT_INT_EQ(sa->sa_nprop, 3);
	ASSERT_INT_EQ(sa->sa_prop[0].p_num, 1);
	ASSERT_INT_EQ(sa->sa_prop[1].p_num, 1);
	ASSERT_INT_EQ(sa->sa_prop[2].p_num, 2);
	ASSERT_INT_EQ(sa->sa_prop[0].p_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(sa->sa_prop[1].p_proto, PROTO_IPSEC_AH);
	ASSERT_INT_EQ(sa->sa_prop[2].p_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(sa->sa_prop[2].p_spisize, 2);
	ASSERT_INT_EQ(sa->sa_prop[2].p_spi, 0x1000);
	ASSERT_INT_EQ(sa->sa_prop[0].p_trans[0].t_id, ESP_AES_GCM_16);
	ASSERT_INT_EQ(sa->sa_prop[0].p_trans[0].t_attrs.a_life_secs, 86400);
	ASSERT_INT_EQ(sa->sa_prop[0].p_trans[0].t_attrs.a_life_kbytes, 1000);
	ASSERT_INT_EQ(sa->sa_prop[0].p_trans[0].t_attrs.a_auth, 0);
	ASSERT_INT_EQ(sa->sa_prop[1].p_trans[0].t_id, AH_SHA2_256);
	ASSERT_INT_EQ(sa->sa_prop[1].p_trans[0].t_attrs.a_auth,
	    AUTH_ALG_HMAC_SHA2_256);
	ASSERT_INT_EQ(sa->sa_prop[2].p_trans[0].t_id, IPCOMP_DEFLATE);
}

TEST(golden_notify)
{
	ASSERT_INT_EQ(load_roundtrip("isakmp_notify.hex", ISAKMP_NPTYPE_N), 0);
	ASSERT_INT_EQ(msg.m_nnotify, 2);
	ASSERT_INT_EQ(msg.m_notify[0].n_type, ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(msg.m_notify[0].n_spi.rb_len, 0);
	ASSERT_INT_EQ(msg.m_notify[0].n_data.rb_len, 1);
	ASSERT_INT_EQ(msg.m_notify[0].n_data.rb_p[0], ISAKMP_NPTYPE_KE);
	ASSERT_INT_EQ(msg.m_notify[1].n_type, ISAKMP_NTYPE_INVALID_SPI);
	ASSERT_INT_EQ(msg.m_notify[1].n_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(msg.m_notify[1].n_spi.rb_len, 4);
	ASSERT_INT_EQ(get_be32(msg.m_notify[1].n_spi.rb_p), 0x1234);
	ASSERT_INT_EQ(msg.m_notify[1].n_data.rb_len, 0);
}

TEST(golden_delete)
{
	ASSERT_INT_EQ(load_roundtrip("isakmp_delete.hex", ISAKMP_NPTYPE_D), 0);
	ASSERT_INT_EQ(msg.m_ndelete, 2);
	ASSERT_INT_EQ(msg.m_delete[0].d_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(msg.m_delete[0].d_nspi, 2);
	ASSERT_INT_EQ(msg.m_delete[0].d_spi[0], 0x1234);
	ASSERT_INT_EQ(msg.m_delete[0].d_spi[1], 0x5678);
	ASSERT_INT_EQ(msg.m_delete[1].d_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(msg.m_delete[1].d_spisize, 2);
	ASSERT_INT_EQ(msg.m_delete[1].d_spi[0], 0x1000);
}

TEST(golden_ids_range)
{
	ASSERT_INT_EQ(load_roundtrip("isakmp_ids_range.hex",
	    ISAKMP_NPTYPE_ID), 0);
	ASSERT_INT_EQ(msg.m_nid, 2);
	ASSERT_INT_EQ(msg.m_id[0].id_type, IPSEC_ID_IPV4_ADDR_RANGE);
	ASSERT_INT_EQ(msg.m_id[0].id_proto, 17);
	ASSERT_INT_EQ(msg.m_id[0].id_port, 500);
	ASSERT_INT_EQ(msg.m_id[0].id_addr2[3], 0xff);
	ASSERT_INT_EQ(msg.m_id[1].id_type, IPSEC_ID_IPV6_ADDR_SUBNET);
	ASSERT_INT_EQ(msg.m_id[1].id_addr2[5], 0xff);
	ASSERT_INT_EQ(msg.m_id[1].id_addr2[6], 0);
}

TEST(golden_reply)
{
	ASSERT_INT_EQ(load_roundtrip("isakmp_reply.hex", ISAKMP_NPTYPE_SA), 0);
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_spi, 0x9876);
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_ntrans, 1);
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_trans[0].t_num, 2);
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_secs, 1800);
	ASSERT_INT_EQ(msg.m_nonce.rb_len, 12);
}

/* Build from a struct (not from bytes) and compare with the golden. */
TEST(build_from_struct)
{
	struct isakmp_msg *m = &msg2;
	struct isakmp_prop *p;
	struct buf b;
	uint8_t first, nonce[16];

	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)i;
	memset(m, 0, sizeof(*m));
	m->m_has_sa = 1;
	m->m_sa.sa_doi = IPSEC_DOI;
	m->m_sa.sa_sit = IPSEC_SIT_IDENTITY_ONLY;
	m->m_sa.sa_nprop = 1;
	p = &m->m_sa.sa_prop[0];
	p->p_num = 1;
	p->p_proto = PROTO_IPSEC_ESP;
	p->p_spisize = 4;
	p->p_spi = 0x1234;
	p->p_ntrans = 2;
	p->p_trans[0].t_num = 1;
	p->p_trans[0].t_id = ESP_AES_CBC;
	p->p_trans[0].t_attrs.a_life_secs = 3600;
	p->p_trans[0].t_attrs.a_mode = ENCAP_MODE_TRANSPORT;
	p->p_trans[0].t_attrs.a_keylen = 128;
	p->p_trans[0].t_attrs.a_auth = AUTH_ALG_HMAC_SHA;
	p->p_trans[1] = p->p_trans[0];
	p->p_trans[1].t_num = 2;
	p->p_trans[1].t_id = ESP_3DES;
	p->p_trans[1].t_attrs.a_keylen = 0;
	m->m_nonce = rbuf_make(nonce, sizeof(nonce));
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(m, &b, &first), 0);
	ASSERT_INT_EQ(first, ISAKMP_NPTYPE_SA);
	ASSERT_INT_EQ(b.b_len, glen);
	ASSERT_MEM_EQ(b.b_data, g, glen);
	buf_free(&b);
}

TEST(build_empty)
{
	struct buf b;
	uint8_t first = 99;

	memset(&msg2, 0, sizeof(msg2));
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), 0);
	ASSERT_INT_EQ(first, ISAKMP_NPTYPE_NONE);
	ASSERT_INT_EQ(b.b_len, 0);
	ASSERT_INT_EQ(isakmp_parse(b.b_data, 0, ISAKMP_NPTYPE_NONE, &msg), 0);
	buf_free(&b);
}

/* The builder refuses what the parser would refuse, and leaves no trace. */
TEST(build_rejects)
{
	struct buf b;
	uint8_t first, small[7] = { 0 };

	ASSERT_INT_EQ(load_parse("isakmp_create_pfs_ids.hex"), 0);
	buf_init(&b, 0);
	msg2 = msg;
	msg2.m_nonce = rbuf_make(small, sizeof(small));
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_NONCE_LEN);
	ASSERT_INT_EQ(b.b_len, 0);
	msg2 = msg;
	msg2.m_nid = 1;
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_ID_COUNT);
	msg2 = msg;
	msg2.m_sa.sa_doi = 2;
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_DOI);
	msg2 = msg;
	msg2.m_sa.sa_prop[0].p_spi = 1;
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_SPI_VALUE);
	msg2 = msg;
	msg2.m_sa.sa_prop[0].p_trans[0].t_attrs.a_keylen = 7;
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_ATTR_VALUE);
	msg2 = msg;
	msg2.m_id[0].id_type = IPSEC_ID_FQDN;
	ASSERT_INT_EQ(isakmp_build(&msg2, &b, &first), ISAKMP_ERR_ID_TYPE);
	ASSERT_INT_EQ(b.b_len, 0);
	ASSERT_INT_EQ(first, ISAKMP_NPTYPE_NONE);
	buf_free(&b);
}

/* Large lifetimes use the variable form (4 octets), small ones TV. */
TEST(build_life_forms)
{
	struct buf b;
	uint8_t first;

	ASSERT_INT_EQ(load_parse("isakmp_create.hex"), 0);
	msg.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_secs = 0x10000;
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&msg, &b, &first), 0);
	ASSERT_INT_EQ(b.b_len, glen + 4);
	/* Transform #1 attributes start at 32: LD type TV, then LD TLV. */
	ASSERT_INT_EQ(get_be16(b.b_data + 36), IPSECDOI_ATTR_SA_LD);
	ASSERT_INT_EQ(get_be16(b.b_data + 38), 4);
	ASSERT_INT_EQ(get_be32(b.b_data + 40), 0x10000);
	ASSERT_INT_EQ(isakmp_parse(b.b_data, b.b_len, first, &msg2), 0);
	ASSERT_INT_EQ(msg2.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_secs,
	    0x10000);
	buf_free(&b);
}

/* --- one case per malformed class ------------------------------------ */

static int
parse_patched(const char *file, uint8_t first, size_t off, uint8_t val)
{
	if (load(file) != 0)
		return -100;
	g[off] = val;
	return isakmp_parse(g, glen, first, &msg);
}

TEST(bad_trunc)
{
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	/* Nonce claims 20 octets, 19 are there. */
	ASSERT_INT_EQ(isakmp_parse(g, glen - 1, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_TRUNC);
	/* A Next Payload with nothing after it. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 76,
	    ISAKMP_NPTYPE_NONCE), ISAKMP_ERR_TRUNC);
	ASSERT_INT_EQ(isakmp_parse(g, 0, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_TRUNC);
}

TEST(bad_length)
{
	/* Payload length 3 < header. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 3,
	    3), ISAKMP_ERR_LENGTH);
	/* Proposal length larger than the SA payload. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 15,
	    0x44), ISAKMP_ERR_LENGTH);
	/* Transform length over its proposal. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 27,
	    0x40), ISAKMP_ERR_LENGTH);
	/* Delete: #SPIs x SPI size != what is there. */
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 11,
	    3), ISAKMP_ERR_LENGTH);
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 11,
	    0), ISAKMP_ERR_LENGTH);
}

/* #SPIs x SPI size exactly: fewer SPIs than octets is refused too. */
TEST(delete_spis_exact)
{
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 11,
	    1), ISAKMP_ERR_LENGTH);
}

/* An SA payload of n ESP proposals, one transform each, no attributes. */
static size_t
sa_with_props(uint8_t *b, int n)
{
	size_t off = 4;

	put_be32(b + off, 1);		/* DOI IPsec */
	put_be32(b + off + 4, 1);	/* SIT_IDENTITY_ONLY */
	off += 8;
	for (int i = 1; i <= n; i++) {
		uint8_t *p = b + off;

		p[0] = i < n ? ISAKMP_NPTYPE_P : ISAKMP_NPTYPE_NONE;
		p[1] = 0;
		put_be16(p + 2, 20);
		p[4] = (uint8_t)i;	/* rising numbers: no bundle */
		p[5] = PROTO_IPSEC_ESP;
		p[6] = 4;
		p[7] = 1;
		put_be32(p + 8, 0x1000 + (uint32_t)i);
		p[12] = ISAKMP_NPTYPE_NONE;
		p[13] = 0;
		put_be16(p + 14, 8);
		p[16] = 1;
		p[17] = 12;		/* ESP_AES */
		p[18] = p[19] = 0;
		off += 20;
	}
	b[0] = ISAKMP_NPTYPE_NONE;
	b[1] = 0;
	put_be16(b + 2, (uint16_t)off);
	return off;
}

/* ISAKMP_MAX_PROPS proposals parse; one more is refused, not stored. */
TEST(props_limit)
{
	uint8_t b[12 + 20 * (ISAKMP_MAX_PROPS + 1)];
	size_t len;

	len = sa_with_props(b, ISAKMP_MAX_PROPS);
	ASSERT_INT_EQ(isakmp_parse(b, len, ISAKMP_NPTYPE_SA, &msg), 0);
	ASSERT_INT_EQ(msg.m_sa.sa_nprop, ISAKMP_MAX_PROPS);
	len = sa_with_props(b, ISAKMP_MAX_PROPS + 1);
	ASSERT_INT_EQ(isakmp_parse(b, len, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_TOO_MANY);
}

TEST(bad_trailing)
{
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[glen] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, glen + 1, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_TRAILING);
}

TEST(bad_reserved)
{
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 1,
	    1), ISAKMP_ERR_RESERVED);
	/* Proposal RESERVED. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 13,
	    1), ISAKMP_ERR_RESERVED);
	/* Transform RESERVED2. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 31,
	    1), ISAKMP_ERR_RESERVED);
}

TEST(bad_payload_type)
{
	/* HASH has no place in KINK; the error names the type. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 0,
	    ISAKMP_NPTYPE_HASH), ISAKMP_ERR_PAYLOAD_TYPE);
	ASSERT_INT_EQ(msg.m_err_type, ISAKMP_NPTYPE_HASH);
	ASSERT_INT_EQ(msg.m_err_off, 76);
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", 99, 0, 0x0a),
	    ISAKMP_ERR_PAYLOAD_TYPE);
	ASSERT_INT_EQ(msg.m_err_type, 99);
	/* Proposal and Transform only exist inside an SA. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_P, 0,
	    0x0a), ISAKMP_ERR_PAYLOAD_TYPE);
	ASSERT_INT_EQ(msg.m_err_type, ISAKMP_NPTYPE_P);
}

TEST(bad_dup)
{
	uint8_t two[40];

	/* Nonce, Nonce. */
	memset(two, 0, sizeof(two));
	two[0] = ISAKMP_NPTYPE_NONCE;
	two[3] = 20;
	two[23] = 20;
	ASSERT_INT_EQ(isakmp_parse(two, 40, ISAKMP_NPTYPE_NONCE, &msg),
	    ISAKMP_ERR_DUP);
	two[0] = ISAKMP_NPTYPE_KE;
	ASSERT_INT_EQ(isakmp_parse(two, 40, ISAKMP_NPTYPE_KE, &msg),
	    ISAKMP_ERR_DUP);
}

TEST(bad_too_many)
{
	static uint8_t many[20 * 12];

	/* 17 Notify payloads: over both limits. */
	memset(many, 0, sizeof(many));
	for (int i = 0; i < 17; i++) {
		uint8_t *p = many + i * 12;

		p[0] = i < 16 ? ISAKMP_NPTYPE_N : 0;
		p[3] = 12;
		p[7] = 1;
	}
	ASSERT_INT_EQ(isakmp_parse(many, 17 * 12, ISAKMP_NPTYPE_N, &msg),
	    ISAKMP_ERR_TOO_MANY);
	ASSERT_INT_EQ(isakmp_parse(many + 12 * 12, 5 * 12, ISAKMP_NPTYPE_N,
	    &msg), ISAKMP_ERR_TOO_MANY);	/* 5 > ISAKMP_MAX_NOTIFY */
	ASSERT_INT_EQ(isakmp_parse(many + 13 * 12, 4 * 12, ISAKMP_NPTYPE_N,
	    &msg), 0);
	/* A proposal claiming 17 transforms. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 19,
	    17), ISAKMP_ERR_TOO_MANY);
}

TEST(bad_doi)
{
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 7,
	    2), ISAKMP_ERR_DOI);
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 7,
	    0), ISAKMP_ERR_DOI);
	ASSERT_INT_EQ(parse_patched("isakmp_notify.hex", ISAKMP_NPTYPE_N, 7,
	    2), ISAKMP_ERR_DOI);
	/* Notify DOI 0 (ISAKMP-level) is fine (RFC 2408 3.14). */
	ASSERT_INT_EQ(parse_patched("isakmp_notify.hex", ISAKMP_NPTYPE_N, 7,
	    0), 0);
}

TEST(bad_situation)
{
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 11,
	    3), ISAKMP_ERR_SITUATION);
}

TEST(bad_prop_syntax)
{
	/* Proposal Next Payload not Proposal/NONE. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 12,
	    ISAKMP_NPTYPE_T), ISAKMP_ERR_PROP_SYNTAX);
	/* #Transforms says 1 but the first transform says "more". */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 19,
	    1), ISAKMP_ERR_PROP_SYNTAX);
	/* #Transforms 3 with 2 present. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 19,
	    3), ISAKMP_ERR_PROP_SYNTAX);
	/* #Transforms 0. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 19,
	    0), ISAKMP_ERR_PROP_SYNTAX);
	/* Last transform says another follows. */
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 52,
	    ISAKMP_NPTYPE_T), ISAKMP_ERR_PROP_SYNTAX);
	/* Proposal numbers going down: #2 then #1. */
	ASSERT_INT_EQ(parse_patched("isakmp_bundle.hex", ISAKMP_NPTYPE_SA, 16,
	    3), ISAKMP_ERR_PROP_SYNTAX);
	/* SA with no proposal at all. */
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[3] = 12;
	memmove(g + 12, g + 76, 20);
	ASSERT_INT_EQ(isakmp_parse(g, 32, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_PROP_SYNTAX);
}

TEST(bad_proto)
{
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 17,
	    PROTO_ISAKMP), ISAKMP_ERR_PROTO);
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 17,
	    9), ISAKMP_ERR_PROTO);
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 8,
	    1), ISAKMP_ERR_PROTO);
}

TEST(bad_spi_size)
{
	ASSERT_INT_EQ(parse_patched("isakmp_create.hex", ISAKMP_NPTYPE_SA, 18,
	    2), ISAKMP_ERR_SPI_SIZE);
	/* IPCOMP with a 3-octet SPI (2, or 4 on receipt, are the forms). */
	ASSERT_INT_EQ(parse_patched("isakmp_bundle.hex", ISAKMP_NPTYPE_SA, 114,
	    3), ISAKMP_ERR_SPI_SIZE);
	ASSERT_INT_EQ(parse_patched("isakmp_delete.hex", ISAKMP_NPTYPE_D, 9,
	    2), ISAKMP_ERR_SPI_SIZE);
}

TEST(bad_spi_value)
{
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[22] = 0;
	g[23] = 0xff;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_SPI_VALUE);
	g[23] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_SPI_VALUE);
}

TEST(bad_attr)
{
	/* Variable-form attribute longer than its transform. */
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[52 + 8] = 0x00;	/* 80 01 -> 00 01, length 1 = next octets */
	g[52 + 10] = 0x00;
	g[52 + 11] = 0x40;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_ATTR);
	/* Variable form of length 0. */
	g[52 + 11] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_ATTR);
	/* Half an attribute at the end of a transform: cut 2 octets off
	   transform #2, its proposal and the SA, and drop the Nonce. */
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[0] = ISAKMP_NPTYPE_NONE;
	g[3] = 74;
	g[15] = 62;
	g[55] = 22;
	ASSERT_INT_EQ(isakmp_parse(g, 74, ISAKMP_NPTYPE_SA, &msg),
	    ISAKMP_ERR_ATTR);
}

TEST(bad_nonce_len)
{
	uint8_t n[4 + 257];

	memset(n, 0, sizeof(n));
	n[3] = 4 + 7;
	ASSERT_INT_EQ(isakmp_parse(n, 11, ISAKMP_NPTYPE_NONCE, &msg),
	    ISAKMP_ERR_NONCE_LEN);
	n[3] = 4 + 8;
	ASSERT_INT_EQ(isakmp_parse(n, 12, ISAKMP_NPTYPE_NONCE, &msg), 0);
	put_be16(n + 2, 4 + 256);
	ASSERT_INT_EQ(isakmp_parse(n, 260, ISAKMP_NPTYPE_NONCE, &msg), 0);
	put_be16(n + 2, 4 + 257);
	ASSERT_INT_EQ(isakmp_parse(n, 261, ISAKMP_NPTYPE_NONCE, &msg),
	    ISAKMP_ERR_NONCE_LEN);
}

TEST(bad_ke_len)
{
	uint8_t k[4] = { 0, 0, 0, 4 };

	ASSERT_INT_EQ(isakmp_parse(k, 4, ISAKMP_NPTYPE_KE, &msg),
	    ISAKMP_ERR_KE_LEN);
}

/* The upper bound too: ISAKMP_MAX_KE octets parse, one more does not. */
TEST(ke_len_limit)
{
	uint8_t k[4 + ISAKMP_MAX_KE + 1];

	memset(k, 0, sizeof(k));
	put_be16(k + 2, 4 + ISAKMP_MAX_KE);
	ASSERT_INT_EQ(isakmp_parse(k, 4 + ISAKMP_MAX_KE, ISAKMP_NPTYPE_KE,
	    &msg), 0);
	ASSERT_INT_EQ((int)msg.m_ke.rb_len, ISAKMP_MAX_KE);
	put_be16(k + 2, 4 + ISAKMP_MAX_KE + 1);
	ASSERT_INT_EQ(isakmp_parse(k, sizeof(k), ISAKMP_NPTYPE_KE, &msg),
	    ISAKMP_ERR_KE_LEN);
}

TEST(bad_id)
{
	/* ID types outside 1,4,5,6,7,8: FQDN, KEY_ID. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 4,
	    IPSEC_ID_FQDN), ISAKMP_ERR_ID_TYPE);
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 4,
	    IPSEC_ID_KEY_ID), ISAKMP_ERR_ID_TYPE);
	/* IPv4 address with 8 octets of data. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 4,
	    IPSEC_ID_IPV4_ADDR), ISAKMP_ERR_ID_LEN);
	/* Reversed range. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 15,
	    0), ISAKMP_ERR_ID_VALUE);
	/* Mask with a hole. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID,
	    16 + 8 + 16 + 2, 0x7f), ISAKMP_ERR_ID_VALUE);
	/* Port without protocol. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 5,
	    0), ISAKMP_ERR_ID_VALUE);
	/* ID body shorter than its fixed part. */
	ASSERT_INT_EQ(parse_patched("isakmp_ids_range.hex", ISAKMP_NPTYPE_ID, 3,
	    6), ISAKMP_ERR_LENGTH);
}

TEST(bad_id_count)
{
	/* One ID only. */
	ASSERT_INT_EQ(load("isakmp_ids_range.hex"), 0);
	g[0] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, 16, ISAKMP_NPTYPE_ID, &msg),
	    ISAKMP_ERR_ID_COUNT);
	/* Three IDs: the second one again. */
	ASSERT_INT_EQ(load("isakmp_ids_range.hex"), 0);
	g[16] = ISAKMP_NPTYPE_ID;
	memcpy(g + glen, g + 16, 40);
	g[glen] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, glen + 40, ISAKMP_NPTYPE_ID, &msg),
	    ISAKMP_ERR_ID_COUNT);
}

TEST(bad_notify)
{
	ASSERT_INT_EQ(parse_patched("isakmp_notify.hex", ISAKMP_NPTYPE_N, 9,
	    17), ISAKMP_ERR_NOTIFY);
	/* SPI size beyond the payload. */
	ASSERT_INT_EQ(parse_patched("isakmp_notify.hex", ISAKMP_NPTYPE_N, 9,
	    2), ISAKMP_ERR_LENGTH);
}

/* --- transform-level meaning: recorded, not fatal -------------------- */

static int
trans0_err(const char *file, size_t off, uint8_t val)
{
	int rc = parse_patched(file, ISAKMP_NPTYPE_SA, off, val);

	if (rc != 0)
		return -1000 - rc;
	return msg.m_sa.sa_prop[0].p_trans[0].t_err;
}

TEST(trans_key_length_7)
{
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 15, 7),
	    ISAKMP_ERR_ATTR_VALUE);
	/* The other transform stays usable. */
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_trans[1].t_err, 0);
}

TEST(trans_lifetime_0)
{
	ASSERT_INT_EQ(load("isakmp_create.hex"), 0);
	g[32 + 6] = 0;
	g[32 + 7] = 0;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &msg), 0);
	ASSERT_INT_EQ(msg.m_sa.sa_prop[0].p_trans[0].t_err,
	    ISAKMP_ERR_ATTR_VALUE);
}

TEST(trans_bad_values)
{
	/* Life Type 3. */
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 3, 3),
	    ISAKMP_ERR_ATTR_VALUE);
	/* Encapsulation Mode 3 (UDP-encapsulated: not ours). */
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 11, 3),
	    ISAKMP_ERR_ATTR_VALUE);
	/* Auth Algorithm 0. */
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 19, 0),
	    ISAKMP_ERR_ATTR_VALUE);
}

TEST(trans_unknown_attr)
{
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 17, 0x63),
	    ISAKMP_ERR_ATTR_UNKNOWN);
}

TEST(trans_dup_attr)
{
	/* Key Length becomes a second Auth Algorithm. */
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 13, 5),
	    ISAKMP_ERR_ATTR_DUP);
	/* Duration without a Life Type before it. */
	ASSERT_INT_EQ(trans0_err("isakmp_create.hex", 32 + 1, 0x04),
	    ISAKMP_ERR_ATTR_DUP);
}

/* --- the error table ------------------------------------------------- */

TEST(err_table)
{
	for (int e = 0; e < ISAKMP_ERR_MAX; e++) {
		const struct isakmp_err_info *ei = isakmp_err_info(e);

		ASSERT_INT_EQ(ei->ei_err, e);
		ASSERT_TRUE(ei->ei_name != NULL && ei->ei_name[0] != '\0');
		/* RFC 4430 5.5 sends only these four error types. */
		ASSERT_TRUE(ei->ei_notify == 0 ||
		    ei->ei_notify == ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE ||
		    ei->ei_notify == ISAKMP_NTYPE_INVALID_SPI ||
		    ei->ei_notify == ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN ||
		    ei->ei_notify == ISAKMP_NTYPE_PAYLOAD_MALFORMED);
		for (int f = 0; f < e; f++)
			ASSERT_TRUE(strcmp(isakmp_err_info(f)->ei_name,
			    ei->ei_name) != 0);
	}
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_PAYLOAD_TYPE),
	    ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_KE_REFUSED),
	    ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_SPI_IN_USE),
	    ISAKMP_NTYPE_INVALID_SPI);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_NO_PROPOSAL),
	    ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_LIFE_RAISED),
	    ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_TRUNC),
	    ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_DOI),
	    ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	ASSERT_INT_EQ(isakmp_err_info(ISAKMP_ERR_PROP_SYNTAX)->ei_isakmp,
	    ISAKMP_NTYPE_BAD_PROPOSAL_SYNTAX);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_NOMEM), 0);
	ASSERT_INT_EQ(isakmp_err_notify(ISAKMP_ERR_PEER_NOTIFY), 0);
	ASSERT_STR_EQ(isakmp_strerror(-1), "UNKNOWN");
	ASSERT_STR_EQ(isakmp_strerror(ISAKMP_ERR_MAX), "UNKNOWN");
	ASSERT_STR_EQ(isakmp_strerror(ISAKMP_ERR_SPI_IN_USE), "SPI_IN_USE");
}

/* --- mutation loop --------------------------------------------------- */

/* Whatever parses must rebuild to something that parses the same way. */
static int
stable(const uint8_t *p, size_t len, uint8_t first)
{
	struct buf b, b2;
	uint8_t f1, f2;
	int rc = -1, usable = 1;

	if (isakmp_parse(p, len, first, &msg) != 0)
		return 0;
	/* Views must stay inside the input. */
	if (msg.m_nonce.rb_p && (msg.m_nonce.rb_p < p ||
	    msg.m_nonce.rb_p + msg.m_nonce.rb_len > p + len))
		return -1;
	for (int i = 0; i < msg.m_sa.sa_nprop; i++)
		for (int j = 0; j < msg.m_sa.sa_prop[i].p_ntrans; j++)
			if (msg.m_sa.sa_prop[i].p_trans[j].t_err)
				usable = 0;
	if (!usable)
		return 0;
	buf_init(&b, 0);
	buf_init(&b2, 0);
	if (isakmp_build(&msg, &b, &f1) != 0 ||
	    isakmp_parse(b.b_data, b.b_len, f1, &msg2) != 0 ||
	    isakmp_build(&msg2, &b2, &f2) != 0 || f1 != f2 ||
	    b.b_len != b2.b_len || memcmp(b.b_data, b2.b_data, b.b_len) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	buf_free(&b2);
	return rc;
}

TEST(mutation_loop)
{
	static uint8_t m[4096];
	unsigned long runs = 0, accepted = 0;

	for (size_t k = 0; k < NGOLDEN; k++) {
		ASSERT_INT_EQ(load(goldens[k].g_file), 0);
		for (size_t bit = 0; bit < glen * 8; bit++) {
			memcpy(m, g, glen);
			m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (isakmp_parse(m, glen, goldens[k].g_first, &msg) == 0)
				accepted++;
			if (stable(m, glen, goldens[k].g_first) != 0) {
				test_fail(__FILE__, __LINE__, "%s bit %zu unstable",
				    goldens[k].g_file, bit);
				return;
			}
			runs++;
		}
		for (size_t len = 0; len < glen; len++) {
			/* A fresh heap copy so ASan sees any overread. */
			uint8_t *h = malloc(len ? len : 1);

			ASSERT_TRUE(h != NULL);
			memcpy(h, g, len);
			ASSERT_INT_NE(isakmp_parse(h, len, goldens[k].g_first,
			    &msg), 0);
			free(h);
			runs++;
		}
		/* Every first-payload type, too. */
		for (int t = 0; t < 256; t++) {
			if (stable(g, glen, (uint8_t)t) != 0) {
				test_fail(__FILE__, __LINE__, "first %d", t);
				return;
			}
			runs++;
		}
	}
	ASSERT_TRUE(runs > 5000);
	ASSERT_TRUE(accepted > 0);
}

int
main(void)
{
	RUN(golden_create);
	RUN(golden_create_pfs_ids);
	RUN(golden_bundle);
	RUN(golden_notify);
	RUN(golden_delete);
	RUN(golden_ids_range);
	RUN(golden_reply);
	RUN(build_from_struct);
	RUN(build_empty);
	RUN(build_rejects);
	RUN(build_life_forms);
	RUN(bad_trunc);
	RUN(bad_length);
	RUN(bad_trailing);
	RUN(bad_reserved);
	RUN(bad_payload_type);
	RUN(bad_dup);
	RUN(bad_too_many);
	RUN(bad_doi);
	RUN(bad_situation);
	RUN(bad_prop_syntax);
	RUN(bad_proto);
	RUN(bad_spi_size);
	RUN(bad_spi_value);
	RUN(bad_attr);
	RUN(bad_nonce_len);
	RUN(bad_ke_len);
	RUN(delete_spis_exact);
	RUN(props_limit);
	RUN(ke_len_limit);
	RUN(bad_id);
	RUN(bad_id_count);
	RUN(bad_notify);
	RUN(trans_key_length_7);
	RUN(trans_lifetime_0);
	RUN(trans_bad_values);
	RUN(trans_unknown_attr);
	RUN(trans_dup_attr);
	RUN(err_table);
	RUN(mutation_loop);
	return test_done();
}
