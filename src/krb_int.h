/*
 * The Kerberos layer's own types, shared by its two files only: krb.c
 * (errors, keys, tickets, AP-REQ/AP-REP, KRB-ERROR: local work on the
 * loop's krb5_context) and krb_kdc.c (the context itself, the KDC worker
 * thread and the ticket requests).  krb_kdc.c calls into krb.c, never
 * the other way.  Includes <krb5.h>: nothing outside src/krb*.c may
 * include this file.
 */
#ifndef KINK_KRB_INT_H
#define KINK_KRB_INT_H

#include <sys/queue.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <krb5.h>

#include "krb.h"
#include "log.h"

/*
 * MIT libkrb5 and Heimdal (make KRB5=heimdal, -DKINK_HEIMDAL): the same
 * protocol, two APIs.  Every difference kinkd meets is named here or in an
 * `#ifdef KINK_HEIMDAL` of src/krb*.c, and nowhere else
 * (docs/arch/krb.md, "MIT and Heimdal"):
 *
 * - keyblock: MIT {enctype, length, contents}; Heimdal's EncryptionKey
 *   {keytype, keyvalue {length, data}}.  creds: MIT `keyblock`, Heimdal
 *   `session`.  keytab entry: MIT `key`, Heimdal `keyblock`.
 * - krb5_data: MIT has a magic first member, Heimdal is heim_octet_string
 *   {length, data}; freeing one: krb5_free_data_contents (MIT) /
 *   krb5_data_free (Heimdal, where the MIT name is deprecated).
 * - crypto: MIT's krb5_key (krb5_k_*) caches derived keys; Heimdal's
 *   krb5_crypto (krb5_create_checksum, krb5_encrypt, krb5_crypto_prf)
 *   does the same, and allocates its outputs.
 */
#ifdef KINK_HEIMDAL
#define KRB_KB_ETYPE(kb)	((kb)->keytype)
#define KRB_KB_DATA(kb)		((uint8_t *)(kb)->keyvalue.data)
#define KRB_KB_LEN(kb)		((kb)->keyvalue.length)
#define KRB_CREDS_KEY(c)	(&(c)->session)
#define KRB_KTE_KEY(e)		(&(e)->keyblock)
#define krb_data_free(k, d)	krb5_data_free(d)
#define krb_kte_free(k, e)	krb5_kt_free_entry((k), (e))
typedef krb5_crypto		krb_k5key;
/* Heimdal's krb5_authenticator is already a pointer; its ticket carries
 * the client at the top, MIT's in enc_part2. */
typedef krb5_authenticator	krb_authp;
#define krb_auth_free(k, a)	krb5_free_authenticator((k), &(a))
#define KRB_TKT_CLIENT(t)	((t)->client)
#define krb_name_free(k, n)	krb5_xfree(n)
#else
#define KRB_KB_ETYPE(kb)	((kb)->enctype)
#define KRB_KB_DATA(kb)		((uint8_t *)(kb)->contents)
#define KRB_KB_LEN(kb)		((kb)->length)
#define KRB_CREDS_KEY(c)	(&(c)->keyblock)
#define KRB_KTE_KEY(e)		(&(e)->key)
#define krb_data_free(k, d)	krb5_free_data_contents((k), (d))
#define krb_kte_free(k, e)	krb5_free_keytab_entry_contents((k), (e))
typedef krb5_key		krb_k5key;
typedef krb5_authenticator	*krb_authp;
#define krb_auth_free(k, a)	krb5_free_authenticator((k), (a))
#define KRB_TKT_CLIENT(t)	((t)->enc_part2 != NULL ? (t)->enc_part2->client : NULL)
#define krb_name_free(k, n)	krb5_free_unparsed_name((k), (n))
#endif

/* The authenticator's client as a principal of its own (*out stays NULL
 * when there is none).  MIT's authenticator holds a krb5_principal;
 * Heimdal's the ASN.1 cname and crealm, which its Principal wraps. */
static inline void
krb_auth_client(krb5_context k, krb_authp auth, krb5_principal *out)
{
#ifdef KINK_HEIMDAL
	Principal	p;

	p.name = auth->cname;
	p.realm = auth->crealm;
	if (p.realm != NULL)
		krb5_copy_principal(k, &p, out);
#else
	if (auth->client != NULL)
		krb5_copy_principal(k, auth->client, out);
#endif
}

/* A krb5_data viewing `len` octets at `p` (not copied). */
static inline krb5_data
krb_data_view(const void *p, size_t len)
{
	krb5_data	d;

	memset(&d, 0, sizeof(d));
#ifndef KINK_HEIMDAL
	d.magic = KV5M_DATA;
#endif
	d.length = len;
	d.data = (void *)(uintptr_t)p;
	return d;
}

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
	/* Made at first use, kept while the key lives: the library caches
	 * derived keys in it, krb_prf.c its DK and cipher in kk_prf. */
	krb_k5key		 kk_k5;
	struct krb_prf_key	*kk_prf;
};

