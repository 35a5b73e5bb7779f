/*
 * RFC 4430 conformance checks on the IPsec DOI layer that test_doi.c does
 * not make (docs/conformance.md cites them): the Notify rules of section
 * 5.5 on both sides, and the shape rules of sections 5, 5.4, 4.2.6 and 6.3
 * on the Quick Mode payloads kinkd builds.  A real initiator context talks
 * to a real responder context through the real codec, as in test_doi.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doi_ipsec.h"
#include "isakmp.h"
#include "krb_prf.h"
#include "test.h"

/* An error type no RFC defines, in the error range (0..16383). */
#define NTYPE_UNKNOWN_ERROR	9000
/* A status type no RFC defines (16384 and up are status). */
#define NTYPE_UNKNOWN_STATUS	40000

static const uint8_t session_key[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static int
prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	(void)arg;
	return krb_prf_rfc3961(18, session_key, sizeof(session_key), in, inlen,
	    out, outlen);
}

static struct sockaddr_storage addr_a, addr_b;
static const struct doi_spis spis_a = { 0x1000a001, 0x2000a002, 0 };
static const struct doi_spis spis_b = { 0x3000b001, 0x4000b002, 0 };

static void
mkaddr(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(910);
	inet_pton(AF_INET, ip, &s4->sin_addr);
}

/* One ESP transform per suite, in the order given; 0 ends the list. */
static void
pol_make(struct kink_policy *p, const int *enc)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->pol_name, sizeof(p->pol_name), "conf");
	p->pol_mode = ENCAP_MODE_TRANSPORT;
	p->pol_life_secs = 3600;
	p->pol_reqid = 7;
	for (; *enc != 0; enc++) {
		struct kink_suite *s = &p->pol_suites[p->pol_nsuites++];

		s->s_esp.x_present = 1;
		s->s_esp.x_id = (uint8_t)*enc;
		s->s_esp.x_keylen = *enc == ESP_AES_CBC ? 128 : 0;
		s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	}
}

static const int ENC_AES[] = { ESP_AES_CBC, 0 };
static const int ENC_AES_3DES[] = { ESP_AES_CBC, ESP_3DES, 0 };
static const int ENC_3DES[] = { ESP_3DES, 0 };

/* The messages of one CREATE; the REPLY may be patched before A reads it. */
struct ex {
	struct doi_ctx	*e_i, *e_r;
	struct buf	 e_create, e_reply;
	uint8_t		 e_cfirst, e_rfirst;
	struct doi_result e_iopt, e_ires, e_rres;
	struct doi_error e_ierr, e_rerr;
};

static void
ex_free(struct ex *e)
{
	doi_ctx_free(e->e_i);
	doi_ctx_free(e->e_r);
	buf_free(&e->e_create);
	buf_free(&e->e_reply);
	doi_result_clear(&e->e_iopt);
	doi_result_clear(&e->e_ires);
	doi_result_clear(&e->e_rres);
	memset(e, 0, sizeof(*e));
}

/* A proposes; the CREATE body is in e_create.  0 = done. */
static int
ex_propose(struct ex *e, const struct kink_policy *pi)
{
	buf_init(&e->e_create, 0);
	buf_init(&e->e_reply, 0);
	e->e_i = doi_init_new(pi, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &spis_a);
	if (e->e_i == NULL ||
	    doi_init_proposal(e->e_i, &e->e_create, &e->e_cfirst) != 0)
		return -1;
	/* With KE there is no optimistic inbound SA (3.2 figure 2). */
	if (doi_init_optimistic(e->e_i, prf, NULL, &e->e_iopt) != 0 &&
	    pi->pol_pfs_group == 0)
		return -1;
	return 0;
}

