/*
 * The environment the KINK engine runs in (peer table, SA records,
 * transactions and the exchanges), as one struct the caller fills: the
 * daemon (src/kinkd_main.c) wires it to its sockets, control socket and
 * sadb backend; an in-process test wires two engines to each other.  No
 * engine file knows struct kinkd, so an exchange can run without a daemon
 * around it.
 *
 * The caller owns the handles (event base, conf, krb context, sadb) and
 * sets the hooks; engine_init() (src/engine_init.c, above the exchanges it
 * registers) sets up the tables, engine_fini() frees what is left in them.
 * engine.c itself only formats events, sends and rate-limits: every engine
 * module calls it, it calls none of them.
 */
#ifndef KINK_ENGINE_H
#define KINK_ENGINE_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <stdint.h>

#include "ctl.h"
#include "kink.h"
#include "ratelim.h"

struct event_base;
struct kink_conf;
struct krb_ctx;
struct sadb;
struct hostid;
struct site;
struct kink_peer;
struct kink_sarec;
struct kink_xact;
struct xact_ops;

TAILQ_HEAD(kink_peer_head, kink_peer);
/*
 * libbsd's RB_GENERATE_STATIC marks its functions with a __unused that
 * glibc's headers leave undefined; this one says it directly.
 */
#define ENGINE_RB_GENERATE(name, type, field, cmp)			\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)

/*
 * SA records in the order they were made (the listing order; a listing
 * resumes after the sequence number it sent last), by SPI and by pair.
 */
RB_HEAD(kink_sarec_head, kink_sarec);
RB_HEAD(kink_sarec_spis, kink_sarec);
RB_HEAD(kink_sarec_pairs, kink_sarec);
/* Peers by name and by principal. */
RB_HEAD(kink_peer_names, kink_peer);
RB_HEAD(kink_peer_princs, kink_peer);
/* Transactions by (XID, role) and by serial. */
RB_HEAD(kink_xact_xids, kink_xact);
RB_HEAD(kink_xact_serials, kink_xact);
TAILQ_HEAD(kink_xact_head, kink_xact);

/* Send one datagram from `local` to `remote`; 0 / -1. */
typedef int	engine_send_fn(void *arg, const struct sockaddr_storage *local,
		    const struct sockaddr_storage *remote, const uint8_t *,
		    size_t);
/* Our address towards `remote` (routing lookup); 0 / -1. */
typedef int	engine_local_fn(void *arg,
		    const struct sockaddr_storage *remote,
		    struct sockaddr_storage *local);
/* A monitor event (CTL_EV_*), text formatted already. */
typedef void	engine_event_fn(void *arg, const char *type, const char *peer,
		    uint32_t xid, const char *text);
/* Whether anyone listens to events (skip formatting when not). */
typedef int	engine_listening_fn(void *arg);
/* Datagrams of the current receive batch still to come that `want`
 * accepts (net_rx_more). */
typedef int	engine_rx_more_fn(void *arg,
		    int (*want)(const uint8_t *, size_t));

/*
 * Behaviour a test build switches on; NULL in the production daemon, so
 * the engine has no conditional compilation and the daemon no test code.
 */
struct engine_hooks {
	/* Non-NULL: refuse this authenticated CREATE REPLY, with that text. */
	const char	*(*eh_create_reply)(void *arg);
	/* Extra header flags for a DELETE/STATUS REPLY we send. */
	uint8_t		 (*eh_reply_flags)(void *arg);
	/* Non-zero: the QM version our next command's KINK_ISAKMP carries. */
	uint8_t		 (*eh_qmversion)(void *arg);
	/* Non-zero: a Notify of this type in our next CREATE's proposal. */
	uint16_t	 (*eh_create_notify)(void *arg);
	void		*eh_arg;
};

