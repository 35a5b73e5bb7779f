/*
 * The Kerberos layer on MIT libkrb5's public API (see krb.h for the
 * contract and docs/arch/krb.md for the choices).  The only file that
 * includes <krb5.h>.
 *
 * Two krb5_contexts: kc_ctx belongs to the event-loop thread and does the
 * local work (AP-REQ/AP-REP, KRB-ERROR, checksums, encryption, PRF; none of
 * it talks to the network), kc_wctx belongs to the worker thread and does
 * every KDC exchange.  Jobs go to the worker over a mutex-protected queue;
 * finished jobs come back through a pipe watched by the loop.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <krb5.h>

#include "buf.h"
#include "log.h"
#include "krb.h"
#include "krb_prf.h"

#define KRB_KDC_TIMEOUT_MS	30000
#define KRB_RENEW_MIN		30	/* s: earliest TGT refresh / retry */
#define KRB_TKT_MARGIN_MIN	60	/* s: least life left to reuse a ticket */

enum krb_job_type { KRB_JOB_INIT, KRB_JOB_TKT, KRB_JOB_U2U };

struct krb_job {
	TAILQ_ENTRY(krb_job)	 kj_entry;
	enum krb_job_type	 kj_type;
	int			 kj_queued;	/* still in kc_jobq (lock) */
	/* Input, read by the worker. */
	char			*kj_peer;
	krb5_data		 kj_tgt;	/* U2U: peer's DER TGT */
	/* Output, written by the worker. */
	krb5_error_code		 kj_err;
	krb5_creds		*kj_out;
	char			*kj_errmsg;
	/* Loop-thread side only. */
	struct krb_req		*kj_req;	/* NULL once abandoned */
};
TAILQ_HEAD(krb_jobq, krb_job);

struct krb_req {
	TAILQ_ENTRY(krb_req)	 kr_entry;
	struct krb_ctx		*kr_ctx;
	krb_ticket_cb		 kr_cb;
	void			*kr_arg;
	struct event		*kr_ev;		/* timeout, or cached delivery */
	struct krb_job		*kr_job;	/* NULL for cached delivery */
	struct krb_ticket	*kr_cached;
	char			*kr_peer;
	int			 kr_u2u;
};

struct krb_ticket {
	int			 kt_refs;
	struct krb_ctx		*kt_ctx;
	krb5_creds		*kt_creds;
	char			*kt_peer;
	int			 kt_u2u;
};

struct krb_peer {
	TAILQ_ENTRY(krb_peer)	 kp_entry;
	char			*kp_name;
	int32_t			 kp_offset;	/* s added to our clock */
	struct krb_ticket	*kp_ticket;	/* cached service ticket */
};

struct krb_key {
	krb5_context		 kk_ctx;
	krb5_keyblock		 kk_kb;
	krb5_cksumtype		 kk_cksumtype;	/* 0 until first needed */
};

struct krb_ctx {
	struct event_base	*kc_base;
	krb5_context		 kc_ctx;	/* loop thread */
	krb5_context		 kc_wctx;	/* worker thread */
	char			*kc_name;
	krb5_principal		 kc_princ;	/* in kc_ctx */
	krb5_principal		 kc_wprinc;	/* in kc_wctx */
	krb5_keytab		 kc_keytab;	/* in kc_ctx: rd_req */
	krb5_keytab		 kc_wkeytab;	/* in kc_wctx: init creds */
	krb5_ccache		 kc_wccache;	/* MEMORY, worker only */
	time_t			 kc_wtgt_end;	/* worker only */
	unsigned int		 kc_timeout_ms;
	const char		*kc_errstr;

	krb5_creds		*kc_tgt;	/* last TGT from the worker */
	int			 kc_init_pending;
	struct event		*kc_renew_ev;

	TAILQ_HEAD(, krb_peer)	 kc_peers;
	TAILQ_HEAD(, krb_req)	 kc_reqs;

	pthread_t		 kc_thread;
	int			 kc_thread_ok;
	pthread_mutex_t		 kc_mtx;
	pthread_cond_t		 kc_cv;
	struct krb_jobq		 kc_jobq, kc_doneq;
	int			 kc_quit;
	int			 kc_pipe[2];
	struct event		*kc_pipe_ev;
};

struct krb_client {
	struct krb_ctx		*cl_ctx;
	struct krb_ticket	*cl_tkt;
	struct krb_key		*cl_key;
	krb5_auth_context	 cl_ac[KRB_CLIENT_MAX_AUTH];
	/* Each authenticator's ctime lies in [lo, hi] (microseconds). */
	int64_t			 cl_tlo[KRB_CLIENT_MAX_AUTH];
	int64_t			 cl_thi[KRB_CLIENT_MAX_AUTH];
	size_t			 cl_nac;
};

