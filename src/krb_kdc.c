/*
 * The Kerberos context and its KDC worker thread (docs/arch/krb.md says
 * why a thread and not the step APIs).  The worker has its own
 * krb5_context (kc_wctx) and does every KDC exchange: the TGT from the
 * keytab, service tickets, U2U tickets.  Jobs go to it over a
 * mutex-protected queue; finished jobs come back on a second queue, and
 * one byte on a pipe wakes the loop, which runs the callbacks.  Every
 * request has a loop-side deadline.  Kept apart from krb.c because this
 * is the only threaded code in kinkd: everything here but the worker
 * functions (krb_w_*) runs on the loop.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "krb_int.h"
#include "krb_rcache.h"

#include <profile.h>

#define KRB_KDC_TIMEOUT_MS	30000
#define KRB_RENEW_MIN		30	/* s: earliest TGT refresh / retry */

static void	krb_job_free(struct krb_ctx *, struct krb_job *);
static void	krb_start_init(struct krb_ctx *);

/* ---- worker thread ------------------------------------------------- */

static void
krb_w_seterr(struct krb_ctx *ctx, struct krb_job *j, krb5_error_code err)
{
	const char *m;

	j->kj_err = err;
	if (err == 0 || j->kj_errmsg != NULL)
		return;
	m = krb5_get_error_message(ctx->kc_wctx, err);
	j->kj_errmsg = strdup(m != NULL ? m : "unknown error");
	krb5_free_error_message(ctx->kc_wctx, m);
}

/* Worker: TGT from the keytab into the MEMORY ccache. */
static krb5_error_code
krb_w_init(struct krb_ctx *ctx, krb5_creds **outp)
{
	krb5_context	k = ctx->kc_wctx;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_creds	creds;
	krb5_error_code	err;

	memset(&creds, 0, sizeof(creds));
	if ((err = krb5_get_init_creds_opt_alloc(k, &opt)) != 0)
		return err;
	if ((err = krb5_get_init_creds_keytab(k, &creds, ctx->kc_wprinc,
	    ctx->kc_wkeytab, 0, NULL, opt)) != 0)
		goto out;
	if ((err = krb5_cc_initialize(k, ctx->kc_wccache, ctx->kc_wprinc)) != 0 ||
	    (err = krb5_cc_store_cred(k, ctx->kc_wccache, &creds)) != 0)
		goto out;
	ctx->kc_wtgt_end = (time_t)(uint32_t)creds.times.endtime;
	if (outp != NULL)
		err = krb5_copy_creds(k, &creds, outp);
 out:
	krb5_free_cred_contents(k, &creds);
	krb5_get_init_creds_opt_free(k, opt);
	return err;
}

/* Worker: a service ticket (normal or user-to-user) from the TGS. */
static krb5_error_code
krb_w_ticket(struct krb_ctx *ctx, struct krb_job *j)
{
	krb5_context	k = ctx->kc_wctx;
	krb5_creds	in;
	krb5_flags	flags = KRB5_GC_NO_STORE;
	krb5_error_code	err;
	int		tries;

	memset(&in, 0, sizeof(in));
	in.client = ctx->kc_wprinc;
	if ((err = krb5_parse_name(k, j->kj_peer, &in.server)) != 0)
		return err;
	if (j->kj_type == KRB_JOB_U2U) {
		flags |= KRB5_GC_USER_USER;
		in.second_ticket = j->kj_tgt;
	}
	for (tries = 0; tries < 2; tries++) {
		if (ctx->kc_wtgt_end - time(NULL) < KRB_TKT_MARGIN_MIN &&
		    (err = krb_w_init(ctx, NULL)) != 0)
			break;
		err = krb5_get_credentials(k, flags, ctx->kc_wccache, &in,
		    &j->kj_out);
		if (err != KRB5KRB_AP_ERR_TKT_EXPIRED && err != KRB5_CC_NOTFOUND)
			break;
		ctx->kc_wtgt_end = 0;	/* TGT gone: refresh and retry once */
	}
	krb5_free_principal(k, in.server);
	return err;
}

