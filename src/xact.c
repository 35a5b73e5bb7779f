/*
 * The transaction core: the table and its state machine (the states are
 * data below; every change goes through xact_state()), retransmission
 * with truncated exponential backoff (RFC 4430 section 9), the reply
 * cache's lifetime, control waiters, the registry of exchange types and
 * peers coming and going.  It names no exchange: what differs per type
 * is behind the struct xact_ops each type registers.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "control.h"
#include "kink.h"
#include "krb.h"
#include "log.h"
#include "peer.h"
#include "sarec.h"
#include "stats.h"
#include "wire.h"
#include "xact.h"

#define BIT(s)		(1u << (s))
#define XACT_GUARD_MS	30000	/* a backend that never answers */

struct xact_state_def {
	const char	*sd_name;
	uint32_t	 sd_next;	/* legal successors */
	uint8_t		 sd_retrans;	/* the timer resends xa_msg */
};

static const struct xact_state_def xact_states[XS_MAX] = {
	[XS_NEW] = { "NEW", BIT(XS_I_TICKET) | BIT(XS_R_GETSPI) |
	    BIT(XS_R_CACHE) | BIT(XS_FAILED), 0 },
	[XS_I_TICKET] = { "I_TICKET", BIT(XS_I_GETSPI) | BIT(XS_I_DELETE) |
	    BIT(XS_I_STATUS) | BIT(XS_I_GETTGT) | BIT(XS_FAILED), 0 },
	[XS_I_GETTGT] = { "I_GETTGT", BIT(XS_I_TICKET) | BIT(XS_FAILED), 1 },
	[XS_I_GETSPI] = { "I_GETSPI", BIT(XS_I_CREATE) | BIT(XS_FAILED), 0 },
	[XS_I_CREATE] = { "I_CREATE", BIT(XS_I_AGING) | BIT(XS_DONE) |
	    BIT(XS_FAILED), 1 },
	[XS_I_AGING] = { "I_AGING", BIT(XS_DONE) | BIT(XS_FAILED), 0 },
	[XS_I_DELETE] = { "I_DELETE", BIT(XS_DONE) | BIT(XS_FAILED), 1 },
	[XS_I_STATUS] = { "I_STATUS", BIT(XS_DONE) | BIT(XS_FAILED), 1 },
	[XS_R_GETSPI] = { "R_GETSPI", BIT(XS_R_ACKWAIT) | BIT(XS_R_CACHE) |
	    BIT(XS_FAILED), 0 },
	[XS_R_ACKWAIT] = { "R_ACKWAIT", BIT(XS_R_CACHE) | BIT(XS_FAILED), 1 },
	[XS_R_CACHE] = { "R_CACHE", BIT(XS_DONE) | BIT(XS_FAILED), 0 },
	[XS_DONE] = { "DONE", 0, 0 },
	[XS_FAILED] = { "FAILED", 0, 0 },
};

static void	xact_timeout(void *);

const char *
xact_state_name(enum xact_st s)
{
	return s < XS_MAX ? xact_states[s].sd_name : "?";
}

int
xact_transition_ok(enum xact_st from, enum xact_st to)
{
	return from < XS_MAX && to < XS_MAX &&
	    (xact_states[from].sd_next & BIT(to)) != 0;
}

int
xact_retransmits(enum xact_st s)
{
	return s < XS_MAX && xact_states[s].sd_retrans;
}

static int
xact_live(const struct kink_xact *x)
{
	return x->xa_state != XS_DONE && x->xa_state != XS_FAILED;
}

/* (XID, role), then serial: several may share an XID, live or not. */
static int
xid_cmp(const struct kink_xact *a, const struct kink_xact *b)
{
	if (a->xa_xid != b->xa_xid)
		return a->xa_xid < b->xa_xid ? -1 : 1;
	if (a->xa_role != b->xa_role)
		return a->xa_role < b->xa_role ? -1 : 1;
	return a->xa_serial < b->xa_serial ? -1 : a->xa_serial > b->xa_serial;
}