struct krb_acceptor {
	struct krb_ctx		*ac_ctx;
	krb5_auth_context	 ac_ac;
	struct krb_key		*ac_key;
	char			*ac_client;
	krb5_principal		 ac_cprinc;
	int			 ac_has_ctime;
	krb5_timestamp		 ac_ctime;
	krb5_int32		 ac_cusec;
};

static void	krb_job_free(struct krb_ctx *, struct krb_job *);
static void	krb_start_init(struct krb_ctx *);

/* ---- errors -------------------------------------------------------- */

const char *
krb_err_str(struct krb_ctx *ctx, krb_err err)
{
	if (ctx->kc_errstr != NULL)
		krb5_free_error_message(ctx->kc_ctx, ctx->kc_errstr);
	ctx->kc_errstr = krb5_get_error_message(ctx->kc_ctx, err);
	return ctx->kc_errstr != NULL ? ctx->kc_errstr : "unknown error";
}

/* The one place that turns a libkrb5 failure into a log line. */
static void __attribute__((format(printf, 3, 4)))
krb_log(struct krb_ctx *ctx, krb_err err, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("krb: %s: %s (krb5 %ld, rfc %d)", msg, krb_err_str(ctx, err),
	    (long)err, krb_err_rfc(err));
}

int
krb_err_rfc(krb_err err)
{
	if (err == 0)
		return 0;
	if (err > ERROR_TABLE_BASE_krb5 && err <= ERROR_TABLE_BASE_krb5 + 127)
		return (int)(err - ERROR_TABLE_BASE_krb5);
	switch (err) {
	case KRB5KRB_AP_WRONG_PRINC:
		return KRB_AP_ERR_NOT_US;
	case KRB5_KT_KVNONOTFOUND:
		return KRB_AP_ERR_BADKEYVER;
	case KRB5_KT_NOTFOUND:
	case KRB5_KT_END:
	case ENOENT:
	case EACCES:
		return KRB_AP_ERR_NOKEY;
	case KRB5_MUTUAL_FAILED:
		return KRB_AP_ERR_MUT_FAIL;
	case KRB5_RC_REPLAY:
		return KRB_AP_ERR_REPEAT;
	default:
		return KRB_ERR_GENERIC;
	}
}

/* ---- keys ---------------------------------------------------------- */

static struct krb_key *
krb_key_new_raw(krb5_context kctx, int enctype, const uint8_t *p, size_t len)
{
	struct krb_key	*k;

	if (len == 0 || len > 256 || (k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->kk_kb.contents = malloc(len)) == NULL) {
		free(k);
		return NULL;
	}
	memcpy(k->kk_kb.contents, p, len);
	k->kk_kb.length = len;
	k->kk_kb.enctype = enctype;
	k->kk_kb.magic = KV5M_KEYBLOCK;
	k->kk_ctx = kctx;
	return k;
}

struct krb_key *
krb_key_new(struct krb_ctx *ctx, int enctype, const uint8_t *p, size_t len)
{
	if (!krb5_c_valid_enctype(enctype))
		return NULL;
	return krb_key_new_raw(ctx->kc_ctx, enctype, p, len);
}

static struct krb_key *
krb_key_from_kb(krb5_context kctx, const krb5_keyblock *kb)
{
	return krb_key_new_raw(kctx, kb->enctype, kb->contents, kb->length);
}

struct krb_key *
krb_key_dup(const struct krb_key *k)
{
	return krb_key_from_kb(k->kk_ctx, &k->kk_kb);
}

void
krb_key_free(struct krb_key *k)
{
	if (k == NULL)
		return;
	freezero(k->kk_kb.contents, k->kk_kb.length);
	freezero(k, sizeof(*k));
}

int
krb_key_enctype(const struct krb_key *k)
{
	return k->kk_kb.enctype;
}

/*
 * The enctype's mandatory checksum type, learned by asking libkrb5 for a
 * checksum with type 0 (krb5.h: "0 = mandatory-to-implement for the key's
 * enctype").  RFC 4430 requires a keyed one.
 */
static krb_err
krb_key_cksumtype(struct krb_key *k)
{
	krb5_checksum	cs;
	krb5_data	empty = { KV5M_DATA, 0, NULL };
	krb_err		err;

	if (k->kk_cksumtype != 0)
		return 0;
	memset(&cs, 0, sizeof(cs));
	if ((err = krb5_c_make_checksum(k->kk_ctx, 0, &k->kk_kb,
	    KRB_USAGE_KINK_CKSUM, &empty, &cs)) != 0)
		return err;
	k->kk_cksumtype = cs.checksum_type;
	krb5_free_checksum_contents(k->kk_ctx, &cs);
	if (!krb5_c_is_keyed_cksum(k->kk_cksumtype)) {
		k->kk_cksumtype = 0;
		return KRB5_BAD_ENCTYPE;
	}
	return 0;
}

krb_err
krb_cksum_len(struct krb_key *k, size_t *len)
{
	krb_err	err;

	if ((err = krb_key_cksumtype(k)) != 0)
		return err;
	return krb5_c_checksum_length(k->kk_ctx, k->kk_cksumtype, len);
}

