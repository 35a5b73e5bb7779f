/*
 * ctl_msg: every message type round-trips; the layout is pinned by golden
 * octets; malformed input fails with the exact error code; random
 * mutations never crash and whatever decodes re-encodes to the same octets.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "ctl.h"
#include "ctl_msg.h"
#include "isakmp_num.h"
#include "kink.h"
#include "test.h"

static struct ctl_msg *
msg_new(uint8_t type, uint16_t flags, uint32_t seq)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));

	m->m_hdr.ch_type = type;
	m->m_hdr.ch_flags = flags;
	m->m_hdr.ch_seq = seq;
	return m;
}

static void
fill_sa(struct ctl_sa *s, int v6)
{
	strcpy(s->cs_peer, "beta");
	strcpy(s->cs_policy, "web");
	s->cs_dir = CTL_SA_DIR_OUT;
	s->cs_proto = PROTO_IPSEC_ESP;
	s->cs_mode = ENCAP_MODE_TRANSPORT;
	s->cs_state = CTL_SA_MATURE;
	s->cs_spi = 0xdeadbeef;
	if (v6) {
		s->cs_src.ca_af = s->cs_dst.ca_af = CTL_AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", s->cs_src.ca_addr);
		inet_pton(AF_INET6, "2001:db8::2", s->cs_dst.ca_addr);
	} else {
		s->cs_src.ca_af = s->cs_dst.ca_af = CTL_AF_INET;
		inet_pton(AF_INET, "192.0.2.1", s->cs_src.ca_addr);
		inet_pton(AF_INET, "192.0.2.2", s->cs_dst.ca_addr);
		s->cs_dst.ca_port = 910;
	}
	s->cs_enc = ESP_AES_CBC;
	s->cs_enc_keylen = 128;
	s->cs_auth = AUTH_ALG_HMAC_SHA2_256;
	s->cs_enckey_len = 16;
	for (int i = 0; i < 16; i++)
		s->cs_enckey[i] = (uint8_t)(0xa0 + i);
	s->cs_authkey_len = CTL_KEY_MAX;
	for (int i = 0; i < CTL_KEY_MAX; i++)
		s->cs_authkey[i] = (uint8_t)i;
	s->cs_life_soft_secs = 3000;
	s->cs_life_hard_secs = 3600;
	s->cs_life_soft_bytes = 1ULL << 40;
	s->cs_life_hard_bytes = (1ULL << 40) + 5;
	s->cs_created = 1700000000;
	s->cs_bytes = CTL_UNKNOWN64;
	strcpy(s->cs_reason, "kernel lost it (reconcile 12:03:04)");
}

static void
fill_peer(struct ctl_peer *p)
{
	strcpy(p->cp_name, "beta");
	strcpy(p->cp_principal, "kink/beta.example@EXAMPLE.ORG");
	p->cp_state = CTL_PEER_SUSPECTED;
	p->cp_naddr = CTL_PEER_ADDR_MAX;
	for (int i = 0; i < CTL_PEER_ADDR_MAX; i++) {
		p->cp_addr[i].ca_af = i % 2 ? CTL_AF_INET6 : CTL_AF_INET;
		p->cp_addr[i].ca_addr[0] = (uint8_t)(10 + i);
		p->cp_addr[i].ca_port = (uint16_t)(900 + i);
	}
	p->cp_epoch_known = 1;
	p->cp_epoch = 0x12345678;
	p->cp_clock_offset = -42;
	p->cp_last_seen = 1700000001;
	p->cp_nsa = 4;
	strcpy(p->cp_lasterr, "initiator CREATE: no answer after 5 sends");
	p->cp_lasterr_time = 1700000002;
}

static void
fill_xact(struct ctl_xact *x)
{
	x->cx_xid = 0x1a2b3c4d;
	strcpy(x->cx_peer, "beta");
	x->cx_cmd = KINK_MSGTYPE_CREATE;
	x->cx_role = CTL_ROLE_INITIATOR;
	strcpy(x->cx_state, "I_CREATE");
	x->cx_tries = 3;
	x->cx_age_ms = 1234;
}

static void
fill_stats(struct ctl_stats *s, unsigned n)
{
	s->cst_n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		snprintf(s->cst_v[i].cst_name, sizeof(s->cst_v[i].cst_name),
		    "counter_%u", i);
		s->cst_v[i].cst_value = 0xfedcba9876543210ULL + i;
	}
}

static void
fill_event(struct ctl_event *ev)
{
	ev->ce_time_ms = 1700000000123ULL;
	strcpy(ev->ce_type, CTL_EV_SA_ADD);
	strcpy(ev->ce_peer, "beta");
	ev->ce_xid = 77;
	strcpy(ev->ce_text, "esp out spi 0xdeadbeef");
}

static void
fill_policy(struct ctl_policy *p)
{
	strcpy(p->cpo_peer, "beta");
	strcpy(p->cpo_name, "lan");
	p->cpo_reqid = 0x01020304;
	p->cpo_mode = ENCAP_MODE_TUNNEL;
	p->cpo_src.ca_af = p->cpo_dst.ca_af = CTL_AF_INET;
	inet_pton(AF_INET, "10.1.0.0", p->cpo_src.ca_addr);
	inet_pton(AF_INET, "10.2.0.0", p->cpo_dst.ca_addr);
	p->cpo_dst.ca_port = 443;
	p->cpo_src_plen = 16;
	p->cpo_dst_plen = 24;
	p->cpo_ulproto = 6;
	p->cpo_priority = 952;
	p->cpo_ndir = 3;
	p->cpo_dir[0] = CTL_POL_DIR_OUT;
	p->cpo_dir[1] = CTL_POL_DIR_IN;
	p->cpo_dir[2] = CTL_POL_DIR_FWD;
	p->cpo_kernel[0] = CTL_POL_K_YES;
	p->cpo_kernel[1] = CTL_POL_K_NO;
	p->cpo_kernel[2] = CTL_POL_K_UNKNOWN;
}

/* One valid message of each kind, for the loops below. */
#define NSAMPLES 24
static struct ctl_msg *
sample(int i)
{
	struct ctl_msg *m;

	switch (i) {
	case 0: m = msg_new(CTL_REQ_SHOW_SA, 0, 1); break;
	case 1: m = msg_new(CTL_REQ_SHOW_SA, CTL_F_KEYS, 2);
		strcpy(m->m_req.cr_peer, "beta"); break;
	case 2: m = msg_new(CTL_REQ_SHOW_PEERS, 0, 3); break;
	case 3: m = msg_new(CTL_REQ_SHOW_XACT, 0, 4); break;
	case 4: m = msg_new(CTL_REQ_SHOW_STATS, 0, 5); break;
	case 5: m = msg_new(CTL_REQ_INITIATE, 0, 6);
		strcpy(m->m_req.cr_peer, "beta");
		strcpy(m->m_req.cr_policy, "web"); break;
	case 6: m = msg_new(CTL_REQ_DELETE_SA, 0, 7);
		m->m_req.cr_spi = 0x12345678; break;
	case 7: m = msg_new(CTL_REQ_FLUSH_SA, 0, 8);
		strcpy(m->m_req.cr_peer, "gamma"); break;
	case 8: m = msg_new(CTL_REQ_RELOAD, 0, 9);
		strcpy(m->m_req.cr_file, "/etc/kinkd.conf"); break;
	case 9: m = msg_new(CTL_REQ_LOG, 0, 10);
		m->m_req.cr_level = CTL_LOG_VERBOSE; break;
	case 10: m = msg_new(CTL_REQ_MONITOR, 0, 11); break;
	case 11: m = msg_new(CTL_REC_SA, 0, 12); fill_sa(&m->m_sa, 0); break;
	case 12: m = msg_new(CTL_REC_SA, 0, 13); fill_sa(&m->m_sa, 1); break;
	case 13: m = msg_new(CTL_REC_PEER, 0, 14); fill_peer(&m->m_peer);
		break;
	case 14: m = msg_new(CTL_REC_XACT, 0, 15); fill_xact(&m->m_xact);
		break;
	case 15: m = msg_new(CTL_REC_STATS, 0, 16);
		fill_stats(&m->m_stats, CTL_STATS_MAX); break;
	case 16: m = msg_new(CTL_REC_EVENT, 0, 17); fill_event(&m->m_event);
		break;
	case 17: m = msg_new(CTL_END, 0, 18); break;
	case 18: m = msg_new(CTL_ERROR, 0, 19);
		m->m_error.er_code = CTL_ERR_CONF;
		strcpy(m->m_error.er_text, "kinkd.conf:14:9: expected "
		    "\"transport\" or \"tunnel\", got \"trasnport\"\n"
		    "kinkd.conf:20:1: unknown peer \"x\""); break;
	case 20: m = msg_new(CTL_REQ_SHOW_SELF, 0, 21); break;
	case 21: m = msg_new(CTL_REC_INFO, 0, 22);
		strcpy(m->m_info.ci_name, "listen");
		strcpy(m->m_info.ci_value, "192.0.2.1 port 910"); break;
	case 22: m = msg_new(CTL_REQ_SHOW_POLICIES, 0, 23); break;
	case 23: m = msg_new(CTL_REC_POLICY, 0, 24);
		fill_policy(&m->m_policy); break;
	default: m = msg_new(CTL_REC_STATS, 0, 20);
		fill_stats(&m->m_stats, 0); break;
	}
	return m;
}

