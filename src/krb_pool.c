/*
 * AP-REQ verification on a pool of worker threads (krb_verify), so that
 * the responder's Kerberos work, the largest part of a CREATE's CPU,
 * runs on every core while the loop goes on with the rest.  Each worker
 * has its own krb5_context (MIT and Heimdal allow one per thread, not
 * one shared), its own reference to the keytab copy krb_keytab.c made,
 * and shares with the loop only: the request queue and the done queue
 * (kp_mtx), the keytab name and generation (kc_ktmtx), and the replay
 * cache (kc_rcmtx, taken by krb.c around each check-and-store).  Results
 * come back as krb_kdc.c's do: a byte on a non-blocking pipe, and the
 * loop runs the callbacks.  A worker never logs (log.c is the loop's):
 * what it would have said travels with the result.
 * docs/arch/krb.md, "Verification workers".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "krb_int.h"

enum krb_vstate { KRB_V_QUEUED, KRB_V_RUNNING, KRB_V_DONE };

struct krb_pool;

struct krb_vreq {
	TAILQ_ENTRY(krb_vreq)	 vr_entry;	/* kp_todo or kp_done (lock) */
	enum krb_vstate		 vr_state;	/* lock */
	/* Input, read by the worker. */
	uint8_t			*vr_in;
	size_t			 vr_len;
	int			 vr_flags;
	krb5_keyblock		*vr_tgtkey;	/* U2U: a copy, or NULL */
	/* Output, written by the worker. */
	krb_err			 vr_err;
	struct krb_acceptor	*vr_acc;
	char			*vr_errmsg;	/* the library's text for vr_err */
	char			 vr_note[256];	/* another line to log */
	/* Loop side only. */
	struct krb_pool		*vr_pool;
	krb_verify_cb		 vr_cb;		/* NULL once cancelled */
	void			*vr_arg;
};
TAILQ_HEAD(krb_vreqq, krb_vreq);

struct krb_worker {
	struct krb_pool		*w_pool;
	pthread_t		 w_thread;
	int			 w_started;
	krb5_context		 w_k;
	krb5_principal		 w_princ;	/* in w_k */
	krb5_keytab		 w_kt;		/* in w_k */
	unsigned int		 w_ktpub;	/* kc_ktpub w_kt was taken at */
};

struct krb_pool {
	struct krb_ctx		*kp_ctx;
	int			 kp_n;
	struct krb_worker	 kp_w[KRB_WORKERS_MAX];
	pthread_mutex_t		 kp_mtx;
	pthread_cond_t		 kp_cv;
	struct krb_vreqq	 kp_todo, kp_done;
	int			 kp_quit;
	int			 kp_pipe[2];
	struct event		*kp_ev;
	/* Loop only: requests not yet delivered (the queue cap). */
	int			 kp_pending;
};

static void
vreq_free(struct krb_ctx *ctx, struct krb_vreq *r)
{
	if (r->vr_tgtkey != NULL)
		krb5_free_keyblock(ctx->kc_ctx, r->vr_tgtkey);
	krb_acceptor_free(r->vr_acc);
	free(r->vr_errmsg);
	free(r->vr_in);
	free(r);
}

/* A new keytab was published (a re-read after a rotation): take our
 * reference to it.  Under kc_ktmtx, so the name is one the loop holds. */
static void
worker_keytab(struct krb_worker *w, struct krb_ctx *ctx)
{
	krb5_keytab	kt;

	pthread_mutex_lock(&ctx->kc_ktmtx);
	if ((w->w_kt == NULL || w->w_ktpub != ctx->kc_ktpub) &&
	    krb5_kt_resolve(w->w_k, ctx->kc_ktcur, &kt) == 0) {
		if (w->w_kt != NULL)
			krb5_kt_close(w->w_k, w->w_kt);
		w->w_kt = kt;
		w->w_ktpub = ctx->kc_ktpub;
	}
	pthread_mutex_unlock(&ctx->kc_ktmtx);
}

