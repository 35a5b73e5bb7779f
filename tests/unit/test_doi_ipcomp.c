/*
 * IPComp negotiation (RFC 2407 4.4.1, 4.4.5; RFC 3173): an IPCOMP
 * proposal bundled with ESP under one proposal number, the CPI in a
 * 2-octet SPI field, the responder's choice between an ESP+IPCOMP and an
 * ESP-only proposal, and the IPComp SAs of a choice.  A real initiator
 * context talks to a real responder context through the real codec; the
 * golden octets in tests/unit/data/isakmp_ipcomp*.hex are assembled by
 * hand from RFC 2408 3.4-3.6 and RFC 2407 4.4.1 and 4.5.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doi_ipsec.h"
#include "krb_prf.h"
#include "test.h"

static const uint8_t session_key[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };

static int
prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	(void)arg;
	return krb_prf_rfc3961(18, session_key, sizeof(session_key), in, inlen,
	    out, outlen);
}

static struct sockaddr_storage addr_a, addr_b;
static const struct doi_spis spis_a = { 0x1000a001, 0, 0x0a01 };
static const struct doi_spis spis_b = { 0x3000b001, 0, 0x0b01 };

static void
mkaddr(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
}

/* Transport, 3600 s, no suites yet. */
static void
pol_init(struct kink_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->pol_name, sizeof(p->pol_name), "ipc");
	p->pol_mode = ENCAP_MODE_TRANSPORT;
	p->pol_life_secs = 3600;
	p->pol_reqid = 9;
}

/* esp enc aes-128-cbc auth hmac-sha1 [ipcomp deflate] */
static void
add_suite(struct kink_policy *p, int ipcomp)
{
	struct kink_suite *s = &p->pol_suites[p->pol_nsuites++];

	memset(s, 0, sizeof(*s));
	s->s_esp.x_present = 1;
	s->s_esp.x_id = ESP_AES_CBC;
	s->s_esp.x_keylen = 128;
	s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	if (ipcomp) {
		s->s_ipcomp.x_present = 1;
		s->s_ipcomp.x_id = IPCOMP_DEFLATE;
	}
}

struct xchg {
	struct doi_ctx	*x_i, *x_r;
	struct buf	 x_create, x_reply;
	uint8_t		 x_cfirst, x_rfirst;
	struct doi_result x_iopt, x_ires, x_rres;
	struct doi_error x_rerr, x_ierr;
	int		 x_choose_rc, x_finish_rc, x_reply_rc;
};

static void
x_free(struct xchg *x)
{
	doi_ctx_free(x->x_i);
	doi_ctx_free(x->x_r);
	buf_free(&x->x_create);
	buf_free(&x->x_reply);
	doi_result_clear(&x->x_iopt);
	doi_result_clear(&x->x_ires);
	doi_result_clear(&x->x_rres);
	memset(x, 0, sizeof(*x));
}

static const uint8_t fixed_ni[16] = "IPComp Ni 16 oc";

/* A initiates to B; -1 only if the setup itself failed. */
static int
run(struct xchg *x, const struct kink_policy *pi, const struct kink_policy *pr)
{
	const struct kink_policy *pols[1] = { pr };

	buf_init(&x->x_create, 0);
	buf_init(&x->x_reply, 0);
	x->x_i = doi_init_new(pi, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &spis_a);
	if (x->x_i == NULL ||
	    doi_set_nonce(x->x_i, fixed_ni, sizeof(fixed_ni)) != 0 ||
	    doi_init_proposal(x->x_i, &x->x_create, &x->x_cfirst) != 0)
		return -1;
	(void)doi_init_optimistic(x->x_i, prf, NULL, &x->x_iopt);
	x->x_r = doi_resp_new((struct sockaddr *)&addr_b,
	    (struct sockaddr *)&addr_a);
	if (x->x_r == NULL)
		return -1;
	x->x_choose_rc = doi_resp_choose(x->x_r, pols, 1, x->x_create.b_data,
	    x->x_create.b_len, x->x_cfirst, NULL, NULL, &x->x_rerr);
	if (x->x_choose_rc != 0) {
		if (x->x_rerr.de_notify == 0 || doi_notify_build(&x->x_rerr,
		    &x->x_reply, &x->x_rfirst) != 0)
			return -1;
	} else {
		x->x_finish_rc = doi_resp_finish(x->x_r, &spis_b, prf, NULL,
		    &x->x_reply, &x->x_rfirst, &x->x_rres, &x->x_rerr);
		if (x->x_finish_rc != 0)
			return -1;
	}
	x->x_reply_rc = doi_init_reply(x->x_i, x->x_reply.b_data,
	    x->x_reply.b_len, x->x_rfirst, prf, NULL, &x->x_ires, &x->x_ierr);
	return 0;
}

