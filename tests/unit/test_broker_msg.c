/*
 * broker_msg.c: every type round-trips field for field; the decoder
 * refuses a message from the wrong side, any truncation, trailing or
 * oversized input and each out-of-range field, and every one-octet
 * mutation of a valid message decodes to BM_OK or a defined error.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "broker_check.h"
#include "broker_msg.h"
#include "isakmp_num.h"
#include "test.h"

static void
fill_sa(struct kink_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	addr_parse("192.0.2.1", &sa->sa_src);
	addr_parse("2001:db8::2", &sa->sa_dst);
	addr_set_port(&sa->sa_dst, 4500);
	sa->sa_proto = PROTO_IPSEC_ESP;
	sa->sa_dir = SA_DIR_IN;
	sa->sa_mode = ENCAP_MODE_TUNNEL;
	sa->sa_spi = 0xdeadbeef;
	sa->sa_reqid = 0x12345;
	sa->sa_enc = 12;
	sa->sa_enc_keylen = 256;
	sa->sa_auth = 12;
	memset(sa->sa_enckey, 0xa5, 36);
	sa->sa_enckey_len = 36;
	memset(sa->sa_authkey, 0x5a, SA_KEY_MAX);
	sa->sa_authkey_len = SA_KEY_MAX;
	sa->sa_life_soft_secs = 3000;
	sa->sa_life_hard_secs = 3600;
	sa->sa_life_soft_bytes = 1ULL << 40;
	sa->sa_life_hard_bytes = (1ULL << 41) + 7;
	addr_parse("10.1.0.0", &sa->sa_sel_src.sel_addr);
	sa->sa_sel_src.sel_plen = 16;
	addr_parse("10.2.0.0", &sa->sa_sel_dst.sel_addr);
	sa->sa_sel_dst.sel_plen = 24;
	sa->sa_sel_dst.sel_port = 80;
	sa->sa_sel_ulproto = IPPROTO_TCP;
	sa->sa_cur_bytes = 99;
	sa->sa_cur_packets = 3;
}

static void
fill_pol(struct kink_policy *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->pol_name, "lan-to-lan");
	p->pol_mode = ENCAP_MODE_TUNNEL;
	addr_parse("10.1.0.0", &p->pol_src.sel_addr);
	p->pol_src.sel_plen = 16;
	addr_parse("10.2.0.0", &p->pol_dst.sel_addr);
	p->pol_dst.sel_plen = 16;
	p->pol_ulproto = IPPROTO_UDP;
	p->pol_nsuites = POL_MAX_SUITES;
	for (int i = 0; i < POL_MAX_SUITES; i++) {
		p->pol_suites[i].s_esp.x_present = 1;
		p->pol_suites[i].s_esp.x_id = (uint8_t)(12 + i);
		p->pol_suites[i].s_esp.x_keylen = 128;
		p->pol_suites[i].s_esp.x_auth = 5;
		p->pol_suites[i].s_ah.x_present = i & 1;
		/* IPComp travels with the suite: its template needs it. */
		p->pol_suites[i].s_ipcomp.x_present = (i & 2) != 0;
		p->pol_suites[i].s_ipcomp.x_id =
		    (i & 2) != 0 ? IPCOMP_DEFLATE : 0;
	}
	p->pol_life_secs = 3600;
	p->pol_life_kbytes = 100000;
	p->pol_pfs_group = 19;
	addr_parse("192.0.2.1", &p->pol_tun_local);
	addr_parse("192.0.2.2", &p->pol_tun_remote);
	p->pol_reqid = 0x2001;
}