/* The AP-REP while the auth context is at hand, then nothing of the
 * worker's context stays in the acceptor: the loop owns it from here. */
static void
worker_finish(struct krb_worker *w, struct krb_vreq *r)
{
	struct krb_acceptor	*a = r->vr_acc;
	krb5_data		 rep = krb_data_view(NULL, 0);
	const char		*t;
	krb_err			 err;

	if (r->vr_err != 0) {
		t = krb5_get_error_message(w->w_k, r->vr_err);
		r->vr_errmsg = strdup(t != NULL ? t : "unknown error");
		krb5_free_error_message(w->w_k, t);
	}
	if (a == NULL)
		return;
	if (r->vr_err == 0 && (r->vr_flags & KRB_RDREQ_MKREP)) {
		if ((err = krb5_mk_rep(w->w_k, a->ac_ac, &rep)) == 0) {
			if ((a->ac_rep = malloc(rep.length)) != NULL) {
				memcpy(a->ac_rep, rep.data, rep.length);
				a->ac_replen = rep.length;
			}
			krb_data_free(w->w_k, &rep);
		} else
			snprintf(r->vr_note, sizeof(r->vr_note),
			    "AP-REP for %s failed (krb5 %ld)", a->ac_client,
			    (long)err);
	}
	if (a->ac_ac != NULL)
		krb5_auth_con_free(w->w_k, a->ac_ac);
	a->ac_ac = NULL;
	a->ac_k = r->vr_acc->ac_ctx->kc_ctx;
	if (a->ac_key != NULL)
		a->ac_key->kk_ctx = a->ac_k;
}

static void
worker_run(struct krb_worker *w, struct krb_vreq *r)
{
	struct krb_ctx		*ctx = w->w_pool->kp_ctx;
	struct krb_verifier	 v;

	worker_keytab(w, ctx);
	memset(&v, 0, sizeof(v));
	v.kv_ctx = ctx;
	v.kv_k = w->w_k;
	v.kv_princ = w->w_princ;
	v.kv_kt = w->w_kt;
	v.kv_tgtkey = r->vr_tgtkey;
	v.kv_worker = 1;
	r->vr_err = krb_rd_req_v(&v, r->vr_in, r->vr_len, r->vr_flags,
	    &r->vr_acc);
	memcpy(r->vr_note, v.kv_note, sizeof(r->vr_note));
	worker_finish(w, r);
}

static void *
worker_main(void *arg)
{
	struct krb_worker	*w = arg;
	struct krb_pool		*kp = w->w_pool;
	struct krb_vreq		*r;
	ssize_t			 n;

	pthread_mutex_lock(&kp->kp_mtx);
	for (;;) {
		while (!kp->kp_quit && TAILQ_EMPTY(&kp->kp_todo))
			pthread_cond_wait(&kp->kp_cv, &kp->kp_mtx);
		if (kp->kp_quit)
			break;
		r = TAILQ_FIRST(&kp->kp_todo);
		TAILQ_REMOVE(&kp->kp_todo, r, vr_entry);
		r->vr_state = KRB_V_RUNNING;
		pthread_mutex_unlock(&kp->kp_mtx);

		worker_run(w, r);

		pthread_mutex_lock(&kp->kp_mtx);
		r->vr_state = KRB_V_DONE;
		TAILQ_INSERT_TAIL(&kp->kp_done, r, vr_entry);
		/* Full pipe: the loop has a wake-up pending anyway. */
		n = write(kp->kp_pipe[1], "", 1);
		(void)n;
	}
	pthread_mutex_unlock(&kp->kp_mtx);
	return NULL;
}

