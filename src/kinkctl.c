/*
 * kinkctl: drive and inspect kinkd over its control socket (include/ctl.h).
 *
 *	kinkctl [-hjqV] [-s socket] [-t seconds] command [arg ...]
 *
 * This file is the program: options, one request, its answer.  The
 * command grammar (token tables, unique prefixes) is kinkctl_cmd.c, the
 * text and JSON renderers kinkctl_render.c, the socket kinkctl_conn.c.
 * kinkd sends records (data); kinkctl renders them, as text tables or as
 * JSON (-j), from the same decoded structs.  Exit status: 0 ok, 1 daemon
 * or connection error (message on stderr), 2 usage.
 */
#include <sys/time.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kinkctl.h"
#include "version.h"

static int	 opt_json;
static int	 opt_quiet;
static const char *opt_socket = CTL_SOCKET;
/*
 * Seconds to wait for kinkd's whole answer (connect included), so a hung
 * daemon cannot hang a script; 0 = forever.  Above a default exchange
 * (kinkctl initiate answers when it ends: ~23 s of retransmissions with
 * the default "set retransmit", plus the KDC).  monitor has its own -t.
 */
#define KINKCTL_TIMEOUT	60
static long	 opt_timeout = KINKCTL_TIMEOUT;

/* -h asked for it: stdout and success; a bad command line: stderr, 2. */
static void
usage_to(int asked)
{
	fprintf(asked ? stdout : stderr,
"usage: kinkctl [-hjqV] [-s socket] [-t seconds] command [arg ...]\n"
"  show sa [peer NAME] [keys] | show peers | show xact | show stats\n"
"  show self | show policies | version\n"
"  flush sa [peer NAME] | delete sa SPI | initiate PEER [POLICY]\n"
"  reload [FILE] | reconcile | log verbose|brief|debug|info|warning\n"
"  monitor [-n count] [-t seconds] [-e type ...]\n"
"options: -j JSON output, -q quiet (no headers or \"ok\"),\n"
"  -s socket (default " CTL_SOCKET "),\n"
"  -t seconds to wait for kinkd's answer (default 60, 0 = no limit;\n"
"  not for monitor)\n"
"show sa keys prints the raw SA keys (root only); nothing else does.\n"
"Words may be abbreviated to a unique prefix.\n"
"-h, --help: this text; -V, --version: kinkctl's version (and \"version\"\n"
"  asks kinkd for its own).\n");
	exit(asked ? EXIT_OK : EXIT_USAGE);
}

static void
usage(void)
{
	usage_to(0);
}

static uint8_t
log_level(enum action a)
{
	switch (a) {
	case A_LOG_VERBOSE:	return CTL_LOG_VERBOSE;
	case A_LOG_DEBUG:	return CTL_LOG_DEBUG;
	case A_LOG_INFO:	return CTL_LOG_INFO;
	case A_LOG_WARNING:	return CTL_LOG_WARNING;
	default:		return CTL_LOG_BRIEF;
	}
}

static int
out_flags(void)
{
	return (opt_json ? KINKCTL_JSON : 0) | (opt_quiet ? KINKCTL_QUIET : 0);
}

/* Records collected until END, so JSON is only printed when complete. */
struct records {
	void	**r_v;
	size_t	  r_n;
	size_t	  r_cap;
	size_t	  r_size;	/* bytes per record */
};

static int
records_add(struct records *rs, const void *rec)
{
	void *copy, **nv;

	if (rs->r_n == rs->r_cap) {
		size_t ncap = rs->r_cap ? rs->r_cap * 2 : 16;

		if ((nv = reallocarray(rs->r_v, ncap, sizeof(*nv))) == NULL)
			return -1;
		rs->r_v = nv;
		rs->r_cap = ncap;
	}
	if ((copy = malloc(rs->r_size)) == NULL)
		return -1;
	memcpy(copy, rec, rs->r_size);
	rs->r_v[rs->r_n++] = copy;
	return 0;
}

static void
records_free(struct records *rs)
{
	for (size_t i = 0; i < rs->r_n; i++) {
		explicit_bzero(rs->r_v[i], rs->r_size);
		free(rs->r_v[i]);
	}
	free(rs->r_v);
}

