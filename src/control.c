/*
 * Control socket server: see control.h for the contract, include/ctl.h for
 * the protocol.  One bufferevent per connection; its read high-watermark is
 * the read-buffer cap (a header plus CTL_MAXMSG), so a client cannot make
 * kinkd buffer more than one maximal request, however fast it writes.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "buf.h"
#include "log.h"
#include "ctl_msg.h"
#include "control.h"

#define CONTROL_BACKLOG		16
#define CONTROL_ACCEPT_BACKOFF	1	/* seconds after EMFILE */
#define CONTROL_LOG_RATE	10	/* refusal lines per second */

struct control_conn;

struct control_req {
	TAILQ_ENTRY(control_req) rq_entry;	/* in c_reqs */
	struct control		*rq_ctl;
	struct control_conn	*rq_conn;	/* NULL once the client left */
	uint8_t			 rq_type;
	uint16_t		 rq_flags;
	uint32_t		 rq_seq;
	uid_t			 rq_uid;
	struct ctl_req		 rq_req;
	struct ctl_stats	*rq_stats;	/* control_send_stat() batch */
};

struct control_conn {
	TAILQ_ENTRY(control_conn) cc_entry;
	struct control		*cc_ctl;
	struct bufferevent	*cc_bev;
	uid_t			 cc_uid;
	pid_t			 cc_pid;
	int			 cc_monitor;
	uint32_t		 cc_monitor_seq;	/* echoed in events */
	int			 cc_closing;	/* flush, then free */
	int			 cc_dispatching;
	struct control_req	*cc_req;	/* the request being answered */
	const char		*cc_refused;	/* BUSY reason, sent to the
						   first request */
};

struct control {
	struct event_base	*c_base;
	char			*c_path;
	struct evconnlistener	*c_listener;
	struct event		*c_backoff;
	struct control_handlers	 c_h;
	void			*c_arg;
	TAILQ_HEAD(, control_conn) c_conns;
	TAILQ_HEAD(, control_req) c_reqs;
	int			 c_nconns;	/* admitted */
	int			 c_nrefused;	/* waiting for their BUSY */
	int			 c_nmon;
	dev_t			 c_dev;		/* the socket file we made */
	ino_t			 c_ino;
	unsigned int		 c_idle_ms;
	struct log_rate		 c_lograte;	/* refusal lines */
};

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_process(struct control_conn *);

/* ---- sending ---- */

static void
wipe_free_cb(const void *data, size_t len, void *extra)
{
	explicit_bzero((void *)data, len);
	free((void *)data);
}

/*
 * Encode and queue one message.  The encoded octets are handed to the
 * evbuffer by reference so they are wiped when sent (SA records may hold
 * keys), instead of lingering in libevent's chains.
 */
static int
conn_send(struct control_conn *cc, const struct ctl_msg *m)
{
	struct buf b;
	int e;

	if (cc == NULL || cc->cc_closing)
		return -1;
	buf_init(&b, CTL_HDR_LEN + CTL_MAXMSG);
	if ((e = ctl_msg_encode(&b, m)) != CTL_E_OK) {
		log_warnx("control: cannot encode %s: %s",
		    ctl_type_name(m->m_hdr.ch_type), ctl_strerror(e));
		buf_free(&b);
		return -1;
	}
	if (evbuffer_add_reference(bufferevent_get_output(cc->cc_bev),
	    b.b_data, b.b_len, wipe_free_cb, NULL) != 0) {
		log_warnx("control: out of memory queueing an answer");
		buf_free(&b);
		return -1;
	}
	return 0;
}

static void
conn_free(struct control_conn *cc)
{
	struct control *c = cc->cc_ctl;

	if (cc->cc_req != NULL)
		cc->cc_req->rq_conn = NULL;	/* the daemon still ends it */
	if (cc->cc_monitor)
		c->c_nmon--;
	TAILQ_REMOVE(&c->c_conns, cc, cc_entry);
	if (cc->cc_refused != NULL)
		c->c_nrefused--;
	else
		c->c_nconns--;
	bufferevent_free(cc->cc_bev);
	free(cc);
}

