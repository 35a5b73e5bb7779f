/*
 * src/krb.c against the real throwaway realm of tests/krb/run.sh
 * (KINK_REALM_DIR, REALM).  No mocks: tickets come from krb5kdc.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "test.h"
#include "buf.h"
#include "log.h"
#include "krb.h"

static struct event_base *base;
static const char *rdir, *realm;

static const char *
princ(const char *short_name)
{
	static char	p[8][256];
	static int	i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "kink/%s.test@%s", short_name, realm);
	return p[i];
}

static const char *
keytab(const char *short_name)
{
	static char	p[8][512];
	static int	i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s.keytab", rdir, short_name);
	return p[i];
}

static struct krb_ctx *
ctx_for(const char *name)
{
	struct krb_ctx_opts o = { NULL, 10000, 0 };

	return krb_ctx_new(base, princ(name), keytab(name), &o);
}

/* ---- running the loop until a ticket callback ---------------------- */

struct wait {
	int			 done;
	krb_err			 err;
	struct krb_ticket	*tkt;
	int			 ticks;	/* timer ticks seen meanwhile */
};

static void
wait_cb(krb_err err, struct krb_ticket *t, void *arg)
{
	struct wait *w = arg;

	w->done = 1;
	w->err = err;
	w->tkt = t;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct wait *w = arg;

	w->ticks++;
}

/* Run the loop until w->done, with a 5 ms ticker counting ticks and a
 * generous guard so a broken test ends instead of hanging. */
static void
loop_until(struct wait *w)
{
	struct event	*tick = event_new(base, -1, EV_PERSIST, tick_cb, w);
	struct timeval	 t5 = { 0, 5000 };
	time_t		 guard = time(NULL) + 60;

	event_add(tick, &t5);
	while (!w->done && time(NULL) < guard)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
}

static krb_err
ticket(struct krb_ctx *c, const char *peer, struct krb_ticket **t)
{
	struct wait w = { 0, 0, NULL, 0 };

	if (krb_get_ticket(c, peer, wait_cb, &w) == NULL)
		return -1;
	loop_until(&w);
	*t = w.tkt;
	return w.done ? w.err : ETIMEDOUT;
}

/* Wait until the context holds its TGT (needed for U2U). */
static int
have_tgt(struct krb_ctx *c)
{
	struct buf	b;
	struct wait	w = { 0, 0, NULL, 0 };
	struct timeval	t20 = { 0, 20000 };
	int		i, ok = 0;

	buf_init(&b, 0);
	for (i = 0; i < 250 && !ok; i++) {
		ok = krb_get_tgt(c, &b) == 0;
		if (!ok) {
			event_base_loopexit(base, &t20);
			event_base_dispatch(base);
		}
	}
	buf_free(&b);
	(void)w;
	return ok;
}

static int
keys_equal(struct krb_key *a, struct krb_key *b)
{
	uint8_t	x[KRB_PRF_MAX], y[KRB_PRF_MAX];
	size_t	xl = 0, yl = 0;

	/* The MIT PRF is defined for every enctype; equal outputs on a
	 * fixed input mean equal keys without exposing key bytes. */
	if (krb_key_enctype(a) != krb_key_enctype(b) ||
	    krb_prf(a, KRB_PRF_MIT, (const uint8_t *)"eq", 2, x, &xl) != 0 ||
	    krb_prf(b, KRB_PRF_MIT, (const uint8_t *)"eq", 2, y, &yl) != 0)
		return 0;
	return xl == yl && memcmp(x, y, xl) == 0;
}

/*
 * cli's ticket for srv, a client on it and its first AP-REQ in req: the
 * setup of every test that hands one AP-REQ to a responder.  0, or -1 at
 * the first step that failed; *t and *cl are the caller's to free.
 */
static int
ap_req(struct krb_ctx *cli, const char *srv, struct krb_ticket **t,
    struct krb_client **cl, struct buf *req)
{
	if (ticket(cli, princ(srv), t) != 0 ||
	    (*cl = krb_client_new(cli, *t)) == NULL ||
	    krb_client_mk_req(*cl, req) != 0)
		return -1;
	return 0;
}

/* Full AP exchange client->server; returns the acceptor (caller frees). */
static krb_err
ap_exchange(struct krb_ctx *cli, struct krb_ctx *srv, const char *srvname,
    struct krb_client **clp, struct krb_acceptor **accp)
{
	struct krb_ticket	*t = NULL;
	struct buf		 req, rep;
	krb_err			 err;

	*clp = NULL;
	*accp = NULL;
	buf_init(&req, 0);
	buf_init(&rep, 0);
	if ((err = ticket(cli, princ(srvname), &t)) != 0)
		goto out;
	if ((*clp = krb_client_new(cli, t)) == NULL) {
		err = ENOMEM;
		goto out;
	}
	if ((err = krb_client_mk_req(*clp, &req)) != 0 ||
	    (err = krb_rd_req(srv, req.b_data, req.b_len, 0, accp)) != 0 ||
	    (err = krb_acceptor_mk_rep(*accp, &rep)) != 0)
		goto out;
	err = krb_client_rd_rep(*clp, rep.b_data, rep.b_len);
 out:
	krb_ticket_free(t);
	buf_free(&req);
	buf_free(&rep);
	return err;
}

/* ---- tests --------------------------------------------------------- */

