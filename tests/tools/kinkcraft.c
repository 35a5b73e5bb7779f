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
 *	kinkcraft reply    -t DST [-b SRC] -f REPLY -q CMD -k KEYTAB -p PRINC
 *	                   [-g | -r STALE] [-a] [-w MS] [-o OUT]
 *	kinkcraft author   -t DST [-b SRC] -f CMD -k KEYTAB -p PRINC -S SERVICE
 *	                   -K KEYTAB2 -P PRINC2 [-X XID] [-w MS] [-o OUT]
 *	kinkcraft authn    -f CMD -k KEYTAB -p PRINC
 *	kinkcraft cksum    -f MSG -q CMD -k KEYTAB -p PRINC
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
 * reply:    kinkcraft as the responder PRINC (its KEYTAB): verifies the
 *           AP-REQ of the command CMD to learn the session key, then
 *           rebuilds the REPLY (the answer to CMD) with that key: a
 *           correct Cksum, the KINK_ENCRYPT ciphertext unchanged, and the
 *           AP-REP replaced by random octets of the same length (-g) or by
 *           the AP-REP of another REPLY, STALE (-r); -a sets ACKREQ.
 *           Without -g and -r the AP-REP stays: a genuine answer, re-signed.
 * author:   kinkcraft as the principal PRINC (its KEYTAB) gets a real
 *           ticket for SERVICE from the KDC and sends the command CMD (as
 *           another initiator sent it) under its own name: a fresh AP-REQ
 *           from that ticket, the inner payloads of CMD (decrypted with the
 *           key from CMD's AP-REQ, which PRINC2's KEYTAB2 opens) encrypted
 *           again under the new session key, a Cksum under it, and a random
 *           XID (or -X).  So the command is valid in every respect except
 *           who sent it.
 * authn:    as the responder PRINC (its KEYTAB), opens the AP-REQ of the
 *           command CMD and prints its authenticator's time,
 *           "ctime SECONDS MICROSECONDS": two sends of one command carry
 *           the same ticket, so this is what tells a new authenticator
 *           from a resent one (the ciphertext differs either way).
 * cksum:    as the responder PRINC (its KEYTAB), opens the AP-REQ of the
 *           command CMD for the session key and verifies the Cksum of MSG
 *           (CMD itself, its REPLY or ACK) with it: prints "cksum ok"
 *           (exit 0) or "cksum bad" (exit 1), so a test sees a correct
 *           checksum, not just a non-zero CksumLen.
 * These open AP-REQs without a replay cache: the daemon that received CMD
 * has seen the AP-REQ already, which is the point.
 (default 0) and prints one line per
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

#include <event2/event.h>

#include "buf.h"
#include "kink.h"
#include "krb.h"
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
	    "[-w ms] [-o out]\n"
	    "       kinkcraft reply    -t dst [-b src] -f reply -q cmd "
	    "-k keytab -p princ\n"
	    "                          [-g | -r stale] [-a] [-w ms] [-o out]\n"
	    "       kinkcraft author   -t dst [-b src] -f cmd -k keytab "
	    "-p princ -S service\n"
	    "                          -K keytab2 -P princ2 [-X xid] [-w ms] "
	    "[-o out]\n"
	    "       kinkcraft authn    -f cmd -k keytab -p princ\n"
	    "       kinkcraft cksum    -f msg -q cmd -k keytab -p princ\n");
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

/* ---- acting as a peer: reply and author ---------------------------- */

/*
 * A context of src/krb.c for one of our identities.  No replay cache: the
 * AP-REQs we open were accepted by a daemon already, and opening one is
 * how we learn its session key, not an authentication.
 */
static struct krb_ctx *
ctx_open(struct event_base *base, const char *princ, const char *keytab)
{
	struct krb_ctx_opts o = { "none:", 10000, 0 };
	struct krb_ctx *c;

	if ((c = krb_ctx_new(base, princ, keytab, &o)) == NULL)
		fprintf(stderr, "kinkcraft: no Kerberos context for %s\n",
		    princ);
	return c;
}

/* Parse the command datagram `cmd` and verify its AP-REQ with c's keytab. */
static struct krb_acceptor *
open_cmd(struct krb_ctx *c, const uint8_t *cmd, size_t len,
    struct kink_msg *m)
{
	struct krb_acceptor *acc = NULL;
	krb_err e;
	int err;