/*
 * Stop reading; free the connection once its answers are written.  Never
 * frees synchronously (callers are inside loops over this connection): the
 * write callback does it, forced through a deferred trigger in case the
 * output is already empty.
 */
static void
conn_close(struct control_conn *cc)
{
	cc->cc_closing = 1;
	bufferevent_disable(cc->cc_bev, EV_READ);
	bufferevent_trigger(cc->cc_bev, EV_WRITE,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* An error outside any req (garbage); then close. */
static void
conn_fatal(struct control_conn *cc, uint32_t seq, uint16_t code,
    const char *fmt, ...)
{
	struct ctl_msg *m;
	va_list ap;

	if ((m = calloc(1, sizeof(*m))) != NULL) {
		m->m_hdr.ch_type = CTL_ERROR;
		m->m_hdr.ch_seq = seq;
		m->m_error.er_code = code;
		va_start(ap, fmt);
		vsnprintf(m->m_error.er_text, sizeof(m->m_error.er_text),
		    fmt, ap);
		va_end(ap);
		log_debug("control: uid %u pid %d: %s, closing",
		    (unsigned)cc->cc_uid, (int)cc->cc_pid, m->m_error.er_text);
		(void)conn_send(cc, m);
		free(m);
	}
	conn_close(cc);
}

/* ---- requests ---- */

static void
req_free(struct control_req *rq)
{
	struct control_conn *cc = rq->rq_conn;

	TAILQ_REMOVE(&rq->rq_ctl->c_reqs, rq, rq_entry);
	if (cc != NULL)
		cc->cc_req = NULL;
	free(rq->rq_stats);
	explicit_bzero(rq, sizeof(*rq));
	free(rq);
	/* The next pipelined request may be waiting in the read buffer. */
	if (cc != NULL && !cc->cc_dispatching && !cc->cc_closing)
		conn_process(cc);
}

uint8_t
control_req_type(const struct control_req *rq)
{
	return rq->rq_type;
}

uint16_t
control_req_flags(const struct control_req *rq)
{
	return rq->rq_flags;
}

uid_t
control_req_uid(const struct control_req *rq)
{
	return rq->rq_uid;
}

int
control_req_alive(const struct control_req *rq)
{
	return rq->rq_conn != NULL && !rq->rq_conn->cc_closing;
}

size_t
control_req_queued(const struct control_req *rq)
{
	if (!control_req_alive(rq))
		return 0;
	return evbuffer_get_length(bufferevent_get_output(
	    rq->rq_conn->cc_bev));
}

static int
req_send(struct control_req *rq, struct ctl_msg *m, uint8_t type)
{
	m->m_hdr.ch_type = type;
	m->m_hdr.ch_flags = 0;
	m->m_hdr.ch_seq = rq->rq_seq;
	return conn_send(rq->rq_conn, m);
}

int
control_send_sa(struct control_req *rq, const struct ctl_sa *sa)
{
	struct ctl_msg *m;
	int rv;

	if (!control_req_alive(rq))
		return -1;
	if ((m = malloc(sizeof(*m))) == NULL)
		return -1;
	m->m_sa = *sa;
	if (!(rq->rq_flags & CTL_F_KEYS)) {
		explicit_bzero(m->m_sa.cs_enckey, sizeof(m->m_sa.cs_enckey));
		explicit_bzero(m->m_sa.cs_authkey, sizeof(m->m_sa.cs_authkey));
		m->m_sa.cs_enckey_len = m->m_sa.cs_authkey_len = 0;
	}
	rv = req_send(rq, m, CTL_REC_SA);
	explicit_bzero(m, sizeof(*m));
	free(m);
	return rv;
}

int
control_send_peer(struct control_req *rq, const struct ctl_peer *p)
{
	struct ctl_msg *m;
	int rv;

	if (!control_req_alive(rq) || (m = malloc(sizeof(*m))) == NULL)
		return -1;
	m->m_peer = *p;
	rv = req_send(rq, m, CTL_REC_PEER);
	free(m);
	return rv;
}

int
control_send_xact(struct control_req *rq, const struct ctl_xact *x)
{
	struct ctl_msg *m;
	int rv;

	if (!control_req_alive(rq) || (m = malloc(sizeof(*m))) == NULL)
		return -1;
	m->m_xact = *x;
	rv = req_send(rq, m, CTL_REC_XACT);
	free(m);
	return rv;
}

int
control_send_stats(struct control_req *rq, const struct ctl_stats *s)
{
	struct ctl_msg *m;
	int rv;

	if (!control_req_alive(rq) || (m = malloc(sizeof(*m))) == NULL)
		return -1;
	m->m_stats = *s;
	rv = req_send(rq, m, CTL_REC_STATS);
	free(m);
	return rv;
}

int
control_send_policy(struct control_req *rq, const struct ctl_policy *p)
{
	struct ctl_msg *m;
	int rv;

	if (!control_req_alive(rq) || (m = malloc(sizeof(*m))) == NULL)
		return -1;
	m->m_policy = *p;
	rv = req_send(rq, m, CTL_REC_POLICY);
	free(m);
	return rv;
}

int
control_send_info(struct control_req *rq, const char *name, const char *fmt,
    ...)
{
	struct ctl_msg *m;
	va_list ap;
	int rv;

	if (!control_req_alive(rq) || (m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	strlcpy(m->m_info.ci_name, name, sizeof(m->m_info.ci_name));
	va_start(ap, fmt);
	/* A value longer than the field is cut, not refused: it is prose. */
	(void)vsnprintf(m->m_info.ci_value, sizeof(m->m_info.ci_value), fmt,
	    ap);
	va_end(ap);
	rv = req_send(rq, m, CTL_REC_INFO);
	free(m);
	return rv;
}

static int
stats_flush(struct control_req *rq)
{
	int rv = 0;

	if (rq->rq_stats != NULL && rq->rq_stats->cst_n > 0) {
		rv = control_send_stats(rq, rq->rq_stats);
		rq->rq_stats->cst_n = 0;
	}
	return rv;
}

int
control_send_stat(struct control_req *rq, const char *name, uint64_t value)
{
	struct ctl_stat *st;

	if (!control_req_alive(rq))
		return -1;
	if (rq->rq_stats == NULL &&
	    (rq->rq_stats = calloc(1, sizeof(*rq->rq_stats))) == NULL)
		return -1;
	if (rq->rq_stats->cst_n == CTL_STATS_MAX && stats_flush(rq) != 0)
		return -1;
	st = &rq->rq_stats->cst_v[rq->rq_stats->cst_n];
	if (strlcpy(st->cst_name, name, sizeof(st->cst_name)) >=
	    sizeof(st->cst_name) || name[0] == '\0') {
		log_warnx("control: bad counter name \"%s\"", name);
		return -1;
	}
	st->cst_value = value;
	rq->rq_stats->cst_n++;
	return 0;
}

void
control_end(struct control_req *rq)
{
	struct ctl_msg m;

	if (control_req_alive(rq)) {
		(void)stats_flush(rq);
		memset(&m.m_hdr, 0, sizeof(m.m_hdr));
		(void)req_send(rq, &m, CTL_END);
	}
	req_free(rq);
}

static void
control_verror(struct control_req *rq, uint16_t code, const char *fmt,
    va_list ap)
{
	struct ctl_msg *m;

	if (control_req_alive(rq) && (m = calloc(1, sizeof(*m))) != NULL) {
		if (code < 1 || code > CTL_ERR_MAX)
			code = CTL_ERR_FAILED;
		m->m_error.er_code = code;
		vsnprintf(m->m_error.er_text, sizeof(m->m_error.er_text),
		    fmt, ap);
		(void)req_send(rq, m, CTL_ERROR);
		free(m);
	}
	req_free(rq);
}

void
control_error(struct control_req *rq, uint16_t code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	control_verror(rq, code, fmt, ap);
	va_end(ap);
}

static void
error_now(struct control_req *rq, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
error_now(struct control_req *rq, uint16_t code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	control_verror(rq, code, fmt, ap);
	va_end(ap);
}

/* ---- monitor ---- */

static void
monitor_send(struct control_conn *cc, const struct ctl_event *ev)
{
	struct ctl_msg *m;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	memset(&m->m_hdr, 0, sizeof(m->m_hdr));
	m->m_hdr.ch_type = CTL_REC_EVENT;
	m->m_hdr.ch_seq = cc->cc_monitor_seq;
	m->m_event = *ev;
	(void)conn_send(cc, m);
	free(m);
}

void
control_event(struct control *c, const struct ctl_event *ev)
{
	struct control_conn *cc, *next;

	if (c == NULL || c->c_nmon == 0)
		return;
	TAILQ_FOREACH_SAFE(cc, &c->c_conns, cc_entry, next) {
		if (!cc->cc_monitor || cc->cc_closing)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(cc->cc_bev)) >
		    CONTROL_MONITOR_QMAX) {
			log_warnx("control: monitor pid %d too slow, dropped",
			    (int)cc->cc_pid);
			conn_free(cc);
			continue;
		}
		monitor_send(cc, ev);
	}
}

static uint64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

void
control_eventf(struct control *c, const char *type, const char *peer,
    uint32_t xid, const char *fmt, ...)
{
	struct ctl_event ev;
	va_list ap;

	if (c == NULL || c->c_nmon == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ce_time_ms = now_ms();
	strlcpy(ev.ce_type, type, sizeof(ev.ce_type));
	if (peer != NULL)
		strlcpy(ev.ce_peer, peer, sizeof(ev.ce_peer));
	ev.ce_xid = xid;
	va_start(ap, fmt);
	vsnprintf(ev.ce_text, sizeof(ev.ce_text), fmt, ap);
	va_end(ap);
	control_event(c, &ev);
}

int
control_nmonitors(const struct control *c)
{
	return c == NULL ? 0 : c->c_nmon;
}

void
control_monitor_event(void *arg, const char *type, const char *peer,
    uint32_t xid, const char *text)
{
	control_eventf(arg, type, peer, xid, "%s", text);
}

int
control_monitor_listening(void *arg)
{
	return control_nmonitors(arg) > 0;
}

/* ---- dispatch ---- */

static int
needs_root(uint8_t type, uint16_t flags)
{
	switch (type) {
	case CTL_REQ_INITIATE:
	case CTL_REQ_DELETE_SA:
	case CTL_REQ_FLUSH_SA:
	case CTL_REQ_RELOAD:
	case CTL_REQ_LOG:
	case CTL_REQ_RECONCILE:
		return 1;
	case CTL_REQ_SHOW_SA:
		return (flags & CTL_F_KEYS) != 0;
	}
	return 0;
}

static control_cb *
handler_for(const struct control *c, uint8_t type)
{
	switch (type) {
	case CTL_REQ_SHOW_SA:		return c->c_h.h_show_sa;
	case CTL_REQ_SHOW_PEERS:	return c->c_h.h_show_peers;
	case CTL_REQ_SHOW_XACT:		return c->c_h.h_show_xact;
	case CTL_REQ_SHOW_STATS:	return c->c_h.h_show_stats;
	case CTL_REQ_INITIATE:		return c->c_h.h_initiate;
	case CTL_REQ_DELETE_SA:		return c->c_h.h_delete_sa;
	case CTL_REQ_FLUSH_SA:		return c->c_h.h_flush_sa;
	case CTL_REQ_RELOAD:		return c->c_h.h_reload;
	case CTL_REQ_LOG:		return c->c_h.h_log;
	case CTL_REQ_SHOW_SELF:		return c->c_h.h_show_self;
	case CTL_REQ_RECONCILE:		return c->c_h.h_reconcile;
	case CTL_REQ_SHOW_POLICIES:	return c->c_h.h_show_policies;
	}
	return NULL;
}

static void
conn_dispatch(struct control_conn *cc, const struct ctl_msg *m)
{
	struct control *c = cc->cc_ctl;
	struct control_req *rq;
	struct ctl_event ev;
	control_cb *cb;
	uint8_t type = m->m_hdr.ch_type;

	if (type == CTL_REQ_MONITOR) {
		cc->cc_monitor = 1;
		cc->cc_monitor_seq = m->m_hdr.ch_seq;
		c->c_nmon++;
		memset(&ev, 0, sizeof(ev));
		ev.ce_time_ms = now_ms();
		strlcpy(ev.ce_type, CTL_EV_SUBSCRIBED, sizeof(ev.ce_type));
		monitor_send(cc, &ev);
		log_debug("control: pid %d subscribed to events",
		    (int)cc->cc_pid);
		return;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL) {
		conn_fatal(cc, m->m_hdr.ch_seq, CTL_ERR_INTERNAL,
		    "out of memory");
		return;
	}
	rq->rq_ctl = c;
	rq->rq_conn = cc;
	rq->rq_type = type;
	rq->rq_flags = m->m_hdr.ch_flags;
	rq->rq_seq = m->m_hdr.ch_seq;
	rq->rq_uid = cc->cc_uid;
	rq->rq_req = m->m_req;
	TAILQ_INSERT_TAIL(&c->c_reqs, rq, rq_entry);
	cc->cc_req = rq;

	if (needs_root(type, rq->rq_flags) && cc->cc_uid != 0) {
		if (log_rate_now(&c->c_lograte, CONTROL_LOG_RATE,
		    "control refusals"))
			log_info("control: refused %s%s to uid %u",
			    ctl_type_name(type),
			    type == CTL_REQ_SHOW_SA ? " with keys" : "",
			    (unsigned)cc->cc_uid);
		error_now(rq, CTL_ERR_PERM, "permission denied: %s%s requires "
		    "root (caller uid %u)", ctl_type_name(type),
		    type == CTL_REQ_SHOW_SA ? " with keys" : "",
		    (unsigned)cc->cc_uid);
		return;
	}
	if ((cb = handler_for(c, type)) == NULL) {
		error_now(rq, CTL_ERR_NOTSUPP,
		    "%s: not supported by this kinkd", ctl_type_name(type));
		return;
	}
	log_debug("control: uid %u pid %d: %s", (unsigned)cc->cc_uid,
	    (int)cc->cc_pid, ctl_type_name(type));
	cb(rq, &rq->rq_req, c->c_arg);
}

/*
 * Decode and dispatch buffered requests while no request is outstanding.
 * A bad header or payload closes this connection after a CTL_ERROR.
 */
static void
conn_process(struct control_conn *cc)
{
	struct evbuffer *in = bufferevent_get_input(cc->cc_bev);
	struct ctl_msg *m = NULL;
	struct ctl_hdr h;
	const uint8_t *p;
	size_t len, used;
	int e;

	while (!cc->cc_closing && cc->cc_req == NULL) {
		len = evbuffer_get_length(in);
		if (cc->cc_monitor) {
			/* A subscriber has nothing more to say. */
			evbuffer_drain(in, len);
			break;
		}
		/*
		 * A client that pipelines requests without reading the
		 * answers waits here (conn_write_cb resumes), so its queue
		 * stays bounded.
		 */
		if (evbuffer_get_length(bufferevent_get_output(cc->cc_bev)) >
		    CONTROL_OUTQ_MAX)
			break;
		if (len < CTL_HDR_LEN)
			break;
		p = evbuffer_pullup(in, CTL_HDR_LEN);
		if (p == NULL)
			break;
		memset(&h, 0, sizeof(h));
		e = ctl_hdr_decode(p, CTL_HDR_LEN, &h);
		if (e == CTL_E_VERSION) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_VERSION,
			    "protocol version %u, kinkd speaks %u",
			    h.ch_version, CTL_VERSION);
			break;
		}
		if (e == CTL_E_TYPE) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_UNKNOWN,
			    "unknown request type %u", h.ch_type);
			break;
		}
		if (e != CTL_E_OK) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_BADREQ,
			    "bad request header: %s", ctl_strerror(e));
			break;
		}
		if (cc->cc_refused != NULL) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_BUSY, "%s",
			    cc->cc_refused);
			break;
		}
		if (!ctl_type_is_request(h.ch_type)) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_BADREQ,
			    "%s is not a request", ctl_type_name(h.ch_type));
			break;
		}
		if (len - CTL_HDR_LEN < h.ch_len)
			break;		/* wait for the rest */
		if (m == NULL && (m = malloc(sizeof(*m))) == NULL) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_INTERNAL,
			    "out of memory");
			break;
		}
		p = evbuffer_pullup(in, CTL_HDR_LEN + h.ch_len);
		if (p == NULL) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_INTERNAL,
			    "out of memory");
			break;
		}
		e = ctl_msg_decode(p, CTL_HDR_LEN + h.ch_len, m, &used);
		evbuffer_drain(in, CTL_HDR_LEN + h.ch_len);
		if (e != CTL_E_OK) {
			conn_fatal(cc, h.ch_seq, CTL_ERR_BADREQ,
			    "bad %s request: %s", ctl_type_name(h.ch_type),
			    ctl_strerror(e));
			break;
		}
		cc->cc_dispatching = 1;
		conn_dispatch(cc, m);
		cc->cc_dispatching = 0;
	}
	free(m);
}

