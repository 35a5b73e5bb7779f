/*
 * hostidq: drives src/hostid.c on a real event loop, for the host tier's
 * DNS scenarios (tests/host/700-hostid-dns.sh, against dnsmasq).
 *
 *	hostidq [-v] [-n NS[#PORT]]... [-p PRINCIPAL-PATTERN] [-m dns|pattern|file]
 *	    [-P HOST-PATTERN] [-f FILE] [-F fail_ms] [-T max_ttl_ms] [-R per_s]
 *	    COMMAND...
 *
 * Commands, run in order, each to its answer:
 *	lookup ADDR		initiator: who is at ADDR
 *	check PRINCIPAL ADDR	responder: is PRINCIPAL bound to ADDR
 *	sleep MS		the loop runs meanwhile
 *	ns NS[#PORT]		hostid_reconfigure to this nameserver
 *	both PRINC1 PRINC2 ADDR	two checks in flight at once (one query)
 *	cancel ADDR		a lookup, cancelled at once: must never answer
 * Each prints "WHAT STATUS PRINCIPAL HOW MS" (STATUS as the enum without
 * HOSTID_, "-" for no principal; MS for information only).
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "hostid.h"
#include "log.h"
#include "timer.h"

static const char *stname[] = { "OK", "MISMATCH", "NOTFOUND", "TEMPFAIL",
    "LIMITED", "BADPRINC" };

struct res {
	int		 done;
	const char	*what;
	uint64_t	 t0;
};

static void
cb(void *arg, enum hostid_status st, const char *princ, const char *how)
{
	struct res *r = arg;

	r->done++;
	printf("%s %s %s %s %llu\n", r->what,
	    (unsigned)st < 6 ? stname[st] : "?", princ ? princ : "-",
	    how ? how : "-", (unsigned long long)(timer_now_ms() - r->t0));
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: hostidq [-v] [-n NS[#PORT]]... [-p PAT] "
	    "[-m dns|pattern|file] [-P HOSTPAT] [-f FILE] [-F ms] [-T ms] "
	    "[-R n] COMMAND...\n");
	exit(2);
}

static void
ns_parse(const char *s, struct sockaddr_storage *ss)
{
	char buf[128], *p;

	snprintf(buf, sizeof(buf), "%s", s);
	if ((p = strchr(buf, '#')) != NULL)
		*p++ = '\0';
	if (addr_parse(buf, ss) != 0) {
		fprintf(stderr, "hostidq: bad nameserver %s\n", s);
		exit(2);
	}
	if (p != NULL)
		addr_set_port(ss, (uint16_t)atoi(p));
}

static void
addr_arg(const char *s, struct sockaddr_storage *ss)
{
	if (addr_parse(s, ss) != 0) {
		fprintf(stderr, "hostidq: bad address %s\n", s);
		exit(2);
	}
}

static void
wait_for(struct event_base *base, struct res *r, int n)
{
	while (r->done < n)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
}

static void
sleep_ms(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ns[4], a;
	struct hostid_opts o;
	struct hostid_rule rule = { HOSTID_DNS, "kink/%{host}@KINK.TEST",
	    NULL, NULL };
	struct event_base *base;
	struct hostid *h;
	struct res r, r2;
	char what[600];
	int c, v = 0, i, rc = 0;

	memset(&o, 0, sizeof(o));
	o.nameservers = ns;
	while ((c = getopt(argc, argv, "vn:p:m:P:f:F:T:R:")) != -1) {
		switch (c) {
		case 'v': v++; break;
		case 'n':
			if (o.nnameservers == 4)
				usage();
			ns_parse(optarg, &ns[o.nnameservers++]);
			break;
		case 'p': rule.principal = optarg; break;
		case 'm':
			rule.mode = strcmp(optarg, "pattern") == 0 ?
			    HOSTID_PATTERN : strcmp(optarg, "file") == 0 ?
			    HOSTID_FILE : HOSTID_DNS;
			break;
		case 'P': rule.pattern = optarg; break;
		case 'f': rule.file = optarg; break;
		case 'F': o.fail_cache_ms = (uint32_t)atoi(optarg); break;
		case 'T': o.max_ttl_ms = (uint32_t)atoi(optarg); break;
		case 'R': o.per_source_per_s = (uint32_t)atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	log_init("hostidq", 1, v);
	if ((base = event_base_new()) == NULL ||
	    (h = hostid_new(base, &o)) == NULL) {
		perror("hostidq: hostid_new");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		memset(&r, 0, sizeof(r));
		r.what = what;
		r.t0 = timer_now_ms();
		if (strcmp(argv[i], "lookup") == 0 && i + 1 < argc) {
			snprintf(what, sizeof(what), "lookup %s", argv[i + 1]);
			addr_arg(argv[++i], &a);
			if (hostid_lookup(h, &rule, addr_sa(&a), cb, &r) != 0) {
				perror("hostidq: hostid_lookup");
				rc = 1;
				continue;
			}
			wait_for(base, &r, 1);
		} else if (strcmp(argv[i], "check") == 0 && i + 2 < argc) {
			snprintf(what, sizeof(what), "check %s %s", argv[i + 1],
			    argv[i + 2]);
			addr_arg(argv[i + 2], &a);
			if (hostid_check(h, &rule, argv[i + 1], addr_sa(&a), cb,
			    &r) != 0) {
				perror("hostidq: hostid_check");
				rc = 1;
			} else
				wait_for(base, &r, 1);
			i += 2;
		} else if (strcmp(argv[i], "both") == 0 && i + 3 < argc) {
			r2 = r;
			snprintf(what, sizeof(what), "both %s %s", argv[i + 1],
			    argv[i + 3]);
			addr_arg(argv[i + 3], &a);
			hostid_check(h, &rule, argv[i + 1], addr_sa(&a), cb, &r);
			hostid_check(h, &rule, argv[i + 2], addr_sa(&a), cb, &r2);
			wait_for(base, &r, 1);
			wait_for(base, &r2, 1);
			i += 3;
		} else if (strcmp(argv[i], "cancel") == 0 && i + 1 < argc) {
			snprintf(what, sizeof(what), "cancel %s", argv[i + 1]);
			addr_arg(argv[++i], &a);
			hostid_lookup(h, &rule, addr_sa(&a), cb, &r);
			hostid_cancel(h, &r);
			/* longer than a lookup can take: it must stay silent */
			sleep_ms(base, 2500);
			if (r.done == 0)
				printf("cancel %s SILENT\n", argv[i]);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			sleep_ms(base, atoi(argv[++i]));
		} else if (strcmp(argv[i], "ns") == 0 && i + 1 < argc) {
			ns_parse(argv[++i], &ns[0]);
			o.nnameservers = 1;
			if (hostid_reconfigure(h, &o) != 0)
				rc = 1;
			printf("ns %s\n", argv[i]);
		} else
			usage();
		fflush(stdout);
	}
	hostid_free(h);
	event_base_free(base);
	return rc;
}