/* A message of each type, with every field its type carries set. */
static void
fill(struct bmsg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->bm_type = type;
	m->bm_seq = 0x01020304u + type;
	switch (type) {
	case BM_GETSPI:
		addr_parse("192.0.2.2", &m->bm_src);
		addr_parse("192.0.2.1", &m->bm_dst);
		m->bm_proto = PROTO_IPSEC_ESP;
		break;
	case BM_ADD:
		fill_sa(&m->bm_sa);
		m->bm_flag = 1;
		break;
	case BM_DEL:
	case BM_GET:
	case BM_R_SA:
	case BM_DEL_LARVAL:
		fill_sa(&m->bm_sa);
		break;
	case BM_SPD_ADD:
	case BM_SPD_DEL:
	case BM_SPD_REPAIR:
	case BM_SPD_GET:
		fill_pol(&m->bm_pol);
		break;
	case BM_TEST:
		m->bm_flag = 2;
		m->bm_spi = 6;
		break;
	case BM_TEST_EVENT:
		m->bm_ev.ev_type = SADB_EV_ACQUIRE;
		m->bm_ev.ev_reqid = 0x2001;
		m->bm_ev.ev_proto = PROTO_IPCOMP;	/* relayed too */
		addr_parse("192.0.2.1", &m->bm_ev.ev_src);
		addr_parse("192.0.2.2", &m->bm_ev.ev_dst);
		break;
	case BM_R_COUNT:
		m->bm_flag = 3;
		break;
	case BM_R_SPD:
		m->bm_err = 2;
		m->bm_flag = SADB_SPD_FWD;
		break;
	case BM_SUPPORTS:
		m->bm_proto = IPPROTO_ESP;
		m->bm_xf.x_present = 1;
		m->bm_xf.x_id = 20;
		m->bm_xf.x_keylen = 256;
		break;
	case BM_R_DONE:
	case BM_R_END:
		m->bm_err = 3;
		break;
	case BM_R_SPI:
		m->bm_err = 0;
		m->bm_spi = 0xc0ffee01;
		break;
	case BM_R_SUPPORTS:
		m->bm_flag = 0;
		strcpy(m->bm_text, "backend pfkey cannot install AES-GCM");
		break;
	case BM_R_EVENT:
		m->bm_ev.ev_type = SADB_EV_EXPIRE_SOFT;
		m->bm_ev.ev_reqid = 7;
		addr_parse("192.0.2.1", &m->bm_ev.ev_src);
		addr_parse("192.0.2.2", &m->bm_ev.ev_dst);
		fill_sa(&m->bm_ev.ev_sa);
		m->bm_ev.ev_sa.sa_enckey_len = 0;
		m->bm_ev.ev_sa.sa_authkey_len = 0;
		memset(m->bm_ev.ev_sa.sa_enckey, 0, SA_KEY_MAX);
		memset(m->bm_ev.ev_sa.sa_authkey, 0, SA_KEY_MAX);
		break;
	case BM_R_HELLO:
		strcpy(m->bm_text, "xfrm");
		break;
	case BM_R_SIGNAL:
		m->bm_flag = 15;
		break;
	case BM_R_CAPS:
		m->bm_caps.kc_known = 1;
		m->bm_caps.kc_enc[0] = 1;
		m->bm_caps.kc_enc_min[0] = 128;
		m->bm_caps.kc_enc_max[0] = 256;
		m->bm_caps.kc_enc[3] = 1;
		m->bm_caps.kc_auth[SADB_CAPS_MAX - 1] = 1;
		m->bm_caps.kc_comp_known = 1;
		m->bm_caps.kc_comp[2] = 1;
		strcpy(m->bm_text, "SADB_REGISTER");
		break;
	}
}

static const uint8_t all_types[] = {
	BM_GETSPI, BM_ADD, BM_DEL, BM_DUMP, BM_SPD_ADD, BM_SPD_DEL, BM_GET,
	BM_SUPPORTS, BM_R_DONE, BM_R_SPI, BM_R_SA, BM_R_END, BM_R_SUPPORTS,
	BM_R_EVENT, BM_R_HELLO, BM_R_SIGNAL, BM_DEL_LARVAL, BM_SPD_REPAIR,
	BM_SPD_GET, BM_TEST, BM_TEST_EVENT, BM_R_COUNT, BM_R_SPD, BM_CAPS,
	BM_R_CAPS,
};
#define NTYPES	(sizeof(all_types) / sizeof(all_types[0]))

