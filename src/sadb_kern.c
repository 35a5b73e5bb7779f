/*
 * The kernel driver shared by the PF_KEY and XFRM backends: socket, event,
 * request queue, read loop and dispatch.  Messages are built and decoded
 * by the format's pure codec (struct sadb_kfmt); everything that waits or
 * calls back is here, once.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "isakmp_num.h"
#include "log.h"
#include "sadb_kern.h"

/* One datagram: a dump part, or a burst of netlink messages. */
#define SADB_KERN_RECV_LEN	65536

enum sadb_req_kind {
	SADB_REQ_DONE = 1,	/* rq_done */
	SADB_REQ_SPI,		/* rq_spicb */
	SADB_REQ_DUMP,		/* rq_dumpcb */
	SADB_REQ_GET,		/* rq_dumpcb, one SA, any reqid */
	SADB_REQ_QUIET,		/* nobody waits (first half of delete + add) */
	SADB_REQ_LARVAL,	/* getspi on a larval SA, then rq_done's delete */
	SADB_REQ_SPDNEW,	/* rq_spdcb with rq_spddir */
	SADB_REQ_SPDDUMP,	/* rq_spdcb per direction of rq_pol */
};

struct sadb_kern;

struct sadb_req {
	TAILQ_ENTRY(sadb_req) rq_entry;
	struct sadb_kern *rq_k;
	uint32_t	 rq_seq;
	enum sadb_req_kind rq_kind;
	sadb_done_cb	 rq_done;
	sadb_spi_cb	 rq_spicb;
	sadb_dump_cb	 rq_dumpcb;
	sadb_spd_cb	 rq_spdcb;
	int		 rq_spddir;	/* SADB_SPD_* */
	void		*rq_arg;
	uint32_t	 rq_spi;	/* SPI: the value the kernel gave */
	int		 rq_gotspi;
	/* An UPDATE of a larval SA that may have expired: the ADD to send
	 * instead on ESRCH (owned; holds keys, wiped on free). */
	uint8_t		*rq_fallback;
	size_t		 rq_fallback_len;
	struct kink_sa	 rq_sa;		/* for the larval table, no keys */
	/* One call, several kernel messages (a policy per direction): the
	 * earlier ones are QUIET with rq_parent set to the last one's seq,
	 * which reports the first error of all. */
	uint32_t	 rq_parent;
	int		 rq_prev_err;
	struct event	*rq_timer;
	/* SADB_REQ_SPDDUMP: the policy asked about, its directions (the
	 * format's values) and which of them the dump showed; rq_queued:
	 * not sent yet, another dump is in flight (PF_KEY serves one). */
	struct kink_policy rq_pol;
	uint8_t		 rq_dirs[3];
	int		 rq_ndirs;
	uint8_t		 rq_found;
	int		 rq_queued;
};

struct sadb_larval {
	struct sockaddr_storage lv_dst;
	uint32_t	 lv_spi;
	uint8_t		 lv_proto;
};

struct sadb_kern {
	const struct sadb_kfmt *k_fmt;
	void		*k_state;	/* the format's */
	struct sadb	*k_sd;
	int		 k_fd;
	struct event	*k_ev;
	uint32_t	 k_seq;
	uint32_t	 k_larval_reqid;
	TAILQ_HEAD(, sadb_req) k_reqs;
	int		 k_nreqs;
	struct sadb_larval k_larval[SADB_KERN_MAXLARVAL];
	int		 k_nlarval;
	int		 k_incb;	/* inside the read callback */
	int		 k_dead;	/* closed while k_incb: free on the way out */
	uint32_t	 k_dump;	/* kf_one_dump: seq of the dump, or 0 */
	struct sadb_caps k_caps;	/* what the kernel can install */
	int		 k_caps_n;	/* REGISTER answers read */
	char		 k_why[160];	/* sadb_kern_supports' reason */
};

static void	sadb_req_finish(struct sadb_req *, int);
static void	kern_dump_next(struct sadb_kern *);
static struct sadb_req *kern_one(struct sadb_kern *, enum sadb_req_kind,
		    struct kreq *, void *);

static void
sadb_req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sadb_req *rq = arg;

	log_warnx("sadb %s: kernel did not answer request %u",
	    rq->rq_k->k_fmt->kf_name, rq->rq_seq);
	sadb_req_finish(rq, ETIMEDOUT);
}

static uint32_t
sadb_kern_seq(struct sadb_kern *k)
{
	if (++k->k_seq == 0)	/* 0 ends PF_KEY dumps; never use it */
		k->k_seq = 1;
	return k->k_seq;
}