	if ((err = wire_parse(m, cmd, len)) != 0) {
		fprintf(stderr, "kinkcraft: command does not parse: %s\n",
		    wire_strerror(err));
		return NULL;
	}
	if (!wire_has(m, KINK_AP_REQ)) {
		fprintf(stderr, "kinkcraft: command without KINK_AP_REQ\n");
		return NULL;
	}
	e = krb_rd_req(c, m->m_ap_req.rb_p, m->m_ap_req.rb_len, 0, &acc);
	if (e != 0 || krb_acceptor_key(acc) == NULL) {
		fprintf(stderr, "kinkcraft: AP-REQ does not verify: %s\n",
		    e != 0 ? krb_err_str(c, e) : "no key");
		krb_acceptor_free(acc);
		return NULL;
	}
	return acc;
}

/* The authenticator time of the AP-REQ in command `cmd`. */
static int
print_authn(const uint8_t *cmd, size_t len, const char *princ,
    const char *keytab)
{
	struct event_base *base;
	struct krb_ctx *c;
	struct krb_acceptor *acc;
	struct kink_msg m;
	time_t sec;
	int32_t usec;
	int rv = -1;

	if ((base = event_base_new()) == NULL)
		return -1;
	if ((c = ctx_open(base, princ, keytab)) != NULL &&
	    (acc = open_cmd(c, cmd, len, &m)) != NULL) {
		if (krb_acceptor_ctime(acc, &sec, &usec) == 0) {
			printf("ctime %lld %ld\n", (long long)sec, (long)usec);
			rv = 0;
		}
		krb_acceptor_free(acc);
	}
	if (c != NULL)
		krb_ctx_free(c);
	event_base_free(base);
	return rv;
}

/* Whether MSG's Cksum verifies under the session key of CMD's AP-REQ. */
static int
check_cksum(const uint8_t *msg, size_t len, const uint8_t *cmd,
    size_t cmdlen, const char *princ, const char *keytab)
{
	struct event_base *base;
	struct krb_ctx *c;
	struct krb_acceptor *acc = NULL;
	struct kink_msg cm, m;
	uint8_t tmp[KINK_MAX_MSG];
	size_t tlen;
	int e, rv = -1;

	if ((e = wire_parse(&m, msg, len)) != 0) {
		fprintf(stderr, "kinkcraft: message does not parse: %s\n",
		    wire_strerror(e));
		return -1;
	}
	if ((base = event_base_new()) == NULL)
		return -1;
	if ((c = ctx_open(base, princ, keytab)) != NULL &&
	    (acc = open_cmd(c, cmd, cmdlen, &cm)) != NULL) {
		rv = m.m_cksumlen > 0 &&
		    wire_cksum_input(&m, tmp, sizeof(tmp), &tlen) == 0 &&
		    krb_cksum_verify(krb_acceptor_key(acc), tmp, tlen,
		    m.m_cksum.rb_p, m.m_cksum.rb_len) == 0 ? 0 : 1;
		printf("cksum %s\n", rv == 0 ? "ok" : "bad");
		krb_acceptor_free(acc);
	}
	if (c != NULL)
		krb_ctx_free(c);
	event_base_free(base);
	return rv;
}

/* What reseal() puts in place of the message's own. */
struct reseal {
	uint32_t	 rs_xid;
	uint8_t		 rs_flags;
	const uint8_t	*rs_apreq;	/* NULL: the message's AP-REQ */
	size_t		 rs_apreq_len;
	uint32_t	 rs_apreq_epoch;
	const uint8_t	*rs_aprep;	/* NULL: the message's AP-REP */
	size_t		 rs_aprep_len;
	uint32_t	 rs_aprep_epoch;
};

/* The payloads of m that sit outside (inner 0) or inside KINK_ENCRYPT. */
static void
add_payloads(struct kink_builder *kb, const struct kink_msg *m, int inner)
{
	if (wire_has(m, KINK_KRB_ERROR) &&
	    !!(m->m_inner & 1U << KINK_KRB_ERROR) == inner)
		wire_build_krb_error(kb, m->m_krb_error.rb_p,
		    m->m_krb_error.rb_len);
	if (wire_has(m, KINK_ERROR) &&
	    !!(m->m_inner & 1U << KINK_ERROR) == inner)
		wire_build_error(kb, m->m_error);
	for (unsigned i = 0; i < m->m_nisakmp; i++)
		if (!!m->m_isakmp[i].ip_encrypted == inner)
			wire_build_isakmp(kb, m->m_isakmp[i].ip_inner_next,
			    m->m_isakmp[i].ip_qmver,
			    m->m_isakmp[i].ip_body.rb_p,
			    m->m_isakmp[i].ip_body.rb_len);
}