/* ---- bufferevent callbacks ---- */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;

	if (cc->cc_closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(cc);
		return;
	}
	/* Answers drained: requests held back by CONTROL_OUTQ_MAX go on. */
	if (cc->cc_req == NULL && !cc->cc_monitor)
		conn_process(cc);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *cc = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		log_debug("control: pid %d disconnected", (int)cc->cc_pid);
		conn_free(cc);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !cc->cc_closing) {
		/*
		 * Idle only counts while the client owes us a request: a
		 * subscriber or a client awaiting its answer keeps reading.
		 */
		if (cc->cc_monitor || cc->cc_req != NULL) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_debug("control: uid %u pid %d idle, closed",
		    (unsigned)cc->cc_uid, (int)cc->cc_pid);
		conn_close(cc);
	}
}

/* Admitted connections of `uid`. */
static int
conns_of(const struct control *c, uid_t uid)
{
	const struct control_conn *cc;
	int n = 0;

	TAILQ_FOREACH(cc, &c->c_conns, cc_entry)
		if (cc->cc_refused == NULL && cc->cc_uid == uid)
			n++;
	return n;
}

/*
 * Why a new connection of `uid` is refused, or NULL.  The last
 * CONTROL_ROOT_SLOTS are root's and no other uid may hold more than
 * CONTROL_MAX_PER_UID, so a member of the socket's group cannot lock
 * root out by holding connections open.
 */