/* Size of the union member a type decodes into (for memcmp). */
static size_t
body_size(uint8_t type)
{
	switch (type) {
	case CTL_REC_SA:	return sizeof(struct ctl_sa);
	case CTL_REC_PEER:	return sizeof(struct ctl_peer);
	case CTL_REC_XACT:	return sizeof(struct ctl_xact);
	case CTL_REC_STATS:	return sizeof(struct ctl_stats);
	case CTL_REC_EVENT:	return sizeof(struct ctl_event);
	case CTL_REC_INFO:	return sizeof(struct ctl_info);
	case CTL_REC_POLICY:	return sizeof(struct ctl_policy);
	case CTL_ERROR:		return sizeof(struct ctl_error);
	case CTL_END:		return 0;
	}
	return sizeof(struct ctl_req);
}

TEST(roundtrip_every_type)
{
	for (int i = 0; i < NSAMPLES; i++) {
		struct ctl_msg *m = sample(i), *d = calloc(1, sizeof(*d));
		struct buf b;
		size_t used = 0;

		buf_init(&b, 0);
		ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
		ASSERT_INT_EQ(b.b_data[0], CTL_VERSION);
		ASSERT_INT_EQ(get_be32(b.b_data + 4), b.b_len - CTL_HDR_LEN);
		ASSERT_INT_EQ(ctl_msg_decode(b.b_data, b.b_len, d, &used),
		    CTL_E_OK);
		ASSERT_INT_EQ(used, b.b_len);
		ASSERT_INT_EQ(d->m_hdr.ch_type, m->m_hdr.ch_type);
		ASSERT_INT_EQ(d->m_hdr.ch_flags, m->m_hdr.ch_flags);
		ASSERT_INT_EQ(d->m_hdr.ch_seq, m->m_hdr.ch_seq);
		ASSERT_MEM_EQ(&d->m_sa, &m->m_sa, body_size(m->m_hdr.ch_type));
		buf_free(&b);
		free(m);
		free(d);
	}
}