TEST(broker_msg_roundtrip_every_type)
{
	struct bmsg m, d;
	uint8_t buf[BM_MAX];
	size_t i;
	int n;

	for (i = 0; i < NTYPES; i++) {
		fill(&m, all_types[i]);
		n = bm_encode(&m, buf, sizeof(buf));
		ASSERT_TRUE(n >= 8);
		ASSERT_INT_EQ(bm_decode(buf, (size_t)n, bm_type_dir(m.bm_type),
		    &d), BM_OK);
		/* Both zeroed first: the structs compare whole, padding too. */
		ASSERT_MEM_EQ(&d, &m, sizeof(m));
		ASSERT_TRUE(bm_type_name(m.bm_type) != NULL);
	}
}

/* The octets of the SPD ops and their answers, written out by hand. */
TEST(broker_msg_golden_spd_larval)
{
	static const uint8_t count[] = { 1, BM_R_COUNT, 0, 0, 0, 0, 0, 9,
	    0, 0, 0, 0, 0, 0, 0, 2 };
	static const uint8_t spd[] = { 1, BM_R_SPD, 0, 0, 0, 0, 0, 9,
	    0, 0, 0, 2, 0, 0, 0, 3 };
	static const uint8_t get[] = { 1, BM_SPD_GET, 0, 0, 0, 0, 0, 7,
	    1, 'p',				/* name */
	    2,					/* mode: transport */
	    4, 0, 0, 192, 0, 2, 1, 32, 0, 0,	/* src selector */
	    6, 0x01, 0xbb, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 64, 0x01, 0xbb,		/* dst, port 443 */
	    6,					/* TCP */
	    0,					/* no suites */
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* lifetimes, PFS */
	    0, 0, 0, 0, 0, 0,			/* no tunnel */
	    0, 0, 0x20, 0x01 };			/* reqid */
	/* an empty SA: 77 octets of zero */
	static const uint8_t test[16 + 77] = { 1, BM_TEST, 0, 0, 0, 0, 0, 1,
	    0, 0, 0, 4, 0, 0, 0, 1 };
	struct bmsg m, d;
	uint8_t buf[BM_MAX];
	int n;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_COUNT;
	m.bm_seq = 9;
	m.bm_flag = 2;
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(n, (int)sizeof(count));
	ASSERT_MEM_EQ(buf, count, sizeof(count));
	m.bm_type = BM_R_SPD;
	m.bm_err = 2;
	m.bm_flag = SADB_SPD_FWD;
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(n, (int)sizeof(spd));
	ASSERT_MEM_EQ(buf, spd, sizeof(spd));
	ASSERT_INT_EQ(bm_decode(spd, sizeof(spd), BM_FROM_BROKER, &d), BM_OK);
	ASSERT_INT_EQ(d.bm_err, 2);
	ASSERT_INT_EQ(d.bm_flag, SADB_SPD_FWD);

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_SPD_GET;
	m.bm_seq = 7;
	strcpy(m.bm_pol.pol_name, "p");
	m.bm_pol.pol_mode = ENCAP_MODE_TRANSPORT;
	addr_parse("192.0.2.1", &m.bm_pol.pol_src.sel_addr);
	m.bm_pol.pol_src.sel_plen = 32;
	addr_parse("2001:db8::", &m.bm_pol.pol_dst.sel_addr);
	addr_set_port(&m.bm_pol.pol_dst.sel_addr, 443);
	m.bm_pol.pol_dst.sel_plen = 64;
	m.bm_pol.pol_dst.sel_port = 443;
	m.bm_pol.pol_ulproto = IPPROTO_TCP;
	m.bm_pol.pol_reqid = 0x2001;
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(n, (int)sizeof(get));
	ASSERT_MEM_EQ(buf, get, sizeof(get));
	ASSERT_INT_EQ(bm_decode(get, sizeof(get), BM_FROM_ENGINE, &d), BM_OK);
	ASSERT_INT_EQ(d.bm_type, BM_SPD_GET);
	ASSERT_INT_EQ(d.bm_pol.pol_reqid, 0x2001);
	ASSERT_INT_EQ(d.bm_pol.pol_dst.sel_port, 443);
	/* the same octets as a repair; a larval delete is an SA message */
	memcpy(buf, get, sizeof(get));
	buf[1] = BM_SPD_REPAIR;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(get), BM_FROM_ENGINE, &d), BM_OK);
	buf[1] = BM_DEL_LARVAL;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(get), BM_FROM_ENGINE, &d),
	    BM_E_FAMILY);
	ASSERT_INT_EQ(bm_decode(test, sizeof(test), BM_FROM_ENGINE, &d),
	    BM_OK);
	ASSERT_INT_EQ(d.bm_flag, 4);
	ASSERT_INT_EQ(d.bm_spi, 1);
	/* answers are the broker's: the engine side cannot send them */
	ASSERT_INT_EQ(bm_decode(count, sizeof(count), BM_FROM_ENGINE, &d),
	    BM_E_TYPE);
	ASSERT_INT_EQ(bm_decode(get, sizeof(get), BM_FROM_BROKER, &d),
	    BM_E_TYPE);
	/* an R_SPD with a negative error, a truncated SPD_GET */
	memcpy(buf, spd, sizeof(spd));
	buf[8] = 0x80;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(spd), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	ASSERT_INT_EQ(bm_decode(get, sizeof(get) - 1, BM_FROM_ENGINE, &d),
	    BM_E_SHORT);
	/* a TEST_EVENT whose event type is no event */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_TEST_EVENT;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
}

