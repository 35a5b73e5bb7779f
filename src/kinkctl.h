/*
 * kinkctl's parts (private to src/kinkctl*.c and the ctl_commands test
 * tool): the command grammar (kinkctl_cmd.c), the renderers
 * (kinkctl_render.c), the connection to kinkd (kinkctl_conn.c); the
 * program in kinkctl.c runs one request with them.  Each part reports its
 * own errors on stderr; only the grammar exits (with EXIT_USAGE), as a
 * usage error ends kinkctl whatever was asked.
 */
#ifndef KINK_KINKCTL_H
#define KINK_KINKCTL_H

#include <stdint.h>
#include <stdio.h>

#include "ctl.h"
#include "ctl_msg.h"

#define EXIT_OK		0
#define EXIT_DAEMON	1
#define EXIT_USAGE	2

/* ---- command grammar (kinkctl_cmd.c) ---- */

enum tok_type { T_END, T_OPTEND, T_KEYWORD, T_ARG, T_MONITOR_OPTS };

enum action {
	A_NONE, A_SHOW_SA, A_SHOW_PEERS, A_SHOW_XACT, A_SHOW_STATS,
	A_INITIATE, A_DELETE_SA, A_FLUSH_SA, A_RELOAD, A_LOG_VERBOSE,
	A_LOG_BRIEF, A_LOG_DEBUG, A_LOG_INFO, A_LOG_WARNING, A_MONITOR,
	A_SHOW_SELF, A_VERSION, A_PROMETHEUS, A_RECONCILE, A_SHOW_POLICIES,
	/* argument slots and modifiers */
	A_PEER, A_POLICY, A_SPI, A_FILE, A_KEYS
};

struct token {
	enum tok_type	 t_type;
	const char	*t_word;	/* keyword, or the ARG's placeholder */
	enum action	 t_action;
	const struct token *t_next;
};

struct parse_result {
	enum action	 pr_action;
	struct ctl_req	 pr_req;
	int		 pr_keys;
	int		 pr_prometheus;	/* show stats -o prometheus */
	/* monitor */
	long		 pr_count;	/* 0 = unlimited */
	long		 pr_timeout;	/* seconds; 0 = none */
#define MAX_EVTYPES 8
	const char	*pr_evtype[MAX_EVTYPES];	/* none = all */
	int		 pr_nevtype;
};

/* The top-level words; each entry's t_next is the table after it. */
extern const struct token kinkctl_commands[];
/* argv (after the options) into *pr; exits EXIT_USAGE on a bad command. */
void	kinkctl_parse(int argc, char **argv, struct parse_result *pr);

/* ---- renderers (kinkctl_render.c): text, or JSON with KINKCTL_JSON ---- */

#define KINKCTL_JSON	0x1	/* -j */
#define KINKCTL_QUIET	0x2	/* -q: no table header */

/* Text: control characters as \xNN; newlines kept only if `multiline`. */
void	kinkctl_put_text(FILE *, const char *, int multiline);
void	kinkctl_render_sa(struct ctl_sa *const *, size_t, int keys, int flags);
void	kinkctl_render_peers(struct ctl_peer *const *, size_t, int flags);
void	kinkctl_render_xact(struct ctl_xact *const *, size_t, int flags);
void	kinkctl_render_stats(struct ctl_stats *const *, size_t, int flags);
void	kinkctl_render_event(const struct ctl_event *, int flags);
void	kinkctl_render_self(struct ctl_info *const *, size_t, int flags);
void	kinkctl_render_policies(struct ctl_policy *const *, size_t, int flags);
void	kinkctl_render_version(const char *client, struct ctl_info *const *,
	    size_t, int flags);

/* Text exposition format (Prometheus 0.0.4): counters, gauges, peers. */
void	kinkctl_render_prometheus(struct ctl_stats *const *, size_t,
	    struct ctl_peer *const *, size_t);

/* The event types kinkd sends, NULL-terminated: what monitor -e takes. */
extern const char *const kinkctl_event_types[];

/* ---- connection (kinkctl_conn.c) ---- */

struct conn {
	int		 fd;
	uint8_t		*rbuf;
	size_t		 rlen;
	size_t		 rcap;
	long		 timeout;	/* s for connect and write; 0 = none */
};

/* 0, or -1 (reported); kinkctl_conn_close() either way. */
int	kinkctl_conn_open(struct conn *, const char *path, long timeout);
void	kinkctl_conn_close(struct conn *);
int	kinkctl_conn_send(struct conn *, const struct ctl_msg *);
/*
 * Read the next message.  Returns 1 with *m filled, 0 on timeout (deadline
 * in ms since the epoch; 0 = none), -1 on error (reported).
 */
int	kinkctl_conn_recv(struct conn *, struct ctl_msg *, uint64_t deadline);

#endif
