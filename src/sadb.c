/* Backend selection and the thin dispatch to the chosen backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "isakmp_num.h"
#include "log.h"
#include "sadb.h"
#include "stats.h"

/* Order matters for "auto": the first that opens wins. */
static const struct sadb_ops *const backends[] = {
	&sadb_pfkey_ops,
	&sadb_xfrm_ops,
	&sadb_null_ops,
};

static struct sadb *
sadb_try(struct event_base *base, const struct sadb_ops *ops,
    sadb_upcall_cb cb, void *arg)
{
	struct sadb *sd;

	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return NULL;
	sd->sd_ops = ops;
	sd->sd_base = base;
	sd->sd_upcall = cb;
	sd->sd_upcall_arg = arg;
	sd->sd_reqid_min = SADB_REQID_MIN;
	sd->sd_reqid_max = SADB_REQID_MAX;
	if (ops->open(sd) == -1) {
		int e = errno;

		free(sd);
		errno = e;
		return NULL;
	}
	return sd;
}

struct sadb *
sadb_new(struct event_base *base, const char *name, sadb_upcall_cb cb,
    void *arg)
{
	size_t i;

	if (strcmp(name, "auto") == 0) {
		for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
			struct sadb *sd;

			if (backends[i] == &sadb_null_ops)
				continue;	/* never chosen silently */
			if ((sd = sadb_try(base, backends[i], cb, arg)) != NULL)
				return sd;
			log_debug("sadb: %s backend unavailable",
			    backends[i]->name);
		}
		errno = ENOENT;
		return NULL;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return sadb_try(base, backends[i], cb, arg);
	errno = EINVAL;
	return NULL;
}

void
sadb_free(struct sadb *sd)
{
	if (sd == NULL)
		return;
	sd->sd_ops->close(sd);
	free(sd);
}

const char *
sadb_backend(const struct sadb *sd)
{
	return sd->sd_ops->name;
}

int
sadb_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	return sd->sd_ops->getspi(sd, src, dst, proto, cb, arg);
}

int
sadb_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	return sd->sd_ops->add(sd, sa, replace, cb, arg);
}

int
sadb_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	return sd->sd_ops->del(sd, sa, cb, arg);
}

int
sadb_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	return sd->sd_ops->dump(sd, cb, arg);
}

int
sadb_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	if (sd->sd_ops->get == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return sd->sd_ops->get(sd, sa, cb, arg);
}