/*
 * m rebuilt as a peer holding `key` seals a message: the inner payloads
 * encrypted again when m was decrypted (else its ciphertext kept, which
 * must then be under `key` already), and a Cksum under `key`.
 */
static int
reseal(const struct kink_msg *m, const struct reseal *r, struct krb_key *key,
    struct buf *out)
{
	struct kink_builder kb;
	struct buf tmp;
	struct rbuf v;
	int rv = -1;

	buf_init(&tmp, KINK_MAX_MSG);
	wire_build_begin(&kb, out, m->m_type, m->m_doi, r->rs_xid,
	    r->rs_flags);
	if (r->rs_apreq != NULL)
		wire_build_ap_req(&kb, r->rs_apreq_epoch, r->rs_apreq,
		    r->rs_apreq_len);
	else if (wire_has(m, KINK_AP_REQ))
		wire_build_ap_req(&kb, m->m_ap_req_epoch, m->m_ap_req.rb_p,
		    m->m_ap_req.rb_len);
	if (r->rs_aprep != NULL)
		wire_build_ap_rep(&kb, r->rs_aprep_epoch, r->rs_aprep,
		    r->rs_aprep_len);
	else if (wire_has(m, KINK_AP_REP))
		wire_build_ap_rep(&kb, m->m_ap_rep_epoch, m->m_ap_rep.rb_p,
		    m->m_ap_rep.rb_len);
	add_payloads(&kb, m, 0);
	if (wire_has(m, KINK_ENCRYPT)) {
		wire_build_encrypt_begin(&kb);
		if (m->m_decrypted)
			add_payloads(&kb, m, 1);
		if (wire_build_encrypt_plain(&kb, &v) != 0)
			goto out;
		if (m->m_decrypted ?
		    krb_encrypt(key, v.rb_p, v.rb_len, &tmp) != 0 :
		    buf_put(&tmp, m->m_encrypt.rb_p, m->m_encrypt.rb_len) != 0)
			goto out;
		wire_build_encrypt_end(&kb, tmp.b_data, tmp.b_len);
		buf_reset(&tmp);
	}
	if (wire_build_finish(&kb, &v) != 0 ||
	    krb_cksum_make(key, v.rb_p, v.rb_len, &tmp) != 0 ||
	    wire_build_cksum(&kb, tmp.b_data, tmp.b_len) != 0)
		goto out;
	rv = 0;
out:
	if (rv != 0)
		fprintf(stderr, "kinkcraft: rebuild failed: %s\n",
		    kb.kb_err ? wire_strerror(kb.kb_err) : "Kerberos");
	buf_free(&tmp);
	return rv;
}

/*
 * reply mode: `rep` (the answer to the command `cmd`) re-signed as the
 * responder `princ`, with its AP-REP garbled (garbage), swapped for the
 * one in `stale`, or kept; ACKREQ set when `ackreq`.
 */
static int
craft_reply(const uint8_t *rep, size_t replen, const uint8_t *cmd,
    size_t cmdlen, const char *princ, const char *keytab, const char *stale,
    int garbage, int ackreq, struct buf *out)
{
	struct event_base *base = NULL;
	struct krb_ctx *c = NULL;
	struct krb_acceptor *acc = NULL;
	struct kink_msg cm, rm, sm;
	struct reseal r;
	uint8_t *sbuf = NULL, junk[KINK_MAX_MSG];
	size_t slen;
	int e, rv = -1;

	memset(&r, 0, sizeof(r));
	if ((e = wire_parse(&rm, rep, replen)) != 0 ||
	    rm.m_type != KINK_MSGTYPE_REPLY || !wire_has(&rm, KINK_AP_REP)) {
		fprintf(stderr, "kinkcraft: not a REPLY with an AP-REP%s%s\n",
		    e ? ": " : "", e ? wire_strerror(e) : "");
		return -1;
	}
	if ((base = event_base_new()) == NULL ||
	    (c = ctx_open(base, princ, keytab)) == NULL ||
	    (acc = open_cmd(c, cmd, cmdlen, &cm)) == NULL)
		goto out;
	r.rs_xid = rm.m_xid;
	r.rs_flags = rm.m_flags | (ackreq ? KINK_ACKREQ : 0);
	if (garbage) {
		if (rm.m_ap_rep.rb_len > sizeof(junk))
			goto out;
		for (size_t i = 0; i < rm.m_ap_rep.rb_len; i++)
			junk[i] = (uint8_t)rng();
		r.rs_aprep = junk;
		r.rs_aprep_len = rm.m_ap_rep.rb_len;
		r.rs_aprep_epoch = rm.m_ap_rep_epoch;
	} else if (stale != NULL) {
		if ((sbuf = malloc(CRAFT_MAX)) == NULL ||
		    read_file(stale, sbuf, CRAFT_MAX, &slen) == -1)
			goto out;
		if (wire_parse(&sm, sbuf, slen) != 0 ||
		    !wire_has(&sm, KINK_AP_REP)) {
			fprintf(stderr, "kinkcraft: %s: no AP-REP\n", stale);
			goto out;
		}
		if (rbuf_eq(&sm.m_ap_rep, rm.m_ap_rep.rb_p,
		    rm.m_ap_rep.rb_len)) {
			fprintf(stderr, "kinkcraft: %s: the same AP-REP\n",
			    stale);
			goto out;
		}
		r.rs_aprep = sm.m_ap_rep.rb_p;
		r.rs_aprep_len = sm.m_ap_rep.rb_len;
		r.rs_aprep_epoch = sm.m_ap_rep_epoch;
	}
	rv = reseal(&rm, &r, krb_acceptor_key(acc), out);
out:
	free(sbuf);
	krb_acceptor_free(acc);
	if (c != NULL)
		krb_ctx_free(c);
	if (base != NULL)
		event_base_free(base);
	return rv;
}

