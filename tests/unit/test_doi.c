/*
 * IPsec DOI negotiation: a real initiator context talks to a real
 * responder context through the real codec, with the RFC 3961 PRF of
 * src/krb_prf.c over a fixed AES session key.  The table of RFC 4430 3.2
 * outcomes (optimistic, second choice, lifetimes, KE, bundles, modes), the
 * bad inputs that must yield the RFC's Notify and no state, and the key
 * building blocks.  Known answers computed outside the code under test are
 * in check_keymat.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "dh.h"
#include "doi_ipsec.h"
#include "krb_prf.h"
#include "test.h"

/* --- fixtures -------------------------------------------------------- */

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
		s4->sin_port = htons(910);
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
}

static void
mksel(struct kink_selector *s, const char *ip, int plen, int port)
{
	mkaddr(&s->sel_addr, ip);
	((struct sockaddr_in *)&s->sel_addr)->sin_port = 0;
	s->sel_plen = (uint8_t)plen;
	s->sel_port = (uint16_t)port;
}

static void
pol_init(struct kink_policy *p, int mode)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->pol_name, sizeof(p->pol_name), "test");
	p->pol_mode = (uint8_t)mode;
	p->pol_life_secs = 3600;
	p->pol_reqid = 7;
}

static void
add_esp(struct kink_policy *p, int id, int keylen, int auth)
{
	struct kink_suite *s = &p->pol_suites[p->pol_nsuites++];

	memset(s, 0, sizeof(*s));
	s->s_esp.x_present = 1;
	s->s_esp.x_id = (uint8_t)id;
	s->s_esp.x_keylen = (uint16_t)keylen;
	s->s_esp.x_auth = (uint16_t)auth;
}

static void
add_bundle(struct kink_policy *p, int id, int keylen, int auth, int ah)
{
	add_esp(p, id, keylen, auth);
	p->pol_suites[p->pol_nsuites - 1].s_ah.x_present = 1;
	p->pol_suites[p->pol_nsuites - 1].s_ah.x_id = (uint8_t)ah;
}

/* A policy with one ESP suite, aes-128-cbc with hmac-sha1. */
static void
pol_aes128(struct kink_policy *p, int mode)
{
	pol_init(p, mode);
	add_esp(p, ESP_AES_CBC, 128, AUTH_ALG_HMAC_SHA);
}

static const struct doi_spis spis_a = { 0x1000a001, 0x2000a002, 0x0a01 };
static const struct doi_spis spis_b = { 0x3000b001, 0x4000b002, 0x0b01 };

/* A's initiator context towards B, and B's responder context for A. */
static struct doi_ctx *
init_a(const struct kink_policy *p)
{
	return doi_init_new(p, (struct sockaddr *)&addr_a,
	    (struct sockaddr *)&addr_b, &spis_a);
}

static struct doi_ctx *
resp_b(void)
{
	return doi_resp_new((struct sockaddr *)&addr_b,
	    (struct sockaddr *)&addr_a);
}

/* One CREATE exchange, A initiates to B. */
struct xchg {
	struct doi_ctx	*x_i, *x_r;
	struct buf	 x_create, x_reply;
	uint8_t		 x_cfirst, x_rfirst;
	struct doi_result x_iopt, x_ires, x_rres;
	struct doi_error x_rerr, x_ierr;
	int		 x_opt_rc, x_choose_rc, x_finish_rc, x_reply_rc;
	int		 x_inuse;	/* the responder's SPI-in-use answer */
	uint32_t	 x_retrans;	/* T-retrans of both ends, 0 = default */
};

static int
inuse_cb(void *arg, uint8_t proto, uint32_t spi)
{
	struct xchg *x = arg;

	(void)proto;
	(void)spi;
	return x->x_inuse;
}

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