static const char *
admit(const struct control *c, uid_t uid)
{
	if (c->c_nconns >= CONTROL_MAX_CONN)
		return "too many control connections";
	if (uid == 0)
		return NULL;
	if (c->c_nconns >= CONTROL_MAX_CONN - CONTROL_ROOT_SLOTS)
		return "too many control connections (the rest are kept "
		    "for root)";
	if (conns_of(c, uid) >= CONTROL_MAX_PER_UID)
		return "too many control connections for this user";
	return NULL;
}

/* ---- accepting ---- */

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct control *c = arg;
	struct control_conn *cc;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct timeval idle = { c->c_idle_ms / 1000,
	    (c->c_idle_ms % 1000) * 1000 };

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warnx("control: out of memory accepting");
		close(fd);
		return;
	}
	cc->cc_ctl = c;
	cc->cc_uid = cred.uid;
	cc->cc_pid = cred.pid;
	cc->cc_refused = admit(c, cred.uid);
	cc->cc_bev = bufferevent_socket_new(c->c_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->cc_bev == NULL) {
		log_warnx("control: out of memory accepting");
		close(fd);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&c->c_conns, cc, cc_entry);
	if (cc->cc_refused != NULL)
		c->c_nrefused++;
	else
		c->c_nconns++;
	bufferevent_setcb(cc->cc_bev, conn_read_cb, conn_write_cb,
	    conn_event_cb, cc);
	bufferevent_setwatermark(cc->cc_bev, EV_READ, 0,
	    CTL_HDR_LEN + CTL_MAXMSG);
	bufferevent_set_timeouts(cc->cc_bev, &idle, NULL);
	if (bufferevent_enable(cc->cc_bev, EV_READ | EV_WRITE) != 0) {
		log_warnx("control: cannot enable connection");
		conn_free(cc);
		return;
	}
	if (cc->cc_refused == NULL)
		return;
	if (log_rate_now(&c->c_lograte, CONTROL_LOG_RATE, "control refusals"))
		log_warnx("control: uid %u pid %d refused: %s",
		    (unsigned)cc->cc_uid, (int)cc->cc_pid, cc->cc_refused);
	/*
	 * BUSY answers the first request, so the client sees it as the
	 * answer to what it asked; past CONTROL_MAX_REFUSED waiting, at once.
	 */
	if (c->c_nrefused > CONTROL_MAX_REFUSED)
		conn_fatal(cc, 0, CTL_ERR_BUSY, "%s", cc->cc_refused);
}