static int
serial_cmp(const struct kink_xact *a, const struct kink_xact *b)
{
	return a->xa_serial < b->xa_serial ? -1 : a->xa_serial > b->xa_serial;
}

ENGINE_RB_GENERATE(kink_xact_xids, kink_xact, xa_xid_node, xid_cmp)
ENGINE_RB_GENERATE(kink_xact_serials, kink_xact, xa_serial_node, serial_cmp)

void
xact_register(struct kink_engine *en, const struct xact_ops *ops)
{
	if (ops->xo_type <= KINK_MSGTYPE_MAX)
		en->en_ops[ops->xo_type] = ops;
}

static const struct xact_ops *
xact_ops_of(const struct kink_xact *x)
{
	return x->xa_cmd <= KINK_MSGTYPE_MAX ? x->xa_en->en_ops[x->xa_cmd] :
	    NULL;
}

uint32_t
xact_new_xid(struct kink_engine *en)
{
	uint32_t xid;

	/*
	 * Random, not sequential: REPLYs are matched by XID, and a guessable
	 * one lets an off-path sender aim an unauthenticated error at an
	 * exchange.  0 is never used; nor is an XID one of ours still holds.
	 */
	do {
		xid = arc4random();
	} while (xid == 0 || xact_find(en, NULL, xid, XR_INIT) != NULL);
	return xid;
}

struct kink_xact *
xact_new(struct kink_engine *en, struct kink_peer *pe, uint32_t xid,
    enum xact_role role, uint8_t cmd)
{
	struct kink_conf *c = en->en_conf;
	struct kink_xact *x;

	/*
	 * Bounded memory under a flood (also of verifiable commands).  At
	 * the limit a new exchange is refused; none already answered is
	 * dropped for it: a cached REPLY (R_CACHE) or an aging ACK (I_AGING)
	 * evicted early would have a retransmitted command run twice or a
	 * lost ACK never regenerated, leaving one side with half a pair.
	 */
	if ((uint32_t)en->en_nxact >= c->c_max_xact ||
	    (uint32_t)pe->pe_nxact >= c->c_max_xact_peer) {
		stats_inc(STAT_DROP_CAP);
		if (engine_log_ok(en))
			log_warnx("xid 0x%08x peer %s: transaction limit "
			    "reached (%d total, %d for the peer)", xid,
			    pe->pe_name, en->en_nxact, pe->pe_nxact);
		engine_event(en, CTL_EV_DROP, pe->pe_name, xid,
		    "transaction limit");
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		log_warn("xact_new");
		return NULL;
	}
	if (timer_init(&x->xa_timer, en->en_base, xact_timeout, x) == -1) {
		free(x);
		return NULL;
	}
	x->xa_en = en;
	x->xa_peer = pe;
	x->xa_serial = ++en->en_next_serial;
	x->xa_xid = xid;
	x->xa_role = role;
	x->xa_cmd = cmd;
	x->xa_state = XS_NEW;
	x->xa_renewed = role == XR_INIT && en->en_renewing;
	x->xa_start_ms = timer_now_ms();
	buf_init(&x->xa_msg, KINK_MAX_MSG);
	buf_init(&x->xa_qm, KINK_MAX_MSG);
	TAILQ_INSERT_TAIL(&en->en_xacts, x, xa_entry);
	RB_INSERT(kink_xact_xids, &en->en_xact_xids, x);
	RB_INSERT(kink_xact_serials, &en->en_xact_serials, x);
	en->en_nxact++;
	pe->pe_nxact++;
	stats_inc(STAT_XACT_START);
	log_debug(XFMT "%s %s started", XARG(x), wire_msgtype_name(cmd),
	    role == XR_INIT ? "initiator" : "responder");
	return x;
}