/* Returns -1 only if the setup itself failed. */
static int
run(struct xchg *x, const struct kink_policy *pi, const struct kink_policy *pr)
{
	const struct kink_policy *pols[1] = { pr };

	buf_init(&x->x_create, 0);
	buf_init(&x->x_reply, 0);
	x->x_i = init_a(pi);
	if (x->x_i != NULL && x->x_retrans)
		doi_set_retrans(x->x_i, x->x_retrans);
	if (x->x_i == NULL ||
	    doi_init_proposal(x->x_i, &x->x_create, &x->x_cfirst) != 0)
		return -1;
	x->x_opt_rc = doi_init_optimistic(x->x_i, prf, NULL, &x->x_iopt);
	x->x_r = resp_b();
	if (x->x_r == NULL)
		return -1;
	if (x->x_retrans)
		doi_set_retrans(x->x_r, x->x_retrans);
	x->x_choose_rc = doi_resp_choose(x->x_r, pols, 1, x->x_create.b_data,
	    x->x_create.b_len, x->x_cfirst, inuse_cb, x, &x->x_rerr);
	if (x->x_choose_rc != 0) {
		/* What the responder sends back instead. */
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
sa_keys_eq(const struct kink_sa *a, const struct kink_sa *b)
{
	return a->sa_spi == b->sa_spi && a->sa_proto == b->sa_proto &&
	    a->sa_enc == b->sa_enc && a->sa_auth == b->sa_auth &&
	    a->sa_enckey_len == b->sa_enckey_len &&
	    a->sa_authkey_len == b->sa_authkey_len &&
	    memcmp(a->sa_enckey, b->sa_enckey, a->sa_enckey_len) == 0 &&
	    memcmp(a->sa_authkey, b->sa_authkey, a->sa_authkey_len) == 0;
}

/* Both ends derived the same four keys (two per SA, two SAs). */
#define ASSERT_PAIRED(x) do {						\
	ASSERT_INT_EQ((x)->x_ires.dr_nsa, (x)->x_rres.dr_nsa);		\
	for (int _i = 0; _i < (x)->x_ires.dr_nsa; _i++) {		\
		ASSERT_TRUE(sa_keys_eq(&(x)->x_ires.dr_in[_i],		\
		    &(x)->x_rres.dr_out[_i]));				\
		ASSERT_TRUE(sa_keys_eq(&(x)->x_ires.dr_out[_i],		\
		    &(x)->x_rres.dr_in[_i]));				\
	}								\
} while (0)

static int
reply_has_nonce(struct xchg *x)
{
	static struct isakmp_msg m;

	if (isakmp_parse(x->x_reply.b_data, x->x_reply.b_len, x->x_rfirst,
	    &m) != 0)
		return -1;
	return m.m_nonce.rb_p != NULL;
}

/*
 * The random draws this program's code makes: these definitions take the
 * place of libbsd's for every object linked in, so a test can count them
 * (each costs kinkd a system call).  The octets still come from the kernel.
 */
static int draws;

static void
fill_random(void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t r;

	while (n > 0) {
		if ((r = getrandom(q, n, 0)) <= 0)
			abort();
		q += r;
		n -= (size_t)r;
	}
}

uint32_t
arc4random(void)
{
	uint32_t v;

	draws++;
	fill_random(&v, sizeof(v));
	return v;
}

void
arc4random_buf(void *p, size_t n)
{
	draws++;
	fill_random(p, n);
}

uint32_t
arc4random_uniform(uint32_t n)
{
	uint32_t v;

	draws++;
	fill_random(&v, sizeof(v));
	return n > 1 ? v % n : 0;
}

/* --- the negotiation table ------------------------------------------- */

TEST(optimistic_accepted)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	const struct kink_sa *in, *out;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	add_esp(&p, ESP_3DES, 0, AUTH_ALG_HMAC_SHA);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_opt_rc, 0);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), DOI_PROTO_BIT(PROTO_IPSEC_ESP));
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 0);
	ASSERT_INT_EQ(reply_has_nonce(&x), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 0);
	ASSERT_PAIRED(&x);
	/* The early inbound SA is exactly the final one. */
	ASSERT_INT_EQ(x.x_iopt.dr_nsa, 1);
	ASSERT_TRUE(sa_keys_eq(&x.x_iopt.dr_in[0], &x.x_ires.dr_in[0]));
	in = &x.x_ires.dr_in[0];
	out = &x.x_ires.dr_out[0];
	ASSERT_INT_EQ(in->sa_spi, spis_a.ds_esp);
	ASSERT_INT_EQ(out->sa_spi, spis_b.ds_esp);
	ASSERT_INT_EQ(in->sa_dir, SA_DIR_IN);
	ASSERT_INT_EQ(in->sa_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(in->sa_enc, ESP_AES_CBC);
	ASSERT_INT_EQ(in->sa_enc_keylen, 128);
	ASSERT_INT_EQ(in->sa_enckey_len, 16);
	ASSERT_INT_EQ(in->sa_auth, AUTH_ALG_HMAC_SHA);
	ASSERT_INT_EQ(in->sa_authkey_len, 20);
	ASSERT_INT_EQ(in->sa_mode, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(in->sa_reqid, 7);
	ASSERT_INT_EQ(in->sa_life_hard_secs, 3600);
	ASSERT_TRUE(in->sa_life_soft_secs < 3600 &&
	    in->sa_life_soft_secs >= 3600 - 124);
	/* Outer addresses: in = B -> A. */
	ASSERT_TRUE(memcmp(&((struct sockaddr_in *)&in->sa_src)->sin_addr,
	    &((struct sockaddr_in *)&addr_b)->sin_addr, 4) == 0);
	ASSERT_TRUE(memcmp(&((struct sockaddr_in *)&in->sa_dst)->sin_addr,
	    &((struct sockaddr_in *)&addr_a)->sin_addr, 4) == 0);
	/* Keys of the two directions differ (different SPIs). */
	ASSERT_TRUE(memcmp(in->sa_enckey, out->sa_enckey, 16) != 0);
	/* Transport without IDs: host selectors. */
	ASSERT_INT_EQ(out->sa_sel_src.sel_plen, 32);
	ASSERT_INT_EQ(out->sa_sel_dst.sel_plen, 32);
	x_free(&x);
}

TEST(second_transform_chosen)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	add_esp(&pi, ESP_3DES, 0, AUTH_ALG_HMAC_SHA);
	pol_init(&pr, ENCAP_MODE_TRANSPORT);
	add_esp(&pr, ESP_3DES, 0, AUTH_ALG_HMAC_SHA);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 0);
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 1);
	ASSERT_INT_EQ(reply_has_nonce(&x), 1);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 0);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 1);
	ASSERT_PAIRED(&x);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_enc, ESP_3DES);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_enckey_len, 24);
	/* The optimistic inbound SA must be replaced: other keys. */
	ASSERT_TRUE(!sa_keys_eq(&x.x_iopt.dr_in[0], &x.x_ires.dr_in[0]));
	x_free(&x);
}

TEST(second_proposal_chosen)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };
	static struct isakmp_msg m;

	/* ESP-only proposal #1, then an AH+ESP bundle as #2. */
	pol_init(&pi, ENCAP_MODE_TRANSPORT);
	add_esp(&pi, ESP_AES_CBC, 256, AUTH_ALG_HMAC_SHA2_256);
	add_bundle(&pi, ESP_AES_CBC, 128, AUTH_ALG_HMAC_SHA, AH_SHA);
	pol_init(&pr, ENCAP_MODE_TRANSPORT);
	add_bundle(&pr, ESP_AES_CBC, 128, AUTH_ALG_HMAC_SHA, AH_SHA);
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_create.b_data, x.x_create.b_len,
	    x.x_cfirst, &m), 0);
	ASSERT_INT_EQ(m.m_sa.sa_nprop, 3);
	ASSERT_INT_EQ(m.m_sa.sa_prop[1].p_num, 2);
	ASSERT_INT_EQ(m.m_sa.sa_prop[2].p_num, 2);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), DOI_PROTO_BIT(PROTO_IPSEC_ESP) |
	    DOI_PROTO_BIT(PROTO_IPSEC_AH));
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 1);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 0);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 2);
	ASSERT_PAIRED(&x);
	x_free(&x);
}

TEST(lifetime_lowered)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pi.pol_life_kbytes = 100000;
	pr = pi;
	pr.pol_life_secs = 1800;
	pr.pol_life_kbytes = 5000;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	/*
	 * Same keys, but the optimistic inbound SA was installed at our
	 * un-lowered 3600 s / 100000 KB: it must be replaced (3.2, the
	 * shorter lifetime binds the initiator too).
	 */
	ASSERT_INT_EQ(x.x_iopt.dr_in[0].sa_life_hard_secs, 3600);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 1);
	ASSERT_PAIRED(&x);
	/* Both ends use the shorter lifetimes. */
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_life_hard_secs, 1800);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_life_hard_secs, 1800);
	ASSERT_INT_EQ(x.x_rres.dr_in[0].sa_life_hard_secs, 1800);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_life_hard_bytes, 5000 * 1024);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_life_hard_bytes, 5000 * 1024);
	ASSERT_TRUE(x.x_ires.dr_out[0].sa_life_soft_bytes <
	    x.x_ires.dr_out[0].sa_life_hard_bytes);
	x_free(&x);
}

