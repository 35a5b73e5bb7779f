/*
 * The transaction table and its state machine (STYLE 6.6), retransmission
 * with truncated exponential backoff (RFC 4430 section 9), the reply
 * cache, message assembly with AP-REQ/AP-REP, KINK_ENCRYPT and Cksum, and
 * the input path.  Processing order for a command (notes a.4, racoon2):
 * AP-REQ verify (keytab, replay cache) -> Cksum -> decrypt -> EPOCH ->
 * handler.  A bad Cksum is dropped silently.  Nothing is allocated for a
 * message before its AP-REQ and Cksum verified.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "control.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
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

static int
xact_live(const struct kink_xact *x)
{
	return x->xa_state != XS_DONE && x->xa_state != XS_FAILED;
}

uint32_t
xact_new_xid(struct kinkd *kd)
{
	uint32_t xid;

	do {
		xid = ++kd->kd_next_xid;
	} while (xid == 0 || xact_find(kd, NULL, xid, XR_INIT) != NULL);
	return xid;
}

struct kink_xact *
xact_new(struct kinkd *kd, struct kink_peer *pe, uint32_t xid,
    enum xact_role role, uint8_t cmd)
{
	struct kink_conf *c = kd->kd_conf;
	struct kink_xact *x;

	/*
	 * Bounded memory under a flood (also of verifiable commands).  At
	 * the limit, the oldest finished exchange still kept for duplicates
	 * (R_CACHE, I_AGING) makes room; live exchanges never do.
	 */
	while ((uint32_t)kd->kd_nxact >= c->c_max_xact ||
	    (uint32_t)pe->pe_nxact >= c->c_max_xact_peer) {
		struct kink_xact *v, *victim = NULL;
		int peer_full = (uint32_t)pe->pe_nxact >= c->c_max_xact_peer;

		TAILQ_FOREACH(v, &kd->kd_xacts, xa_entry)
			if ((v->xa_state == XS_R_CACHE ||
			    v->xa_state == XS_I_AGING) &&
			    (!peer_full || v->xa_peer == pe)) {
				victim = v;
				break;
			}
		if (victim == NULL)
			break;
		stats_inc(STAT_XACT_EVICT);
		xact_free(victim);
	}
	if ((uint32_t)kd->kd_nxact >= c->c_max_xact ||
	    (uint32_t)pe->pe_nxact >= c->c_max_xact_peer) {
		stats_inc(STAT_DROP_CAP);
		if (xact_log_ok(kd))
			log_warnx("xid 0x%08x peer %s: transaction limit "
			    "reached (%d total, %d for the peer)", xid,
			    pe->pe_name, kd->kd_nxact, pe->pe_nxact);
		kinkd_event(kd, CTL_EV_DROP, pe->pe_name, xid,
		    "transaction limit");
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		log_warn("xact_new");
		return NULL;
	}
	if (timer_init(&x->xa_timer, kd->kd_base, xact_timeout, x) == -1) {
		free(x);
		return NULL;
	}
	x->xa_kd = kd;
	x->xa_peer = pe;
	x->xa_serial = ++kd->kd_next_serial;
	x->xa_xid = xid;
	x->xa_role = role;
	x->xa_cmd = cmd;
	x->xa_state = XS_NEW;
	x->xa_renewed = role == XR_INIT && kd->kd_renewing;
	x->xa_start_ms = timer_now_ms();
	buf_init(&x->xa_msg, KINK_MAX_MSG);
	buf_init(&x->xa_qm, KINK_MAX_MSG);
	TAILQ_INSERT_TAIL(&kd->kd_xacts, x, xa_entry);
	kd->kd_nxact++;
	pe->pe_nxact++;
	stats_inc(STAT_XACT_START);
	log_debug(XFMT "%s %s started", XARG(x), wire_msgtype_name(cmd),
	    role == XR_INIT ? "initiator" : "responder");
	return x;
}

void
xact_free(struct kink_xact *x)
{
	struct kinkd *kd;

	if (x == NULL)
		return;
	kd = x->xa_kd;
	timer_fini(&x->xa_timer);
	TAILQ_REMOVE(&kd->kd_xacts, x, xa_entry);
	kd->kd_nxact--;
	x->xa_peer->pe_nxact--;
	if (x->xa_peer->pe_probe == x)
		x->xa_peer->pe_probe = NULL;
	if (!x->xa_completed)
		xact_complete(x, 0, CTL_ERR_FAILED, "abandoned");
	if (x->xa_cmd == KINK_MSGTYPE_CREATE)
		create_cleanup(x);
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
xact_find(struct kinkd *kd, struct kink_peer *pe, uint32_t xid,
    enum xact_role role)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &kd->kd_xacts, xa_entry)
		if (x->xa_xid == xid && x->xa_role == role &&
		    (pe == NULL || x->xa_peer == pe) && xact_live(x))
			return x;
	return NULL;
}

struct kink_xact *
xact_by_serial(struct kinkd *kd, uint64_t serial)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &kd->kd_xacts, xa_entry)
		if (x->xa_serial == serial && xact_live(x))
			return x;
	return NULL;
}