static struct sadb_req *
sadb_req_new(struct sadb_kern *k, enum sadb_req_kind kind, void *arg)
{
	struct sadb_req *rq;
	struct timeval tv = { SADB_KERN_TIMEOUT_MS / 1000,
	    (SADB_KERN_TIMEOUT_MS % 1000) * 1000 };

	if (k->k_nreqs >= SADB_KERN_MAXREQ) {
		errno = EAGAIN;
		return NULL;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return NULL;
	rq->rq_k = k;
	rq->rq_kind = kind;
	rq->rq_arg = arg;
	rq->rq_seq = sadb_kern_seq(k);
	if ((rq->rq_timer = evtimer_new(k->k_sd->sd_base, sadb_req_timeout,
	    rq)) == NULL || evtimer_add(rq->rq_timer, &tv) == -1) {
		if (rq->rq_timer != NULL)
			event_free(rq->rq_timer);
		free(rq);
		errno = ENOMEM;
		return NULL;
	}
	TAILQ_INSERT_TAIL(&k->k_reqs, rq, rq_entry);
	k->k_nreqs++;
	return rq;
}

static struct sadb_req *
sadb_req_find(struct sadb_kern *k, uint32_t seq)
{
	struct sadb_req *rq;

	TAILQ_FOREACH(rq, &k->k_reqs, rq_entry)
		if (rq->rq_seq == seq)
			return rq;
	return NULL;
}

static void
sadb_req_free(struct sadb_req *rq)
{
	struct sadb_kern *k = rq->rq_k;

	TAILQ_REMOVE(&k->k_reqs, rq, rq_entry);
	k->k_nreqs--;
	event_free(rq->rq_timer);
	if (rq->rq_fallback != NULL)
		freezero(rq->rq_fallback, rq->rq_fallback_len);
	explicit_bzero(&rq->rq_sa, sizeof(rq->rq_sa));
	free(rq);
}

static void
sadb_req_finish(struct sadb_req *rq, int err)
{
	enum sadb_req_kind kind = rq->rq_kind;
	sadb_done_cb done = rq->rq_done;
	sadb_spi_cb spicb = rq->rq_spicb;
	sadb_dump_cb dumpcb = rq->rq_dumpcb;
	sadb_spd_cb spdcb = rq->rq_spdcb;
	int spddir = rq->rq_spddir;
	void *arg = rq->rq_arg;
	uint32_t spi = rq->rq_spi;
	struct sadb_kern *k = rq->rq_k;
	struct kink_sa lsa;
	int ndirs = rq->rq_ndirs, found = rq->rq_found, i;
	static const int gen[3] = { SADB_SPD_OUT, SADB_SPD_IN, SADB_SPD_FWD };

	if (err == 0 && (kind == SADB_REQ_SPI || kind == SADB_REQ_LARVAL) &&
	    !rq->rq_gotspi)
		err = EPROTO;	/* acknowledged, but no SPI came back */
	if (err == 0)
		err = rq->rq_prev_err;
	if (err != 0 && rq->rq_parent != 0) {
		struct sadb_req *p = sadb_req_find(rq->rq_k, rq->rq_parent);

		if (p != NULL && p->rq_prev_err == 0)
			p->rq_prev_err = err;
	}
	if (kind == SADB_REQ_LARVAL)
		lsa = rq->rq_sa;
	if (k->k_dump == rq->rq_seq)
		k->k_dump = 0;
	sadb_req_free(rq);
	/* Before the callbacks, which may close the backend. */
	if (k->k_dump == 0)
		kern_dump_next(k);
	/* A NULL callback is allowed: fire and forget. */
	switch (kind) {
	case SADB_REQ_LARVAL:
		if (err == 0) {
			struct kreq kr = { .kr_op = KREQ_DELETE, .kr_sa = &lsa };
			struct sadb_req *d;

			/* The larval SA now has an SPI: a delete names it. */
			lsa.sa_spi = spi;
			if ((d = kern_one(k, SADB_REQ_DONE, &kr, arg)) != NULL) {
				d->rq_done = done;
				break;
			}
			err = errno;
		}
		if (done != NULL)
			done(err, arg);
		break;
	case SADB_REQ_DONE:
		if (done != NULL)
			done(err, arg);
		break;
	case SADB_REQ_SPI:
		if (spicb != NULL)
			spicb(err, err ? 0 : spi, arg);
		break;
	case SADB_REQ_DUMP:
	case SADB_REQ_GET:
		if (dumpcb != NULL)
			dumpcb(err, NULL, arg);
		break;
	case SADB_REQ_SPDNEW:
		if (spdcb != NULL)
			spdcb(err, spddir, arg);
		break;
	case SADB_REQ_SPDDUMP:
		/* The callback may close us: only locals from here. */
		for (i = 0; i < ndirs && spdcb != NULL; i++)
			spdcb(err != 0 ? err : (found & (1 << i)) ? 0 : ENOENT,
			    gen[i], arg);
		break;
	case SADB_REQ_QUIET:
		break;
	}
}

static void
sadb_req_free_all(struct sadb_kern *k)
{
	struct sadb_req *rq;

	while ((rq = TAILQ_FIRST(&k->k_reqs)) != NULL)
		sadb_req_free(rq);
}

static void
sadb_larval_add(struct sadb_kern *k, const struct sockaddr_storage *dst,
    uint32_t spi, uint8_t proto)
{
	struct sadb_larval *lv;

	/* Full: forget the oldest; its UPDATE falls back to ADD. */
	if (k->k_nlarval == SADB_KERN_MAXLARVAL) {
		memmove(&k->k_larval[0], &k->k_larval[1],
		    (SADB_KERN_MAXLARVAL - 1) * sizeof(k->k_larval[0]));
		k->k_nlarval--;
	}
	lv = &k->k_larval[k->k_nlarval++];
	lv->lv_dst = *dst;
	lv->lv_spi = spi;
	lv->lv_proto = proto;
}

static int
sadb_larval_take(struct sadb_kern *k, const struct sockaddr_storage *dst,
    uint32_t spi, uint8_t proto)
{
	int i;

	for (i = 0; i < k->k_nlarval; i++) {
		struct sadb_larval *lv = &k->k_larval[i];

		if (lv->lv_spi == spi && lv->lv_proto == proto &&
		    addr_eq(addr_sa(&lv->lv_dst), addr_sa(dst))) {
			memmove(lv, lv + 1, (size_t)(k->k_nlarval - i - 1) *
			    sizeof(*lv));
			k->k_nlarval--;
			return 1;
		}
	}
	return 0;
}

int
sadb_reqid_ours(const struct sadb *sd, uint32_t reqid)
{
	return reqid >= sd->sd_reqid_min && reqid <= sd->sd_reqid_max;
}

/* The request's message, built into a stack buffer by the format. */
struct kbuf {
	uint64_t	 b_buf[KMSG_MAX / 8];
	int		 b_len;
};

static int
kern_build(struct sadb_kern *k, const struct kreq *kr, struct kbuf *b)
{
	b->b_len = k->k_fmt->kf_build(k->k_state, kr, (uint8_t *)b->b_buf,
	    sizeof(b->b_buf));
	return b->b_len == -1 ? -1 : 0;
}

static int
kern_send(struct sadb_kern *k, const void *buf, size_t len)
{
	if (send(k->k_fd, buf, len, 0) == -1) {
		log_warn("sadb %s: send", k->k_fmt->kf_name);
		return -1;
	}
	return 0;
}

/* Build kr (with rq's seq) and send it; -1 with errno.  Wipes the buffer:
 * ADD and UPDATE carry keys. */
static int
kern_request(struct sadb_kern *k, struct kreq *kr, struct sadb_req *rq)
{
	struct kbuf b;
	int e = 0;

	kr->kr_seq = rq->rq_seq;
	if (kern_build(k, kr, &b) == -1 ||
	    kern_send(k, b.b_buf, (size_t)b.b_len) == -1)
		e = errno;
	explicit_bzero(&b, sizeof(b));
	errno = e;
	return e != 0 ? -1 : 0;
}

/* A request with one message: queue, send; nothing queued on failure. */
static struct sadb_req *
kern_one(struct sadb_kern *k, enum sadb_req_kind kind, struct kreq *kr,
    void *arg)
{
	struct sadb_req *rq;
	int e;

	if ((rq = sadb_req_new(k, kind, arg)) == NULL)
		return NULL;
	if (kern_request(k, kr, rq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return NULL;
	}
	return rq;
}

static int
sadb_kern_getspi(struct sadb *sd, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_GETSPI, .kr_src = src,
	    .kr_dst = dst, .kr_proto = proto };
	struct sadb_req *rq;
	int e;

	if (src->ss_family != dst->ss_family) {
		errno = EINVAL;
		return -1;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_SPI, arg)) == NULL)
		return -1;
	rq->rq_spicb = cb;
	rq->rq_sa.sa_dst = *dst;
	rq->rq_sa.sa_proto = proto;
	kr.kr_reqid = SADB_LARVAL_REQID_BASE |
	    (++k->k_larval_reqid & ~SADB_LARVAL_REQID_BASE);
	if (kern_request(k, &kr, rq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * After GETSPI the larval SA must be UPDATEd (ADD says EEXIST); if it
 * expired meanwhile (30 s), UPDATE says ESRCH and the ADD kept here, with
 * the same seq, is sent instead.
 */
static int
kern_fallback(struct sadb_kern *k, struct kreq *kr, struct sadb_req *rq)
{
	struct kbuf b;
	int e = 0;

	kr->kr_op = KREQ_ADD;
	kr->kr_seq = rq->rq_seq;
	if (kern_build(k, kr, &b) == -1 ||
	    (rq->rq_fallback = malloc((size_t)b.b_len)) == NULL)
		e = errno;
	else {
		memcpy(rq->rq_fallback, b.b_buf, (size_t)b.b_len);
		rq->rq_fallback_len = (size_t)b.b_len;
	}
	explicit_bzero(&b, sizeof(b));
	errno = e;
	return e != 0 ? -1 : 0;
}

static int
sadb_kern_add(struct sadb *sd, const struct kink_sa *sa, int replace,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_sa = sa, .kr_reqid = sa->sa_reqid };
	struct sadb_req *rq, *del = NULL;
	int larval, e;

	if (sa->sa_proto == PROTO_IPCOMP && k->k_fmt->kf_comp != NULL)
		kr.kr_reqid = k->k_fmt->kf_comp(k->k_state, sa);
	else if (k->k_fmt->kf_reqid != NULL && (kr.kr_reqid =
	    k->k_fmt->kf_reqid(k->k_state, sa->sa_reqid)) == 0 &&
	    sa->sa_reqid != 0) {
		errno = ENOSPC;
		return -1;
	}
	larval = sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if (replace) {
		/* Linux's UPDATE keeps the old keys of a valid SA. */
		kr.kr_op = KREQ_DELETE;
		if ((del = kern_one(k, SADB_REQ_QUIET, &kr, NULL)) == NULL)
			return -1;
	}
	if ((rq = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		goto fail;
	rq->rq_done = cb;
	if (larval && !replace && kern_fallback(k, &kr, rq) == -1)
		goto fail_rq;
	kr.kr_op = larval && !replace ? KREQ_UPDATE : KREQ_ADD;
	if (kern_request(k, &kr, rq) == -1)
		goto fail_rq;
	return 0;
 fail_rq:
	e = errno;
	sadb_req_free(rq);
	errno = e;
 fail:
	e = errno;
	if (del != NULL)
		sadb_req_free(del);
	errno = e;
	return -1;
}

static int
sadb_kern_del(struct sadb *sd, const struct kink_sa *sa, sadb_done_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_DELETE, .kr_sa = sa };
	struct sadb_req *rq;

	(void)sadb_larval_take(k, &sa->sa_dst, sa->sa_spi, sa->sa_proto);
	if ((rq = kern_one(k, SADB_REQ_DONE, &kr, arg)) == NULL)
		return -1;
	rq->rq_done = cb;
	return 0;
}

/*
 * A larval SA (SPI 0, the kernel's placeholder for an ACQUIRE) cannot be
 * named by a delete, which finds SAs by SPI.  Both kernels hand an SPI to
 * the larval SA a getspi with the same (mode, reqid, proto, addresses)
 * finds; the delete then names that SPI.  Without such a larval SA the
 * getspi makes one, and the delete removes it again.
 */
static int
sadb_kern_del_larval(struct sadb *sd, const struct kink_sa *sa,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_GETSPI, .kr_src = &sa->sa_src,
	    .kr_dst = &sa->sa_dst, .kr_proto = sa->sa_proto, .kr_sa = sa,
	    .kr_reqid = sa->sa_reqid };
	struct sadb_req *rq;

	if (sa->sa_src.ss_family != sa->sa_dst.ss_family) {
		errno = EINVAL;
		return -1;
	}
	if (k->k_fmt->kf_reqid != NULL && sa->sa_reqid != 0 && (kr.kr_reqid =
	    k->k_fmt->kf_reqid(k->k_state, sa->sa_reqid)) == 0) {
		errno = ENOSPC;
		return -1;
	}
	if ((rq = kern_one(k, SADB_REQ_LARVAL, &kr, arg)) == NULL)
		return -1;
	rq->rq_done = cb;
	rq->rq_sa = *sa;
	return 0;
}

static int
sadb_kern_get(struct sadb *sd, const struct kink_sa *sa, sadb_dump_cb cb,
    void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_GET, .kr_sa = sa };
	struct sadb_req *rq;

	if ((rq = kern_one(k, SADB_REQ_GET, &kr, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	return 0;
}

static int
sadb_kern_dump(struct sadb *sd, sadb_dump_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_DUMP };
	struct sadb_req *rq;

	/* A timed-out dump is no longer in the queue.  Behind an SPD dump
	 * (pfkey_spd_get) an SA dump waits its turn. */
	if (k->k_fmt->kf_one_dump && k->k_dump != 0 &&
	    (rq = sadb_req_find(k, k->k_dump)) != NULL) {
		if (rq->rq_kind != SADB_REQ_SPDDUMP) {
			errno = EBUSY;
			return -1;
		}
		if ((rq = sadb_req_new(k, SADB_REQ_DUMP, arg)) == NULL)
			return -1;
		rq->rq_dumpcb = cb;
		rq->rq_queued = 1;
		return 0;
	}
	if ((rq = kern_one(k, SADB_REQ_DUMP, &kr, arg)) == NULL)
		return -1;
	rq->rq_dumpcb = cb;
	if (k->k_fmt->kf_one_dump)
		k->k_dump = rq->rq_seq;
	return 0;
}

/* One call, one kernel message per direction; the last reports for all. */
static int
kern_spd(struct sadb *sd, const struct kink_policy *pol, int del,
    sadb_done_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = del ? KREQ_SPD_DEL : KREQ_SPD_ADD,
	    .kr_pol = pol, .kr_reqid = pol->pol_reqid };
	struct sadb_req *last, *rq;
	uint8_t dirs[3];
	int n, i, e;

	if (!del && pol->pol_reqid != 0 && k->k_fmt->kf_reqid != NULL &&
	    (kr.kr_reqid = k->k_fmt->kf_reqid(k->k_state,
	    pol->pol_reqid)) == 0) {
		errno = ENOSPC;
		return -1;
	}
	n = k->k_fmt->kf_dirs(pol, dirs);
	if ((last = sadb_req_new(k, SADB_REQ_DONE, arg)) == NULL)
		return -1;
	last->rq_done = cb;
	last->rq_sa.sa_reqid = pol->pol_reqid;
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			rq = last;
		else if ((rq = sadb_req_new(k, SADB_REQ_QUIET, NULL)) == NULL)
			goto fail;
		else {
			rq->rq_parent = last->rq_seq;
			rq->rq_sa.sa_reqid = pol->pol_reqid;
		}
		kr.kr_dir = dirs[i];
		if (kern_request(k, &kr, rq) == -1) {
			if (rq != last)
				sadb_req_free(rq);
			goto fail;
		}
	}
	return 0;
 fail:
	e = errno;
	/* Messages already sent still get answers; last tells the caller. */
	if (i == 0) {
		sadb_req_free(last);
		errno = e;
		return -1;
	}
	last->rq_prev_err = e;
	return 0;
}

