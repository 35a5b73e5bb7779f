/*
 * libFuzzer harness for what a peer holding a session key reaches: the
 * KINK_ENCRYPT payload decrypted under that key (krb_decrypt, usage 39) and
 * the inner payload chain behind it, taken the way xact_input.c's
 * open_encrypt() and the exchanges after it take them: wire_parse_inner,
 * the per-type payload rules, each KINK_ISAKMP's Quick Mode chain through
 * the IPsec DOI (as a CREATE to a responder, as a REPLY to an initiator)
 * and an inner KINK_KRB_ERROR through krb_rd_error.
 *
 * Input: octet 0 is a control octet, the rest the plaintext of
 * KINK_ENCRYPT (InnerNextPload, 3 reserved octets, the inner chain).
 * Control bit 0: the message is a REPLY (else a CREATE); bit 1: the rest
 * is the ciphertext itself, sent as is (the "does not decrypt" path).
 * The harness seals the plaintext under krb_fixture.h's session key in an
 * outer message (header, KINK_AP_REQ or KINK_AP_REP, KINK_ENCRYPT), so the
 * fuzzer mutates what a key holder can say rather than ciphertext that
 * would never decrypt.  Checks, and traps when one breaks:
 *  - the sealed message parses and decrypts back to the plaintext;
 *  - inner parse errors are inner-chain codes, and a failed inner parse
 *    leaves the outer message as it was;
 *  - the DOI either refuses with a known code or yields SAs with keys of
 *    the sizes their algorithms need.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kink.h"
#include "buf.h"
#include "doi_ipsec.h"
#include "wire.h"
#include "krb_fixture.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fx fx;
static struct krb_key *key;
static struct kink_policy pol;
static struct sockaddr_in la, ra;

/* Not a PRF anyone should use: deterministic, cheap, 20 octets. */
static int
toy_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
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

		if (s->sa_proto == PROTO_IPSEC_ESP)
			CHECK(s->sa_enckey_len ==
			    doi_enc_keylen(s->sa_enc, s->sa_enc_keylen));
		CHECK(s->sa_authkey_len == doi_auth_keylen(s->sa_auth));
	}
}

/* The policy the responder and the initiator of the harness hold. */
static void
setup_policy(void)
{
	struct kink_suite *s;

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
	s->s_esp.x_id = ESP_AES_GCM_16;
	s->s_esp.x_keylen = 256;
}

