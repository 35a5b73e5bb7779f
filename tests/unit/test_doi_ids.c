/*
 * IPsec DOI, the parts around the proposal itself: the responder's
 * narrowing of ID payloads (RFC 2409 5.5, RFC 2407 4.6.2), the
 * RESPONDER-LIFETIME Notify both ways (RFC 2407 4.5.4, 4.6.3.1) and the
 * Notify types a CREATE or REPLY carried.  A real initiator context talks
 * to a real responder context through the real codec; a CREATE or REPLY
 * is edited through isakmp_parse/isakmp_build where the initiator would
 * not send what a test needs.
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

static const uint8_t session_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static int
prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	(void)arg;
	return krb_prf_rfc3961(18, session_key, sizeof(session_key), in, inlen,
	    out, outlen);
}

static struct sockaddr_storage addr_a, addr_b;
static const struct doi_spis spis_a = { 0x1000a001, 0, 0 };
static const struct doi_spis spis_b = { 0x3000b001, 0, 0 };

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

static void
mksel(struct kink_selector *s, const char *ip, int plen, int port)
{
	mkaddr(&s->sel_addr, ip);
	s->sel_plen = (uint8_t)plen;
	s->sel_port = (uint16_t)port;
}

/* An ESP AES-128/SHA1 policy, `mode`, 3600 s, from `src` to `dst`. */
static void
pol(struct kink_policy *p, int mode, const char *src, int splen,
    const char *dst, int dplen)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->pol_name, sizeof(p->pol_name), "pol");
	p->pol_mode = (uint8_t)mode;
	p->pol_life_secs = 3600;
	p->pol_nsuites = 1;
	p->pol_suites[0].s_esp.x_present = 1;
	p->pol_suites[0].s_esp.x_id = ESP_AES_CBC;
	p->pol_suites[0].s_esp.x_keylen = 128;
	p->pol_suites[0].s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	if (src != NULL) {
		mksel(&p->pol_src, src, splen, 0);
		mksel(&p->pol_dst, dst, dplen, 0);
	}
}

/* A's CREATE for policy pi, edited by `patch` (may be NULL). */
static int
create(const struct kink_policy *pi, void (*patch)(struct isakmp_msg *),
    struct doi_ctx **ip, struct buf *out, uint8_t *first)
{
	static struct isakmp_msg m;
	struct buf c;
	uint8_t f;
	int rc = -1;

	buf_init(&c, 0);
	buf_init(out, 0);
	*ip = doi_init_new(pi, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &spis_a);
	if (*ip == NULL || doi_init_proposal(*ip, &c, &f) != 0 ||
	    isakmp_parse(c.b_data, c.b_len, f, &m) != 0)
		goto out;
	if (patch != NULL)
		patch(&m);
	if (isakmp_build(&m, out, first) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&c);
	return rc;
}

/* B answers (choose + finish) with its policies; the choose rc. */
struct answer {
	struct doi_ctx	*a_r;
	struct doi_error a_err;
	struct doi_result a_res;
	struct buf	 a_reply;
	uint8_t		 a_first;
	int		 a_rc;
};

static void
answer(const struct buf *c, uint8_t first, const struct kink_policy *pr,
    int life_notify, struct answer *a)
{
	const struct kink_policy *pols[1] = { pr };

	memset(a, 0, sizeof(*a));
	buf_init(&a->a_reply, 0);
	a->a_r = doi_resp_new((struct sockaddr *)&addr_b,
	    (struct sockaddr *)&addr_a);
	if (a->a_r == NULL) {
		a->a_rc = -2;
		return;
	}
	doi_resp_set_life_notify(a->a_r, life_notify);
	a->a_rc = doi_resp_choose(a->a_r, pols, 1, c->b_data, c->b_len,
	    first, NULL, NULL, &a->a_err);
	if (a->a_rc == 0 && doi_resp_finish(a->a_r, &spis_b, prf, NULL,
	    &a->a_reply, &a->a_first, &a->a_res, &a->a_err) != 0)
		a->a_rc = -3;
}

static void
answer_free(struct answer *a)
{
	doi_ctx_free(a->a_r);
	doi_result_clear(&a->a_res);
	buf_free(&a->a_reply);
}

static uint8_t
v4(const struct kink_selector *s, int i)
{
	return ((uint8_t *)&((const struct sockaddr_in *)
	    &s->sel_addr)->sin_addr)[i];
}

/* --- ID narrowing ---------------------------------------------------- */

