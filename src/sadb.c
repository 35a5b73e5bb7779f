/* Backend selection and the thin dispatch to the chosen backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sadb.h"

/* Order matters for "auto": the first that opens wins. */
static const struct sadb_ops *const backends[] = {
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

void
sadb_upcall(struct sadb *sd, const struct sadb_event *ev)
{
	if (sd->sd_upcall != NULL)
		sd->sd_upcall(ev, sd->sd_upcall_arg);
}