krb_err
krb_cksum_make(struct krb_key *k, const uint8_t *p, size_t len,
    struct buf *out)
{
	krb5_checksum	cs;
	krb5_data	in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_key_cksumtype(k)) != 0)
		return err;
	memset(&cs, 0, sizeof(cs));
	if ((err = krb5_c_make_checksum(k->kk_ctx, k->kk_cksumtype, &k->kk_kb,
	    KRB_USAGE_KINK_CKSUM, &in, &cs)) != 0)
		return err;
	if (buf_put(out, cs.contents, cs.length) == -1)
		err = ENOMEM;
	krb5_free_checksum_contents(k->kk_ctx, &cs);
	return err;
}

krb_err
krb_cksum_verify(struct krb_key *k, const uint8_t *p, size_t len,
    const uint8_t *cksum, size_t cksumlen)
{
	krb5_checksum	cs;
	krb5_data	in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb5_boolean	valid = 0;
	size_t		want;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_cksum_len(k, &want)) != 0)
		return err;
	if (cksumlen != want)
		return KRB5KRB_AP_ERR_BAD_INTEGRITY;
	memset(&cs, 0, sizeof(cs));
	cs.magic = KV5M_CHECKSUM;
	cs.checksum_type = k->kk_cksumtype;
	cs.length = cksumlen;
	cs.contents = (krb5_octet *)cksum;
	if ((err = krb5_c_verify_checksum(k->kk_ctx, &k->kk_kb,
	    KRB_USAGE_KINK_CKSUM, &in, &cs, &valid)) != 0)
		return err;
	return valid ? 0 : KRB5KRB_AP_ERR_BAD_INTEGRITY;
}

krb_err
krb_encrypt_len(struct krb_key *k, size_t inlen, size_t *outlen)
{
	return krb5_c_encrypt_length(k->kk_ctx, k->kk_kb.enctype, inlen, outlen);
}

krb_err
krb_encrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_data	in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb5_enc_data	enc;
	size_t		clen;
	krb_err		err;

	if (len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb_encrypt_len(k, len, &clen)) != 0)
		return err;
	memset(&enc, 0, sizeof(enc));
	if ((enc.ciphertext.data = malloc(clen)) == NULL)
		return ENOMEM;
	enc.ciphertext.length = clen;
	if ((err = krb5_c_encrypt(k->kk_ctx, &k->kk_kb, KRB_USAGE_KINK_ENCRYPT,
	    NULL, &in, &enc)) == 0 &&
	    buf_put(out, enc.ciphertext.data, enc.ciphertext.length) == -1)
		err = ENOMEM;
	free(enc.ciphertext.data);
	return err;
}

krb_err
krb_decrypt(struct krb_key *k, const uint8_t *p, size_t len, struct buf *out)
{
	krb5_enc_data	enc;
	krb5_data	plain;
	size_t		cap;
	krb_err		err;

	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	memset(&enc, 0, sizeof(enc));
	enc.magic = KV5M_ENC_DATA;
	enc.enctype = k->kk_kb.enctype;
	enc.ciphertext.length = len;
	enc.ciphertext.data = (char *)p;
	cap = len;
	plain.magic = KV5M_DATA;
	plain.length = cap;
	if ((plain.data = malloc(cap)) == NULL)
		return ENOMEM;
	if ((err = krb5_c_decrypt(k->kk_ctx, &k->kk_kb, KRB_USAGE_KINK_ENCRYPT,
	    NULL, &enc, &plain)) == 0 &&
	    buf_put(out, plain.data, plain.length) == -1)
		err = ENOMEM;
	freezero(plain.data, cap);
	return err;
}

int
krb_prf(struct krb_key *k, enum krb_prf_kind kind, const uint8_t *p,
    size_t len, uint8_t *out, size_t *outlen)
{
	krb5_data	in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb5_data	o;
	size_t		plen;
	int		et = k->kk_kb.enctype;

	if (len > BUF_MAX)
		return -1;
	if (kind == KRB_PRF_RFC3961) {
		if (krb_prf_rfc3961(et, k->kk_kb.contents, k->kk_kb.length,
		    p, len, out, outlen) == 0)
			return 0;
		/* krb_prf.c covers des3/aes-sha1; for the rest MIT follows
		 * the enctype's own RFC, so krb5_c_prf is the RFC function. */
		if (et == ENCTYPE_DES3_CBC_SHA1 ||
		    et == ENCTYPE_AES128_CTS_HMAC_SHA1_96 ||
		    et == ENCTYPE_AES256_CTS_HMAC_SHA1_96)
			return -1;
	}
	if (krb5_c_prf_length(k->kk_ctx, et, &plen) != 0 || plen > KRB_PRF_MAX)
		return -1;
	o.magic = KV5M_DATA;
	o.length = plen;
	o.data = (char *)out;
	if (krb5_c_prf(k->kk_ctx, &k->kk_kb, &in, &o) != 0)
		return -1;
	*outlen = plen;
	return 0;
}