/*
 * A's IDs (UDP to B's port 53) fall inside B's host-to-host policy for
 * all protocols: accepted, and installed as proposed, not as configured.
 */
TEST(narrower_proto_port_accepted)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TRANSPORT, "192.0.2.1", 32, "192.0.2.2", 32);
	pi.pol_ulproto = 17;
	pi.pol_dst.sel_port = 53;
	pol(&pr, ENCAP_MODE_TRANSPORT, "192.0.2.2", 32, "192.0.2.1", 32);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_ulproto, 17);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_dst.sel_port, 53);
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_src.sel_port, 53);
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_dst.sel_port, 0);
	ASSERT_TRUE(doi_resp_narrowed(a.a_r) != NULL);
	ASSERT_STR_EQ(doi_resp_narrowed(a.a_r), "proposed from 192.0.2.1/32 "
	    "to 192.0.2.2/32 port 53 proto 17 inside policy pol: from "
	    "192.0.2.1/32 to 192.0.2.2/32 proto 0");
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* The same IDs against the exact policy: nothing narrowed. */
TEST(exact_ids_not_narrowed)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TUNNEL, "10.1.0.0", 16, "10.2.0.0", 16);
	pol(&pr, ENCAP_MODE_TUNNEL, "10.2.0.0", 16, "10.1.0.0", 16);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_TRUE(doi_resp_narrowed(a.a_r) == NULL);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* Subnets inside subnets, v4: installed as the proposed /24 and /32. */
TEST(narrower_subnets_v4)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TUNNEL, "10.1.2.0", 24, "10.2.0.9", 32);
	pol(&pr, ENCAP_MODE_TUNNEL, "10.2.0.0", 16, "10.1.0.0", 16);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	/* B's outbound: from B's side (10.2.0.9/32) to A's (10.1.2.0/24). */
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_src.sel_plen, 32);
	ASSERT_INT_EQ(v4(&a.a_res.dr_out[0].sa_sel_src, 3), 9);
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_dst.sel_plen, 24);
	ASSERT_INT_EQ(v4(&a.a_res.dr_out[0].sa_sel_dst, 2), 2);
	ASSERT_TRUE(doi_resp_narrowed(a.a_r) != NULL);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

TEST(narrower_subnets_v6)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;
	struct sockaddr_storage sa = addr_a, sb = addr_b;

	mkaddr(&addr_a, "2001:db8::a");
	mkaddr(&addr_b, "2001:db8::b");
	pol(&pi, ENCAP_MODE_TUNNEL, "2001:db8:1:2::", 64, "2001:db8:2::", 48);
	pol(&pr, ENCAP_MODE_TUNNEL, "2001:db8:2::", 48, "2001:db8:1::", 48);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	addr_a = sa;
	addr_b = sb;
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_dst.sel_plen, 64);
	ASSERT_INT_EQ(a.a_res.dr_out[0].sa_sel_src.sel_plen, 48);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* Wider than the policy on one side: ID_POLICY, the log says both. */
TEST(wider_refused)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TUNNEL, "10.1.0.0", 16, "10.2.0.0", 16);
	pol(&pr, ENCAP_MODE_TUNNEL, "10.2.0.0", 16, "10.1.2.0", 24);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, -1);
	ASSERT_INT_EQ(a.a_err.de_err, ISAKMP_ERR_ID_POLICY);
	ASSERT_INT_EQ(a.a_err.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	ASSERT_STR_EQ(a.a_err.de_text, "proposed from 10.1.0.0/16 to "
	    "10.2.0.0/16 proto 0; nearest policy pol: from 10.1.2.0/24 to "
	    "10.2.0.0/16 proto 0");
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* A protocol the policy does not have (UDP against TCP) is wider too. */
TEST(other_proto_refused)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TRANSPORT, "192.0.2.1", 32, "192.0.2.2", 32);
	pi.pol_ulproto = 17;
	pol(&pr, ENCAP_MODE_TRANSPORT, "192.0.2.2", 32, "192.0.2.1", 32);
	pr.pol_ulproto = 6;
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, -1);
	ASSERT_INT_EQ(a.a_err.de_err, ISAKMP_ERR_ID_POLICY);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* IDci as an address range (RFC 2407 4.6.2.7). */
static void
patch_range_prefix(struct isakmp_msg *m)
{
	m->m_id[0].id_type = IPSEC_ID_IPV4_ADDR_RANGE;
	memcpy(m->m_id[0].id_addr, "\x0a\x01\x02\x00", 4);
	memcpy(m->m_id[0].id_addr2, "\x0a\x01\x02\x7f", 4);
}