struct krb_ctx {
	struct event_base	*kc_base;
	krb5_context		 kc_ctx;	/* loop thread */
	krb5_context		 kc_wctx;	/* worker thread */
	char			*kc_name;
	krb5_principal		 kc_princ;	/* in kc_ctx */
	krb5_principal		 kc_wprinc;	/* in kc_wctx */
	krb5_keytab		 kc_keytab;	/* in kc_ctx: rd_req (MEMORY copy) */
	krb5_keytab		 kc_wkeytab;	/* in kc_wctx: init creds */
	krb5_ccache		 kc_wccache;	/* MEMORY, worker only */
	time_t			 kc_wtgt_end;	/* worker only */
	unsigned int		 kc_timeout_ms;
	const char		*kc_errstr;
	struct log_rate		 kc_lograte;	/* krb_log's budget */

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

	/* The keytab rd_req reads is a MEMORY copy of the file, reloaded
	 * when the file changes (krb_keytab.c). */
	char			*kc_ktname;	/* as configured, with type */
	const char		*kc_ktpath;	/* file to watch, or NULL */
	int			 kc_ktmem;	/* kc_keytab is our copy */
	unsigned int		 kc_ktgen;
	struct stat		 kc_ktst;	/* the file the copy came from */
	struct event		*kc_kt_ev;
	struct krb_rc		*kc_rc;		/* replay cache */

	/* Shared with the verification workers (krb_pool.c).  kc_ktmtx
	 * guards kc_ktpub and kc_ktcur, the name a worker resolves (its
	 * own reference to the MEMORY copy) when the generation moved;
	 * kc_rcmtx makes each replay check-and-store one step. */
	pthread_mutex_t		 kc_ktmtx;
	unsigned int		 kc_ktpub;	/* bumped at each swap */
	char			 kc_ktcur[256];
	pthread_mutex_t		 kc_rcmtx;
	struct krb_pool		*kc_pool;	/* NULL: rd_req on the loop */
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
	krb5_context		 ac_k;		/* the context ac_ac lives in */
	krb5_auth_context	 ac_ac;
	/* The AP-REP a worker made (KRB_RDREQ_MKREP): ac_ac is gone. */
	uint8_t			*ac_rep;
	size_t			 ac_replen;
	struct krb_key		*ac_key;
	char			*ac_client;
	krb5_principal		 ac_cprinc;
	int			 ac_has_ctime;
	krb5_timestamp		 ac_ctime;
	int32_t			 ac_cusec;
};

/*
 * What one rd_req runs with: the loop's context, keytab and TGT key
 * (krb_rd_req), or a worker's own context and keytab reference with a
 * copy of the TGT key (krb_pool.c).  A worker logs nothing: kv_note
 * collects what the loop logs when the result comes back.
 */
struct krb_verifier {
	struct krb_ctx		*kv_ctx;	/* replay cache, loop side */
	krb5_context		 kv_k;
	krb5_principal		 kv_princ;	/* in kv_k */
	krb5_keytab		 kv_kt;		/* in kv_k */
	const krb5_keyblock	*kv_tgtkey;	/* U2U retry, or NULL */
	int			 kv_worker;
	char			 kv_note[256];
};

/* krb.c, for krb_kdc.c and krb_pool.c. */
/* rd_req, skew re-check, U2U retry and replay check (krb_rd_req's body,
 * no logging of the result): the error, *accp as krb_rd_req sets it. */
krb_err	krb_rd_req_v(struct krb_verifier *, const uint8_t *, size_t,
	    int flags, struct krb_acceptor **accp);
/* The line krb_log writes, with the error's text given. */
void	krb_log_text(struct krb_ctx *, krb_err, const char *errtext,
	    const char *what);
/* krb_pool.c, for krb_kdc.c: start (0 or -1, logged) and stop/join. */
int	krb_pool_start(struct krb_ctx *, int nworkers);
void	krb_pool_stop(struct krb_ctx *);
/* The one place that turns a libkrb5 failure into a log line. */
void	krb_log(struct krb_ctx *, krb_err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The peer's entry (clock offset, cached ticket); NULL if absent and not
 * `create`, or out of memory. */
struct krb_peer *krb_peer_get(struct krb_ctx *, const char *name, int create);
/* The ticket owns creds from then on; NULL on failure (creds are then
 * still the caller's). */
struct krb_ticket *krb_ticket_new(struct krb_ctx *, krb5_creds *,
	    const char *peer, int u2u);
/* krb_keytab.c, for krb_kdc.c: the MEMORY copy and its watch timer.
 * 0, or -1 (logged) when the timer cannot be set up. */
int	krb_keytab_start(struct krb_ctx *, const char *ktname);
void	krb_keytab_stop(struct krb_ctx *);
/* 1 while the ticket has enough life left to be reused. */
int	krb_ticket_fresh(const struct krb_ticket *, int32_t offset);

#endif