static void *
krb_worker(void *arg)
{
	struct krb_ctx	*ctx = arg;
	struct krb_job	*j;
	char		 c = 1;

	pthread_mutex_lock(&ctx->kc_mtx);
	for (;;) {
		while (!ctx->kc_quit && TAILQ_EMPTY(&ctx->kc_jobq))
			pthread_cond_wait(&ctx->kc_cv, &ctx->kc_mtx);
		if (ctx->kc_quit)
			break;
		j = TAILQ_FIRST(&ctx->kc_jobq);
		TAILQ_REMOVE(&ctx->kc_jobq, j, kj_entry);
		j->kj_queued = 0;
		pthread_mutex_unlock(&ctx->kc_mtx);

		if (j->kj_type == KRB_JOB_INIT)
			krb_w_seterr(ctx, j, krb_w_init(ctx, &j->kj_out));
		else
			krb_w_seterr(ctx, j, krb_w_ticket(ctx, j));

		pthread_mutex_lock(&ctx->kc_mtx);
		TAILQ_INSERT_TAIL(&ctx->kc_doneq, j, kj_entry);
		/* A full pipe already means "look at the queue". */
		if (write(ctx->kc_pipe[1], &c, 1) == -1 && errno != EAGAIN)
			break;
	}
	pthread_mutex_unlock(&ctx->kc_mtx);
	return NULL;
}

static struct krb_job *
krb_job_new(enum krb_job_type type, const char *peer)
{
	struct krb_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->kj_type = type;
	if (peer != NULL && (j->kj_peer = strdup(peer)) == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

static void
krb_job_free(struct krb_ctx *ctx, struct krb_job *j)
{
	if (j == NULL)
		return;
	if (j->kj_out != NULL)
		krb5_free_creds(ctx->kc_ctx, j->kj_out);
	free(j->kj_tgt.data);
	free(j->kj_peer);
	free(j->kj_errmsg);
	free(j);
}

static void
krb_job_submit(struct krb_ctx *ctx, struct krb_job *j)
{
	pthread_mutex_lock(&ctx->kc_mtx);
	j->kj_queued = 1;
	TAILQ_INSERT_TAIL(&ctx->kc_jobq, j, kj_entry);
	pthread_cond_signal(&ctx->kc_cv);
	pthread_mutex_unlock(&ctx->kc_mtx);
}

/* Detach a request from its job; a still-queued job is dropped at once. */
static void
krb_job_abandon(struct krb_ctx *ctx, struct krb_job *j)
{
	int	queued;

	j->kj_req = NULL;
	pthread_mutex_lock(&ctx->kc_mtx);
	if ((queued = j->kj_queued))
		TAILQ_REMOVE(&ctx->kc_jobq, j, kj_entry);
	pthread_mutex_unlock(&ctx->kc_mtx);
	if (queued)
		krb_job_free(ctx, j);
}

/* ---- requests (loop thread) ---------------------------------------- */

static void
krb_req_free(struct krb_req *r)
{
	TAILQ_REMOVE(&r->kr_ctx->kc_reqs, r, kr_entry);
	if (r->kr_ev != NULL)
		event_free(r->kr_ev);
	if (r->kr_cached != NULL)
		krb_ticket_free(r->kr_cached);
	free(r->kr_peer);
	free(r);
}

void
krb_req_cancel(struct krb_req *r)
{
	if (r == NULL)
		return;
	if (r->kr_job != NULL)
		krb_job_abandon(r->kr_ctx, r->kr_job);
	krb_req_free(r);
}

static void
krb_req_finish(struct krb_req *r, krb_err err, struct krb_ticket *t)
{
	krb_ticket_cb	 cb = r->kr_cb;
	void		*arg = r->kr_arg;

	r->kr_job = NULL;
	krb_req_free(r);
	cb(err, t, arg);
}

static void
krb_req_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct krb_req		*r = arg;
	struct krb_ctx		*ctx = r->kr_ctx;
	struct krb_ticket	*t;

	if ((t = r->kr_cached) != NULL) {
		r->kr_cached = NULL;
		krb_req_finish(r, 0, t);
		return;
	}
	log_warnx("krb: ticket for %s: no answer from the KDC within %u ms",
	    r->kr_peer, ctx->kc_timeout_ms);
	if (r->kr_job != NULL)
		krb_job_abandon(ctx, r->kr_job);
	krb_req_finish(r, KRB5_KDC_UNREACH, NULL);
}

static struct krb_req *
krb_req_new(struct krb_ctx *ctx, const char *peer, int u2u, krb_ticket_cb cb,
    void *arg)
{
	struct krb_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->kr_peer = strdup(peer)) == NULL ||
	    (r->kr_ev = evtimer_new(ctx->kc_base, krb_req_timer, r)) == NULL) {
		free(r->kr_peer);
		free(r);
		return NULL;
	}
	r->kr_ctx = ctx;
	r->kr_cb = cb;
	r->kr_arg = arg;
	r->kr_u2u = u2u;
	TAILQ_INSERT_TAIL(&ctx->kc_reqs, r, kr_entry);
	return r;
}