TEST(ap_exchange_both_ways)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_client	*cl = NULL, *cl2 = NULL;
	struct krb_acceptor	*acc = NULL, *acc2 = NULL;
	time_t			 ct;
	int32_t			 cu;

	ASSERT_TRUE(a != NULL && b != NULL);
	ASSERT_INT_EQ(ap_exchange(a, b, "beta", &cl, &acc), 0);
	ASSERT_STR_EQ(krb_acceptor_client(acc), princ("alpha"));
	ASSERT_TRUE(keys_equal(krb_client_key(cl), krb_acceptor_key(acc)));
	ASSERT_INT_EQ(krb_acceptor_ctime(acc, &ct, &cu), 0);
	ASSERT_TRUE(ct > time(NULL) - 10 && ct <= time(NULL) + 1);
	ASSERT_INT_EQ(ap_exchange(b, a, "alpha", &cl2, &acc2), 0);
	ASSERT_STR_EQ(krb_acceptor_client(acc2), princ("beta"));
	ASSERT_TRUE(keys_equal(krb_client_key(cl2), krb_acceptor_key(acc2)));
	/* Different tickets, different session keys. */
	ASSERT_TRUE(!keys_equal(krb_client_key(cl), krb_client_key(cl2)));
	krb_client_free(cl);
	krb_client_free(cl2);
	krb_acceptor_free(acc);
	krb_acceptor_free(acc2);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* Retransmissions: same ticket, new authenticator each time, and a REPLY
 * to any of them verifies (notes c.7); the cached ticket is reused. */
TEST(retransmit_same_ticket_any_reply)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_ticket	*t = NULL, *t2 = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc1 = NULL, *acc3 = NULL;
	struct buf		 r1, r2, r3, rep;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&r1, 0); buf_init(&r2, 0); buf_init(&r3, 0); buf_init(&rep, 0);
	ASSERT_INT_EQ(ticket(a, princ("beta"), &t), 0);
	ASSERT_INT_EQ(ticket(a, princ("beta"), &t2), 0);
	ASSERT_TRUE(t == t2);		/* per-peer cache */
	ASSERT_TRUE(krb_ticket_endtime(t) > time(NULL));
	ASSERT_TRUE((cl = krb_client_new(a, t)) != NULL);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &r1), 0);
	usleep(2000);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &r2), 0);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &r3), 0);
	ASSERT_TRUE(r1.b_len != r2.b_len ||
	    memcmp(r1.b_data, r2.b_data, r1.b_len) != 0);
	ASSERT_INT_EQ(krb_rd_req(b, r1.b_data, r1.b_len, 0, &acc1), 0);
	ASSERT_INT_EQ(krb_rd_req(b, r3.b_data, r3.b_len, 0, &acc3), 0);
	/* The REPLY to the first authenticator still verifies. */
	ASSERT_INT_EQ(krb_acceptor_mk_rep(acc1, &rep), 0);
	ASSERT_INT_EQ(krb_client_rd_rep(cl, rep.b_data, rep.b_len), 0);
	buf_reset(&rep);
	ASSERT_INT_EQ(krb_acceptor_mk_rep(acc3, &rep), 0);
	ASSERT_INT_EQ(krb_client_rd_rep(cl, rep.b_data, rep.b_len), 0);
	ASSERT_TRUE(keys_equal(krb_acceptor_key(acc1), krb_acceptor_key(acc3)));
	krb_acceptor_free(acc1);
	krb_acceptor_free(acc3);
	krb_client_free(cl);
	krb_ticket_free(t);
	krb_ticket_free(t2);
	buf_free(&r1); buf_free(&r2); buf_free(&r3); buf_free(&rep);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* An AP-REP of another transaction (other ticket) does not verify. */
TEST(ap_rep_of_other_transaction_fails)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_client	*cl1 = NULL, *cl2 = NULL;
	struct krb_acceptor	*acc1 = NULL, *acc2 = NULL;
	struct buf		 rep;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&rep, 0);
	ASSERT_INT_EQ(ap_exchange(a, b, "beta", &cl1, &acc1), 0);
	ASSERT_INT_EQ(ap_exchange(a, b, "beta", &cl2, &acc2), 0);
	ASSERT_INT_EQ(krb_acceptor_mk_rep(acc2, &rep), 0);
	/* Same ticket, but cl1 never sent that authenticator. */
	ASSERT_INT_EQ(krb_err_rfc(krb_client_rd_rep(cl1, rep.b_data,
	    rep.b_len)), KRB_AP_ERR_MUT_FAIL);
	krb_client_free(cl1); krb_client_free(cl2);
	krb_acceptor_free(acc1); krb_acceptor_free(acc2);
	buf_free(&rep);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* Checksum (usage 40) and KINK_ENCRYPT (usage 39) round trips for the
 * session key of every enctype the realm issues. */
static void
crypto_round_trip(const char *srv, int want_etype, size_t want_cksum)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for(srv);
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct krb_key		*ck, *sk;
	struct buf		 cs, ct, pt;
	uint8_t			 msg[203];
	size_t			 i, clen, elen;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&cs, 0); buf_init(&ct, 0); buf_init(&pt, 0);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	ASSERT_INT_EQ(ap_exchange(a, b, srv, &cl, &acc), 0);
	ck = krb_client_key(cl);
	sk = krb_acceptor_key(acc);
	ASSERT_INT_EQ(krb_key_enctype(ck), want_etype);
	ASSERT_TRUE(keys_equal(ck, sk));

	ASSERT_INT_EQ(krb_cksum_len(ck, &clen), 0);
	ASSERT_INT_EQ(clen, want_cksum);
	ASSERT_INT_EQ(krb_cksum_make(ck, msg, sizeof(msg), &cs), 0);
	ASSERT_INT_EQ(cs.b_len, clen);
	ASSERT_INT_EQ(krb_cksum_verify(sk, msg, sizeof(msg), cs.b_data,
	    cs.b_len), 0);
	msg[17] ^= 0x04;			/* a flipped bit in the message */
	ASSERT_INT_EQ(krb_err_rfc(krb_cksum_verify(sk, msg, sizeof(msg),
	    cs.b_data, cs.b_len)), KRB_AP_ERR_BAD_INTEGRITY);
	msg[17] ^= 0x04;
	cs.b_data[cs.b_len - 1] ^= 0x80;	/* ... or in the checksum */
	ASSERT_INT_NE(krb_cksum_verify(sk, msg, sizeof(msg), cs.b_data,
	    cs.b_len), 0);
	ASSERT_INT_NE(krb_cksum_verify(sk, msg, sizeof(msg), cs.b_data,
	    cs.b_len - 1), 0);

	ASSERT_INT_EQ(krb_encrypt_len(ck, sizeof(msg), &elen), 0);
	ASSERT_INT_EQ(krb_encrypt(ck, msg, sizeof(msg), &ct), 0);
	ASSERT_INT_EQ(ct.b_len, elen);
	ASSERT_INT_EQ(krb_decrypt(sk, ct.b_data, ct.b_len, &pt), 0);
	ASSERT_TRUE(pt.b_len >= sizeof(msg));	/* des3 pads to 8 */
	ASSERT_MEM_EQ(pt.b_data, msg, sizeof(msg));
	buf_reset(&pt);
	ct.b_data[ct.b_len / 2] ^= 0x01;
	ASSERT_INT_NE(krb_decrypt(sk, ct.b_data, ct.b_len, &pt), 0);
	ASSERT_INT_NE(krb_decrypt(sk, ct.b_data, 5, &pt), 0);

	krb_client_free(cl);
	krb_acceptor_free(acc);
	buf_free(&cs); buf_free(&ct); buf_free(&pt);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* Lengths per RFC 3962 / RFC 8009 / RFC 3961 (notes b.1). */