struct kink_engine {
	/* Handles, owned by the caller. */
	struct event_base	*en_base;
	struct kink_conf	*en_conf;	/* the active configuration */
	struct krb_ctx		*en_krb;
	struct sadb		*en_sadb;
	/* The outside world. */
	engine_send_fn		*en_send;
	engine_local_fn		*en_local_for;
	engine_rx_more_fn	*en_rx_more;	/* may be NULL: none */
	void			*en_net;	/* their argument */
	engine_event_fn		*en_event;	/* may be NULL */
	engine_listening_fn	*en_listening;	/* may be NULL */
	void			*en_event_arg;
	const struct engine_hooks *en_hooks;	/* NULL but in tests */
	struct hostid		*en_hostid;	/* range peers; may be NULL */
	struct site		*en_site;	/* src/site.c, made on first use */
	int			 en_nlearned;	/* learned peers in the table */
	size_t			 en_park_max;	/* 0: SITE_PARK_MAX (tests set) */

	char			 en_principal[CTL_PRINC_MAX + 1];
	uint32_t		 en_epoch;	/* ours (RFC 4430 3.7) */
	uint32_t		 en_next_xid;
	uint32_t		 en_next_pair;
	uint64_t		 en_next_serial;
	int			 en_stopping;	/* input and timers ignored */

	struct kink_peer_head	 en_peers;
	struct kink_peer_names	 en_peer_names;
	struct kink_peer_princs	 en_peer_princs;
	struct kink_sarec_head	 en_sas;
	int			 en_nsas;
	struct kink_sarec_spis	 en_sa_spis;
	struct kink_sarec_pairs	 en_sa_pairs;
	uint64_t		 en_sa_seq;	/* last record's sr_seq */
	struct kink_xact_head	 en_xacts;
	/* responders in R_ACKWAIT: their outbound SPIs are taken (CREATE) */
	struct kink_xact_head	 en_ackwait;
	int			 en_nxact;
	struct kink_xact_xids	 en_xact_xids;
	struct kink_xact_serials en_xact_serials;
	const struct xact_ops	*en_ops[KINK_MSGTYPE_MAX + 1];
	/* Set while a transaction is started over (xact_restart). */
	uint8_t			 en_renewing;
	/* Commands whose AP-REQ a krb worker is verifying (xact_input.c). */
	TAILQ_HEAD(, kink_verifying) en_verifying;

	/* Rate limits for answers to unauthenticated input. */
	struct ratelim		 en_err_rl;
	/* Rate limit for log lines a peer can trigger. */
	uint64_t		 en_log_window_ms;
	int			 en_log_count;
	uint64_t		 en_log_suppressed;
};

/* engine_init.c */
/*
 * Empty tables, a random EPOCH and first XID, and the four exchange types
 * registered.  The caller fills the handles and hooks before or after.
 */
void	engine_init(struct kink_engine *);
/*
 * Abort every transaction and free peers and SA records; the backend's
 * SAs stay (shutdown removed or kept them already).
 */
void	engine_fini(struct kink_engine *);

/* engine.c */

/* Monitor event, when anyone listens. */
void	engine_event(struct kink_engine *, const char *type, const char *peer,
	    uint32_t xid, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* One datagram out through the send hook. */
int	engine_send(struct kink_engine *, const struct sockaddr_storage *local,
	    const struct sockaddr_storage *remote, const uint8_t *, size_t);
int	engine_local_for(struct kink_engine *,
	    const struct sockaddr_storage *remote, struct sockaddr_storage *);
/*
 * 1 when a log line a peer can trigger may be written now (at most
 * ENGINE_LOG_RATE a second; the rest are counted and summarized).
 */
int	engine_log_ok(struct kink_engine *);
/*
 * 1 when an answer to unauthenticated input from `from` is over its rate
 * (per source or in total).
 */
int	engine_ratelimit(struct kink_engine *,
	    const struct sockaddr_storage *from);
/* Any peer allowed User-to-User: then AP-REQs may carry U2U tickets. */
int	engine_u2u_allowed(const struct kink_engine *);

#endif