/* create_respond / create_init_reply's use of one KINK_ISAKMP. */
static void
negotiate(const struct kink_isakmp_pl *ip, int reply)
{
	static const struct doi_spis spis = { 0x1001, 0x2002 };
	const struct kink_policy *pols[1] = { &pol };
	struct doi_ctx *c;
	struct doi_error e;
	struct doi_result r;
	struct buf out;
	uint8_t f;

	memset(&e, 0, sizeof(e));
	buf_init(&out, 0);
	if (!reply) {
		CHECK((c = doi_resp_new((struct sockaddr *)&ra,
		    (struct sockaddr *)&la)) != NULL);
		if (doi_resp_choose(c, pols, 1, ip->ip_body.rb_p,
		    ip->ip_body.rb_len, ip->ip_inner_next, NULL, NULL,
		    &e) == 0) {
			CHECK(doi_resp_finish(c, &spis, toy_prf, NULL, &out,
			    &f, &r, &e) == 0);
			check_sas(&r);
			doi_result_clear(&r);
		} else {
			CHECK(e.de_err > 0 && e.de_err < ISAKMP_ERR_MAX);
			if (e.de_notify != 0)
				CHECK(doi_notify_build(&e, &out, &f) == 0);
		}
	} else {
		CHECK((c = doi_init_new(&pol, (struct sockaddr *)&la,
		    (struct sockaddr *)&ra, &spis)) != NULL);
		if (doi_init_reply(c, ip->ip_body.rb_p, ip->ip_body.rb_len,
		    ip->ip_inner_next, toy_prf, NULL, &r, &e) == 0) {
			check_sas(&r);
			doi_result_clear(&r);
		} else
			CHECK(r.dr_nsa == 0 && e.de_err > 0 &&
			    e.de_err < ISAKMP_ERR_MAX);
	}
	doi_ctx_free(c);
	buf_free(&out);
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Header, KINK_AP_REQ/AP_REP (EPOCH and a token nobody reads here),
 * KINK_ENCRYPT with `ct`: a message as the outer parser accepts it. */
static size_t
seal(uint8_t *msg, size_t cap, int reply, const uint8_t *ct, size_t ctlen)
{
	size_t len = KINK_HDR_LEN + 12 + KINK_PL_HDR_LEN + ctlen;
	uint8_t *p;

	if (len > cap || len > 0xffff)
		return 0;
	memset(msg, 0, len);
	msg[0] = reply ? KINK_MSGTYPE_REPLY : KINK_MSGTYPE_CREATE;
	msg[1] = KINK_VERSION;
	put16(msg + 2, len);
	msg[7] = KINK_DOI_IPSEC;
	msg[11] = 0x2a;				/* XID */
	msg[12] = reply ? KINK_AP_REP : KINK_AP_REQ;
	p = msg + KINK_HDR_LEN;
	p[0] = KINK_ENCRYPT;
	put16(p + 2, 12);
	p[7] = 1;				/* EPOCH */
	p += 12;
	p[0] = KINK_DONE;
	put16(p + 2, KINK_PL_HDR_LEN + ctlen);
	if (ctlen > 0)
		memcpy(p + KINK_PL_HDR_LEN, ct, ctlen);
	return len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fx_init(&fx);
	CHECK((key = krb_key_new(fx.ctx, FX_ETYPE, fx_session_key, 32)) !=
	    NULL);
	setup_policy();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[KINK_MAX_MSG + 256];
	struct kink_msg m, m0;
	struct buf ct, plain;
	struct krb_error_info ei;
	int reply, raw, r;
	size_t len;

	if (size < 1 || size > KINK_MAX_MSG)
		return 0;
	reply = data[0] & 1;
	raw = data[0] & 2;
	buf_init(&ct, 0);
	buf_init(&plain, KINK_MAX_MSG);
	if (raw)
		CHECK(buf_put(&ct, data + 1, size - 1) == 0);
	else
		CHECK(krb_encrypt(key, data + 1, size - 1, &ct) == 0);
	if ((len = seal(msg, sizeof(msg), reply, ct.b_data, ct.b_len)) == 0)
		goto out;
	CHECK(wire_parse(&m, msg, len) == 0 && wire_has(&m, KINK_ENCRYPT));

	/* open_encrypt() */
	if (krb_decrypt(key, m.m_encrypt.rb_p, m.m_encrypt.rb_len,
	    &plain) != 0) {
		CHECK(raw);
		goto out;
	}
	if (!raw)
		CHECK(plain.b_len == size - 1 && (size == 1 ||
		    memcmp(plain.b_data, data + 1, size - 1) == 0));
	m0 = m;
	r = wire_parse_inner(&m, plain.b_data, plain.b_len);
	CHECK(r >= 0 && r < KINK_WE_MISSING_PL);
	CHECK(wire_strerror(r) != NULL);
	if (r != 0) {
		CHECK(memcmp(&m, &m0, sizeof(m)) == 0);
		goto out;
	}
	r = wire_check_type(&m);
	CHECK(r == 0 || r == KINK_WE_MISSING_PL || r == KINK_WE_UNEXPECTED_PL);
	for (unsigned int i = 0; i < m.m_nisakmp; i++)
		if (m.m_isakmp[i].ip_encrypted)
			negotiate(&m.m_isakmp[i], reply);
	/* input_error_reply() reads an inner KRB_ERROR the same way. */
	if (wire_has(&m, KINK_KRB_ERROR) && m.m_krb_error.rb_len > 0)
		(void)krb_rd_error(fx.ctx, m.m_krb_error.rb_p,
		    m.m_krb_error.rb_len, &ei);
out:
	buf_free(&ct);
	buf_free(&plain);
	return 0;
}