/* The kernel's lists: bounded, only up to the last entry set. */
TEST(broker_msg_golden_caps)
{
	static const uint8_t req[] = { 1, BM_CAPS, 0, 0, 0, 0, 0, 5 };
	static const uint8_t ans[] = { 1, BM_R_CAPS, 0, 0, 0, 0, 0, 5,
	    0, 0, 0, 0,				/* err */
	    1,					/* known */
	    2, 0, 0, 0, 0, 0, 1, 0, 128, 1, 0,	/* enc: [1] 128..256 */
	    3, 1, 0, 1,				/* auth: [0], [2] */
	    1, 1, 1,				/* comp known: [0] */
	    6, 'A', 'F', '_', 'A', 'L', 'G' };
	static const uint8_t none[] = { 1, BM_R_CAPS, 0, 0, 0, 0, 0, 6,
	    0, 0, 0, 2, 0, 0, 0, 0, 0, 0 };
	struct bmsg m, d;
	uint8_t buf[BM_MAX];
	int n;

	memset(&m, 0, sizeof(m));
	m.bm_type = BM_CAPS;
	m.bm_seq = 5;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), (int)sizeof(req));
	ASSERT_MEM_EQ(buf, req, sizeof(req));
	ASSERT_INT_EQ(bm_decode(req, sizeof(req), BM_FROM_ENGINE, &d), BM_OK);
	ASSERT_INT_EQ(d.bm_type, BM_CAPS);
	m.bm_type = BM_R_CAPS;
	m.bm_caps.kc_known = 1;
	m.bm_caps.kc_enc[1] = 1;
	m.bm_caps.kc_enc_min[1] = 128;
	m.bm_caps.kc_enc_max[1] = 256;
	m.bm_caps.kc_auth[0] = m.bm_caps.kc_auth[2] = 1;
	m.bm_caps.kc_comp_known = 1;
	m.bm_caps.kc_comp[0] = 1;
	/* the source goes as text: the pointer is not sent */
	m.bm_caps.kc_source = "ignored";
	strcpy(m.bm_text, "AF_ALG");
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(n, (int)sizeof(ans));
	ASSERT_MEM_EQ(buf, ans, sizeof(ans));
	ASSERT_INT_EQ(bm_decode(ans, sizeof(ans), BM_FROM_BROKER, &d), BM_OK);
	ASSERT_INT_EQ(d.bm_caps.kc_known, 1);
	ASSERT_TRUE(d.bm_caps.kc_source == NULL);
	ASSERT_INT_EQ(d.bm_caps.kc_enc[0], 0);
	ASSERT_INT_EQ(d.bm_caps.kc_enc[1], 1);
	ASSERT_INT_EQ(d.bm_caps.kc_enc_max[1], 256);
	ASSERT_INT_EQ(d.bm_caps.kc_auth[2], 1);
	ASSERT_INT_EQ(d.bm_caps.kc_comp_known, 1);
	ASSERT_INT_EQ(d.bm_caps.kc_comp[0], 1);
	ASSERT_TRUE(strcmp(d.bm_text, "AF_ALG") == 0);
	/* a refusal or a backend that learnt nothing: an error, no lists */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_CAPS;
	m.bm_seq = 6;
	m.bm_err = 2;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), (int)sizeof(none));
	ASSERT_MEM_EQ(buf, none, sizeof(none));
	/* the engine cannot answer itself; the broker cannot ask */
	ASSERT_INT_EQ(bm_decode(ans, sizeof(ans), BM_FROM_ENGINE, &d),
	    BM_E_TYPE);
	ASSERT_INT_EQ(bm_decode(req, sizeof(req), BM_FROM_BROKER, &d),
	    BM_E_TYPE);
	/* malformed: known not 0/1, a list over SADB_CAPS_MAX, a flag
	 * not 0/1, a list whose last entry is not set, a truncated list */
	memcpy(buf, ans, sizeof(ans));
	buf[12] = 2;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[13] = SADB_CAPS_MAX + 1;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[24] = SADB_CAPS_MAX + 1;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[19] = 2;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[27] = 0;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	ASSERT_INT_EQ(bm_decode(ans, 20, BM_FROM_BROKER, &d), BM_E_SHORT);
	/* the same for the IPComp part */
	memcpy(buf, ans, sizeof(ans));
	buf[28] = 2;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[29] = SADB_CAPS_MAX + 1;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	memcpy(buf, ans, sizeof(ans));
	buf[30] = 0;
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_RANGE);
	ASSERT_INT_EQ(bm_decode(ans, 30, BM_FROM_BROKER, &d), BM_E_SHORT);
	/* a control character in the source */
	memcpy(buf, ans, sizeof(ans));
	buf[sizeof(ans) - 1] = '\n';
	ASSERT_INT_EQ(bm_decode(buf, sizeof(ans), BM_FROM_BROKER, &d),
	    BM_E_TEXT);
	/* the encoder applies the same bounds */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_R_CAPS;
	m.bm_caps.kc_known = 2;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	m.bm_caps.kc_known = 1;
	m.bm_caps.kc_auth[4] = 7;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	m.bm_caps.kc_auth[4] = 0;
	m.bm_caps.kc_comp_known = 2;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	m.bm_caps.kc_comp_known = 1;
	m.bm_caps.kc_comp[0] = 3;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
}