/* B answers the CREATE body in `c`; the REPLY body goes to e_reply. */
static int
ex_answer(struct ex *e, const struct kink_policy *pr, const struct buf *c,
    uint8_t cfirst)
{
	const struct kink_policy *pols[1] = { pr };

	e->e_r = doi_resp_new((struct sockaddr *)&addr_b,
	    (struct sockaddr *)&addr_a);
	if (e->e_r == NULL)
		return -1;
	if (doi_resp_choose(e->e_r, pols, 1, c->b_data, c->b_len, cfirst,
	    NULL, NULL, &e->e_rerr) != 0)
		return -1;
	return doi_resp_finish(e->e_r, &spis_b, prf, NULL, &e->e_reply,
	    &e->e_rfirst, &e->e_rres, &e->e_rerr);
}

/* Rebuild `in` (first payload `*first`) with one Notify added. */
static int
add_notify(const struct buf *in, uint8_t *first, uint16_t type,
    struct buf *out)
{
	static struct isakmp_msg m;
	static const uint8_t data[1] = { 0x42 };

	if (isakmp_parse(in->b_data, in->b_len, *first, &m) != ISAKMP_OK ||
	    m.m_nnotify >= ISAKMP_MAX_NOTIFY)
		return -1;
	memset(&m.m_notify[m.m_nnotify], 0, sizeof(m.m_notify[0]));
	m.m_notify[m.m_nnotify].n_doi = IPSEC_DOI;
	m.m_notify[m.m_nnotify].n_proto = PROTO_IPSEC_ESP;
	m.m_notify[m.m_nnotify].n_type = type;
	m.m_notify[m.m_nnotify].n_data = rbuf_make(data, sizeof(data));
	m.m_nnotify++;
	buf_reset(out);
	return isakmp_build(&m, out, first) == ISAKMP_OK ? 0 : -1;
}

/*
 * 5.5: "An implementation receiving a type in this range that it does not
 * recognize in a response MUST assume that the corresponding request has
 * failed entirely."  A good optimistic answer plus an unknown error type:
 * A installs nothing.
 */
TEST(reply_unknown_error_type_fails_request)
{
	struct kink_policy p;
	struct ex e = { 0 };
	struct buf r;
	uint8_t first;

	pol_make(&p, ENC_AES);
	ASSERT_INT_EQ(ex_propose(&e, &p), 0);
	ASSERT_INT_EQ(ex_answer(&e, &p, &e.e_create, e.e_cfirst), 0);
	buf_init(&r, 0);
	first = e.e_rfirst;
	ASSERT_INT_EQ(add_notify(&e.e_reply, &first, NTYPE_UNKNOWN_ERROR, &r),
	    0);
	ASSERT_INT_EQ(doi_init_reply(e.e_i, r.b_data, r.b_len, first, prf,
	    NULL, &e.e_ires, &e.e_ierr), -1);
	ASSERT_INT_EQ(e.e_ierr.de_err, ISAKMP_ERR_PEER_NOTIFY);
	ASSERT_INT_EQ(e.e_ierr.de_notify, NTYPE_UNKNOWN_ERROR);
	ASSERT_INT_EQ(e.e_ires.dr_nsa, 0);
	buf_free(&r);
	ex_free(&e);
}

/*
 * 5.5: status types in a response "MUST be ignored if not recognized": the
 * same answer with an unknown status type completes, keys as without it.
 */
TEST(reply_unknown_status_type_ignored)
{
	struct kink_policy p;
	struct ex e = { 0 };
	struct buf r;
	uint8_t first;

	pol_make(&p, ENC_AES);
	ASSERT_INT_EQ(ex_propose(&e, &p), 0);
	ASSERT_INT_EQ(ex_answer(&e, &p, &e.e_create, e.e_cfirst), 0);
	buf_init(&r, 0);
	first = e.e_rfirst;
	ASSERT_INT_EQ(add_notify(&e.e_reply, &first, NTYPE_UNKNOWN_STATUS,
	    &r), 0);
	ASSERT_INT_EQ(doi_init_reply(e.e_i, r.b_data, r.b_len, first, prf,
	    NULL, &e.e_ires, &e.e_ierr), 0);
	ASSERT_INT_EQ(e.e_ires.dr_nsa, 1);
	ASSERT_INT_EQ(e.e_ires.dr_optimistic, 1);
	ASSERT_TRUE(memcmp(e.e_ires.dr_out[0].sa_enckey,
	    e.e_rres.dr_in[0].sa_enckey, e.e_ires.dr_out[0].sa_enckey_len) == 0);
	buf_free(&r);
	ex_free(&e);
}