TEST(crypto_aes256_default)	{ crypto_round_trip("beta", 18, 12); }
TEST(crypto_aes128)		{ crypto_round_trip("aes128", 17, 12); }
TEST(crypto_des3)		{ crypto_round_trip("des3", 16, 20); }
TEST(crypto_aes128_sha256)	{ crypto_round_trip("sha256", 19, 16); }
TEST(crypto_aes256_sha384)	{ crypto_round_trip("sha384", 20, 24); }

/*
 * PRF: the MIT flavour is krb5_c_prf (notes h7 KAT); RFC3961 is 20 octets
 * for AES; the two agree for des3 (checked against krb5_c_prf on a key
 * from a real des3 ticket and on a fixed key); other enctypes use MIT's.
 */
TEST(prf_kat_and_agreement)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("des3");
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct krb_key		*k;
	uint8_t			 key[32], x[KRB_PRF_MAX], y[KRB_PRF_MAX];
	uint8_t			 w1[20], w2[16];
	size_t			 i, xl, yl, wl;

	ASSERT_TRUE(a != NULL && b != NULL);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	ASSERT_INT_EQ(test_hex_decode("c03c29332e2a8739fcb1245d39ce3e7da7c29f99",
	    w1, sizeof(w1), &wl), 0);
	ASSERT_INT_EQ(test_hex_decode("a7c29f996662878b0f659ab42a62d860",
	    w2, sizeof(w2), &wl), 0);
	ASSERT_TRUE((k = krb_key_new(a, 18, key, 32)) != NULL);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_RFC3961, (const uint8_t *)"hello KINK",
	    10, x, &xl), 0);
	ASSERT_INT_EQ(xl, 20);
	ASSERT_MEM_EQ(x, w1, 20);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_MIT, (const uint8_t *)"hello KINK",
	    10, y, &yl), 0);
	ASSERT_INT_EQ(yl, 16);
	ASSERT_MEM_EQ(y, w2, 16);
	/* racoon2's last 4 octets equal MIT's first 4 (notes h7). */
	ASSERT_MEM_EQ(x + 16, y, 4);
	krb_key_free(k);

	/* des3: a fixed key and a live des3 ticket's session key. */
	{
		static const char *dk =
		    "dce06b1f64c857a11c3db57c51899b2cc1791008ce973b92";
		uint8_t	d[24];
		size_t	dl;

		ASSERT_INT_EQ(test_hex_decode(dk, d, sizeof(d), &dl), 0);
		ASSERT_TRUE((k = krb_key_new(a, 16, d, dl)) != NULL);
		ASSERT_INT_EQ(krb_prf(k, KRB_PRF_RFC3961,
		    (const uint8_t *)"x", 1, x, &xl), 0);
		ASSERT_INT_EQ(krb_prf(k, KRB_PRF_MIT, (const uint8_t *)"x", 1,
		    y, &yl), 0);
		ASSERT_INT_EQ(xl, 16);
		ASSERT_INT_EQ(yl, 16);
		ASSERT_MEM_EQ(x, y, 16);
		krb_key_free(k);
	}
	ASSERT_INT_EQ(ap_exchange(a, b, "des3", &cl, &acc), 0);
	k = krb_client_key(cl);
	ASSERT_INT_EQ(krb_key_enctype(k), 16);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_RFC3961, (const uint8_t *)"KEYMAT", 6,
	    x, &xl), 0);
	ASSERT_INT_EQ(krb_prf(krb_acceptor_key(acc), KRB_PRF_MIT,
	    (const uint8_t *)"KEYMAT", 6, y, &yl), 0);
	ASSERT_INT_EQ(xl, yl);
	ASSERT_MEM_EQ(x, y, xl);
	krb_client_free(cl);
	krb_acceptor_free(acc);
	cl = NULL;
	acc = NULL;

	/* aes128-sha256 (RFC 8009): RFC3961 kind falls back to MIT's. */
	krb_ctx_free(b);
	ASSERT_TRUE((b = ctx_for("sha256")) != NULL);
	ASSERT_INT_EQ(ap_exchange(a, b, "sha256", &cl, &acc), 0);
	k = krb_client_key(cl);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_RFC3961, (const uint8_t *)"K", 1,
	    x, &xl), 0);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_MIT, (const uint8_t *)"K", 1,
	    y, &yl), 0);
	ASSERT_INT_EQ(xl, 32);
	ASSERT_MEM_EQ(x, y, xl);
	krb_client_free(cl);
	krb_acceptor_free(acc);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/*
 * arcfour-hmac (23, what AD issues to accounts set to RC4): krb_prf.c's
 * RFC 4757 PRF (HMAC-SHA1, 20 octets; check_krb_prf.sh recomputes it with
 * openssl) and MIT's krb5_c_prf are the same function, so "prf rfc3961"
 * and "prf mit" agree for RC4.
 */