static uint8_t
request_type(enum action a)
{
	switch (a) {
	case A_SHOW_SA:		return CTL_REQ_SHOW_SA;
	case A_SHOW_PEERS:	return CTL_REQ_SHOW_PEERS;
	case A_SHOW_XACT:	return CTL_REQ_SHOW_XACT;
	case A_SHOW_STATS:	return CTL_REQ_SHOW_STATS;
	case A_INITIATE:	return CTL_REQ_INITIATE;
	case A_DELETE_SA:	return CTL_REQ_DELETE_SA;
	case A_FLUSH_SA:	return CTL_REQ_FLUSH_SA;
	case A_RELOAD:		return CTL_REQ_RELOAD;
	case A_LOG_VERBOSE:
	case A_LOG_BRIEF:
	case A_LOG_DEBUG:
	case A_LOG_INFO:
	case A_LOG_WARNING:	return CTL_REQ_LOG;
	case A_MONITOR:		return CTL_REQ_MONITOR;
	case A_SHOW_SELF:
	case A_VERSION:		return CTL_REQ_SHOW_SELF;
	case A_RECONCILE:	return CTL_REQ_RECONCILE;
	case A_SHOW_POLICIES:	return CTL_REQ_SHOW_POLICIES;
	default:		return 0;
	}
}

/* Which record type each request may be answered with (0 = none). */
static uint8_t
record_type(uint8_t req)
{
	switch (req) {
	case CTL_REQ_SHOW_SA:		return CTL_REC_SA;
	case CTL_REQ_SHOW_PEERS:	return CTL_REC_PEER;
	case CTL_REQ_SHOW_XACT:		return CTL_REC_XACT;
	case CTL_REQ_SHOW_STATS:	return CTL_REC_STATS;
	case CTL_REQ_MONITOR:		return CTL_REC_EVENT;
	case CTL_REQ_SHOW_SELF:		return CTL_REC_INFO;
	case CTL_REQ_RECONCILE:		return CTL_REC_STATS;
	case CTL_REQ_SHOW_POLICIES:	return CTL_REC_POLICY;
	}
	return 0;
}

static size_t
record_size(uint8_t rec)
{
	switch (rec) {
	case CTL_REC_SA:	return sizeof(struct ctl_sa);
	case CTL_REC_PEER:	return sizeof(struct ctl_peer);
	case CTL_REC_XACT:	return sizeof(struct ctl_xact);
	case CTL_REC_STATS:	return sizeof(struct ctl_stats);
	case CTL_REC_INFO:	return sizeof(struct ctl_info);
	case CTL_REC_POLICY:	return sizeof(struct ctl_policy);
	}
	return 0;
}

static int
daemon_error(const struct ctl_error *er)
{
	size_t n = strlen(er->er_text);

	kinkctl_put_text(stderr, er->er_text, 1);
	if (n == 0 || er->er_text[n - 1] != '\n')
		fputc('\n', stderr);
	return EXIT_DAEMON;
}

/*
 * An error about the connection rather than a request (a daemon that
 * refuses it before reading one answers with sequence 0): its text is
 * the reason, so it is shown, not taken for another request's answer.
 */
static int
conn_error(const struct ctl_msg *m)
{
	return m->m_hdr.ch_type == CTL_ERROR && m->m_hdr.ch_seq == 0;
}

static uint64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static int
evtype_wanted(const struct parse_result *pr, const char *type)
{
	if (pr->pr_nevtype == 0)
		return 1;
	for (int i = 0; i < pr->pr_nevtype; i++)
		if (strcmp(pr->pr_evtype[i], type) == 0)
			return 1;
	return 0;
}

