/*
 * What the keytab holds for a principal, as `klist -k` shows it: kvno and
 * enctype of each entry, never the key.  Its own krb5_context, so that
 * `kinkd -n` (no event loop, no krb_ctx) and `kinkctl show self` (on the
 * loop: a local file read, no KDC) share one reading of the file.  Also
 * the loop-side TGT expiry, read from the context the KDC worker fills.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krb_int.h"

static void
kt_why(krb5_context k, krb5_error_code err, const char *what, char *why,
    size_t len)
{
	const char *m = krb5_get_error_message(k, err);

	snprintf(why, len, "%s: %s", what, m != NULL ? m : "unknown error");
	krb5_free_error_message(k, m);
}

static void
kt_note(krb5_context k, const krb5_keytab_entry *e, struct krb_kt_entry *out)
{
	int	et = (int)KRB_KB_ETYPE(KRB_KTE_KEY(e));
#ifdef KINK_HEIMDAL
	char	*name = NULL;

	/* Heimdal allocates the name; MIT writes into a buffer. */
	if (krb5_enctype_to_string(k, et, &name) == 0) {
		snprintf(out->kte_etype, sizeof(out->kte_etype), "%s", name);
		free(name);
	} else
#else
	if (krb5_enctype_to_name(et, 0, out->kte_etype,
	    sizeof(out->kte_etype)) != 0)
#endif
		snprintf(out->kte_etype, sizeof(out->kte_etype), "etype %d", et);
	out->kte_kvno = (int)e->vno;
	out->kte_enctype = et;
#ifndef KINK_HEIMDAL
	(void)k;
#endif
}

const char *
krb_enctype_name(int enctype, char *buf, size_t len)
{
#ifdef KINK_HEIMDAL
	char	*name = NULL;

	/* Heimdal's lookup takes a context only to set an error message and
	 * allows NULL (7.8); the name is allocated. */
	if (krb5_enctype_to_string(NULL, (krb5_enctype)enctype, &name) == 0) {
		snprintf(buf, len, "%s", name);
		free(name);
	} else
#else
	if (krb5_enctype_to_name((krb5_enctype)enctype, 0, buf, len) != 0)
#endif
		snprintf(buf, len, "etype %d", enctype);
	return buf;
}

int
krb_keytab_keys(const char *keytab, const char *principal,
    struct krb_kt_entry *out, int max, char *why, size_t whylen)
{
	krb5_context k;
	krb5_keytab kt = NULL;
	krb5_principal want = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_error_code err;
	int n = 0;

	if ((err = krb5_init_context(&k)) != 0) {
		snprintf(why, whylen, "krb5_init_context: %s",
		    strerror(err > 0 ? err : EINVAL));
		return -1;
	}
	if ((err = krb5_parse_name(k, principal, &want)) != 0) {
		kt_why(k, err, "principal", why, whylen);
		n = -1;
		goto done;
	}
	if ((err = krb5_kt_resolve(k, keytab, &kt)) != 0 ||
	    (err = krb5_kt_start_seq_get(k, kt, &cur)) != 0) {
		/* MIT says "No such file" without the name: callers add it. */
		kt_why(k, err, "cannot read it", why, whylen);
		n = -1;
		goto done;
	}
	while ((err = krb5_kt_next_entry(k, kt, &e, &cur)) == 0) {
		if (krb5_principal_compare(k, e.principal, want)) {
			if (n < max)
				kt_note(k, &e, &out[n]);
			n++;
		}
		krb_kte_free(k, &e);
	}
	krb5_kt_end_seq_get(k, kt, &cur);
	if (err != KRB5_KT_END) {
		kt_why(k, err, "cannot read it", why, whylen);
		n = -1;
	}
done:
	if (kt != NULL)
		krb5_kt_close(k, kt);
	krb5_free_principal(k, want);
	krb5_free_context(k);
	return n;
}

time_t
krb_ctx_tgt_endtime(const struct krb_ctx *ctx)
{
	if (ctx == NULL || ctx->kc_tgt == NULL)
		return 0;
	return (time_t)(uint32_t)ctx->kc_tgt->times.endtime;
}
