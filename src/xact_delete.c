/*
 * DELETE (RFC 4430 sections 3.3, 6.4).  Initiator: outbound SAs go at
 * once, the DELETE lists our inbound SPIs, and the inbound SAs go after
 * the REPLY plus the grace timer (delete-grace), or after giving up.
 * Responder: the SAs named (our outbound SPIs) go in both directions, the
 * outbound at once and the inbound after the grace timer; the REPLY lists
 * our inbound SPIs, and an SPI we do not have gets Notify INVALID-SPI.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "control.h"
#include "isakmp.h"
#include "kink.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sarec.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

/* Add `spi` to the Delete payload of `proto` in *qm. */
static void
add_delete(struct isakmp_msg *qm, uint8_t proto, uint32_t spi)
{
	struct isakmp_delete *d = NULL;
	int i;

	for (i = 0; i < qm->m_ndelete; i++)
		if (qm->m_delete[i].d_proto == proto &&
		    qm->m_delete[i].d_nspi < ISAKMP_MAX_DELETE_SPIS)
			d = &qm->m_delete[i];
	if (d == NULL) {
		if (qm->m_ndelete >= ISAKMP_MAX_DELETE)
			return;
		d = &qm->m_delete[qm->m_ndelete++];
		d->d_doi = IPSEC_DOI;
		d->d_proto = proto;
		/* A CPI goes in 2 octets (RFC 2407 4.4.1). */
		d->d_spisize = (uint8_t)isakmp_spi_size(proto);
	}
	if (d->d_nspi < ISAKMP_MAX_DELETE_SPIS)
		d->d_spi[d->d_nspi++] = spi;
}

static void
delete_send(struct kink_xact *x)
{
	if (xact_build_cmd(x) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the DELETE");
		return;
	}
	if (xact_state(x, XS_I_DELETE) == 0)
		xact_send_first(x);
}

/* Append an SPI to the info line's list (truncated with "..."). */
static void
note_spi(struct kink_xact *x, uint32_t spi)
{
	char one[16];
	size_t len = strlen(x->xa_note);

	if (len + 16 >= sizeof(x->xa_note)) {
		if (len + 4 < sizeof(x->xa_note) && strcmp(x->xa_note + len -
		    3, "...") != 0)
			strlcat(x->xa_note, "...", sizeof(x->xa_note));
		return;
	}
	snprintf(one, sizeof(one), "%s0x%08x", len ? " " : "", spi);
	strlcat(x->xa_note, one, sizeof(x->xa_note));
}

/*
 * The oldest record (the first a walk in the order made meets) of the
 * pairs, and of those the oldest inbound one of its peer: through the
 * pair index, so the cost is that of the pairs named, not of the table.
 */
static void
pairs_first(struct kink_engine *en, const uint32_t *pairs, int npairs,
    struct kink_peer **pep, struct kink_sarec **inp)
{
	struct kink_sarec *sr, *first = NULL, *in = NULL;
	struct sarec_key k;
	int i;

	memset(&k, 0, sizeof(k));
	for (i = 0; i < npairs; i++) {
		k.k_pair = pairs[i];
		for (sr = sarec_next(en, NULL, &k); sr != NULL;
		    sr = sarec_next(en, sr, &k))
			if (first == NULL || sr->sr_seq < first->sr_seq)
				first = sr;
	}
	*pep = first != NULL ? first->sr_peer : NULL;
	if (first == NULL) {
		*inp = NULL;
		return;
	}
	for (i = 0; i < npairs; i++) {
		k.k_pair = pairs[i];
		for (sr = sarec_next(en, NULL, &k); sr != NULL;
		    sr = sarec_next(en, sr, &k))
			if (sr->sr_peer == first->sr_peer &&
			    sr->sr_sa.sa_dir == SA_DIR_IN &&
			    (in == NULL || sr->sr_seq < in->sr_seq))
				in = sr;
	}
	*inp = in;
}

int
xact_delete_start(struct kink_engine *en, uint32_t pair, struct xact_waiter *w)
{
	return xact_delete_start_pairs(en, &pair, 1, w);
}