/* Equal lifetimes and keys: the optimistic inbound SA stays as it is. */
TEST(lifetime_same_no_replace)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pi.pol_life_kbytes = 5000;
	pr = pi;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 0);
	x_free(&x);
}

/* No seconds lifetime offered: RFC 2407 4.5's 28800 s, not "never". */
TEST(lifetime_absent_default)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pi.pol_life_secs = 0;
	pr = pi;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_rres.dr_in[0].sa_life_hard_secs, 28800);
	ASSERT_INT_EQ(x.x_rres.dr_out[0].sa_life_hard_secs, 28800);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_life_hard_secs, 28800);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_life_hard_secs, 28800);
	ASSERT_INT_EQ(x.x_iopt.dr_in[0].sa_life_hard_secs, 28800);
	ASSERT_TRUE(x.x_rres.dr_in[0].sa_life_soft_secs > 0 &&
	    x.x_rres.dr_in[0].sa_life_soft_secs < 28800);
	x_free(&x);
}

/* The soft margin follows the configured retransmission cycle (3.6). */
TEST(soft_lifetime_retrans)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };
	uint32_t v;

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pr = pi;
	x.x_retrans = 190;	/* "retransmit 10s max 60s tries 5" */
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	v = x.x_rres.dr_in[0].sa_life_soft_secs;
	ASSERT_TRUE(v <= 3600 - 190 && v >= 3600 - 4 * 190);
	v = x.x_ires.dr_out[0].sa_life_soft_secs;
	ASSERT_TRUE(v <= 3600 - 190 && v >= 3600 - 4 * 190);
	x_free(&x);
}

TEST(lifetime_never_raised)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	/* A responder that would like longer SAs still answers 3600. */
	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pr = pi;
	pr.pol_life_secs = 7200;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_rres.dr_in[0].sa_life_hard_secs, 3600);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	x_free(&x);
}

TEST(lifetime_raised_rejected)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	struct buf b;
	uint8_t first;
	struct doi_result r;
	struct doi_error e;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	/* A responder that raised the lifetime in its REPLY. */
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_secs = 7200;
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_LIFE_RAISED);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(r.dr_nsa, 0);
	/* Kilobytes likewise. */
	m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_secs = 3600;
	m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_kbytes = 10;
	buf_reset(&b);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	/* We offered no byte limit: a limit is a lowering, accepted. */
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), 0);
	ASSERT_INT_EQ(r.dr_out[0].sa_life_hard_bytes, 10240);
	doi_result_clear(&r);
	buf_free(&b);
	x_free(&x);
}

/* We offered a byte limit: a REPLY with a higher one is refused. */
TEST(lifetime_kbytes_raised_rejected)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	struct buf b;
	uint8_t first;
	struct doi_result r;
	struct doi_error e;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	p.pol_life_kbytes = 5000;
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_life_kbytes = 5001;
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_LIFE_RAISED);
	ASSERT_INT_EQ(r.dr_nsa, 0);
	buf_free(&b);
	x_free(&x);
}

static void
ke_case(uint16_t group)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;

	pol_init(&p, ENCAP_MODE_TRANSPORT);
	add_esp(&p, ESP_AES_CBC, 256, AUTH_ALG_HMAC_SHA2_256);
	p.pol_pfs_group = group;
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_create.b_data, x.x_create.b_len,
	    x.x_cfirst, &m), 0);
	ASSERT_INT_EQ(m.m_ke.rb_len, dh_pub_len(group));
	ASSERT_INT_EQ(m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_group, group);
	/* KE means 3-way: nothing is installed before the REPLY. */
	ASSERT_INT_EQ(x.x_opt_rc, -1);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(x.x_rres.dr_pfs, 1);
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 1);
	ASSERT_INT_EQ(reply_has_nonce(&x), 1);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_pfs, 1);
	ASSERT_INT_EQ(x.x_ires.dr_in_changed, 1);
	ASSERT_PAIRED(&x);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_enckey_len, 32);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_authkey_len, 32);
	x_free(&x);
}

TEST(ke_accepted_modp14)
{
	ke_case(OAKLEY_GROUP_MODP2048);
}

TEST(ke_accepted_ecp19)
{
	ke_case(OAKLEY_GROUP_ECP256);
}

TEST(ke_refused)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pr = pi;
	pi.pol_pfs_group = OAKLEY_GROUP_MODP2048;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_err, ISAKMP_ERR_KE_REFUSED);
	ASSERT_INT_EQ(x.x_rerr.de_notify, ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(x.x_rerr.de_datalen, 1);
	ASSERT_INT_EQ(x.x_rerr.de_data[0], ISAKMP_NPTYPE_KE);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), 0);
	/* The initiator sees the peer's Notify, data = 4. */
	ASSERT_INT_EQ(x.x_reply_rc, -1);
	ASSERT_INT_EQ(x.x_ierr.de_err, ISAKMP_ERR_PEER_NOTIFY);
	ASSERT_INT_EQ(x.x_ierr.de_notify, ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(x.x_ierr.de_datalen, 1);
	ASSERT_INT_EQ(x.x_ierr.de_data[0], ISAKMP_NPTYPE_KE);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 0);
	x_free(&x);
}

TEST(bundle_ah_esp)
{
	struct kink_policy p;
	struct xchg x = { 0 };

	pol_init(&p, ENCAP_MODE_TRANSPORT);
	add_bundle(&p, ESP_AES_CBC, 128, AUTH_ALG_HMAC_SHA, AH_SHA2_256);
	ASSERT_INT_EQ(doi_policy_protos(&p), DOI_PROTO_BIT(PROTO_IPSEC_ESP) |
	    DOI_PROTO_BIT(PROTO_IPSEC_AH));
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_rres.dr_ackreq, 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(x.x_ires.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_ires.dr_nsa, 2);
	ASSERT_INT_EQ(x.x_iopt.dr_nsa, 2);
	ASSERT_PAIRED(&x);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(x.x_ires.dr_in[0].sa_spi, spis_a.ds_esp);
	ASSERT_INT_EQ(x.x_ires.dr_in[1].sa_proto, PROTO_IPSEC_AH);
	ASSERT_INT_EQ(x.x_ires.dr_in[1].sa_spi, spis_a.ds_ah);
	ASSERT_INT_EQ(x.x_ires.dr_out[1].sa_spi, spis_b.ds_ah);
	ASSERT_INT_EQ(x.x_ires.dr_in[1].sa_enckey_len, 0);
	ASSERT_INT_EQ(x.x_ires.dr_in[1].sa_auth, AUTH_ALG_HMAC_SHA2_256);
	ASSERT_INT_EQ(x.x_ires.dr_in[1].sa_authkey_len, 32);
	x_free(&x);
}