static struct krb_req *
krb_req_start(struct krb_ctx *ctx, struct krb_req *r, struct krb_job *j)
{
	struct timeval	tv;

	tv.tv_sec = ctx->kc_timeout_ms / 1000;
	tv.tv_usec = (ctx->kc_timeout_ms % 1000) * 1000;
	j->kj_req = r;
	r->kr_job = j;
	evtimer_add(r->kr_ev, &tv);
	krb_job_submit(ctx, j);
	return r;
}

struct krb_req *
krb_get_ticket(struct krb_ctx *ctx, const char *peer, krb_ticket_cb cb,
    void *arg)
{
	struct krb_peer	*kp;
	struct krb_req	*r;
	struct krb_job	*j;
	struct timeval	 now = { 0, 0 };

	if ((kp = krb_peer_get(ctx, peer, 1)) == NULL ||
	    (r = krb_req_new(ctx, peer, 0, cb, arg)) == NULL) {
		log_warnx("krb: ticket for %s: out of memory", peer);
		return NULL;
	}
	if (kp->kp_ticket != NULL &&
	    krb_ticket_fresh(kp->kp_ticket, kp->kp_offset)) {
		/* Delivered from the loop, never from inside this call. */
		r->kr_cached = krb_ticket_ref(kp->kp_ticket);
		evtimer_add(r->kr_ev, &now);
		return r;
	}
	if ((j = krb_job_new(KRB_JOB_TKT, peer)) == NULL) {
		log_warnx("krb: ticket for %s: out of memory", peer);
		krb_req_free(r);
		return NULL;
	}
	return krb_req_start(ctx, r, j);
}

struct krb_req *
krb_get_ticket_u2u(struct krb_ctx *ctx, const char *peer, const uint8_t *tgt,
    size_t tgtlen, krb_ticket_cb cb, void *arg)
{
	struct krb_req	*r;
	struct krb_job	*j;

	if (tgtlen == 0 || tgtlen > BUF_MAX) {
		log_warnx("krb: u2u ticket for %s: bad TGT length %zu", peer,
		    tgtlen);
		return NULL;
	}
	if ((r = krb_req_new(ctx, peer, 1, cb, arg)) == NULL)
		goto nomem;
	if ((j = krb_job_new(KRB_JOB_U2U, peer)) == NULL ||
	    (j->kj_tgt.data = malloc(tgtlen)) == NULL) {
		krb_job_free(ctx, j);
		krb_req_free(r);
		goto nomem;
	}
	memcpy(j->kj_tgt.data, tgt, tgtlen);
	j->kj_tgt.length = tgtlen;
#ifndef KINK_HEIMDAL
	j->kj_tgt.magic = KV5M_DATA;
#endif
	return krb_req_start(ctx, r, j);
 nomem:
	log_warnx("krb: u2u ticket for %s: out of memory", peer);
	return NULL;
}

static void
krb_renew_timer(evutil_socket_t fd, short ev, void *arg)
{
	krb_start_init(arg);
}

static void
krb_start_init(struct krb_ctx *ctx)
{
	struct krb_job	*j;

	if (ctx->kc_init_pending)
		return;
	if ((j = krb_job_new(KRB_JOB_INIT, NULL)) == NULL) {
		struct timeval tv = { KRB_RENEW_MIN, 0 };

		log_warnx("krb: TGT refresh: out of memory");
		evtimer_add(ctx->kc_renew_ev, &tv);
		return;
	}
	ctx->kc_init_pending = 1;
	krb_job_submit(ctx, j);
}