/* ---- principal names ----------------------------------------------- */

int
krb_host_principal(const char *fqdn, const char *realm, char *out,
    size_t outsz)
{
	krb5_context	kctx = NULL;
	char		*def = NULL, *p;
	int		n, rc = -1;

	if (realm == NULL) {
		if (krb5_init_context(&kctx) != 0)
			return -1;
		if (krb5_get_default_realm(kctx, &def) != 0)
			goto out;
		realm = def;
	}
	n = snprintf(out, outsz, "kink/%s@%s", fqdn, realm);
	if (n < 0 || (size_t)n >= outsz)
		goto out;
	for (p = out + 5; *p != '\0' && *p != '@'; p++)
		*p = (char)tolower((unsigned char)*p);
	rc = 0;
 out:
	if (def != NULL)
		krb5_free_default_realm(kctx, def);
	if (kctx != NULL)
		krb5_free_context(kctx);
	return rc;
}

const char *
krb_ctx_principal(const struct krb_ctx *ctx)
{
	return ctx->kc_name;
}

/* ---- peers --------------------------------------------------------- */

static struct krb_peer *
krb_peer_get(struct krb_ctx *ctx, const char *name, int create)
{
	struct krb_peer	*kp;

	TAILQ_FOREACH(kp, &ctx->kc_peers, kp_entry)
		if (strcmp(kp->kp_name, name) == 0)
			return kp;
	if (!create || (kp = calloc(1, sizeof(*kp))) == NULL)
		return NULL;
	if ((kp->kp_name = strdup(name)) == NULL) {
		free(kp);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ctx->kc_peers, kp, kp_entry);
	return kp;
}

int
krb_peer_offset(struct krb_ctx *ctx, const char *peer, int32_t *off)
{
	struct krb_peer	*kp = krb_peer_get(ctx, peer, 0);

	*off = kp != NULL ? kp->kp_offset : 0;
	return 0;
}

int
krb_peer_set_offset(struct krb_ctx *ctx, const char *peer, int32_t off)
{
	struct krb_peer	*kp;

	if ((kp = krb_peer_get(ctx, peer, 1)) == NULL)
		return -1;
	kp->kp_offset = off;
	return 0;
}

/* ---- tickets ------------------------------------------------------- */

static struct krb_ticket *
krb_ticket_new(struct krb_ctx *ctx, krb5_creds *creds, const char *peer,
    int u2u)
{
	struct krb_ticket *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->kt_peer = strdup(peer)) == NULL) {
		free(t);
		return NULL;
	}
	t->kt_refs = 1;
	t->kt_ctx = ctx;
	t->kt_creds = creds;
	t->kt_u2u = u2u;
	return t;
}

struct krb_ticket *
krb_ticket_ref(struct krb_ticket *t)
{
	t->kt_refs++;
	return t;
}

void
krb_ticket_free(struct krb_ticket *t)
{
	if (t == NULL || --t->kt_refs > 0)
		return;
	/* krb5_free_creds zeroes the session key before freeing it. */
	krb5_free_creds(t->kt_ctx->kc_ctx, t->kt_creds);
	free(t->kt_peer);
	free(t);
}

time_t
krb_ticket_endtime(const struct krb_ticket *t)
{
	return (time_t)(uint32_t)t->kt_creds->times.endtime;
}

int
krb_ticket_is_u2u(const struct krb_ticket *t)
{
	return t->kt_u2u;
}

static int
krb_ticket_fresh(const struct krb_ticket *t, int32_t offset)
{
	/* On the peer's clock as we know it: it checks the end, not us. */
	time_t	now = time(NULL) + offset, end = krb_ticket_endtime(t);
	time_t	start = (time_t)(uint32_t)t->kt_creds->times.starttime;
	time_t	margin = (end - start) / 10;

	if (margin < KRB_TKT_MARGIN_MIN)
		margin = KRB_TKT_MARGIN_MIN;
	return end - now > margin;
}