/*
 * Per direction an exclusive add (its answer says whether the entry was
 * missing), then the update kern_spd() sends: the kernel handles them in
 * order, so the entry ends as the update writes it either way.
 */
static int
sadb_kern_spd_repair(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_SPD_ADD, .kr_pol = pol,
	    .kr_reqid = pol->pol_reqid, .kr_excl = 1 };
	static const int gen[3] = { SADB_SPD_OUT, SADB_SPD_IN, SADB_SPD_FWD };
	struct sadb_req *rq;
	uint8_t dirs[3];
	int n, i;

	if (pol->pol_reqid != 0 && k->k_fmt->kf_reqid != NULL &&
	    (kr.kr_reqid = k->k_fmt->kf_reqid(k->k_state,
	    pol->pol_reqid)) == 0) {
		errno = ENOSPC;
		return -1;
	}
	n = k->k_fmt->kf_dirs(pol, dirs);
	for (i = 0; i < n; i++) {
		if ((rq = sadb_req_new(k, SADB_REQ_SPDNEW, arg)) == NULL)
			break;
		rq->rq_spdcb = cb;
		rq->rq_spddir = gen[i];
		rq->rq_sa.sa_reqid = pol->pol_reqid;
		kr.kr_dir = dirs[i];
		if (kern_request(k, &kr, rq) == -1) {
			sadb_req_free(rq);
			break;
		}
	}
	if (i == 0)
		return -1;
	/* The adds sent are answered; the update rewrites every entry. */
	(void)kern_spd(sd, pol, 0, NULL, NULL);
	return i;
}