/* The layout of include/ctl.h, octet by octet. */
TEST(golden_delete_sa)
{
	static const uint8_t want[] = {
		1, CTL_REQ_DELETE_SA, 0, 0, 0, 0, 0, 4, 0, 0, 0, 7,
		0x12, 0x34, 0x56, 0x78 };
	struct ctl_msg *m = sample(6);
	struct buf b;

	buf_init(&b, 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	ASSERT_INT_EQ(b.b_len, sizeof(want));
	ASSERT_MEM_EQ(b.b_data, want, sizeof(want));
	buf_free(&b);
	free(m);
}

TEST(golden_policy)
{
	static const uint8_t want[] = {
		1, CTL_REC_POLICY, 0, 0, 0, 0, 0, 70, 0, 0, 0, 24,
		0, 4, 'b', 'e', 't', 'a', 0, 3, 'l', 'a', 'n',
		1, 2, 3, 4, ENCAP_MODE_TUNNEL,
		CTL_AF_INET, 0, 0, 0, 10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 16,
		CTL_AF_INET, 0, 0x01, 0xbb, 10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 24,
		6, 0, 0, 0x03, 0xb8, 3,
		CTL_POL_DIR_OUT, CTL_POL_K_YES, CTL_POL_DIR_IN, CTL_POL_K_NO,
		CTL_POL_DIR_FWD, CTL_POL_K_UNKNOWN };
	struct ctl_msg *m = sample(23);
	struct buf b;

	buf_init(&b, 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	ASSERT_INT_EQ(b.b_len, sizeof(want));
	ASSERT_MEM_EQ(b.b_data, want, sizeof(want));
	buf_free(&b);
	free(m);
}

TEST(golden_event_and_error)
{
	static const uint8_t ev[] = {
		1, CTL_REC_EVENT, 0, 0, 0, 0, 0, 28, 0, 0, 0, 9,
		0, 0, 0, 0, 0, 0, 0x03, 0xe8,		/* time_ms 1000 */
		0, 6, 's', 'a', '-', 'a', 'd', 'd',	/* type */
		0, 1, 'b',				/* peer */
		0, 0, 0, 5,				/* xid */
		0, 3, 'x', 'y', 'z' };			/* text */
	static const uint8_t er[] = {
		1, CTL_ERROR, 0, 0, 0, 0, 0, 6, 0, 0, 0, 9,
		0, CTL_ERR_PERM, 0, 2, 'n', 'o' };
	struct ctl_msg *m = msg_new(CTL_REC_EVENT, 0, 9);
	struct buf b;

	buf_init(&b, 0);
	m->m_event.ce_time_ms = 1000;
	strcpy(m->m_event.ce_type, "sa-add");
	strcpy(m->m_event.ce_peer, "b");
	m->m_event.ce_xid = 5;
	strcpy(m->m_event.ce_text, "xyz");
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	ASSERT_INT_EQ(b.b_len, sizeof(ev));
	ASSERT_MEM_EQ(b.b_data, ev, sizeof(ev));
	buf_reset(&b);
	memset(m, 0, sizeof(*m));
	m->m_hdr.ch_type = CTL_ERROR;
	m->m_hdr.ch_seq = 9;
	m->m_error.er_code = CTL_ERR_PERM;
	strcpy(m->m_error.er_text, "no");
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	ASSERT_INT_EQ(b.b_len, sizeof(er));
	ASSERT_MEM_EQ(b.b_data, er, sizeof(er));
	buf_free(&b);
	free(m);
}

TEST(header_errors)
{
	uint8_t h[CTL_HDR_LEN] = { 1, CTL_REQ_SHOW_PEERS, 0, 0, 0, 0, 0, 0,
	    0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t t[CTL_HDR_LEN];
	struct ctl_hdr hd;

	ASSERT_INT_EQ(ctl_hdr_decode(h, sizeof(h), &hd), CTL_E_OK);
	ASSERT_INT_EQ(hd.ch_seq, 0xaabbccdd);
	ASSERT_INT_EQ(ctl_hdr_decode(h, CTL_HDR_LEN - 1, &hd), CTL_E_SHORT);
	memcpy(t, h, sizeof(t)); t[0] = 2;
	memset(&hd, 0, sizeof(hd));
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_VERSION);
	ASSERT_INT_EQ(hd.ch_seq, 0xaabbccdd);	/* still filled in */
	ASSERT_INT_EQ(hd.ch_version, 2);
	memcpy(t, h, sizeof(t)); put_be32(t + 4, CTL_MAXMSG + 1);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_TOOBIG);
	memcpy(t, h, sizeof(t)); put_be32(t + 4, CTL_MAXMSG);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_OK);
	memcpy(t, h, sizeof(t)); put_be32(t + 4, 0xffffffff);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_TOOBIG);
	for (unsigned ty = 0; ty < 256; ty++) {
		memcpy(t, h, sizeof(t)); t[1] = (uint8_t)ty;
		ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd),
		    ctl_type_name((uint8_t)ty) ? CTL_E_OK : CTL_E_TYPE);
	}
	memcpy(t, h, sizeof(t)); put_be16(t + 2, CTL_F_KEYS);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_FLAGS);
	t[1] = CTL_REQ_SHOW_SA;
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_OK);
	put_be16(t + 2, 0x0002);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_FLAGS);
	t[1] = CTL_END; put_be16(t + 2, 0x8000);
	ASSERT_INT_EQ(ctl_hdr_decode(t, sizeof(t), &hd), CTL_E_FLAGS);
}