void
xact_free(struct kink_xact *x)
{
	const struct xact_ops *ops;
	struct kink_engine *en;

	if (x == NULL)
		return;
	en = x->xa_en;
	timer_fini(&x->xa_timer);
	TAILQ_REMOVE(&en->en_xacts, x, xa_entry);
	if (x->xa_state == XS_R_ACKWAIT)
		TAILQ_REMOVE(&en->en_ackwait, x, xa_ackwait_entry);
	RB_REMOVE(kink_xact_xids, &en->en_xact_xids, x);
	RB_REMOVE(kink_xact_serials, &en->en_xact_serials, x);
	en->en_nxact--;
	x->xa_peer->pe_nxact--;
	/* Not from in here: callers may still hold the peer. */
	if (x->xa_peer->pe_retired && x->xa_peer->pe_nxact == 0)
		timer_add_ms(&x->xa_peer->pe_retire, 0);
	if (x->xa_peer->pe_probe == x)
		x->xa_peer->pe_probe = NULL;
	if (!x->xa_completed)
		xact_complete(x, 0, CTL_ERR_FAILED, "abandoned");
	if ((ops = xact_ops_of(x)) != NULL && ops->xo_cleanup != NULL)
		ops->xo_cleanup(x);
	if (x->xa_kreq != NULL) {
		krb_req_cancel(x->xa_kreq);
		free(x->xa_kreq_arg);
	}
	krb_client_free(x->xa_client);
	krb_acceptor_free(x->xa_acc);
	doi_ctx_free(x->xa_doi);
	doi_result_clear(&x->xa_res);
	buf_free(&x->xa_msg);
	buf_free(&x->xa_qm);
	explicit_bzero(x, sizeof(*x));
	free(x);
}

struct kink_xact *
xact_find(struct kink_engine *en, struct kink_peer *pe, uint32_t xid,
    enum xact_role role)
{
	struct kink_xact find, *x;

	find.xa_xid = xid;
	find.xa_role = role;
	find.xa_serial = 0;
	for (x = RB_NFIND(kink_xact_xids, &en->en_xact_xids, &find);
	    x != NULL && x->xa_xid == xid && x->xa_role == role;
	    x = RB_NEXT(kink_xact_xids, &en->en_xact_xids, x))
		if ((pe == NULL || x->xa_peer == pe) && xact_live(x))
			return x;
	return NULL;
}

struct kink_xact *
xact_by_serial(struct kink_engine *en, uint64_t serial)
{
	struct kink_xact find, *x;

	find.xa_serial = serial;
	x = RB_FIND(kink_xact_serials, &en->en_xact_serials, &find);
	return x != NULL && xact_live(x) ? x : NULL;
}

/* The one place a transaction changes state. */
int
xact_state(struct kink_xact *x, enum xact_st to)
{
	struct kink_conf *c = x->xa_en->en_conf;
	enum xact_st from = x->xa_state;

	if (!xact_transition_ok(from, to)) {
		stats_inc(STAT_XACT_BADTRANS);
		log_warnx(XFMT "illegal transition %s -> %s", XARG(x),
		    xact_state_name(from), xact_state_name(to));
		return -1;
	}
	stats_inc(STAT_XACT_TRANS);
	log_debug(XFMT "%s -> %s", XARG(x), xact_state_name(from),
	    xact_state_name(to));
	x->xa_state = to;
	if (from == XS_R_ACKWAIT)
		TAILQ_REMOVE(&x->xa_en->en_ackwait, x, xa_ackwait_entry);
	if (to == XS_R_ACKWAIT)
		TAILQ_INSERT_TAIL(&x->xa_en->en_ackwait, x, xa_ackwait_entry);
	timer_del(&x->xa_timer);
	switch (to) {
	case XS_I_GETSPI:
	case XS_R_GETSPI:
		timer_add_ms(&x->xa_timer, XACT_GUARD_MS);
		break;
	case XS_I_AGING:
		timer_add_ms(&x->xa_timer, xact_cycle_ms(x->xa_en));
		break;
	case XS_R_CACHE:
		/* The cache needs the REPLY's octets only: drop the keys. */
		krb_acceptor_free(x->xa_acc);
		x->xa_acc = NULL;
		doi_ctx_free(x->xa_doi);
		x->xa_doi = NULL;
		doi_result_clear(&x->xa_res);
		timer_add_ms(&x->xa_timer, c->c_replycache_ms);
		break;
	case XS_DONE:
	case XS_FAILED:
		/* Freed from the loop: callers may still hold x. */
		timer_add_ms(&x->xa_timer, 0);
		break;
	default:
		break;
	}
	return 0;
}