static int
sadb_kern_spd_add(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return kern_spd(sd, pol, 0, cb, arg);
}

static int
sadb_kern_spd_del(struct sadb *sd, const struct kink_policy *pol,
    sadb_done_cb cb, void *arg)
{
	return kern_spd(sd, pol, 1, cb, arg);
}

static void
kern_event(struct sadb_kern *k, const struct kin *in)
{
	const struct sadb_event *ev = &in->ki_ev;

	if (ev->ev_type == SADB_EV_ACQUIRE)
		log_debug("sadb %s: ACQUIRE policy %u reqid %u proto %u",
		    k->k_fmt->kf_name, in->ki_polid, ev->ev_reqid,
		    ev->ev_proto);
	else
		log_debug("sadb %s: %s EXPIRE spi 0x%08x", k->k_fmt->kf_name,
		    ev->ev_type == SADB_EV_EXPIRE_HARD ? "hard" : "soft",
		    ev->ev_sa.sa_spi);
	sadb_upcall(k->k_sd, ev);
}

static int
sel_same(const struct kink_selector *a, const struct kink_selector *b)
{
	return a->sel_plen == b->sel_plen && a->sel_port == b->sel_port &&
	    addr_eq(addr_sa(&a->sel_addr), addr_sa(&b->sel_addr));
}

