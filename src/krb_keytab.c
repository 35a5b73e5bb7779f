/*
 * The responder's keytab in memory.  MIT's FILE keytab opens, locks,
 * reads and closes the file for every krb5_rd_req; kinkd instead copies
 * the file into a MEMORY keytab once and rd_req searches that.  A key
 * rotation (kadmin ktadd, a new kvno) must still be picked up without a
 * restart, so a timer compares the file's identity and times once per
 * KRB_KT_POLL_S (one stat, not one per ticket) and re-reads it when they
 * change; krb_keytab_reload does the same at once (SIGHUP, kinkctl
 * reload).  A failed re-read keeps the keys in use and says why.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "krb_int.h"

#define KRB_KT_POLL_S	1

static int
kt_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Every entry of the configured keytab into a new MEMORY keytab. */
static krb_err
kt_copy(struct krb_ctx *ctx, krb5_keytab *out, int *nent, char *name,
    size_t namelen)
{
	krb5_context		 k = ctx->kc_ctx;
	krb5_keytab		 file = NULL, mem = NULL;
	krb5_kt_cursor		 cur;
	krb5_keytab_entry	 ent;
	krb_err			 err;

	*nent = 0;
	snprintf(name, namelen, "MEMORY:kinkd-kt.%p.%u", (void *)ctx,
	    ++ctx->kc_ktgen);
	if ((err = krb5_kt_resolve(k, ctx->kc_ktname, &file)) != 0)
		return err;
	if ((err = krb5_kt_resolve(k, name, &mem)) != 0) {
		krb5_kt_close(k, file);
		return err;
	}
	if ((err = krb5_kt_start_seq_get(k, file, &cur)) == 0) {
		while ((err = krb5_kt_next_entry(k, file, &ent, &cur)) == 0) {
			err = krb5_kt_add_entry(k, mem, &ent);
			krb_kte_free(k, &ent);
			if (err != 0)
				break;
			(*nent)++;
		}
		krb5_kt_end_seq_get(k, file, &cur);
		if (err == KRB5_KT_END)
			err = *nent > 0 ? 0 : KRB5_KT_NOTFOUND;
	}
	krb5_kt_close(k, file);
	if (err != 0) {
		krb5_kt_close(k, mem);	/* the last reference frees it */
		return err;
	}
	*out = mem;
	return 0;
}

/* The keytab workers use from now on (krb_pool.c picks it up). */
static void
kt_publish(struct krb_ctx *ctx, const char *name)
{
	pthread_mutex_lock(&ctx->kc_ktmtx);
	snprintf(ctx->kc_ktcur, sizeof(ctx->kc_ktcur), "%s", name);
	ctx->kc_ktpub++;
	pthread_mutex_unlock(&ctx->kc_ktmtx);
}

/* Re-read if `force` or the file changed.  1 loaded, 0 unchanged, -1
 * failed (old keys kept, logged once per change of the file). */
static int
kt_refresh(struct krb_ctx *ctx, int force)
{
	struct stat	st;
	krb5_keytab	mem;
	krb_err		err;
	int		n;
	char		name[80];

	if (ctx->kc_ktpath == NULL)
		return 0;
	if (stat(ctx->kc_ktpath, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (!force && kt_same(&st, &ctx->kc_ktst))
		return 0;
	/* Remember what was read (or tried) so that a failure is retried
	 * only when the file changes again, or on an explicit reload. */
	ctx->kc_ktst = st;
	if ((err = kt_copy(ctx, &mem, &n, name, sizeof(name))) != 0) {
		krb_log(ctx, err, "keytab %s: reading it failed, %s",
		    ctx->kc_ktname, ctx->kc_ktmem ? "the keys read before stay in use" :
		    "still reading the file itself");
		return -1;
	}
	/* Published before the old copy is closed: a name a worker can
	 * read is always one the loop still holds, and the worker's own
	 * reference (krb5_kt_resolve under kc_ktmtx) keeps the copy it
	 * uses alive after the loop lets go. */
	kt_publish(ctx, name);
	if (ctx->kc_keytab != NULL)
		krb5_kt_close(ctx->kc_ctx, ctx->kc_keytab);
	ctx->kc_keytab = mem;
	if (ctx->kc_ktmem)
		log_info("krb: keytab %s re-read: %d keys", ctx->kc_ktname, n);
	ctx->kc_ktmem = 1;
	return 1;
}

static void
kt_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)kt_refresh(arg, 0);
}

int
krb_keytab_reload(struct krb_ctx *ctx)
{
	return kt_refresh(ctx, 1) == -1 ? -1 : 0;
}

int
krb_keytab_start(struct krb_ctx *ctx, const char *ktname)
{
	struct timeval	 tv = { KRB_KT_POLL_S, 0 };
	const char	*c;
	krb_err		 err;

	if ((ctx->kc_ktname = strdup(ktname)) == NULL)
		return -1;
	/* Only a FILE keytab is copied and watched; another type is used
	 * as it is. */
	c = ctx->kc_ktname;
	if (strncmp(c, "FILE:", 5) == 0 && c[5] != '\0')
		ctx->kc_ktpath = c + 5;
	if (ctx->kc_ktpath != NULL && kt_refresh(ctx, 1) == 1)
		;
	else if ((err = krb5_kt_resolve(ctx->kc_ctx, ktname,
	    &ctx->kc_keytab)) != 0) {
		krb_log(ctx, err, "%s", ktname);
		return -1;
	} else
		kt_publish(ctx, ktname);
	if (ctx->kc_ktpath == NULL)
		return 0;
	if ((ctx->kc_kt_ev = event_new(ctx->kc_base, -1, EV_PERSIST,
	    kt_timer, ctx)) == NULL || event_add(ctx->kc_kt_ev, &tv) == -1) {
		log_warnx("krb: keytab watch timer failed");
		return -1;
	}
	return 0;
}

void
krb_keytab_stop(struct krb_ctx *ctx)
{
	if (ctx->kc_kt_ev != NULL)
		event_free(ctx->kc_kt_ev);
	ctx->kc_kt_ev = NULL;
	if (ctx->kc_keytab != NULL)
		krb5_kt_close(ctx->kc_ctx, ctx->kc_keytab);
	ctx->kc_keytab = NULL;
	free(ctx->kc_ktname);
	ctx->kc_ktname = NULL;
	ctx->kc_ktpath = NULL;
}
