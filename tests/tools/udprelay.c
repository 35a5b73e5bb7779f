/*
 * udprelay: a UDP relay that sits between two kinkd processes and impairs
 * the datagrams it carries, by rule.  Host tests impair the network outside
 * the daemon (the Unbound delayer / OpenSSH modpipe idea) so the daemon has
 * no test-only code paths.
 *
 *	udprelay -a LISTEN_A -A ADDR_A -b LISTEN_B -B ADDR_B
 *	    [-r rule]... [-R rulefile] [-l logfile] [-S statsfile] [-p pidfile]
 *
 * Daemon A is configured with LISTEN_A as the address of B, daemon B with
 * LISTEN_B as the address of A.  A datagram that arrives on LISTEN_A is sent
 * to ADDR_B from LISTEN_B ("a2b"), one that arrives on LISTEN_B goes to
 * ADDR_A from LISTEN_A ("b2a").  So B sees every datagram of A coming from
 * LISTEN_B, answers there, and the answer goes back to A from LISTEN_A.
 * Addresses are "host:port" or "[v6]:port".  Datagrams from any other
 * source than the configured peer are counted as "stray" and dropped.
 *
 * A rule is  ACTION DIR TYPE WHICH  (fields separated by blanks or ','):
 *	ACTION	drop | dup[=COPIES] | delay=MS | corrupt[=OFFSET] |
 *		save=FILE | pass
 *		  dup sends COPIES extra copies (default 1);
 *		  corrupt flips every bit of the octet at OFFSET (default: the
 *		  last octet, which lies in the Cksum of a signed message;
 *		  a negative OFFSET counts from the end);
 *		  save writes the datagram as it arrived to FILE (raw octets)
 *		  and forwards it (for kinkcraft's replay).
 *	DIR	a2b | b2a | any
 *	TYPE	CREATE | DELETE | REPLY | GETTGT | ACK | STATUS | NUMBER | any
 *		(the KINK header's type octet, offset 0)
 *	WHICH	N (the Nth datagram that matches DIR and TYPE, from 1),
 *		N-M, N- (from the Nth on), or "all"
 * Every rule counts its own matches, so "drop a2b CREATE 1" drops the first
 * CREATE from A to B and lets its retransmission through.  All rules that
 * match a datagram apply (drop wins over the rest).
 *
 * SIGHUP rereads the rule file (-R) and resets the rules' match counters;
 * the log gets a "rules N" line once the new rules are in force.  The
 * statistics file (-S) is rewritten (write + rename) after every datagram,
 * as "DIR TYPE seen N fwd N drop N dup N delay N corrupt N" lines, plus a
 * "stray N" line, so tests read exact counts at any moment.
 * The log (-l, default stderr) has one line per datagram:
 *	SEQ MS DIR TYPE len=L xid=0xXID action[,action...]
 * SIGTERM / SIGINT: datagrams still held by a delay are counted as
 * "delay_lost" and the relay exits 0.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RELAY_MAX_RULES		64
#define RELAY_MAX_DGRAM		65535
#define RELAY_MAX_DELAYED	256
#define RELAY_NTYPES		256

enum { DIR_A2B = 0, DIR_B2A = 1, DIR_ANY = 2 };
enum { ACT_PASS, ACT_DROP, ACT_DUP, ACT_DELAY, ACT_CORRUPT, ACT_SAVE };

struct relay_rule {
	int		 r_action;
	long		 r_arg;		/* copies, ms, offset */
	int		 r_has_arg;
	char		 r_file[PATH_MAX];
	int		 r_dir;
	int		 r_type;	/* -1 = any */
	unsigned long	 r_from, r_to;	/* r_to == 0: open-ended */
	unsigned long	 r_count;	/* matches so far */
};

struct relay_counts {
	unsigned long	 c_seen, c_fwd, c_drop, c_dup, c_delay, c_corrupt;
};

struct relay_delayed {
	int		 d_used;
	int		 d_dir;
	struct timespec	 d_due;
	size_t		 d_len;
	uint8_t		*d_buf;
};

static struct relay_rule rules[RELAY_MAX_RULES];
static int nrules;
static struct relay_rule cmdline_rules[RELAY_MAX_RULES];
static int ncmdline_rules;
static struct relay_counts counts[2][RELAY_NTYPES];
static unsigned long nstray, nseq, ndelay_lost;
static struct relay_delayed delayed[RELAY_MAX_DELAYED];