TEST(tunnel_mode)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	const struct kink_sa *out;

	pol_init(&pi, ENCAP_MODE_TUNNEL);
	add_esp(&pi, ESP_AES_GCM_16, 128, 0);
	mksel(&pi.pol_src, "10.1.0.0", 16, 0);
	mksel(&pi.pol_dst, "10.2.0.0", 16, 0);
	pr = pi;
	pr.pol_src = pi.pol_dst;
	pr.pol_dst = pi.pol_src;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_create.b_data, x.x_create.b_len,
	    x.x_cfirst, &m), 0);
	ASSERT_INT_EQ(m.m_nid, 2);
	ASSERT_INT_EQ(m.m_id[0].id_type, IPSEC_ID_IPV4_ADDR_SUBNET);
	ASSERT_INT_EQ(m.m_id[0].id_addr[1], 1);
	ASSERT_INT_EQ(m.m_id[1].id_addr[1], 2);
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_PAIRED(&x);
	out = &x.x_ires.dr_out[0];
	ASSERT_INT_EQ(out->sa_mode, ENCAP_MODE_TUNNEL);
	ASSERT_INT_EQ(out->sa_enc, ESP_AES_GCM_16);
	ASSERT_INT_EQ(out->sa_enckey_len, 16 + 4);	/* key + salt */
	ASSERT_INT_EQ(out->sa_authkey_len, 0);
	ASSERT_INT_EQ(out->sa_sel_src.sel_plen, 16);
	ASSERT_INT_EQ(((uint8_t *)&((struct sockaddr_in *)
	    &out->sa_sel_src.sel_addr)->sin_addr)[1], 1);
	ASSERT_INT_EQ(((uint8_t *)&((struct sockaddr_in *)
	    &out->sa_sel_dst.sel_addr)->sin_addr)[1], 2);
	/* The responder's outbound goes from 10.2/16 to 10.1/16. */
	ASSERT_INT_EQ(((uint8_t *)&((struct sockaddr_in *)
	    &x.x_rres.dr_out[0].sa_sel_src.sel_addr)->sin_addr)[1], 2);
	ASSERT_TRUE(x.x_rres.dr_policy != NULL);
	x_free(&x);
}

TEST(tunnel_ids_mismatch)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TUNNEL);
	mksel(&pi.pol_src, "10.1.0.0", 16, 0);
	mksel(&pi.pol_dst, "10.2.0.0", 16, 0);
	pr = pi;
	mksel(&pr.pol_src, "10.9.0.0", 16, 0);
	pr.pol_dst = pi.pol_src;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_err, ISAKMP_ERR_ID_POLICY);
	ASSERT_INT_EQ(x.x_rerr.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	ASSERT_INT_EQ(x.x_reply_rc, -1);
	ASSERT_INT_EQ(x.x_ierr.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	x_free(&x);
}

TEST(transport_mode_mismatch)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pr = pi;
	pr.pol_mode = ENCAP_MODE_TUNNEL;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	x_free(&x);
}

TEST(transport_ipv6_ports)
{
	struct kink_policy pi, pr;
	struct xchg x = { 0 };
	struct sockaddr_storage sa = addr_a, sb = addr_b;

	mkaddr(&addr_a, "2001:db8::a");
	mkaddr(&addr_b, "2001:db8::b");
	pol_init(&pi, ENCAP_MODE_TRANSPORT);
	add_esp(&pi, ESP_AES_CBC, 256, AUTH_ALG_HMAC_SHA2_256);
	pi.pol_ulproto = 6;
	mksel(&pi.pol_src, "2001:db8::a", 128, 0);
	mksel(&pi.pol_dst, "2001:db8::b", 128, 443);
	pr = pi;
	pr.pol_src = pi.pol_dst;
	pr.pol_dst = pi.pol_src;
	ASSERT_INT_EQ(run(&x, &pi, &pr), 0);
	addr_a = sa;
	addr_b = sb;
	ASSERT_INT_EQ(x.x_choose_rc, 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_PAIRED(&x);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_sel_ulproto, 6);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_sel_dst.sel_port, 443);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_sel_dst.sel_plen, 128);
	ASSERT_INT_EQ(x.x_rres.dr_in[0].sa_sel_dst.sel_port, 443);
	ASSERT_INT_EQ(x.x_ires.dr_out[0].sa_dst.ss_family, AF_INET6);
	x_free(&x);
}

TEST(spi_in_use)
{
	struct kink_policy p;
	struct xchg x = { 0 };

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	x.x_inuse = 1;
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_choose_rc, -1);
	ASSERT_INT_EQ(x.x_rerr.de_err, ISAKMP_ERR_SPI_IN_USE);
	ASSERT_INT_EQ(x.x_rerr.de_notify, ISAKMP_NTYPE_INVALID_SPI);
	ASSERT_INT_EQ(x.x_rerr.de_proto, PROTO_IPSEC_ESP);
	ASSERT_INT_EQ(x.x_rerr.de_spi, spis_a.ds_esp);
	ASSERT_INT_EQ(doi_resp_protos(x.x_r), 0);
	ASSERT_INT_EQ(x.x_reply_rc, -1);
	ASSERT_INT_EQ(x.x_ierr.de_notify, ISAKMP_NTYPE_INVALID_SPI);
	ASSERT_INT_EQ(x.x_ierr.de_spi, spis_a.ds_esp);
	x_free(&x);
}

/* --- bad input: the RFC's Notify and no state ------------------------ */

/*
 * Feed a patched CREATE to a fresh responder: the error, the Notify, and
 * then the same responder context must still accept the good CREATE (a
 * failed choose leaves nothing behind).
 */