TEST(broker_msg_wrong_side_refused)
{
	struct bmsg m, d;
	uint8_t buf[BM_MAX];
	int n;

	/* A compromised engine cannot pass itself off as the broker. */
	fill(&m, BM_R_EVENT);
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_TYPE);
	fill(&m, BM_ADD);
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_BROKER, &d),
	    BM_E_TYPE);
	buf[1] = 200;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_TYPE);
}

TEST(broker_msg_truncated_trailing_oversized)
{
	struct bmsg m, d;
	uint8_t buf[BM_MAX + 1];
	size_t i, k;
	int n;

	for (i = 0; i < NTYPES; i++) {
		fill(&m, all_types[i]);
		n = bm_encode(&m, buf, sizeof(buf));
		ASSERT_TRUE(n > 0);
		/* every proper prefix is refused as truncated */
		for (k = 0; k < (size_t)n; k++)
			ASSERT_INT_EQ(bm_decode(buf, k, bm_type_dir(m.bm_type),
			    &d), BM_E_SHORT);
		buf[n] = 0;
		ASSERT_INT_EQ(bm_decode(buf, (size_t)n + 1,
		    bm_type_dir(m.bm_type), &d), BM_E_TRAILING);
	}
	memset(buf, 0, sizeof(buf));
	buf[0] = BM_VERSION;
	buf[1] = BM_DUMP;
	ASSERT_INT_EQ(bm_decode(buf, BM_MAX + 1, BM_FROM_ENGINE, &d),
	    BM_E_LONG);
	buf[0] = BM_VERSION + 1;
	ASSERT_INT_EQ(bm_decode(buf, 8, BM_FROM_ENGINE, &d), BM_E_VERSION);
	buf[0] = BM_VERSION;
	buf[2] = 1;	/* the reserved octets must be zero */
	ASSERT_INT_EQ(bm_decode(buf, 8, BM_FROM_ENGINE, &d), BM_E_RANGE);
	buf[2] = 0;
	ASSERT_INT_EQ(bm_decode(buf, 8, BM_FROM_ENGINE, &d), BM_OK);
}

