/*
 * The "null" SA backend: SAs and SPD entries in memory only.  Used by the
 * host tests (two daemons on one machine, no kernel state) and for dry
 * runs.  It behaves like a kernel backend as far as the daemon can tell:
 * every completion is delivered later from the event loop (a queue drained
 * by a zero timer), never inside the request call; getspi hands out unique
 * random SPIs (drawn 64 at a time: a draw is a system call); adding an
 * SPI that exists fails with EEXIST unless
 * `replace`; deleting an unknown SA fails with ESRCH.  sadb_null_event()
 * makes it emit ACQUIRE/EXPIRE as a kernel would.  The store is a
 * red-black tree by (destination, protocol, SPI), the key a kernel uses,
 * and a dump goes out in chunks between other events, resuming after
 * the key it sent last, as a kernel's netlink dump does.
 */
#include <sys/queue.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <event2/event.h>

#include "addr.h"
#include "isakmp_num.h"
#include "kern_msg.h"
#include "log.h"
#include "net.h"
#include "sadb.h"
#include "sa_rec.h"
#include "timer.h"

/*
 * Bounded like a kernel table, far above what a configuration can use
 * (4096 peers of 256 policies, two SAs a pair, two pairs while a rekey
 * overlaps).
 */
#define NULL_MAX_SA	(4096 * 256 * 4)
#define NULL_DUMP_CHUNK	512	/* SAs a dump sends per loop pass */
#define NULL_MAX_SPD	4096
#define NULL_SPI_DRAW	64
#define NULL_SPI_TRIES	4096	/* draws before getspi gives up */

enum null_op { NOP_DONE, NOP_SPI, NOP_DUMP, NOP_GET, NOP_EVENT, NOP_SPD };

struct null_pending {
	TAILQ_ENTRY(null_pending) np_entry;
	enum null_op	 np_op;
	int		 np_err;
	uint32_t	 np_spi;
	sadb_done_cb	 np_done;
	sadb_spi_cb	 np_spicb;
	sadb_dump_cb	 np_dumpcb;
	sadb_spd_cb	 np_spdcb;	/* NOP_SPD: np_spi holds the direction */
	void		*np_arg;
	struct sadb_event np_ev;
	struct kink_sa	 np_sa;		/* NOP_GET: what to look up; NOP_DUMP:
					   the last key sent */
	int		 np_started;	/* NOP_DUMP: np_sa holds a key */
};

struct null_sa {
	RB_ENTRY(null_sa) ns_node;
	int		 ns_larval;	/* SPI reserved by getspi only */
	struct kink_sa_rec ns_sa;	/* compact: a store of 100,000s */
};

struct null_spd {
	TAILQ_ENTRY(null_spd) nd_entry;
	struct kink_policy nd_pol;
};

RB_HEAD(null_sas, null_sa);

struct null_db {
	TAILQ_HEAD(, null_pending) nb_queue;
	struct null_sas		 nb_sas;
	TAILQ_HEAD(, null_spd)	 nb_spd;
	int			 nb_nsa, nb_nspd;
	int			 nb_refuse_gcm;	/* act like PF_KEY */
	unsigned		 nb_refuse_add;	/* SA_DIR_* bits: ENOSYS */
	int			 nb_refuse_spd_get; /* act like a backend
						       without spd_get */
	struct timer		 nb_timer;
	/*
	 * SPI candidates drawn NULL_SPI_DRAW at a time: an arc4random
	 * call is a system call (libbsd's fork check), which a kernel
	 * backend's getspi does not cost kinkd either.
	 */
	uint32_t		 nb_spis[NULL_SPI_DRAW];
	int			 nb_nspis;
};

static int
null_sa_cmp(const struct null_sa *a, const struct null_sa *b)
{
	int c;

	if ((c = addr_cmp(&a->ns_sa.sa_dst.sa, &b->ns_sa.sa_dst.sa)) != 0)
		return c;
	if (a->ns_sa.sa_proto != b->ns_sa.sa_proto)
		return a->ns_sa.sa_proto < b->ns_sa.sa_proto ? -1 : 1;
	if (a->ns_sa.sa_spi != b->ns_sa.sa_spi)
		return a->ns_sa.sa_spi < b->ns_sa.sa_spi ? -1 : 1;
	return 0;
}