static int
bad_create(const struct kink_policy *pi, const struct kink_policy *pr,
    void (*patch)(struct isakmp_msg *), int *err, uint16_t *notify)
{
	static struct isakmp_msg m;
	const struct kink_policy *pols[1] = { pr };
	struct doi_ctx *i, *r;
	struct doi_error e;
	struct buf c, c2;
	uint8_t first, f2;
	int rc = -1;

	buf_init(&c, 0);
	buf_init(&c2, 0);
	i = init_a(pi);
	r = resp_b();
	if (i == NULL || r == NULL || doi_init_proposal(i, &c, &first) != 0 ||
	    isakmp_parse(c.b_data, c.b_len, first, &m) != 0)
		goto out;
	patch(&m);
	if (isakmp_build(&m, &c2, &f2) != 0)
		goto out;
	if (doi_resp_choose(r, pols, 1, c2.b_data, c2.b_len, f2, NULL, NULL,
	    &e) != -1 || doi_resp_protos(r) != 0)
		goto out;
	*err = e.de_err;
	*notify = e.de_notify;
	rc = -2;
	if (doi_resp_choose(r, pols, 1, c.b_data, c.b_len, first, NULL, NULL,
	    &e) != 0 || doi_resp_protos(r) == 0)
		goto out;
	rc = 0;
out:
	doi_ctx_free(i);
	doi_ctx_free(r);
	buf_free(&c);
	buf_free(&c2);
	return rc;
}

static void patch_keylen(struct isakmp_msg *m)
{
	m->m_sa.sa_prop[0].p_trans[0].t_attrs.a_keylen = 136;
}
static void patch_tid(struct isakmp_msg *m)
{
	m->m_sa.sa_prop[0].p_trans[0].t_id = 250;
}
static void patch_nothing(struct isakmp_msg *m)
{
	(void)m;
}
static void patch_nonce(struct isakmp_msg *m)
{
	m->m_nonce = rbuf_make(NULL, 0);
}
static void patch_auth(struct isakmp_msg *m)
{
	m->m_sa.sa_prop[0].p_trans[0].t_attrs.a_auth = 99;
}