int
xact_delete_start_pairs(struct kink_engine *en, const uint32_t *pairs,
    int npairs, struct xact_waiter *w)
{
	struct kink_sarec *sr, *next, *in;
	struct isakmp_msg *qm;
	struct kink_xact *x;
	struct kink_peer *pe;
	struct sarec_key k;
	int i;

	if (npairs <= 0 || npairs > XACT_DELETE_MAX_PAIRS)
		return -1;
	pairs_first(en, pairs, npairs, &pe, &in);
	if (pe == NULL)
		return -1;
	if (in == NULL) {
		/* Nothing inbound to name: just drop what is left. */
		for (i = 0; i < npairs; i++)
			sarec_pair_del(en, pairs[i], "deleted");
		return 0;
	}
	if ((qm = calloc(1, sizeof(*qm))) == NULL)
		return -1;
	if ((x = xact_new(en, pe, xact_new_xid(en), XR_INIT,
	    KINK_MSGTYPE_DELETE)) == NULL) {
		free(qm);
		return -1;
	}
	sa_addr_get(&in->sr_sa.sa_src, &x->xa_remote);
	sa_addr_get(&in->sr_sa.sa_dst, &x->xa_local);
	addr_set_port(&x->xa_remote, en->en_conf->c_port);
	addr_set_port(&x->xa_local, en->en_conf->c_port);
	memset(&k, 0, sizeof(k));
	for (i = 0; i < npairs; i++) {
		k.k_pair = pairs[i];
		for (sr = sarec_next(en, NULL, &k); sr != NULL; sr = next) {
			next = sarec_next(en, sr, &k);
			if (sr->sr_peer != pe)
				continue;
			if (sr->sr_sa.sa_dir == SA_DIR_IN) {
				add_delete(qm, sr->sr_sa.sa_proto,
				    sr->sr_sa.sa_spi);
				sr->sr_state = CTL_SA_DYING;
				sr->sr_del_serial = x->xa_serial;
				note_spi(x, sr->sr_sa.sa_spi);
			} else
				sarec_del(sr, "deleting"); /* 3.3: outbound 1st */
		}
	}
	if (isakmp_build(qm, &x->xa_qm, &x->xa_first) != 0) {
		free(qm);
		xact_wait(x, w);
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build Delete payloads");
		return -1;
	}
	free(qm);
	xact_wait(x, w);
	engine_event(en, CTL_EV_XACT_START, pe->pe_name, x->xa_xid,
	    "initiator DELETE");
	return xact_gettgt_ticket(x, delete_send);
}

/* A pair picked by a tell, and when its first record was met. */
struct tell_pair {
	uint32_t	 tp_pair;
	size_t		 tp_ord;
};

static int
tell_by_pair(const void *va, const void *vb)
{
	const struct tell_pair *a = va, *b = vb;

	if (a->tp_pair != b->tp_pair)
		return a->tp_pair < b->tp_pair ? -1 : 1;
	return a->tp_ord < b->tp_ord ? -1 : a->tp_ord > b->tp_ord;
}

static int
tell_by_ord(const void *va, const void *vb)
{
	const struct tell_pair *a = va, *b = vb;

	return a->tp_ord < b->tp_ord ? -1 : a->tp_ord > b->tp_ord;
}

/*
 * The pairs of `pe` with a record `sel` picks, each once, in the order
 * their first picked record was made; *np of them (-1: no memory).  One
 * walk of the peer's list and a sort: a flush of 100,000 pairs must not
 * walk the table once per DELETE.  -1 when out of memory.
 */
static int
tell_pairs(struct kink_peer *pe, int (*sel)(const struct kink_sarec *,
    void *), void *arg, struct tell_pair **vp, size_t *np)
{
	struct tell_pair *v, *nv;
	struct kink_sarec *sr;
	size_t n = 0, cap = 0, i, j;

	v = NULL;
	TAILQ_FOREACH(sr, &pe->pe_sas, sr_peer_entry) {
		if (sel != NULL && !sel(sr, arg))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				return -1;
			}
			v = nv;
		}
		v[n].tp_pair = sr->sr_pair;
		v[n].tp_ord = n;
		n++;
	}
	if (n > 1) {
		qsort(v, n, sizeof(*v), tell_by_pair);
		for (i = 1, j = 1; i < n; i++)
			if (v[i].tp_pair != v[j - 1].tp_pair)
				v[j++] = v[i];
		n = j;
		qsort(v, n, sizeof(*v), tell_by_ord);
	}
	*vp = v;
	*np = n;
	return 0;
}