void
krb_ticket_forget(struct krb_ctx *ctx, const char *peer)
{
	struct krb_peer	*kp = krb_peer_get(ctx, peer, 0);

	if (kp != NULL && kp->kp_ticket != NULL) {
		krb_ticket_free(kp->kp_ticket);
		kp->kp_ticket = NULL;
	}
}

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
	j->kj_tgt.magic = KV5M_DATA;
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
	ctx->kc_timeout_ms = opts != NULL && opts->ko_kdc_timeout_ms != 0 ?
	    opts->ko_kdc_timeout_ms : KRB_KDC_TIMEOUT_MS;

	/* MIT picks the replay cache from the environment or krb5.conf at
	 * each krb5_rd_req; set it before any thread exists. */
	if (opts != NULL && opts->ko_rcache != NULL &&
	    setenv("KRB5RCACHENAME", opts->ko_rcache, 1) == -1) {
		log_warn("krb: setenv KRB5RCACHENAME");
		goto fail;
	}
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
	if ((err = krb5_kt_resolve(ctx->kc_ctx, ktname, &ctx->kc_keytab)) ||
	    (err = krb5_kt_resolve(ctx->kc_wctx, ktname, &ctx->kc_wkeytab)))
		goto fail_krb;
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
		if (ctx->kc_keytab != NULL)
			krb5_kt_close(ctx->kc_ctx, ctx->kc_keytab);
		krb5_free_principal(ctx->kc_ctx, ctx->kc_princ);
		if (ctx->kc_errstr != NULL)
			krb5_free_error_message(ctx->kc_ctx, ctx->kc_errstr);
		krb5_free_context(ctx->kc_ctx);
	}
	pthread_mutex_destroy(&ctx->kc_mtx);
	pthread_cond_destroy(&ctx->kc_cv);
	free(ctx->kc_name);
	free(ctx);
}

/* ---- initiator ----------------------------------------------------- */

struct krb_client *
krb_client_new(struct krb_ctx *ctx, struct krb_ticket *t)
{
	struct krb_client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->cl_ctx = ctx;
	/* The ticket's session key: KINK ignores subkeys (RFC 4430 7). */
	if ((cl->cl_key = krb_key_from_kb(ctx->kc_ctx,
	    &t->kt_creds->keyblock)) == NULL) {
		free(cl);
		return NULL;
	}
	cl->cl_tkt = krb_ticket_ref(t);
	return cl;
}

void
krb_client_free(struct krb_client *cl)
{
	size_t	i;

	if (cl == NULL)
		return;
	for (i = 0; i < cl->cl_nac; i++)
		krb5_auth_con_free(cl->cl_ctx->kc_ctx, cl->cl_ac[i]);
	krb_key_free(cl->cl_key);
	krb_ticket_free(cl->cl_tkt);
	free(cl);
}

struct krb_key *
krb_client_key(struct krb_client *cl)
{
	return cl->cl_key;
}

/*
 * MIT keeps one time offset per krb5_context.  The loop is single-threaded
 * and mk_req does no I/O, so the peer's offset is installed just around
 * the call and removed afterwards (docs/arch/krb.md).
 */
static void
krb_clock_set(krb5_context k, int32_t off)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	krb5_set_real_time(k, (krb5_timestamp)(tv.tv_sec + off),
	    (krb5_int32)tv.tv_usec);
}

/* krb5_us_timeofday in microseconds (includes any offset set on k). */
static int64_t
krb_now_us(krb5_context k)
{
	krb5_timestamp	sec = 0;
	krb5_int32	usec = 0;

	krb5_us_timeofday(k, &sec, &usec);
	return (int64_t)(uint32_t)sec * 1000000 + usec;
}

/*
 * MIT keeps the client's authenticator in the auth context but with the
 * client principal cleared, so krb5_auth_con_getauthenticator cannot copy
 * it on the initiator side.  Instead the window [lo, hi] read from the same
 * (monotonic, offset-adjusted) clock around krb5_mk_req_extended brackets
 * the ctime/cusec that went into the authenticator.
 */
krb_err
krb_client_mk_req(struct krb_client *cl, struct buf *out)
{
	struct krb_ctx		*ctx = cl->cl_ctx;
	krb5_context		 k = ctx->kc_ctx;
	krb5_auth_context	 ac = NULL;
	krb5_data		 req = { KV5M_DATA, 0, NULL };
	krb5_flags		 opts = AP_OPTS_MUTUAL_REQUIRED;
	int32_t			 off = 0;
	int64_t			 lo, hi;
	krb_err			 err;

	krb_peer_offset(ctx, cl->cl_tkt->kt_peer, &off);
	if (cl->cl_tkt->kt_u2u)
		opts |= AP_OPTS_USE_SESSION_KEY;
	if (off != 0)
		krb_clock_set(k, off);
	lo = krb_now_us(k);
	err = krb5_mk_req_extended(k, &ac, opts, NULL, cl->cl_tkt->kt_creds,
	    &req);
	hi = krb_now_us(k);
	if (off != 0)
		krb_clock_set(k, 0);
	if (err != 0) {
		krb_log(ctx, err, "AP-REQ for %s", cl->cl_tkt->kt_peer);
		goto out;
	}
	if (buf_put(out, req.data, req.length) == -1) {
		log_warnx("krb: AP-REQ for %s: buffer full", cl->cl_tkt->kt_peer);
		err = ENOMEM;
		goto out;
	}
	if (cl->cl_nac == KRB_CLIENT_MAX_AUTH) {
		krb5_auth_con_free(k, cl->cl_ac[0]);
		memmove(&cl->cl_ac[0], &cl->cl_ac[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_ac[0]));
		memmove(&cl->cl_tlo[0], &cl->cl_tlo[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_tlo[0]));
		memmove(&cl->cl_thi[0], &cl->cl_thi[1],
		    (KRB_CLIENT_MAX_AUTH - 1) * sizeof(cl->cl_thi[0]));
		cl->cl_nac--;
	}
	cl->cl_ac[cl->cl_nac] = ac;
	cl->cl_tlo[cl->cl_nac] = lo;
	cl->cl_thi[cl->cl_nac] = hi;
	cl->cl_nac++;
	ac = NULL;
 out:
	if (ac != NULL)
		krb5_auth_con_free(k, ac);
	krb5_free_data_contents(k, &req);
	return err;
}

