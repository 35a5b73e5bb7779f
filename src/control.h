/*
 * Control socket server (kinkd side of include/ctl.h).
 *
 * control_new() creates the UNIX stream socket (unlink, umask, bind,
 * chmod 0660) and accepts connections on the caller's event_base.  Each
 * connection has a capped read buffer; requests are decoded with
 * src/ctl_msg.c and dispatched, one at a time per connection, to the
 * daemon's handler for that request type.  The server itself:
 *  - refuses with CTL_ERR_PERM the requests that change state (INITIATE,
 *    DELETE_SA, FLUSH_SA, RELOAD, LOG) and SHOW_SA with CTL_F_KEYS when the
 *    caller's SO_PEERCRED uid is not 0, before any handler runs;
 *  - answers CTL_ERR_NOTSUPP for a request whose handler is NULL;
 *  - answers CTL_REQ_MONITOR itself: the connection becomes a subscriber,
 *    gets a "subscribed" event at once, then every control_event();
 *  - answers garbage (bad version, unknown type, oversize or undecodable
 *    payload) with CTL_ERROR and closes that connection only.
 *
 * Answering.  A handler gets a struct control_req and answers with zero or
 * more control_send_*() then exactly one control_end() or control_error(),
 * now or later (asynchronously: e.g. INITIATE when the exchange completes,
 * SHOW_SA after a kernel dump).  The req stays valid until that
 * control_end()/control_error(), which frees it, EVEN IF the client has gone
 * away meanwhile: sends to a gone client are dropped and return -1, and
 * control_req_alive() tells the daemon it may stop working for it.
 * control_free() frees every outstanding req; the daemon must drop its
 * pointers to them first (or not use them after).
 *
 * Keys: control_send_sa() sends the keys only if the request carried
 * CTL_F_KEYS (which only root may set); otherwise it zeroes them in the
 * encoded record.  The daemon may always pass the full struct ctl_sa.
 *
 * Daemon functions: return 0 / -1 and log at the failure site.
 */
#ifndef KINK_CONTROL_H
#define KINK_CONTROL_H

#include <sys/types.h>
#include <stdint.h>

#include "ctl.h"

struct event_base;
struct control;
struct control_req;

/*
 * Handler for one request type.  `r` holds the decoded parameters (valid
 * until the req is ended); `arg` is control_new()'s arg.
 */
typedef void control_cb(struct control_req *, const struct ctl_req *r,
    void *arg);

struct control_handlers {
	control_cb	*h_show_sa;	/* r->cr_peer ("" = all) */
	control_cb	*h_show_peers;
	control_cb	*h_show_xact;
	control_cb	*h_show_stats;
	control_cb	*h_initiate;	/* r->cr_peer, r->cr_policy ("": all) */
	control_cb	*h_delete_sa;	/* r->cr_spi */
	control_cb	*h_flush_sa;	/* r->cr_peer ("" = all) */
	control_cb	*h_reload;	/* r->cr_file ("" = current) */
	control_cb	*h_reconcile;	/* one STATS record, then END */
	control_cb	*h_log;		/* r->cr_level: CTL_LOG_* */
	control_cb	*h_show_self;	/* answers with INFO records */
	control_cb	*h_show_policies;	/* POLICY records */
};

/* Limits. */
#define CONTROL_MAX_CONN	64	/* simultaneous connections */
#define CONTROL_ROOT_SLOTS	8	/* of those, only root may take */
#define CONTROL_MAX_PER_UID	16	/* per non-root uid */
#define CONTROL_MAX_REFUSED	16	/* refused ones waiting for the
					   request their BUSY answers */
#define CONTROL_IDLE_MS		30000	/* a connection with no request
					   in progress that sends nothing
					   this long is closed (monitors
					   excepted) */
#define CONTROL_MONITOR_QMAX	(1024 * 1024)	/* queued octets per
						   subscriber before it is
						   dropped as too slow */
#define CONTROL_OUTQ_MAX	(256 * 1024)	/* queued answer octets above
						   which a connection's next
						   request waits */

/*
 * Create the socket at `path` (replacing a stale one) with mode 0660 and
 * start accepting.  The handlers struct is copied.  Returns NULL (logged)
 * on failure.
 */
struct control *control_new(struct event_base *, const char *path,
	    const struct control_handlers *, void *arg);
/* The idle limit (CONTROL_IDLE_MS unless set), for tests. */
void	control_set_idle(struct control *, unsigned int ms);
/*
 * Give the socket file to group `gid` (e.g. _kinkd), keeping mode 0660, so
 * the group may run read-only commands.  Call before dropping privileges.
 */
int	control_set_group(struct control *, gid_t);
/* Close every connection, free outstanding reqs, unlink the socket. */
void	control_free(struct control *);

/* Broadcast to every monitor subscriber (copied; no-op when none). */
void	control_event(struct control *, const struct ctl_event *);
/* Convenience: fill time_ms with the current time and broadcast. */
void	control_eventf(struct control *, const char *type, const char *peer,
	    uint32_t xid, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Number of monitor subscribers (skip building events when 0). */
int	control_nmonitors(const struct control *);
/*
 * The same two as an event sink (arg = struct control *, may be NULL):
 * the shape of the engine's event hooks (engine_event_fn,
 * engine_listening_fn), so the daemon wires its engine to the monitors.
 */
void	control_monitor_event(void *, const char *type, const char *peer,
	    uint32_t xid, const char *text);
int	control_monitor_listening(void *);

/* About a request. */
uint8_t	control_req_type(const struct control_req *);	/* CTL_REQ_* */
uint16_t control_req_flags(const struct control_req *);
uid_t	control_req_uid(const struct control_req *);	/* SO_PEERCRED */
int	control_req_alive(const struct control_req *);	/* client still there */
/* Octets of answers the client has not read yet (0 once it is gone). */
size_t	control_req_queued(const struct control_req *);

/* Answers.  Each returns 0, or -1 if the client is gone or OOM. */
int	control_send_sa(struct control_req *, const struct ctl_sa *);
int	control_send_peer(struct control_req *, const struct ctl_peer *);
int	control_send_xact(struct control_req *, const struct ctl_xact *);
int	control_send_stats(struct control_req *, const struct ctl_stats *);
int	control_send_policy(struct control_req *, const struct ctl_policy *);
/* One INFO record (SHOW_SELF): a name and a printf value. */
int	control_send_info(struct control_req *, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Convenience for STATS: append one counter; full records (CTL_STATS_MAX)
 * are sent as they fill, the rest by control_end().
 */
int	control_send_stat(struct control_req *, const char *name,
	    uint64_t value);
/* End the request successfully; frees req. */
void	control_end(struct control_req *);
/* End the request with an error (code CTL_ERR_*, printf text); frees req. */
void	control_error(struct control_req *, uint16_t code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Helpers to fill records from a sockaddr (AF_INET/AF_INET6, else NONE). */
struct sockaddr;

#endif