/* libbsd's RB_GENERATE_STATIC names a __unused glibc leaves undefined. */
RB_GENERATE_INTERNAL(null_sas, null_sa, ns_node, null_sa_cmp,
    __attribute__((__unused__)) static)

/* The store holds an entry of this reqid. */
static int
null_spd_reqid(struct null_db *nb, uint32_t reqid)
{
	struct null_spd *nd;

	TAILQ_FOREACH(nd, &nb->nb_spd, nd_entry)
		if (nd->nd_pol.pol_reqid == reqid)
			return 1;
	return 0;
}

static struct null_sa *null_find(struct null_db *,
		    const struct sockaddr_storage *, uint8_t, uint32_t);

/* The first SA after the key in `k` (a copy: the SA may be gone). */
static struct null_sa *
null_after(struct null_db *nb, const struct kink_sa *k)
{
	struct null_sa find, *ns;

	sa_addr_set(&find.ns_sa.sa_dst, &k->sa_dst);
	find.ns_sa.sa_proto = k->sa_proto;
	find.ns_sa.sa_spi = k->sa_spi;
	ns = RB_NFIND(null_sas, &nb->nb_sas, &find);
	if (ns != NULL && null_sa_cmp(ns, &find) == 0)
		ns = RB_NEXT(null_sas, &nb->nb_sas, ns);
	return ns;
}

/*
 * Up to NULL_DUMP_CHUNK SAs after the last key sent; 1 when the dump
 * is over (its end sent), 0 when it goes on in a later pass.  Each step
 * starts again from the key, so a callback may change the store.
 */
static int
null_dump_chunk(struct null_db *nb, struct null_pending *np)
{
	struct null_sa *ns;
	struct kink_sa copy;
	int n;

	ns = np->np_started ? null_after(nb, &np->np_sa) :
	    RB_MIN(null_sas, &nb->nb_sas);
	for (n = 0; ns != NULL; ns = null_after(nb, &np->np_sa)) {
		if (n == NULL_DUMP_CHUNK)
			return 0;
		sa_addr_get(&ns->ns_sa.sa_dst, &np->np_sa.sa_dst);
		np->np_sa.sa_proto = ns->ns_sa.sa_proto;
		np->np_sa.sa_spi = ns->ns_sa.sa_spi;
		np->np_started = 1;
		if (ns->ns_larval)
			continue;
		sa_rec_get(&ns->ns_sa, &copy);
		np->np_dumpcb(0, &copy, np->np_arg);
		sa_free_keys(&copy);
		n++;
	}
	np->np_dumpcb(0, NULL, np->np_arg);
	return 1;
}

static void
null_drain(void *arg)
{
	struct sadb *sd = arg;
	struct null_db *nb = sd->sd_priv;
	struct null_pending *np;
	struct null_sa *ns;
	int n;

	/*
	 * Only what was queued before this run: completions may queue new
	 * requests, which then run on the next loop iteration.
	 */
	for (n = 0, np = TAILQ_FIRST(&nb->nb_queue); np != NULL; n++)
		np = TAILQ_NEXT(np, np_entry);
	while (n-- > 0 && (np = TAILQ_FIRST(&nb->nb_queue)) != NULL) {
		TAILQ_REMOVE(&nb->nb_queue, np, np_entry);
		switch (np->np_op) {
		case NOP_DONE:
			if (np->np_done != NULL)
				np->np_done(np->np_err, np->np_arg);
			break;
		case NOP_SPI:
			np->np_spicb(np->np_err, np->np_spi, np->np_arg);
			break;
		case NOP_DUMP:
			if (null_dump_chunk(nb, np) == 0) {
				/* The rest after what is queued now. */
				TAILQ_INSERT_TAIL(&nb->nb_queue, np, np_entry);
				continue;
			}
			break;
		case NOP_GET:
			/* Answered from the table as it is now, keys left out. */
			ns = null_find(nb, &np->np_sa.sa_dst,
			    np->np_sa.sa_proto, np->np_sa.sa_spi);
			if (ns == NULL || ns->ns_larval)
				np->np_dumpcb(ESRCH, NULL, np->np_arg);
			else {
				struct kink_sa copy;

				sa_rec_get(&ns->ns_sa, &copy);
				sa_free_keys(&copy);
				np->np_dumpcb(0, &copy, np->np_arg);
				np->np_dumpcb(0, NULL, np->np_arg);
			}
			break;
		case NOP_EVENT:
			sadb_upcall(sd, &np->np_ev);
			break;
		case NOP_SPD:
			/* The store as it is now, as a kernel would answer. */
			np->np_spdcb(null_spd_reqid(nb, np->np_sa.sa_reqid) ?
			    0 : ENOENT, (int)np->np_spi, np->np_arg);
			break;
		}
		free(np);
	}
	if (!TAILQ_EMPTY(&nb->nb_queue))
		timer_add_ms(&nb->nb_timer, 0);
}