/* One peer's part of xact_delete_tell(); the SAs removed, -1: no memory. */
static int
tell_peer(struct kink_engine *en, struct kink_peer *pe,
    int (*sel)(const struct kink_sarec *, void *), void *arg,
    const char *why, int *ndelete)
{
	uint32_t pairs[XACT_DELETE_MAX_PAIRS];
	struct tell_pair *v = NULL;
	struct kink_sarec *sr;
	struct sarec_key k;
	size_t nv = 0, at;
	int n = 0, np, i;

	if (TAILQ_EMPTY(&pe->pe_sas))
		return 0;
	if (tell_pairs(pe, sel, arg, &v, &nv) == -1) {
		/* Still removed, as the caller wants, but untold. */
		log_warnx("peer %s: no memory to list the pairs a DELETE "
		    "names: removing them without telling the peer",
		    pe->pe_name);
		for (sr = TAILQ_FIRST(&pe->pe_sas); sr != NULL; )
			if (sel == NULL || sel(sr, arg)) {
				n += sarec_pair_del(en, sr->sr_pair, why);
				sr = TAILQ_FIRST(&pe->pe_sas);
			} else
				sr = TAILQ_NEXT(sr, sr_peer_entry);
		return n;
	}
	memset(&k, 0, sizeof(k));
	for (at = 0; at < nv; at += (size_t)np) {
		np = nv - at > XACT_DELETE_MAX_PAIRS ? XACT_DELETE_MAX_PAIRS :
		    (int)(nv - at);
		for (i = 0; i < np; i++)
			pairs[i] = v[at + (size_t)i].tp_pair;
		/* Counted first: the DELETE removes the outbound ones itself. */
		for (i = 0; i < np; i++) {
			k.k_pair = pairs[i];
			for (sr = sarec_next(en, NULL, &k); sr != NULL;
			    sr = sarec_next(en, sr, &k))
				if (sr->sr_peer == pe)
					n++;
		}
		if (xact_delete_start_pairs(en, pairs, np, NULL) == 0 &&
		    ndelete != NULL)
			(*ndelete)++;
		for (i = 0; i < np; i++)
			sarec_pair_del(en, pairs[i], why);
	}
	free(v);
	return n;
}

/*
 * Tell the peers, then drop now: every pair with an SA `sel` picks (NULL:
 * every SA of `pe`, or of every peer when `pe` is NULL) is named in one
 * DELETE per peer and XACT_DELETE_MAX_PAIRS pairs, and all its SAs go at
 * once (no grace: the caller removes them on purpose, now).  Pairs whose
 * DELETE could not start are still removed.
 */
int
xact_delete_tell(struct kink_engine *en, struct kink_peer *pe,
    int (*sel)(const struct kink_sarec *, void *), void *arg,
    const char *why, int *ndelete)
{
	struct kink_peer *p, *next;
	int n = 0;

	if (pe != NULL)
		return tell_peer(en, pe, sel, arg, why, ndelete);
	for (p = TAILQ_FIRST(&en->en_peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, pe_entry);
		n += tell_peer(en, p, sel, arg, why, ndelete);
	}
	return n;
}