/* The one place a transaction changes state. */
int
xact_state(struct kink_xact *x, enum xact_st to)
{
	struct kink_conf *c = x->xa_kd->kd_conf;
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
	timer_del(&x->xa_timer);
	switch (to) {
	case XS_I_GETSPI:
	case XS_R_GETSPI:
		timer_add_ms(&x->xa_timer, XACT_GUARD_MS);
		break;
	case XS_I_AGING:
		timer_add_ms(&x->xa_timer, xact_cycle_ms(x->xa_kd));
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
xact_cycle_ms(struct kinkd *kd)
{
	struct kink_conf *c = kd->kd_conf;
	uint64_t total = 0, iv = c->c_retrans_ms;
	uint32_t i;

	for (i = 0; i < c->c_retrans_tries; i++) {
		total += iv;
		iv = iv * 2 > c->c_retrans_max_ms ? c->c_retrans_max_ms :
		    iv * 2;
	}
	return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
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
	struct kinkd *kd = x->xa_kd;
	char msg[256];
	va_list ap;

	if (x->xa_completed)
		return;
	x->xa_completed = 1;
	x->xa_ok = ok != 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The one info line per exchange (no key material, ever). */
	log_info(XFMT "%s %s %s: %s (%llu ms, %u sends)", XARG(x),
	    x->xa_role == XR_INIT ? "initiated" : "answered",
	    cmd_name(x->xa_cmd), ok ? "ok" : "failed", msg,
	    (unsigned long long)(timer_now_ms() - x->xa_start_ms),
	    x->xa_tries);
	stats_inc(ok ? STAT_XACT_DONE : STAT_XACT_FAIL);
	kinkd_event(kd, ok ? CTL_EV_XACT_DONE : CTL_EV_XACT_FAIL,
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
xact_abort_peer(struct kinkd *kd, struct kink_peer *pe, const char *why)
{
	struct kink_xact *x, *next;

	for (x = TAILQ_FIRST(&kd->kd_xacts); x != NULL; x = next) {
		next = TAILQ_NEXT(x, xa_entry);
		if (x->xa_peer != pe && pe != NULL)
			continue;
		if (!x->xa_completed)
			xact_complete(x, 0, CTL_ERR_FAILED, "%s", why);
		xact_free(x);
	}
}

void
xact_flush_cache(struct kinkd *kd, struct kink_peer *pe)
{
	struct kink_xact *x;

	TAILQ_FOREACH(x, &kd->kd_xacts, xa_entry)
		if (x->xa_peer == pe && x->xa_role == XR_RESP &&
		    (x->xa_state == XS_R_CACHE || x->xa_state == XS_R_ACKWAIT))
			xact_fail(x, 0, "peer restarted");
}

/* ---- timers: retransmission, give-up, expiry --------------------------- */

static void
xact_giveup(struct kink_xact *x)
{
	stats_inc(STAT_GIVEUP);
	log_debug(XFMT "no answer after %u sends%s%s", XARG(x), x->xa_tries,
	    x->xa_lasterr[0] ? "; last unauthenticated error: " : "",
	    x->xa_lasterr);
	switch (x->xa_cmd) {
	case KINK_MSGTYPE_DELETE:
		delete_giveup(x);
		break;
	case KINK_MSGTYPE_STATUS:
		status_giveup(x);
		break;
	default:
		break;
	}
	xact_fail(x, CTL_ERR_TIMEOUT, "%s after %u sends%s%s",
	    x->xa_role == XR_RESP ? "no ACK" : "no answer", x->xa_tries,
	    x->xa_lasterr[0] ? "; peer said: " : "", x->xa_lasterr);
}

static void
xact_timeout(void *arg)
{
	struct kink_xact *x = arg;
	struct kink_conf *c = x->xa_kd->kd_conf;

	switch (x->xa_state) {
	case XS_DONE:
	case XS_FAILED:
		xact_free(x);
		return;
	case XS_I_AGING:
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
	if (x->xa_tries >= c->c_retrans_tries) {
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
}

int
xact_send(struct kink_xact *x, int retrans)
{
	struct kink_conf *c = x->xa_kd->kd_conf;
	int rv;

	rv = net_send(x->xa_kd->kd_net, &x->xa_local, &x->xa_remote,
	    x->xa_msg.b_data, x->xa_msg.b_len);
	x->xa_tries++;
	if (retrans) {
		/* A failed send is retried on the timer like a lost one. */
		timer_add_ms(&x->xa_timer, x->xa_interval);
		x->xa_interval = x->xa_interval * 2 > c->c_retrans_max_ms ?
		    c->c_retrans_max_ms : x->xa_interval * 2;
	}
	return rv;
}

int
xact_send_first(struct kink_xact *x)
{
	x->xa_tries = 0;
	x->xa_interval = x->xa_kd->kd_conf->c_retrans_ms;
	return xact_send(x, 1);
}

/* ---- Kerberos glue ------------------------------------------------------ */


struct ticket_wait {
	struct kinkd	*tw_kd;
	uint64_t	 tw_serial;
	void		(*tw_next)(struct kink_xact *);
};

static void
xact_ticket_cb(krb_err err, struct krb_ticket *tkt, void *arg)
{
	struct ticket_wait *tw = arg;
	struct kink_xact *x;
	void (*next)(struct kink_xact *) = tw->tw_next;

	x = xact_by_serial(tw->tw_kd, tw->tw_serial);
	free(tw);
	if (x == NULL) {
		krb_ticket_free(tkt);
		return;
	}
	x->xa_kreq = NULL;
	x->xa_kreq_arg = NULL;
	if (err != 0 && krb_err_rfc(err) == KDC_ERR_MUST_USE_USER2USER &&
	    !x->xa_u2u_tried && x->xa_peer->pe_conf != NULL &&
	    x->xa_peer->pe_conf->p_u2u) {
		/* 3.1: the peer's TGT by GETTGT, then a U2U ticket. */
		x->xa_u2u_tried = 1;
		x->xa_peer->pe_u2u = 1;
		gettgt_start(x);
		return;
	}
	if (err == 0 && krb_ticket_is_u2u(tkt)) {
		struct kink_peer *pe = x->xa_peer;

		x->xa_u2u_used = 1;
		if (pe->pe_u2u_tkt != tkt) {
			krb_ticket_free(pe->pe_u2u_tkt);
			pe->pe_u2u_tkt = krb_ticket_ref(tkt);
		}
	}
	if (err != 0) {
		stats_inc(STAT_KDC_ERR);
		xact_fail(x, CTL_ERR_FAILED, "no ticket for %s: %s",
		    x->xa_peer->pe_principal,
		    krb_err_str(x->xa_kd->kd_krb, err));
		return;
	}
	x->xa_client = krb_client_new(x->xa_kd->kd_krb, tkt);
	krb_ticket_free(tkt);
	if (x->xa_client == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "krb client");
		return;
	}
	next(x);
}

/* A cached U2U ticket, handed over from the loop like a krb answer. */
struct u2u_cached {
	struct ticket_wait	 uc_tw;
	struct krb_ticket	*uc_tkt;
};

static void
u2u_cached_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct u2u_cached *uc = arg;
	struct ticket_wait *tw;

	(void)fd;
	(void)ev;
	/* xact_ticket_cb frees the wait and drops the reference. */
	if ((tw = malloc(sizeof(*tw))) == NULL) {
		struct kink_xact *x = xact_by_serial(uc->uc_tw.tw_kd,
		    uc->uc_tw.tw_serial);

		krb_ticket_free(uc->uc_tkt);
		free(uc);
		if (x != NULL)
			xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return;
	}
	*tw = uc->uc_tw;
	xact_ticket_cb(0, uc->uc_tkt, tw);
	free(uc);
}

/* Like kinkd's margin for ordinary tickets (krb.c): 60 s or a tenth. */
static int
u2u_ticket_fresh(const struct krb_ticket *t)
{
	return krb_ticket_endtime(t) - time(NULL) > 60;
}

/*
 * A peer known to need User-to-User: the cached ticket, else a new one
 * under the cached TGT, else GETTGT.  0 / -1 like xact_get_ticket.
 */
static int
xact_get_ticket_cached_u2u(struct kink_xact *x)
{
	struct kink_peer *pe = x->xa_peer;
	struct u2u_cached *uc;
	struct timeval now = { 0, 0 };

	x->xa_u2u_tried = 1;
	if (pe->pe_u2u_tkt != NULL && !u2u_ticket_fresh(pe->pe_u2u_tkt))
		u2u_forget(pe, 0);
	if (pe->pe_u2u_tkt != NULL) {
		if ((uc = calloc(1, sizeof(*uc))) == NULL) {
			xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
			return -1;
		}
		uc->uc_tw.tw_kd = x->xa_kd;
		uc->uc_tw.tw_serial = x->xa_serial;
		uc->uc_tw.tw_next = x->xa_next;
		uc->uc_tkt = krb_ticket_ref(pe->pe_u2u_tkt);
		/* Never from inside the call, as the krb layer promises. */
		if (event_base_once(x->xa_kd->kd_base, -1, EV_TIMEOUT,
		    u2u_cached_cb, uc, &now) == -1) {
			krb_ticket_free(uc->uc_tkt);
			free(uc);
			xact_fail(x, CTL_ERR_INTERNAL, "event_base_once");
			return -1;
		}
		log_debug(XFMT "cached User-to-User ticket", XARG(x));
		return 0;
	}
	if (pe->pe_u2u_tgt != NULL)
		return xact_get_ticket_u2u(x, pe->pe_u2u_tgt,
		    pe->pe_u2u_tgtlen);
	return gettgt_start(x);
}

int
xact_get_ticket(struct kink_xact *x, void (*next)(struct kink_xact *))
{
	struct ticket_wait *tw;

	if (xact_state(x, XS_I_TICKET) == -1)
		return -1;
	if (x->xa_peer->pe_u2u && x->xa_peer->pe_conf != NULL &&
	    x->xa_peer->pe_conf->p_u2u) {
		x->xa_next = next;
		return xact_get_ticket_cached_u2u(x);
	}
	if ((tw = calloc(1, sizeof(*tw))) == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return -1;
	}
	tw->tw_kd = x->xa_kd;
	tw->tw_serial = x->xa_serial;
	tw->tw_next = next;
	x->xa_next = next;
	x->xa_kreq = krb_get_ticket(x->xa_kd->kd_krb, x->xa_peer->pe_principal,
	    xact_ticket_cb, tw);
	if (x->xa_kreq == NULL) {
		free(tw);
		xact_fail(x, CTL_ERR_FAILED, "cannot request a ticket");
		return -1;
	}
	/* xact_free() cancels the request and frees the thunk. */
	x->xa_kreq_arg = tw;
	return 0;
}

int
xact_get_ticket_u2u(struct kink_xact *x, const uint8_t *tgt, size_t len)
{
	struct ticket_wait *tw;

	if (x->xa_state != XS_I_TICKET && xact_state(x, XS_I_TICKET) == -1)
		return -1;
	if ((tw = calloc(1, sizeof(*tw))) == NULL) {
		xact_fail(x, CTL_ERR_INTERNAL, "out of memory");
		return -1;
	}
	tw->tw_kd = x->xa_kd;
	tw->tw_serial = x->xa_serial;
	tw->tw_next = x->xa_next;
	x->xa_kreq = krb_get_ticket_u2u(x->xa_kd->kd_krb,
	    x->xa_peer->pe_principal, tgt, len, xact_ticket_cb, tw);
	if (x->xa_kreq == NULL) {
		free(tw);
		xact_fail(x, CTL_ERR_FAILED, "cannot request a U2U ticket");
		return -1;
	}
	x->xa_kreq_arg = tw;
	return 0;
}

static struct krb_key *
xact_key(struct kink_xact *x)
{
	if (x->xa_role == XR_INIT)
		return x->xa_client ? krb_client_key(x->xa_client) : NULL;
	return x->xa_acc ? krb_acceptor_key(x->xa_acc) : NULL;
}

int
xact_prf(void *arg, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen)
{
	struct kink_xact *x = arg;
	struct krb_key *key = xact_key(x);
	enum krb_prf_kind kind = KRB_PRF_RFC3961;

	if (key == NULL)
		return -1;
	if (x->xa_peer->pe_conf != NULL &&
	    x->xa_peer->pe_conf->p_prf == CONF_PRF_MIT)
		kind = KRB_PRF_MIT;
	return krb_prf(key, kind, in, inlen, out, outlen);
}

/* Encrypt the inner chain and append the Cksum: the common tail. */
static int
xact_seal(struct kink_builder *kb, struct krb_key *key, int encrypted)
{
	struct buf tmp;
	struct rbuf v;
	int rv = -1;

	buf_init(&tmp, KINK_MAX_MSG);
	if (encrypted) {
		if (wire_build_encrypt_plain(kb, &v) != 0 ||
		    krb_encrypt(key, v.rb_p, v.rb_len, &tmp) != 0 ||
		    wire_build_encrypt_end(kb, tmp.b_data, tmp.b_len) != 0)
			goto out;
		buf_reset(&tmp);
	}
	if (wire_build_finish(kb, &v) != 0 ||
	    krb_cksum_make(key, v.rb_p, v.rb_len, &tmp) != 0 ||
	    wire_build_cksum(kb, tmp.b_data, tmp.b_len) != 0)
		goto out;
	rv = 0;
out:
	buf_free(&tmp);
	return rv;
}

int
xact_build_cmd(struct kink_xact *x)
{
	return xact_build_msg(x, x->xa_cmd, &x->xa_qm, x->xa_first);
}

int
xact_build_msg(struct kink_xact *x, uint8_t type, const struct buf *qm,
    uint8_t first)
{
	struct kink_builder kb;
	struct krb_key *key;
	struct buf apreq;
	krb_err e;
	int rv = -1, enc = 0;

	buf_init(&apreq, KINK_MAX_MSG);
	if ((key = xact_key(x)) == NULL)
		goto out;
	if ((e = krb_client_mk_req(x->xa_client, &apreq)) != 0) {
		/*
		 * Expired on the peer's clock (an adopted offset) before it
		 * is on ours: without this the cached ticket would fail
		 * every exchange until our own margin drops it.
		 */
		if (krb_err_rfc(e) == KRB_AP_ERR_TKT_EXPIRED)
			krb_ticket_forget(x->xa_kd->kd_krb,
			    x->xa_peer->pe_principal);
		goto out;
	}
	wire_build_begin(&kb, &x->xa_msg, type, KINK_DOI_IPSEC, x->xa_xid, 0);
	wire_build_ap_req(&kb, x->xa_kd->kd_epoch, apreq.b_data, apreq.b_len);
	if (qm != NULL && qm->b_len > 0) {
		enc = 1;
		wire_build_encrypt_begin(&kb);
		if (x->xa_qmvers == 0 && x->xa_kd->kd_send_qmvers != 0) {
			/* Test knob (inject "send-qmvers V"), one exchange. */
			x->xa_qmvers = x->xa_kd->kd_send_qmvers;
			x->xa_kd->kd_send_qmvers = 0;
		}
		wire_build_isakmp(&kb, first, x->xa_qmvers ? x->xa_qmvers :
		    KINK_QMVERSION, qm->b_data, qm->b_len);
	}
	if (xact_seal(&kb, key, enc) == -1) {
		log_warnx(XFMT "cannot build %s: %s", XARG(x),
		    cmd_name(type), wire_strerror(kb.kb_err));
		goto out;
	}
	rv = 0;
out:
	buf_free(&apreq);
	return rv;
}

int
xact_build_reply(struct kink_xact *x, uint8_t flags, uint32_t kinkerr,
    const struct buf *qm, uint8_t first)
{
	struct kink_builder kb;
	struct krb_key *key;
	struct buf aprep;
	int rv = -1, enc = 0;

	if (x->xa_cmd != KINK_MSGTYPE_CREATE && x->xa_kd->kd_reply_ackreq > 0) {
		/* Test knob (inject "reply-ackreq"), outside section 4. */
		x->xa_kd->kd_reply_ackreq--;
		flags |= KINK_ACKREQ;
	}
	buf_init(&aprep, KINK_MAX_MSG);
	if ((key = xact_key(x)) == NULL ||
	    krb_acceptor_mk_rep(x->xa_acc, &aprep) != 0)
		goto out;
	wire_build_begin(&kb, &x->xa_msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC,
	    x->xa_xid, flags);
	wire_build_ap_rep(&kb, x->xa_kd->kd_epoch, aprep.b_data, aprep.b_len);
	if (kinkerr != 0 || (qm != NULL && qm->b_len > 0)) {
		enc = 1;
		wire_build_encrypt_begin(&kb);
		if (kinkerr != 0)
			wire_build_error(&kb, kinkerr);
		if (qm != NULL && qm->b_len > 0)
			wire_build_isakmp(&kb, first, KINK_QMVERSION,
			    qm->b_data, qm->b_len);
	}
	if (xact_seal(&kb, key, enc) == -1) {
		log_warnx(XFMT "cannot build REPLY: %s", XARG(x),
		    wire_strerror(kb.kb_err));
		goto out;
	}
	rv = 0;
out:
	buf_free(&aprep);
	return rv;
}

/* ---- input -------------------------------------------------------------- */

/* At most this many answers to unauthenticated input per second. */
#define XACT_ERR_RATE	20
#define XACT_LOG_RATE	10

int
xact_log_ok(struct kinkd *kd)
{
	uint64_t now = timer_now_ms();

	if (now - kd->kd_log_window_ms >= 1000) {
		if (kd->kd_log_suppressed > 0)
			log_warnx("%llu log lines about peer input suppressed",
			    (unsigned long long)kd->kd_log_suppressed);
		kd->kd_log_window_ms = now;
		kd->kd_log_count = 0;
		kd->kd_log_suppressed = 0;
	}
	if (kd->kd_log_count++ < XACT_LOG_RATE)
		return 1;
	kd->kd_log_suppressed++;
	return 0;
}

int
xact_ratelimit(struct kinkd *kd)
{
	uint64_t now = timer_now_ms();

	if (now - kd->kd_err_window_ms >= 1000) {
		kd->kd_err_window_ms = now;
		kd->kd_err_count = 0;
	}
	return kd->kd_err_count++ >= XACT_ERR_RATE;
}

/*
 * A REPLY carrying only errors (RFC 4430 6.1): KINK_ERROR and/or a
 * KRB_ERROR, with a Cksum when a session key exists (`acc`, e.g. after a
 * clock-skew failure), else unauthenticated.  No state is kept.
 */
static void
send_error(struct kinkd *kd, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, uint32_t xid, uint32_t kinkerr,
    int krbcode, struct krb_acceptor *acc)
{
	struct kink_builder kb;
	struct buf msg, der, ck;
	struct krb_key *key = acc ? krb_acceptor_key(acc) : NULL;
	struct rbuf cov;

	if (xact_ratelimit(kd)) {
		stats_inc(STAT_DROP_UNAUTH);
		return;
	}
	buf_init(&msg, KINK_MAX_MSG);
	buf_init(&der, KINK_MAX_MSG);
	buf_init(&ck, 256);
	wire_build_begin(&kb, &msg, KINK_MSGTYPE_REPLY, KINK_DOI_IPSEC, xid,
	    0);
	if (krbcode != 0 && krb_mk_error(kd->kd_krb, krbcode, acc, &der) == 0)
		wire_build_krb_error(&kb, der.b_data, der.b_len);
	if (kinkerr != 0 || der.b_len == 0)
		wire_build_error(&kb, kinkerr ? kinkerr : KINK_INTERR);
	wire_build_finish(&kb, &cov);
	if (kb.kb_err == 0 && key != NULL &&
	    krb_cksum_make(key, cov.rb_p, cov.rb_len, &ck) == 0)
		wire_build_cksum(&kb, ck.b_data, ck.b_len);
	if (kb.kb_err == 0 && net_send(kd->kd_net, to, from, msg.b_data,
	    msg.b_len) == 0)
		stats_inc(STAT_ERR_SENT);
	buf_free(&msg);
	buf_free(&der);
	buf_free(&ck);
}

/* Cksum check over the covered octets; 0 = valid. */
static int
verify_cksum(const struct kink_msg *m, struct krb_key *key)
{
	uint8_t tmp[KINK_MAX_MSG];
	size_t len;

	if (key == NULL || m->m_cksumlen == 0)
		return -1;
	if (wire_cksum_input(m, tmp, sizeof(tmp), &len) != 0)
		return -1;
	if (krb_cksum_verify(key, tmp, len, m->m_cksum.rb_p,
	    m->m_cksum.rb_len) != 0)
		return -1;
	return 0;
}

/*
 * Decrypt KINK_ENCRYPT into `plain` (which must outlive *m): 0, -1 when it
 * does not decrypt, or the wire error (> 0) of the decrypted inner chain.
 */
static int
open_encrypt(struct kink_msg *m, struct krb_key *key, struct buf *plain)
{
	int err;

	if (!wire_has(m, KINK_ENCRYPT))
		return 0;
	if (krb_decrypt(key, m->m_encrypt.rb_p, m->m_encrypt.rb_len,
	    plain) != 0)
		return -1;
	if ((err = wire_parse_inner(m, plain->b_data, plain->b_len)) != 0)
		return err > 0 ? err : -1;
	return 0;
}

static void
input_command(struct kinkd *kd, struct kink_msg *m,
    const struct sockaddr_storage *from, const struct sockaddr_storage *to)
{
	struct krb_acceptor *acc = NULL;
	struct kink_peer *pe;
	struct kink_xact *x;
	struct buf plain;
	char a[NET_ADDRSTRLEN];
	const char *princ;
	krb_err e;
	int werr;

	buf_init(&plain, KINK_MAX_MSG);
	net_ntop((const struct sockaddr *)from, a, sizeof(a));
	if (!wire_has(m, KINK_AP_REQ)) {
		stats_inc(STAT_DROP_UNAUTH);
		log_debug("xid 0x%08x from %s: %s without AP_REQ", m->m_xid, a,
		    cmd_name(m->m_type));
		if (m->m_type != KINK_MSGTYPE_ACK)
			send_error(kd, from, to, m->m_xid, KINK_PROTOERR, 0,
			    NULL);
		goto out;
	}
	e = krb_rd_req(kd->kd_krb, m->m_ap_req.rb_p, m->m_ap_req.rb_len,
	    xact_u2u_allowed(kd) ? KRB_RDREQ_U2U : 0, &acc);
	if (e != 0) {
		stats_inc(STAT_DROP_KRB);
		log_debug("xid 0x%08x from %s: AP-REQ rejected: %s", m->m_xid,
		    a, krb_err_str(kd->kd_krb, e));
		kinkd_event(kd, CTL_EV_DROP, "", m->m_xid, "AP-REQ from %s: %s",
		    a, krb_err_str(kd->kd_krb, e));
		/*
		 * The error carries a Cksum only when the session key is
		 * known (skew): that is what lets the initiator trust it.
		 */
		/*
		 * A ticket that does not decrypt may be a U2U ticket made
		 * under a TGT we no longer have (restart, renewal): 3.7.1.
		 */
		if (m->m_type != KINK_MSGTYPE_ACK &&
		    (krb_err_rfc(e) == KRB_AP_ERR_BAD_INTEGRITY ||
		    krb_err_rfc(e) == KRB_AP_ERR_NOKEY) &&
		    xact_u2u_allowed(kd) &&
		    gettgt_stale_ticket(kd, m->m_xid, from, to) == 0)
			goto out;
		if (m->m_type != KINK_MSGTYPE_ACK)
			send_error(kd, from, to, m->m_xid, 0, krb_err_rfc(e),
			    (acc && krb_acceptor_key(acc) &&
			    verify_cksum(m, krb_acceptor_key(acc)) == 0) ?
			    acc : NULL);
		goto out;
	}
	if ((princ = krb_acceptor_client(acc)) == NULL ||
	    (pe = peer_by_principal(kd, princ)) == NULL) {
		stats_inc(STAT_DROP_NOPEER);
		if (xact_log_ok(kd))
			log_info("xid 0x%08x from %s: principal %s is not "
			    "a configured peer", m->m_xid, a,
			    princ ? princ : "?");
		goto out;
	}
	if (verify_cksum(m, krb_acceptor_key(acc)) != 0) {
		/* RFC 4430 section 4: MUST be dropped, silently. */
		stats_inc(STAT_DROP_CKSUM);
		log_debug("xid 0x%08x peer %s: bad Cksum, dropped", m->m_xid,
		    pe->pe_name);
		goto out;
	}
	if ((werr = open_encrypt(m, krb_acceptor_key(acc), &plain)) == -1) {
		stats_inc(STAT_DROP_DECRYPT);
		if (xact_log_ok(kd))
			log_warnx("xid 0x%08x peer %s: KINK_ENCRYPT does "
			    "not decrypt", m->m_xid, pe->pe_name);
		goto out;
	}
	if (werr > 0) {
		/*
		 * Decrypted, but the inner chain is malformed: answer what
		 * the wire table says (12: a Quick Mode version we do not
		 * do gets KINK_BADQMVERS), with a Cksum under the session
		 * key (6.1), as the unencrypted case is answered.
		 */
		int act = wire_err_action(werr);

		stats_inc(STAT_DROP_PARSE);
		if (xact_log_ok(kd))
			log_warnx("xid 0x%08x peer %s: inside KINK_ENCRYPT: "
			    "%s%s%s", m->m_xid, pe->pe_name,
			    wire_strerror(werr), act > 0 &&
			    m->m_type != KINK_MSGTYPE_ACK ?
			    ", answered KINK_ERROR " : "", act > 0 &&
			    m->m_type != KINK_MSGTYPE_ACK ?
			    wire_error_name((uint32_t)act) : "");
		if (act > 0 && m->m_type != KINK_MSGTYPE_ACK)
			send_error(kd, from, to, m->m_xid, (uint32_t)act, 0,
			    acc);
		goto out;
	}
	peer_epoch(pe, m->m_ap_req_epoch, 0);
	peer_seen(pe);

	x = xact_find(kd, pe, m->m_xid, XR_RESP);
	if (m->m_type == KINK_MSGTYPE_ACK) {
		if (x != NULL && x->xa_state == XS_R_ACKWAIT) {
			stats_inc(STAT_ACK_RCVD);
			create_ack(x);
		} else if (x != NULL)
			stats_inc(STAT_DROP_STATE);	/* duplicate ACK */
		else {
			stats_inc(STAT_DROP_NOXACT);
			log_debug("xid 0x%08x peer %s: ACK for no transaction",
			    m->m_xid, pe->pe_name);
		}
		goto out;
	}
	if (x != NULL) {
		if (x->xa_cmd != m->m_type) {
			stats_inc(STAT_DROP_STATE);
			if (xact_log_ok(kd))
				log_info(XFMT "%s reuses the XID of a %s, "
				    "dropped", XARG(x), cmd_name(m->m_type),
				    cmd_name(x->xa_cmd));
		} else if (x->xa_state == XS_R_CACHE ||
		    x->xa_state == XS_R_ACKWAIT) {
			/* Answered already: the same REPLY, not a new SA. */
			stats_inc(STAT_DUP_CACHED);
			log_debug(XFMT "duplicate %s, REPLY from cache",
			    XARG(x), cmd_name(m->m_type));
			net_send(kd->kd_net, &x->xa_local, &x->xa_remote,
			    x->xa_msg.b_data, x->xa_msg.b_len);
		} else
			stats_inc(STAT_DUP_INPROGRESS);
		goto out;
	}
	if ((x = xact_new(kd, pe, m->m_xid, XR_RESP, m->m_type)) == NULL)
		goto out;
	x->xa_acc = acc;
	acc = NULL;
	x->xa_local = *to;
	x->xa_remote = *from;
	kinkd_event(kd, CTL_EV_XACT_START, pe->pe_name, x->xa_xid,
	    "responder %s", cmd_name(x->xa_cmd));
	switch (m->m_type) {
	case KINK_MSGTYPE_CREATE:
		create_respond(x, m);
		break;
	case KINK_MSGTYPE_DELETE:
		delete_respond(x, m);
		break;
	case KINK_MSGTYPE_STATUS:
		status_respond(x, m);
		break;
	default:
		xact_fail(x, 0, "unexpected command");
		break;
	}
out:
	krb_acceptor_free(acc);
	buf_free(&plain);
}

/* The peer's policy allows User-to-User. */
static int
u2u_ok(const struct kink_xact *x)
{
	return x->xa_peer->pe_conf != NULL && x->xa_peer->pe_conf->p_u2u;
}

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
	struct kinkd *kd = x->xa_kd;
	struct kink_peer *pe = x->xa_peer;
	struct kink_policy pol;
	struct xact_waiter *w;
	uint32_t xid = x->xa_xid, rekey = x->xa_rekey_pair;
	uint8_t cmd = x->xa_cmd;
	int rc;

	if (x->xa_renewed || x->xa_role != XR_INIT ||
	    (cmd == KINK_MSGTYPE_CREATE && !x->xa_has_pol)) {
		xact_fail(x, CTL_ERR_PEER, "%s%s", why,
		    x->xa_renewed ? " (again, after starting over)" : "");
		return;
	}
	pol = x->xa_pol;
	/* The old transaction's slot in the waiter is released below. */
	w = x->xa_waiter;
	x->xa_waiter = NULL;
	kd->kd_renewing = 1;
	if (cmd == KINK_MSGTYPE_DELETE) {
		/* Before the old one fails: its SAs move to the new XID. */
		rc = delete_renew(x, w);
		xact_fail(x, CTL_ERR_PEER, "%s; started over", why);
	} else {
		xact_fail(x, CTL_ERR_PEER, "%s; starting over", why);
		if (cmd == KINK_MSGTYPE_CREATE)
			rc = create_start(kd, pe, &pol, w, rekey);
		else
			rc = status_start(kd, pe, w);
	}
	kd->kd_renewing = 0;
	explicit_bzero(&pol, sizeof(pol));
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

static void
input_reply(struct kinkd *kd, struct kink_msg *m,
    const struct sockaddr_storage *from)
{
	struct kink_xact *x;
	struct krb_key *key;
	struct buf plain;
	char a[NET_ADDRSTRLEN];

	buf_init(&plain, KINK_MAX_MSG);
	net_ntop((const struct sockaddr *)from, a, sizeof(a));
	if ((x = xact_find(kd, NULL, m->m_xid, XR_INIT)) != NULL &&
	    x->xa_state == XS_I_GETTGT) {
		gettgt_reply(x, m);
		goto out;
	}
	if (x == NULL || x->xa_client == NULL) {
		stats_inc(STAT_DROP_NOXACT);
		log_debug("xid 0x%08x from %s: REPLY for no transaction",
		    m->m_xid, a);
		goto out;
	}
	key = krb_client_key(x->xa_client);
	if (!wire_has(m, KINK_AP_REP)) {
		struct krb_error_info ki;
		int prot = verify_cksum(m, key) == 0;

		stats_inc(STAT_ERR_RCVD);
		if (wire_has(m, KINK_KRB_ERROR) && krb_rd_error(kd->kd_krb,
		    m->m_krb_error.rb_p, m->m_krb_error.rb_len, &ki) == 0) {
			snprintf(x->xa_lasterr, sizeof(x->xa_lasterr),
			    "KRB_ERROR %d%s", ki.ke_code,
			    prot ? "" : " (unauthenticated)");
			/* Only a protected SKEW moves our clock (3.5). */
			if (ki.ke_code == KRB_AP_ERR_SKEW &&
			    krb_client_skew(x->xa_client, &ki, prot) == 1 &&
			    xact_states[x->xa_state].sd_retrans &&
			    xact_build_cmd(x) == 0) {
				log_info(XFMT "clock offset adjusted, "
				    "resending", XARG(x));
				xact_send(x, 1);
			} else if (prot && ki.ke_code ==
			    KRB_AP_ERR_TKT_EXPIRED) {
				krb_ticket_forget(kd->kd_krb,
				    x->xa_peer->pe_principal);
				if (x->xa_u2u_used)
					u2u_forget(x->xa_peer, 0);
				xact_restart(x, "ticket expired at the peer");
			} else if (ki.ke_code ==
			    KRB_AP_ERR_USER_TO_USER_REQUIRED &&
			    u2u_ok(x) && !x->xa_u2u_used) {
				/* 3.1: unauthenticated, acted on by policy. */
				x->xa_peer->pe_u2u = 1;
				xact_restart(x, "peer requires User-to-User");
			} else if (u2u_ok(x) && x->xa_u2u_used) {
				/*
				 * A U2U ticket the peer cannot use: most
				 * likely it restarted with a new TGT (3.7.1).
				 * Unauthenticated, so at most once per
				 * exchange; the SAs are not touched.
				 */
				u2u_forget(x->xa_peer, 1);
				xact_restart(x, "peer refused our User-to-User "
				    "ticket");
			}
		} else if (wire_has(m, KINK_ERROR))
			snprintf(x->xa_lasterr, sizeof(x->xa_lasterr),
			    "KINK_ERROR %s%s", wire_error_name(m->m_error),
			    prot ? "" : " (unauthenticated)");
		else if (wire_has(m, KINK_TGT_REP)) {
			/*
			 * 3.7.1: the peer cannot decrypt our U2U ticket and
			 * sent its TGT.  Nothing is concluded about the peer;
			 * a new U2U ticket under that TGT, new XID, once.
			 */
			strlcpy(x->xa_lasterr, "TGT_REP to a command",
			    sizeof(x->xa_lasterr));
			if (u2u_ok(x) && x->xa_peer->pe_u2u)
				u2u_tgt_rep(x, m->m_tgt_rep.rb_p,
				    m->m_tgt_rep.rb_len);
		}
		else
			strlcpy(x->xa_lasterr, "REPLY without AP_REP",
			    sizeof(x->xa_lasterr));
		if (xact_log_ok(kd))
			log_info(XFMT "error REPLY: %s", XARG(x),
			    x->xa_lasterr);
		goto out;
	}
	if (krb_client_rd_rep(x->xa_client, m->m_ap_rep.rb_p,
	    m->m_ap_rep.rb_len) != 0) {
		stats_inc(STAT_DROP_KRB);
		log_debug(XFMT "AP-REP does not verify, dropped", XARG(x));
		goto out;
	}
	if (verify_cksum(m, key) != 0) {
		stats_inc(STAT_DROP_CKSUM);
		log_debug(XFMT "bad Cksum on REPLY, dropped", XARG(x));
		goto out;
	}
	if (open_encrypt(m, key, &plain) != 0) {
		stats_inc(STAT_DROP_DECRYPT);
		if (xact_log_ok(kd))
			log_warnx(XFMT "REPLY's KINK_ENCRYPT does not decrypt",
			    XARG(x));
		goto out;
	}
	peer_epoch(x->xa_peer, m->m_ap_rep_epoch, x->xa_pair);
	peer_seen(x->xa_peer);
	/*
	 * 3.2: an ACK whenever an authenticated REPLY has ACKREQ, "even if
	 * [we believe] the responder was in error".  CREATE does it itself
	 * (and regenerates it in I_AGING); DELETE and STATUS REPLYs carry
	 * ACKREQ only from a peer outside section 4, and an ACK costs nothing.
	 */
	if (x->xa_cmd != KINK_MSGTYPE_CREATE && wire_ackreq(m) &&
	    (x->xa_state == XS_I_DELETE || x->xa_state == XS_I_STATUS))
		xact_send_ack(x);
	switch (x->xa_cmd) {
	case KINK_MSGTYPE_CREATE:
		create_reply(x, m);
		break;
	case KINK_MSGTYPE_DELETE:
		delete_reply(x, m);
		break;
	case KINK_MSGTYPE_STATUS:
		status_reply(x, m);
		break;
	default:
		stats_inc(STAT_DROP_STATE);
		break;
	}
out:
	buf_free(&plain);
}

void
xact_input(void *arg, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len)
{
	struct kinkd *kd = arg;
	struct kink_msg m;
	char a[NET_ADDRSTRLEN];
	int err, act;

	if (kd->kd_stopping)
		return;
	if ((err = wire_parse(&m, p, len)) != 0) {
		stats_inc(STAT_DROP_PARSE);
		net_ntop((const struct sockaddr *)from, a, sizeof(a));
		log_debug("from %s: malformed KINK message: %s", a,
		    wire_strerror(err));
		act = wire_err_action(err);
		/* Answer only what looks like a command (no REPLY loops). */
		if (act > 0 && len >= KINK_HDR_LEN && p[0] != 0 &&
		    p[0] != KINK_MSGTYPE_REPLY && p[0] != KINK_MSGTYPE_ACK &&
		    p[0] <= KINK_MSGTYPE_MAX)
			send_error(kd, from, to, get_be32(p + 8),
			    (uint32_t)act, 0, NULL);
		return;
	}
	switch (m.m_type) {
	case KINK_MSGTYPE_REPLY:
		input_reply(kd, &m, from);
		break;
	case KINK_MSGTYPE_GETTGT:
		gettgt_respond(kd, &m, from, to);
		break;
	case KINK_MSGTYPE_CREATE:
	case KINK_MSGTYPE_DELETE:
	case KINK_MSGTYPE_STATUS:
	case KINK_MSGTYPE_ACK:
		input_command(kd, &m, from, to);
		break;
	default:
		stats_inc(STAT_DROP_PARSE);
		break;
	}
}