/* What the worker would have logged, then the result, on the loop. */
static void
pool_deliver(struct krb_ctx *ctx, struct krb_vreq *r)
{
	struct krb_acceptor	*a = r->vr_acc;

	if (r->vr_note[0] != '\0')
		log_info("krb: %s", r->vr_note);
	if (r->vr_err != 0) {
		krb_log_text(ctx, r->vr_err, r->vr_errmsg, "AP-REQ");
		/* krb_err_str on the loop's context then tells what the
		 * worker's library said (the drop event quotes it), as it
		 * would after the loop's own rd_req. */
		if (r->vr_errmsg != NULL)
			krb5_set_error_message(ctx->kc_ctx, r->vr_err, "%s",
			    r->vr_errmsg);
	}
	else
		log_debug("krb: AP-REQ from %s verified", a->ac_client);
	r->vr_acc = NULL;
	r->vr_cb(r->vr_err, a, r->vr_arg);
}

static void
pool_pipe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct krb_pool		*kp = arg;
	struct krb_vreqq	 done;
	struct krb_vreq		*r;
	char			 b[64];

	(void)ev;
	while (read(fd, b, sizeof(b)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&kp->kp_mtx);
	TAILQ_CONCAT(&done, &kp->kp_done, vr_entry);
	pthread_mutex_unlock(&kp->kp_mtx);
	/* A callback may cancel a later request of this batch: it is then
	 * only marked, and freed here. */
	while ((r = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, r, vr_entry);
		kp->kp_pending--;
		if (r->vr_cb != NULL)
			pool_deliver(kp->kp_ctx, r);
		vreq_free(kp->kp_ctx, r);
	}
}

struct krb_vreq *
krb_verify(struct krb_ctx *ctx, const uint8_t *p, size_t len, int flags,
    krb_verify_cb cb, void *arg)
{
	struct krb_pool	*kp = ctx->kc_pool;
	struct krb_vreq	*r;

	if (kp == NULL || len > BUF_MAX)
		return NULL;
	if (kp->kp_pending >= KRB_VERIFY_QUEUE_MAX) {
		log_debug("krb: %d AP-REQs waiting for a worker, one dropped",
		    kp->kp_pending);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->vr_in = malloc(len > 0 ? len : 1)) == NULL) {
		free(r);
		log_warnx("krb: AP-REQ: out of memory");
		return NULL;
	}
	memcpy(r->vr_in, p, len);
	r->vr_len = len;
	r->vr_flags = flags;
	r->vr_pool = kp;
	r->vr_cb = cb;
	r->vr_arg = arg;
	/* The worker may not read kc_tgt, which the loop replaces. */
	if ((flags & KRB_RDREQ_U2U) && ctx->kc_tgt != NULL &&
	    krb5_copy_keyblock(ctx->kc_ctx, KRB_CREDS_KEY(ctx->kc_tgt),
	    &r->vr_tgtkey) != 0)
		r->vr_tgtkey = NULL;
	kp->kp_pending++;
	pthread_mutex_lock(&kp->kp_mtx);
	r->vr_state = KRB_V_QUEUED;
	TAILQ_INSERT_TAIL(&kp->kp_todo, r, vr_entry);
	pthread_cond_signal(&kp->kp_cv);
	pthread_mutex_unlock(&kp->kp_mtx);
	return r;
}

void
krb_verify_cancel(struct krb_vreq *r)
{
	struct krb_pool	*kp;
	int		 queued;

	if (r == NULL)
		return;
	kp = r->vr_pool;
	r->vr_cb = NULL;
	/* Still queued: no worker saw it, it goes now.  Otherwise the
	 * worker's result is thrown away when it comes back. */
	pthread_mutex_lock(&kp->kp_mtx);
	if ((queued = r->vr_state == KRB_V_QUEUED))
		TAILQ_REMOVE(&kp->kp_todo, r, vr_entry);
	pthread_mutex_unlock(&kp->kp_mtx);
	if (queued) {
		kp->kp_pending--;
		vreq_free(kp->kp_ctx, r);
	}
}

int
krb_verify_pending(const struct krb_ctx *ctx)
{
	return ctx->kc_pool != NULL ? ctx->kc_pool->kp_pending : 0;
}

int
krb_workers(const struct krb_ctx *ctx)
{
	return ctx->kc_pool != NULL ? ctx->kc_pool->kp_n : 0;
}

