/*
 * kinkctl's command grammar: token tables (ikectl style).  Each word may
 * be abbreviated to a unique prefix; an unknown, ambiguous or missing
 * word prints the valid words at that point.  The tables are the one
 * description of the commands: the parser walks them, and the docs
 * tier's ctl_commands tool walks them to check kinkctl(8).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinkctl.h"
#include "sarec.h"

/* "subscribed" is not one: every monitor gets it, whatever -e says. */
const char *const kinkctl_event_types[] = {
	CTL_EV_SA_ADD, CTL_EV_SA_DEL, SAREC_EV_UPDATE, CTL_EV_XACT_START,
	CTL_EV_XACT_DONE, CTL_EV_XACT_FAIL, CTL_EV_PEER_EPOCH,
	CTL_EV_PEER_STATE, CTL_EV_PEER_LEARNED, CTL_EV_PEER_FORGOTTEN,
	CTL_EV_RELOAD, CTL_EV_DROP, NULL
};

static const struct token t_show[];
static const struct token t_show_sa[];
static const struct token t_show_stats[];
static const struct token t_stats_format[];
static const struct token t_show_sa_peer[];
static const struct token t_initiate[];
static const struct token t_initiate_policy[];
static const struct token t_delete[];
static const struct token t_delete_spi[];
static const struct token t_flush[];
static const struct token t_flush_sa[];
static const struct token t_flush_peer[];
static const struct token t_reload[];
static const struct token t_log[];
static const struct token t_monitor[];
static const struct token t_end[];