krb_err
krb_client_rd_rep(struct krb_client *cl, const uint8_t *p, size_t len)
{
	krb5_context		 k = cl->cl_ctx->kc_ctx;
	krb5_data		 in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb5_ap_rep_enc_part	*repl = NULL;
	krb_err			 err = KRB5_MUTUAL_FAILED, e;
	size_t			 i;

	if (len == 0 || len > BUF_MAX) {
		err = KRB5_BAD_MSIZE;
		goto out;
	}
	/* Newest first: a REPLY usually answers the latest retransmission. */
	for (i = cl->cl_nac; i-- > 0;) {
		e = krb5_rd_rep(k, cl->cl_ac[i], &in, &repl);
		if (e == 0) {
			krb5_free_ap_rep_enc_part(k, repl);
			return 0;
		}
		/* A mismatch of one authenticator says nothing; anything
		 * else (garbage, wrong key) is the same for all of them. */
		if (e != KRB5_MUTUAL_FAILED) {
			err = e;
			break;
		}
	}
 out:
	krb_log(cl->cl_ctx, err, "AP-REP from %s", cl->cl_tkt->kt_peer);
	return err;
}

int
krb_client_skew(struct krb_client *cl, const struct krb_error_info *ei,
    int protected)
{
	struct krb_ctx	*ctx = cl->cl_ctx;
	const char	*peer = cl->cl_tkt->kt_peer;
	int32_t		 off = 0;
	int64_t		 t;
	size_t		 i;

	if (ei->ke_code != KRB_AP_ERR_SKEW)
		return 0;
	if (!protected) {
		log_info("krb: unprotected clock-skew error from %s ignored",
		    peer);
		return 0;
	}
	if (!ei->ke_has_ctime)
		goto notours;
	t = (int64_t)ei->ke_ctime * 1000000 + ei->ke_cusec;
	for (i = 0; i < cl->cl_nac; i++)
		if (t >= cl->cl_tlo[i] && t <= cl->cl_thi[i])
			break;
	if (i == cl->cl_nac)
		goto notours;
	/* Our ctime already carried the old offset. */
	krb_peer_offset(ctx, peer, &off);
	off += (int32_t)(ei->ke_stime - ei->ke_ctime);
	if (krb_peer_set_offset(ctx, peer, off) == -1)
		return 0;
	log_info("krb: clock offset for %s now %ld s", peer, (long)off);
	return 1;
 notours:
	log_info("krb: clock-skew error from %s does not reflect our "
	    "authenticator; ignored", peer);
	return 0;
}

/* ---- responder ----------------------------------------------------- */

void
krb_acceptor_free(struct krb_acceptor *a)
{
	if (a == NULL)
		return;
	if (a->ac_ac != NULL)
		krb5_auth_con_free(a->ac_ctx->kc_ctx, a->ac_ac);
	krb5_free_principal(a->ac_ctx->kc_ctx, a->ac_cprinc);
	krb_key_free(a->ac_key);
	free(a->ac_client);
	free(a);
}

struct krb_key *
krb_acceptor_key(struct krb_acceptor *a)
{
	return a->ac_key;
}

const char *
krb_acceptor_client(const struct krb_acceptor *a)
{
	return a->ac_client;
}

int
krb_acceptor_ctime(const struct krb_acceptor *a, time_t *sec, int32_t *usec)
{
	if (!a->ac_has_ctime)
		return -1;
	*sec = (time_t)(uint32_t)a->ac_ctime;
	*usec = a->ac_cusec;
	return 0;
}

/* Outcomes of krb5_rd_req that come after the authenticator was
 * decrypted (RFC 4120 3.2.3 order: ticket, authenticator, then checks). */
static int
krb_rd_req_has_auth(krb_err err)
{
	switch (err) {
	case 0:
	case KRB5KRB_AP_ERR_SKEW:
	case KRB5KRB_AP_ERR_REPEAT:
	case KRB5KRB_AP_ERR_TKT_EXPIRED:
	case KRB5KRB_AP_ERR_TKT_NYV:
		return 1;
	default:
		return 0;
	}
}