static struct null_pending *
null_queue(struct sadb *sd, enum null_op op)
{
	struct null_db *nb = sd->sd_priv;
	struct null_pending *np;

	if ((np = calloc(1, sizeof(*np))) == NULL)
		return NULL;
	np->np_op = op;
	TAILQ_INSERT_TAIL(&nb->nb_queue, np, np_entry);
	timer_add_ms(&nb->nb_timer, 0);
	return np;
}

static int
null_done(struct sadb *sd, int err, sadb_done_cb cb, void *arg)
{
	struct null_pending *np;

	if ((np = null_queue(sd, NOP_DONE)) == NULL)
		return -1;
	np->np_err = err;
	np->np_done = cb;
	np->np_arg = arg;
	return 0;
}

static struct null_sa *
null_find(struct null_db *nb, const struct sockaddr_storage *dst,
    uint8_t proto, uint32_t spi)
{
	struct null_sa find;

	/* addr_eq() matches no other family; neither does the store. */
	if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
		return NULL;
	sa_addr_set(&find.ns_sa.sa_dst, dst);
	find.ns_sa.sa_proto = proto;
	find.ns_sa.sa_spi = spi;
	return RB_FIND(null_sas, &nb->nb_sas, &find);
}

static int
null_open(struct sadb *sd)
{
	struct null_db *nb;

	if ((nb = calloc(1, sizeof(*nb))) == NULL)
		return -1;
	TAILQ_INIT(&nb->nb_queue);
	RB_INIT(&nb->nb_sas);
	TAILQ_INIT(&nb->nb_spd);
	if (timer_init(&nb->nb_timer, sd->sd_base, null_drain, sd) == -1) {
		free(nb);
		errno = ENOMEM;
		return -1;
	}
	sd->sd_priv = nb;
	return 0;
}

static void
null_close(struct sadb *sd)
{
	struct null_db *nb = sd->sd_priv;
	struct null_pending *np;
	struct null_sa *ns;
	struct null_spd *nd;

	if (nb == NULL)
		return;
	timer_fini(&nb->nb_timer);
	while ((np = TAILQ_FIRST(&nb->nb_queue)) != NULL) {
		TAILQ_REMOVE(&nb->nb_queue, np, np_entry);
		free(np);
	}
	while ((ns = RB_MIN(null_sas, &nb->nb_sas)) != NULL) {
		RB_REMOVE(null_sas, &nb->nb_sas, ns);
		sa_rec_free(&ns->ns_sa);
		free(ns);
	}
	while ((nd = TAILQ_FIRST(&nb->nb_spd)) != NULL) {
		TAILQ_REMOVE(&nb->nb_spd, nd, nd_entry);
		free(nd);
	}
	free(nb);
	sd->sd_priv = NULL;
}