struct tkt_wait {
	int			 tw_done;
	krb_err			 tw_err;
	struct krb_ticket	*tw_tkt;
};

static void
tkt_cb(krb_err err, struct krb_ticket *t, void *arg)
{
	struct tkt_wait *w = arg;

	w->tw_done = 1;
	w->tw_err = err;
	w->tw_tkt = t;
}

/*
 * author mode: the command `cmd` sent by principal `princ` (keytab) to
 * `service` under a ticket of its own.  `tprinc` / `tkeytab` open cmd's
 * AP-REQ to decrypt its KINK_ENCRYPT.
 */
static int
craft_author(const uint8_t *cmd, size_t cmdlen, const char *princ,
    const char *keytab, const char *service, const char *tprinc,
    const char *tkeytab, int newxid, uint32_t xid, struct buf *out)
{
	struct event_base *base = NULL;
	struct krb_ctx *c = NULL, *tc = NULL;
	struct krb_acceptor *acc = NULL;
	struct krb_client *cl = NULL;
	struct tkt_wait w = { 0, 0, NULL };
	struct kink_msg m;
	struct reseal r;
	struct buf apreq, plain;
	time_t guard;
	int e, rv = -1;

	buf_init(&apreq, KINK_MAX_MSG);
	buf_init(&plain, KINK_MAX_MSG);
	memset(&r, 0, sizeof(r));
	if ((base = event_base_new()) == NULL ||
	    (tc = ctx_open(base, tprinc, tkeytab)) == NULL ||
	    (acc = open_cmd(tc, cmd, cmdlen, &m)) == NULL)
		goto out;
	if (m.m_type == KINK_MSGTYPE_REPLY || m.m_type == KINK_MSGTYPE_GETTGT) {
		fprintf(stderr, "kinkcraft: not a command\n");
		goto out;
	}
	if (wire_has(&m, KINK_ENCRYPT)) {
		if (krb_decrypt(krb_acceptor_key(acc), m.m_encrypt.rb_p,
		    m.m_encrypt.rb_len, &plain) != 0 ||
		    (e = wire_parse_inner(&m, plain.b_data, plain.b_len)) != 0) {
			fprintf(stderr, "kinkcraft: command's KINK_ENCRYPT "
			    "does not open\n");
			goto out;
		}
	}
	if ((c = ctx_open(base, princ, keytab)) == NULL ||
	    krb_get_ticket(c, service, tkt_cb, &w) == NULL)
		goto out;
	/* krb.c hands the ticket over through the loop */
	guard = time(NULL) + 30;
	while (!w.tw_done && time(NULL) < guard) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	if (!w.tw_done || w.tw_err != 0) {
		fprintf(stderr, "kinkcraft: no ticket for %s: %s\n", service,
		    w.tw_done ? krb_err_str(c, w.tw_err) : "timeout");
		goto out;
	}
	if ((cl = krb_client_new(c, w.tw_tkt)) == NULL ||
	    krb_client_mk_req(cl, &apreq) != 0) {
		fprintf(stderr, "kinkcraft: no AP-REQ\n");
		goto out;
	}
	r.rs_xid = newxid ? xid : rng();
	r.rs_flags = m.m_flags;
	r.rs_apreq = apreq.b_data;
	r.rs_apreq_len = apreq.b_len;
	/* the template's EPOCH: only the principal differs */
	r.rs_apreq_epoch = m.m_ap_req_epoch;
	rv = reseal(&m, &r, krb_client_key(cl), out);
out:
	krb_client_free(cl);
	if (w.tw_tkt != NULL)
		krb_ticket_free(w.tw_tkt);
	krb_acceptor_free(acc);
	if (c != NULL)
		krb_ctx_free(c);
	if (tc != NULL)
		krb_ctx_free(tc);
	if (base != NULL)
		event_base_free(base);
	buf_free(&apreq);
	buf_free(&plain);
	return rv;
}