TEST(bad_policy_disallows)
{
	struct kink_policy pi, pr;
	int err = 0;
	uint16_t n = 0;

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pol_init(&pr, ENCAP_MODE_TRANSPORT);
	add_esp(&pr, ESP_AES_CBC, 256, AUTH_ALG_HMAC_SHA);
	ASSERT_INT_EQ(bad_create(&pi, &pr, patch_nothing, &err, &n), -2);
	ASSERT_INT_EQ(err, ISAKMP_ERR_NO_PROPOSAL);
	ASSERT_INT_EQ(n, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
}

TEST(no_policy_at_all)
{
	struct kink_policy p;
	struct doi_ctx *i, *r;
	struct doi_error e;
	struct buf c;
	uint8_t first;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	buf_init(&c, 0);
	i = init_a(&p);
	r = resp_b();
	ASSERT_TRUE(i != NULL && r != NULL);
	ASSERT_INT_EQ(doi_init_proposal(i, &c, &first), 0);
	ASSERT_INT_EQ(doi_resp_choose(r, NULL, 0, c.b_data, c.b_len, first,
	    NULL, NULL, &e), -1);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	doi_ctx_free(i);
	doi_ctx_free(r);
	buf_free(&c);
}

/*
 * No IDs in the CREATE (host-to-host between the CREATE's own addresses):
 * among a peer's host-to-host policies, only the one for those hosts is a
 * candidate, not simply the first (the IPv4 policy answering an IPv6
 * CREATE); a policy for other hosts alone is NO-PROPOSAL-CHOSEN.
 */
TEST(no_ids_pick_the_hosts_policy)
{
	struct kink_policy pi, other, hosts;
	const struct kink_policy *pols[2] = { &other, &hosts };
	struct doi_ctx *i, *r;
	struct doi_error e;
	struct buf c;
	uint8_t first, rfirst;
	struct isakmp_msg m;
	struct doi_result res;
	struct buf rep;

	pol_aes128(&pi, ENCAP_MODE_TRANSPORT);
	pi.pol_src.sel_addr = addr_a;
	pi.pol_src.sel_plen = 32;
	pi.pol_dst.sel_addr = addr_b;
	pi.pol_dst.sel_plen = 32;
	((struct sockaddr_in *)&pi.pol_src.sel_addr)->sin_port = 0;
	((struct sockaddr_in *)&pi.pol_dst.sel_addr)->sin_port = 0;
	pol_aes128(&other, ENCAP_MODE_TRANSPORT);
	mksel(&other.pol_src, "2001:db8::2", 128, 0);
	mksel(&other.pol_dst, "2001:db8::1", 128, 0);
	hosts = pi;		/* B's view: src B, dst A */
	hosts.pol_src = pi.pol_dst;
	hosts.pol_dst = pi.pol_src;
	buf_init(&c, 0);
	i = init_a(&pi);
	ASSERT_TRUE(i != NULL);
	ASSERT_INT_EQ(doi_init_proposal(i, &c, &first), 0);
	memset(&m, 0, sizeof(m));
	ASSERT_INT_EQ(isakmp_parse(c.b_data, c.b_len, first, &m), 0);
	ASSERT_INT_EQ(m.m_nid, 0);
	r = resp_b();
	ASSERT_TRUE(r != NULL);
	ASSERT_INT_EQ(doi_resp_choose(r, pols, 2, c.b_data, c.b_len, first,
	    NULL, NULL, &e), 0);
	buf_init(&rep, 0);
	memset(&res, 0, sizeof(res));
	ASSERT_INT_EQ(doi_resp_finish(r, &spis_b, prf, NULL, &rep, &rfirst,
	    &res, &e), 0);
	ASSERT_TRUE(res.dr_policy == &hosts);
	doi_result_clear(&res);
	buf_free(&rep);
	doi_ctx_free(r);
	r = resp_b();
	ASSERT_TRUE(r != NULL);
	ASSERT_INT_EQ(doi_resp_choose(r, pols, 1, c.b_data, c.b_len, first,
	    NULL, NULL, &e), -1);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	doi_ctx_free(i);
	doi_ctx_free(r);
	buf_free(&c);
}

TEST(bad_unknown_transform)
{
	struct kink_policy p;
	int err = 0;
	uint16_t n = 0;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(bad_create(&p, &p, patch_tid, &err, &n), 0);
	ASSERT_INT_EQ(err, ISAKMP_ERR_NO_PROPOSAL);
	ASSERT_INT_EQ(n, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(bad_create(&p, &p, patch_auth, &err, &n), 0);
	ASSERT_INT_EQ(n, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
	ASSERT_INT_EQ(bad_create(&p, &p, patch_keylen, &err, &n), 0);
	ASSERT_INT_EQ(n, ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN);
}

TEST(bad_missing_nonce)
{
	struct kink_policy p;
	int err = 0;
	uint16_t n = 0;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(bad_create(&p, &p, patch_nonce, &err, &n), 0);
	ASSERT_INT_EQ(err, ISAKMP_ERR_MISSING);
	ASSERT_INT_EQ(n, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
}

/* Byte-level patches of a real CREATE (the builder would refuse them). */
static int
bad_bytes(size_t off, const uint8_t *val, size_t n, int *err,
    struct doi_error *e)
{
	struct kink_policy p;
	const struct kink_policy *pols[1] = { &p };
	struct doi_ctx *i, *r;
	struct buf c;
	uint8_t first;
	int rc = -1;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	buf_init(&c, 0);
	i = init_a(&p);
	r = resp_b();
	if (i == NULL || r == NULL || doi_init_proposal(i, &c, &first) != 0 ||
	    off + n > c.b_len)
		goto out;
	memcpy(c.b_data + off, val, n);
	if (doi_resp_choose(r, pols, 1, c.b_data, c.b_len, first, NULL, NULL,
	    e) != -1 || doi_resp_protos(r) != 0)
		goto out;
	*err = e->de_err;
	rc = 0;
out:
	doi_ctx_free(i);
	doi_ctx_free(r);
	buf_free(&c);
	return rc;
}

TEST(bad_doi_mismatch)
{
	static const uint8_t doi2[4] = { 0, 0, 0, 2 };
	struct doi_error e;
	int err;

	ASSERT_INT_EQ(bad_bytes(4, doi2, 4, &err, &e), 0);
	ASSERT_INT_EQ(err, ISAKMP_ERR_DOI);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
}

TEST(bad_nonce_length)
{
	struct doi_error e;
	int err;
	/* SA (52 octets) then the Nonce header: claim 4 + 7 octets. */
	static const uint8_t shortlen[2] = { 0, 11 };

	ASSERT_INT_EQ(bad_bytes(52 + 2, shortlen, 2, &err, &e), 0);
	/* The message no longer adds up either way; 7 < 8 is seen first. */
	ASSERT_INT_EQ(err, ISAKMP_ERR_NONCE_LEN);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
}

TEST(bad_payload_type_hash)
{
	static const uint8_t hash = ISAKMP_NPTYPE_HASH;
	struct doi_error e;
	struct buf b;
	uint8_t first;
	int err;

	ASSERT_INT_EQ(bad_bytes(0, &hash, 1, &err, &e), 0);
	ASSERT_INT_EQ(err, ISAKMP_ERR_PAYLOAD_TYPE);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(e.de_datalen, 1);
	ASSERT_INT_EQ(e.de_data[0], ISAKMP_NPTYPE_HASH);
	/* The Notify as sent: DOI 1, no SPI, data = 8. */
	buf_init(&b, 0);
	ASSERT_INT_EQ(doi_notify_build(&e, &b, &first), 0);
	ASSERT_INT_EQ(first, ISAKMP_NPTYPE_N);
	ASSERT_INT_EQ(b.b_len, 13);
	ASSERT_INT_EQ(get_be32(b.b_data + 4), IPSEC_DOI);
	ASSERT_INT_EQ(get_be16(b.b_data + 10), ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE);
	ASSERT_INT_EQ(b.b_data[12], ISAKMP_NPTYPE_HASH);
	buf_free(&b);
}

TEST(bad_id_type)
{
	struct kink_policy pi, pr;
	const struct kink_policy *pols[1] = { &pr };
	struct doi_ctx *i, *r;
	struct doi_error e;
	struct buf c;
	uint8_t first;
	static struct isakmp_msg m;

	pol_aes128(&pi, ENCAP_MODE_TUNNEL);
	mksel(&pi.pol_src, "10.1.0.0", 16, 0);
	mksel(&pi.pol_dst, "10.2.0.0", 16, 0);
	pr = pi;
	buf_init(&c, 0);
	i = init_a(&pi);
	r = resp_b();
	ASSERT_TRUE(i != NULL && r != NULL);
	ASSERT_INT_EQ(doi_init_proposal(i, &c, &first), 0);
	ASSERT_INT_EQ(isakmp_parse(c.b_data, c.b_len, first, &m), 0);
	/* IDci, IDcr (16 octets each) end the CREATE; IDci's type
	   octet sits right after its generic header. */
	{
		size_t off = c.b_len - 2 * (4 + 4 + 8);

		ASSERT_INT_EQ(c.b_data[off + 4], IPSEC_ID_IPV4_ADDR_SUBNET);
		c.b_data[off + 4] = IPSEC_ID_FQDN;
	}
	ASSERT_INT_EQ(doi_resp_choose(r, pols, 1, c.b_data, c.b_len, first,
	    NULL, NULL, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_ID_TYPE);
	ASSERT_INT_EQ(e.de_notify, ISAKMP_NTYPE_PAYLOAD_MALFORMED);
	ASSERT_INT_EQ(doi_resp_protos(r), 0);
	doi_ctx_free(i);
	doi_ctx_free(r);
	buf_free(&c);
}

/* A REPLY naming something we never offered. */
TEST(bad_reply_foreign_choice)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	struct buf b;
	uint8_t first;
	struct doi_result r;
	struct doi_error e;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	m.m_sa.sa_prop[0].p_trans[0].t_attrs.a_keylen = 256;
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_BAD_REPLY);
	ASSERT_INT_EQ(r.dr_nsa, 0);
	/* A status Notify alongside a good answer is ignored. */
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	m.m_nnotify = 1;
	memset(&m.m_notify[0], 0, sizeof(m.m_notify[0]));
	m.m_notify[0].n_doi = IPSEC_DOI;
	m.m_notify[0].n_type = IPSEC_NTYPE_INITIAL_CONTACT;
	buf_reset(&b);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), 0);
	ASSERT_INT_EQ(r.dr_nsa, 1);
	doi_result_clear(&r);
	buf_free(&b);
	x_free(&x);
}

/* An optimistic answer that still carries Nr changes the inbound keys. */
TEST(optimistic_with_nr_rekeys_inbound)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	static const uint8_t nr[16] = "sixteen octets!";
	struct buf b;
	uint8_t first;
	struct doi_result r;
	struct doi_error e;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	ASSERT_TRUE(m.m_nonce.rb_p == NULL);
	m.m_nonce = rbuf_make(nr, sizeof(nr));
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), 0);
	ASSERT_INT_EQ(r.dr_optimistic, 1);
	ASSERT_INT_EQ(r.dr_in_changed, 1);
	ASSERT_TRUE(!sa_keys_eq(&r.dr_in[0], &x.x_iopt.dr_in[0]));
	doi_result_clear(&r);
	buf_free(&b);
	x_free(&x);
}