/* Every proper prefix of every message: SHORT as a stream, TRUNC as a
 * payload with a matching length. */
TEST(truncation_exact_codes)
{
	for (int i = 0; i < NSAMPLES; i++) {
		struct ctl_msg *m = sample(i), *d = calloc(1, sizeof(*d));
		struct buf b;
		size_t used, plen;

		buf_init(&b, 0);
		ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
		plen = b.b_len - CTL_HDR_LEN;
		for (size_t k = 0; k < b.b_len; k++)
			ASSERT_INT_EQ(ctl_msg_decode(b.b_data, k, d, &used),
			    CTL_E_SHORT);
		for (size_t k = 0; k < plen; k++) {
			int e = ctl_payload_decode(m->m_hdr.ch_type,
			    m->m_hdr.ch_flags,
			    rbuf_make(b.b_data + CTL_HDR_LEN, k), d);
			if (e != CTL_E_TRUNC) {
				test_fail(__FILE__, __LINE__, "sample %d cut "
				    "%zu/%zu: %s", i, k, plen,
				    ctl_strerror(e));
				return;
			}
		}
		/* One octet more than the layout: trailing. */
		ASSERT_INT_EQ(buf_put_u8(&b, 0), 0);
		put_be32(b.b_data + 4, (uint32_t)plen + 1);
		ASSERT_INT_EQ(ctl_msg_decode(b.b_data, b.b_len, d, &used),
		    CTL_E_TRAILING);
		buf_free(&b);
		free(m);
		free(d);
	}
}

/* Decode a payload given as octets. */
static int
dec(uint8_t type, const uint8_t *p, size_t n)
{
	static struct ctl_msg d;

	return ctl_payload_decode(type, 0, rbuf_make(p, n), &d);
}