static void
krb_init_done(struct krb_ctx *ctx, struct krb_job *j)
{
	struct timeval	tv = { KRB_RENEW_MIN, 0 };
	time_t		now = time(NULL), end;

	ctx->kc_init_pending = 0;
	if (j->kj_err != 0) {
		log_warnx("krb: TGT for %s from the keytab: %s (krb5 %ld, "
		    "rfc %d); retrying in %d s", ctx->kc_name, j->kj_errmsg,
		    (long)j->kj_err, krb_err_rfc(j->kj_err), KRB_RENEW_MIN);
	} else {
		if (ctx->kc_tgt != NULL)
			krb5_free_creds(ctx->kc_ctx, ctx->kc_tgt);
		ctx->kc_tgt = j->kj_out;
		j->kj_out = NULL;
		end = (time_t)(uint32_t)ctx->kc_tgt->times.endtime;
		/* Refresh at 80% of the remaining life. */
		if ((end - now) * 4 / 5 > KRB_RENEW_MIN)
			tv.tv_sec = (end - now) * 4 / 5;
		log_debug("krb: TGT for %s until %lld, refresh in %lld s",
		    ctx->kc_name, (long long)end, (long long)tv.tv_sec);
	}
	evtimer_add(ctx->kc_renew_ev, &tv);
}

static void
krb_tkt_done(struct krb_ctx *ctx, struct krb_job *j)
{
	struct krb_req		*r = j->kj_req;
	struct krb_ticket	*t = NULL;
	struct krb_peer		*kp;
	krb_err			 err = j->kj_err;

	if (r == NULL)
		return;		/* cancelled or timed out */
	if (err != 0)
		log_warnx("krb: %sticket for %s: %s (krb5 %ld, rfc %d)",
		    r->kr_u2u ? "u2u " : "", r->kr_peer, j->kj_errmsg,
		    (long)err, krb_err_rfc(err));
	else if ((t = krb_ticket_new(ctx, j->kj_out, r->kr_peer,
	    r->kr_u2u)) == NULL)
		err = ENOMEM;
	else {
		j->kj_out = NULL;
		if (!r->kr_u2u &&
		    (kp = krb_peer_get(ctx, r->kr_peer, 1)) != NULL) {
			if (kp->kp_ticket != NULL)
				krb_ticket_free(kp->kp_ticket);
			kp->kp_ticket = krb_ticket_ref(t);
		}
	}
	evtimer_del(r->kr_ev);
	krb_req_finish(r, err, t);
}

static void
krb_pipe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct krb_ctx	*ctx = arg;
	struct krb_jobq	 done;
	struct krb_job	*j;
	char		 drain[64];

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&ctx->kc_mtx);
	TAILQ_CONCAT(&done, &ctx->kc_doneq, kj_entry);
	pthread_mutex_unlock(&ctx->kc_mtx);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, kj_entry);
		if (j->kj_type == KRB_JOB_INIT)
			krb_init_done(ctx, j);
		else
			krb_tkt_done(ctx, j);
		krb_job_free(ctx, j);
	}
}

krb_err
krb_get_tgt(struct krb_ctx *ctx, struct buf *out)
{
	if (ctx->kc_tgt == NULL)
		return KRB5_CC_NOTFOUND;
	if (buf_put(out, ctx->kc_tgt->ticket.data,
	    ctx->kc_tgt->ticket.length) == -1)
		return ENOMEM;
	return 0;
}

/* ---- context ------------------------------------------------------- */

/* The library's clock skew (krb5.conf [libdefaults] clockskew), read
 * once: the replay cache must remember an authenticator as long as rd_req
 * could accept it.  MIT: through its profile; Heimdal keeps it in the
 * context. */
static uint32_t
krb_clockskew(krb5_context k)
{
#ifdef KINK_HEIMDAL
	time_t	skew = krb5_get_max_time_skew(k);

	return skew >= 0 ? (uint32_t)skew : 300;
#else
	profile_t	prof = NULL;
	int		skew = 300;

	if (krb5_get_profile(k, &prof) == 0) {
		if (profile_get_integer(prof, "libdefaults", "clockskew", NULL,
		    300, &skew) != 0 || skew < 0)
			skew = 300;
		profile_release(prof);
	}
	return (uint32_t)skew;
#endif
}

/*
 * The replay cache file: the path of `name` ("type:/path" or "/path"),
 * else of KRB5RCACHENAME, else kinkd_<euid>.rcache in KRB5RCACHEDIR or
 * /var/tmp.  Names without a path ("none:", "dfl:") fall through.
 */
static void
krb_rcache_path(const char *name, char *out, size_t len)
{
	const char	*dir, *c;

	if (name == NULL)
		name = getenv("KRB5RCACHENAME");
	if (name != NULL && (c = strchr(name, '/')) != NULL &&
	    (c == name || c[-1] == ':')) {
		snprintf(out, len, "%s", c);
		return;
	}
	if ((dir = getenv("KRB5RCACHEDIR")) == NULL || dir[0] == '\0')
		dir = "/var/tmp";
	snprintf(out, len, "%s/kinkd_%lu.rcache", dir, (unsigned long)geteuid());
}