static int
null_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	struct null_db *nb = sd->sd_priv;
	struct null_pending *np;
	struct null_sa *ns;
	uint32_t spi;
	int err = 0, tries = 0;

	do {
		if (nb->nb_nspis == 0) {
			arc4random_buf(nb->nb_spis, sizeof(nb->nb_spis));
			nb->nb_nspis = NULL_SPI_DRAW;
		}
		spi = nb->nb_spis[--nb->nb_nspis];
		/*
		 * CPIs are 16 bits; 0x100..0xefff are the negotiated ones
		 * (RFC 3173 2.2), the range Linux's XFRM hands out too.
		 */
		if (proto == PROTO_IPCOMP)
			spi = 0x100 + spi % (0xefff - 0x100 + 1);
		/* 256..0xffffffff: 1-255 are reserved (RFC 4303 2.1). */
	} while ((spi < 0x100 || null_find(nb, dst, proto, spi) != NULL) &&
	    ++tries < NULL_SPI_TRIES);
	if (tries == NULL_SPI_TRIES)
		err = EAGAIN;	/* a CPI space this full: none free nearby */
	else if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
		err = EAFNOSUPPORT;	/* no key in the store */
	else if (nb->nb_nsa >= NULL_MAX_SA)
		err = ENOBUFS;
	else if ((ns = calloc(1, sizeof(*ns))) == NULL)
		err = ENOMEM;
	else {
		ns->ns_larval = 1;
		sa_addr_set(&ns->ns_sa.sa_src, src);
		sa_addr_set(&ns->ns_sa.sa_dst, dst);
		ns->ns_sa.sa_proto = proto;
		ns->ns_sa.sa_spi = spi;
		ns->ns_sa.sa_dir = SA_DIR_IN;
		RB_INSERT(null_sas, &nb->nb_sas, ns);
		nb->nb_nsa++;
	}
	if ((np = null_queue(sd, NOP_SPI)) == NULL)
		return -1;
	np->np_err = err;
	np->np_spi = err ? 0 : spi;
	np->np_spicb = cb;
	np->np_arg = arg;
	return 0;
}

static int
null_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	struct null_db *nb = sd->sd_priv;
	struct null_sa *ns;
	int err = 0;

	ns = null_find(nb, &sa->sa_dst, sa->sa_proto, sa->sa_spi);
	if (nb->nb_refuse_add & (1u << sa->sa_dir))
		err = ENOSYS;	/* what a kernel without ESP answers */
	else if (sa->sa_dst.ss_family != AF_INET &&
	    sa->sa_dst.ss_family != AF_INET6)
		err = EAFNOSUPPORT;
	else if (ns != NULL && !ns->ns_larval && !replace)
		err = EEXIST;
	else if (ns == NULL && nb->nb_nsa >= NULL_MAX_SA)
		err = ENOBUFS;
	else if (ns == NULL && (ns = calloc(1, sizeof(*ns))) == NULL)
		err = ENOMEM;
	else {
		int fresh = ns->ns_sa.sa_spi == 0;

		/*
		 * The key stays: a replace or a larval SPI has the same.
		 * Without memory for the keys an entry that held some is
		 * gone, as a kernel's would be; a larval one stays larval.
		 */
		if (sa_rec_set(&ns->ns_sa, sa, 1) == -1) {
			err = ENOMEM;
			if (fresh)
				free(ns);
			else if (!ns->ns_larval) {
				RB_REMOVE(null_sas, &nb->nb_sas, ns);
				nb->nb_nsa--;
				free(ns);
			}
		} else {
			ns->ns_larval = 0;
			if (fresh) {
				RB_INSERT(null_sas, &nb->nb_sas, ns);
				nb->nb_nsa++;
			}
		}
	}
	return null_done(sd, err, cb, arg);
}

static int
null_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	struct null_db *nb = sd->sd_priv;
	struct null_sa *ns;
	int err = 0;

	if ((ns = null_find(nb, &sa->sa_dst, sa->sa_proto, sa->sa_spi)) ==
	    NULL)
		err = ESRCH;
	else {
		RB_REMOVE(null_sas, &nb->nb_sas, ns);
		nb->nb_nsa--;
		sa_rec_free(&ns->ns_sa);
		free(ns);
	}
	return null_done(sd, err, cb, arg);
}

static int
null_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	struct null_pending *np;

	if ((np = null_queue(sd, NOP_DUMP)) == NULL)
		return -1;
	np->np_dumpcb = cb;
	np->np_arg = arg;
	return 0;
}

static int
null_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	struct null_pending *np;

	if ((np = null_queue(sd, NOP_GET)) == NULL)
		return -1;
	np->np_sa = *sa;
	sa_free_keys(&np->np_sa);
	np->np_dumpcb = cb;
	np->np_arg = arg;
	return 0;
}

static struct null_spd *
null_spd_find(struct null_db *nb, const struct kink_policy *pol)
{
	struct null_spd *nd;

	TAILQ_FOREACH(nd, &nb->nb_spd, nd_entry)
		if (nd->nd_pol.pol_reqid == pol->pol_reqid)
			return nd;
	return NULL;
}

