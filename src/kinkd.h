/*
 * struct kinkd: the one daemon context.  Everything the event callbacks
 * need hangs off it: the event base, the active configuration, the krb
 * and sadb handles, sockets, the control server, the peer table, the SA
 * records and the transaction table.  kinkd.c creates it and tears it
 * down in reverse order (STYLE 6.2: the init order documents the daemon).
 */
#ifndef KINK_KINKD_H
#define KINK_KINKD_H

#include <sys/queue.h>
#include <stdint.h>

#include "conf.h"
#include "peer.h"
#include "xact.h"

struct event;
struct event_base;
struct krb_ctx;
struct sadb;
struct net;
struct control;
struct control_req;

#define KINKD_PIDFILE	"/run/kinkd.pid"
#define KINKD_CONF	"/etc/kinkd.conf"

struct kinkd {
	struct event_base	*kd_base;
	struct kink_conf	*kd_conf;
	char			*kd_conf_path;
	struct conf_macro	*kd_defines;	/* -D, NULL-terminated */
	char			*kd_sockpath;
	int			 kd_foreground;
	int			 kd_verbose;	/* -v count */
	char			 kd_principal[CTL_PRINC_MAX + 1];
	uint32_t		 kd_epoch;	/* ours, set at start */
	uint32_t		 kd_next_xid;
	uint32_t		 kd_next_pair;
	uint64_t		 kd_next_serial;
	uint64_t		 kd_start_ms;

	struct krb_ctx		*kd_krb;
	struct sadb		*kd_sadb;
	struct net		*kd_net;
	struct control		*kd_ctl;

	struct kink_peer_head	 kd_peers;
	struct kink_sarec_head	 kd_sas;
	int			 kd_nsas;
	struct kink_xact_head	 kd_xacts;
	int			 kd_nxact;

	struct event		*kd_ev_sig[4];
	int			 kd_stopping;
	int			 kd_sadb_pending;	/* shutdown flush */
	int			 kd_refuse_replies;	/* test: inject refuse-reply */
	int			 kd_reply_ackreq;	/* test: inject reply-ackreq */
	uint8_t			 kd_send_qmvers;	/* test: inject send-qmvers */
	/* Set while a transaction is started over (xact_restart). */
	uint8_t			 kd_renewing;
	/* Rate limit for answers to unauthenticated input. */
	uint64_t		 kd_err_window_ms;
	int			 kd_err_count;
	/* Rate limit for log lines a peer can trigger (STYLE 6.4). */
	uint64_t		 kd_log_window_ms;
	int			 kd_log_count;
	uint64_t		 kd_log_suppressed;
};

/* daemon.c */
/*
 * Parse `path` (NULL = current) into a new config and swap it in when it
 * is valid: peers re-pointed, SAs whose policy is unchanged kept, the rest
 * removed, SPD entries updated.  On failure the old config stays and
 * `errtext` (may be NULL) gets every error line.  0 / -1.
 */
int	kinkd_reload(struct kinkd *, const char *path, char *errtext,
	    size_t errlen);
/*
 * Drop from every policy of `c` the suites the SA backend cannot install,
 * one warning per suite; a policy left with none is an error (logged, and
 * appended to errtext, which may be NULL).  0 / -1.
 */
int	kinkd_conf_filter(struct kinkd *, struct kink_conf *, char *errtext,
	    size_t errlen);
/* Monitor event, when anyone listens. */
void	kinkd_event(struct kinkd *, const char *type, const char *peer,
	    uint32_t xid, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Policy of a configured peer by name; NULL if absent. */
struct kink_policy *kinkd_policy(struct kinkd *, struct kink_peer *,
	    const char *name);
/* sadb completion that only logs (and counts) a failure. */
void	kinkd_sadb_done(int err, void *what);
/* The sadb upcall: ACQUIRE, EXPIRE (arg = struct kinkd). */
struct sadb_event;
void	kinkd_upcall(const struct sadb_event *, void *);
/* SIGUSR1: events from "<socket>.inject" through the null backend. */
void	kinkd_inject(struct kinkd *);

/* daemon_ctl.c */
struct control_handlers;
extern const struct control_handlers kinkd_ctl_handlers;

#endif
