/*
 * kinkcraft: hostile and replayed KINK datagrams for host tests, plus the
 * plain UDP send/receive the relay's self-test needs.
 *
 *	kinkcraft send     -t DST [-b SRC] (-f FILE | -x HEX) [-n N] [-w MS]
 *	kinkcraft recv     -b ADDR [-n N] [-w MS] [-o FILE] [-e]
 *	kinkcraft garbage  -t DST [-b SRC] [-n N] [-s SEED] [-w MS]
 *	kinkcraft truncate -t DST [-b SRC] -f FILE [-w MS]
 *	kinkcraft replay   -t DST [-b SRC] -f FILE [-n N] [-w MS]
 *	kinkcraft forge    -t DST [-b SRC] -f FILE [-X XID] [-w MS] [-o OUT]
 *
 * Addresses are host:port or [v6]:port.  FILE is one raw datagram, as
 * udprelay's save action writes it.
 *
 * send:     the datagram N times (default 1).
 * recv:     print "listening ADDR" once bound, then wait for N datagrams
 *           (default 1) at most MS ms (default 2000); -e echoes each back
 *           to its sender, -o saves the first.  Exit 0 when all arrived.
 * garbage:  N (default 100) random datagrams; half of them start with a
 *           plausible header (MjVer 1, a defined type, DOI 1, Length = the
 *           datagram's length) so they get past the first checks.
 * truncate: every prefix of FILE shorter than the whole (0 .. len-1).
 * replay:   FILE unchanged, N times.
 * forge:    FILE parsed with wire_parse() and rebuilt with the wire builder:
 *           same header, AP-REQ, ISAKMP payloads and KINK_ENCRYPT
 *           ciphertext, but a Cksum of random octets (same length) and,
 *           with -X, another XID.  The rebuild goes through src/wire.c so
 *           the header is exactly what a peer would send.
 * Every sending mode then waits MS ms (default 0) and prints one line per
 * datagram that comes back: "recv TYPE len=L xid=0xXID".
 * Exit status: 0 done, 1 I/O or timeout, 2 usage.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kink.h"
#include "wire.h"

#define CRAFT_MAX	65535

static const char *prog_mode;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: kinkcraft send     -t dst [-b src] (-f file | -x hex) "
	    "[-n count] [-w ms]\n"
	    "       kinkcraft recv     -b addr [-n count] [-w ms] [-o file] "
	    "[-e]\n"
	    "       kinkcraft garbage  -t dst [-b src] [-n count] [-s seed] "
	    "[-w ms]\n"
	    "       kinkcraft truncate -t dst [-b src] -f file [-w ms]\n"
	    "       kinkcraft replay   -t dst [-b src] -f file [-n count] "
	    "[-w ms]\n"
	    "       kinkcraft forge    -t dst [-b src] -f file [-X xid] "
	    "[-w ms] [-o out]\n");
	exit(2);
}

static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256], *port;
	struct addrinfo hints, *res;

	if (strlen(s) >= sizeof(host))
		return -1;
	if (s[0] == '[') {
		strcpy(host, s + 1);
		if ((port = strchr(host, ']')) == NULL || port[1] != ':')
			return -1;
		*port = '\0';
		port += 2;
	} else {
		strcpy(host, s);
		if ((port = strrchr(host, ':')) == NULL)
			return -1;
		*port++ = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
read_file(const char *path, uint8_t *out, size_t max, size_t *len)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "kinkcraft: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(out, 1, max, f);
	fclose(f);
	*len = n;
	return 0;
}

static int
write_file(const char *path, const uint8_t *p, size_t len)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, len, f) != len) {
		fprintf(stderr, "kinkcraft: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int
hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else if (*hex == ' ' || *hex == ':' || *hex == '\n')
			continue;
		else
			return -1;
		if (hi < 0)
			hi = v;
		else {
			if (n == max)
				return -1;
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return -1;
	*len = n;
	return 0;
}

static int
open_sock(const char *src, const struct sockaddr_storage *dst)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s, one = 1;

	if (src != NULL) {
		if (parse_addr(src, &ss, &len) == -1) {
			fprintf(stderr, "kinkcraft: bad address %s\n", src);
			return -1;
		}
	} else {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = dst->ss_family;
		len = dst->ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	}
	if ((s = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1) {
		perror("kinkcraft: socket");
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, len) == -1) {
		fprintf(stderr, "kinkcraft: bind %s: %s\n",
		    src ? src : "(any)", strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

static int
send_dgram(int s, const struct sockaddr_storage *dst, socklen_t dlen,
    const uint8_t *p, size_t len)
{
	if (sendto(s, p, len, 0, (const struct sockaddr *)dst, dlen) == -1) {
		fprintf(stderr, "kinkcraft: sendto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Print what arrives on s for up to ms milliseconds, stopping after want
 * datagrams (0 = no limit).  Returns the number received.
 */