TEST(prf_rc4_agrees_with_mit)
{
	struct krb_ctx	*a = ctx_for("alpha");
	struct krb_key	*k;
	uint8_t		 key[16], x[KRB_PRF_MAX], y[KRB_PRF_MAX];
	size_t		 i, xl, yl;

	ASSERT_TRUE(a != NULL);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa5 ^ i);
	ASSERT_TRUE((k = krb_key_new(a, 23, key, sizeof(key))) != NULL);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_RFC3961, (const uint8_t *)"KEYMAT", 6,
	    x, &xl), 0);
	ASSERT_INT_EQ(krb_prf(k, KRB_PRF_MIT, (const uint8_t *)"KEYMAT", 6,
	    y, &yl), 0);
	ASSERT_INT_EQ(xl, 20);
	ASSERT_INT_EQ(yl, 20);
	ASSERT_MEM_EQ(x, y, 20);
	krb_key_free(k);
	krb_ctx_free(a);
}

TEST(replay_is_repeat)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL, *acc2 = NULL;
	struct buf		 req;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(ap_req(a, "beta", &t, &cl, &req), 0);
	ASSERT_INT_EQ(krb_rd_req(b, req.b_data, req.b_len, 0, &acc), 0);
	ASSERT_INT_EQ(krb_err_rfc(krb_rd_req(b, req.b_data, req.b_len, 0,
	    &acc2)), KRB_AP_ERR_REPEAT);
	krb_acceptor_free(acc);
	krb_acceptor_free(acc2);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/*
 * Skew: the initiator's clock for beta is an hour fast (an hour slow would
 * already fail in our own mk_req: the ticket is not yet valid).  beta answers
 * KRB_AP_ERR_SKEW with its time and our ctime; an unprotected copy changes
 * nothing, one with a foreign ctime neither, the protected one sets the
 * offset and the next AP-REQ is accepted.
 */
TEST(skew_error_and_offset)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL, *acc2 = NULL;
	struct krb_error_info	 ei, bad;
	struct buf		 req, err, cs;
	int32_t			 off;
	krb_err			 e;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0); buf_init(&err, 0); buf_init(&cs, 0);
	ASSERT_INT_EQ(ticket(a, princ("beta"), &t), 0);
	ASSERT_TRUE((cl = krb_client_new(a, t)) != NULL);
	ASSERT_INT_EQ(krb_peer_set_offset(a, princ("beta"), 3600), 0);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	e = krb_rd_req(b, req.b_data, req.b_len, 0, &acc);
	ASSERT_INT_EQ(krb_err_rfc(e), KRB_AP_ERR_SKEW);
	ASSERT_TRUE(acc != NULL);
	/* The responder still has the session key to checksum its error. */
	ASSERT_TRUE(krb_acceptor_key(acc) != NULL);
	ASSERT_TRUE(keys_equal(krb_acceptor_key(acc), krb_client_key(cl)));
	ASSERT_INT_EQ(krb_mk_error(b, KRB_AP_ERR_SKEW, acc, &err), 0);
	ASSERT_INT_EQ(krb_cksum_make(krb_acceptor_key(acc), err.b_data,
	    err.b_len, &cs), 0);

	ASSERT_INT_EQ(krb_rd_error(a, err.b_data, err.b_len, &ei), 0);
	ASSERT_INT_EQ(ei.ke_code, KRB_AP_ERR_SKEW);
	ASSERT_TRUE(ei.ke_stime >= time(NULL) - 5 && ei.ke_stime <= time(NULL));
	ASSERT_TRUE(ei.ke_has_ctime);
	ASSERT_TRUE(ei.ke_ctime > time(NULL) + 3500);
	/* The initiator checks the KINK Cksum with its key. */
	ASSERT_INT_EQ(krb_cksum_verify(krb_client_key(cl), err.b_data,
	    err.b_len, cs.b_data, cs.b_len), 0);

	ASSERT_INT_EQ(krb_client_skew(cl, &ei, 0), 0);	/* unprotected */
	ASSERT_INT_EQ(krb_peer_offset(a, princ("beta"), &off), 0);
	ASSERT_INT_EQ(off, 3600);
	bad = ei;
	bad.ke_ctime -= 2;				/* not our ctime */
	ASSERT_INT_EQ(krb_client_skew(cl, &bad, 1), 0);
	bad = ei;
	bad.ke_code = KRB_AP_ERR_REPEAT;
	ASSERT_INT_EQ(krb_client_skew(cl, &bad, 1), 0);
	ASSERT_INT_EQ(krb_peer_offset(a, princ("beta"), &off), 0);
	ASSERT_INT_EQ(off, 3600);

	ASSERT_INT_EQ(krb_client_skew(cl, &ei, 1), 1);	/* protected */
	ASSERT_INT_EQ(krb_peer_offset(a, princ("beta"), &off), 0);
	ASSERT_TRUE(off >= -2 && off <= 2);
	buf_reset(&req);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	ASSERT_INT_EQ(krb_rd_req(b, req.b_data, req.b_len, 0, &acc2), 0);

	krb_acceptor_free(acc);
	krb_acceptor_free(acc2);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req); buf_free(&err); buf_free(&cs);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* KRB-ERROR without an AP-REQ (nothing to reflect) parses too. */