/* We sent KE: a REPLY without KE, or with a bad public value, fails. */
TEST(ke_reply_checked)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	static struct isakmp_msg m;
	uint8_t bad[256];
	struct buf b;
	uint8_t first;
	struct doi_result r;
	struct doi_error e;

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	p.pol_pfs_group = OAKLEY_GROUP_MODP2048;
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_reply_rc, 0);
	ASSERT_INT_EQ(isakmp_parse(x.x_reply.b_data, x.x_reply.b_len,
	    x.x_rfirst, &m), 0);
	m.m_ke = rbuf_make(NULL, 0);
	buf_init(&b, 0);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_KE_MISMATCH);
	/* A value above the prime p is refused. */
	memset(bad, 0xff, sizeof(bad));
	bad[255] = 0xfe;
	m.m_ke = rbuf_make(bad, sizeof(bad));
	buf_reset(&b);
	ASSERT_INT_EQ(isakmp_build(&m, &b, &first), 0);
	ASSERT_INT_EQ(doi_init_reply(x.x_i, b.b_data, b.b_len, first, prf,
	    NULL, &r, &e), -1);
	ASSERT_INT_EQ(e.de_err, ISAKMP_ERR_KE_MISMATCH);
	ASSERT_INT_EQ(r.dr_nsa, 0);
	buf_free(&b);
	x_free(&x);
}

/* --- building blocks ------------------------------------------------- */

/* A PRF that shows its input: out = first 20 octets of SHA-1-less echo. */
static size_t seen_len[8];
static int seen_n;
static int
echo_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	(void)arg;
	if (seen_n < 8)
		seen_len[seen_n++] = inlen;
	memset(out, 0, 20);
	for (size_t i = 0; i < inlen; i++)
		out[i % 20] ^= (uint8_t)(in[i] + i);
	*outlen = 20;
	return 0;
}

TEST(keymat_expansion_shape)
{
	uint8_t ni[16], nr[12], gxy[256], out[52], k1[20], k2[20], seed[600];
	size_t n = 20, sl = 0;

	memset(ni, 0x11, sizeof(ni));
	memset(nr, 0x22, sizeof(nr));
	memset(gxy, 0x33, sizeof(gxy));
	gxy[0] = 0;	/* a padded g^xy keeps its leading zero */
	seen_n = 0;
	ASSERT_INT_EQ(doi_keymat(echo_prf, NULL, gxy, 256, PROTO_IPSEC_ESP,
	    0x01020304, ni, 16, nr, 12, out, sizeof(out)), 0);
	/* 52 octets = K1 | K2 | 12 of K3. */
	ASSERT_INT_EQ(seen_n, 3);
	ASSERT_INT_EQ(seen_len[0], 256 + 1 + 4 + 16 + 12);
	ASSERT_INT_EQ(seen_len[1], 20 + 256 + 1 + 4 + 16 + 12);
	/* Recompute K1 and K2 by hand from the definition. */
	memcpy(seed, gxy, 256);
	sl = 256;
	seed[sl++] = PROTO_IPSEC_ESP;
	seed[sl++] = 1; seed[sl++] = 2; seed[sl++] = 3; seed[sl++] = 4;
	memcpy(seed + sl, ni, 16);
	sl += 16;
	memcpy(seed + sl, nr, 12);
	sl += 12;
	echo_prf(NULL, seed, sl, k1, &n);
	ASSERT_MEM_EQ(out, k1, 20);
	memmove(seed + 20, seed, sl);
	memcpy(seed, k1, 20);
	echo_prf(NULL, seed, sl + 20, k2, &n);
	ASSERT_MEM_EQ(out + 20, k2, 20);
	/* Without Nr and g^xy: protocol | SPI | Ni only. */
	seen_n = 0;
	ASSERT_INT_EQ(doi_keymat(echo_prf, NULL, NULL, 0, PROTO_IPSEC_AH, 256,
	    ni, 16, NULL, 0, out, 20), 0);
	ASSERT_INT_EQ(seen_n, 1);
	ASSERT_INT_EQ(seen_len[0], 1 + 4 + 16);
}

static int
fail_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	(void)arg; (void)in; (void)inlen; (void)out; (void)outlen;
	return -1;
}

TEST(keymat_prf_failure)
{
	struct kink_policy p;
	struct xchg x = { 0 };
	uint8_t ni[8] = { 0 }, out[8];

	ASSERT_INT_EQ(doi_keymat(fail_prf, NULL, NULL, 0, 3, 256, ni, 8, NULL,
	    0, out, 8), -1);
	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(doi_init_optimistic(x.x_i, fail_prf, NULL, &x.x_iopt), -1);
	ASSERT_INT_EQ(x.x_iopt.dr_nsa, 0);
	x_free(&x);
}

TEST(key_sizes)
{
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_CBC, 128), 16);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_CBC, 192), 24);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_CBC, 256), 32);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_CBC, 0), -1);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_CBC, 7), -1);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_3DES, 0), 24);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_NULL, 0), 0);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_GCM_16, 128), 20);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_AES_GCM_16, 256), 36);
	ASSERT_INT_EQ(doi_enc_keylen(ESP_DES, 0), -1);
	ASSERT_INT_EQ(doi_auth_keylen(AUTH_ALG_HMAC_SHA), 20);
	ASSERT_INT_EQ(doi_auth_keylen(AUTH_ALG_HMAC_SHA2_256), 32);
	ASSERT_INT_EQ(doi_auth_keylen(AUTH_ALG_HMAC_SHA2_384), 48);
	ASSERT_INT_EQ(doi_auth_keylen(AUTH_ALG_HMAC_SHA2_512), 64);
	ASSERT_INT_EQ(doi_auth_keylen(AUTH_ALG_DES_MAC), -1);
}