static int
delete_renew(struct kink_xact *old, struct xact_waiter *w)
{
	struct kink_engine *en = old->xa_en;
	struct kink_sarec *sr;
	struct kink_xact *x;
	struct sarec_key k;

	if ((x = xact_new(en, old->xa_peer, xact_new_xid(en), XR_INIT,
	    KINK_MSGTYPE_DELETE)) == NULL)
		return -1;
	x->xa_remote = old->xa_remote;
	x->xa_local = old->xa_local;
	x->xa_first = old->xa_first;
	strlcpy(x->xa_note, old->xa_note, sizeof(x->xa_note));
	memset(&k, 0, sizeof(k));
	k.k_del_serial = old->xa_serial;
	for (sr = sarec_next(en, NULL, &k); sr != NULL;
	    sr = sarec_next(en, sr, &k))
		sr->sr_del_serial = x->xa_serial;
	xact_wait(x, w);
	if (buf_put(&x->xa_qm, old->xa_qm.b_data, old->xa_qm.b_len) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return -1;
	}
	engine_event(en, CTL_EV_XACT_START, x->xa_peer->pe_name, x->xa_xid,
	    "initiator DELETE (renewed ticket)");
	return xact_gettgt_ticket(x, delete_send);
}

/* Our inbound SAs this DELETE named: gone after the grace timer. */
static int
delete_inbound_later(struct kink_xact *x)
{
	struct kink_sarec *sr, *next;
	struct sarec_key k;
	int n = 0;

	memset(&k, 0, sizeof(k));
	k.k_del_serial = x->xa_serial;
	for (sr = sarec_next(x->xa_en, NULL, &k); sr != NULL; sr = next) {
		next = sarec_next(x->xa_en, sr, &k);
		sarec_del_later(sr, x->xa_en->en_conf->c_delgrace_ms);
		n++;
	}
	return n;
}

/* Append SPI number `i` to `buf` ("0x.. 0x.."; "..." once full). */
static void
spi_text(char *buf, size_t len, uint32_t spi, int i)
{
	char one[16];

	snprintf(one, sizeof(one), "%s0x%08x", i ? " " : "", spi);
	if (strlen(buf) + strlen(one) + 4 < len)
		strlcat(buf, one, len);
	else if (strstr(buf, "...") == NULL)
		strlcat(buf, " ...", len);
}

static void
delete_reply(struct kink_xact *x, const struct kink_msg *m)
{
	struct isakmp_msg *qm;
	char named[100] = "";
	int i, j, invalid = 0, listed = 0;

	if (x->xa_state != XS_I_DELETE) {
		stats_inc(STAT_DROP_STATE);
		return;
	}
	if (m->m_nisakmp > 0 && (qm = calloc(1, sizeof(*qm))) != NULL) {
		if (isakmp_parse(m->m_isakmp[0].ip_body.rb_p,
		    m->m_isakmp[0].ip_body.rb_len,
		    m->m_isakmp[0].ip_inner_next, qm) == ISAKMP_OK) {
			for (i = 0; i < qm->m_nnotify; i++)
				if (qm->m_notify[i].n_type ==
				    ISAKMP_NTYPE_INVALID_SPI)
					invalid++;
			for (i = 0; i < qm->m_ndelete; i++)
				for (j = 0; j < qm->m_delete[i].d_nspi; j++)
					/* Which, not just how many (3.3). */
					spi_text(named, sizeof(named),
					    qm->m_delete[i].d_spi[j], listed++);
		}
		free(qm);
	}
	/* Either answer means the peer holds nothing for these SPIs now. */
	delete_inbound_later(x);
	xact_complete(x, 1, 0, "in %s; peer deleted %d SPIs%s%s%s%s",
	    x->xa_note, listed, listed ? " (" : "", named, listed ? ")" : "",
	    invalid ? ", some unknown to it (INVALID-SPI)" : "");
	xact_state(x, XS_DONE);
}

static void
delete_giveup(struct kink_xact *x)
{
	/* No answer: our half is useless either way. */
	delete_inbound_later(x);
}

/*
 * Responder: pair `pair` goes, our inbound SAs listed in the answer `out`
 * and removed after the grace timer, the outbound ones now.
 */
static void
delete_pair_answer(struct kink_xact *x, uint32_t pair,
    struct isakmp_msg *out)
{
	struct kink_engine *en = x->xa_en;
	struct kink_sarec *sr, *next;
	struct sarec_key key;

