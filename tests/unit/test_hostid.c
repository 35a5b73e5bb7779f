/*
 * hostid: the pure name and pattern helpers, mapping-file lines (hostile
 * ones too), pattern and file modes through the API on a real event loop,
 * the per-source rate limit, cancel, and hostid_free with queries in
 * flight (against a UDP socket that never answers).  Real DNS answers are
 * tests/tools/hostidq.c's, against dnsmasq (host scenario 700).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "hostid.h"
#include "hostid_int.h"
#include "log.h"
#include "test.h"

#define PAT	"kink/%{host}@KINK.TEST"

static struct sockaddr_storage
A(const char *s)
{
	struct sockaddr_storage ss;

	if (addr_parse(s, &ss) != 0)
		abort();
	return ss;
}

TEST(hostid_name_ok_rules)
{
	char l63[64], l64[65], long254[300];

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	ASSERT_INT_EQ(hostid_name_ok("alpha.test"), 1);
	ASSERT_INT_EQ(hostid_name_ok("h-10-0-0-1.Example.ORG"), 1);
	ASSERT_INT_EQ(hostid_name_ok("2001-db8--1"), 1);
	ASSERT_INT_EQ(hostid_name_ok(l63), 1);
	ASSERT_INT_EQ(hostid_name_ok(l64), 0);
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	snprintf(long254, sizeof(long254), "%s.%s.%s.%s", l63, l63, l63, l63);
	ASSERT_INT_EQ(hostid_name_ok(long254), 0);
	ASSERT_INT_EQ(hostid_name_ok(""), 0);
	ASSERT_INT_EQ(hostid_name_ok("."), 0);
	ASSERT_INT_EQ(hostid_name_ok("a..b"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a.test."), 0);
	ASSERT_INT_EQ(hostid_name_ok("-a.test"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a-.test"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a_b.test"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a b"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a/b"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a@b"), 0);
	ASSERT_INT_EQ(hostid_name_ok("caf\xc3\xa9.test"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a\\.b"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a\n"), 0);
	ASSERT_INT_EQ(hostid_name_ok("a\x1b[0m"), 0);
}

TEST(hostid_principal_host_cases)
{
	char host[HOSTID_NAME_MAX], big[700], small[4];

	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/alpha.test@KINK.TEST",
	    host, sizeof(host)), 0);
	ASSERT_STR_EQ(host, "alpha.test");
	/* wrong service, realm, empty host, host with a slash or blanks */
	ASSERT_INT_EQ(hostid_principal_host(PAT, "host/alpha.test@KINK.TEST",
	    host, sizeof(host)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/alpha.test@OTHER",
	    host, sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/@KINK.TEST", host,
	    sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/a/b@KINK.TEST", host,
	    sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/a b@KINK.TEST", host,
	    sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/\xc3\xa9@KINK.TEST",
	    host, sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink@KINK.TEST", host,
	    sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, "", host, sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host(PAT, NULL, host, sizeof(host)),
	    -1);
	/* over-long: a 690-octet principal is refused, not truncated */
	memset(big, 'a', sizeof(big));
	memcpy(big, "kink/", 5);
	snprintf(big + sizeof(big) - 12, 12, "@KINK.TEST");
	ASSERT_INT_EQ(hostid_principal_host(PAT, big, host, sizeof(host)), -1);
	/* bad patterns */
	ASSERT_INT_EQ(hostid_principal_host("kink/x@KINK.TEST",
	    "kink/x@KINK.TEST", host, sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host("%{host}/%{host}@R", "a/a@R",
	    host, sizeof(host)), -1);
	ASSERT_INT_EQ(hostid_principal_host("%{host}@%{realm}", "a@R", host,
	    sizeof(host)), -1);
	/* a host that does not fit the buffer */
	ASSERT_INT_EQ(hostid_principal_host(PAT, "kink/alpha@KINK.TEST",
	    small, sizeof(small)), -1);
	ASSERT_INT_EQ(errno, ENOSPC);
}

TEST(hostid_host_principal_cases)
{
	char p[HOSTID_PRINC_MAX], small[10];

	ASSERT_INT_EQ(hostid_host_principal(PAT, "beta.test", p, sizeof(p)),
	    0);
	ASSERT_STR_EQ(p, "kink/beta.test@KINK.TEST");
	ASSERT_INT_EQ(hostid_host_principal(PAT, "be ta", p, sizeof(p)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(hostid_host_principal(PAT, "x\n@EVIL", p, sizeof(p)),
	    -1);
	ASSERT_INT_EQ(hostid_host_principal("nohost@R", "a", p, sizeof(p)),
	    -1);
	ASSERT_INT_EQ(hostid_host_principal(PAT, "beta.test", small,
	    sizeof(small)), -1);
	ASSERT_INT_EQ(errno, ENOSPC);
	ASSERT_STR_EQ(small, "");
}

static int
ph(const char *pat, const char *a, char *host, size_t n)
{
	struct sockaddr_storage ss = A(a);

	return hostid_pattern_host(pat, addr_sa(&ss), host, n);
}

TEST(hostid_pattern_host_cases)
{
	char h[HOSTID_NAME_MAX], small[8], pat[400];

	ASSERT_INT_EQ(ph("h-%{a}-%{b}-%{c}-%{d}.example.org", "10.1.2.3", h,
	    sizeof(h)), 0);
	ASSERT_STR_EQ(h, "h-10-1-2-3.example.org");
	ASSERT_INT_EQ(ph("n%{addr}.test", "192.0.2.7", h, sizeof(h)), 0);
	ASSERT_STR_EQ(h, "n192-0-2-7.test");
	ASSERT_INT_EQ(ph("v6-%{addr}.test", "2001:db8::1", h, sizeof(h)), 0);
	ASSERT_STR_EQ(h, "v6-2001-db8--1.test");
	ASSERT_INT_EQ(ph("x%{hex}.test", "2001:db8::1", h, sizeof(h)), 0);
	ASSERT_STR_EQ(h, "x20010db8000000000000000000000001.test");
	ASSERT_INT_EQ(ph("x%{hex}.test", "10.0.0.255", h, sizeof(h)), 0);
	ASSERT_STR_EQ(h, "x0a0000ff.test");
	/* v4 octets of a v6 address, unknown or unclosed placeholders */
	ASSERT_INT_EQ(ph("h-%{a}.test", "2001:db8::1", h, sizeof(h)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(ph("h-%{e}.test", "10.0.0.1", h, sizeof(h)), -1);
	ASSERT_INT_EQ(ph("h-%{a.test", "10.0.0.1", h, sizeof(h)), -1);
	ASSERT_INT_EQ(ph("h-%a.test", "10.0.0.1", h, sizeof(h)), -1);
	/* %% is a '%', which no host name holds */
	ASSERT_INT_EQ(ph("h%%.test", "10.0.0.1", h, sizeof(h)), -1);
	/* a leading '-' from "::1" is no host name */
	ASSERT_INT_EQ(ph("%{addr}", "::1", h, sizeof(h)), -1);
	ASSERT_INT_EQ(ph("h-%{d}.test", "10.0.0.1", small, sizeof(small)),
	    -1);
	ASSERT_INT_EQ(errno, ENOSPC);
	/* a pattern longer than any host name */
	memset(pat, 'a', sizeof(pat));
	pat[sizeof(pat) - 1] = '\0';
	ASSERT_INT_EQ(ph(pat, "10.0.0.1", h, sizeof(h)), -1);
	ASSERT_INT_EQ(ph(NULL, "10.0.0.1", h, sizeof(h)), -1);
}

static int
fl(const char *line, size_t len, char *princ, const char **why)
{
	struct sockaddr_storage ss;

	return hostid_file_line(line, len, &ss, princ, HOSTID_PRINC_MAX, why);
}
#define FL(s, p, w)	fl((s), sizeof(s) - 1, (p), (w))

TEST(hostid_file_line_cases)
{
	char p[HOSTID_PRINC_MAX], big[HOSTID_LINE_MAX + 2];
	struct sockaddr_storage ss;
	const char *why;

	ASSERT_INT_EQ(hostid_file_line("10.0.0.1 kink/a.test@KINK.TEST",
	    30, &ss, p, sizeof(p), &why), 1);
	ASSERT_STR_EQ(p, "kink/a.test@KINK.TEST");
	ASSERT_TRUE(ss.ss_family == AF_INET);
	ASSERT_INT_EQ(FL("\t2001:db8::5\t kink/b@R   # b's v6\r", p, &why), 1);
	ASSERT_STR_EQ(p, "kink/b@R");
	ASSERT_INT_EQ(FL("", p, &why), 0);
	ASSERT_INT_EQ(FL("   \t ", p, &why), 0);
	ASSERT_INT_EQ(FL("# 10.0.0.1 kink/a@R", p, &why), 0);
	ASSERT_INT_EQ(FL("10.0.0.1", p, &why), -1);
	ASSERT_STR_EQ(why, "no principal after the address");
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a@R extra", p, &why), -1);
	ASSERT_STR_EQ(why, "more than two fields");
	ASSERT_INT_EQ(FL("10.0.0.300 kink/a@R", p, &why), -1);
	ASSERT_STR_EQ(why, "not an IPv4 or IPv6 address");
	ASSERT_INT_EQ(FL("10.0.0.1/8 kink/a@R", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a", p, &why), -1);
	ASSERT_STR_EQ(why, "not a principal (name@REALM)");
	ASSERT_INT_EQ(FL("10.0.0.1 @R", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a@", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a@R@S", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a#b@R", p, &why), -1);
	ASSERT_STR_EQ(why, "not a principal (name@REALM)");
	/* hostile octets: NUL, non-ASCII, escapes, DEL */
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a\0b@R", p, &why), -1);
	ASSERT_STR_EQ(why, "NUL octet");
	ASSERT_INT_EQ(FL("10.0.0.1 kink/caf\xc3\xa9@R", p, &why), -1);
	ASSERT_STR_EQ(why, "non-ASCII or control octet");
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a@R\x1b[2J", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a@R\x7f", p, &why), -1);
	ASSERT_INT_EQ(FL("10.0.0.1 kink/a\r@R", p, &why), -1);
	/* over-long: the line, the address field, the principal */
	memset(big, 'a', sizeof(big));
	ASSERT_INT_EQ(fl(big, HOSTID_LINE_MAX + 1, p, &why), -1);
	ASSERT_STR_EQ(why, "line too long");
	memcpy(big, "10.0.0.1 ", 9);
	big[HOSTID_LINE_MAX - 3] = '@';
	ASSERT_INT_EQ(fl(big, HOSTID_LINE_MAX, p, &why), -1);
	ASSERT_STR_EQ(why, "principal too long");
	memset(big, '1', 100);
	big[100] = ' ';
	memcpy(big + 101, "k@R", 3);
	ASSERT_INT_EQ(fl(big, 104, p, &why), -1);
	ASSERT_STR_EQ(why, "not an IPv4 or IPv6 address");
}

/* --- through the API ------------------------------------------------------ */

struct res {
	int			 n;
	enum hostid_status	 st;
	char			 princ[HOSTID_PRINC_MAX];
	char			 how[64];
};

static void
res_cb(void *arg, enum hostid_status st, const char *princ, const char *how)
{
	struct res *r = arg;

	r->n++;
	r->st = st;
	snprintf(r->princ, sizeof(r->princ), "%s", princ ? princ : "");
	snprintf(r->how, sizeof(r->how), "%s", how ? how : "");
}

static struct hostid *
mk(struct event_base **base)
{
	struct hostid_opts o;
	struct sockaddr_storage ns = A("127.0.0.1");

	memset(&o, 0, sizeof(o));
	o.nameservers = &ns;	/* never asked in these modes */
	o.nnameservers = 1;
	*base = event_base_new();
	return hostid_new(*base, &o);
}

static int
look(struct hostid *h, const struct hostid_rule *rule, const char *a,
    struct res *r)
{
	struct sockaddr_storage ss = A(a);

	memset(r, 0, sizeof(*r));
	return hostid_lookup(h, rule, addr_sa(&ss), res_cb, r);
}

static int
chk(struct hostid *h, const struct hostid_rule *rule, const char *princ,
    const char *a, struct res *r)
{
	struct sockaddr_storage ss = A(a);

	memset(r, 0, sizeof(*r));
	return hostid_check(h, rule, princ, addr_sa(&ss), res_cb, r);
}

TEST(hostid_pattern_mode)
{
	struct hostid_rule rule = { HOSTID_PATTERN, PAT,
	    "h-%{a}-%{b}-%{c}-%{d}.test", NULL };
	struct hostid_rule rule6 = { HOSTID_PATTERN, PAT, "v6-%{addr}.test",
	    NULL };
	struct event_base *base;
	struct hostid *h = mk(&base);
	struct res r;

	ASSERT_TRUE(h != NULL);
	/* answered before hostid_lookup returns */
	ASSERT_INT_EQ(look(h, &rule, "10.0.0.1", &r), 0);
	ASSERT_INT_EQ(r.n, 1);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	ASSERT_STR_EQ(r.princ, "kink/h-10-0-0-1.test@KINK.TEST");
	ASSERT_STR_EQ(r.how, "pattern");
	ASSERT_INT_EQ(chk(h, &rule, "kink/h-10-0-0-1.test@KINK.TEST",
	    "10.0.0.1", &r), 0);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	/* a valid principal of the realm claiming another host's address */
	ASSERT_INT_EQ(chk(h, &rule, "kink/h-10-0-0-2.test@KINK.TEST",
	    "10.0.0.1", &r), 0);
	ASSERT_INT_EQ(r.n, 1);
	ASSERT_INT_EQ(r.st, HOSTID_MISMATCH);
	ASSERT_INT_EQ(chk(h, &rule, "host/h-10-0-0-1.test@KINK.TEST",
	    "10.0.0.1", &r), 0);
	ASSERT_INT_EQ(r.st, HOSTID_BADPRINC);
	/* v4 octets for a v6 address: nothing found */
	ASSERT_INT_EQ(look(h, &rule, "2001:db8::1", &r), 0);
	ASSERT_INT_EQ(r.st, HOSTID_NOTFOUND);
	ASSERT_INT_EQ(look(h, &rule6, "2001:db8::1", &r), 0);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	ASSERT_STR_EQ(r.princ, "kink/v6-2001-db8--1.test@KINK.TEST");
	hostid_free(h);
	event_base_free(base);
}

TEST(hostid_bad_rules)
{
	struct hostid_rule nopat = { HOSTID_PATTERN, PAT, NULL, NULL };
	struct hostid_rule noprinc = { HOSTID_DNS, NULL, NULL, NULL };
	struct hostid_rule badprinc = { HOSTID_DNS, "kink/x@R", NULL, NULL };
	struct hostid_rule nofile = { HOSTID_FILE, PAT, NULL, NULL };
	struct hostid_rule mode0 = { 0, PAT, NULL, NULL };
	struct event_base *base;
	struct hostid *h = mk(&base);
	struct sockaddr_storage ss;
	struct res r;

	ASSERT_INT_EQ(look(h, &nopat, "10.0.0.1", &r), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(look(h, &noprinc, "10.0.0.1", &r), -1);
	ASSERT_INT_EQ(look(h, &badprinc, "10.0.0.1", &r), -1);
	ASSERT_INT_EQ(look(h, &nofile, "10.0.0.1", &r), -1);
	ASSERT_INT_EQ(look(h, &mode0, "10.0.0.1", &r), -1);
	ASSERT_INT_EQ(r.n, 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ASSERT_INT_EQ(hostid_lookup(h, &(struct hostid_rule){ HOSTID_PATTERN,
	    PAT, "a.test", NULL }, addr_sa(&ss), res_cb, &r), -1);
	ASSERT_INT_EQ(errno, EAFNOSUPPORT);
	hostid_free(h);
	event_base_free(base);
}

/* stderr into a file for the test's duration: what hostid logged */
static int
grab_stderr(char *path, size_t n, int *saved)
{
	int fd;

	snprintf(path, n, "%s/hostid-log.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	fflush(stderr);
	*saved = dup(2);
	dup2(fd, 2);
	close(fd);
	return 0;
}

static char *
release_stderr(const char *path, int saved)
{
	static char buf[8192];
	FILE *fp;
	size_t n = 0;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	unlink(path);
	return buf;
}

static const char mapfile[] =
	"# site map\n"
	"10.0.0.1 kink/alpha.test@KINK.TEST\n"
	"\n"
	"2001:db8::2   kink/beta.test@KINK.TEST   # beta's v6\n"
	"10.0.0.9 kink/caf\xc3\xa9@KINK.TEST\n"
	"10.0.0.8 kink/nul\0x@KINK.TEST\n"
	"10.0.0.7 kink/esc@KINK.TEST\x1b[2J\n"
	"10.0.0.1 kink/mallory.test@KINK.TEST\n"
	"10.0.0.6 host/other.test@KINK.TEST\n"
	"garbage\n";

static int
write_file(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fwrite(s, 1, n, fp);
	return fclose(fp);
}

TEST(hostid_file_mode)
{
	struct hostid_rule rule = { HOSTID_FILE, PAT, NULL, NULL };
	char dir[256], path[300], logp[300], *log;
	struct event_base *base;
	struct hostid *h = mk(&base);
	struct res r;
	int saved;

	snprintf(dir, sizeof(dir), "%s/hostid-file.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	rule.file = path;
	ASSERT_INT_EQ(write_file(path, mapfile, sizeof(mapfile) - 1), 0);
	ASSERT_INT_EQ(grab_stderr(logp, sizeof(logp), &saved), 0);
	look(h, &rule, "10.0.0.1", &r);
	log = release_stderr(logp, saved);
	ASSERT_INT_EQ(r.n, 1);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	ASSERT_STR_EQ(r.princ, "kink/alpha.test@KINK.TEST");
	ASSERT_STR_EQ(r.how, "file:2");
	/* every bad line named by file:line, its text escaped */
	ASSERT_TRUE(strstr(log, "/hosts:5: non-ASCII or control octet") != NULL);
	ASSERT_TRUE(strstr(log, "caf\\303\\251@") != NULL);
	ASSERT_TRUE(strstr(log, "/hosts:6: NUL octet") != NULL);
	ASSERT_TRUE(strstr(log, "/hosts:7: non-ASCII") != NULL);
	ASSERT_TRUE(strstr(log, "\\033[2J") != NULL);
	ASSERT_TRUE(strstr(log, "\x1b") == NULL);
	ASSERT_TRUE(strstr(log, "/hosts:8: address already mapped") != NULL);
	ASSERT_TRUE(strstr(log, "/hosts:10: no principal") != NULL);
	/* read once: a second lookup logs nothing again */
	ASSERT_INT_EQ(grab_stderr(logp, sizeof(logp), &saved), 0);
	look(h, &rule, "2001:db8::2", &r);
	log = release_stderr(logp, saved);
	ASSERT_STR_EQ(log, "");
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	ASSERT_STR_EQ(r.how, "file:4");
	ASSERT_STR_EQ(r.princ, "kink/beta.test@KINK.TEST");
	look(h, &rule, "10.0.0.9", &r);
	ASSERT_INT_EQ(r.st, HOSTID_NOTFOUND);
	/* a line outside the principal pattern binds nothing */
	look(h, &rule, "10.0.0.6", &r);
	ASSERT_INT_EQ(r.st, HOSTID_BADPRINC);
	ASSERT_STR_EQ(r.how, "file:9");
	/* responder: the right principal, another host's, and a stranger */
	chk(h, &rule, "kink/alpha.test@KINK.TEST", "10.0.0.1", &r);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	chk(h, &rule, "kink/beta.test@KINK.TEST", "10.0.0.1", &r);
	ASSERT_INT_EQ(r.st, HOSTID_MISMATCH);
	ASSERT_STR_EQ(r.how, "file:2");
	chk(h, &rule, "kink/beta.test@OTHER.TEST", "2001:db8::2", &r);
	ASSERT_INT_EQ(r.st, HOSTID_BADPRINC);
	chk(h, &rule, "kink/beta.test@KINK.TEST", "10.0.0.77", &r);
	ASSERT_INT_EQ(r.st, HOSTID_NOTFOUND);
	/* changed on disk: read again */
	ASSERT_INT_EQ(write_file(path, "10.0.0.77 kink/beta.test@KINK.TEST\n",
	    35), 0);
	chk(h, &rule, "kink/beta.test@KINK.TEST", "10.0.0.77", &r);
	ASSERT_INT_EQ(r.st, HOSTID_OK);
	ASSERT_STR_EQ(r.how, "file:1");
	look(h, &rule, "10.0.0.1", &r);
	ASSERT_INT_EQ(r.st, HOSTID_NOTFOUND);
	/* gone: a temporary failure, logged once */
	unlink(path);
	ASSERT_INT_EQ(grab_stderr(logp, sizeof(logp), &saved), 0);
	look(h, &rule, "10.0.0.77", &r);
	ASSERT_INT_EQ(r.st, HOSTID_TEMPFAIL);
	look(h, &rule, "10.0.0.77", &r);
	log = release_stderr(logp, saved);
	ASSERT_INT_EQ(r.st, HOSTID_TEMPFAIL);
	ASSERT_TRUE(strstr(log, "No such file") != NULL);
	ASSERT_TRUE(strstr(strstr(log, "No such file") + 1, "No such file") ==
	    NULL);
	rmdir(dir);
	hostid_free(h);
	event_base_free(base);
}

/*
 * A nameserver that never answers: queries stay in flight, so the rate
 * limit, cancel and hostid_free with pending queries can be seen without
 * waiting for a timeout.
 */
TEST(hostid_dns_pending_limit_cancel_free)
{
	struct hostid_rule rule = { HOSTID_DNS, PAT, NULL, NULL };
	struct sockaddr_storage ns = A("127.0.0.1");
	struct hostid_opts o;
	struct event_base *base;
	struct hostid *h;
	struct res r[5];
	socklen_t sl = sizeof(ns);
	int s, i;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(s >= 0);
	ASSERT_INT_EQ(bind(s, addr_sa(&ns), addr_len(addr_sa(&ns))), 0);
	ASSERT_INT_EQ(getsockname(s, (struct sockaddr *)&ns, &sl), 0);
	memset(&o, 0, sizeof(o));
	o.nameservers = &ns;
	o.nnameservers = 1;
	o.per_source_per_s = 3;
	base = event_base_new();
	h = hostid_new(base, &o);
	ASSERT_TRUE(h != NULL);
	/* one source, different names: three asked, the fourth refused */
	chk(h, &rule, "kink/a.test@KINK.TEST", "10.0.0.1", &r[0]);
	chk(h, &rule, "kink/b.test@KINK.TEST", "10.0.0.1", &r[1]);
	chk(h, &rule, "kink/c.test@KINK.TEST", "10.0.0.1", &r[2]);
	chk(h, &rule, "kink/d.test@KINK.TEST", "10.0.0.1", &r[3]);
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(r[i].n, 0);
	ASSERT_INT_EQ(r[3].n, 1);
	ASSERT_INT_EQ(r[3].st, HOSTID_LIMITED);
	/* another source has its own budget; a name in flight costs nothing */
	chk(h, &rule, "kink/a.test@KINK.TEST", "10.0.0.2", &r[4]);
	ASSERT_INT_EQ(r[4].n, 0);
	look(h, &rule, "10.0.0.3", &r[3]);
	ASSERT_INT_EQ(r[3].n, 0);
	/* cancelled: never called, even when the others are */
	hostid_cancel(h, &r[1]);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < 5; i++)
		ASSERT_INT_EQ(r[i].n, 0);
	/* freed with queries in flight: no callback, nothing leaked (the
	   orphans go with evdns's shutdown callbacks) */
	hostid_free(h);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < 5; i++)
		ASSERT_INT_EQ(r[i].n, 0);
	event_base_free(base);
	close(s);
}

/* Many sources at once: each within its own budget, all of them held to
   the total (64 sources' worth). */
TEST(hostid_dns_total_budget)
{
	struct hostid_rule rule = { HOSTID_DNS, PAT, NULL, NULL };
	struct sockaddr_storage ns = A("127.0.0.1");
	struct hostid_opts o;
	struct event_base *base;
	struct hostid *h;
	struct res r[66];
	socklen_t sl = sizeof(ns);
	char p[64], a[32];
	int s, i, limited = 0, pending = 0;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(s >= 0);
	ASSERT_INT_EQ(bind(s, addr_sa(&ns), addr_len(addr_sa(&ns))), 0);
	ASSERT_INT_EQ(getsockname(s, (struct sockaddr *)&ns, &sl), 0);
	memset(&o, 0, sizeof(o));
	o.nameservers = &ns;
	o.nnameservers = 1;
	o.per_source_per_s = 1;
	base = event_base_new();
	h = hostid_new(base, &o);
	ASSERT_TRUE(h != NULL);
	for (i = 0; i < 66; i++) {
		snprintf(p, sizeof(p), "kink/h%d.test@KINK.TEST", i);
		snprintf(a, sizeof(a), "10.0.1.%d", i);
		chk(h, &rule, p, a, &r[i]);
		if (r[i].n == 1 && r[i].st == HOSTID_LIMITED)
			limited++;
		else if (r[i].n == 0)
			pending++;
	}
	ASSERT_INT_EQ(pending, 64);
	ASSERT_INT_EQ(limited, 2);
	hostid_free(h);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	close(s);
}

TEST(hostid_status_strings)
{
	ASSERT_STR_EQ(hostid_status_str(HOSTID_OK), "ok");
	ASSERT_STR_EQ(hostid_status_str(HOSTID_MISMATCH), "mismatch");
	ASSERT_STR_EQ(hostid_status_str(HOSTID_LIMITED), "rate limited");
	ASSERT_STR_EQ(hostid_status_str((enum hostid_status)99), "?");
}

int
main(void)
{
	log_init("test_hostid", 1, 0);
	RUN(hostid_name_ok_rules);
	RUN(hostid_principal_host_cases);
	RUN(hostid_host_principal_cases);
	RUN(hostid_pattern_host_cases);
	RUN(hostid_file_line_cases);
	RUN(hostid_pattern_mode);
	RUN(hostid_bad_rules);
	RUN(hostid_file_mode);
	RUN(hostid_dns_pending_limit_cancel_free);
	RUN(hostid_dns_total_budget);
	RUN(hostid_status_strings);
	return test_done();
}
