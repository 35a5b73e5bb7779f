/*
 * AP-REQ verification on worker threads (src/krb_pool.c) against the
 * real realm of tests/krb/run.sh: many requests verified at once, one
 * authenticator racing on several workers accepted exactly once, the
 * keytab rotation reaching the workers, the skew path on a worker's own
 * clock, cancellation and the queue cap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "test.h"
#include "buf.h"
#include "log.h"
#include "krb.h"

static struct event_base *base;
static const char *rdir, *realm;
static pthread_t loop_thread;

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
ctx_for(const char *name, int workers)
{
	struct krb_ctx_opts o = { NULL, 10000, workers };
	char rc[600];

	/* A replay cache of its own: the test counts its verdicts. */
	snprintf(rc, sizeof(rc), "%s/pool-%s-%d.rcache", rdir, name, workers);
	o.ko_rcache = rc;
	return krb_ctx_new(base, princ(name), keytab(name), &o);
}

struct tw {
	int			 done;
	krb_err			 err;
	struct krb_ticket	*tkt;
};

static void
tw_cb(krb_err err, struct krb_ticket *t, void *arg)
{
	struct tw *w = arg;

	w->done = 1;
	w->err = err;
	w->tkt = t;
}

static void
loop_until(const int *flag, int target)
{
	struct timeval	t5 = { 0, 5000 };
	time_t		guard = time(NULL) + 60;

	while (*flag < target && time(NULL) < guard) {
		event_base_loopexit(base, &t5);
		event_base_dispatch(base);
	}
}

static int
client_for(struct krb_ctx *cli, const char *srv, struct krb_ticket **t,
    struct krb_client **cl)
{
	struct tw w = { 0, 0, NULL };

	krb_ticket_forget(cli, princ(srv));
	if (krb_get_ticket(cli, princ(srv), tw_cb, &w) == NULL)
		return -1;
	loop_until(&w.done, 1);
	if (!w.done || w.err != 0)
		return -1;
	*t = w.tkt;
	return (*cl = krb_client_new(cli, *t)) == NULL ? -1 : 0;
}

/* One verification result, as the engine's callback sees it. */
struct res {
	int			 done;
	int			 on_loop;
	krb_err			 err;
	struct krb_acceptor	*acc;
	int			*ndone;
};

static void
res_cb(krb_err err, struct krb_acceptor *acc, void *arg)
{
	struct res *r = arg;

	r->done++;
	r->on_loop = pthread_equal(pthread_self(), loop_thread);
	r->err = err;
	r->acc = acc;
	(*r->ndone)++;
}

#define NREQ	48

/* Many AP-REQs in flight on 2 workers: each verified, with its client,
 * its session key and an AP-REP the initiator accepts. */