const struct token kinkctl_commands[] = {
	{ T_KEYWORD, "show", A_NONE, t_show },
	{ T_KEYWORD, "initiate", A_INITIATE, t_initiate },
	{ T_KEYWORD, "delete", A_NONE, t_delete },
	{ T_KEYWORD, "flush", A_NONE, t_flush },
	{ T_KEYWORD, "reload", A_RELOAD, t_reload },
	{ T_KEYWORD, "reconcile", A_RECONCILE, t_end },
	{ T_KEYWORD, "log", A_NONE, t_log },
	{ T_KEYWORD, "monitor", A_MONITOR, t_monitor },
	{ T_KEYWORD, "version", A_VERSION, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_show[] = {
	{ T_KEYWORD, "sa", A_SHOW_SA, t_show_sa },
	{ T_KEYWORD, "peers", A_SHOW_PEERS, t_end },
	{ T_KEYWORD, "xact", A_SHOW_XACT, t_end },
	{ T_KEYWORD, "stats", A_SHOW_STATS, t_show_stats },
	{ T_KEYWORD, "self", A_SHOW_SELF, t_end },
	{ T_KEYWORD, "policies", A_SHOW_POLICIES, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_show_stats[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_KEYWORD, "-o", A_NONE, t_stats_format },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_stats_format[] = {
	{ T_KEYWORD, "prometheus", A_PROMETHEUS, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
/* show sa [peer NAME] [keys], in either order: the tables loop. */
static const struct token t_show_sa[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_KEYWORD, "peer", A_NONE, t_show_sa_peer },
	{ T_KEYWORD, "keys", A_KEYS, t_show_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_show_sa_peer[] = {
	{ T_ARG, "NAME", A_PEER, t_show_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_initiate[] = {
	{ T_ARG, "PEER", A_PEER, t_initiate_policy },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_initiate_policy[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_ARG, "POLICY", A_POLICY, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_delete[] = {
	{ T_KEYWORD, "sa", A_DELETE_SA, t_delete_spi },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_delete_spi[] = {
	{ T_ARG, "SPI", A_SPI, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush[] = {
	{ T_KEYWORD, "sa", A_FLUSH_SA, t_flush_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush_sa[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_KEYWORD, "peer", A_NONE, t_flush_peer },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush_peer[] = {
	{ T_ARG, "NAME", A_PEER, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_reload[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_ARG, "FILE", A_FILE, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_log[] = {
	{ T_KEYWORD, "verbose", A_LOG_VERBOSE, t_end },
	{ T_KEYWORD, "brief", A_LOG_BRIEF, t_end },
	{ T_KEYWORD, "debug", A_LOG_DEBUG, t_end },
	{ T_KEYWORD, "info", A_LOG_INFO, t_end },
	{ T_KEYWORD, "warning", A_LOG_WARNING, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_monitor[] = {
	{ T_MONITOR_OPTS, NULL, A_NONE, NULL },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_end[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_END, NULL, A_NONE, NULL }
};

/* The words valid at this point; an optional end is shown as "<end>". */
static void
print_valid(const struct token *t)
{
	fprintf(stderr, "valid commands/args:\n");
	for (int i = 0; t[i].t_type != T_END; i++) {
		if (t[i].t_type == T_OPTEND)
			fprintf(stderr, "  <end of command>\n");
		else if (t[i].t_type == T_KEYWORD)
			fprintf(stderr, "  %s\n", t[i].t_word);
		else if (t[i].t_type == T_ARG)
			fprintf(stderr, "  <%s>\n", t[i].t_word);
		else
			fprintf(stderr,
			    "  [-n count] [-t seconds] [-e type ...]\n");
	}
}

static long
parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "kinkctl: bad %s: %s\n", what, s);
		exit(EXIT_USAGE);
	}
	return v;
}

static uint32_t
parse_spi(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' ||
	    v > UINT32_MAX) {
		fprintf(stderr, "kinkctl: bad SPI: %s (decimal or 0x hex)\n",
		    s);
		exit(EXIT_USAGE);
	}
	return (uint32_t)v;
}

static void
copy_arg(char *dst, size_t size, const char *s, const char *what)
{
	if (strlcpy(dst, s, size) >= size) {
		fprintf(stderr, "kinkctl: %s too long (max %zu): %s\n", what,
		    size - 1, s);
		exit(EXIT_USAGE);
	}
}

static int
known_event(const char *type)
{
	for (int k = 0; kinkctl_event_types[k] != NULL; k++)
		if (strcmp(kinkctl_event_types[k], type) == 0)
			return 1;
	return 0;
}

static void
monitor_opts(int argc, char **argv, struct parse_result *pr)
{
	const char *type = NULL;

	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(argv[i], "-n") == 0)
			pr->pr_count = parse_num(argv[++i], 1, LONG_MAX,
			    "count");
		else if (strcmp(argv[i], "-t") == 0)
			pr->pr_timeout = parse_num(argv[++i], 1, 86400 * 365,
			    "timeout");
		else if (strcmp(argv[i], "-e") == 0 &&
		    pr->pr_nevtype < MAX_EVTYPES) {
			type = argv[++i];
			if (!known_event(type))
				goto badtype;
			pr->pr_evtype[pr->pr_nevtype++] = argv[i];
		} else
			goto bad;
	}
	return;
badtype:
	/* A typo would otherwise wait for an event that never comes. */
	fprintf(stderr, "kinkctl: unknown event type: %s\nevent types:",
	    type);
	for (int k = 0; kinkctl_event_types[k] != NULL; k++)
		fprintf(stderr, " %s", kinkctl_event_types[k]);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
bad:
	fprintf(stderr, "kinkctl: bad monitor arguments\n");
	print_valid(t_monitor);
	exit(EXIT_USAGE);
}

static void
set_action(struct parse_result *pr, const struct token *t, const char *word)
{
	if (t->t_type == T_ARG && word[0] == '\0') {
		fprintf(stderr, "kinkctl: empty %s\n", t->t_word);
		exit(EXIT_USAGE);
	}
	switch (t->t_action) {
	case A_NONE:
		break;
	case A_PEER:
		copy_arg(pr->pr_req.cr_peer, sizeof(pr->pr_req.cr_peer), word,
		    "peer name");
		break;
	case A_POLICY:
		copy_arg(pr->pr_req.cr_policy, sizeof(pr->pr_req.cr_policy),
		    word, "policy name");
		break;
	case A_FILE: {
		/* kinkd's cwd is not ours: send an absolute path. */
		char *abs = realpath(word, NULL);

		copy_arg(pr->pr_req.cr_file, sizeof(pr->pr_req.cr_file),
		    abs != NULL ? abs : word, "file name");
		free(abs);
		break;
	}
	case A_SPI:
		pr->pr_req.cr_spi = parse_spi(word);
		break;
	case A_KEYS:
		pr->pr_keys = 1;
		break;
	case A_PROMETHEUS:
		pr->pr_prometheus = 1;
		break;
	default:
		pr->pr_action = t->t_action;
		break;
	}
}

void
kinkctl_parse(int argc, char **argv, struct parse_result *pr)
{
	const struct token *table = kinkctl_commands, *match;
	int i = 0, n;

	memset(pr, 0, sizeof(*pr));
	for (;;) {
		if (table[0].t_type == T_MONITOR_OPTS) {
			monitor_opts(argc - i, argv + i, pr);
			return;
		}
		if (i == argc) {
			if (table[0].t_type == T_OPTEND)
				return;		/* the end is allowed here */
			fprintf(stderr, "kinkctl: missing argument\n");
			print_valid(table);
			exit(EXIT_USAGE);
		}
		match = NULL;
		n = 0;
		/* A keyword that matches exactly wins over prefixes. */
		for (int k = 0; table[k].t_type != T_END; k++) {
			if (table[k].t_type != T_KEYWORD)
				continue;
			if (strcmp(table[k].t_word, argv[i]) == 0) {
				match = &table[k];
				n = 1;
				break;
			}
			if (strncmp(table[k].t_word, argv[i],
			    strlen(argv[i])) == 0) {
				match = &table[k];
				n++;
			}
		}
		if (n == 0) {
			for (int k = 0; table[k].t_type != T_END; k++) {
				if (table[k].t_type == T_ARG) {
					match = &table[k];
					n = 1;
					break;
				}
			}
		}
		if (n != 1) {
			fprintf(stderr, "kinkctl: %s argument: %s\n",
			    n == 0 ? "unknown" : "ambiguous", argv[i]);
			print_valid(table);
			exit(EXIT_USAGE);
		}
		set_action(pr, match, argv[i]);
		table = match->t_next;
		i++;
	}
}
