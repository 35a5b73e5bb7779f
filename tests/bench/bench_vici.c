/*
 * bench_vici: strongSwan's side of tests/bench/compare.sh.  CHILD_SAs per
 * second through charon's vici socket, and the responder's CPU time, in
 * the same output form as bench_create so one parser reads both.  A
 * number to print, never a pass/fail test.
 *
 *	bench_vici -s vici.sock [-n total] [-c conc] [-r responder-pid]
 *	    [-I ike-prefix] [-C child-prefix]
 *
 * Each connection asks for at most total/conc (rounded up) CHILD_SAs, the
 * number of CHILD configs compare.sh gives each IKE config.
 *
 * Connection i (0 <= i < conc) asks, one after another, for CHILD_SAs
 * "<child-prefix><i>_<k>" (k = 1, 2, ...) of IKE_SA config
 * "<ike-prefix><i>".  Each IKE config has its own IKE_SA, set up before
 * the run (compare.sh initiates "<child-prefix><i>_0"), so every request
 * is one CREATE_CHILD_SA exchange and `conc` of them are in flight at
 * once: charon runs one exchange at a time per IKE_SA (its window), so
 * this is how it keeps eight going, as kinkd keeps eight exchanges with
 * one peer.  A config per CHILD_SA, because charon's initiator refuses a
 * second CHILD_SA equal to an installed one (same config contents, marks
 * and selectors): compare.sh gives each its own mark.  vici's "initiate"
 * answers when the exchange has ended, like kinkd's INITIATE.
 *
 * The vici wire format (strongSwan's src/libcharon/plugins/vici/README):
 * a 32-bit big-endian length, then a packet type, a request name and a
 * message of key/value elements; the answer to a request is one
 * CMD_RESPONSE packet whose "success" is "yes" or "no".
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

#define VICI_CMD_REQUEST	0
#define VICI_CMD_RESPONSE	1
#define VICI_CMD_UNKNOWN	2
#define VICI_KEY_VALUE		3
#define BV_MAX_CONC		64
#define BV_INBUF		65536

struct bv_conn {
	int		 fd;
	uint8_t		 in[BV_INBUF];
	size_t		 inlen;
	struct timespec	 sent;
	int		 busy;
	long		 idx;
	long		 nchild;
};

static const char *sock_path, *ike_prefix = "ike", *child_prefix = "c";
static long total = 200, conc = 1, quota;
static double *lat_ms;
static long nlat, nerr, nsent;
static char lasterr[256];

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

/* Appends a KEY_VALUE element; 0, or -1 when it does not fit. */
static int
put_kv(uint8_t *p, size_t *len, size_t cap, const char *k, const char *v)
{
	size_t kl = strlen(k), vl = strlen(v);

	if (kl > 255 || vl > 65535 || *len + 4 + kl + vl > cap)
		return -1;
	p[(*len)++] = VICI_KEY_VALUE;
	p[(*len)++] = (uint8_t)kl;
	memcpy(p + *len, k, kl);
	*len += kl;
	p[(*len)++] = (uint8_t)(vl >> 8);
	p[(*len)++] = (uint8_t)vl;
	memcpy(p + *len, v, vl);
	*len += vl;
	return 0;
}

static int
send_initiate(struct bv_conn *c)
{
	uint8_t pkt[512];
	char ike[64], child[64];
	size_t len = 4;
	const char *cmd = "initiate";

	snprintf(ike, sizeof(ike), "%s%ld", ike_prefix, c->idx);
	snprintf(child, sizeof(child), "%s%ld_%ld", child_prefix, c->idx,
	    ++c->nchild);
	pkt[len++] = VICI_CMD_REQUEST;
	pkt[len++] = (uint8_t)strlen(cmd);
	memcpy(pkt + len, cmd, strlen(cmd));
	len += strlen(cmd);
	/* timeout 0: answer only when the exchange is over */
	if (put_kv(pkt, &len, sizeof(pkt), "child", child) == -1 ||
	    put_kv(pkt, &len, sizeof(pkt), "ike", ike) == -1 ||
	    put_kv(pkt, &len, sizeof(pkt), "timeout", "0") == -1)
		return -1;
	pkt[0] = (uint8_t)((len - 4) >> 24);
	pkt[1] = (uint8_t)((len - 4) >> 16);
	pkt[2] = (uint8_t)((len - 4) >> 8);
	pkt[3] = (uint8_t)(len - 4);
	clock_gettime(CLOCK_MONOTONIC, &c->sent);
	if (write(c->fd, pkt, len) != (ssize_t)len)
		return -1;
	c->busy = 1;
	nsent++;
	return 0;
}