static int sock[2];			/* [0] listens for A, [1] for B */
static struct sockaddr_storage peer[2];	/* [0] = A's address, [1] = B's */
static socklen_t peerlen[2];
static FILE *rlog;
static const char *rulefile, *statsfile;
static struct timespec t0;
static volatile sig_atomic_t got_hup, got_term;

static const char *type_names[] = {
	"RESERVED", "CREATE", "DELETE", "REPLY", "GETTGT", "ACK", "STATUS"
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "udprelay: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static const char *
type_name(int t, char *tmp, size_t len)
{
	if (t >= 0 && t < (int)(sizeof(type_names) / sizeof(type_names[0])))
		return type_names[t];
	snprintf(tmp, len, "%d", t);
	return tmp;
}

static long
ms_since(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256], *port;
	struct addrinfo hints, *res;
	int e;

	if (strlen(s) >= sizeof(host))
		die("address too long: %s", s);
	if (s[0] == '[') {
		strcpy(host, s + 1);
		port = strchr(host, ']');
		if (port == NULL || port[1] != ':')
			die("bad address (want [v6]:port): %s", s);
		*port = '\0';
		port += 2;
	} else {
		strcpy(host, s);
		port = strrchr(host, ':');
		if (port == NULL)
			die("bad address (want host:port): %s", s);
		*port++ = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		die("%s: %s", s, gai_strerror(e));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static int
open_sock(const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s, one = 1;

	parse_addr(listen, &ss, &len);
	if ((s = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, len) == -1)
		die("bind %s: %s", listen, strerror(errno));
	return s;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

/* Returns 0, or -1 with a message in err. */
static int
parse_rule(const char *text, struct relay_rule *r, char *err, size_t errlen)
{
	char buf[PATH_MAX + 64], *f[5], *p, *arg, *end;
	int n = 0;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "rule too long");
		return -1;
	}
	strcpy(buf, text);
	for (p = strtok(buf, " \t,\n"); p != NULL; p = strtok(NULL, " \t,\n")) {
		if (n == 4) {
			snprintf(err, errlen, "too many fields");
			return -1;
		}
		f[n++] = p;
	}
	if (n != 4) {
		snprintf(err, errlen, "want ACTION DIR TYPE WHICH");
		return -1;
	}
	if ((arg = strchr(f[0], '=')) != NULL)
		*arg++ = '\0';
	if (strcmp(f[0], "drop") == 0)
		r->r_action = ACT_DROP;
	else if (strcmp(f[0], "pass") == 0)
		r->r_action = ACT_PASS;
	else if (strcmp(f[0], "dup") == 0) {
		r->r_action = ACT_DUP;
		r->r_arg = 1;
	} else if (strcmp(f[0], "delay") == 0)
		r->r_action = ACT_DELAY;
	else if (strcmp(f[0], "corrupt") == 0)
		r->r_action = ACT_CORRUPT;
	else if (strcmp(f[0], "save") == 0)
		r->r_action = ACT_SAVE;
	else {
		snprintf(err, errlen, "unknown action \"%s\"", f[0]);
		return -1;
	}
	if (r->r_action == ACT_SAVE) {
		if (arg == NULL || *arg == '\0' ||
		    strlen(arg) >= sizeof(r->r_file)) {
			snprintf(err, errlen, "save needs =FILE");
			return -1;
		}
		strcpy(r->r_file, arg);
	} else if (arg != NULL) {
		errno = 0;
		r->r_arg = strtol(arg, &end, 10);
		if (errno || *arg == '\0' || *end != '\0' ||
		    (r->r_action == ACT_DUP && (r->r_arg < 1 || r->r_arg > 16)) ||
		    (r->r_action == ACT_DELAY && (r->r_arg < 0 ||
		    r->r_arg > 600000)) ||
		    r->r_action == ACT_DROP || r->r_action == ACT_PASS) {
			snprintf(err, errlen, "bad argument \"%s\" to %s",
			    arg, f[0]);
			return -1;
		}
		r->r_has_arg = 1;
	} else if (r->r_action == ACT_DELAY) {
		snprintf(err, errlen, "delay needs =MS");
		return -1;
	}

	if (strcmp(f[1], "a2b") == 0)
		r->r_dir = DIR_A2B;
	else if (strcmp(f[1], "b2a") == 0)
		r->r_dir = DIR_B2A;
	else if (strcmp(f[1], "any") == 0)
		r->r_dir = DIR_ANY;
	else {
		snprintf(err, errlen, "bad direction \"%s\"", f[1]);
		return -1;
	}

	r->r_type = -2;
	if (strcasecmp(f[2], "any") == 0)
		r->r_type = -1;
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(f[2], type_names[i]) == 0)
			r->r_type = (int)i;
	if (r->r_type == -2) {
		errno = 0;
		long t = strtol(f[2], &end, 10);
		if (errno || *end != '\0' || t < 0 || t > 255) {
			snprintf(err, errlen, "bad type \"%s\"", f[2]);
			return -1;
		}
		r->r_type = (int)t;
	}

	if (strcmp(f[3], "all") == 0) {
		r->r_from = 1;
		r->r_to = 0;
	} else {
		errno = 0;
		r->r_from = strtoul(f[3], &end, 10);
		if (errno || end == f[3] || r->r_from == 0) {
			snprintf(err, errlen, "bad WHICH \"%s\"", f[3]);
			return -1;
		}
		if (*end == '\0')
			r->r_to = r->r_from;
		else if (*end == '-' && end[1] == '\0')
			r->r_to = 0;
		else if (*end == '-') {
			p = end + 1;
			r->r_to = strtoul(p, &end, 10);
			if (errno || *end != '\0' || r->r_to < r->r_from) {
				snprintf(err, errlen, "bad WHICH \"%s\"", f[3]);
				return -1;
			}
		} else {
			snprintf(err, errlen, "bad WHICH \"%s\"", f[3]);
			return -1;
		}
	}
	return 0;
}