TEST(strings)
{
	uint8_t p[CTL_PATH_MAX + 8];
	struct ctl_msg *m;
	struct buf b;

	/* peer name of exactly CTL_NAME_MAX is fine, one more is not */
	memset(p, 'a', sizeof(p));
	put_be16(p, CTL_NAME_MAX);
	ASSERT_INT_EQ(dec(CTL_REQ_FLUSH_SA, p, 2 + CTL_NAME_MAX), CTL_E_OK);
	put_be16(p, CTL_NAME_MAX + 1);
	ASSERT_INT_EQ(dec(CTL_REQ_FLUSH_SA, p, 2 + CTL_NAME_MAX + 1),
	    CTL_E_STRLEN);
	put_be16(p, 0xffff);	/* long AND truncated: truncation first */
	ASSERT_INT_EQ(dec(CTL_REQ_FLUSH_SA, p, 10), CTL_E_TRUNC);
	put_be16(p, CTL_PATH_MAX);
	ASSERT_INT_EQ(dec(CTL_REQ_RELOAD, p, 2 + CTL_PATH_MAX), CTL_E_OK);
	put_be16(p, 3);
	p[3] = 0;
	ASSERT_INT_EQ(dec(CTL_REQ_FLUSH_SA, p, 5), CTL_E_STRNUL);
	/* INITIATE needs a peer */
	memset(p, 0, 4);
	ASSERT_INT_EQ(dec(CTL_REQ_INITIATE, p, 4), CTL_E_VALUE);

	/* the encoder refuses a name with no terminator within the max */
	m = msg_new(CTL_REQ_FLUSH_SA, 0, 1);
	memset(m->m_req.cr_peer, 'a', sizeof(m->m_req.cr_peer));
	buf_init(&b, 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_STRLEN);
	ASSERT_INT_EQ(b.b_len, 0);
	m->m_hdr.ch_type = CTL_REQ_INITIATE;
	memset(m->m_req.cr_peer, 0, sizeof(m->m_req.cr_peer));
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_VALUE);
	buf_free(&b);
	free(m);
}

/* Encode sample i, let `mut` poke the payload, expect `want`. */
static int
mutated(int i, void (*mut)(struct ctl_msg *, uint8_t *), int enc_want)
{
	struct ctl_msg *m = sample(i);
	struct buf b;
	int e;

	buf_init(&b, 0);
	mut(m, NULL);
	e = ctl_msg_encode(&b, m);
	if (e == CTL_E_OK)
		e = -1;		/* the encoder must refuse too */
	buf_free(&b);
	free(m);
	return e == enc_want;
}

/* Patch a field in the encoded payload of sample i; return decode code. */
static int
patched(int i, size_t off, const uint8_t *v, size_t n)
{
	struct ctl_msg *m = sample(i), *d = calloc(1, sizeof(*d));
	struct buf b;
	size_t used;
	int e;

	buf_init(&b, 0);
	(void)ctl_msg_encode(&b, m);
	memcpy(b.b_data + CTL_HDR_LEN + off, v, n);
	e = ctl_msg_decode(b.b_data, b.b_len, d, &used);
	buf_free(&b);
	free(m);
	free(d);
	return e;
}

static void m_sa_dir(struct ctl_msg *m, uint8_t *p) { m->m_sa.cs_dir = 3; }
static void m_sa_proto(struct ctl_msg *m, uint8_t *p) { m->m_sa.cs_proto = 5; }
static void m_sa_mode(struct ctl_msg *m, uint8_t *p) { m->m_sa.cs_mode = 0; }
static void m_sa_state(struct ctl_msg *m, uint8_t *p)
{ m->m_sa.cs_state = CTL_SA_MISSING + 1; }
static void m_sa_key(struct ctl_msg *m, uint8_t *p)
{ m->m_sa.cs_enckey_len = CTL_KEY_MAX + 1; }
static void m_sa_af(struct ctl_msg *m, uint8_t *p) { m->m_sa.cs_src.ca_af = 5; }
static void m_sa_v4tail(struct ctl_msg *m, uint8_t *p)
{ m->m_sa.cs_src.ca_addr[15] = 1; }
static void m_peer_naddr(struct ctl_msg *m, uint8_t *p)
{ m->m_peer.cp_naddr = CTL_PEER_ADDR_MAX + 1; }
static void m_xact_cmd(struct ctl_msg *m, uint8_t *p) { m->m_xact.cx_cmd = 7; }
static void m_xact_role(struct ctl_msg *m, uint8_t *p) { m->m_xact.cx_role = 0; }
static void m_stats_n(struct ctl_msg *m, uint8_t *p)
{ m->m_stats.cst_n = CTL_STATS_MAX + 1; }
static void m_stats_empty(struct ctl_msg *m, uint8_t *p)
{ m->m_stats.cst_v[5].cst_name[0] = 0; }
static void m_ev_type(struct ctl_msg *m, uint8_t *p) { m->m_event.ce_type[0] = 0; }
static void m_err_code(struct ctl_msg *m, uint8_t *p) { m->m_error.er_code = 0; }
static void m_log(struct ctl_msg *m, uint8_t *p)
{ m->m_req.cr_level = CTL_LOG_MAX + 1; }
static void m_info_name(struct ctl_msg *m, uint8_t *p) { m->m_info.ci_name[0] = 0; }
static void m_pol_mode(struct ctl_msg *m, uint8_t *p) { m->m_policy.cpo_mode = 0; }
static void m_pol_ndir0(struct ctl_msg *m, uint8_t *p) { m->m_policy.cpo_ndir = 0; }
static void m_pol_ndir(struct ctl_msg *m, uint8_t *p)
{ m->m_policy.cpo_ndir = CTL_POL_DIR_MAX + 1; }
static void m_pol_dir(struct ctl_msg *m, uint8_t *p) { m->m_policy.cpo_dir[1] = 0; }
static void m_pol_kernel(struct ctl_msg *m, uint8_t *p)
{ m->m_policy.cpo_kernel[2] = CTL_POL_K_UNKNOWN + 1; }