/*
 * 5.5: "Unrecognized error types in a request and status types in a
 * request or response MUST be ignored": a CREATE carrying an unknown error
 * type and an unknown status type is answered as if they were absent, and
 * both ends agree on the keys.
 */
TEST(request_unknown_notifies_ignored)
{
	struct kink_policy p;
	struct ex e = { 0 };
	struct buf c1, c2;
	uint8_t first;

	pol_make(&p, ENC_AES);
	ASSERT_INT_EQ(ex_propose(&e, &p), 0);
	buf_init(&c1, 0);
	buf_init(&c2, 0);
	first = e.e_cfirst;
	ASSERT_INT_EQ(add_notify(&e.e_create, &first, NTYPE_UNKNOWN_ERROR,
	    &c1), 0);
	ASSERT_INT_EQ(add_notify(&c1, &first, NTYPE_UNKNOWN_STATUS, &c2), 0);
	ASSERT_INT_EQ(ex_answer(&e, &p, &c2, first), 0);
	ASSERT_INT_EQ(e.e_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(doi_init_reply(e.e_i, e.e_reply.b_data, e.e_reply.b_len,
	    e.e_rfirst, prf, NULL, &e.e_ires, &e.e_ierr), 0);
	ASSERT_INT_EQ(e.e_ires.dr_nsa, 1);
	ASSERT_TRUE(memcmp(e.e_ires.dr_in[0].sa_enckey,
	    e.e_rres.dr_out[0].sa_enckey, e.e_ires.dr_in[0].sa_enckey_len) == 0);
	buf_free(&c1);
	buf_free(&c2);
	ex_free(&e);
}

/*
 * 5 / 5.4 / 4.2.6 on the CREATE kinkd builds: SA payload with DOI 1 and
 * Situation SIT_IDENTITY_ONLY, a Nonce (Ni), one SA payload (one Quick
 * Mode operation), no HASH (isakmp_parse refuses HASH in KINK).
 */
TEST(create_shape)
{
	static struct isakmp_msg m;
	struct kink_policy p;
	struct ex e = { 0 };

	pol_make(&p, ENC_AES_3DES);
	ASSERT_INT_EQ(ex_propose(&e, &p), 0);
	ASSERT_INT_EQ(e.e_cfirst, ISAKMP_NPTYPE_SA);
	ASSERT_INT_EQ(isakmp_parse(e.e_create.b_data, e.e_create.b_len,
	    e.e_cfirst, &m), ISAKMP_OK);
	ASSERT_INT_EQ(m.m_has_sa, 1);
	ASSERT_INT_EQ(m.m_sa.sa_doi, IPSEC_DOI);
	ASSERT_INT_EQ(m.m_sa.sa_sit, IPSEC_SIT_IDENTITY_ONLY);
	ASSERT_TRUE(m.m_nonce.rb_p != NULL && m.m_nonce.rb_len >= 8);
	/* the optimistic proposal: first transform of the first proposal */
	ASSERT_INT_EQ(m.m_sa.sa_prop[0].p_trans[0].t_id, ESP_AES_CBC);
	ex_free(&e);
}

/*
 * 6.3: "there MUST be at least a single proposal payload and a single
 * transform payload in REPLY messages" - and exactly one transform, the
 * choice; 5: DOI 1, SIT_IDENTITY_ONLY; 3.2 step 4: no Nr in an optimistic
 * REPLY, Nr in a non-optimistic one (SHOULD).
 */
TEST(reply_shape)
{
	static struct isakmp_msg m;
	struct kink_policy pi, pr;
	struct ex e = { 0 };

	pol_make(&pi, ENC_AES_3DES);
	ASSERT_INT_EQ(ex_propose(&e, &pi), 0);
	ASSERT_INT_EQ(ex_answer(&e, &pi, &e.e_create, e.e_cfirst), 0);
	ASSERT_INT_EQ(isakmp_parse(e.e_reply.b_data, e.e_reply.b_len,
	    e.e_rfirst, &m), ISAKMP_OK);
	ASSERT_INT_EQ(m.m_sa.sa_doi, IPSEC_DOI);
	ASSERT_INT_EQ(m.m_sa.sa_sit, IPSEC_SIT_IDENTITY_ONLY);
	ASSERT_TRUE(m.m_sa.sa_nprop >= 1);
	ASSERT_INT_EQ(m.m_sa.sa_prop[0].p_ntrans, 1);
	ASSERT_TRUE(m.m_nonce.rb_p == NULL);
	ASSERT_INT_EQ(e.e_rres.dr_ackreq, 0);
	ex_free(&e);

	pol_make(&pr, ENC_3DES);
	ASSERT_INT_EQ(ex_propose(&e, &pi), 0);
	ASSERT_INT_EQ(ex_answer(&e, &pr, &e.e_create, e.e_cfirst), 0);
	ASSERT_INT_EQ(isakmp_parse(e.e_reply.b_data, e.e_reply.b_len,
	    e.e_rfirst, &m), ISAKMP_OK);
	ASSERT_TRUE(m.m_sa.sa_nprop >= 1);
	ASSERT_INT_EQ(m.m_sa.sa_prop[0].p_ntrans, 1);
	ASSERT_INT_EQ(m.m_sa.sa_prop[0].p_trans[0].t_id, ESP_3DES);
	ASSERT_TRUE(m.m_nonce.rb_p != NULL);
	ASSERT_INT_EQ(e.e_rres.dr_ackreq, 1);
	ex_free(&e);
}

/*
 * 3.2: "If B does not choose the first proposal, adds a nonce, or accepts
 * the KE exchange, then it MUST request an ACK" - here the first proposal
 * is chosen, so only the KE asks for it; and the ACK path keys agree.
 */
TEST(ke_accepted_requests_ack)
{
	struct kink_policy p;
	struct ex e = { 0 };

	pol_make(&p, ENC_AES);
	p.pol_pfs_group = OAKLEY_GROUP_MODP2048;
	ASSERT_INT_EQ(ex_propose(&e, &p), 0);
	ASSERT_INT_EQ(ex_answer(&e, &p, &e.e_create, e.e_cfirst), 0);
	ASSERT_INT_EQ(e.e_rres.dr_pfs, 1);
	ASSERT_INT_EQ(e.e_rres.dr_ackreq, 1);
	ASSERT_INT_EQ(doi_init_reply(e.e_i, e.e_reply.b_data, e.e_reply.b_len,
	    e.e_rfirst, prf, NULL, &e.e_ires, &e.e_ierr), 0);
	ASSERT_INT_EQ(e.e_ires.dr_pfs, 1);
	ASSERT_INT_EQ(e.e_ires.dr_nsa, 1);
	ASSERT_TRUE(memcmp(e.e_ires.dr_out[0].sa_enckey,
	    e.e_rres.dr_in[0].sa_enckey, e.e_ires.dr_out[0].sa_enckey_len) == 0);
	ASSERT_TRUE(memcmp(e.e_ires.dr_in[0].sa_enckey,
	    e.e_rres.dr_out[0].sa_enckey, e.e_ires.dr_in[0].sa_enckey_len) == 0);
	ex_free(&e);
}

int
main(void)
{
	mkaddr(&addr_a, "192.0.2.1");
	mkaddr(&addr_b, "192.0.2.2");
	RUN(reply_unknown_error_type_fails_request);
	RUN(reply_unknown_status_type_ignored);
	RUN(request_unknown_notifies_ignored);
	RUN(create_shape);
	RUN(reply_shape);
	RUN(ke_accepted_requests_ack);
	return test_done();
}