static int
same_buf(const struct buf *b, const char *golden)
{
	static uint8_t g[1024];
	size_t glen;

	if (test_hex_file(golden, g, sizeof(g), &glen) != 0)
		return 0;
	if (b->b_len != glen || memcmp(b->b_data, g, glen) != 0) {
		test_hexdump("got", b->b_data, b->b_len);
		return 0;
	}
	return 1;
}

/* The CREATE's SA and the REPLY's, octet for octet. */
TEST(ipcomp_golden_both_ways)
{
	struct kink_policy p;
	struct xchg x = { 0 };

	pol_init(&p);
	add_suite(&p, 1);
	ASSERT_INT_EQ(doi_policy_protos(&p), DOI_PROTO_BIT(PROTO_IPSEC_ESP) |
	    DOI_PROTO_BIT(PROTO_IPCOMP));
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_cfirst, ISAKMP_NPTYPE_SA);
	ASSERT_TRUE(same_buf(&x.x_create, "isakmp_ipcomp_create.hex"));
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), DOI_PROTO_BIT(PROTO_IPSEC_ESP) |
	    DOI_PROTO_BIT(PROTO_IPCOMP));
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	/* Optimistic, no KE: no Nr, so the REPLY is fixed too. */
	ASSERT_INT_EQ(x.x_rfirst, ISAKMP_NPTYPE_SA);
	ASSERT_TRUE(same_buf(&x.x_reply, "isakmp_ipcomp_reply.hex"));
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	x_free(&x);
}