/* An SPD entry of the dump: one of the asked policy's directions? */
static void
kern_spd_part(struct sadb_req *rq, const struct kin *in)
{
	const struct kink_policy *pol = &rq->rq_pol;
	int i, out;

	if (!in->ki_spd_ipsec || in->ki_spd_ulproto != pol->pol_ulproto)
		return;
	for (i = 0; i < rq->rq_ndirs; i++) {
		if (in->ki_spd_dir != rq->rq_dirs[i])
			continue;
		/* As the policy was written: out from src to dst, in and
		 * fwd the other way (build_pol). */
		out = i == 0;
		if (sel_same(&in->ki_spd_src, out ? &pol->pol_src :
		    &pol->pol_dst) && sel_same(&in->ki_spd_dst, out ?
		    &pol->pol_dst : &pol->pol_src))
			rq->rq_found |= (uint8_t)(1 << i);
	}
}

/* A part of the dump in flight (PF_KEY numbers them on its own). */
static void
kern_dump_part(struct sadb_kern *k, const struct kin *in)
{
	struct sadb_req *rq;
	uint32_t seq = k->k_dump;

	if ((rq = sadb_req_find(k, seq)) == NULL) {
		k->k_dump = 0;	/* timed out: the rest is noise */
		return;
	}
	if (in->ki_err != 0) {
		k->k_dump = 0;
		/* ENOENT: nothing to dump, an empty answer. */
		sadb_req_finish(rq, in->ki_err == ENOENT ? 0 : in->ki_err);
		return;
	}
	if (rq->rq_kind == SADB_REQ_SPDDUMP && in->ki_have && in->ki_spd)
		kern_spd_part(rq, in);
	else if (in->ki_have && !in->ki_spd && rq->rq_dumpcb != NULL &&
	    sadb_reqid_ours(k->k_sd, in->ki_sa.sa_reqid))
		rq->rq_dumpcb(0, &in->ki_sa, rq->rq_arg);
	/* The callback may have closed us, or timed out nothing: look again. */
	if (in->ki_last && !k->k_dead && (rq = sadb_req_find(k, seq)) != NULL) {
		k->k_dump = 0;
		sadb_req_finish(rq, 0);
	}
}