/* Rules from the command line always come first; the file's follow. */
static int
load_rules(void)
{
	char line[PATH_MAX + 64], err[128];
	FILE *f;
	int n = 0, lineno = 0;

	memcpy(rules, cmdline_rules, sizeof(rules[0]) * ncmdline_rules);
	n = ncmdline_rules;
	for (int i = 0; i < n; i++)
		rules[i].r_count = 0;
	if (rulefile != NULL) {
		if ((f = fopen(rulefile, "r")) == NULL) {
			fprintf(rlog, "rules error: %s: %s\n", rulefile,
			    strerror(errno));
			nrules = n;
			return -1;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			char *p = line;

			lineno++;
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '#' || *p == '\0')
				continue;
			if (n == RELAY_MAX_RULES) {
				fprintf(rlog, "rules error: %s:%d: too many\n",
				    rulefile, lineno);
				break;
			}
			if (parse_rule(p, &rules[n], err, sizeof(err)) == -1) {
				fprintf(rlog, "rules error: %s:%d: %s\n",
				    rulefile, lineno, err);
				continue;
			}
			n++;
		}
		fclose(f);
	}
	nrules = n;
	fprintf(rlog, "rules %d\n", nrules);
	fflush(rlog);
	return 0;
}

static void
write_stats(void)
{
	char tmp[PATH_MAX + 8], tn[8];
	FILE *f;

	if (statsfile == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", statsfile);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	for (int d = 0; d < 2; d++)
		for (int t = 0; t < RELAY_NTYPES; t++) {
			struct relay_counts *c = &counts[d][t];

			if (c->c_seen == 0)
				continue;
			fprintf(f, "%s %s seen %lu fwd %lu drop %lu dup %lu "
			    "delay %lu corrupt %lu\n", d == DIR_A2B ? "a2b" :
			    "b2a", type_name(t, tn, sizeof(tn)), c->c_seen,
			    c->c_fwd, c->c_drop, c->c_dup, c->c_delay,
			    c->c_corrupt);
		}
	fprintf(f, "stray %lu\n", nstray);
	fprintf(f, "delay_lost %lu\n", ndelay_lost);
	fclose(f);
	rename(tmp, statsfile);
}

static void
send_out(int dir, const uint8_t *buf, size_t len)
{
	int out = dir == DIR_A2B ? 1 : 0;	/* socket facing the target */
	int to = dir == DIR_A2B ? 1 : 0;	/* peer[1] is B */

	if (sendto(sock[out], buf, len, 0, (struct sockaddr *)&peer[to],
	    peerlen[to]) == -1)
		fprintf(rlog, "sendto %s: %s\n", dir == DIR_A2B ? "B" : "A",
		    strerror(errno));
}

static void
save_file(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		fprintf(rlog, "save %s: %s\n", path, strerror(errno));
		return;
	}
	if (write(fd, buf, len) != (ssize_t)len)
		fprintf(rlog, "save %s: short write\n", path);
	close(fd);
	/* rename so a reader never sees half a datagram */
	rename(tmp, path);
}