TEST(broker_msg_fields_out_of_range)
{
	struct bmsg m, d;
	uint8_t buf[BM_MAX];
	int n;

	/* a key longer than SA_KEY_MAX */
	fill(&m, BM_ADD);
	m.bm_sa.sa_enckey_len = 0;
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	/* header 8, src v4 7, dst v6 19, proto dir mode 3, spi reqid 8,
	 * enc 1, keylen 2, auth 2: the enc key length is at 50 */
	ASSERT_INT_EQ(buf[50], 0);
	buf[50] = SA_KEY_MAX + 1;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_RANGE);
	/* an address family that is neither 0, 4 nor 6 */
	n = bm_encode(&m, buf, sizeof(buf));
	buf[8] = 5;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_FAMILY);
	/* a direction that is neither in nor out */
	n = bm_encode(&m, buf, sizeof(buf));
	buf[8 + 7 + 19 + 1] = 3;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_RANGE);
	/* the encoder applies the same rules */
	m.bm_sa.sa_enckey_len = SA_KEY_MAX + 1;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	fill(&m, BM_SPD_ADD);
	m.bm_pol.pol_nsuites = POL_MAX_SUITES + 1;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	fill(&m, BM_SPD_ADD);
	m.bm_pol.pol_src.sel_plen = 33;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
	/* the suite count on the wire: name is at 8, 1 + 10 octets */
	fill(&m, BM_SPD_ADD);
	n = bm_encode(&m, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	ASSERT_INT_EQ(buf[8], 10);
	buf[9] = '\033';	/* a control character in the policy name */
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_TEXT);
	/* a prefix longer than its family allows */
	n = bm_encode(&m, buf, sizeof(buf));
	buf[8 + 11 + 1 + 7] = 33;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_RANGE);
	/* the suite count */
	n = bm_encode(&m, buf, sizeof(buf));
	buf[8 + 11 + 1 + 10 + 10 + 1] = POL_MAX_SUITES + 1;
	ASSERT_INT_EQ(bm_decode(buf, (size_t)n, BM_FROM_ENGINE, &d),
	    BM_E_RANGE);
	/* too small an output buffer */
	fill(&m, BM_ADD);
	ASSERT_INT_EQ(bm_encode(&m, buf, 40), -1);
	m.bm_type = 0;
	ASSERT_INT_EQ(bm_encode(&m, buf, sizeof(buf)), -1);
}

TEST(broker_msg_every_octet_mutated)
{
	static const int ok[] = { BM_OK, BM_E_SHORT, BM_E_LONG, BM_E_VERSION,
	    BM_E_TYPE, BM_E_TRAILING, BM_E_FAMILY, BM_E_RANGE, BM_E_TEXT };
	struct bmsg m, d;
	uint8_t buf[BM_MAX], mut[BM_MAX];
	size_t i, k, j;
	int n, r, v, known;

	for (i = 0; i < NTYPES; i++) {
		fill(&m, all_types[i]);
		n = bm_encode(&m, buf, sizeof(buf));
		for (k = 0; k < (size_t)n; k++)
			for (v = 0; v < 256; v += 17) {
				memcpy(mut, buf, (size_t)n);
				mut[k] ^= (uint8_t)(v | 1);
				r = bm_decode(mut, (size_t)n,
				    bm_type_dir(m.bm_type), &d);
				for (known = 0, j = 0; j < sizeof(ok) /
				    sizeof(ok[0]); j++)
					known |= r == ok[j];
				ASSERT_TRUE(known);
				ASSERT_TRUE(bm_strerror(r) != NULL);
				/* what decodes, encodes to the same octets */
				if (r == BM_OK) {
					uint8_t re[BM_MAX];

					ASSERT_INT_EQ(bm_encode(&d, re,
					    sizeof(re)), n);
					ASSERT_MEM_EQ(re, mut, (size_t)n);
				}
			}
	}
}