TEST(pool_verifies_many)
{
	struct krb_ctx		*a = ctx_for("alpha", 0);
	struct krb_ctx		*b = ctx_for("beta", 2);
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct res		 r[NREQ];
	struct buf		 req, rep;
	int			 i, nd = 0, nok = 0, nrep = 0;

	ASSERT_TRUE(a != NULL && b != NULL);
	ASSERT_INT_EQ(krb_workers(b), 2);
	ASSERT_INT_EQ(krb_workers(a), 0);
	ASSERT_INT_EQ(client_for(a, "beta", &t, &cl), 0);
	memset(r, 0, sizeof(r));
	buf_init(&req, 0);
	buf_init(&rep, 0);
	for (i = 0; i < NREQ; i++) {
		r[i].ndone = &nd;
		buf_reset(&req);
		ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
		ASSERT_TRUE(krb_verify(b, req.b_data, req.b_len,
		    KRB_RDREQ_MKREP, res_cb, &r[i]) != NULL);
	}
	/* Nothing comes back from inside krb_verify. */
	ASSERT_INT_EQ(nd, 0);
	loop_until(&nd, NREQ);
	ASSERT_INT_EQ(nd, NREQ);
	for (i = 0; i < NREQ; i++) {
		if (r[i].done != 1 || !r[i].on_loop || r[i].err != 0 ||
		    r[i].acc == NULL)
			continue;
		if (strcmp(krb_acceptor_client(r[i].acc), princ("alpha")) == 0)
			nok++;
		/* The client keeps its last KRB_CLIENT_MAX_AUTH
		 * authenticators: their AP-REPs verify. */
		if (i >= NREQ - KRB_CLIENT_MAX_AUTH) {
			buf_reset(&rep);
			if (krb_acceptor_mk_rep(r[i].acc, &rep) == 0 &&
			    krb_client_rd_rep(cl, rep.b_data, rep.b_len) == 0)
				nrep++;
		}
	}
	ASSERT_INT_EQ(nok, NREQ);
	ASSERT_INT_EQ(nrep, KRB_CLIENT_MAX_AUTH);
	/* The key serves the loop's checksums. */
	buf_reset(&rep);
	ASSERT_INT_EQ(krb_cksum_make(krb_acceptor_key(r[0].acc),
	    (const uint8_t *)"x", 1, &rep), 0);
	ASSERT_INT_EQ(krb_cksum_verify(krb_client_key(cl),
	    (const uint8_t *)"x", 1, rep.b_data, rep.b_len), 0);
	for (i = 0; i < NREQ; i++)
		krb_acceptor_free(r[i].acc);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	buf_free(&rep);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

#define NAUTH	24
#define NCOPY	6

/* Copies of one authenticator queued side by side, so that several
 * workers verify them at the same moment: exactly one accepted. */
TEST(pool_replay_exactly_once)
{
	struct krb_ctx		*a = ctx_for("alpha", 0);
	struct krb_ctx		*b = ctx_for("beta", 4);
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	static struct res	 r[NAUTH][NCOPY];
	struct buf		 req;
	int			 i, j, nd = 0, bad = 0, ok, rep;

	ASSERT_TRUE(a != NULL && b != NULL);
	ASSERT_INT_EQ(client_for(a, "beta", &t, &cl), 0);
	memset(r, 0, sizeof(r));
	buf_init(&req, 0);
	for (i = 0; i < NAUTH; i++) {
		buf_reset(&req);
		ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
		for (j = 0; j < NCOPY; j++) {
			r[i][j].ndone = &nd;
			ASSERT_TRUE(krb_verify(b, req.b_data, req.b_len, 0,
			    res_cb, &r[i][j]) != NULL);
		}
	}
	loop_until(&nd, NAUTH * NCOPY);
	ASSERT_INT_EQ(nd, NAUTH * NCOPY);
	for (i = 0; i < NAUTH; i++) {
		ok = rep = 0;
		for (j = 0; j < NCOPY; j++) {
			if (r[i][j].err == 0)
				ok++;
			else if (krb_err_rfc(r[i][j].err) == KRB_AP_ERR_REPEAT)
				rep++;
			krb_acceptor_free(r[i][j].acc);
		}
		if (ok != 1 || rep != NCOPY - 1)
			bad++;
	}
	ASSERT_INT_EQ(bad, 0);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

static krb_err
verify_one(struct krb_ctx *srv, const struct buf *req, struct krb_acceptor **acc)
{
	struct res	r;
	int		nd = 0;

	memset(&r, 0, sizeof(r));
	r.ndone = &nd;
	*acc = NULL;
	if (krb_verify(srv, req->b_data, req->b_len, KRB_RDREQ_MKREP, res_cb,
	    &r) == NULL)
		return -1;
	loop_until(&nd, 1);
	if (nd != 1)
		return ETIMEDOUT;
	*acc = r.acc;
	return r.err;
}

/* A fresh ticket for `name` (so the newest key), verified on a worker. */
static krb_err
fresh_pool(struct krb_ctx *a, struct krb_ctx *r, const char *name)
{
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct buf		 req;
	krb_err			 err = -1;

	buf_init(&req, 0);
	if (client_for(a, name, &t, &cl) == 0 &&
	    krb_client_mk_req(cl, &req) == 0)
		err = verify_one(r, &req, &acc);
	krb_acceptor_free(acc);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	return err;
}

/* kadmin ktadd: a new key, a new kvno appended to the keytab. */
static int
rotate_key(void)
{
	char	cmd[1400];

	snprintf(cmd, sizeof(cmd), "kadmin.local -r %s -q 'ktadd -k %s "
	    "%s' >%s/pool-rotate.out 2>&1", realm, keytab("rotate"),
	    princ("rotate"), rdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every worker verifies with the keytab the loop re-read: a ticket under
 * the new kvno is accepted on each of them (3 in a row on 2 workers). */
TEST(pool_keytab_rotation)
{
	struct krb_ctx	*a = ctx_for("alpha", 0), *r = ctx_for("rotate", 2);
	int		 i;

	ASSERT_TRUE(a != NULL && r != NULL);
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(fresh_pool(a, r, "rotate"), 0);
	ASSERT_INT_EQ(rotate_key(), 0);
	ASSERT_INT_EQ(krb_keytab_reload(r), 0);
	for (i = 0; i < 4; i++)
		ASSERT_INT_EQ(fresh_pool(a, r, "rotate"), 0);
	krb_ctx_free(a);
	krb_ctx_free(r);
}

/* An initiator an hour fast: SKEW with the session key (the worker's
 * own clock moved and moved back), then a good AP-REQ on every worker. */
TEST(pool_skew_on_worker)
{
	struct krb_ctx		*a = ctx_for("alpha", 0), *b = ctx_for("beta", 2);
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	struct krb_acceptor	*acc = NULL;
	struct buf		 req;
	time_t			 ct;
	int32_t			 cu;
	int			 i;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(client_for(a, "beta", &t, &cl), 0);
	ASSERT_INT_EQ(krb_peer_set_offset(a, princ("beta"), 3600), 0);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	ASSERT_INT_EQ(krb_err_rfc(verify_one(b, &req, &acc)), KRB_AP_ERR_SKEW);
	ASSERT_TRUE(acc != NULL && krb_acceptor_key(acc) != NULL);
	ASSERT_INT_EQ(krb_acceptor_ctime(acc, &ct, &cu), 0);
	ASSERT_TRUE(ct > time(NULL) + 3500);
	krb_acceptor_free(acc);
	ASSERT_INT_EQ(krb_peer_set_offset(a, princ("beta"), 0), 0);
	for (i = 0; i < 4; i++) {
		buf_reset(&req);
		ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
		ASSERT_INT_EQ(verify_one(b, &req, &acc), 0);
		krb_acceptor_free(acc);
	}
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

/* The queue holds KRB_VERIFY_QUEUE_MAX; a cancelled request's callback
 * never runs; freeing the context with requests queued, running and done
 * joins the workers and frees everything (ASan checks the leaks). */
TEST(pool_cap_cancel_free)
{
	struct krb_ctx		*a = ctx_for("alpha", 0), *b = ctx_for("beta", 2);
	struct krb_ticket	*t = NULL;
	struct krb_client	*cl = NULL;
	static struct res	 r[KRB_VERIFY_QUEUE_MAX + 1];
	static struct krb_vreq	*h[KRB_VERIFY_QUEUE_MAX + 1];
	struct buf		 req;
	int			 i, nd = 0, n = 0, called = 0;

	ASSERT_TRUE(a != NULL && b != NULL);
	buf_init(&req, 0);
	ASSERT_INT_EQ(client_for(a, "beta", &t, &cl), 0);
	ASSERT_INT_EQ(krb_client_mk_req(cl, &req), 0);
	memset(r, 0, sizeof(r));
	for (i = 0; i <= KRB_VERIFY_QUEUE_MAX; i++) {
		r[i].ndone = &nd;
		if ((h[i] = krb_verify(b, req.b_data, req.b_len, 0, res_cb,
		    &r[i])) != NULL)
			n++;
	}
	ASSERT_INT_EQ(n, KRB_VERIFY_QUEUE_MAX);
	ASSERT_TRUE(h[KRB_VERIFY_QUEUE_MAX] == NULL);
	for (i = 0; i < KRB_VERIFY_QUEUE_MAX; i += 2)
		krb_verify_cancel(h[i]);
	loop_until(&nd, KRB_VERIFY_QUEUE_MAX / 2);
	for (i = 0; i < KRB_VERIFY_QUEUE_MAX; i++) {
		called += r[i].done;
		if (i % 2 == 0 && r[i].done)
			called += 1000;
		krb_acceptor_free(r[i].acc);
	}
	ASSERT_INT_EQ(called, KRB_VERIFY_QUEUE_MAX / 2);
	/* Room again, and a full queue left for krb_ctx_free. */
	for (i = 0; i < 40; i++)
		ASSERT_TRUE(krb_verify(b, req.b_data, req.b_len, 0, res_cb,
		    &r[0]) != NULL);
	krb_client_free(cl);
	krb_ticket_free(t);
	buf_free(&req);
	krb_ctx_free(a);
	krb_ctx_free(b);
}

int
main(void)
{
	if ((rdir = getenv("KINK_REALM_DIR")) == NULL ||
	    (realm = getenv("REALM")) == NULL) {
		printf("FAIL test_pool: KINK_REALM_DIR/REALM not set "
		    "(run through tests/krb/run.sh)\n");
		return 1;
	}
	log_init("test_pool", 1, 0);
	base = event_base_new();
	loop_thread = pthread_self();
	RUN(pool_verifies_many);
	RUN(pool_replay_exactly_once);
	RUN(pool_keytab_rotation);
	RUN(pool_skew_on_worker);
	RUN(pool_cap_cancel_free);
	event_base_free(base);
	return test_done();
}