	memset(&key, 0, sizeof(key));
	key.k_pair = pair;
	for (sr = sarec_next(en, NULL, &key); sr != NULL; sr = next) {
		next = sarec_next(en, sr, &key);
		if (sr->sr_sa.sa_dir == SA_DIR_IN) {
			add_delete(out, sr->sr_sa.sa_proto, sr->sr_sa.sa_spi);
			note_spi(x, sr->sr_sa.sa_spi);
			sarec_del_later(sr, en->en_conf->c_delgrace_ms);
		} else
			sarec_del(sr, "peer deleted it");
	}
}

static void
delete_respond(struct kink_xact *x, const struct kink_msg *m)
{
	struct kink_engine *en = x->xa_en;
	struct isakmp_msg *in = NULL, *out = NULL;
	uint32_t pairs[ISAKMP_MAX_DELETE * ISAKMP_MAX_DELETE_SPIS];
	uint8_t spibuf[ISAKMP_MAX_NOTIFY][4];
	struct buf qmb;
	uint8_t first = 0;
	int i, j, k, npairs = 0, nunknown = 0, err;

	buf_init(&qmb, KINK_MAX_MSG);
	if (m->m_nisakmp == 0 || (in = calloc(1, sizeof(*in))) == NULL ||
	    (out = calloc(1, sizeof(*out))) == NULL ||
	    (err = isakmp_parse(m->m_isakmp[0].ip_body.rb_p,
	    m->m_isakmp[0].ip_body.rb_len, m->m_isakmp[0].ip_inner_next,
	    in)) != ISAKMP_OK || in->m_ndelete == 0) {
		if (xact_build_reply(x, 0, KINK_PROTOERR, NULL, 0) == 0) {
			xact_send(x, 0);
			xact_complete(x, 0, 0, "DELETE without Delete payload");
			xact_state(x, XS_R_CACHE);
		} else
			xact_fail(x, 0, "DELETE without Delete payload");
		goto out;
	}
	for (i = 0; i < in->m_ndelete; i++) {
		const struct isakmp_delete *d = &in->m_delete[i];

		for (j = 0; j < d->d_nspi; j++) {
			struct kink_sarec *found = NULL;

			found = sarec_find_peer(en, x->xa_peer, d->d_proto,
			    d->d_spi[j], SA_DIR_OUT);
			if (found != NULL) {
				for (k = 0; k < npairs; k++)
					if (pairs[k] == found->sr_pair)
						break;
				if (k == npairs)
					pairs[npairs++] = found->sr_pair;
				continue;
			}
			nunknown++;
			if (out->m_nnotify < ISAKMP_MAX_NOTIFY) {
				struct isakmp_notify *n =
				    &out->m_notify[out->m_nnotify];

				put_be32(spibuf[out->m_nnotify], d->d_spi[j]);
				n->n_doi = IPSEC_DOI;
				n->n_proto = d->d_proto;
				n->n_type = ISAKMP_NTYPE_INVALID_SPI;
				n->n_spi = rbuf_make(spibuf[out->m_nnotify], 4);
				n->n_data = rbuf_make(NULL, 0);
				out->m_nnotify++;
			}
		}
	}
	/* 3.3: both directions go; no half-open SAs. */
	for (k = 0; k < npairs; k++)
		delete_pair_answer(x, pairs[k], out);
	if (isakmp_build(out, &qmb, &first) != 0 ||
	    xact_build_reply(x, 0, 0, &qmb, first) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot build the REPLY");
		goto out;
	}
	xact_send(x, 0);
	xact_complete(x, 1, 0, "%d SA pairs deleted (in %s), %d SPIs unknown",
	    npairs, x->xa_note[0] ? x->xa_note : "-", nunknown);
	xact_state(x, XS_R_CACHE);
out:
	free(in);
	free(out);
	buf_free(&qmb);
}

const struct xact_ops xact_delete_ops = {
	.xo_type = KINK_MSGTYPE_DELETE,
	.xo_respond = delete_respond,
	.xo_reply = delete_reply,
	.xo_giveup = delete_giveup,
	.xo_restart = delete_renew,
	/* The SAs the old DELETE named move to the new one before it fails. */
	.xo_restart_first = 1,
};