/* An SA the kernel returned for rq (XFRM: the ACK or DONE follows). */
static void
kern_sa(struct sadb_kern *k, struct sadb_req *rq, const struct kin *in)
{
	if (rq->rq_kind == SADB_REQ_LARVAL) {
		rq->rq_spi = in->ki_spi;
		rq->rq_gotspi = 1;
		return;
	}
	if (rq->rq_kind == SADB_REQ_SPI) {
		rq->rq_spi = in->ki_spi;
		rq->rq_gotspi = 1;
		sadb_larval_add(k, &rq->rq_sa.sa_dst, rq->rq_spi,
		    rq->rq_sa.sa_proto);
		return;
	}
	if (rq->rq_kind == SADB_REQ_DUMP &&
	    (!sadb_reqid_ours(k->k_sd, in->ki_sa.sa_reqid) || in->ki_foreign))
		return;
	if ((rq->rq_kind == SADB_REQ_DUMP || rq->rq_kind == SADB_REQ_GET) &&
	    rq->rq_dumpcb != NULL)
		rq->rq_dumpcb(0, &in->ki_sa, rq->rq_arg);
}

/* The kernel's answer to one of our requests. */
static void
kern_answer(struct sadb_kern *k, const struct kin *in)
{
	struct sadb_req *rq;

	if ((rq = sadb_req_find(k, in->ki_seq)) == NULL)
		return;		/* timed out already, or not ours */
	if (in->ki_kind == KIN_SA) {
		kern_sa(k, rq, in);
		return;
	}
	if (in->ki_err != 0) {
		if (in->ki_err == ESRCH && rq->rq_fallback != NULL) {
			/* The larval SA expired: ADD instead of UPDATE. */
			ssize_t n = send(k->k_fd, rq->rq_fallback,
			    rq->rq_fallback_len, 0);

			freezero(rq->rq_fallback, rq->rq_fallback_len);
			rq->rq_fallback = NULL;
			if (n == -1)
				sadb_req_finish(rq, errno);
			return;
		}
		sadb_req_finish(rq, in->ki_err);
		return;
	}
	switch (in->ki_kind) {
	case KIN_SPI:
		if ((rq->rq_kind != SADB_REQ_SPI &&
		    rq->rq_kind != SADB_REQ_LARVAL) || !in->ki_have) {
			sadb_req_finish(rq, EPROTO);
			return;
		}
		kern_sa(k, rq, in);
		sadb_req_finish(rq, 0);
		return;
	case KIN_GET:
		if (rq->rq_kind != SADB_REQ_GET || !in->ki_have) {
			sadb_req_finish(rq, EPROTO);
			return;
		}
		kern_sa(k, rq, in);
		if (!k->k_dead && (rq = sadb_req_find(k, in->ki_seq)) != NULL)
			sadb_req_finish(rq, 0);
		return;
	default:
		if (in->ki_polid_set && k->k_fmt->kf_policy != NULL)
			k->k_fmt->kf_policy(k->k_state, in->ki_polid,
			    rq->rq_sa.sa_reqid);
		sadb_req_finish(rq, 0);
		return;
	}
}

static void
kern_dispatch(struct sadb_kern *k, const uint8_t *msg, size_t len)
{
	struct kin in;

	if (k->k_fmt->kf_caps != NULL &&
	    k->k_fmt->kf_caps(msg, len, &k->k_caps) == 1)
		k->k_caps_n++;
	k->k_fmt->kf_parse(k->k_state, msg, len, &in);
	switch (in.ki_kind) {
	case KIN_IGNORE:
		return;
	case KIN_BAD:
		log_debug("sadb %s: malformed message (%zu octets)",
		    k->k_fmt->kf_name, len);
		return;
	case KIN_ACQUIRE:
	case KIN_EXPIRE:
		kern_event(k, &in);
		return;
	case KIN_DUMP:
		if (k->k_dump != 0 &&
		    (in.ki_err == 0 || in.ki_seq == k->k_dump)) {
			kern_dump_part(k, &in);
			return;
		}
		break;
	default:
		break;
	}
	kern_answer(k, &in);
}

static void
kern_free(struct sadb_kern *k)
{
	sadb_req_free_all(k);
	if (k->k_state != NULL)
		k->k_fmt->kf_free(k->k_state);
	free(k);
}