int
sadb_spd_repair(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	if (sd->sd_ops->spd_repair == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return sd->sd_ops->spd_repair(sd, pol, cb, arg);
}

int
sadb_spd_get(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	if (sd->sd_ops->spd_get == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return sd->sd_ops->spd_get(sd, pol, cb, arg);
}

int
sadb_del_larval(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	if (sd->sd_ops->del_larval == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return sd->sd_ops->del_larval(sd, sa, cb, arg);
}

static int
xform_gcm(const struct kink_xform *x)
{
	return x->x_id == ESP_AES_GCM_8 || x->x_id == ESP_AES_GCM_12 ||
	    x->x_id == ESP_AES_GCM_16;
}

/*
 * What a backend cannot install is known here for pfkey (its source keeps
 * only the kernel mapping; the limit is Linux PF_KEY's: no AEAD, the ADD
 * fails with ENOSYS, docs/arch/kernel.md) and asked of the others.
 */
int
sadb_supports(struct sadb *sd, const struct kink_suite *s, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (s->s_esp.x_present && sd->sd_ops == &sadb_pfkey_ops &&
	    xform_gcm(&s->s_esp)) {
		*why = "backend pfkey cannot install AES-GCM";
		return 0;
	}
	if (sd->sd_ops->supports == NULL)
		return 1;
	if (s->s_esp.x_present &&
	    !sd->sd_ops->supports(sd, IPPROTO_ESP, &s->s_esp, why))
		return 0;
	if (s->s_ah.x_present &&
	    !sd->sd_ops->supports(sd, IPPROTO_AH, &s->s_ah, why))
		return 0;
	if (s->s_ipcomp.x_present &&
	    !sd->sd_ops->supports(sd, IPPROTO_COMP, &s->s_ipcomp, why))
		return 0;
	return 1;
}

int
sadb_caps(struct sadb *sd, struct sadb_caps *out)
{
	if (sd->sd_ops->caps == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return sd->sd_ops->caps(sd, out);
}

int
sadb_spd_add(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return sd->sd_ops->spd_add(sd, pol, cb, arg);
}

int
sadb_spd_del(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return sd->sd_ops->spd_del(sd, pol, cb, arg);
}

/* sadb_flush: dump first, then one delete per SA, done when all answered. */
#define FLUSH_MAX	(4096 * 256 * 4)	/* the null backend's bound */

struct sadb_flush_state {
	struct sadb	*fl_sd;
	sadb_done_cb	 fl_cb;
	void		*fl_arg;
	struct kink_sa	*fl_sas;
	size_t		 fl_n, fl_cap;
	size_t		 fl_pending;
	int		 fl_err;
	int		 fl_dumping;
};

static void
sadb_flush_end(struct sadb_flush_state *fl)
{
	sadb_done_cb cb = fl->fl_cb;
	void *arg = fl->fl_arg;
	int err = fl->fl_err;

	free(fl->fl_sas);
	free(fl);
	cb(err, arg);
}

static void
sadb_flush_del_done(int err, void *arg)
{
	struct sadb_flush_state *fl = arg;

	if (err != 0 && err != ESRCH && fl->fl_err == 0)
		fl->fl_err = err;
	if (--fl->fl_pending == 0 && !fl->fl_dumping)
		sadb_flush_end(fl);
}

static void
sadb_flush_dump(int err, const struct kink_sa *sa, void *arg)
{
	struct sadb_flush_state *fl = arg;
	size_t i;

	if (sa != NULL) {
		if (fl->fl_n == fl->fl_cap) {
			size_t ncap = fl->fl_cap ? fl->fl_cap * 2 : 16;
			struct kink_sa *n;

			if (ncap > FLUSH_MAX ||
			    (n = reallocarray(fl->fl_sas, ncap,
			    sizeof(*n))) == NULL) {
				if (fl->fl_err == 0)
					fl->fl_err = ENOMEM;
				return;
			}
			fl->fl_sas = n;
			fl->fl_cap = ncap;
		}
		fl->fl_sas[fl->fl_n++] = *sa;
		return;
	}
	if (err != 0 && fl->fl_err == 0)
		fl->fl_err = err;
	/* Count first so a delete answered at once cannot end the flush. */
	fl->fl_dumping = 1;
	for (i = 0; i < fl->fl_n; i++) {
		fl->fl_pending++;
		if (sadb_del(fl->fl_sd, &fl->fl_sas[i], sadb_flush_del_done,
		    fl) == -1) {
			fl->fl_pending--;
			if (fl->fl_err == 0)
				fl->fl_err = errno;
			log_warn("sadb: flush: delete spi 0x%08x",
			    fl->fl_sas[i].sa_spi);
		}
	}
	fl->fl_dumping = 0;
	if (fl->fl_pending == 0)
		sadb_flush_end(fl);
}

int
sadb_flush(struct sadb *sd, sadb_done_cb cb, void *arg)
{
	struct sadb_flush_state *fl;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return -1;
	fl->fl_sd = sd;
	fl->fl_cb = cb;
	fl->fl_arg = arg;
	if (sadb_dump(sd, sadb_flush_dump, fl) == -1) {
		int e = errno;

		free(fl);
		errno = e;
		return -1;
	}
	return 0;
}

void
sadb_done_log(int err, void *what)
{
	if (err == 0)
		return;
	/* Deleting what the kernel already dropped is not worth a warning. */
	if (err == ESRCH || err == ENOENT) {
		log_debug("sadb %s: %s", (const char *)what, strerror(err));
		return;
	}
	stats_inc(STAT_SADB_ERR);
	log_warnx("sadb %s: %s", (const char *)what, strerror(err));
}
