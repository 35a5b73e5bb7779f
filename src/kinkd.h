/*
 * struct kinkd: the daemon around the engine.  It owns what the engine
 * runs on (event base, sockets, control socket, sadb, krb context, the
 * configuration: all reached through kd_eng) and what only the daemon
 * needs (paths, -D macros, verbosity, signals).  kinkd_main.c creates it
 * and tears it down in reverse order: the init order documents the
 * daemon.
 */
#ifndef KINK_KINKD_H
#define KINK_KINKD_H

#include <stdint.h>

#include "conf.h"
#include "engine.h"

struct event;
struct net;
struct control;

#define KINKD_PIDFILE	"/run/kinkd.pid"
#define KINKD_CONF	"/etc/kinkd.conf"
/* Where the per-network-namespace kernel lock lives. */
#define KINKD_RUNDIR	"/run"

struct kinkd_hooks;
struct reconcile;
struct bmsg;
struct sadb;

struct kinkd {
	struct kink_engine	 kd_eng;	/* base, conf, krb, sadb... */
	char			*kd_conf_path;
	struct conf_macro	*kd_defines;	/* -D, NULL-terminated */
	char			*kd_sockpath;
	int			 kd_foreground;
	int			 kd_verbose;	/* -v count */
	uint64_t		 kd_start_ms;

	struct net		*kd_net;
	struct control		*kd_ctl;

	struct event		*kd_ev_sig[4];
	struct event		*kd_ev_stop;	/* shutdown: DELETEs answered? */
	uint64_t		 kd_stop_end_ms;	/* shutdown bound */
	int			 kd_stop_sadb;	/* backend answered */
	int			 kd_stop_deletes;	/* DELETEs started */
	struct event		*kd_ev_reconcile;	/* `set reconcile` */
	struct reconcile	*kd_rc_runs;	/* reconcile runs in flight */
	const struct kinkd_hooks *kd_hooks;	/* NULL in production */
	int			 kd_privsep_fd;	/* -P: engine's end, else -1 */
};

/*
 * What a test build adds to the daemon (tests/lib/kinkd_test.c); the
 * production kinkd passes none, so no test code is linked into it.
 */
struct kinkd_hooks {
	/* The sadb backend is open; the suite filter has not read it yet. */
	void	(*kh_backend)(struct kinkd *);
	/* SIGUSR1 arrived. */
	void	(*kh_sigusr1)(struct kinkd *);
	/* Handed to the engine (struct kink_engine en_hooks). */
	const struct engine_hooks *kh_engine;
	/* -P: the engine's sandbox is in place (privsep knobs). */
	void	(*kh_sandboxed)(struct kinkd *);
	/* Privsep: the broker's test hook (struct broker_args ba_test). */
	int	(*kh_broker_test)(struct sadb *, const struct bmsg *);
};

/* kinkd_main.c: the whole daemon, option parsing to exit status. */
int	kinkd_main(int argc, char *argv[], const struct kinkd_hooks *);

/* daemon_ctl.c */
struct control_handlers;
extern const struct control_handlers kinkd_ctl_handlers;
/* Listings still under way end (before control_free). */
void	daemon_ctl_fini(struct kinkd *);

#endif