static void
patch_range_odd(struct isakmp_msg *m)
{
	m->m_id[0].id_type = IPSEC_ID_IPV4_ADDR_RANGE;
	memcpy(m->m_id[0].id_addr, "\x0a\x01\x02\x01", 4);
	memcpy(m->m_id[0].id_addr2, "\x0a\x01\x02\x05", 4);
}

static void
patch_range_wide(struct isakmp_msg *m)
{
	m->m_id[0].id_type = IPSEC_ID_IPV4_ADDR_RANGE;
	memcpy(m->m_id[0].id_addr, "\x0a\x00\xff\x00", 4);
	memcpy(m->m_id[0].id_addr2, "\x0a\x01\x00\xff", 4);
}

/*
 * A range inside the policy that is a prefix is installed as that
 * prefix; one that is not cannot be a kernel selector and is refused,
 * saying so; one reaching outside the policy is refused.
 */
TEST(ranges)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TUNNEL, "10.1.0.0", 16, "10.2.0.0", 16);
	pol(&pr, ENCAP_MODE_TUNNEL, "10.2.0.0", 16, "10.1.0.0", 16);
	ASSERT_INT_EQ(create(&pi, patch_range_prefix, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_src.sel_plen, 25);
	ASSERT_INT_EQ(v4(&a.a_res.dr_in[0].sa_sel_src, 2), 2);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);

	ASSERT_INT_EQ(create(&pi, patch_range_odd, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, -1);
	ASSERT_INT_EQ(a.a_err.de_err, ISAKMP_ERR_ID_POLICY);
	ASSERT_STR_EQ(a.a_err.de_text, "proposed from 10.1.2.1-10.1.2.5 to "
	    "10.2.0.0/16 proto 0: a range that is not a prefix, which no "
	    "kernel selector holds");
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);

	ASSERT_INT_EQ(create(&pi, patch_range_wide, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, -1);
	ASSERT_INT_EQ(a.a_err.de_err, ISAKMP_ERR_ID_POLICY);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/*
 * No IDs (racoon2, or our own host-to-host policy): the two hosts, all
 * protocols.  A wider policy holds them and the SAs get the hosts; a
 * narrower one (TCP only) is refused and the log names both sides.
 */
TEST(no_ids_hosts)
{
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;

	pol(&pi, ENCAP_MODE_TRANSPORT, "192.0.2.1", 32, "192.0.2.2", 32);
	pol(&pr, ENCAP_MODE_TRANSPORT, "192.0.2.0", 24, "192.0.2.0", 24);
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_src.sel_plen, 32);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_dst.sel_plen, 32);
	ASSERT_INT_EQ(v4(&a.a_res.dr_in[0].sa_sel_src, 3), 1);
	ASSERT_INT_EQ(a.a_res.dr_in[0].sa_sel_ulproto, 0);
	ASSERT_STR_EQ(doi_resp_narrowed(a.a_r), "proposed from 192.0.2.1/32 "
	    "to 192.0.2.2/32 proto 0 inside policy pol: from 192.0.2.0/24 to "
	    "192.0.2.0/24 proto 0");
	answer_free(&a);

	pol(&pr, ENCAP_MODE_TRANSPORT, "192.0.2.2", 32, "192.0.2.1", 32);
	pr.pol_ulproto = 6;
	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, -1);
	ASSERT_INT_EQ(a.a_err.de_err, ISAKMP_ERR_NO_PROPOSAL);
	ASSERT_STR_EQ(a.a_err.de_text, "proposed (no IDs) from 192.0.2.1/32 "
	    "to 192.0.2.2/32 proto 0; nearest policy pol: from 192.0.2.1/32 "
	    "to 192.0.2.2/32 proto 6");
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/* --- RESPONDER-LIFETIME ---------------------------------------------- */

static int
parse_reply(const struct answer *a, struct isakmp_msg *m)
{
	return isakmp_parse(a->a_reply.b_data, a->a_reply.b_len, a->a_first,
	    m);
}

/*
 * B lowers 3600 s to 1800 s: with the per-peer setting on, the REPLY
 * also carries RESPONDER-LIFETIME (ESP, B's inbound SPI, 1800 s); off
 * (the default), or with nothing lowered, it carries no Notify at all.
 */