static int
drain(int s, long ms, int want, const char *save, int echo)
{
	uint8_t *buf;
	long end = now_ms() + ms;
	int got = 0;

	if ((buf = malloc(CRAFT_MAX)) == NULL)
		return 0;
	for (;;) {
		struct pollfd pfd = { s, POLLIN, 0 };
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		char host[NI_MAXHOST], serv[NI_MAXSERV];
		long left = end - now_ms();
		ssize_t n;

		if (want > 0 && got >= want)
			break;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recvfrom(s, buf, CRAFT_MAX, 0, (struct sockaddr *)&from,
		    &flen);
		if (n < 0)
			continue;
		got++;
		if (getnameinfo((struct sockaddr *)&from, flen, host,
		    sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			strcpy(host, "?"), strcpy(serv, "?");
		printf("recv %s len=%zd xid=0x%08x from=%s%s%s:%s\n",
		    n > 0 ? wire_msgtype_name(buf[0]) : "EMPTY", n,
		    n >= 12 ? (unsigned)buf[8] << 24 | buf[9] << 16 |
		    buf[10] << 8 | buf[11] : 0,
		    from.ss_family == AF_INET6 ? "[" : "", host,
		    from.ss_family == AF_INET6 ? "]" : "", serv);
		fflush(stdout);
		if (save != NULL && got == 1)
			write_file(save, buf, (size_t)n);
		if (echo)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from,
			    flen);
	}
	free(buf);
	return got;
}

static uint32_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift32: reproducible from -s, which is all garbage needs */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static size_t
make_garbage(uint8_t *p, size_t max, int plausible)
{
	size_t len = 1 + rng() % 300;

	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rng();
	if (plausible && len >= KINK_HDR_LEN) {
		p[0] = (uint8_t)(1 + rng() % KINK_MSGTYPE_MAX);
		p[1] = KINK_VERSION;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = p[5] = p[6] = 0;
		p[7] = KINK_DOI_IPSEC;
		p[12] = (uint8_t)(rng() % (KINK_PAYLOAD_MAX + 1));
		/* a small or zero CksumLen, so the chain gets parsed */
		p[14] = 0;
		p[15] = (uint8_t)(rng() % 2 ? 0 : (rng() % 8) * 4);
	}
	return len;
}

/*
 * Rebuild `in` with the wire builder, keeping every payload but the Cksum,
 * which becomes random octets of the same length (at least 12).
 */
static int
forge(const uint8_t *in, size_t inlen, int newxid, uint32_t xid,
    struct buf *out)
{
	struct kink_msg m;
	struct kink_builder kb;
	struct rbuf plain;
	uint8_t ck[64];
	size_t cklen;
	int e;

	if ((e = wire_parse(&m, in, inlen)) != 0) {
		fprintf(stderr, "kinkcraft: input does not parse: %s\n",
		    wire_strerror(e));
		return -1;
	}
	cklen = m.m_cksum.rb_len ? m.m_cksum.rb_len : 12;
	if (cklen > sizeof(ck))
		cklen = sizeof(ck);
	wire_build_begin(&kb, out, m.m_type, m.m_doi,
	    newxid ? xid : m.m_xid, m.m_flags);
	if (wire_has(&m, KINK_AP_REQ))
		wire_build_ap_req(&kb, m.m_ap_req_epoch, m.m_ap_req.rb_p,
		    m.m_ap_req.rb_len);
	if (wire_has(&m, KINK_AP_REP))
		wire_build_ap_rep(&kb, m.m_ap_rep_epoch, m.m_ap_rep.rb_p,
		    m.m_ap_rep.rb_len);
	if (wire_has(&m, KINK_KRB_ERROR))
		wire_build_krb_error(&kb, m.m_krb_error.rb_p,
		    m.m_krb_error.rb_len);
	if (wire_has(&m, KINK_ERROR))
		wire_build_error(&kb, m.m_error);
	for (unsigned i = 0; i < m.m_nisakmp; i++)
		wire_build_isakmp(&kb, m.m_isakmp[i].ip_inner_next,
		    m.m_isakmp[i].ip_qmver, m.m_isakmp[i].ip_body.rb_p,
		    m.m_isakmp[i].ip_body.rb_len);
	if (wire_has(&m, KINK_ENCRYPT)) {
		wire_build_encrypt_begin(&kb);
		wire_build_encrypt_plain(&kb, &plain);
		wire_build_encrypt_end(&kb, m.m_encrypt.rb_p,
		    m.m_encrypt.rb_len);
	}
	wire_build_finish(&kb, NULL);
	for (size_t i = 0; i < cklen; i++)
		ck[i] = (uint8_t)rng();
	/* never reproduce the real Cksum by chance */
	if (m.m_cksum.rb_len == cklen && memcmp(ck, m.m_cksum.rb_p, cklen) == 0)
		ck[0] ^= 0xff;
	if ((e = wire_build_cksum(&kb, ck, cklen)) != 0) {
		fprintf(stderr, "kinkcraft: rebuild failed: %s\n",
		    wire_strerror(e));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dst = NULL, *src = NULL, *file = NULL, *hex = NULL;
	const char *save = NULL;
	struct sockaddr_storage dss;
	socklen_t dlen = 0;
	uint8_t *pkt;
	size_t len = 0;
	long wait_ms = -1, count = -1;
	uint32_t xid = 0;
	int ch, s = -1, echo = 0, newxid = 0, rc = 1;

	if (argc < 2)
		usage();
	prog_mode = argv[1];
	rng_state = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	if (rng_state == 0)
		rng_state = 1;
	optind = 2;
	while ((ch = getopt(argc, argv, "t:b:f:x:n:w:s:o:X:e")) != -1) {
		switch (ch) {
		case 't': dst = optarg; break;
		case 'b': src = optarg; break;
		case 'f': file = optarg; break;
		case 'x': hex = optarg; break;
		case 'o': save = optarg; break;
		case 'e': echo = 1; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'w': wait_ms = strtol(optarg, NULL, 10); break;
		case 's':
			rng_state = (uint32_t)strtoul(optarg, NULL, 0);
			if (rng_state == 0)
				rng_state = 1;
			break;
		case 'X':
			xid = (uint32_t)strtoul(optarg, NULL, 0);
			newxid = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((pkt = malloc(CRAFT_MAX)) == NULL)
		return 1;

	if (strcmp(prog_mode, "recv") == 0) {
		struct sockaddr_storage any;
		int got;

		if (src == NULL)
			usage();
		memset(&any, 0, sizeof(any));
		if ((s = open_sock(src, &any)) == -1)
			goto out;
		/* tests start the sender once they have read this line */
		printf("listening %s\n", src);
		fflush(stdout);
		got = drain(s, wait_ms < 0 ? 2000 : wait_ms,
		    count < 0 ? 1 : (int)count, save, echo);
		rc = got == (count < 0 ? 1 : count) ? 0 : 1;
		goto out;
	}

	if (dst == NULL || parse_addr(dst, &dss, &dlen) == -1)
		usage();
	if ((s = open_sock(src, &dss)) == -1)
		goto out;
	if (file != NULL && read_file(file, pkt, CRAFT_MAX, &len) == -1)
		goto out;

	if (strcmp(prog_mode, "send") == 0 || strcmp(prog_mode, "replay") == 0) {
		if (hex != NULL) {
			if (hex_decode(hex, pkt, CRAFT_MAX, &len) == -1) {
				fprintf(stderr, "kinkcraft: bad hex\n");
				goto out;
			}
		} else if (file == NULL)
			usage();
		for (long i = 0; i < (count < 0 ? 1 : count); i++)
			if (send_dgram(s, &dss, dlen, pkt, len) == -1)
				goto out;
	} else if (strcmp(prog_mode, "garbage") == 0) {
		for (long i = 0; i < (count < 0 ? 100 : count); i++) {
			len = make_garbage(pkt, CRAFT_MAX, i % 2);
			if (send_dgram(s, &dss, dlen, pkt, len) == -1)
				goto out;
		}
	} else if (strcmp(prog_mode, "truncate") == 0) {
		if (file == NULL)
			usage();
		for (size_t l = 0; l < len; l++)
			if (send_dgram(s, &dss, dlen, pkt, l) == -1)
				goto out;
	} else if (strcmp(prog_mode, "forge") == 0) {
		struct buf b;

		if (file == NULL)
			usage();
		buf_init(&b, CRAFT_MAX);
		if (forge(pkt, len, newxid, xid, &b) == -1) {
			buf_free(&b);
			goto out;
		}
		if (save != NULL)
			write_file(save, b.b_data, b.b_len);
		if (send_dgram(s, &dss, dlen, b.b_data, b.b_len) == -1) {
			buf_free(&b);
			goto out;
		}
		buf_free(&b);
	} else
		usage();
	if (wait_ms > 0)
		drain(s, wait_ms, 0, NULL, 0);
	rc = 0;
 out:
	if (s != -1)
		close(s);
	free(pkt);
	return rc;
}