TEST(krb_error_plain)
{
	struct krb_ctx		*b = ctx_for("beta");
	struct krb_error_info	 ei;
	struct buf		 err;

	ASSERT_TRUE(b != NULL);
	buf_init(&err, 0);
	ASSERT_INT_EQ(krb_mk_error(b, KRB_AP_ERR_NOKEY, NULL, &err), 0);
	ASSERT_INT_EQ(krb_rd_error(b, err.b_data, err.b_len, &ei), 0);
	ASSERT_INT_EQ(ei.ke_code, KRB_AP_ERR_NOKEY);
	ASSERT_INT_EQ(ei.ke_has_ctime, 0);
	ASSERT_INT_NE(krb_mk_error(b, 300, NULL, &err), 0);
	buf_free(&err);
	krb_ctx_free(b);
}

/* Garbage and every truncation of real messages: errors, no crash. */
TEST(garbage_and_truncation)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL, *x = NULL;
	struct krb_error_info	 ei;
	struct buf		 req, rep, err;
	uint8_t			 junk[300];
	size_t			 n, i;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0); buf_init(&rep, 0); buf_init(&err, 0);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	ASSERT_INT_EQ(ap_exchange(a, b, "beta", &cl, &acc), 0);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	ASSERT_INT_EQ(krb_acceptor_mk_rep(acc, &rep), 0);
	ASSERT_INT_EQ(krb_mk_error(b, KRB_AP_ERR_SKEW, acc, &err), 0);

	ASSERT_INT_NE(krb_rd_req(b, junk, sizeof(junk), 0, &x), 0);
	krb_acceptor_free(x);
	ASSERT_INT_NE(krb_rd_req(b, junk, 0, 0, &x), 0);
	krb_acceptor_free(x);
	ASSERT_INT_NE(krb_client_rd_rep(cl, junk, sizeof(junk)), 0);
	ASSERT_INT_NE(krb_rd_error(a, junk, sizeof(junk), &ei), 0);
	/* An AP-REP is not an AP-REQ, and so on. */
	ASSERT_INT_EQ(krb_err_rfc(krb_rd_req(b, rep.b_data, rep.b_len, 0, &x)),
	    KRB_AP_ERR_MSG_TYPE);
	krb_acceptor_free(x);
	ASSERT_INT_NE(krb_client_rd_rep(cl, req.b_data, req.b_len), 0);
	ASSERT_INT_NE(krb_rd_error(a, rep.b_data, rep.b_len, &ei), 0);
	for (n = 0; n < req.b_len; n++) {
		x = NULL;
		ASSERT_INT_NE(krb_rd_req(b, req.b_data, n, 0, &x), 0);
		krb_acceptor_free(x);
	}
	for (n = 0; n < rep.b_len; n++)
		ASSERT_INT_NE(krb_client_rd_rep(cl, rep.b_data, n), 0);
	for (n = 0; n < err.b_len; n++)
		ASSERT_INT_NE(krb_rd_error(a, err.b_data, n, &ei), 0);
	/* A bit flipped inside the encrypted part of the AP-REP. */
	rep.b_data[rep.b_len - 3] ^= 0x10;
	ASSERT_INT_NE(krb_client_rd_rep(cl, rep.b_data, rep.b_len), 0);

	krb_client_free(cl);
	krb_acceptor_free(acc);
	buf_free(&req); buf_free(&rep); buf_free(&err);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* A ticket for another principal presented to beta. */
TEST(ticket_for_other_principal)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b = ctx_for("beta");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*x = NULL;
	struct buf		 req;
	krb_err			 e;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(ap_req(a, "other", &t, &cl, &req), 0);
	e = krb_rd_req(b, req.b_data, req.b_len, 0, &x);
	ASSERT_INT_EQ(krb_err_rfc(e), KRB_AP_ERR_NOT_US);
	krb_acceptor_free(x);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* The keytab holds kvno 1, the KDC issues kvno 2 tickets. */