/* Opened once, before any sandbox or privilege drop, and kept mapped. */
static int
krb_rcache_start(struct krb_ctx *ctx, const char *name)
{
	struct timeval	tv;
	char		path[1024], boot[64], why[1200];

	/* "none:" as MIT's: no replay check at all (test tools that
	 * open AP-REQs a daemon has already accepted). */
	if (name == NULL)
		name = getenv("KRB5RCACHENAME");
	if (name != NULL && strncmp(name, "none:", 5) == 0) {
		log_debug("krb: no replay cache (%s)", name);
		return 0;
	}
	krb_rcache_path(name, path, sizeof(path));
	krb_rc_bootid(boot, sizeof(boot));
	gettimeofday(&tv, NULL);
	if ((ctx->kc_rc = krb_rc_open(path, krb_clockskew(ctx->kc_ctx),
	    (int64_t)tv.tv_sec * 1000000 + tv.tv_usec, boot, why,
	    sizeof(why))) == NULL) {
		log_warnx("krb: replay cache: out of memory");
		return -1;
	}
	if (why[0] != '\0')
		log_info("krb: replay cache %s: %s; authenticators made before "
		    "now are refused for one clock-skew window", path, why);
	return 0;
}

struct krb_ctx *
krb_ctx_new(struct event_base *base, const char *principal,
    const char *keytab, const struct krb_ctx_opts *opts)
{
	struct krb_ctx	*ctx;
	char		 ccname[64], ktname[1024];
	krb_err		 err;
	const char	*what = "";

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		log_warnx("krb: out of memory");
		return NULL;
	}
	ctx->kc_base = base;
	ctx->kc_pipe[0] = ctx->kc_pipe[1] = -1;
	TAILQ_INIT(&ctx->kc_peers);
	TAILQ_INIT(&ctx->kc_reqs);
	TAILQ_INIT(&ctx->kc_jobq);
	TAILQ_INIT(&ctx->kc_doneq);
	pthread_mutex_init(&ctx->kc_mtx, NULL);
	pthread_cond_init(&ctx->kc_cv, NULL);
	pthread_mutex_init(&ctx->kc_ktmtx, NULL);
	pthread_mutex_init(&ctx->kc_rcmtx, NULL);
	ctx->kc_timeout_ms = opts != NULL && opts->ko_kdc_timeout_ms != 0 ?
	    opts->ko_kdc_timeout_ms : KRB_KDC_TIMEOUT_MS;

	if ((ctx->kc_name = strdup(principal)) == NULL)
		goto fail;
	if (strncmp(keytab, "FILE:", 5) == 0 || strncmp(keytab, "MEMORY:", 7) == 0)
		snprintf(ktname, sizeof(ktname), "%s", keytab);
	else if ((size_t)snprintf(ktname, sizeof(ktname), "FILE:%s", keytab) >=
	    sizeof(ktname)) {
		log_warnx("krb: keytab path too long");
		goto fail;
	}
	what = "init context";
	if ((err = krb5_init_context(&ctx->kc_ctx)) != 0 ||
	    (err = krb5_init_context(&ctx->kc_wctx)) != 0)
		goto fail_krb;
	what = principal;
	if ((err = krb5_parse_name(ctx->kc_ctx, principal, &ctx->kc_princ)) ||
	    (err = krb5_parse_name(ctx->kc_wctx, principal, &ctx->kc_wprinc)))
		goto fail_krb;
	what = ktname;
	if ((err = krb5_kt_resolve(ctx->kc_wctx, ktname, &ctx->kc_wkeytab)))
		goto fail_krb;
	if (krb_keytab_start(ctx, ktname) == -1 ||
	    krb_rcache_start(ctx, opts != NULL ? opts->ko_rcache : NULL) == -1)
		goto fail;
	snprintf(ccname, sizeof(ccname), "MEMORY:kinkd.%p", (void *)ctx);
	what = ccname;
	if ((err = krb5_cc_resolve(ctx->kc_wctx, ccname, &ctx->kc_wccache)))
		goto fail_krb;

	if (pipe2(ctx->kc_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_warn("krb: pipe");
		goto fail;
	}
	if ((ctx->kc_pipe_ev = event_new(base, ctx->kc_pipe[0],
	    EV_READ | EV_PERSIST, krb_pipe_cb, ctx)) == NULL ||
	    event_add(ctx->kc_pipe_ev, NULL) == -1 ||
	    (ctx->kc_renew_ev = evtimer_new(base, krb_renew_timer, ctx)) ==
	    NULL) {
		log_warnx("krb: event setup failed");
		goto fail;
	}
	if ((errno = pthread_create(&ctx->kc_thread, NULL, krb_worker,
	    ctx)) != 0) {
		log_warn("krb: pthread_create");
		goto fail;
	}
	ctx->kc_thread_ok = 1;
	if (opts != NULL && opts->ko_workers > 0 &&
	    krb_pool_start(ctx, opts->ko_workers) == -1)
		goto fail;
	krb_start_init(ctx);
	return ctx;

 fail_krb:
	if (ctx->kc_ctx != NULL)
		krb_log(ctx, err, "%s", what);
	else
		log_warnx("krb: krb5_init_context failed (%ld)", (long)err);
 fail:
	krb_ctx_free(ctx);
	return NULL;
}