static int
worker_new(struct krb_pool *kp, struct krb_worker *w)
{
	struct krb_ctx	*ctx = kp->kp_ctx;
	krb_err		 err;

	w->w_pool = kp;
	if ((err = krb5_init_context(&w->w_k)) != 0) {
		log_warnx("krb: worker krb5_init_context failed (%ld)",
		    (long)err);
		return -1;
	}
	if ((err = krb5_parse_name(w->w_k, ctx->kc_name, &w->w_princ)) != 0) {
		krb_log(ctx, err, "worker: %s", ctx->kc_name);
		return -1;
	}
	if ((errno = pthread_create(&w->w_thread, NULL, worker_main, w)) !=
	    0) {
		log_warn("krb: worker pthread_create");
		return -1;
	}
	w->w_started = 1;
	return 0;
}

int
krb_pool_start(struct krb_ctx *ctx, int n)
{
	struct krb_pool	*kp;
	int		 i;

	if (n > KRB_WORKERS_MAX)
		n = KRB_WORKERS_MAX;
	if ((kp = calloc(1, sizeof(*kp))) == NULL) {
		log_warnx("krb: out of memory");
		return -1;
	}
	ctx->kc_pool = kp;
	kp->kp_ctx = ctx;
	kp->kp_pipe[0] = kp->kp_pipe[1] = -1;
	TAILQ_INIT(&kp->kp_todo);
	TAILQ_INIT(&kp->kp_done);
	pthread_mutex_init(&kp->kp_mtx, NULL);
	pthread_cond_init(&kp->kp_cv, NULL);
	if (pipe2(kp->kp_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_warn("krb: worker pipe");
		return -1;
	}
	if ((kp->kp_ev = event_new(ctx->kc_base, kp->kp_pipe[0],
	    EV_READ | EV_PERSIST, pool_pipe_cb, kp)) == NULL ||
	    event_add(kp->kp_ev, NULL) == -1) {
		log_warnx("krb: worker event setup failed");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (worker_new(kp, &kp->kp_w[i]) == -1)
			return -1;
		kp->kp_n++;
	}
	log_info("krb: %d AP-REQ verification worker%s", n, n == 1 ? "" : "s");
	return 0;
}

void
krb_pool_stop(struct krb_ctx *ctx)
{
	struct krb_pool		*kp = ctx->kc_pool;
	struct krb_worker	*w;
	struct krb_vreq		*r;
	int			 i;

	if (kp == NULL)
		return;
	pthread_mutex_lock(&kp->kp_mtx);
	kp->kp_quit = 1;
	pthread_cond_broadcast(&kp->kp_cv);
	pthread_mutex_unlock(&kp->kp_mtx);
	for (i = 0; i < KRB_WORKERS_MAX; i++) {
		w = &kp->kp_w[i];
		if (w->w_started)
			pthread_join(w->w_thread, NULL);
		if (w->w_k == NULL)
			continue;
		if (w->w_kt != NULL)
			krb5_kt_close(w->w_k, w->w_kt);
		krb5_free_principal(w->w_k, w->w_princ);
		krb5_free_context(w->w_k);
	}
	while ((r = TAILQ_FIRST(&kp->kp_todo)) != NULL) {
		TAILQ_REMOVE(&kp->kp_todo, r, vr_entry);
		vreq_free(ctx, r);
	}
	while ((r = TAILQ_FIRST(&kp->kp_done)) != NULL) {
		TAILQ_REMOVE(&kp->kp_done, r, vr_entry);
		vreq_free(ctx, r);
	}
	if (kp->kp_ev != NULL)
		event_free(kp->kp_ev);
	for (i = 0; i < 2; i++)
		if (kp->kp_pipe[i] != -1)
			close(kp->kp_pipe[i]);
	pthread_mutex_destroy(&kp->kp_mtx);
	pthread_cond_destroy(&kp->kp_cv);
	free(kp);
	ctx->kc_pool = NULL;
}