/* The SAs: ESP then IPComp, CPIs crossed, no keys, ESP's lifetimes. */
TEST(ipcomp_sas_paired)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	const struct doi_result *sides[2];

	pol_init(&p);
	add_suite(&p, 1);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 0);
	ASSERT_INT_EQ(x.x_iopt.dr_nsa, 2);
	sides[0] = &x.x_ires;
	sides[1] = &x.x_rres;
	for (int s = 0; s < 2; s++) {
		const struct doi_result *r = sides[s];
		const struct doi_spis *me = s == 0 ? &spis_a : &spis_b;
		const struct doi_spis *peer = s == 0 ? &spis_b : &spis_a;

		ASSERT_INT_EQ(r->dr_nsa, 2);
		ASSERT_INT_EQ(r->dr_in[0].sa_proto, PROTO_IPSEC_ESP);
		ASSERT_INT_EQ(r->dr_in[1].sa_proto, PROTO_IPCOMP);
		ASSERT_INT_EQ(r->dr_out[1].sa_proto, PROTO_IPCOMP);
		ASSERT_INT_EQ(r->dr_in[1].sa_spi, me->ds_ipcomp);
		ASSERT_INT_EQ(r->dr_out[1].sa_spi, peer->ds_ipcomp);
		ASSERT_INT_EQ(r->dr_in[1].sa_dir, SA_DIR_IN);
		ASSERT_INT_EQ(r->dr_out[1].sa_dir, SA_DIR_OUT);
		ASSERT_INT_EQ(r->dr_in[1].sa_enc, IPCOMP_DEFLATE);
		ASSERT_INT_EQ(r->dr_in[1].sa_auth, 0);
		ASSERT_INT_EQ(r->dr_in[1].sa_enckey_len, 0);
		ASSERT_INT_EQ(r->dr_in[1].sa_authkey_len, 0);
		ASSERT_INT_EQ(r->dr_in[1].sa_mode, r->dr_in[0].sa_mode);
		ASSERT_INT_EQ(r->dr_in[1].sa_reqid, 9);
		ASSERT_INT_EQ(r->dr_in[1].sa_life_hard_secs, 3600);
		ASSERT_INT_EQ(r->dr_in[1].sa_life_soft_secs,
		    r->dr_in[0].sa_life_soft_secs);
		ASSERT_INT_EQ(r->dr_out[1].sa_life_soft_secs,
		    r->dr_out[0].sa_life_soft_secs);
		ASSERT_MEM_EQ(&r->dr_in[1].sa_src, &r->dr_in[0].sa_src,
		    sizeof(r->dr_in[0].sa_src));
		ASSERT_MEM_EQ(&r->dr_out[1].sa_dst, &r->dr_out[0].sa_dst,
		    sizeof(r->dr_out[0].sa_dst));
		ASSERT_INT_EQ(r->dr_in[0].sa_enckey_len, 16);
	}
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_spi, spis_a.ds_esp);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_spi, spis_b.ds_esp);
	x_free(&x);
}

/* IPv6 endpoints make the same bundle. */
TEST(ipcomp_ipv6)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	struct sockaddr_storage a4 = addr_a, b4 = addr_b;

	mkaddr(&addr_a, "2001:db8::1");
	mkaddr(&addr_b, "2001:db8::2");
	pol_init(&p);
	add_suite(&p, 1);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	addr_a = a4;
	addr_b = b4;
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 2);
	ASSERT_INT_EQ(x.x_ires.dr_out[1].sa_spi, spis_b.ds_ipcomp);
	ASSERT_INT_EQ(x.x_rres.dr_out[1].sa_spi, spis_a.ds_ipcomp);
	ASSERT_INT_EQ(x.x_rres.dr_in[1].sa_dst.ss_family, AF_INET6);
	x_free(&x);
}

/* A responder without ipcomp refuses an IPComp-only offer and says why. */
TEST(ipcomp_refused_without_policy)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_init(&pi);
	add_suite(&pi, 1);
	pol_init(&pr);
	add_suite(&pr, 0);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_err, ISAKMP_ERR_NO_PROPOSAL);
	ASSERT_INT_EQ(x.x_rerr.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_TRUE(strstr(x.x_rerr.de_text, "asks for IPComp") != NULL);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), 0);
	ASSERT_INT_EQ(x.x_reply_rc, -1);
	ASSERT_INT_EQ(x.x_ierr.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 0);
	x_free(&x);
}

/* ... and takes the initiator's second, ESP-only, proposal number. */
TEST(ipcomp_falls_back_to_esp_only)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };
	static struct isakmp_msg m;

	pol_init(&pi);
	add_suite(&pi, 1);
	add_suite(&pi, 0);
	pol_init(&pr);
	add_suite(&pr, 0);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_create.b_data, x.x_create.b_len,
	    x.x_cfirst, &m), 0);
	ASSERT_INT_EQ(m.m_sa.sa_nprop, 3);
	ASSERT_INT_EQ(m.m_sa.sa_prop[2].p_num, 2);
	ASSERT_INT_EQ(m.m_sa.sa_prop[2].p_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), DOI_PROTO_BIT(PROTO_IPSEC_ESP));
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 0);
	ASSERT_INT_EQ(x.x_rres.dr_nsa, 1);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_proto, PROTO_IPSEC_ESP);
	x_free(&x);

	/* The same with the responder holding both kinds: IPComp wins. */
	add_suite(&pr, 1);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_rres.dr_nsa, 2);
	x_free(&x);
}

