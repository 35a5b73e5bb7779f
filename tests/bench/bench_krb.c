/*
 * Kerberos microbenchmark (numbers only, never pass/fail), run by
 * tests/bench/krb.sh against a throwaway realm; CPU microseconds of the
 * calling thread per operation: the responder's
 * krb_rd_req + krb_acceptor_mk_rep per AP-REQ, and the KEYMAT PRF per
 * call on a session key that lives on (cached derivation) and on a fresh
 * copy of it each call (what every call cost before the cache).
 *
 *	bench_krb -d REALM_DIR -r REALM [-n N]
 */
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "krb.h"

static struct event_base *base;

struct wait {
	int			 done;
	krb_err			 err;
	struct krb_ticket	*tkt;
};

static void
wait_cb(krb_err err, struct krb_ticket *t, void *arg)
{
	struct wait *w = arg;

	w->done = 1;
	w->err = err;
	w->tkt = t;
}

/* CPU time of this thread: a loaded machine does not inflate it. */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct krb_ctx *
ctx(const char *dir, const char *realm, const char *name)
{
	char p[256], kt[600];

	snprintf(p, sizeof(p), "kink/%s.test@%s", name, realm);
	snprintf(kt, sizeof(kt), "%s/%s.keytab", dir, name);
	return krb_ctx_new(base, p, kt, NULL);
}

int
main(int argc, char **argv)
{
	const char		*dir = NULL, *realm = NULL;
	struct krb_ctx		*a, *b;
	struct krb_client	*cl;
	struct krb_acceptor	*acc;
	struct krb_key		*key, *fresh;
	struct wait		 w = { 0, 0, NULL };
	struct buf		 req, rep;
	char			 peer[256];
	uint8_t			 out[KRB_PRF_MAX], in[64];
	size_t			 outlen;
	double			 t0, t_acc = 0;
	int			 ch, i, n = 2000, kind;

	while ((ch = getopt(argc, argv, "d:r:n:")) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'r': realm = optarg; break;
		case 'n': n = atoi(optarg); break;
		default: return 2;
		}
	}
	if (dir == NULL || realm == NULL || n <= 0)
		return 2;
	log_init("bench_krb", 1, 0);
	base = event_base_new();
	if ((a = ctx(dir, realm, "alpha")) == NULL ||
	    (b = ctx(dir, realm, "beta")) == NULL)
		return 1;
	snprintf(peer, sizeof(peer), "kink/beta.test@%s", realm);
	if (krb_get_ticket(a, peer, wait_cb, &w) == NULL)
		return 1;
	while (!w.done)
		event_base_loop(base, EVLOOP_ONCE);
	if (w.err != 0 || (cl = krb_client_new(a, w.tkt)) == NULL)
		return 1;
	buf_init(&req, 0);
	buf_init(&rep, 0);
	for (i = 0; i < n; i++) {
		buf_reset(&req);
		buf_reset(&rep);
		if (krb_client_mk_req(cl, &req) != 0)
			return 1;
		t0 = now_us();
		if (krb_rd_req(b, req.b_data, req.b_len, 0, &acc) != 0 ||
		    krb_acceptor_mk_rep(acc, &rep) != 0)
			return 1;
		t_acc += now_us() - t0;
		krb_acceptor_free(acc);
	}
	printf("krb rd_req_mk_rep_us=%.1f n=%d\n", t_acc / n, n);
	key = krb_client_key(cl);
	memset(in, 0x5a, sizeof(in));
	for (kind = KRB_PRF_RFC3961; kind <= KRB_PRF_MIT; kind++) {
		const char *kn = kind == KRB_PRF_RFC3961 ? "rfc3961" : "mit";

		t0 = now_us();
		for (i = 0; i < n; i++)
			if (krb_prf(key, kind, in, sizeof(in), out, &outlen))
				return 1;
		printf("krb prf_%s_cached_us=%.2f\n", kn, (now_us() - t0) / n);
		t0 = now_us();
		for (i = 0; i < n; i++) {
			if ((fresh = krb_key_dup(key)) == NULL ||
			    krb_prf(fresh, kind, in, sizeof(in), out, &outlen))
				return 1;
			krb_key_free(fresh);
		}
		printf("krb prf_%s_fresh_key_us=%.2f\n", kn, (now_us() - t0) / n);
	}
	buf_free(&req);
	buf_free(&rep);
	krb_client_free(cl);
	krb_ticket_free(w.tkt);
	krb_ctx_free(a);
	krb_ctx_free(b);
	event_base_free(base);
	return 0;
}