static void
handle(int dir, uint8_t *buf, size_t len)
{
	struct relay_counts *c;
	struct timespec now;
	char acts[256] = "", tn[8];
	int type = len > 0 ? buf[0] : 0;
	int drop = 0, copies = 0, corrupt = 0;
	long delay = -1, coff = 0;
	uint32_t xid = 0;
	size_t alen;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (len >= 12)
		xid = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
		    (uint32_t)buf[10] << 8 | buf[11];
	c = &counts[dir][type];
	c->c_seen++;
	nseq++;

	for (int i = 0; i < nrules; i++) {
		struct relay_rule *r = &rules[i];
		char one[48];

		if (r->r_dir != DIR_ANY && r->r_dir != dir)
			continue;
		if (r->r_type != -1 && r->r_type != type)
			continue;
		r->r_count++;
		if (r->r_count < r->r_from ||
		    (r->r_to != 0 && r->r_count > r->r_to))
			continue;
		switch (r->r_action) {
		case ACT_PASS:
			snprintf(one, sizeof(one), "pass");
			break;
		case ACT_DROP:
			drop = 1;
			snprintf(one, sizeof(one), "drop");
			break;
		case ACT_DUP:
			copies += (int)r->r_arg;
			snprintf(one, sizeof(one), "dup=%ld", r->r_arg);
			break;
		case ACT_DELAY:
			if (r->r_arg > delay)
				delay = r->r_arg;
			snprintf(one, sizeof(one), "delay=%ld", r->r_arg);
			break;
		case ACT_CORRUPT:
			corrupt = 1;
			coff = r->r_has_arg ? r->r_arg : -1;
			snprintf(one, sizeof(one), "corrupt=%ld", coff);
			break;
		case ACT_SAVE:
			save_file(r->r_file, buf, len);
			snprintf(one, sizeof(one), "save");
			break;
		}
		alen = strlen(acts);
		snprintf(acts + alen, sizeof(acts) - alen, "%s%s",
		    alen ? "," : "", one);
	}
	if (acts[0] == '\0')
		snprintf(acts, sizeof(acts), "fwd");

	fprintf(rlog, "%lu %ld %s %s len=%zu xid=0x%08x %s\n", nseq,
	    ms_since(&t0, &now), dir == DIR_A2B ? "a2b" : "b2a",
	    type_name(type, tn, sizeof(tn)), len, xid, acts);
	fflush(rlog);

	if (drop) {
		c->c_drop++;
		goto out;
	}
	if (corrupt && len > 0) {
		long off = coff < 0 ? (long)len + coff : coff;

		if (off >= 0 && off < (long)len) {
			buf[off] ^= 0xff;
			c->c_corrupt++;
		}
	}
	if (delay >= 0) {
		int slot;

		for (slot = 0; slot < RELAY_MAX_DELAYED; slot++)
			if (!delayed[slot].d_used)
				break;
		if (slot == RELAY_MAX_DELAYED ||
		    (delayed[slot].d_buf = malloc(len ? len : 1)) == NULL) {
			ndelay_lost++;
			c->c_drop++;
			goto out;
		}
		/* copies go out together with the original, later */
		delayed[slot].d_used = 1 + copies;
		delayed[slot].d_dir = dir;
		delayed[slot].d_len = len;
		memcpy(delayed[slot].d_buf, buf, len);
		delayed[slot].d_due = now;
		delayed[slot].d_due.tv_sec += delay / 1000;
		delayed[slot].d_due.tv_nsec += (delay % 1000) * 1000000;
		if (delayed[slot].d_due.tv_nsec >= 1000000000) {
			delayed[slot].d_due.tv_sec++;
			delayed[slot].d_due.tv_nsec -= 1000000000;
		}
		c->c_delay++;
		c->c_dup += copies;
		goto out;
	}
	send_out(dir, buf, len);
	c->c_fwd++;
	for (int i = 0; i < copies; i++)
		send_out(dir, buf, len);
	c->c_dup += copies;
 out:
	write_stats();
}