TEST(values_encoder)
{
	ASSERT_TRUE(mutated(11, m_sa_dir, CTL_E_VALUE));
	ASSERT_TRUE(mutated(11, m_sa_proto, CTL_E_VALUE));
	ASSERT_TRUE(mutated(11, m_sa_mode, CTL_E_VALUE));
	ASSERT_TRUE(mutated(11, m_sa_state, CTL_E_VALUE));
	ASSERT_TRUE(mutated(11, m_sa_key, CTL_E_KEYLEN));
	ASSERT_TRUE(mutated(11, m_sa_af, CTL_E_ADDR));
	ASSERT_TRUE(mutated(11, m_sa_v4tail, CTL_E_ADDR));
	ASSERT_TRUE(mutated(13, m_peer_naddr, CTL_E_VALUE));
	ASSERT_TRUE(mutated(14, m_xact_cmd, CTL_E_VALUE));
	ASSERT_TRUE(mutated(14, m_xact_role, CTL_E_VALUE));
	ASSERT_TRUE(mutated(15, m_stats_n, CTL_E_VALUE));
	ASSERT_TRUE(mutated(15, m_stats_empty, CTL_E_VALUE));
	ASSERT_TRUE(mutated(16, m_ev_type, CTL_E_VALUE));
	ASSERT_TRUE(mutated(18, m_err_code, CTL_E_VALUE));
	ASSERT_TRUE(mutated(9, m_log, CTL_E_VALUE));
	ASSERT_TRUE(mutated(21, m_info_name, CTL_E_VALUE));
	ASSERT_TRUE(mutated(23, m_pol_mode, CTL_E_VALUE));
	ASSERT_TRUE(mutated(23, m_pol_ndir0, CTL_E_VALUE));
	ASSERT_TRUE(mutated(23, m_pol_ndir, CTL_E_VALUE));
	ASSERT_TRUE(mutated(23, m_pol_dir, CTL_E_VALUE));
	ASSERT_TRUE(mutated(23, m_pol_kernel, CTL_E_VALUE));
}