static void
backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	evconnlistener_enable(c->c_listener);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	struct timeval tv = { CONTROL_ACCEPT_BACKOFF, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	log_warnx("control: accept: %s", strerror(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		/* Out of descriptors: pause instead of spinning. */
		evconnlistener_disable(l);
		evtimer_add(c->c_backoff, &tv);
	}
}

/*
 * A file in the way of the socket is removed only when it is a socket
 * nobody listens on (left by a kinkd that crashed): a live one belongs to
 * a running daemon, anything else is not ours to delete.
 */
static int
clear_path(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("control: %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket: not "
		    "removing it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control: socket");
		return -1;
	}
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN;
	close(fd);
	if (live) {
		log_warnx("control: %s is in use by a running process: not "
		    "removing it", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("control: unlink %s", path);
		return -1;
	}
	return 0;
}

/* Only the socket file this object bound, not one that replaced it. */
static void
unlink_ours(const struct control *c)
{
	struct stat st;

	if (lstat(c->c_path, &st) == 0 && st.st_dev == c->c_dev &&
	    st.st_ino == c->c_ino)
		unlink(c->c_path);
}

void
control_set_idle(struct control *c, unsigned int ms)
{
	c->c_idle_ms = ms;
}

struct control *
control_new(struct event_base *base, const char *path,
    const struct control_handlers *h, void *arg)
{
	struct control *c = NULL;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control: socket path too long: %s", path);
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_path = strdup(path)) == NULL) {
		log_warnx("control: out of memory");
		goto fail;
	}
	c->c_base = base;
	c->c_idle_ms = CONTROL_IDLE_MS;
	c->c_h = *h;
	c->c_arg = arg;
	TAILQ_INIT(&c->c_conns);
	TAILQ_INIT(&c->c_reqs);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control: socket");
		goto fail;
	}
	if (clear_path(path, &sun) == -1)
		goto fail;
	/* No window in which the socket exists with a wider mode. */
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("control: bind %s", path);
		umask(old);
		goto fail;
	}
	umask(old);
	if (lstat(path, &st) == 0) {
		c->c_dev = st.st_dev;
		c->c_ino = st.st_ino;
	}
	if (chmod(path, 0660) == -1) {
		log_warn("control: chmod %s", path);
		unlink_ours(c);
		goto fail;
	}
	c->c_listener = evconnlistener_new(base, accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE, CONTROL_BACKLOG, fd);
	if (c->c_listener == NULL) {
		log_warnx("control: cannot listen on %s", path);
		unlink_ours(c);
		goto fail;
	}
	fd = -1;	/* owned by the listener */
	evconnlistener_set_error_cb(c->c_listener, accept_error_cb);
	if ((c->c_backoff = evtimer_new(base, backoff_cb, c)) == NULL) {
		log_warnx("control: out of memory");
		goto fail;
	}
	return c;
fail:
	if (fd != -1)
		close(fd);
	control_free(c);
	return NULL;
}

int
control_set_group(struct control *c, gid_t gid)
{
	if (chown(c->c_path, (uid_t)-1, gid) == -1) {
		log_warn("control: chown %s to group %u", c->c_path,
		    (unsigned)gid);
		return -1;
	}
	return 0;
}

void
control_free(struct control *c)
{
	struct control_conn *cc;
	struct control_req *rq;

	if (c == NULL)
		return;
	while ((cc = TAILQ_FIRST(&c->c_conns)) != NULL)
		conn_free(cc);
	while ((rq = TAILQ_FIRST(&c->c_reqs)) != NULL)
		req_free(rq);
	if (c->c_listener != NULL) {
		evconnlistener_free(c->c_listener);
		unlink_ours(c);
	}
	if (c->c_backoff != NULL)
		event_free(c->c_backoff);
	free(c->c_path);
	free(c);
}