/* An ESP-only proposal never matches a suite with IPComp. */
TEST(ipcomp_esp_only_needs_plain_suite)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_init(&pi);
	add_suite(&pi, 0);
	pol_init(&pr);
	add_suite(&pr, 1);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_err, ISAKMP_ERR_NO_PROPOSAL);
	ASSERT_TRUE(strstr(x.x_rerr.de_text, "no proposal offers IPComp") !=
	    NULL);
	x_free(&x);
}

/* Bad CPIs of our own never reach the wire. */
TEST(ipcomp_bad_own_cpi)
{
	struct kink_policy p;
	struct doi_spis s = spis_a;
	struct doi_ctx *c;

	pol_init(&p);
	add_suite(&p, 1);
	s.ds_ipcomp = 0;
	ASSERT_TRUE(doi_init_new(&p, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &s) == NULL);
	s.ds_ipcomp = 255;
	ASSERT_TRUE(doi_init_new(&p, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &s) == NULL);
	s.ds_ipcomp = 0x10000;
	ASSERT_TRUE(doi_init_new(&p, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &s) == NULL);
	s.ds_ipcomp = 0xffff;
	c = doi_init_new(&p, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &s);
	ASSERT_TRUE(c != NULL);
	doi_ctx_free(c);
}

/*
 * A CREATE whose IPCOMP proposal carries the CPI in 4 octets (legal on
 * receipt, RFC 2407 4.4.1): accepted, our answer in 2 octets.
 */
TEST(ipcomp_cpi_four_octets_received)
{
	static uint8_t g[1024];
	size_t glen;
	const struct kink_policy *pols[1];
	struct kink_policy p;
	struct doi_ctx *r;
	struct doi_error e;
	struct doi_result res;
	struct buf reply;
	uint8_t first;
	static struct isakmp_msg m;

	pol_init(&p);
	add_suite(&p, 1);
	pols[0] = &p;
	ASSERT_INT_EQ(test_hex_file("isakmp_ipcomp_cpi4.hex", g, sizeof(g),
	    &glen), 0);
	r = doi_resp_new((struct sockaddr *)&addr_b,
	    (struct sockaddr *)&addr_a);
	ASSERT_TRUE(r != NULL);
	ASSERT_INT_EQ(doi_resp_choose(r, pols, 1, g, glen, ISAKMP_NPTYPE_SA,
	    NULL, NULL, &e), 0);
	buf_init(&reply, 0);
	ASSERT_INT_EQ(doi_resp_finish(r, &spis_b, prf, NULL, &reply, &first,
	    &res, &e), 0);
	ASSERT_INT_EQ(res.dr_nsa, 2);
	ASSERT_INT_EQ(res.dr_out[1].sa_spi, 0x0a01);
	ASSERT_INT_EQ(isakmp_parse(reply.b_data, reply.b_len, first, &m), 0);
	ASSERT_INT_EQ(m.m_sa.sa_prop[1].p_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(m.m_sa.sa_prop[1].p_spisize, 2);
	ASSERT_INT_EQ(m.m_sa.sa_prop[1].p_spi, spis_b.ds_ipcomp);
	doi_result_clear(&res);
	buf_free(&reply);
	doi_ctx_free(r);
	/* The CREATE itself round-trips through the codec, 4 octets kept. */
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &m), 0);
	buf_init(&reply, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &reply, &first), 0);
	ASSERT_INT_EQ(reply.b_len, glen);
	ASSERT_MEM_EQ(reply.b_data, g, glen);
	buf_free(&reply);

	/* A CPI above 16 bits, or one of the reserved 0..255: refused. */
	g[61] = 1;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &m),
	    ISAKMP_ERR_SPI_VALUE);
	g[61] = 0;
	g[62] = 0;
	g[63] = 0xff;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &m),
	    ISAKMP_ERR_SPI_VALUE);
	/* Size 3 is neither form. */
	g[62] = 0x0a;
	g[63] = 0x01;
	g[58] = 3;
	ASSERT_INT_EQ(isakmp_parse(g, glen, ISAKMP_NPTYPE_SA, &m),
	    ISAKMP_ERR_SPI_SIZE);
}