TEST(wrong_kvno)
{
	struct krb_ctx		*a = ctx_for("alpha"), *k = ctx_for("kvno");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*x = NULL;
	struct buf		 req;

	ASSERT_TRUE(a != NULL && k != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(ap_req(a, "kvno", &t, &cl, &req), 0);
	ASSERT_INT_EQ(krb_err_rfc(krb_rd_req(k, req.b_data, req.b_len, 0,
	    &x)), KRB_AP_ERR_BADKEYVER);
	krb_acceptor_free(x);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(k);
}

/*
 * max_life 1 s, clockskew 5 s (run.sh).  libkrb5 will not send a ticket it
 * knows is expired, so wait until the responder sees it 7 s past its end
 * and send with our clock 3 s behind: the initiator still considers it
 * usable (end + 4 <= end + skew), the responder's skew check passes (3 < 5)
 * and its expiry check fails (end + 7 > end + 5).
 */
TEST(expired_ticket)
{
	struct krb_ctx		*a = ctx_for("alpha"), *e = ctx_for("expire");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*x = NULL;
	struct buf		 req;

	ASSERT_TRUE(a != NULL && e != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(ticket(a, princ("expire"), &t), 0);
	ASSERT_TRUE(krb_ticket_endtime(t) <= time(NULL) + 2);
	while (time(NULL) < krb_ticket_endtime(t) + 7)
		usleep(100000);
	ASSERT_INT_EQ(krb_peer_set_offset(a, princ("expire"), -3), 0);
	ASSERT_TRUE((cl = krb_client_new(a, t)) != NULL);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	ASSERT_INT_EQ(krb_err_rfc(krb_rd_req(e, req.b_data, req.b_len, 0,
	    &x)), KRB_AP_ERR_TKT_EXPIRED);
	/* The error is protected (RFC 4430 3.4): the responder still has
	 * the session key and the client's ctime, with either library. */
	ASSERT_TRUE(x != NULL && krb_acceptor_key(x) != NULL);
	ASSERT_TRUE(keys_equal(krb_acceptor_key(x), krb_client_key(cl)));
	krb_acceptor_free(x);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(e);
}

/* Keytab missing or garbage: distinct errors, through the callbacks and
 * rd_req, nothing blocks or crashes. */
TEST(keytab_missing_or_garbage)
{
	struct krb_ctx		*a = ctx_for("alpha"), *m, *g;
	struct krb_ticket	*t = NULL, *t2 = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*x = NULL;
	struct krb_ctx_opts	 o = { NULL, 10000, 0 };
	struct buf		 req;
	char			 path[600];
	FILE			*f;
	krb_err			 em, eg;

	ASSERT_TRUE(a != NULL);
	buf_init(&req, 0);
	snprintf(path, sizeof(path), "%s/garbage.keytab", rdir);
	ASSERT_TRUE((f = fopen(path, "w")) != NULL);
	fputs("this is not a keytab\n", f);
	fclose(f);
	m = krb_ctx_new(base, princ("beta"), "/nonexistent/kinkd.keytab", &o);
	g = krb_ctx_new(base, princ("beta"), path, &o);
	ASSERT_TRUE(m != NULL && g != NULL);
	em = ticket(m, princ("alpha"), &t2);
	ASSERT_INT_NE(em, 0);
	ASSERT_TRUE(t2 == NULL);
	eg = ticket(g, princ("alpha"), &t2);
	ASSERT_INT_NE(eg, 0);
	ASSERT_INT_NE(em, eg);

	ASSERT_INT_EQ(ap_req(a, "beta", &t, &cl, &req), 0);
	em = krb_rd_req(m, req.b_data, req.b_len, 0, &x);
	krb_acceptor_free(x);
	x = NULL;
	eg = krb_rd_req(g, req.b_data, req.b_len, 0, &x);
	krb_acceptor_free(x);
	ASSERT_INT_NE(em, 0);
	ASSERT_INT_NE(eg, 0);
	ASSERT_INT_NE(em, eg);
	ASSERT_INT_EQ(krb_err_rfc(em), KRB_AP_ERR_NOKEY);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(m);
	krb_ctx_free(g);
}

/* Point KRB5_CONFIG at a realm whose KDC is `port`; returns old value. */
static void
use_kdc_port(int port, char *conf, size_t confsz)
{
	FILE	*f;

	snprintf(conf, confsz, "%s/krb5-%d.conf", rdir, port);
	if ((f = fopen(conf, "w")) == NULL)
		abort();
	fprintf(f, "[libdefaults]\n default_realm = %s\n"
	    " dns_lookup_kdc = false\n rdns = false\n"
	    "[realms]\n %s = {\n  kdc = 127.0.0.1:%d\n }\n", realm, realm, port);
	fclose(f);
}

static int
bound_socket(int type, int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;

	if ((s = socket(AF_INET, type, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)*port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return s;
}

/*
 * A KDC that never answers (UDP and TCP sockets that swallow requests):
 * the request fails by the configured deadline while a timer on the same
 * loop keeps firing.  Then a stopped KDC (nothing on the port): an error,
 * again without stalling the loop.
 */
TEST(kdc_silent_or_down_loop_keeps_running)
{
	struct krb_ctx		*c;
	struct krb_ctx_opts	 o = { NULL, 1500, 0 };
	struct wait		 w = { 0, 0, NULL, 0 };
	char			 conf[600], *old;
	int			 port = 0, us, ts, down;

	old = getenv("KRB5_CONFIG") ? strdup(getenv("KRB5_CONFIG")) : NULL;
	ASSERT_TRUE((us = bound_socket(SOCK_DGRAM, &port)) != -1);
	ASSERT_TRUE((ts = bound_socket(SOCK_STREAM, &port)) != -1);
	ASSERT_INT_EQ(listen(ts, 8), 0);
	use_kdc_port(port, conf, sizeof(conf));
	setenv("KRB5_CONFIG", conf, 1);
	c = krb_ctx_new(base, princ("alpha"), keytab("alpha"), &o);
	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(krb_get_ticket(c, princ("beta"), wait_cb, &w) != NULL);
	loop_until(&w);
	ASSERT_TRUE(w.done);
	ASSERT_INT_NE(w.err, 0);
	ASSERT_TRUE(w.tkt == NULL);
	ASSERT_TRUE(w.ticks > 0);
	printf("# silent KDC: %d timer ticks while waiting\n", w.ticks);
	krb_ctx_free(c);	/* waits for libkrb5 to give up */
	close(us);
	close(ts);

	/* Down: the same port, nothing listening any more. */
	down = port;
	use_kdc_port(down, conf, sizeof(conf));
	setenv("KRB5_CONFIG", conf, 1);
	memset(&w, 0, sizeof(w));
	c = krb_ctx_new(base, princ("alpha"), keytab("alpha"), &o);
	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(krb_get_ticket(c, princ("beta"), wait_cb, &w) != NULL);
	loop_until(&w);
	ASSERT_TRUE(w.done);
	ASSERT_INT_NE(w.err, 0);
	printf("# stopped KDC: error %ld after %d ticks\n", (long)w.err,
	    w.ticks);
	krb_ctx_free(c);
	if (old != NULL) {
		setenv("KRB5_CONFIG", old, 1);
		free(old);
	}
}

/* Cancelled requests never call back; freeing a context with requests
 * outstanding is clean. */
TEST(cancel_and_free_with_pending)
{
	struct krb_ctx	*a = ctx_for("alpha");
	struct krb_req	*r;
	struct wait	 w = { 0, 0, NULL, 0 }, w2 = { 0, 0, NULL, 0 };
	struct timeval	 t300 = { 0, 300000 };

	ASSERT_TRUE(a != NULL);
	ASSERT_TRUE((r = krb_get_ticket(a, princ("beta"), wait_cb, &w)) != NULL);
	krb_req_cancel(r);
	ASSERT_TRUE(krb_get_ticket(a, princ("other"), wait_cb, &w2) != NULL);
	loop_until(&w2);
	ASSERT_INT_EQ(w2.err, 0);
	krb_ticket_free(w2.tkt);
	event_base_loopexit(base, &t300);
	event_base_dispatch(base);
	ASSERT_INT_EQ(w.done, 0);
	ASSERT_TRUE(krb_get_ticket(a, princ("beta"), wait_cb, &w) != NULL);
	krb_ctx_free(a);
	ASSERT_INT_EQ(w.done, 0);
}

/*
 * User-to-user: kink/u2u.test may not be a normal service (-allow_svr):
 * the KDC refuses a ticket with KDC_ERR_MUST_USE_USER2USER.  Its TGT
 * (what a KINK_TGT_REP carries) gets alpha a U2U ticket; u2u verifies the
 * AP-REQ with its TGT session key only; AP-REP back; keys equal.
 */
TEST(user_to_user)
{
	struct krb_ctx		*a = ctx_for("alpha"), *u = ctx_for("u2u");
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL, *x = NULL;
	struct wait		 w = { 0, 0, NULL, 0 };
	struct buf		 tgt, req, rep;
	krb_err			 e;

	ASSERT_TRUE(a != NULL && u != NULL);
	buf_init(&tgt, 0); buf_init(&req, 0); buf_init(&rep, 0);
	e = ticket(a, princ("u2u"), &t);
	ASSERT_INT_EQ(krb_err_rfc(e), KDC_ERR_MUST_USE_USER2USER);
	ASSERT_TRUE(t == NULL);

	ASSERT_TRUE(have_tgt(u));
	ASSERT_INT_EQ(krb_get_tgt(u, &tgt), 0);		/* TGT_REP body */
	ASSERT_TRUE(krb_get_ticket_u2u(a, princ("u2u"), tgt.b_data, tgt.b_len,
	    wait_cb, &w) != NULL);
	loop_until(&w);
	ASSERT_INT_EQ(w.err, 0);
	t = w.tkt;
	ASSERT_TRUE(krb_ticket_is_u2u(t));
	ASSERT_TRUE((cl = krb_client_new(a, t)) != NULL);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	/* Without U2U allowed the keytab alone cannot verify it. */
	ASSERT_INT_NE(krb_rd_req(u, req.b_data, req.b_len, 0, &x), 0);
	krb_acceptor_free(x);
	ASSERT_INT_EQ(krb_rd_req(u, req.b_data, req.b_len, KRB_RDREQ_U2U,
	    &acc), 0);
	ASSERT_STR_EQ(krb_acceptor_client(acc), princ("alpha"));
	ASSERT_INT_EQ(krb_acceptor_mk_rep(acc, &rep), 0);
	ASSERT_INT_EQ(krb_client_rd_rep(cl, rep.b_data, rep.b_len), 0);
	ASSERT_TRUE(keys_equal(krb_client_key(cl), krb_acceptor_key(acc)));
	/* A garbage TGT fails cleanly. */
	memset(&w, 0, sizeof(w));
	ASSERT_TRUE(krb_get_ticket_u2u(a, princ("u2u"), (const uint8_t *)"xx",
	    2, wait_cb, &w) != NULL);
	loop_until(&w);
	ASSERT_INT_NE(w.err, 0);

	krb_client_free(cl);
	krb_acceptor_free(acc);
	krb_ticket_free(t);
	buf_free(&tgt); buf_free(&req); buf_free(&rep);
	krb_ctx_free(a);
	krb_ctx_free(u);
}

/* ko_rcache puts the replay cache where the daemon says.  It is opened
 * in krb_ctx_new (before any privilege drop or sandbox), not at the
 * first AP-REQ as MIT's was. */
TEST(rcache_location)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b;
	struct krb_ctx_opts	 o = { NULL, 10000, 0 };
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	char			 rc[600], name[620];

	snprintf(rc, sizeof(rc), "%s/custom.rcache2", rdir);
	snprintf(name, sizeof(name), "file2:%s", rc);
	o.ko_rcache = name;
	unlink(rc);
	ASSERT_TRUE((b = krb_ctx_new(base, princ("beta"), keytab("beta"),
	    &o)) != NULL);
	ASSERT_INT_EQ(access(rc, F_OK), 0);
	ASSERT_INT_EQ(ap_exchange(a, b, "beta", &cl, &acc), 0);
	ASSERT_INT_EQ(access(rc, F_OK), 0);
	krb_client_free(cl);
	krb_acceptor_free(acc);
	krb_ctx_free(a);
	krb_ctx_free(b);
}


/* An AP-REQ accepted before a restart of the responder (its context
 * freed and made anew on the same replay cache file) is refused after
 * it; a new authenticator under the same ticket is not. */
TEST(replay_across_restart)
{
	struct krb_ctx		*a = ctx_for("alpha"), *b;
	struct krb_ctx_opts	 o = { NULL, 10000, 0 };
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct buf		 req, req2;
	char			 rc[600];

	snprintf(rc, sizeof(rc), "%s/restart.rcache", rdir);
	o.ko_rcache = rc;
	unlink(rc);
	ASSERT_TRUE((b = krb_ctx_new(base, princ("beta"), keytab("beta"),
	    &o)) != NULL);
	buf_init(&req, 0);
	buf_init(&req2, 0);
	ASSERT_TRUE(a != NULL);
	ASSERT_INT_EQ(ap_req(a, "beta", &t, &cl, &req), 0);
	ASSERT_INT_EQ(krb_rd_req(b, req.b_data, req.b_len, 0, &acc), 0);
	krb_acceptor_free(acc);
	acc = NULL;
	krb_ctx_free(b);
	ASSERT_TRUE((b = krb_ctx_new(base, princ("beta"), keytab("beta"),
	    &o)) != NULL);
	ASSERT_INT_EQ(krb_err_rfc(krb_rd_req(b, req.b_data, req.b_len, 0,
	    &acc)), KRB_AP_ERR_REPEAT);
	/* Refused like MIT's replay cache: no session key to answer with. */
	ASSERT_TRUE(acc == NULL || krb_acceptor_key(acc) == NULL);
	krb_acceptor_free(acc);
	acc = NULL;
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req2), 0);
	ASSERT_INT_EQ(krb_rd_req(b, req2.b_data, req2.b_len, 0, &acc), 0);
	krb_acceptor_free(acc);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	buf_free(&req2);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* Re-key kink/rotate.test and append its new keys (new kvno) to its
 * keytab, as an administrator rotating the key would. */
static int
rotate_key(void)
{
	char	cmd[1400];

	snprintf(cmd, sizeof(cmd), "kadmin.local -r %s -q 'ktadd -k %s "
	    "%s' >%s/rotate.out 2>&1", realm, keytab("rotate"), princ("rotate"),
	    rdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh AP-REQ from alpha for `name` with a new ticket, verified. */
static krb_err
fresh_ap(struct krb_ctx *a, struct krb_ctx *r, const char *name)
{
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct buf		 req;
	krb_err			 err;

	buf_init(&req, 0);
	krb_ticket_forget(a, princ(name));
	if (ap_req(a, name, &t, &cl, &req) != 0)
		err = -1;
	else
		err = krb_rd_req(r, req.b_data, req.b_len, 0, &acc);
	krb_acceptor_free(acc);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	return err;
}

/*
 * The keytab is read into memory once; a rotation (kadmin ktadd: new key,
 * new kvno appended to the file) is picked up without a new context, by
 * the file watch within a bounded wait, and by krb_keytab_reload at once.
 * A keytab that turns to garbage keeps the keys read before.
 */
TEST(keytab_rotation_in_memory)
{
	struct krb_ctx	*a = ctx_for("alpha"), *r = ctx_for("rotate");
	struct timeval	 t50 = { 0, 50000 };
	char		 path[600], save[700];
	krb_err		 err;
	int		 i;

	ASSERT_TRUE(a != NULL && r != NULL);
	ASSERT_INT_EQ(fresh_ap(a, r, "rotate"), 0);
	/* Rotation 1: picked up by the watch, no call into krb. */
	ASSERT_INT_EQ(rotate_key(), 0);
	err = -1;
	for (i = 0; i < 200 && err != 0; i++) {	/* up to 10 s of loop */
		event_base_loopexit(base, &t50);
		event_base_dispatch(base);
		err = fresh_ap(a, r, "rotate");
	}
	ASSERT_INT_EQ(err, 0);
	/* Rotation 2: krb_keytab_reload reads it at once. */
	ASSERT_INT_EQ(rotate_key(), 0);
	ASSERT_INT_EQ(krb_keytab_reload(r), 0);
	ASSERT_INT_EQ(fresh_ap(a, r, "rotate"), 0);
	/* Garbage in the file: the reload fails, the old keys stay. */
	snprintf(path, sizeof(path), "%s", keytab("rotate"));
	snprintf(save, sizeof(save), "%s.save", path);
	ASSERT_INT_EQ(rename(path, save), 0);
	{
		FILE *f = fopen(path, "w");

		ASSERT_TRUE(f != NULL);
		fputs("not a keytab\n", f);
		fclose(f);
	}
	ASSERT_INT_EQ(krb_keytab_reload(r), -1);
	ASSERT_INT_EQ(fresh_ap(a, r, "rotate"), 0);
	ASSERT_INT_EQ(rename(save, path), 0);
	krb_ctx_free(a);
	krb_ctx_free(r);
}

TEST(host_principal_lowercase)
{
	char	p[256];

	ASSERT_INT_EQ(krb_host_principal("Alpha.Example.ORG", "EXAMPLE.ORG",
	    p, sizeof(p)), 0);
	ASSERT_STR_EQ(p, "kink/alpha.example.org@EXAMPLE.ORG");
	ASSERT_INT_EQ(krb_host_principal("h", NULL, p, sizeof(p)), 0);
	{
		char want[256];

		snprintf(want, sizeof(want), "kink/h@%s", realm);
		ASSERT_STR_EQ(p, want);
	}
	ASSERT_INT_EQ(krb_host_principal("h", "R", p, 5), -1);
}

int
main(void)
{
	if ((rdir = getenv("KINK_REALM_DIR")) == NULL ||
	    (realm = getenv("REALM")) == NULL) {
		printf("FAIL test_krb: KINK_REALM_DIR/REALM not set "
		    "(run through tests/krb/run.sh)\n");
		return 1;
	}
	log_init("test_krb", 1, 0);
	base = event_base_new();
	RUN(ap_exchange_both_ways);
	RUN(retransmit_same_ticket_any_reply);
	RUN(ap_rep_of_other_transaction_fails);
	RUN(crypto_aes256_default);
	RUN(crypto_aes128);
	RUN(crypto_des3);
	RUN(crypto_aes128_sha256);
	RUN(crypto_aes256_sha384);
	RUN(prf_kat_and_agreement);
	RUN(prf_rc4_agrees_with_mit);
	RUN(replay_is_repeat);
	RUN(skew_error_and_offset);
	RUN(krb_error_plain);
	RUN(garbage_and_truncation);
	RUN(ticket_for_other_principal);
	RUN(wrong_kvno);
	RUN(expired_ticket);
	RUN(keytab_missing_or_garbage);
	RUN(cancel_and_free_with_pending);
	RUN(user_to_user);
	RUN(host_principal_lowercase);
	RUN(rcache_location);
	RUN(replay_across_restart);
	RUN(keytab_rotation_in_memory);
	RUN(kdc_silent_or_down_loop_keeps_running);
	event_base_free(base);
	return test_done();
}