/* Sends what is due; returns the poll timeout in ms (-1 = none pending). */
static int
run_delayed(void)
{
	struct timespec now;
	long next = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < RELAY_MAX_DELAYED; i++) {
		struct relay_delayed *d = &delayed[i];
		long left;

		if (!d->d_used)
			continue;
		left = ms_since(&now, &d->d_due);
		if (left <= 0) {
			for (int k = 0; k < d->d_used; k++)
				send_out(d->d_dir, d->d_buf, d->d_len);
			counts[d->d_dir][d->d_buf[0]].c_fwd++;
			free(d->d_buf);
			d->d_buf = NULL;
			d->d_used = 0;
			write_stats();
			continue;
		}
		if (next == -1 || left < next)
			next = left;
	}
	return (int)next;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: udprelay -a listen_a -A addr_a -b listen_b "
	    "-B addr_b [-r rule]... [-R rulefile]\n"
	    "\t[-l logfile] [-S statsfile] [-p pidfile]\n"
	    "rule: drop|dup[=N]|delay=MS|corrupt[=OFF]|save=FILE|pass "
	    "a2b|b2a|any TYPE N|N-M|N-|all\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *la = NULL, *lb = NULL, *aa = NULL, *ab = NULL;
	const char *logfile = NULL, *pidfile = NULL;
	struct sigaction sa;
	uint8_t *buf;
	char err[128];
	int ch;

	while ((ch = getopt(argc, argv, "a:A:b:B:r:R:l:S:p:")) != -1) {
		switch (ch) {
		case 'a': la = optarg; break;
		case 'A': aa = optarg; break;
		case 'b': lb = optarg; break;
		case 'B': ab = optarg; break;
		case 'R': rulefile = optarg; break;
		case 'l': logfile = optarg; break;
		case 'S': statsfile = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'r':
			if (ncmdline_rules == RELAY_MAX_RULES)
				die("too many rules");
			if (parse_rule(optarg, &cmdline_rules[ncmdline_rules],
			    err, sizeof(err)) == -1)
				die("rule \"%s\": %s", optarg, err);
			ncmdline_rules++;
			break;
		default:
			usage();
		}
	}
	if (la == NULL || lb == NULL || aa == NULL || ab == NULL ||
	    optind != argc)
		usage();
	rlog = stderr;
	if (logfile != NULL && (rlog = fopen(logfile, "a")) == NULL)
		die("%s: %s", logfile, strerror(errno));
	setvbuf(rlog, NULL, _IOLBF, 0);
	parse_addr(aa, &peer[0], &peerlen[0]);
	parse_addr(ab, &peer[1], &peerlen[1]);
	sock[0] = open_sock(la);
	sock[1] = open_sock(lb);
	if ((buf = malloc(RELAY_MAX_DGRAM)) == NULL)
		die("out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (load_rules() == -1 && rulefile != NULL)
		fprintf(rlog, "starting without %s\n", rulefile);
	write_stats();
	/* The pid file appears only once both sockets are bound. */
	if (pidfile != NULL) {
		FILE *pf = fopen(pidfile, "w");

		if (pf == NULL)
			die("%s: %s", pidfile, strerror(errno));
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}

	while (!got_term) {
		struct pollfd pfd[2];
		int timeout;

		if (got_hup) {
			got_hup = 0;
			load_rules();
		}
		timeout = run_delayed();
		pfd[0].fd = sock[0];
		pfd[1].fd = sock[1];
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (int s = 0; s < 2; s++) {
			struct sockaddr_storage from;
			socklen_t fromlen = sizeof(from);
			ssize_t n;

			if (!(pfd[s].revents & POLLIN))
				continue;
			n = recvfrom(sock[s], buf, RELAY_MAX_DGRAM, MSG_DONTWAIT,
			    (struct sockaddr *)&from, &fromlen);
			if (n < 0)
				continue;
			/* only the configured daemon may talk on its side */
			if (!same_addr(&from, &peer[s])) {
				nstray++;
				fprintf(rlog, "stray datagram on %s side\n",
				    s == 0 ? "A" : "B");
				write_stats();
				continue;
			}
			handle(s == 0 ? DIR_A2B : DIR_B2A, buf, (size_t)n);
		}
	}
	for (int i = 0; i < RELAY_MAX_DELAYED; i++)
		if (delayed[i].d_used) {
			ndelay_lost++;
			free(delayed[i].d_buf);
		}
	write_stats();
	fprintf(rlog, "exit\n");
	free(buf);
	if (pidfile != NULL)
		unlink(pidfile);
	return 0;
}
