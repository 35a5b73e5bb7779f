/*
 * bench_create: CREATE exchanges per second and their latency, measured
 * through the initiator's control socket, plus the responder's CPU time
 * and memory.  A number to print, never a pass/fail test.
 *
 *	bench_create -s alpha.sock -p beta [-P policy] [-n total] [-c conc]
 *	    [-r responder-pid] [-i initiator-pid]
 *
 * Keeps `conc` INITIATE requests in flight (one per control connection)
 * until `total` have been answered.  kinkd answers an INITIATE when its
 * exchanges end, so the time from request to END is one CREATE exchange
 * as the admin sees it (Kerberos, two or three messages, SA installs in
 * the null backend).  The SAs are kept: the responder's RSS growth over
 * the run divided by the SAs it gained is the memory one SA costs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "buf.h"
#include "ctl_msg.h"

#define BENCH_MAX_CONC	64
#define BENCH_INBUF	(CTL_HDR_LEN + CTL_MAXMSG)

struct bench_conn {
	int		 bc_fd;
	uint8_t		*bc_in;
	size_t		 bc_inlen;
	uint32_t	 bc_seq;
	struct timespec	 bc_sent;
	int		 bc_busy;
};

static const char *sock_path, *peer, *policy = "";
static long total = 200, conc = 1;
static double *lat_ms;
static long nlat, nerr, nsent;
static char lasterr[CTL_ERRTEXT_MAX + 1];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
conn_open(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_initiate(struct bench_conn *c)
{
	struct ctl_msg *m;
	struct buf b;
	int rv = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	buf_init(&b, CTL_HDR_LEN + CTL_MAXMSG);
	m->m_hdr.ch_type = CTL_REQ_INITIATE;
	m->m_hdr.ch_seq = ++c->bc_seq;
	snprintf(m->m_req.cr_peer, sizeof(m->m_req.cr_peer), "%s", peer);
	snprintf(m->m_req.cr_policy, sizeof(m->m_req.cr_policy), "%s", policy);
	if (ctl_msg_encode(&b, m) != CTL_E_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &c->bc_sent);
	if (write(c->bc_fd, b.b_data, b.b_len) != (ssize_t)b.b_len)
		goto out;
	c->bc_busy = 1;
	nsent++;
	rv = 0;
 out:
	buf_free(&b);
	free(m);
	return rv;
}

/* Reads what is there; handles every whole message.  -1 on a dead conn. */
static int
conn_read(struct bench_conn *c)
{
	struct ctl_msg *m;
	ssize_t n;
	size_t used;
	int e, rv = 0;

	n = read(c->bc_fd, c->bc_in + c->bc_inlen, BENCH_INBUF - c->bc_inlen);
	if (n <= 0)
		return -1;
	c->bc_inlen += (size_t)n;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	for (;;) {
		e = ctl_msg_decode(c->bc_in, c->bc_inlen, m, &used);
		if (e == CTL_E_SHORT)
			break;
		if (e != CTL_E_OK) {
			fprintf(stderr, "bench_create: bad answer: %s\n",
			    ctl_strerror(e));
			rv = -1;
			break;
		}
		memmove(c->bc_in, c->bc_in + used, c->bc_inlen - used);
		c->bc_inlen -= used;
		if (m->m_hdr.ch_type == CTL_END ||
		    m->m_hdr.ch_type == CTL_ERROR) {
			struct timespec t;

			clock_gettime(CLOCK_MONOTONIC, &t);
			if (m->m_hdr.ch_type == CTL_ERROR) {
				nerr++;
				snprintf(lasterr, sizeof(lasterr), "%s",
				    m->m_error.er_text);
			} else
				lat_ms[nlat++] = (t.tv_sec - c->bc_sent.tv_sec)
				    * 1e3 + (t.tv_nsec - c->bc_sent.tv_nsec)
				    / 1e6;
			c->bc_busy = 0;
		}
	}
	free(m);
	return rv;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (nlat == 0)
		return 0;
	i = (size_t)(p / 100.0 * (nlat - 1) + 0.5);
	return lat_ms[i];
}

/*
 * The process's CPU clock: ns on-CPU of all its threads, the exited ones
 * included.  /proc/PID/stat's utime+stime are clock ticks (10 ms), too
 * coarse for a round of CREATEs at a few hundred µs each; they stay the
 * fallback when the clock cannot be read.
 */