uint32_t
xact_cycle_ms(struct kink_engine *en)
{
	return conf_retrans_cycle_ms(en->en_conf);
}

/* ---- completion and control waiters ------------------------------------ */

struct xact_waiter *
xact_waiter_new(struct control_req *req)
{
	struct xact_waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->w_req = req;
	return w;
}

void
xact_wait(struct kink_xact *x, struct xact_waiter *w)
{
	if (w == NULL)
		return;
	x->xa_waiter = w;
	w->w_pending++;
}

/* One of the waiter's transactions ended; the last one answers. */
void
xact_waiter_done(struct xact_waiter *w, int ok, uint16_t code,
    const char *text)
{
	if (!ok && !w->w_failed) {
		w->w_failed = 1;
		w->w_code = code ? code : CTL_ERR_FAILED;
		strlcpy(w->w_text, text, sizeof(w->w_text));
	}
	if (--w->w_pending > 0)
		return;
	if (w->w_req != NULL) {
		if (w->w_failed)
			control_error(w->w_req, w->w_code, "%s", w->w_text);
		else
			control_end(w->w_req);
	}
	free(w);
}

static const char *
cmd_name(uint8_t cmd)
{
	return wire_msgtype_name(cmd);
}

void
xact_complete(struct kink_xact *x, int ok, uint16_t ctlerr, const char *fmt,
    ...)
{
	struct kink_engine *en = x->xa_en;
	char msg[256];
	va_list ap;

	if (x->xa_completed)
		return;
	x->xa_completed = 1;
	x->xa_ok = ok != 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ok) {
		/* Truncation is fine: the full line is logged below. */
		if (snprintf(x->xa_peer->pe_lasterr,
		    sizeof(x->xa_peer->pe_lasterr), "%s %s: %s",
		    x->xa_role == XR_INIT ? "initiator" : "responder",
		    cmd_name(x->xa_cmd), msg) < 0)
			x->xa_peer->pe_lasterr[0] = '\0';
		x->xa_peer->pe_lasterr_time = time(NULL);
	}
	/* The one info line per exchange (no key material, ever). */
	log_info(XFMT "%s %s %s: %s (%llu ms, %u sends)", XARG(x),
	    x->xa_role == XR_INIT ? "initiated" : "answered",
	    cmd_name(x->xa_cmd), ok ? "ok" : "failed", msg,
	    (unsigned long long)(timer_now_ms() - x->xa_start_ms),
	    x->xa_tries);
	stats_inc(ok ? STAT_XACT_DONE : STAT_XACT_FAIL);
	engine_event(en, ok ? CTL_EV_XACT_DONE : CTL_EV_XACT_FAIL,
	    x->xa_peer->pe_name, x->xa_xid, "%s %s: %s",
	    x->xa_role == XR_INIT ? "initiator" : "responder",
	    cmd_name(x->xa_cmd), msg);
	if (x->xa_waiter != NULL) {
		struct xact_waiter *w = x->xa_waiter;

		x->xa_waiter = NULL;
		xact_waiter_done(w, ok, ctlerr, msg);
	}
}

void
xact_fail(struct kink_xact *x, uint16_t ctlerr, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xact_complete(x, 0, ctlerr, "%s", msg);
	if (xact_live(x))
		xact_state(x, XS_FAILED);
}

void
xact_abort_peer(struct kink_engine *en, struct kink_peer *pe, const char *why)
{
	struct kink_xact *x, *next;

	for (x = TAILQ_FIRST(&en->en_xacts); x != NULL; x = next) {
		next = TAILQ_NEXT(x, xa_entry);
		if (x->xa_peer != pe && pe != NULL)
			continue;
		if (!x->xa_completed)
			xact_complete(x, 0, CTL_ERR_FAILED, "%s", why);
		xact_free(x);
	}
}