/*
 * One entry stands for all of a policy's directions, so every direction
 * is answered the same.
 */
static int
null_spd_get(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	static const uint8_t gen[3] = { SADB_SPD_OUT, SADB_SPD_IN,
	    SADB_SPD_FWD };
	struct null_pending *np;
	uint8_t dirs[3];
	int n, i;

	if (((struct null_db *)sd->sd_priv)->nb_refuse_spd_get) {
		errno = ENOTSUP;
		return -1;
	}
	if ((n = kern_pol_dirs(pol, gen, dirs)) <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((np = null_queue(sd, NOP_SPD)) == NULL)
			break;
		np->np_spdcb = cb;
		np->np_arg = arg;
		np->np_spi = dirs[i];
		np->np_sa.sa_reqid = pol->pol_reqid;
	}
	return i == 0 ? -1 : i;
}

static int
null_spd_add(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	struct null_db *nb = sd->sd_priv;
	struct null_spd *nd;
	int err = 0;

	if ((nd = null_spd_find(nb, pol)) != NULL)
		nd->nd_pol = *pol;
	else if (nb->nb_nspd >= NULL_MAX_SPD)
		err = ENOBUFS;
	else if ((nd = calloc(1, sizeof(*nd))) == NULL)
		err = ENOMEM;
	else {
		nd->nd_pol = *pol;
		TAILQ_INSERT_TAIL(&nb->nb_spd, nd, nd_entry);
		nb->nb_nspd++;
	}
	return null_done(sd, err, cb, arg);
}

static int
null_spd_del(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	struct null_db *nb = sd->sd_priv;
	struct null_spd *nd;
	int err = 0;

	if ((nd = null_spd_find(nb, pol)) == NULL)
		err = ESRCH;
	else {
		TAILQ_REMOVE(&nb->nb_spd, nd, nd_entry);
		nb->nb_nspd--;
		free(nd);
	}
	return null_done(sd, err, cb, arg);
}

int
sadb_null_event(struct sadb *sd, const struct sadb_event *ev)
{
	struct null_pending *np;

	if (sd->sd_ops != &sadb_null_ops) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if ((np = null_queue(sd, NOP_EVENT)) == NULL)
		return -1;
	np->np_ev = *ev;
	return 0;
}

static int
null_supports(struct sadb *sd, uint8_t proto, const struct kink_xform *x,
    const char **why)
{
	struct null_db *nb = sd->sd_priv;

	if (nb->nb_refuse_gcm && proto == IPPROTO_ESP &&
	    (x->x_id == ESP_AES_GCM_8 || x->x_id == ESP_AES_GCM_12 ||
	    x->x_id == ESP_AES_GCM_16)) {
		*why = "backend null cannot install AES-GCM (test knob)";
		return 0;
	}
	return 1;
}

int
sadb_null_refuse_gcm(struct sadb *sd, int on)
{
	if (sd->sd_ops != &sadb_null_ops) {
		errno = EOPNOTSUPP;
		return -1;
	}
	((struct null_db *)sd->sd_priv)->nb_refuse_gcm = on != 0;
	return 0;
}

int
sadb_null_refuse_add(struct sadb *sd, unsigned dirs)
{
	if (sd->sd_ops != &sadb_null_ops) {
		errno = EOPNOTSUPP;
		return -1;
	}
	((struct null_db *)sd->sd_priv)->nb_refuse_add = dirs;
	return 0;
}

int
sadb_null_refuse_spd_get(struct sadb *sd, int on)
{
	if (sd->sd_ops != &sadb_null_ops) {
		errno = EOPNOTSUPP;
		return -1;
	}
	((struct null_db *)sd->sd_priv)->nb_refuse_spd_get = on != 0;
	return 0;
}

const struct sadb_ops sadb_null_ops = {
	.name = "null",
	.open = null_open,
	.close = null_close,
	.getspi = null_getspi,
	.add = null_add,
	.del = null_del,
	.dump = null_dump,
	.spd_add = null_spd_add,
	.spd_del = null_spd_del,
	.spd_get = null_spd_get,
	.get = null_get,
	.supports = null_supports,
};