static void
proc_cpu_clock(long pid, double *cpu)
{
	struct timespec ts;
	clockid_t clk;

	if (clock_getcpuclockid((pid_t)pid, &clk) == 0 &&
	    clock_gettime(clk, &ts) == 0)
		*cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime+stime in seconds, and VmRSS/VmHWM in KiB, of a process. */
static int
proc_usage(long pid, double *cpu, long *rss, long *hwm)
{
	char path[64], line[512], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* fields after the ")" of comm: state is field 3, utime 14 */
	if ((p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	*cpu = (double)(ut + st) / sysconf(_SC_CLK_TCK);
	proc_cpu_clock(pid, cpu);
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*rss = *hwm = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "VmRSS: %ld", rss);
		sscanf(line, "VmHWM: %ld", hwm);
	}
	fclose(f);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_create -s socket -p peer [-P policy] "
	    "[-n total] [-c concurrency]\n"
	    "\t[-r responder-pid] [-i initiator-pid]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench_conn conns[BENCH_MAX_CONC];
	struct pollfd pfd[BENCH_MAX_CONC];
	long rpid = 0, ipid = 0, rss0 = 0, rss1 = 0, hwm = 0, irss = 0, ihwm;
	double cpu0 = 0, cpu1 = 0, icpu0 = 0, icpu1 = 0, t0, t1;
	int ch, dead = 0;

	while ((ch = getopt(argc, argv, "s:p:P:n:c:r:i:")) != -1) {
		switch (ch) {
		case 's': sock_path = optarg; break;
		case 'p': peer = optarg; break;
		case 'P': policy = optarg; break;
		case 'n': total = strtol(optarg, NULL, 10); break;
		case 'c': conc = strtol(optarg, NULL, 10); break;
		case 'r': rpid = strtol(optarg, NULL, 10); break;
		case 'i': ipid = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (sock_path == NULL || peer == NULL || total < 1 || conc < 1 ||
	    conc > BENCH_MAX_CONC)
		usage();
	if (conc > total)
		conc = total;
	if ((lat_ms = calloc((size_t)total, sizeof(*lat_ms))) == NULL)
		return 1;
	for (long i = 0; i < conc; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		if ((conns[i].bc_fd = conn_open()) == -1) {
			fprintf(stderr, "bench_create: %s: %s\n", sock_path,
			    strerror(errno));
			return 1;
		}
		if ((conns[i].bc_in = malloc(BENCH_INBUF)) == NULL)
			return 1;
	}
	if (rpid && proc_usage(rpid, &cpu0, &rss0, &hwm) == -1)
		fprintf(stderr, "bench_create: no /proc for pid %ld\n", rpid);
	if (ipid)
		proc_usage(ipid, &icpu0, &irss, &ihwm);

	t0 = now_s();
	for (long i = 0; i < conc; i++)
		if (send_initiate(&conns[i]) == -1)
			return 1;
	while (nlat + nerr < total && !dead) {
		for (long i = 0; i < conc; i++) {
			pfd[i].fd = conns[i].bc_fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)conc, 60000) <= 0) {
			fprintf(stderr, "bench_create: no answer for 60 s\n");
			break;
		}
		for (long i = 0; i < conc; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (conn_read(&conns[i]) == -1) {
				fprintf(stderr, "bench_create: connection "
				    "closed by kinkd\n");
				dead = 1;
				break;
			}
			if (!conns[i].bc_busy && nsent < total &&
			    send_initiate(&conns[i]) == -1)
				dead = 1;
		}
	}
	t1 = now_s();
	if (rpid)
		proc_usage(rpid, &cpu1, &rss1, &hwm);
	if (ipid)
		proc_usage(ipid, &icpu1, &irss, &ihwm);

	qsort(lat_ms, (size_t)nlat, sizeof(*lat_ms), cmp_double);
	printf("bench_create: %ld CREATE exchanges, concurrency %ld, "
	    "%ld errors%s%s\n", nlat, conc, nerr, nerr ? ", last: " : "",
	    nerr ? lasterr : "");
	printf("  exchanges/s      %.1f\n", nlat / (t1 - t0));
	printf("  latency ms       p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
	    pct(50), pct(90), pct(99), nlat ? lat_ms[nlat - 1] : 0.0);
	if (rpid) {
		printf("  responder CPU    %.6f s (%.4f ms per exchange)\n",
		    cpu1 - cpu0, nlat ? (cpu1 - cpu0) * 1e3 / nlat : 0.0);
		printf("  responder RSS    %ld KiB before, %ld KiB after, "
		    "peak %ld KiB\n", rss0, rss1, hwm);
		if (nlat > 0)
			printf("  responder memory %.0f bytes per SA "
			    "(RSS growth / %ld SAs)\n",
			    (double)(rss1 - rss0) * 1024 / (2.0 * nlat),
			    2 * nlat);
	}
	if (ipid)
		printf("  initiator CPU    %.6f s, RSS %ld KiB\n",
		    icpu1 - icpu0, irss);
	for (long i = 0; i < conc; i++) {
		close(conns[i].bc_fd);
		free(conns[i].bc_in);
	}
	free(lat_ms);
	return nlat > 0 ? 0 : 1;
}