int
main(int argc, char **argv)
{
	const char *dst = NULL, *src = NULL, *file = NULL, *hex = NULL;
	const char *save = NULL, *cmdfile = NULL, *keytab = NULL;
	const char *princ = NULL, *stale = NULL, *service = NULL;
	const char *keytab2 = NULL, *princ2 = NULL;
	struct sockaddr_storage dss;
	socklen_t dlen = 0;
	uint8_t *pkt;
	size_t len = 0;
	long wait_ms = -1, count = -1;
	uint32_t xid = 0;
	int ch, s = -1, echo = 0, newxid = 0, garbage = 0, ackreq = 0, rc = 1;

	if (argc < 2)
		usage();
	prog_mode = argv[1];
	rng_state = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	if (rng_state == 0)
		rng_state = 1;
	optind = 2;
	while ((ch = getopt(argc, argv, "t:b:f:x:n:w:s:o:X:eq:k:p:gr:aS:K:P:")) != -1) {
		switch (ch) {
		case 't': dst = optarg; break;
		case 'b': src = optarg; break;
		case 'f': file = optarg; break;
		case 'x': hex = optarg; break;
		case 'o': save = optarg; break;
		case 'e': echo = 1; break;
		case 'q': cmdfile = optarg; break;
		case 'k': keytab = optarg; break;
		case 'p': princ = optarg; break;
		case 'g': garbage = 1; break;
		case 'r': stale = optarg; break;
		case 'a': ackreq = 1; break;
		case 'S': service = optarg; break;
		case 'K': keytab2 = optarg; break;
		case 'P': princ2 = optarg; break;
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

	if (strcmp(prog_mode, "cksum") == 0) {
		uint8_t *cmd;
		size_t clen = 0;

		if (file == NULL || cmdfile == NULL || keytab == NULL ||
		    princ == NULL)
			usage();
		if ((cmd = malloc(CRAFT_MAX)) == NULL)
			goto out;
		if (read_file(file, pkt, CRAFT_MAX, &len) == 0 &&
		    read_file(cmdfile, cmd, CRAFT_MAX, &clen) == 0)
			rc = check_cksum(pkt, len, cmd, clen, princ, keytab) ==
			    0 ? 0 : 1;
		free(cmd);
		goto out;
	}
	if (strcmp(prog_mode, "authn") == 0) {
		if (file == NULL || keytab == NULL || princ == NULL)
			usage();
		if (read_file(file, pkt, CRAFT_MAX, &len) == 0)
			rc = print_authn(pkt, len, princ, keytab) == 0 ? 0 : 1;
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
	} else if (strcmp(prog_mode, "reply") == 0 ||
	    strcmp(prog_mode, "author") == 0) {
		struct buf b;
		uint8_t *cmd = NULL;
		size_t cmdlen = 0;
		int r;

		if (file == NULL || keytab == NULL || princ == NULL)
			usage();
		buf_init(&b, CRAFT_MAX);
		if (prog_mode[0] == 'r') {
			if (cmdfile == NULL || (garbage && stale != NULL))
				usage();
			if ((cmd = malloc(CRAFT_MAX)) == NULL ||
			    read_file(cmdfile, cmd, CRAFT_MAX, &cmdlen) == -1)
				r = -1;
			else
				r = craft_reply(pkt, len, cmd, cmdlen, princ,
				    keytab, stale, garbage, ackreq, &b);
			free(cmd);
		} else {
			if (service == NULL || keytab2 == NULL ||
			    princ2 == NULL)
				usage();
			r = craft_author(pkt, len, princ, keytab, service,
			    princ2, keytab2, newxid, xid, &b);
		}
		if (r == 0 && save != NULL)
			r = write_file(save, b.b_data, b.b_len);
		if (r == 0)
			r = send_dgram(s, &dss, dlen, b.b_data, b.b_len);
		buf_free(&b);
		if (r != 0)
			goto out;
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