TEST(values_decoder)
{
	/* SA (sample 11): peer "beta" (6), policy "web" (5), then dir. */
	const size_t dir = 11, spi = dir + 4, src = spi + 4;
	const size_t key = src + 40 + 6;
	uint8_t v[4];

	v[0] = 0;
	ASSERT_INT_EQ(patched(11, dir, v, 1), CTL_E_VALUE);
	v[0] = 3;
	ASSERT_INT_EQ(patched(11, dir, v, 1), CTL_E_VALUE);
	/* IPComp SAs are listed (proto 4); 5 is no IPsec protocol. */
	v[0] = PROTO_IPCOMP;
	ASSERT_INT_EQ(patched(11, dir + 1, v, 1), 0);
	v[0] = 5;
	ASSERT_INT_EQ(patched(11, dir + 1, v, 1), CTL_E_VALUE);
	v[0] = 3;
	ASSERT_INT_EQ(patched(11, dir + 2, v, 1), CTL_E_VALUE);
	v[0] = 0;
	ASSERT_INT_EQ(patched(11, dir + 3, v, 1), CTL_E_VALUE);
	v[0] = 7;
	ASSERT_INT_EQ(patched(11, src, v, 1), CTL_E_ADDR);	/* af */
	v[0] = 1;
	ASSERT_INT_EQ(patched(11, src + 1, v, 1), CTL_E_ADDR);	/* pad */
	ASSERT_INT_EQ(patched(11, src + 4 + 4, v, 1), CTL_E_ADDR); /* v4 tail */
	v[0] = CTL_KEY_MAX + 1;
	ASSERT_INT_EQ(patched(11, key, v, 1), CTL_E_KEYLEN);
	/* v6 address: every octet is address */
	v[0] = 0xff;
	ASSERT_INT_EQ(patched(12, src + 4 + 15, v, 1), CTL_E_OK);
	/* PEER (13): name (6), principal (2+29), state */
	v[0] = 3;
	ASSERT_INT_EQ(patched(13, 37, v, 1), CTL_E_VALUE);
	v[0] = CTL_PEER_ADDR_MAX + 1;
	ASSERT_INT_EQ(patched(13, 38, v, 1), CTL_E_VALUE);
	/* XACT (14): xid 4, peer 6, cmd, role */
	v[0] = 0;
	ASSERT_INT_EQ(patched(14, 10, v, 1), CTL_E_VALUE);
	ASSERT_INT_EQ(patched(14, 11, v, 1), CTL_E_VALUE);
	/* STATS (15): count above the max */
	put_be16(v, CTL_STATS_MAX + 1);
	ASSERT_INT_EQ(patched(15, 0, v, 2), CTL_E_VALUE);
	/* ERROR (18): code 0 and CTL_ERR_MAX + 1 */
	put_be16(v, 0);
	ASSERT_INT_EQ(patched(18, 0, v, 2), CTL_E_VALUE);
	put_be16(v, CTL_ERR_MAX + 1);
	ASSERT_INT_EQ(patched(18, 0, v, 2), CTL_E_VALUE);
	/* LOG (9): one above the last level (warning) */
	v[0] = CTL_LOG_MAX + 1;
	ASSERT_INT_EQ(patched(9, 0, v, 1), CTL_E_VALUE);
	v[0] = CTL_LOG_WARNING;
	ASSERT_INT_EQ(patched(9, 0, v, 1), CTL_E_OK);
	/* EVENT (16): empty type */
	put_be16(v, 0);
	ASSERT_INT_EQ(patched(16, 8, v, 2), CTL_E_VALUE);
	/* INFO (21): empty name (the rest then reads as trailing) */
	ASSERT_INT_EQ(patched(21, 0, v, 2), CTL_E_VALUE);
	/* POLICY (23): peer 6, name 5, reqid 4, mode at 15; ndir at 63,
	 * then dir/kernel pairs */
	v[0] = 0;
	ASSERT_INT_EQ(patched(23, 15, v, 1), CTL_E_VALUE);
	ASSERT_INT_EQ(patched(23, 63, v, 1), CTL_E_VALUE);
	v[0] = CTL_POL_DIR_MAX + 1;
	ASSERT_INT_EQ(patched(23, 63, v, 1), CTL_E_VALUE);
	ASSERT_INT_EQ(patched(23, 64, v, 1), CTL_E_VALUE);
	v[0] = CTL_POL_K_UNKNOWN + 1;
	ASSERT_INT_EQ(patched(23, 65, v, 1), CTL_E_VALUE);
	v[0] = 2;	/* two entries: the third pair is left over */
	ASSERT_INT_EQ(patched(23, 63, v, 1), CTL_E_TRAILING);
}

TEST(keys_and_sizes)
{
	struct ctl_msg *m = sample(15);
	struct buf b;

	/* The largest STATS record fits in one message. */
	for (unsigned i = 0; i < CTL_STATS_MAX; i++)
		memset(m->m_stats.cst_v[i].cst_name, 'n', CTL_STAT_NAME_MAX);
	buf_init(&b, 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	ASSERT_TRUE(b.b_len <= CTL_HDR_LEN + CTL_MAXMSG);
	/* A capped output buffer: NOSPACE, output unchanged. */
	buf_free(&b);
	buf_init(&b, 100);
	ASSERT_INT_EQ(buf_put_u8(&b, 0x55), 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_NOSPACE);
	ASSERT_INT_EQ(b.b_len, 1);
	ASSERT_INT_EQ(b.b_data[0], 0x55);
	buf_free(&b);
	/* Unknown type and disallowed flags are refused by the encoder. */
	buf_init(&b, 0);
	m->m_hdr.ch_type = 200;
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_TYPE);
	m->m_hdr.ch_type = CTL_REQ_SHOW_PEERS;
	m->m_hdr.ch_flags = CTL_F_KEYS;
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_FLAGS);
	ASSERT_INT_EQ(b.b_len, 0);
	buf_free(&b);
	free(m);
}

TEST(stream_of_messages)
{
	struct ctl_msg *d = calloc(1, sizeof(*d));
	struct buf b;
	size_t off = 0, used;
	int n = 0;

	buf_init(&b, 0);
	for (int i = 0; i < NSAMPLES; i++) {
		struct ctl_msg *m = sample(i);

		ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
		free(m);
	}
	while (off < b.b_len) {
		ASSERT_INT_EQ(ctl_msg_decode(b.b_data + off, b.b_len - off, d,
		    &used), CTL_E_OK);
		ASSERT_INT_EQ(d->m_hdr.ch_seq, n + 1);
		off += used;
		n++;
	}
	ASSERT_INT_EQ(n, NSAMPLES);
	buf_free(&b);
	free(d);
}