/*
 * The value of top-level key `key` in a message, NUL-terminated into
 * out; -1 when absent.  Sections and lists are skipped over, as only the
 * top level of the answer matters here.
 */
static int
msg_value(const uint8_t *p, size_t len, const char *key, char *out,
    size_t outsz)
{
	size_t i = 0, kl, vl;
	int depth = 0;

	while (i < len) {
		uint8_t t = p[i++];

		switch (t) {
		case 1:				/* SECTION_START name */
			if (i >= len || i + 1 + p[i] > len)
				return -1;
			i += 1 + p[i];
			depth++;
			break;
		case 2: case 4: case 6:		/* SECTION_END, LIST_START, */
			if (t == 2)		/* LIST_END */
				depth--;
			if (t == 4) {
				if (i >= len || i + 1 + p[i] > len)
					return -1;
				i += 1 + p[i];
			}
			break;
		case 3: case 5:			/* KEY_VALUE, LIST_ITEM */
			kl = 0;
			if (t == 3) {
				if (i >= len)
					return -1;
				kl = p[i++];
			}
			if (i + kl + 2 > len)
				return -1;
			vl = (size_t)p[i + kl] << 8 | p[i + kl + 1];
			if (i + kl + 2 + vl > len)
				return -1;
			if (t == 3 && depth == 0 && kl == strlen(key) &&
			    memcmp(p + i, key, kl) == 0) {
				if (vl >= outsz)
					vl = outsz - 1;
				memcpy(out, p + i + kl + 2, vl);
				out[vl] = '\0';
				return 0;
			}
			i += kl + 2 + vl;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

static void
answered(struct bv_conn *c, const uint8_t *msg, size_t len, int type)
{
	struct timespec t;
	char ok[8], err[sizeof(lasterr)];

	clock_gettime(CLOCK_MONOTONIC, &t);
	c->busy = 0;
	if (type == VICI_CMD_RESPONSE &&
	    msg_value(msg, len, "success", ok, sizeof(ok)) == 0 &&
	    strcmp(ok, "yes") == 0) {
		lat_ms[nlat++] = (t.tv_sec - c->sent.tv_sec) * 1e3 +
		    (t.tv_nsec - c->sent.tv_nsec) / 1e6;
		return;
	}
	nerr++;
	if (type != VICI_CMD_RESPONSE)
		snprintf(lasterr, sizeof(lasterr), "vici packet type %d", type);
	else if (msg_value(msg, len, "errmsg", err, sizeof(err)) == 0)
		snprintf(lasterr, sizeof(lasterr), "%s", err);
	else
		snprintf(lasterr, sizeof(lasterr), "success is not yes");
	/* charon's text goes to a terminal: nothing but printable ASCII */
	for (char *q = lasterr; *q; q++)
		if (*q < 0x20 || *q > 0x7e)
			*q = '?';
}

/* Reads what is there; handles every whole packet.  -1 on a dead conn. */
static int
conn_read(struct bv_conn *c)
{
	ssize_t n;
	size_t plen;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n <= 0)
		return -1;
	c->inlen += (size_t)n;
	while (c->inlen >= 4) {
		plen = (size_t)c->in[0] << 24 | (size_t)c->in[1] << 16 |
		    (size_t)c->in[2] << 8 | c->in[3];
		if (plen < 1 || plen > sizeof(c->in) - 4)
			return -1;
		if (c->inlen < 4 + plen)
			break;
		/* events (type 7) would come only after a registration */
		if (c->in[4] == VICI_CMD_RESPONSE || c->in[4] == VICI_CMD_UNKNOWN)
			answered(c, c->in + 5, plen - 1, c->in[4]);
		memmove(c->in, c->in + 4 + plen, c->inlen - 4 - plen);
		c->inlen -= 4 + plen;
	}
	return 0;
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
	if (nlat == 0)
		return 0;
	return lat_ms[(size_t)(p / 100.0 * (nlat - 1) + 0.5)];
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

/* utime+stime of a process (all its threads) in seconds. */
static int
proc_cpu(long pid, double *cpu)
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
	if ((p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	*cpu = (double)(ut + st) / sysconf(_SC_CLK_TCK);
	proc_cpu_clock(pid, cpu);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_vici -s socket [-n total] "
	    "[-c concurrency] [-r responder-pid] [-I ike-prefix] "
	    "[-C child-prefix]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct bv_conn conns[BV_MAX_CONC];
	struct pollfd pfd[BV_MAX_CONC];
	long rpid = 0;
	double cpu0 = 0, cpu1 = 0, t0, t1;
	int ch, dead = 0;

	while ((ch = getopt(argc, argv, "s:n:c:r:I:C:")) != -1) {
		switch (ch) {
		case 's': sock_path = optarg; break;
		case 'n': total = strtol(optarg, NULL, 10); break;
		case 'c': conc = strtol(optarg, NULL, 10); break;
		case 'r': rpid = strtol(optarg, NULL, 10); break;
		case 'I': ike_prefix = optarg; break;
		case 'C': child_prefix = optarg; break;
		default: usage();
		}
	}
	if (sock_path == NULL || total < 1 || conc < 1 || conc > BV_MAX_CONC)
		usage();
	if (conc > total)
		conc = total;
	quota = (total + conc - 1) / conc;
	if ((lat_ms = calloc((size_t)total, sizeof(*lat_ms))) == NULL)
		return 1;
	for (long i = 0; i < conc; i++) {
		conns[i].idx = i;
		if ((conns[i].fd = conn_open()) == -1) {
			fprintf(stderr, "bench_vici: %s: %s\n", sock_path,
			    strerror(errno));
			return 1;
		}
	}
	if (rpid && proc_cpu(rpid, &cpu0) == -1)
		fprintf(stderr, "bench_vici: no /proc for pid %ld\n", rpid);

	t0 = now_s();
	for (long i = 0; i < conc; i++)
		if (send_initiate(&conns[i]) == -1)
			return 1;
	while (nlat + nerr < total && !dead) {
		for (long i = 0; i < conc; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)conc, 60000) <= 0) {
			fprintf(stderr, "bench_vici: no answer for 60 s\n");
			break;
		}
		for (long i = 0; i < conc; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (conn_read(&conns[i]) == -1) {
				fprintf(stderr, "bench_vici: connection "
				    "closed by charon\n");
				dead = 1;
				break;
			}
			if (!conns[i].busy && nsent < total &&
			    conns[i].nchild < quota &&
			    send_initiate(&conns[i]) == -1)
				dead = 1;
		}
	}
	t1 = now_s();
	if (rpid)
		proc_cpu(rpid, &cpu1);

	qsort(lat_ms, (size_t)nlat, sizeof(*lat_ms), cmp_double);
	printf("bench_vici: %ld CHILD_SA exchanges, concurrency %ld, "
	    "%ld errors%s%s\n", nlat, conc, nerr, nerr ? ", last: " : "",
	    nerr ? lasterr : "");
	printf("  exchanges/s      %.1f\n", nlat / (t1 - t0));
	printf("  latency ms       p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
	    pct(50), pct(90), pct(99), nlat ? lat_ms[nlat - 1] : 0.0);
	if (rpid)
		printf("  responder CPU    %.6f s (%.4f ms per exchange)\n",
		    cpu1 - cpu0, nlat ? (cpu1 - cpu0) * 1e3 / nlat : 0.0);
	for (long i = 0; i < conc; i++)
		close(conns[i].fd);
	free(lat_ms);
	return nlat > 0 ? 0 : 1;
}