TEST(resp_life_sent)
{
	static struct isakmp_msg m;
	struct kink_policy pi, pr;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;
	uint32_t secs, kb;

	pol(&pi, ENCAP_MODE_TRANSPORT, NULL, 0, NULL, 0);
	pol(&pr, ENCAP_MODE_TRANSPORT, NULL, 0, NULL, 0);
	pr.pol_life_secs = 1800;
	ASSERT_INT_EQ(create(&pi, NULL, &i, &c, &f), 0);
	answer(&c, f, &pr, 1, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_resp_life, 1);
	ASSERT_INT_EQ(parse_reply(&a, &m), 0);
	ASSERT_INT_EQ(m.m_nnotify, 1);
	ASSERT_INT_EQ(m.m_notify[0].n_type, IPSEC_NTYPE_RESPONDER_LIFETIME);
	ASSERT_INT_EQ(m.m_notify[0].n_doi, IPSEC_DOI);
	ASSERT_INT_EQ(m.m_notify[0].n_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(m.m_notify[0].n_spi.rb_len, 4);
	ASSERT_INT_EQ(get_be32(m.m_notify[0].n_spi.rb_p), spis_b.ds_esp);
	ASSERT_INT_EQ(isakmp_life_parse(m.m_notify[0].n_data.rb_p,
	    m.m_notify[0].n_data.rb_len, &secs, &kb), 0);
	ASSERT_INT_EQ(secs, 1800);
	ASSERT_INT_EQ(kb, 0);
	answer_free(&a);

	answer(&c, f, &pr, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(a.a_res.dr_resp_life, 0);
	ASSERT_INT_EQ(parse_reply(&a, &m), 0);
	ASSERT_INT_EQ(m.m_nnotify, 0);
	answer_free(&a);

	pr.pol_life_secs = 3600;
	answer(&c, f, &pr, 1, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(parse_reply(&a, &m), 0);
	ASSERT_INT_EQ(m.m_nnotify, 0);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

/*
 * The initiator honours RESPONDER-LIFETIME: B's REPLY keeps 3600 s in
 * its SA but says 600 s in the Notify; A installs 600 s both ways (the
 * early inbound SA is replaced).  A longer one (7200 s), or one naming
 * another SPI, changes nothing.
 */
static uint32_t notify_secs, notify_spi;

static void
reply_with_life(struct answer *a, struct buf *out, uint8_t *first)
{
	static struct isakmp_msg m;
	struct buf life;

	buf_init(&life, 0);
	buf_init(out, 0);
	buf_put_u32(&life, notify_spi);
	isakmp_life_build(notify_secs, 0, &life);
	if (parse_reply(a, &m) != 0)
		return;
	m.m_nnotify = 1;
	m.m_notify[0].n_doi = IPSEC_DOI;
	m.m_notify[0].n_proto = PROTO_IPSEC_ESP;
	m.m_notify[0].n_type = IPSEC_NTYPE_RESPONDER_LIFETIME;
	m.m_notify[0].n_spi = rbuf_make(life.b_data, 4);
	m.m_notify[0].n_data = rbuf_make(life.b_data + 4, life.b_len - 4);
	isakmp_build(&m, out, first);
	buf_free(&life);
}

static int
honour(uint32_t secs, uint32_t spi, struct doi_result *ir)
{
	struct kink_policy p;
	struct doi_ctx *i;
	struct doi_result opt;
	struct doi_error e;
	struct buf c, rep;
	uint8_t f, rf;
	struct answer a;
	int rc;

	pol(&p, ENCAP_MODE_TRANSPORT, NULL, 0, NULL, 0);
	if (create(&p, NULL, &i, &c, &f) != 0 ||
	    doi_init_optimistic(i, prf, NULL, &opt) != 0)
		return -9;
	doi_result_clear(&opt);
	answer(&c, f, &p, 0, &a);
	notify_secs = secs;
	notify_spi = spi;
	reply_with_life(&a, &rep, &rf);
	rc = doi_init_reply(i, rep.b_data, rep.b_len, rf, prf, NULL, ir, &e);
	if (rc == 0) {
		uint16_t t[4];

		/* The REPLY's Notify types, for the daemon's log. */
		if (doi_notifies(i, t, 4) != 1 ||
		    t[0] != IPSEC_NTYPE_RESPONDER_LIFETIME)
			rc = -8;
	}
	doi_ctx_free(i);
	buf_free(&c);
	buf_free(&rep);
	answer_free(&a);
	return rc;
}

TEST(resp_life_honoured)
{
	struct doi_result r;

	ASSERT_INT_EQ(honour(600, spis_b.ds_esp, &r), 0);
	ASSERT_INT_EQ(r.dr_resp_life, 1);
	ASSERT_INT_EQ(r.dr_in_changed, 1);
	ASSERT_INT_EQ(r.dr_out[0].sa_life_hard_secs, 600);
	ASSERT_INT_EQ(r.dr_in[0].sa_life_hard_secs, 600);
	doi_result_clear(&r);

	ASSERT_INT_EQ(honour(7200, spis_b.ds_esp, &r), 0);
	ASSERT_INT_EQ(r.dr_resp_life, 0);
	ASSERT_INT_EQ(r.dr_out[0].sa_life_hard_secs, 3600);
	doi_result_clear(&r);

	ASSERT_INT_EQ(honour(600, 0x12345678, &r), 0);
	ASSERT_INT_EQ(r.dr_resp_life, 0);
	ASSERT_INT_EQ(r.dr_out[0].sa_life_hard_secs, 3600);
	doi_result_clear(&r);
}

/* The Notify data codec: life pairs only, TV and TLV durations. */
TEST(life_codec)
{
	struct buf b;
	uint32_t secs, kb;
	static const uint8_t mode[] = { 0x80, 0x04, 0x00, 0x01 };
	static const uint8_t half[] = { 0x80, 0x01, 0x00, 0x01 };

	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_life_build(100000, 5000, &b), 0);
	/* Type sec, duration TLV (4 octets), type kbytes, duration TV. */
	ASSERT_INT_EQ(b.b_len, 4 + 8 + 4 + 4);
	ASSERT_INT_EQ(isakmp_life_parse(b.b_data, b.b_len, &secs, &kb), 0);
	ASSERT_INT_EQ(secs, 100000);
	ASSERT_INT_EQ(kb, 5000);
	ASSERT_INT_EQ(isakmp_life_parse(b.b_data, 3, &secs, &kb),
	    ISAKMP_ERR_ATTR);
	ASSERT_INT_EQ(isakmp_life_parse(mode, sizeof(mode), &secs, &kb),
	    ISAKMP_ERR_ATTR_VALUE);
	/* A Life Type without its Duration. */
	ASSERT_INT_EQ(isakmp_life_parse(half, sizeof(half), &secs, &kb),
	    ISAKMP_ERR_ATTR_DUP);
	ASSERT_INT_EQ(isakmp_life_parse(NULL, 0, &secs, &kb),
	    ISAKMP_ERR_ATTR);
	ASSERT_INT_EQ(isakmp_life_build(0, 0, &b), -1);
	buf_free(&b);
}

/* --- Notify types of a request --------------------------------------- */

static void
patch_notifies(struct isakmp_msg *m)
{
	m->m_nnotify = 2;
	m->m_notify[0].n_doi = IPSEC_DOI;
	m->m_notify[0].n_type = 9999;		/* an error type, unknown */
	m->m_notify[1].n_doi = IPSEC_DOI;
	m->m_notify[1].n_type = IPSEC_NTYPE_INITIAL_CONTACT;
}

/* A CREATE's Notifies do not fail it (RFC 4430 5.5) and are kept. */
TEST(request_notifies_kept)
{
	struct kink_policy p;
	struct doi_ctx *i;
	struct buf c;
	uint8_t f;
	struct answer a;
	uint16_t t[4];

	pol(&p, ENCAP_MODE_TRANSPORT, NULL, 0, NULL, 0);
	ASSERT_INT_EQ(create(&p, patch_notifies, &i, &c, &f), 0);
	answer(&c, f, &p, 0, &a);
	ASSERT_INT_EQ(a.a_rc, 0);
	ASSERT_INT_EQ(doi_notifies(a.a_r, t, 4), 2);
	ASSERT_INT_EQ(t[0], 9999);
	ASSERT_INT_EQ(t[1], IPSEC_NTYPE_INITIAL_CONTACT);
	doi_ctx_free(i);
	buf_free(&c);
	answer_free(&a);
}

int
main(void)
{
	mkaddr(&addr_a, "192.0.2.1");
	mkaddr(&addr_b, "192.0.2.2");
	RUN(narrower_proto_port_accepted);
	RUN(exact_ids_not_narrowed);
	RUN(narrower_subnets_v4);
	RUN(narrower_subnets_v6);
	RUN(wider_refused);
	RUN(other_proto_refused);
	RUN(ranges);
	RUN(no_ids_hosts);
	RUN(resp_life_sent);
	RUN(resp_life_honoured);
	RUN(life_codec);
	RUN(request_notifies_kept);
	return test_done();
}