void
xact_flush_cache(struct kink_engine *en, struct kink_peer *pe)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &en->en_xacts, xa_entry)
		if (x->xa_peer == pe && x->xa_role == XR_RESP &&
		    (x->xa_state == XS_R_CACHE || x->xa_state == XS_R_ACKWAIT))
			xact_fail(x, 0, "peer restarted");
}

/* ---- timers: retransmission, give-up, expiry --------------------------- */

static void
xact_giveup(struct kink_xact *x)
{
	const struct xact_ops *ops;

	stats_inc(STAT_GIVEUP);
	log_debug(XFMT "no answer after %u sends%s%s", XARG(x), x->xa_tries,
	    x->xa_lasterr[0] ? "; last unauthenticated error: " : "",
	    x->xa_lasterr);
	if ((ops = xact_ops_of(x)) != NULL && ops->xo_giveup != NULL)
		ops->xo_giveup(x);
	xact_fail(x, CTL_ERR_TIMEOUT, "%s after %u sends%s%s",
	    x->xa_role == XR_RESP ? "no ACK" : "no answer", x->xa_tries,
	    x->xa_lasterr[0] ? "; peer said: " : "", x->xa_lasterr);
}

static void
xact_timeout(void *arg)
{
	struct kink_xact *x = arg;
	struct kink_conf *c = x->xa_en->en_conf;
	const struct xact_ops *ops;

	switch (x->xa_state) {
	case XS_DONE:
	case XS_FAILED:
		xact_free(x);
		return;
	case XS_I_AGING:
		if ((ops = xact_ops_of(x)) != NULL && ops->xo_aged != NULL)
			ops->xo_aged(x);
		xact_state(x, XS_DONE);
		return;
	case XS_R_CACHE:
		xact_state(x, XS_DONE);
		return;
	default:
		break;
	}
	if (!xact_states[x->xa_state].sd_retrans) {
		xact_fail(x, CTL_ERR_INTERNAL, "stuck in %s",
		    xact_state_name(x->xa_state));
		return;
	}
	if (x->xa_tries >= c->c_retrans_tries || (x->xa_role == XR_INIT &&
	    x->xa_waited_ms >= conf_retrans_cycle_ms(c))) {
		xact_giveup(x);
		return;
	}
	/*
	 * A command is rebuilt: Kerberos would reject a byte-identical
	 * AP-REQ as a replay (RFC 4430 section 9).  A REPLY is resent as is.
	 */
	if (x->xa_role == XR_INIT && x->xa_state != XS_I_GETTGT &&
	    xact_build_cmd(x) == -1) {
		xact_fail(x, CTL_ERR_INTERNAL, "cannot rebuild the command");
		return;
	}
	stats_inc(STAT_RETRANS);
	log_debug(XFMT "retransmit %u in %s", XARG(x), x->xa_tries + 1,
	    xact_state_name(x->xa_state));
	xact_send(x, 1);
	if (x->xa_role == XR_INIT && x->xa_peer != NULL)
		rtt_backoff(&x->xa_peer->pe_rtt, x->xa_interval,
		    c->c_retrans_ms, c->c_retrans_max_ms);
}

/* ---- starting over, peers --------------------------------------------- */

/*
 * The peer verified our Cksum yet finds the ticket expired (its clock is
 * ahead of the ticket's end as we see it): RFC 4430 3.4 has the initiator
 * get a new ticket and start the exchange over with a new XID (also used
 * for the User-to-User restarts).  Once:
 * the new transaction fails on a second TKT_EXPIRED.  The kinkctl request
 * waiting for `x` waits for the new one instead.
 */