/* One krb5_rd_req attempt; `kb` non-NULL = user-to-user with that key. */
static krb_err
krb_rd_req_one(struct krb_ctx *ctx, const krb5_data *in,
    const krb5_keyblock *kb, int norcache, struct krb_acceptor *a)
{
	krb5_context		 k = ctx->kc_ctx;
	krb5_ticket		*tkt = NULL;
	krb5_authenticator	*auth = NULL;
	krb5_keyblock		*key = NULL;
	krb5_flags		 apopts = 0;
	krb_err			 err;

	if ((err = krb5_auth_con_init(k, &a->ac_ac)) != 0)
		return err;
	/* Without DO_TIME rd_req opens no replay cache. */
	if (norcache && (err = krb5_auth_con_setflags(k, a->ac_ac, 0)) != 0)
		return err;
	if (kb != NULL &&
	    (err = krb5_auth_con_setuseruserkey(k, a->ac_ac,
	    (krb5_keyblock *)kb)) != 0)
		return err;
	err = krb5_rd_req(k, &a->ac_ac, in, ctx->kc_princ,
	    kb != NULL ? NULL : ctx->kc_keytab, &apopts, &tkt);
	/* Even a failed rd_req may leave the session key and the
	 * authenticator (skew, replay): keep them for the KRB_ERROR. */
	if (krb5_auth_con_getkey(k, a->ac_ac, &key) == 0 && key != NULL) {
		a->ac_key = krb_key_from_kb(k, key);
		krb5_free_keyblock(k, key);
	}
	/* MIT's getauthenticator copies without a NULL check: ask only when
	 * rd_req got as far as decrypting the authenticator. */
	if (krb_rd_req_has_auth(err) &&
	    krb5_auth_con_getauthenticator(k, a->ac_ac, &auth) == 0 &&
	    auth != NULL) {
		a->ac_has_ctime = 1;
		a->ac_ctime = auth->ctime;
		a->ac_cusec = auth->cusec;
		if (auth->client != NULL)
			krb5_copy_principal(k, auth->client, &a->ac_cprinc);
		krb5_free_authenticator(k, auth);
	}
	if (err == 0 && tkt != NULL && tkt->enc_part2 != NULL) {
		char *name = NULL;

		if ((err = krb5_unparse_name(k, tkt->enc_part2->client,
		    &name)) == 0) {
			a->ac_client = strdup(name);
			krb5_free_unparsed_name(k, name);
			if (a->ac_client == NULL)
				err = ENOMEM;
		}
		if (err == 0 && a->ac_key == NULL)
			err = KRB5KRB_AP_ERR_NOKEY;
	}
	krb5_free_ticket(k, tkt);
	return err;
}

static void
krb_acceptor_reset(struct krb_acceptor *a)
{
	struct krb_ctx	*ctx = a->ac_ctx;

	if (a->ac_ac != NULL)
		krb5_auth_con_free(ctx->kc_ctx, a->ac_ac);
	krb5_free_principal(ctx->kc_ctx, a->ac_cprinc);
	krb_key_free(a->ac_key);
	free(a->ac_client);
	memset(a, 0, sizeof(*a));
	a->ac_ctx = ctx;
}

/* Failures after which a U2U ticket (sealed in our TGT's session key, not
 * in the keytab key) may still verify. */
static int
krb_rd_req_try_u2u(krb_err err)
{
	switch (err) {
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KRB_AP_ERR_NOKEY:
	case KRB5KRB_AP_ERR_BADKEYVER:
	case KRB5_KT_NOTFOUND:
	case KRB5_KT_KVNONOTFOUND:
	case KRB5_KT_END:
	case ENOENT:
	case EACCES:
		return 1;
	default:
		return 0;
	}
}

/*
 * MIT drops the session key when it rejects an authenticator for skew, but
 * RFC 4430 wants the KRB_AP_ERR_SKEW protected by the KINK Cksum.  Verify
 * once more with our clock moved to the client's ctime (public
 * krb5_set_real_time; the loop is single-threaded), keep only the key, and
 * still report the skew.  MIT has already put the authenticator into the
 * replay cache on the first pass, so the second pass runs without one.
 */
static void
krb_rd_req_skewed(struct krb_ctx *ctx, const krb5_data *in,
    struct krb_acceptor *a)
{
	struct krb_acceptor	b;
	krb_err			err;

	memset(&b, 0, sizeof(b));
	b.ac_ctx = ctx;
	krb5_set_real_time(ctx->kc_ctx, a->ac_ctime, a->ac_cusec);
	err = krb_rd_req_one(ctx, in, NULL, 1, &b);
	krb_clock_set(ctx->kc_ctx, 0);
	if (err != 0)
		krb_log(ctx, err, "AP-REQ: re-check at the client's time");
	if (err == 0 && b.ac_key != NULL) {
		a->ac_key = b.ac_key;
		b.ac_key = NULL;
	}
	if (b.ac_ac != NULL)
		krb5_auth_con_free(ctx->kc_ctx, b.ac_ac);
	krb5_free_principal(ctx->kc_ctx, b.ac_cprinc);
	krb_key_free(b.ac_key);
	free(b.ac_client);
}

