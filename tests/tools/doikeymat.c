/*
 * doikeymat: the code under test's side of tests/unit/check_keymat.sh,
 * which recomputes everything with openssl(1) from the RFC definitions.
 *
 *   doikeymat keymat KEYHEX PROTO SPIHEX NIHEX NRHEX|- GXYHEX|- LEN
 *	doi_keymat() with krb_prf_rfc3961(etype 18, KEY) as the PRF.
 *   doikeymat create KEYHEX SUITE PFS PATH
 *	A full CREATE between an initiator and a responder context.
 *	SUITE aes128-sha1 | aes256-sha256; PFS 0 | 14 | 19;
 *	PATH optimistic (the suite is the initiator's first) | second (a
 *	3DES suite the responder refuses comes first, so Nr is added).
 *	Prints the inputs the KEYMAT depends on and the four SAs' keys:
 *	  ni HEX / nr HEX|- / gxy HEX|- / KIND SPI ENCKEY AUTHKEY
 *	with KIND i_in, i_out, r_in, r_out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doi_ipsec.h"
#include "dh.h"
#include "krb_prf.h"
#include "test.h"

static uint8_t key[64];
static size_t keylen;

static int
prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	(void)arg;
	return krb_prf_rfc3961(18, key, keylen, in, inlen, out, outlen);
}

static void
hex(const char *label, const uint8_t *p, size_t n)
{
	if (label)
		printf("%s ", label);
	if (n == 0)
		printf("-");
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	if (label)
		printf("\n");
}

static int
opt_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	if (strcmp(s, "-") == 0) {
		*len = 0;
		return 0;
	}
	return test_hex_decode(s, out, max, len);
}

static int
do_keymat(char **av)
{
	uint8_t ni[256], nr[256], gxy[256], spi[4], out[512];
	size_t nil, nrl, gl, sl, len = (size_t)atoi(av[6]);

	if (test_hex_decode(av[2], spi, 4, &sl) != 0 || sl != 4 ||
	    test_hex_decode(av[3], ni, sizeof(ni), &nil) != 0 ||
	    opt_hex(av[4], nr, sizeof(nr), &nrl) != 0 ||
	    opt_hex(av[5], gxy, sizeof(gxy), &gl) != 0 || len > sizeof(out))
		return 2;
	if (doi_keymat(prf, NULL, gl ? gxy : NULL, gl, (uint8_t)atoi(av[1]),
	    get_be32(spi), ni, nil, nrl ? nr : NULL, nrl, out, len) != 0)
		return 1;
	hex(NULL, out, len);
	printf("\n");
	return 0;
}

static void
suite(struct kink_policy *p, const char *name)
{
	struct kink_suite *s = &p->pol_suites[p->pol_nsuites++];

	s->s_esp.x_present = 1;
	if (strcmp(name, "aes128-sha1") == 0) {
		s->s_esp.x_id = ESP_AES_CBC;
		s->s_esp.x_keylen = 128;
		s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	} else if (strcmp(name, "aes256-sha256") == 0) {
		s->s_esp.x_id = ESP_AES_CBC;
		s->s_esp.x_keylen = 256;
		s->s_esp.x_auth = AUTH_ALG_HMAC_SHA2_256;
	} else {
		s->s_esp.x_id = ESP_3DES;
		s->s_esp.x_auth = AUTH_ALG_HMAC_SHA;
	}
}

static void
print_sa(const char *kind, const struct kink_sa *sa)
{
	printf("%s %08x ", kind, sa->sa_spi);
	hex(NULL, sa->sa_enckey, sa->sa_enckey_len);
	printf(" ");
	hex(NULL, sa->sa_authkey, sa->sa_authkey_len);
	printf("\n");
}

static int
do_create(char **av)
{
	static const uint8_t ni[16] = "KINK Ni 16 octs";
	static const uint8_t nr[20] = "responder nonce Nr!";
	struct kink_policy pi, pr;
	const struct kink_policy *pols[1] = { &pr };
	struct sockaddr_in a, b;
	struct doi_spis sa = { 0x0000a0e5, 0, 0 }, sb = { 0x0000b0e5, 0, 0 };
	struct doi_ctx *ci = NULL, *cr = NULL;
	struct doi_result ri, rr;
	struct doi_error e;
	static struct isakmp_msg m;
	struct buf c, r;
	uint8_t f1, f2, gxy[DH_MAX_LEN];
	size_t gl;
	int rc = 1;

	memset(&ri, 0, sizeof(ri));
	memset(&rr, 0, sizeof(rr));
	buf_init(&c, 0);
	buf_init(&r, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	b = a;
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
	memset(&pi, 0, sizeof(pi));
	pi.pol_mode = ENCAP_MODE_TRANSPORT;
	pi.pol_life_secs = 3600;
	pi.pol_pfs_group = (uint16_t)atoi(av[2]);
	pr = pi;
	if (strcmp(av[3], "second") == 0)
		suite(&pi, "3des-sha1");
	suite(&pi, av[1]);
	suite(&pr, av[1]);
	if ((ci = doi_init_new(&pi, (struct sockaddr *)&a,
	    (struct sockaddr *)&b, &sa)) == NULL ||
	    doi_set_nonce(ci, ni, sizeof(ni)) != 0 ||
	    doi_init_proposal(ci, &c, &f1) != 0 ||
	    (cr = doi_resp_new((struct sockaddr *)&b,
	    (struct sockaddr *)&a)) == NULL ||
	    doi_set_nonce(cr, nr, sizeof(nr)) != 0 ||
	    doi_resp_choose(cr, pols, 1, c.b_data, c.b_len, f1, NULL, NULL,
	    &e) != 0 ||
	    doi_resp_finish(cr, &sb, prf, NULL, &r, &f2, &rr, &e) != 0 ||
	    doi_init_reply(ci, r.b_data, r.b_len, f2, prf, NULL, &ri, &e) != 0 ||
	    doi_get_gxy(ci, gxy, sizeof(gxy), &gl) != 0) {
		fprintf(stderr, "doikeymat: exchange failed (%s)\n",
		    isakmp_strerror(e.de_err));
		goto out;
	}
	hex("ni", ni, sizeof(ni));
	/* Nr is part of the KEYMAT only if the REPLY carried it. */
	if (isakmp_parse(r.b_data, r.b_len, f2, &m) != 0)
		goto out;
	hex("nr", m.m_nonce.rb_p, m.m_nonce.rb_len);
	hex("gxy", gxy, gl);
	print_sa("i_in", &ri.dr_in[0]);
	print_sa("i_out", &ri.dr_out[0]);
	print_sa("r_in", &rr.dr_in[0]);
	print_sa("r_out", &rr.dr_out[0]);
	rc = 0;
out:
	doi_result_clear(&ri);
	doi_result_clear(&rr);
	doi_ctx_free(ci);
	doi_ctx_free(cr);
	buf_free(&c);
	buf_free(&r);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && test_hex_decode(argv[2], key, sizeof(key),
	    &keylen) == 0) {
		if (strcmp(argv[1], "keymat") == 0 && argc == 9)
			return do_keymat(argv + 2);
		if (strcmp(argv[1], "create") == 0 && argc == 6)
			return do_create(argv + 2);
	}
	fprintf(stderr, "usage: doikeymat keymat KEYHEX PROTO SPIHEX NIHEX "
	    "NRHEX|- GXYHEX|- LEN\n"
	    "       doikeymat create KEYHEX SUITE PFS optimistic|second\n");
	return 2;
}