static const char check_conf[] =
    "set principal \"kink/alpha.example.org@EXAMPLE.ORG\"\n"
    "set backend null\n"
    "peer \"beta\" {\n"
    "  principal kink/beta.example.org@EXAMPLE.ORG\n"
    "  address 192.0.2.2\n"
    "  esp transport from 192.0.2.1 to 192.0.2.2\n"
    "  esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 local 192.0.2.1\n"
    "}\n";

static struct kink_conf *
check_load(void)
{
	struct conf_errors e;
	struct kink_conf *c;

	memset(&e, 0, sizeof(e));
	c = conf_parse_buf("t", check_conf, strlen(check_conf), NULL, &e);
	conf_errors_free(&e);
	return c;
}

/* An outbound transport SA the first policy allows. */
static void
out_sa(const struct kink_conf *c, struct bmsg *m)
{
	const struct kink_policy *p = &c->c_peers[0].p_policies[0];

	memset(m, 0, sizeof(*m));
	m->bm_type = BM_ADD;
	addr_parse("192.0.2.1", &m->bm_sa.sa_src);
	addr_parse("192.0.2.2", &m->bm_sa.sa_dst);
	m->bm_sa.sa_proto = PROTO_IPSEC_ESP;
	m->bm_sa.sa_dir = SA_DIR_OUT;
	m->bm_sa.sa_mode = ENCAP_MODE_TRANSPORT;
	m->bm_sa.sa_spi = 0x1000;
	m->bm_sa.sa_reqid = p->pol_reqid;
	m->bm_sa.sa_sel_src = p->pol_src;
	m->bm_sa.sa_sel_dst = p->pol_dst;
}

TEST(broker_check_sa_in_and_out_of_config)
{
	struct kink_conf *c = check_load();
	struct bmsg m;
	char why[200];

	ASSERT_TRUE(c != NULL);
	out_sa(c, &m);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* the same SA toward an address nobody configured */
	addr_parse("192.0.2.99", &m.bm_sa.sa_dst);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strncmp(why, "SA spi 0x00001000 reqid ", 24) == 0);
	ASSERT_TRUE(strstr(why, "remote address not configured") != NULL);
	/* a reqid no policy has */
	out_sa(c, &m);
	m.bm_sa.sa_reqid ^= 1;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "no configured policy has its reqid") != NULL);
	/* traffic selectors wider than the policy's */
	out_sa(c, &m);
	m.bm_sa.sa_sel_dst.sel_plen = 24;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "selectors outside") != NULL);
	/* tunnel mode under a transport policy */
	out_sa(c, &m);
	m.bm_sa.sa_mode = ENCAP_MODE_TUNNEL;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* AH where the suites have only ESP */
	out_sa(c, &m);
	m.bm_sa.sa_proto = PROTO_IPSEC_AH;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* a delete names destination and SPI; a dumped one may lack dir */
	out_sa(c, &m);
	m.bm_type = BM_DEL;
	memset(&m.bm_sa.sa_src, 0, sizeof(m.bm_sa.sa_src));
	m.bm_sa.sa_dir = 0;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* reconciliation's delete of an orphan names no mode */
	m.bm_sa.sa_mode = 0;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* but a mode that is not the policy's is still refused */
	m.bm_sa.sa_mode = ENCAP_MODE_TUNNEL;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	m.bm_type = BM_ADD;
	m.bm_sa.sa_mode = 0;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	conf_free(c);
}

/*
 * The kernel refused an inbound SA: the engine releases the SPI GETSPI
 * reserved, a state without a reqid (daemon 200 under privsep).
 */
TEST(broker_check_del_releases_reserved_spi)
{
	struct kink_conf *c = check_load();
	struct bmsg m;
	char why[200];

	ASSERT_TRUE(c != NULL);
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_DEL;
	addr_parse("192.0.2.2", &m.bm_sa.sa_src);
	addr_parse("192.0.2.1", &m.bm_sa.sa_dst);
	m.bm_sa.sa_proto = PROTO_IPSEC_ESP;
	m.bm_sa.sa_spi = 0x2000;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* not from an address nobody configured */
	addr_parse("192.0.2.99", &m.bm_sa.sa_src);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* not outbound: we reserve only our own SPIs */
	addr_parse("192.0.2.1", &m.bm_sa.sa_src);
	addr_parse("192.0.2.2", &m.bm_sa.sa_dst);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* nor a protocol GETSPI never reserves */
	addr_parse("192.0.2.2", &m.bm_sa.sa_src);
	addr_parse("192.0.2.1", &m.bm_sa.sa_dst);
	m.bm_sa.sa_proto = PROTO_IPCOMP;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	conf_free(c);
}