static void
kern_read(evutil_socket_t fd, short what, void *arg)
{
	struct sadb_kern *k = arg;
	static uint64_t buf[SADB_KERN_RECV_LEN / 8];
	const uint8_t *p = (const uint8_t *)buf;
	size_t len, off, ml, used = 0;
	ssize_t n;

	k->k_incb = 1;
	while (!k->k_dead) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && k->k_fmt->kf_overrun_ok) {
				log_warnx("sadb %s: receive buffer overrun",
				    k->k_fmt->kf_name);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("sadb %s: recv", k->k_fmt->kf_name);
			break;
		}
		len = (size_t)n;
		if (len > used)
			used = len;
		for (off = 0; !k->k_dead && off < len &&
		    (ml = k->k_fmt->kf_next(p + off, len - off)) != 0;
		    off += ml)
			kern_dispatch(k, p + off, ml);
	}
	explicit_bzero(buf, used);	/* ADD echoes and dumps carry keys */
	k->k_incb = 0;
	if (k->k_dead)
		kern_free(k);
}

/*
 * The REGISTER answers carry the supported lists, and the start-up suite
 * filter runs before the event loop: read them here, at most 2 s (other
 * messages meanwhile go their usual way).  Without them nothing is known
 * and nothing refused.
 */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
kern_wait_caps(struct sadb_kern *k)
{
	struct pollfd pfd = { .fd = k->k_fd, .events = POLLIN };
	uint64_t end = mono_ms() + 2000, now;

	while (k->k_caps_n < 2 && (now = mono_ms()) < end &&
	    poll(&pfd, 1, (int)(end - now)) > 0 && !k->k_dead)
		kern_read(k->k_fd, EV_READ, k);
	if (k->k_caps_n == 0)
		log_warnx("sadb %s: no SADB_REGISTER answer; the kernel's "
		    "algorithms are unknown", k->k_fmt->kf_name);
}

static int
sadb_kern_caps(struct sadb *sd, struct sadb_caps *out)
{
	struct sadb_kern *k = sd->sd_priv;

	if (k == NULL || !k->k_caps.kc_known)
		return -1;
	*out = k->k_caps;
	return 0;
}

static int
sadb_kern_supports(struct sadb *sd, uint8_t proto,
    const struct kink_xform *x, const char **why)
{
	struct sadb_kern *k = sd->sd_priv;

	if (k == NULL || sadb_caps_xform(&k->k_caps, proto, x, k->k_why,
	    sizeof(k->k_why)))
		return 1;
	*why = k->k_why;
	return 0;
}

static int
kern_register(struct sadb_kern *k, uint8_t proto)
{
	struct kreq kr = { .kr_op = KREQ_REGISTER, .kr_proto = proto };

	return kern_one(k, SADB_REQ_QUIET, &kr, NULL) == NULL ? -1 : 0;
}