static int
run_monitor(struct conn *c, struct ctl_msg *m, const struct parse_result *pr,
    uint32_t seq)
{
	uint64_t deadline = pr->pr_timeout ? now_ms() +
	    (uint64_t)pr->pr_timeout * 1000 : 0;
	long seen = 0;
	int r;

	for (;;) {
		if ((r = kinkctl_conn_recv(c, m, deadline)) < 0)
			return EXIT_DAEMON;
		if (r == 0) {
			if (pr->pr_count == 0)
				return EXIT_OK;
			fprintf(stderr, "kinkctl: monitor: timeout after %lds, "
			    "%ld of %ld events\n", pr->pr_timeout, seen,
			    pr->pr_count);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_seq != seq && !conn_error(m)) {
			fprintf(stderr, "kinkctl: answer for another request "
			    "(seq %u)\n", m->m_hdr.ch_seq);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_type == CTL_ERROR)
			return daemon_error(&m->m_error);
		if (m->m_hdr.ch_type == CTL_END)
			return EXIT_OK;
		if (m->m_hdr.ch_type != CTL_REC_EVENT) {
			fprintf(stderr, "kinkctl: unexpected %s record\n",
			    ctl_type_name(m->m_hdr.ch_type));
			return EXIT_DAEMON;
		}
		if (strcmp(m->m_event.ce_type, CTL_EV_SUBSCRIBED) == 0) {
			/* Lets scripts know no later event can be missed. */
			if (!opt_quiet)
				kinkctl_render_event(&m->m_event, out_flags());
			continue;
		}
		if (!evtype_wanted(pr, m->m_event.ce_type))
			continue;
		kinkctl_render_event(&m->m_event, out_flags());
		if (pr->pr_count != 0 && ++seen >= pr->pr_count)
			return EXIT_OK;
	}
}

/*
 * Read the answer to request `seq` into rs (records of type rtype) until
 * END.  0, or an exit status (the failure reported).
 */
static int
collect(struct conn *c, struct ctl_msg *m, uint32_t seq, uint8_t rtype,
    struct records *rs, uint64_t deadline)
{
	int r;

	rs->r_size = record_size(rtype);
	for (;;) {
		if ((r = kinkctl_conn_recv(c, m, deadline)) < 0)
			return EXIT_DAEMON;
		if (r == 0) {
			fprintf(stderr, "kinkctl: kinkd did not answer within "
			    "%ld s\n", opt_timeout);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_seq != seq && !conn_error(m)) {
			fprintf(stderr, "kinkctl: answer for another request "
			    "(seq %u)\n", m->m_hdr.ch_seq);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_type == CTL_ERROR)
			return daemon_error(&m->m_error);
		if (m->m_hdr.ch_type == CTL_END)
			return 0;
		if (rtype == 0 || m->m_hdr.ch_type != rtype) {
			fprintf(stderr, "kinkctl: unexpected %s record\n",
			    ctl_type_name(m->m_hdr.ch_type));
			return EXIT_DAEMON;
		}
		if (records_add(rs, &m->m_sa) == -1) {
			fprintf(stderr, "kinkctl: out of memory\n");
			return EXIT_DAEMON;
		}
	}
}

static void
render(const struct parse_result *pr, uint8_t rtype, struct records *rs)
{
	switch (rtype) {
	case CTL_REC_SA:
		kinkctl_render_sa((struct ctl_sa *const *)rs->r_v, rs->r_n,
		    pr->pr_keys, out_flags());
		break;
	case CTL_REC_PEER:
		kinkctl_render_peers((struct ctl_peer *const *)rs->r_v,
		    rs->r_n, out_flags());
		break;
	case CTL_REC_XACT:
		kinkctl_render_xact((struct ctl_xact *const *)rs->r_v, rs->r_n,
		    out_flags());
		break;
	case CTL_REC_STATS:
		kinkctl_render_stats((struct ctl_stats *const *)rs->r_v,
		    rs->r_n, out_flags());
		break;
	case CTL_REC_INFO:
		if (pr->pr_action == A_VERSION)
			kinkctl_render_version(kink_version,
			    (struct ctl_info *const *)rs->r_v, rs->r_n,
			    out_flags());
		else
			kinkctl_render_self((struct ctl_info *const *)rs->r_v,
			    rs->r_n, out_flags());
		break;
	case CTL_REC_POLICY:
		kinkctl_render_policies((struct ctl_policy *const *)rs->r_v,
		    rs->r_n, out_flags());
		break;
	default:
		if (opt_json)
			printf("{\"result\":\"ok\"}\n");
		else if (!opt_quiet)
			printf("ok\n");
		break;
	}
}