krb_err
krb_rd_req(struct krb_ctx *ctx, const uint8_t *p, size_t len, int flags,
    struct krb_acceptor **accp)
{
	struct krb_acceptor	*a;
	krb5_data		 in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb_err			 err;

	*accp = NULL;
	if (len == 0 || len > BUF_MAX) {
		log_warnx("krb: AP-REQ: bad length %zu", len);
		return KRB5_BAD_MSIZE;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ENOMEM;
	a->ac_ctx = ctx;
	err = krb_rd_req_one(ctx, &in, NULL, 0, a);
	/* TKT_EXPIRED too: RFC 4430 3.4 has the initiator act on it only
	 * when protected, so it needs the key as much as SKEW does. */
	if ((err == KRB5KRB_AP_ERR_SKEW || err == KRB5KRB_AP_ERR_TKT_EXPIRED) &&
	    a->ac_key == NULL && a->ac_has_ctime)
		krb_rd_req_skewed(ctx, &in, a);
	if (err != 0 && (flags & KRB_RDREQ_U2U) && ctx->kc_tgt != NULL &&
	    krb_rd_req_try_u2u(err)) {
		krb_acceptor_reset(a);
		err = krb_rd_req_one(ctx, &in, &ctx->kc_tgt->keyblock, 0, a);
	}
	if (err != 0) {
		krb_log(ctx, err, "AP-REQ");
		if (a->ac_key == NULL && !a->ac_has_ctime) {
			krb_acceptor_free(a);
			return err;
		}
	} else
		log_debug("krb: AP-REQ from %s verified", a->ac_client);
	*accp = a;
	return err;
}

krb_err
krb_acceptor_mk_rep(struct krb_acceptor *a, struct buf *out)
{
	krb5_context	k = a->ac_ctx->kc_ctx;
	krb5_data	rep = { KV5M_DATA, 0, NULL };
	krb_err		err;

	if (a->ac_client == NULL)
		return KRB5KRB_AP_ERR_MSG_TYPE;	/* not a verified AP-REQ */
	if ((err = krb5_mk_rep(k, a->ac_ac, &rep)) != 0) {
		krb_log(a->ac_ctx, err, "AP-REP for %s", a->ac_client);
		return err;
	}
	if (buf_put(out, rep.data, rep.length) == -1)
		err = ENOMEM;
	krb5_free_data_contents(k, &rep);
	return err;
}

/* ---- KRB-ERROR ----------------------------------------------------- */

krb_err
krb_mk_error(struct krb_ctx *ctx, int rfc_code, const struct krb_acceptor *a,
    struct buf *out)
{
	krb5_context	k = ctx->kc_ctx;
	krb5_error	e;
	krb5_data	der = { KV5M_DATA, 0, NULL };
	krb_err		err;

	if (rfc_code < 0 || rfc_code > 127)
		return KRB5_PROG_ETYPE_NOSUPP;
	memset(&e, 0, sizeof(e));
	e.magic = KV5M_ERROR;
	if ((err = krb5_us_timeofday(k, &e.stime, &e.susec)) != 0)
		return err;
	e.error = (krb5_ui_4)rfc_code;
	e.server = ctx->kc_princ;
	if (a != NULL && a->ac_has_ctime) {
		/* RFC 4120 5.9.1: reflect the client's ctime/cusec. */
		e.ctime = a->ac_ctime;
		e.cusec = a->ac_cusec;
		e.client = a->ac_cprinc;
	}
	if ((err = krb5_mk_error(k, &e, &der)) != 0) {
		krb_log(ctx, err, "KRB-ERROR %d", rfc_code);
		return err;
	}
	if (buf_put(out, der.data, der.length) == -1)
		err = ENOMEM;
	krb5_free_data_contents(k, &der);
	return err;
}

krb_err
krb_rd_error(struct krb_ctx *ctx, const uint8_t *p, size_t len,
    struct krb_error_info *ei)
{
	krb5_context	 k = ctx->kc_ctx;
	krb5_data	 in = { KV5M_DATA, (unsigned int)len, (char *)p };
	krb5_error	*e = NULL;
	krb_err		 err;

	memset(ei, 0, sizeof(*ei));
	if (len == 0 || len > BUF_MAX)
		return KRB5_BAD_MSIZE;
	if ((err = krb5_rd_error(k, &in, &e)) != 0) {
		krb_log(ctx, err, "KRB-ERROR");
		return err;
	}
	ei->ke_code = (int)e->error;
	ei->ke_stime = (time_t)(uint32_t)e->stime;
	ei->ke_susec = e->susec;
	if (e->ctime != 0) {
		ei->ke_has_ctime = 1;
		ei->ke_ctime = (time_t)(uint32_t)e->ctime;
		ei->ke_cusec = e->cusec;
	}
	krb5_free_error(k, e);
	return 0;
}
