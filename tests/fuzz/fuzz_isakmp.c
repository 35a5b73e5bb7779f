/*
 * libFuzzer harness for the ISAKMP Quick Mode codec and the IPsec DOI on
 * top of it.  Input: one octet naming the first payload type (what the
 * KINK_ISAKMP inner header carries), then the payload chain.  Checks, and
 * traps when one breaks:
 *  - every error is a known code with a table entry;
 *  - every view lies inside the input;
 *  - a parsed chain whose transforms are all usable rebuilds, and the
 *    rebuild parses and rebuilds to the same octets;
 *  - the same octets as a CREATE to a responder and as a REPLY to an
 *    initiator either fail with a Notify (or nothing) and leave no SAs,
 *    or yield SAs whose keys have the sizes their algorithms need.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doi_ipsec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int
inside(struct rbuf r, const uint8_t *p, size_t len)
{
	if (r.rb_len == 0)
		return 1;
	return r.rb_p >= p && (size_t)(r.rb_p - p) <= len &&
	    r.rb_len <= len - (size_t)(r.rb_p - p);
}

/* Not a PRF anyone should use: deterministic, cheap, 20 octets. */
static int
toy_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	(void)arg;
	memset(out, 0x5c, 20);
	for (size_t i = 0; i < inlen; i++)
		out[i % 20] = (uint8_t)(out[i % 20] * 31 + in[i]);
	*outlen = 20;
	return 0;
}

static void
check_sas(const struct doi_result *r)
{
	CHECK(r->dr_nsa >= 1 && r->dr_nsa <= DOI_MAX_SA);
	for (int i = 0; i < r->dr_nsa; i++) {
		const struct kink_sa *s = &r->dr_in[i];

		CHECK(s->sa_spi >= 256);
		/* IPComp: a 16-bit CPI, no keys. */
		if (s->sa_proto == PROTO_IPCOMP)
			CHECK(s->sa_spi <= 0xffff && s->sa_enckey_len == 0 &&
			    r->dr_out[i].sa_spi <= 0xffff);
		if (s->sa_proto == PROTO_IPSEC_ESP)
			CHECK(s->sa_enckey_len ==
			    doi_enc_keylen(s->sa_enc, s->sa_enc_keylen));
		CHECK(s->sa_authkey_len == doi_auth_keylen(s->sa_auth));
	}
}

static struct kink_policy pol;
static struct sockaddr_in la, ra;

static void
setup(void)
{
	struct kink_suite *s;

	if (pol.pol_nsuites)
		return;
	la.sin_family = ra.sin_family = AF_INET;
	la.sin_addr.s_addr = htonl(0xc0000201);
	ra.sin_addr.s_addr = htonl(0xc0000202);
	pol.pol_mode = ENCAP_MODE_TRANSPORT;
	pol.pol_life_secs = 3600;
	s = &pol.pol_suites[pol.pol_nsuites++];
	s->s_esp.x_present = 1;
	s->s_esp.x_id = ESP_AES_CBC;
	s->s_esp.x_keylen = 128;
	s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	s = &pol.pol_suites[pol.pol_nsuites++];
	s->s_esp.x_present = 1;
	s->s_esp.x_id = ESP_3DES;
	s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	s = &pol.pol_suites[pol.pol_nsuites++];
	s->s_esp.x_present = 1;
	s->s_esp.x_id = ESP_AES_GCM_16;
	s->s_esp.x_keylen = 256;
	s->s_ah.x_present = 1;
	s->s_ah.x_id = AH_SHA2_256;
	s = &pol.pol_suites[pol.pol_nsuites++];
	s->s_esp.x_present = 1;
	s->s_esp.x_id = ESP_AES_CBC;
	s->s_esp.x_keylen = 128;
	s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	s->s_ipcomp.x_present = 1;
	s->s_ipcomp.x_id = IPCOMP_DEFLATE;
}

static void
negotiate(const uint8_t *p, size_t len, uint8_t first)
{
	static const struct doi_spis spis = { 0x1001, 0x2002, 0x0303 };
	const struct kink_policy *pols[1] = { &pol };
	struct doi_ctx *c;
	struct doi_error e;
	struct doi_result r;
	struct buf out;
	uint8_t f;

	buf_init(&out, 0);
	/* As a CREATE. */
	c = doi_resp_new((struct sockaddr *)&ra, (struct sockaddr *)&la);
	CHECK(c != NULL);
	if (doi_resp_choose(c, pols, 1, p, len, first, NULL, NULL, &e) == 0) {
		CHECK(doi_resp_protos(c) != 0);
		CHECK(doi_resp_finish(c, &spis, toy_prf, NULL, &out, &f, &r,
		    &e) == 0);
		check_sas(&r);
		doi_result_clear(&r);
	} else {
		CHECK(e.de_err > 0 && e.de_err < ISAKMP_ERR_MAX);
		CHECK(doi_resp_protos(c) == 0);
		if (e.de_notify != 0)
			CHECK(doi_notify_build(&e, &out, &f) == 0);
	}
	doi_ctx_free(c);
	/* As a REPLY. */
	c = doi_init_new(&pol, (struct sockaddr *)&la, (struct sockaddr *)&ra,
	    &spis);
	CHECK(c != NULL);
	if (doi_init_reply(c, p, len, first, toy_prf, NULL, &r, &e) == 0) {
		check_sas(&r);
		doi_result_clear(&r);
	} else
		CHECK(r.dr_nsa == 0 && e.de_err > 0 && e.de_err < ISAKMP_ERR_MAX);
	doi_ctx_free(c);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct isakmp_msg m, m2;
	struct buf b1, b2;
	uint8_t first, f1, f2;
	const uint8_t *p;
	size_t len;
	int rc, usable = 1;

	if (size < 1)
		return 0;
	setup();
	first = data[0];
	p = data + 1;
	len = size - 1;
	rc = isakmp_parse(p, len, first, &m);
	CHECK(rc >= 0 && rc < ISAKMP_ERR_MAX);
	CHECK(isakmp_err_info(rc)->ei_err == rc);
	negotiate(p, len, first);
	if (rc != 0)
		return 0;
	CHECK(inside(m.m_nonce, p, len) && inside(m.m_ke, p, len));
	for (int i = 0; i < m.m_nnotify; i++)
		CHECK(inside(m.m_notify[i].n_spi, p, len) &&
		    inside(m.m_notify[i].n_data, p, len));
	for (int i = 0; i < m.m_sa.sa_nprop; i++)
		for (int j = 0; j < m.m_sa.sa_prop[i].p_ntrans; j++)
			if (m.m_sa.sa_prop[i].p_trans[j].t_err != 0)
				usable = 0;
	if (!usable)
		return 0;
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	CHECK(isakmp_build(&m, &b1, &f1) == 0);
	CHECK(isakmp_parse(b1.b_data, b1.b_len, f1, &m2) == 0);
	CHECK(isakmp_build(&m2, &b2, &f2) == 0);
	CHECK(f1 == f2 && b1.b_len == b2.b_len);
	CHECK(b1.b_len == 0 || memcmp(b1.b_data, b2.b_data, b1.b_len) == 0);
	buf_free(&b1);
	buf_free(&b2);
	return 0;
}