static int
sadb_kern_open(struct sadb *sd, const struct sadb_kfmt *fmt)
{
	struct sadb_kern *k;
	void *state = NULL;
	int fd, e, sz = SADB_KERN_RCVBUF;

	if ((fd = fmt->kf_open(&state)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		e = errno;
		fmt->kf_free(state);
		close(fd);
		errno = e;
		return -1;
	}
	k->k_fmt = fmt;
	k->k_state = state;
	k->k_sd = sd;
	k->k_fd = fd;
	TAILQ_INIT(&k->k_reqs);
	/* PF_KEY answers reach every socket: tell handles in one process
	 * apart by their starting sequence numbers. */
	k->k_seq = ((uint32_t)getpid() << 16) ^ (uint32_t)(uintptr_t)k;
	if ((k->k_ev = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    kern_read, k)) == NULL || event_add(k->k_ev, NULL) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	sd->sd_priv = k;
	if (fmt->kf_register && (kern_register(k, PROTO_IPSEC_ESP) == -1 ||
	    kern_register(k, PROTO_IPSEC_AH) == -1)) {
		sd->sd_priv = NULL;
		goto fail;
	}
	if (fmt->kf_caps != NULL)
		kern_wait_caps(k);
	if (fmt->kf_probe != NULL && fmt->kf_probe(&k->k_caps) == -1)
		memset(&k->k_caps, 0, sizeof(k->k_caps));
	/* No kernel interface lists compression: files tell both formats. */
	sadb_caps_comp_probe(&k->k_caps);
	return 0;
 fail:
	e = errno;
	if (k->k_ev != NULL)
		event_free(k->k_ev);
	kern_free(k);
	close(fd);
	errno = e;
	return -1;
}

static void
sadb_kern_close(struct sadb *sd)
{
	struct sadb_kern *k = sd->sd_priv;

	if (k == NULL)
		return;
	sd->sd_priv = NULL;
	event_free(k->k_ev);
	close(k->k_fd);
	k->k_fd = -1;
	explicit_bzero(k->k_larval, sizeof(k->k_larval));
	if (k->k_incb) {
		/* Freed by kern_read on its way out; no more callbacks. */
		k->k_dead = 1;
		k->k_sd = NULL;
		return;
	}
	kern_free(k);
}

static int
pfkey_open(struct sadb *sd)
{
	return sadb_kern_open(sd, &sadb_pfkey_fmt);
}

static int
xfrm_open(struct sadb *sd)
{
	return sadb_kern_open(sd, &sadb_xfrm_fmt);
}

/* Send the first queued dump, if no dump is in flight. */
static void
kern_dump_next(struct sadb_kern *k)
{
	struct kreq kr = { .kr_op = KREQ_SPD_DUMP };
	struct timeval tv = { SADB_KERN_TIMEOUT_MS / 1000,
	    (SADB_KERN_TIMEOUT_MS % 1000) * 1000 };
	struct sadb_req *rq;

	while (k->k_dump == 0 && !k->k_dead) {
		TAILQ_FOREACH(rq, &k->k_reqs, rq_entry)
			if (rq->rq_queued)
				break;
		if (rq == NULL)
			return;
		rq->rq_queued = 0;
		kr.kr_op = rq->rq_kind == SADB_REQ_DUMP ? KREQ_DUMP :
		    KREQ_SPD_DUMP;
		/* Its time runs from now, not from the wait. */
		evtimer_add(rq->rq_timer, &tv);
		if (kern_request(k, &kr, rq) == 0) {
			k->k_dump = rq->rq_seq;
			return;
		}
		sadb_req_finish(rq, errno);
		return;		/* finish started the next one */
	}
}

/*
 * PF_KEY finds an SPD entry by id, not by selector, and kinkd knows no
 * ids across restarts: one SPDDUMP per call (queued behind a dump in
 * flight), each entry compared with the policy's selector per direction;
 * at the end each direction answers 0 or ENOENT.
 */
static int
pfkey_spd_get(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_SPD_DUMP };
	struct sadb_req *rq;
	int e;

	if ((rq = sadb_req_new(k, SADB_REQ_SPDDUMP, arg)) == NULL)
		return -1;
	rq->rq_spdcb = cb;
	rq->rq_pol = *pol;
	rq->rq_ndirs = k->k_fmt->kf_dirs(pol, rq->rq_dirs);
	if (k->k_dump != 0) {
		rq->rq_queued = 1;
		return rq->rq_ndirs;
	}
	/* Never a callback from inside the call: a failed send fails it. */
	if (kern_request(k, &kr, rq) == -1) {
		e = errno;
		sadb_req_free(rq);
		errno = e;
		return -1;
	}
	k->k_dump = rq->rq_seq;
	return rq->rq_ndirs;
}

/*
 * Read-only: one GETPOLICY per direction; each answers 0 (the kernel has
 * the entry) or ENOENT.  XFRM; PF_KEY dumps (pfkey_spd_get).
 */
static int
sadb_kern_spd_get(struct sadb *sd, const struct kink_policy *pol,
    sadb_spd_cb cb, void *arg)
{
	struct sadb_kern *k = sd->sd_priv;
	struct kreq kr = { .kr_op = KREQ_SPD_GET, .kr_pol = pol };
	static const int gen[3] = { SADB_SPD_OUT, SADB_SPD_IN, SADB_SPD_FWD };
	struct sadb_req *rq;
	uint8_t dirs[3];
	int n, i;

	n = k->k_fmt->kf_dirs(pol, dirs);
	for (i = 0; i < n; i++) {
		if ((rq = sadb_req_new(k, SADB_REQ_SPDNEW, arg)) == NULL)
			break;
		rq->rq_spdcb = cb;
		rq->rq_spddir = gen[i];
		rq->rq_sa.sa_reqid = pol->pol_reqid;
		kr.kr_dir = dirs[i];
		if (kern_request(k, &kr, rq) == -1) {
			sadb_req_free(rq);
			break;
		}
	}
	return i == 0 ? -1 : i;
}

const struct sadb_ops sadb_pfkey_ops = {
	.name = "pfkey",
	.open = pfkey_open,
	.close = sadb_kern_close,
	.getspi = sadb_kern_getspi,
	.add = sadb_kern_add,
	.del = sadb_kern_del,
	.dump = sadb_kern_dump,
	.spd_add = sadb_kern_spd_add,
	.spd_del = sadb_kern_spd_del,
	.get = sadb_kern_get,
	.del_larval = sadb_kern_del_larval,
	.spd_repair = sadb_kern_spd_repair,
	.spd_get = pfkey_spd_get,
	.caps = sadb_kern_caps,
	.supports = sadb_kern_supports,
};

const struct sadb_ops sadb_xfrm_ops = {
	.name = "xfrm",
	.open = xfrm_open,
	.close = sadb_kern_close,
	.getspi = sadb_kern_getspi,
	.add = sadb_kern_add,
	.del = sadb_kern_del,
	.dump = sadb_kern_dump,
	.spd_add = sadb_kern_spd_add,
	.spd_del = sadb_kern_spd_del,
	.get = sadb_kern_get,
	.del_larval = sadb_kern_del_larval,
	.spd_repair = sadb_kern_spd_repair,
	.spd_get = sadb_kern_spd_get,
	.caps = sadb_kern_caps,
	.supports = sadb_kern_supports,
};