TEST(broker_check_spd_and_getspi)
{
	struct kink_conf *c = check_load();
	struct bmsg m;
	char why[200];

	ASSERT_TRUE(c != NULL);
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_SPD_ADD;
	m.bm_pol = c->c_peers[0].p_policies[1];
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* the suites do not matter to the SPD */
	m.bm_pol.pol_nsuites = 1;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* a wider remote side is not a configured policy */
	m.bm_pol.pol_dst.sel_plen = 8;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "is not a configured policy") != NULL);
	m.bm_type = BM_SPD_DEL;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_GETSPI;
	addr_parse("192.0.2.2", &m.bm_src);
	addr_parse("192.0.2.1", &m.bm_dst);
	m.bm_proto = PROTO_IPSEC_ESP;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	addr_parse("203.0.113.5", &m.bm_src);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	addr_parse("192.0.2.2", &m.bm_src);
	m.bm_proto = 99;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	m.bm_type = BM_DUMP;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	m.bm_type = BM_R_DONE;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	conf_free(c);
}

TEST(broker_check_larval_repair_get_test)
{
	struct kink_conf *c = check_load();
	struct bmsg m;
	char why[200];

	ASSERT_TRUE(c != NULL);
	/* SPD repair and query: configured policies only */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_SPD_REPAIR;
	m.bm_pol = c->c_peers[0].p_policies[0];
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	m.bm_type = BM_SPD_GET;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	addr_parse("203.0.113.2", &m.bm_pol.pol_dst.sel_addr);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "is not a configured policy") != NULL);
	m.bm_type = BM_SPD_REPAIR;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	m.bm_pol = c->c_peers[0].p_policies[0];
	m.bm_pol.pol_reqid++;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* a larval SA as a dump returns it: no direction, SPI 0 */
	out_sa(c, &m);
	m.bm_type = BM_DEL_LARVAL;
	m.bm_sa.sa_spi = 0;
	m.bm_sa.sa_dir = 0;
	memset(&m.bm_sa.sa_sel_src, 0, sizeof(m.bm_sa.sa_sel_src));
	memset(&m.bm_sa.sa_sel_dst, 0, sizeof(m.bm_sa.sa_sel_dst));
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* toward an address nobody configured, or under a foreign reqid */
	addr_parse("203.0.113.2", &m.bm_sa.sa_dst);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strncmp(why, "SA spi 0x00000000 reqid ", 24) == 0);
	addr_parse("192.0.2.2", &m.bm_sa.sa_dst);
	m.bm_sa.sa_reqid ^= 1;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	/* a "larval" delete of a live SA */
	m.bm_sa.sa_reqid ^= 1;
	m.bm_sa.sa_spi = 0x1000;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "larval SA with spi") != NULL);
	/* what the kernel installs: read-only, always */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_CAPS;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 1);
	/* the test knobs: never through the check */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_TEST;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	ASSERT_TRUE(strstr(why, "not the test build") != NULL);
	m.bm_type = BM_TEST_EVENT;
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), 0);
	conf_free(c);
}

int
main(void)
{
	RUN(broker_msg_roundtrip_every_type);
	RUN(broker_msg_golden_spd_larval);
	RUN(broker_msg_golden_caps);
	RUN(broker_msg_wrong_side_refused);
	RUN(broker_msg_truncated_trailing_oversized);
	RUN(broker_msg_fields_out_of_range);
	RUN(broker_msg_every_octet_mutated);
	RUN(broker_check_sa_in_and_out_of_config);
	RUN(broker_check_spd_and_getspi);
	RUN(broker_check_del_releases_reserved_spi);
	RUN(broker_check_larval_repair_get_test);
	return test_done();
}