void
krb_ctx_free(struct krb_ctx *ctx)
{
	struct krb_req	*r;
	struct krb_peer	*kp;
	struct krb_job	*j;

	if (ctx == NULL)
		return;
	while ((r = TAILQ_FIRST(&ctx->kc_reqs)) != NULL)
		krb_req_cancel(r);
	krb_pool_stop(ctx);
	if (ctx->kc_thread_ok) {
		pthread_mutex_lock(&ctx->kc_mtx);
		ctx->kc_quit = 1;
		pthread_cond_signal(&ctx->kc_cv);
		pthread_mutex_unlock(&ctx->kc_mtx);
		pthread_join(ctx->kc_thread, NULL);
	}
	while ((j = TAILQ_FIRST(&ctx->kc_jobq)) != NULL) {
		TAILQ_REMOVE(&ctx->kc_jobq, j, kj_entry);
		krb_job_free(ctx, j);
	}
	while ((j = TAILQ_FIRST(&ctx->kc_doneq)) != NULL) {
		TAILQ_REMOVE(&ctx->kc_doneq, j, kj_entry);
		krb_job_free(ctx, j);
	}
	while ((kp = TAILQ_FIRST(&ctx->kc_peers)) != NULL) {
		TAILQ_REMOVE(&ctx->kc_peers, kp, kp_entry);
		krb_ticket_free(kp->kp_ticket);
		free(kp->kp_name);
		free(kp);
	}
	if (ctx->kc_pipe_ev != NULL)
		event_free(ctx->kc_pipe_ev);
	if (ctx->kc_renew_ev != NULL)
		event_free(ctx->kc_renew_ev);
	if (ctx->kc_pipe[0] != -1)
		close(ctx->kc_pipe[0]);
	if (ctx->kc_pipe[1] != -1)
		close(ctx->kc_pipe[1]);
	if (ctx->kc_wctx != NULL) {
		if (ctx->kc_wccache != NULL)
			krb5_cc_destroy(ctx->kc_wctx, ctx->kc_wccache);
		if (ctx->kc_wkeytab != NULL)
			krb5_kt_close(ctx->kc_wctx, ctx->kc_wkeytab);
		krb5_free_principal(ctx->kc_wctx, ctx->kc_wprinc);
		krb5_free_context(ctx->kc_wctx);
	}
	if (ctx->kc_ctx != NULL) {
		if (ctx->kc_tgt != NULL)
			krb5_free_creds(ctx->kc_ctx, ctx->kc_tgt);
		krb_keytab_stop(ctx);
		krb5_free_principal(ctx->kc_ctx, ctx->kc_princ);
		if (ctx->kc_errstr != NULL)
			krb5_free_error_message(ctx->kc_ctx, ctx->kc_errstr);
		krb5_free_context(ctx->kc_ctx);
	}
	krb_rc_close(ctx->kc_rc);
	pthread_mutex_destroy(&ctx->kc_mtx);
	pthread_cond_destroy(&ctx->kc_cv);
	pthread_mutex_destroy(&ctx->kc_ktmtx);
	pthread_mutex_destroy(&ctx->kc_rcmtx);
	free(ctx->kc_name);
	free(ctx);
}