/*
 * show stats -o prometheus: the counters, then the peers (a second
 * request on the same connection) for the per-peer series.
 */
static int
run_prometheus(struct conn *c, struct ctl_msg *m, struct records *rs,
    uint32_t seq, uint64_t deadline)
{
	struct records peers;
	int rv;

	if ((rv = collect(c, m, seq, CTL_REC_STATS, rs, deadline)) != 0)
		return rv;
	memset(&peers, 0, sizeof(peers));
	memset(m, 0, sizeof(*m));
	m->m_hdr.ch_type = CTL_REQ_SHOW_PEERS;
	m->m_hdr.ch_seq = seq + 1;
	if (kinkctl_conn_send(c, m) == -1)
		rv = EXIT_DAEMON;
	else if ((rv = collect(c, m, seq + 1, CTL_REC_PEER, &peers,
	    deadline)) == 0)
		kinkctl_render_prometheus((struct ctl_stats *const *)rs->r_v,
		    rs->r_n, (struct ctl_peer *const *)peers.r_v, peers.r_n);
	records_free(&peers);
	return rv;
}

static int
run(const struct parse_result *pr)
{
	struct conn c;
	struct ctl_msg *m;
	struct records rs;
	uint8_t rtype;
	uint32_t seq = (uint32_t)getpid();
	int rv = EXIT_DAEMON;
	uint64_t deadline = opt_timeout > 0 ? now_ms() +
	    (uint64_t)opt_timeout * 1000 : 0;

	memset(&rs, 0, sizeof(rs));
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fprintf(stderr, "kinkctl: out of memory\n");
		return EXIT_DAEMON;
	}
	if (kinkctl_conn_open(&c, opt_socket, opt_timeout) == -1)
		goto out;
	m->m_hdr.ch_type = request_type(pr->pr_action);
	m->m_hdr.ch_flags = pr->pr_keys ? CTL_F_KEYS : 0;
	m->m_hdr.ch_seq = seq;
	m->m_req = pr->pr_req;
	m->m_req.cr_level = log_level(pr->pr_action);
	if (kinkctl_conn_send(&c, m) == -1)
		goto out;
	if (pr->pr_action == A_MONITOR) {
		rv = run_monitor(&c, m, pr, seq);
		goto out;
	}
	if (pr->pr_prometheus) {
		if ((rv = run_prometheus(&c, m, &rs, seq, deadline)) != 0)
			goto out;
	} else {
		rtype = record_type(m->m_hdr.ch_type);
		if ((rv = collect(&c, m, seq, rtype, &rs, deadline)) != 0)
			goto out;
		render(pr, rtype, &rs);
	}
	rv = EXIT_DAEMON;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "kinkctl: stdout: %s\n", strerror(errno));
		goto out;
	}
	rv = EXIT_OK;
out:
	records_free(&rs);
	kinkctl_conn_close(&c);
	explicit_bzero(m, sizeof(*m));
	free(m);
	return rv;
}

int
main(int argc, char **argv)
{
	struct parse_result pr;
	int ch;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	signal(SIGPIPE, SIG_IGN);
	/* "+": options stop at the command, so monitor's -n/-t are its own. */
	while ((ch = getopt_long(argc, argv, "+hjqVs:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_to(1);
			break;
		case 'V':
			printf("kinkctl %s\n", kink_version);
			return EXIT_OK;
		case 'j':
			opt_json = 1;
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 's':
			opt_socket = optarg;
			break;
		case 't': {
			const char *errstr;

			opt_timeout = (long)strtonum(optarg, 0, 86400, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "kinkctl: -t %s: %s\n", optarg,
				    errstr);
				usage();
			}
			break;
		}
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	kinkctl_parse(argc, argv, &pr);
	if (pr.pr_action == A_NONE) {
		fprintf(stderr, "kinkctl: incomplete command\n");
		usage();
	}
	return run(&pr);
}