void
xact_restart(struct kink_xact *x, const char *why)
{
	const struct xact_ops *ops = xact_ops_of(x);
	struct kink_engine *en = x->xa_en;
	struct kink_peer *pe = x->xa_peer;
	struct xact_waiter *w;
	uint32_t xid = x->xa_xid;
	int rc;

	if (x->xa_renewed || x->xa_role != XR_INIT || ops == NULL ||
	    ops->xo_restart == NULL || (ops->xo_restartable != NULL &&
	    !ops->xo_restartable(x))) {
		xact_fail(x, CTL_ERR_PEER, "%s%s", why,
		    x->xa_renewed ? " (again, after starting over)" : "");
		return;
	}
	/* The old transaction's slot in the waiter is released below. */
	w = x->xa_waiter;
	x->xa_waiter = NULL;
	en->en_renewing = 1;
	if (ops->xo_restart_first) {
		/* Before the old one fails (DELETE: its SAs move over). */
		rc = ops->xo_restart(x, w);
		xact_fail(x, CTL_ERR_PEER, "%s; started over", why);
	} else {
		/* x stays readable until the loop frees it. */
		xact_fail(x, CTL_ERR_PEER, "%s; starting over", why);
		rc = ops->xo_restart(x, w);
	}
	en->en_renewing = 0;
	log_info("xid 0x%08x peer %s: %s, %s with a new ticket and XID", xid,
	    pe->pe_name, why, rc == 0 ? "started over" :
	    "could not start over");
	if (w == NULL)
		return;
	if (rc == -1 && !w->w_failed) {
		w->w_failed = 1;
		w->w_code = CTL_ERR_PEER;
		snprintf(w->w_text, sizeof(w->w_text), "%s; the new exchange "
		    "did not start (see the log)", why);
	}
	xact_waiter_done(w, 1, 0, "");
}

struct kink_peer *
xact_peer_add(struct kink_engine *en, struct conf_peer *cp)
{
	struct kink_peer *pe;
	int i;

	if ((pe = peer_new(en, cp)) == NULL)
		return NULL;
	for (i = 0; i <= KINK_MSGTYPE_MAX; i++)
		if (en->en_ops[i] != NULL &&
		    en->en_ops[i]->xo_peer_new != NULL &&
		    en->en_ops[i]->xo_peer_new(pe) == -1) {
			xact_peer_remove(pe, "out of memory");
			return NULL;
		}
	return pe;
}

void
xact_peer_remove(struct kink_peer *pe, const char *why)
{
	struct kink_engine *en;
	int i;

	if (pe == NULL)
		return;
	en = pe->pe_en;
	if (pe->pe_learned)
		engine_event(en, CTL_EV_PEER_FORGOTTEN, pe->pe_name, 0, "%s",
		    why);
	xact_abort_peer(en, pe, why);
	for (i = 0; i <= KINK_MSGTYPE_MAX; i++)
		if (en->en_ops[i] != NULL &&
		    en->en_ops[i]->xo_peer_gone != NULL)
			en->en_ops[i]->xo_peer_gone(pe);
	sarec_flush(en, pe, why);
	timer_fini(&pe->pe_retire);
	peer_free(pe);
}

static void
peer_retired_cb(void *arg)
{
	struct kink_peer *pe = arg;

	if (pe->pe_nxact == 0)
		xact_peer_remove(pe, "peer removed");
}

void
xact_peer_retire(struct kink_peer *pe, const char *why)
{
	struct kink_engine *en = pe->pe_en;
	struct kink_xact *x, *next;
	struct conf_peer *bare;

	for (x = TAILQ_FIRST(&en->en_xacts); x != NULL; x = next) {
		next = TAILQ_NEXT(x, xa_entry);
		if (x->xa_peer != pe || (x->xa_role == XR_INIT &&
		    x->xa_cmd == KINK_MSGTYPE_DELETE))
			continue;
		if (!x->xa_completed)
			xact_complete(x, 0, CTL_ERR_FAILED, "%s", why);
		xact_free(x);
	}
	if (pe->pe_nxact == 0 || pe->pe_conf == NULL ||
	    (bare = conf_peer_bare(pe->pe_conf)) == NULL) {
		xact_peer_remove(pe, why);
		return;
	}
	if (timer_init(&pe->pe_retire, en->en_base, peer_retired_cb,
	    pe) == -1) {
		conf_peer_free(bare);
		xact_peer_remove(pe, why);
		return;
	}
	if (pe->pe_learned)
		conf_peer_free(pe->pe_conf);
	pe->pe_conf = bare;
	peer_unindex(pe);
	timer_del(&pe->pe_dpd);
}