/*
 * The responder's SAs of a CREATE take their lifetime jitter (seconds
 * and kilobytes, both directions) without a draw of arc4random (a system
 * call each) once the jitter generator is seeded.
 */
TEST(responder_jitter_draws_nothing)
{
	struct kink_policy p;
	struct xchg x = { 0 };

	pol_aes128(&p, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(run(&x, &p, &p), 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	/* Again with a kilobytes lifetime, counted over the finish alone. */
	p.pol_life_kbytes = 5000;
	x_free(&x);
	buf_init(&x.x_create, 0);
	buf_init(&x.x_reply, 0);
	x.x_i = init_a(&p);
	ASSERT_TRUE(x.x_i != NULL);
	ASSERT_INT_EQ(doi_init_proposal(x.x_i, &x.x_create, &x.x_cfirst), 0);
	x.x_r = resp_b();
	ASSERT_TRUE(x.x_r != NULL);
	{
		const struct kink_policy *pols[1] = { &p };

		ASSERT_INT_EQ(doi_resp_choose(x.x_r, pols, 1,
		    x.x_create.b_data, x.x_create.b_len, x.x_cfirst,
		    inuse_cb, &x, &x.x_rerr), 0);
	}
	draws = 0;
	ASSERT_INT_EQ(doi_resp_finish(x.x_r, &spis_b, prf, NULL, &x.x_reply,
	    &x.x_rfirst, &x.x_rres, &x.x_rerr), 0);
	ASSERT_INT_EQ(x.x_rres.dr_optimistic, 1);
	ASSERT_INT_EQ(x.x_rres.dr_nsa, 1);
	ASSERT_TRUE(x.x_rres.dr_out[0].sa_life_soft_bytes > 0);
	ASSERT_TRUE(x.x_rres.dr_in[0].sa_life_soft_bytes > 0);
	ASSERT_TRUE(x.x_rres.dr_in[0].sa_life_soft_secs <
	    x.x_rres.dr_in[0].sa_life_hard_secs);
	ASSERT_INT_EQ(draws, 0);
	x_free(&x);
}

TEST(soft_lifetime_random)
{
	uint32_t lo = UINT32_MAX, hi = 0, v;

	for (int i = 0; i < 200; i++) {
		v = doi_soft_secs(3600, 0);
		ASSERT_TRUE(v < 3600 - 30 && v >= 3600 - 124);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	ASSERT_TRUE(hi > lo);	/* randomized (RFC 4430 3.6) */
	for (int i = 0; i < 50; i++) {
		v = doi_soft_secs(60, 0);
		ASSERT_TRUE(v < 60 && v >= 30);
	}
	ASSERT_INT_EQ(doi_soft_secs(0, 0), 0);
	/* T-rekey stays 4 x T-retrans for a slower cycle (3.6: >= 2 x). */
	for (int i = 0; i < 200; i++) {
		v = doi_soft_secs(3600, 300);
		ASSERT_TRUE(v <= 3600 - 300 && v >= 3600 - 1200);
	}
}

TEST(dh_groups)
{
	struct kink_dh *a, *b;
	uint8_t pa[256], pb[256], sa[256], sb[256];
	static const uint16_t gs[2] = { OAKLEY_GROUP_MODP2048,
	    OAKLEY_GROUP_ECP256 };

	for (int k = 0; k < 2; k++) {
		size_t pl = dh_pub_len(gs[k]), sl = dh_secret_len(gs[k]);

		a = dh_new(gs[k]);
		b = dh_new(gs[k]);
		ASSERT_TRUE(a != NULL && b != NULL);
		ASSERT_INT_EQ(dh_public(a, pa, pl), 0);
		ASSERT_INT_EQ(dh_public(b, pb, pl), 0);
		ASSERT_INT_EQ(dh_derive(a, pb, pl, sa, sl), 0);
		ASSERT_INT_EQ(dh_derive(b, pa, pl, sb, sl), 0);
		ASSERT_MEM_EQ(sa, sb, sl);
		/* Degenerate public values are refused. */
		memset(pb, 0, pl);
		pb[pl - 1] = 1;
		ASSERT_INT_EQ(dh_derive(a, pb, pl, sa, sl), -1);
		ASSERT_INT_EQ(dh_derive(a, pb, pl - 1, sa, sl), -1);
		dh_free(a);
		dh_free(b);
	}
	ASSERT_INT_EQ(dh_group_supported(2), 0);
	ASSERT_TRUE(dh_new(5) == NULL);
	ASSERT_INT_EQ(dh_pub_len(OAKLEY_GROUP_MODP2048), 256);
	ASSERT_INT_EQ(dh_pub_len(OAKLEY_GROUP_ECP256), 64);
	ASSERT_INT_EQ(dh_secret_len(OAKLEY_GROUP_ECP256), 32);
}

int
main(void)
{
	mkaddr(&addr_a, "192.0.2.1");
	mkaddr(&addr_b, "192.0.2.2");
	RUN(optimistic_accepted);
	RUN(second_transform_chosen);
	RUN(second_proposal_chosen);
	RUN(lifetime_lowered);
	RUN(lifetime_same_no_replace);
	RUN(lifetime_absent_default);
	RUN(soft_lifetime_retrans);
	RUN(lifetime_never_raised);
	RUN(lifetime_raised_rejected);
	RUN(lifetime_kbytes_raised_rejected);
	RUN(ke_accepted_modp14);
	RUN(ke_accepted_ecp19);
	RUN(ke_refused);
	RUN(bundle_ah_esp);
	RUN(tunnel_mode);
	RUN(tunnel_ids_mismatch);
	RUN(transport_mode_mismatch);
	RUN(transport_ipv6_ports);
	RUN(spi_in_use);
	RUN(bad_policy_disallows);
	RUN(no_policy_at_all);
	RUN(no_ids_pick_the_hosts_policy);
	RUN(bad_unknown_transform);
	RUN(bad_missing_nonce);
	RUN(bad_doi_mismatch);
	RUN(bad_nonce_length);
	RUN(bad_payload_type_hash);
	RUN(bad_id_type);
	RUN(bad_reply_foreign_choice);
	RUN(optimistic_with_nr_rekeys_inbound);
	RUN(ke_reply_checked);
	RUN(keymat_expansion_shape);
	RUN(keymat_prf_failure);
	RUN(key_sizes);
	RUN(soft_lifetime_random);
	RUN(responder_jitter_draws_nothing);
	RUN(dh_groups);
	return test_done();
}