/* A Delete for IPCOMP: CPIs in 2 octets, or 4 (the value in 16 bits). */
TEST(ipcomp_delete_cpi_sizes)
{
	static uint8_t d4[] = {
		0, 0, 0, 16,  0, 0, 0, 1,  PROTO_IPCOMP, 4, 0, 1,
		0, 0, 0x0a, 0x01,
	};
	static uint8_t d2[] = {
		0, 0, 0, 16,  0, 0, 0, 1,  PROTO_IPCOMP, 2, 0, 2,
		0x0a, 0x01, 0x0b, 0x01,
	};
	static struct isakmp_msg m;
	struct buf b;
	uint8_t first;

	ASSERT_INT_EQ(isakmp_parse(d4, sizeof(d4), ISAKMP_NPTYPE_D, &m), 0);
	ASSERT_INT_EQ(m.m_ndelete, 1);
	ASSERT_INT_EQ(m.m_delete[0].d_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(m.m_delete[0].d_spi[0], 0x0a01);
	/* Parsed, built back the same (a chain round-trips). */
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(b.b_len, sizeof(d4));
	ASSERT_MEM_EQ(b.b_data, d4, sizeof(d4));
	buf_free(&b);
	ASSERT_INT_EQ(isakmp_parse(d2, sizeof(d2), ISAKMP_NPTYPE_D, &m), 0);
	ASSERT_INT_EQ(m.m_delete[0].d_nspi, 2);
	ASSERT_INT_EQ(m.m_delete[0].d_spi[1], 0x0b01);
	/* What we send: 2 octets, the same octets back. */
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(first, ISAKMP_NPTYPE_D);
	ASSERT_INT_EQ(b.b_len, sizeof(d2));
	ASSERT_MEM_EQ(b.b_data, d2, sizeof(d2));
	buf_free(&b);
	/* What kinkd sends (its DELETE, its proposals and answers). */
	ASSERT_INT_EQ(isakmp_spi_size(PROTO_IPCOMP), 2);
	ASSERT_INT_EQ(isakmp_spi_size(PROTO_IPSEC_ESP), 4);
	ASSERT_INT_EQ(isakmp_spi_size(PROTO_IPSEC_AH), 4);
	ASSERT_INT_EQ(isakmp_spi_size(1), -1);
	/* Above 16 bits in a 4-octet field, or size 3: refused. */
	d4[13] = 1;
	ASSERT_INT_EQ(isakmp_parse(d4, sizeof(d4), ISAKMP_NPTYPE_D, &m),
	    ISAKMP_ERR_SPI_VALUE);
	d4[13] = 0;
	d4[9] = 3;
	ASSERT_INT_NE(isakmp_parse(d4, sizeof(d4), ISAKMP_NPTYPE_D, &m), 0);
}

int
main(void)
{
	mkaddr(&addr_a, "192.0.2.1");
	mkaddr(&addr_b, "192.0.2.2");
	RUN(ipcomp_golden_both_ways);
	RUN(ipcomp_sas_paired);
	RUN(ipcomp_ipv6);
	RUN(ipcomp_refused_without_policy);
	RUN(ipcomp_falls_back_to_esp_only);
	RUN(ipcomp_esp_only_needs_plain_suite);
	RUN(ipcomp_bad_own_cpi);
	RUN(ipcomp_cpi_four_octets_received);
	RUN(ipcomp_delete_cpi_sizes);
	return test_done();
}