TEST(names)
{
	int ntypes = 0;

	for (int e = 0; e < CTL_E_MAX; e++) {
		ASSERT_TRUE(ctl_strerror(e) != NULL);
		ASSERT_TRUE(strcmp(ctl_strerror(e), "unknown error") != 0);
		for (int f = 0; f < e; f++)
			ASSERT_TRUE(strcmp(ctl_strerror(e),
			    ctl_strerror(f)) != 0);
	}
	ASSERT_STR_EQ(ctl_strerror(CTL_E_MAX), "unknown error");
	ASSERT_STR_EQ(ctl_strerror(-1), "unknown error");
	for (unsigned t = 0; t < 256; t++)
		if (ctl_type_name((uint8_t)t) != NULL)
			ntypes++;
	ASSERT_INT_EQ(ntypes, CTL_REQ_MAX + 9);
	for (unsigned c = 1; c <= CTL_ERR_MAX; c++)
		ASSERT_TRUE(ctl_errcode_name((uint16_t)c) != NULL);
	ASSERT_TRUE(ctl_errcode_name(0) == NULL);
	ASSERT_TRUE(ctl_errcode_name(CTL_ERR_MAX + 1) == NULL);
}

TEST(addr_sockaddr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(910) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(911) };
	struct sockaddr_storage ss;
	struct ctl_addr a;

	inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
	ctl_addr_from_sockaddr(&a, (struct sockaddr *)&sin);
	ASSERT_INT_EQ(a.ca_af, CTL_AF_INET);
	ASSERT_INT_EQ(a.ca_port, 910);
	ASSERT_INT_EQ(ctl_addr_to_sockaddr(&a, &ss), CTL_E_OK);
	ASSERT_MEM_EQ(&ss, &sin, sizeof(sin));
	inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr);
	ctl_addr_from_sockaddr(&a, (struct sockaddr *)&s6);
	ASSERT_INT_EQ(a.ca_af, CTL_AF_INET6);
	ASSERT_INT_EQ(ctl_addr_to_sockaddr(&a, &ss), CTL_E_OK);
	ASSERT_MEM_EQ(&ss, &s6, sizeof(s6));
	ctl_addr_from_sockaddr(&a, NULL);
	ASSERT_INT_EQ(a.ca_af, CTL_AF_NONE);
	ASSERT_INT_EQ(ctl_addr_to_sockaddr(&a, &ss), CTL_E_ADDR);
}

static uint32_t rng = 0x2545f491;
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/*
 * Random flips, truncations, insertions and length fixes.  Nothing may
 * crash (ASan/UBSan watch), and whatever decodes must re-encode to the
 * exact same octets (the encoding is canonical).
 */
TEST(mutation_loop)
{
	struct ctl_msg *d = calloc(1, sizeof(*d));
	uint8_t *p = malloc(CTL_HDR_LEN + CTL_MAXMSG + 16);
	long ok = 0, bad = 0;

	for (int i = 0; i < NSAMPLES; i++) {
		struct ctl_msg *m = sample(i);
		struct buf b, re;

		buf_init(&b, 0);
		ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
		for (int iter = 0; iter < 4000; iter++) {
			size_t n = b.b_len, used;
			int nmut = 1 + (int)(rnd() % 4), e;

			memcpy(p, b.b_data, n);
			for (int k = 0; k < nmut && n > 0; k++) {
				switch (rnd() % 5) {
				case 0: case 1:
					p[rnd() % n] ^= (uint8_t)(1 << (rnd() % 8));
					break;
				case 2:
					p[rnd() % n] = (uint8_t)rnd();
					break;
				case 3:
					if (n > 1)
						n = rnd() % n;
					break;
				case 4:
					if (n < b.b_len + 8)
						p[n++] = (uint8_t)rnd();
					break;
				}
			}
			/* Half the time keep the header's length honest so
			 * the payload decoders see the mutation. */
			if ((rnd() & 1) && n >= CTL_HDR_LEN)
				put_be32(p + 4, (uint32_t)(n - CTL_HDR_LEN));
			e = ctl_msg_decode(p, n, d, &used);
			if (e != CTL_E_OK) {
				ASSERT_TRUE(e > 0 && e < CTL_E_MAX);
				bad++;
				continue;
			}
			ok++;
			buf_init(&re, 0);
			ASSERT_INT_EQ(ctl_msg_encode(&re, d), CTL_E_OK);
			ASSERT_INT_EQ(re.b_len, used);
			ASSERT_MEM_EQ(re.b_data, p, used);
			buf_free(&re);
		}
		buf_free(&b);
		free(m);
	}
	printf("mutation_loop: %ld decoded, %ld rejected\n", ok, bad);
	ASSERT_TRUE(ok > 0 && bad > 0);
	free(p);
	free(d);
}

int
main(void)
{
	RUN(roundtrip_every_type);
	RUN(golden_delete_sa);
	RUN(golden_policy);
	RUN(golden_event_and_error);
	RUN(header_errors);
	RUN(truncation_exact_codes);
	RUN(strings);
	RUN(values_encoder);
	RUN(values_decoder);
	RUN(keys_and_sizes);
	RUN(stream_of_messages);
	RUN(names);
	RUN(addr_sockaddr);
	RUN(mutation_loop);
	return test_done();
}
