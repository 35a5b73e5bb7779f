/*
 * kinkd.conf: golden dumps of good files, exact error lines of bad ones,
 * print -> parse -> print fixed point, -D, includes, reload comparison,
 * and a deterministic mutation loop.  Works on a copy of
 * tests/unit/data/conf in a temporary directory (cwd), so file modes are
 * ours to set whatever the checkout's umask was.
 */
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <glob.h>
#include <unistd.h>

#include "config.h"
#include "addr.h"
#include "conf.h"
#include "test.h"

static char tmpdir[] = "/tmp/test_conf.XXXXXX";
static char top[4096];

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = NULL;
	size_t len = 0;
	FILE *out;
	int c;

	if (fp == NULL)
		return NULL;
	out = open_memstream(&s, &len);
	while ((c = fgetc(fp)) != EOF)
		fputc(c, out);
	fclose(out);
	fclose(fp);
	return s;
}

static char *
dump_str(const struct kink_conf *c)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	conf_dump(c, fp);
	fclose(fp);
	return s;
}

static char *
errs_str(const struct conf_errors *e)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	conf_errors_print(e, fp);
	fclose(fp);
	return s;
}

/* Replace every `from` in s (malloc'd) with `to`. */
static char *
subst(char *s, const char *from, const char *to)
{
	char *r = NULL, *p = s, *q;
	size_t len = 0;
	FILE *fp = open_memstream(&r, &len);

	while ((q = strstr(p, from)) != NULL) {
		fwrite(p, 1, (size_t)(q - p), fp);
		fputs(to, fp);
		p = q + strlen(from);
	}
	fputs(p, fp);
	fclose(fp);
	free(s);
	return r;
}

static char *
expect_file(const char *path)
{
	char *s = slurp(path);

	if (s == NULL)
		return NULL;
	s = subst(s, "@KINKD_KEYTAB@", KINKD_KEYTAB);
	s = subst(s, "@KINKD_SOCKET@", KINKD_SOCKET);
	return subst(s, "@KINKD_USER@", KINKD_USER);
}

/* Print the first differing line of two texts. */
static void
show_diff(const char *got, const char *want)
{
	int line = 1;
	const char *g = got, *w = want;

	while (*g && *g == *w) {
		if (*g == '\n')
			line++;
		g++, w++;
	}
	printf("# first difference at line %d\n# got:  %.120s\n# want: %.120s\n",
	    line, g, w);
}

#define ASSERT_TEXT_EQ(got, want) do {					\
	if (strcmp((got), (want)) != 0) {				\
		show_diff((got), (want));				\
		test_fail(__FILE__, __LINE__, "text differs");		\
		goto out;						\
	}								\
} while (0)

/* The runner for per-file cases: one PASS/FAIL line per file. */
static void
run_named(void (*fn)(const char *), const char *arg, const char *prefix)
{
	static char name[512];
	const char *base = strrchr(arg, '/');

	snprintf(name, sizeof(name), "%s_%s", prefix, base ? base + 1 : arg);
	test_cur = name;
	test_failed_cur = 0;
	fn(arg);
	if (test_failed_cur)
		test_nfail++;
	else {
		test_npass++;
		printf("PASS %s\n", name);
	}
	fflush(stdout);
}

/* dump(parse(dump(c))) == dump(c), and every policy compares the same. */
static int
fixed_point(const struct kink_conf *c, const char *dump)
{
	struct conf_errors e;
	struct kink_conf *c2;
	char *d2 = NULL;
	int ok = 0;

	c2 = conf_parse_buf("dump", dump, strlen(dump), NULL, &e);
	if (c2 == NULL) {
		char *es = errs_str(&e);

		printf("# reparse failed:\n%s", es);
		free(es);
		goto out;
	}
	d2 = dump_str(c2);
	if (strcmp(d2, dump) != 0) {
		show_diff(d2, dump);
		goto out;
	}
	if (c2->c_npeers != c->c_npeers)
		goto out;
	for (int i = 0; i < c->c_npeers; i++) {
		if (c->c_peers[i].p_npolicies != c2->c_peers[i].p_npolicies)
			goto out;
		for (int j = 0; j < c->c_peers[i].p_npolicies; j++)
			if (!conf_policy_same(&c->c_peers[i].p_policies[j],
			    &c2->c_peers[i].p_policies[j]))
				goto out;
	}
	ok = 1;
out:
	free(d2);
	conf_free(c2);
	conf_errors_free(&e);
	return ok;
}

static void
good_file(const char *path)
{
	struct conf_errors e;
	struct kink_conf *c;
	char exp[4096], *want = NULL, *got = NULL, *es;

	c = conf_load(path, NULL, &e);
	if (c == NULL) {
		es = errs_str(&e);
		test_fail(__FILE__, __LINE__, "load failed:\n%s", es);
		free(es);
		goto out;
	}
	snprintf(exp, sizeof(exp), "%.*s.expect", (int)(strlen(path) - 5),
	    path);
	if ((want = expect_file(exp)) == NULL) {
		test_fail(__FILE__, __LINE__, "no %s", exp);
		goto out;
	}
	got = dump_str(c);
	ASSERT_TEXT_EQ(got, want);
	if (!fixed_point(c, got))
		test_fail(__FILE__, __LINE__, "dump is not a fixed point");
out:
	free(want);
	free(got);
	conf_free(c);
	conf_errors_free(&e);
}

static void
bad_file(const char *path)
{
	struct conf_errors e;
	struct kink_conf *c;
	char exp[4096], *want = NULL, *got = NULL;

	c = conf_load(path, NULL, &e);
	if (c != NULL) {
		test_fail(__FILE__, __LINE__, "loaded a bad file");
		goto out;
	}
	snprintf(exp, sizeof(exp), "%.*s.err", (int)(strlen(path) - 5), path);
	if ((want = slurp(exp)) == NULL) {
		test_fail(__FILE__, __LINE__, "no %s", exp);
		goto out;
	}
	got = errs_str(&e);
	ASSERT_TEXT_EQ(got, want);
	if (e.ce_count < 1)
		test_fail(__FILE__, __LINE__, "no errors");
out:
	free(want);
	free(got);
	conf_free(c);
	conf_errors_free(&e);
}

static int
each_file(const char *pattern, void (*fn)(const char *), const char *prefix)
{
	glob_t g;
	size_t n;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	for (size_t i = 0; i < n; i++)
		run_named(fn, g.gl_pathv[i], prefix);
	globfree(&g);
	return (int)n;
}

static struct kink_conf *
parse_str(const char *s, const struct conf_macro *d, struct conf_errors *e)
{
	return conf_parse_buf("t.conf", s, strlen(s), d, e);
}

TEST(file_counts)
{
	glob_t g;

	/* The tables this file promises: guard against an emptied dir. */
	ASSERT_INT_EQ(glob("bad/*.conf", 0, NULL, &g), 0);
	ASSERT_TRUE(g.gl_pathc >= 20);
	globfree(&g);
	ASSERT_INT_EQ(glob("good/*.conf", 0, NULL, &g), 0);
	ASSERT_TRUE(g.gl_pathc >= 4);
	globfree(&g);
}

TEST(example_conf_parses)
{
	struct conf_errors e;
	struct kink_conf *c = conf_load("../kinkd.conf", NULL, &e);
	char *d = NULL;

	if (c == NULL) {
		char *es = errs_str(&e);

		test_fail(__FILE__, __LINE__, "etc/kinkd.conf:\n%s", es);
		free(es);
		goto out;
	}
	if (c->c_npeers != 1 || c->c_peers[0].p_npolicies != 4 ||
	    c->c_principal == NULL || c->c_nlisten != 2) {
		test_fail(__FILE__, __LINE__, "unexpected shape");
		goto out;
	}
	d = dump_str(c);
	if (!fixed_point(c, d))
		test_fail(__FILE__, __LINE__, "not a fixed point");
out:
	free(d);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(defaults)
{
	struct conf_errors e;
	struct kink_conf *c = parse_str("", NULL, &e);

	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(c->c_principal == NULL);
	ASSERT_STR_EQ(c->c_keytab, KINKD_KEYTAB);
	ASSERT_STR_EQ(c->c_socket, KINKD_SOCKET);
	ASSERT_STR_EQ(c->c_user, KINKD_USER);
	ASSERT_INT_EQ(c->c_port, 910);
	ASSERT_INT_EQ(c->c_nlisten, 2);
	ASSERT_INT_EQ(c->c_listen[0].l_addr.ss_family, AF_INET);
	ASSERT_INT_EQ(c->c_listen[1].l_addr.ss_family, AF_INET6);
	ASSERT_INT_EQ(ntohs(((struct sockaddr_in6 *)&c->c_listen[1].l_addr)
	    ->sin6_port), 910);
	ASSERT_INT_EQ(c->c_retrans_ms, 1000);
	ASSERT_INT_EQ(c->c_retrans_max_ms, 8000);
	ASSERT_INT_EQ(c->c_retrans_tries, 5);
	ASSERT_INT_EQ(c->c_backend, CONF_BACKEND_AUTO);
	ASSERT_INT_EQ(c->c_shutdown, CONF_SHUTDOWN_FLUSH);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(policy_defaults)
{
	static const char s[] =
	    "peer b { principal k/b@R; address 192.0.2.2; local 192.0.2.1\n"
	    "esp tunnel from 10.1.0.0/16 to 10.2.0.0/16\n"
	    "ah transport from 192.0.2.1 to 192.0.2.2 }\n";
	struct conf_errors e;
	struct kink_conf *c = parse_str(s, NULL, &e);
	struct kink_policy *t, *a;

	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c->c_peers[0].p_npolicies, 2);
	t = &c->c_peers[0].p_policies[0];
	a = &c->c_peers[0].p_policies[1];
	ASSERT_INT_EQ(t->pol_mode, 1);		/* tunnel */
	ASSERT_INT_EQ(t->pol_life_secs, 8 * 3600);
	ASSERT_INT_EQ(t->pol_life_kbytes, 0);
	ASSERT_INT_EQ(t->pol_pfs_group, 0);
	/* CBC first: Linux PF_KEY (the "auto" default) cannot install GCM. */
	ASSERT_INT_EQ(t->pol_nsuites, 5);
	ASSERT_INT_EQ(t->pol_suites[0].s_esp.x_id, 12);	/* ESP_AES_CBC */
	ASSERT_INT_EQ(t->pol_suites[0].s_esp.x_keylen, 256);
	ASSERT_INT_EQ(t->pol_suites[0].s_esp.x_auth, 5);	/* HMAC-SHA2-256 */
	ASSERT_INT_EQ(t->pol_suites[2].s_esp.x_auth, 2);	/* HMAC-SHA1 */
	ASSERT_INT_EQ(t->pol_suites[3].s_esp.x_id, 20);	/* ESP_AES_GCM_16 */
	ASSERT_INT_EQ(t->pol_tun_local.ss_family, AF_INET);
	ASSERT_INT_EQ(t->pol_tun_remote.ss_family, AF_INET);
	ASSERT_INT_EQ(t->pol_src.sel_plen, 16);
	ASSERT_INT_EQ(a->pol_mode, 2);		/* transport */
	ASSERT_INT_EQ(a->pol_suites[0].s_ah.x_present, 1);
	ASSERT_INT_EQ(a->pol_suites[0].s_ah.x_id, 5);	/* AH_SHA2_256 */
	ASSERT_INT_EQ(a->pol_suites[0].s_esp.x_present, 0);
	ASSERT_INT_EQ(a->pol_src.sel_plen, 32);
	ASSERT_TRUE(t->pol_reqid != 0 && a->pol_reqid != 0 &&
	    t->pol_reqid != a->pol_reqid);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(define_overrides)
{
	static const char s[] =
	    "me = \"192.0.2.1\"\nlisten on $me\nlisten on $extra port 99\n"
	    "set principal kink/a@$realm\n";
	struct conf_macro d[] = {
		{ "me", "192.0.2.9" }, { "extra", "::1" },
		{ "realm", "R.ORG" }, { NULL, NULL }
	};
	struct conf_macro bad[] = { { "9x", "1" }, { NULL, NULL } };
	struct conf_errors e;
	struct kink_conf *c = parse_str(s, d, &e);
	char a[INET6_ADDRSTRLEN];
	char *es = NULL;

	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c->c_nlisten, 2);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&c->c_listen[0].l_addr)
	    ->sin_addr, a, sizeof(a));
	ASSERT_STR_EQ(a, "192.0.2.9");	/* -D wins over the file */
	ASSERT_INT_EQ(c->c_listen[1].l_addr.ss_family, AF_INET6);
	ASSERT_STR_EQ(c->c_principal, "kink/a@R.ORG");
	conf_free(c);
	conf_errors_free(&e);
	/* Without -D the file's value holds, and $extra is undefined. */
	c = parse_str(s, NULL, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "t.conf:3:11: undefined macro \"$extra\"\n"
	    "t.conf:4:15: undefined macro \"$realm\"\n");
	free(es);
	conf_errors_free(&e);
	c = parse_str("", bad, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "-D: bad macro name \"9x\"\n");
	free(es);
	conf_errors_free(&e);
}

TEST(lexer_details)
{
	/* ';' separates, '\' continues, escapes, '#' inside quotes, CRLF. */
	static const char s[] =
	    "set verbose 3; set port \\\n  1234 # comment\r\n"
	    "set principal \"a\\\"b\\\\c#x\"\n";
	struct conf_errors e;
	struct kink_conf *c;
	char *es;

	c = parse_str(s, NULL, &e);
	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c->c_verbose, 3);
	ASSERT_INT_EQ(c->c_port, 1234);
	ASSERT_STR_EQ(c->c_principal, "a\"b\\c#x");
	conf_free(c);
	conf_errors_free(&e);
	c = parse_str("set user\t\"\"\n", NULL, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "t.conf:1:10: a user name must not be empty\n");
	free(es);
	conf_errors_free(&e);
}

TEST(nul_byte)
{
	static const char s[] = "set verbose 1\n\0set port 1\n";
	struct conf_errors e;
	struct kink_conf *c = conf_parse_buf("t.conf", s, sizeof(s) - 1,
	    NULL, &e);
	char *es;

	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "t.conf:2:1: unexpected character 0x00\n");
	free(es);
	conf_errors_free(&e);
}

TEST(error_limit)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);
	struct conf_errors e;
	struct kink_conf *c;

	for (int i = 0; i < 200; i++)
		fprintf(fp, "bogus %d\n", i);
	fclose(fp);
	c = parse_str(s, NULL, &e);
	free(s);
	ASSERT_TRUE(c == NULL);
	ASSERT_INT_EQ(e.ce_count, CONF_MAX_ERRORS);
	ASSERT_INT_EQ(e.ce_truncated, 1);
	conf_errors_free(&e);
}

TEST(include_depth)
{
	struct conf_errors e;
	struct kink_conf *c;
	char name[64], *es;
	FILE *fp;

	ASSERT_INT_EQ(mkdir("depth", 0755), 0);
	for (int i = 0; i <= 10; i++) {
		snprintf(name, sizeof(name), "depth/d%d.conf", i);
		ASSERT_TRUE((fp = fopen(name, "w")) != NULL);
		fprintf(fp, "include \"d%d.conf\"\n", i + 1);
		fclose(fp);
	}
	c = conf_load("depth/d0.conf", NULL, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "depth/d8.conf:1:9: includes nested deeper than 8\n");
	free(es);
	conf_errors_free(&e);
	/* Eight levels are fine. */
	ASSERT_TRUE((fp = fopen("depth/d8.conf", "w")) != NULL);
	fprintf(fp, "set verbose 2\n");
	fclose(fp);
	c = conf_load("depth/d0.conf", NULL, &e);
	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c->c_verbose, 2);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(top_file_checks)
{
	struct conf_errors e;
	struct kink_conf *c;
	char *es;

	c = conf_load("missing.conf", NULL, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "missing.conf: missing.conf: No such file or "
	    "directory\n");
	free(es);
	conf_errors_free(&e);
	c = conf_load("good", NULL, &e);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "good: good: not a regular file\n");
	free(es);
	conf_errors_free(&e);
	/* The top file gets the same secrecy check as an include. */
	ASSERT_INT_EQ(chmod("good/minimal.conf", 0620), 0);
	c = conf_load("good/minimal.conf", NULL, &e);
	ASSERT_INT_EQ(chmod("good/minimal.conf", 0644), 0);
	ASSERT_TRUE(c == NULL);
	es = errs_str(&e);
	ASSERT_STR_EQ(es, "good/minimal.conf: good/minimal.conf: group or "
	    "world writable, refusing it\n");
	free(es);
	conf_errors_free(&e);
}

static const char reload_a[] =
    "peer b {\n principal k/b@R; address 192.0.2.2\n"
    " esp transport from 192.0.2.1 to 192.0.2.2 proto tcp\n"
    " policy \"web\" esp transport from 192.0.2.1 to 192.0.2.2 port 80 "
    "proto tcp\n}\n";
static const char reload_b[] =
    "peer b {\n principal k/b@R; address 192.0.2.2\n"
    " esp transport from 192.0.2.1 to 192.0.2.2 proto udp\n"
    " esp transport from 192.0.2.1 to 192.0.2.2 proto tcp\n"
    " policy \"web\" esp transport from 192.0.2.1 to 192.0.2.2 port 80 "
    "proto tcp lifetime 2h\n}\n";

TEST(reload_policy_same)
{
	struct conf_errors e1, e2;
	struct kink_conf *a = parse_str(reload_a, NULL, &e1);
	struct kink_conf *b = parse_str(reload_b, NULL, &e2);
	struct kink_policy *pa, *pb, *wa, *wb;

	ASSERT_TRUE(a != NULL && b != NULL);
	/* The unnamed tcp policy moved down one line: still the same. */
	pa = &a->c_peers[0].p_policies[0];
	pb = conf_policy_by_name(conf_peer_by_name(b, "b"), pa->pol_name);
	ASSERT_TRUE(pb != NULL);
	ASSERT_TRUE(pb == &b->c_peers[0].p_policies[1]);
	ASSERT_INT_EQ(pa->pol_reqid, pb->pol_reqid);
	ASSERT_INT_EQ(conf_policy_same(pa, pb), 1);
	/* A changed lifetime is a different policy, same name and reqid. */
	wa = conf_policy_by_name(&a->c_peers[0], "web");
	wb = conf_policy_by_name(&b->c_peers[0], "web");
	ASSERT_TRUE(wa != NULL && wb != NULL);
	ASSERT_INT_EQ(wa->pol_reqid, wb->pol_reqid);
	ASSERT_INT_EQ(wa->pol_reqid, conf_reqid("b", "web"));
	ASSERT_INT_EQ(conf_policy_same(wa, wb), 0);
	ASSERT_INT_EQ(conf_policy_same(wa, pa), 0);
	conf_free(a);
	conf_free(b);
	conf_errors_free(&e1);
	conf_errors_free(&e2);
}

TEST(reqid_collision)
{
	char s[512];
	struct conf_errors e;
	struct kink_conf *c;
	uint32_t r = conf_reqid("b", "x");

	snprintf(s, sizeof(s), "peer b {\n principal k/b@R\n"
	    " policy \"x\" esp transport from 192.0.2.1 to 192.0.2.2\n"
	    " esp transport from 192.0.2.1 to 192.0.2.3 reqid %u\n}\n", r);
	c = parse_str(s, NULL, &e);
	ASSERT_TRUE(c != NULL);
	/* The pinned reqid keeps its value; the hashed one moves on. */
	ASSERT_INT_EQ(c->c_peers[0].p_policies[1].pol_reqid, r);
	ASSERT_INT_EQ(c->c_peers[0].p_policies[0].pol_reqid,
	    r % 0x3fffffffU + 1);
	conf_free(c);
	conf_errors_free(&e);
}

/* A pinned reqid: CONF_REQID_MAX is the largest taken, one more refused. */
TEST(reqid_limit)
{
	const uint32_t max = 0x3fffffffU;	/* CONF_REQID_MAX */
	char s[512];
	struct conf_errors e;
	struct kink_conf *c;

	snprintf(s, sizeof(s), "peer b {\n principal k/b@R\n"
	    " policy \"x\" esp transport from 192.0.2.1 to 192.0.2.2"
	    " reqid %u\n}\n", max);
	c = parse_str(s, NULL, &e);
	ASSERT_TRUE(c != NULL);
	if (c != NULL)
		ASSERT_INT_EQ(c->c_peers[0].p_policies[0].pol_reqid, max);
	conf_free(c);
	conf_errors_free(&e);
	snprintf(s, sizeof(s), "peer b {\n principal k/b@R\n"
	    " policy \"x\" esp transport from 192.0.2.1 to 192.0.2.2"
	    " reqid %u\n}\n", max + 1);
	c = parse_str(s, NULL, &e);
	ASSERT_TRUE(c == NULL);
	conf_free(c);
	conf_errors_free(&e);
}

static const struct sockaddr *
sa_of(const char *a, struct sockaddr_storage *ss)
{
	if (addr_parse(a, ss) == -1)
		memset(ss, 0, sizeof(*ss));	/* then no range holds it */
	return (const struct sockaddr *)ss;
}

/*
 * Range peers: the longest prefix wins, a learned peer's copy has "me" and
 * "peer" filled in and only the policies of its family, and the kernel
 * gets one policy per range for a "me"/"peer" policy.
 */
TEST(site_ranges)
{
	static const char s[] =
	    "peer wide { addresses 10.0.0.0/8 2001:db8::/32\n"
	    " principal \"k/%{host}@R\"\n"
	    " policy a esp transport from me to peer\n"
	    " policy b esp transport from 10.1.1.1 to peer\n}\n"
	    "peer narrow { addresses 10.1.0.0/16; principal \"n/%{host}@R\"\n"
	    " find file \"/h\"; esp transport from me to peer }\n";
	struct conf_errors e;
	struct kink_conf *c = parse_str(s, NULL, &e);
	struct sockaddr_storage a, l, a6, l6;
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	struct conf_peer *lp;
	char buf[64];

	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c->c_peers[0].p_find, CONF_FIND_DNS);
	ASSERT_INT_EQ(c->c_peers[1].p_find, CONF_FIND_FILE);
	ASSERT_TRUE(conf_peer_by_range(c, sa_of("10.2.0.1", &a)) ==
	    &c->c_peers[0]);
	ASSERT_TRUE(conf_peer_by_range(c, sa_of("10.1.0.1", &a)) ==
	    &c->c_peers[1]);
	ASSERT_TRUE(conf_peer_by_range(c, sa_of("2001:db8:1::5", &a6)) ==
	    &c->c_peers[0]);
	ASSERT_TRUE(conf_peer_by_range(c, sa_of("11.0.0.1", &l)) == NULL);
	ASSERT_TRUE(conf_peer_by_range(c, sa_of("2001:db9::1", &l)) == NULL);
	/* v4: both policies, "me" and "peer" as host addresses */
	lp = conf_peer_learned(&c->c_peers[0], "wide/10.2.0.1", "k/h@R",
	    sa_of("10.2.0.1", &a), sa_of("10.9.9.9", &l));
	ASSERT_TRUE(lp != NULL);
	ASSERT_INT_EQ(lp->p_npolicies, 2);
	ASSERT_INT_EQ(lp->p_naddrs, 1);
	ASSERT_STR_EQ(lp->p_principal, "k/h@R");
	ASSERT_STR_EQ(addr_ntop(addr_sa(&lp->p_policies[0].pol_src.sel_addr),
	    buf, sizeof(buf)), "10.9.9.9");
	ASSERT_INT_EQ(lp->p_policies[0].pol_src.sel_plen, 32);
	ASSERT_STR_EQ(addr_ntop(addr_sa(&lp->p_policies[0].pol_dst.sel_addr),
	    buf, sizeof(buf)), "10.2.0.1");
	ASSERT_INT_EQ(lp->p_policies[0].pol_reqid,
	    c->c_peers[0].p_policies[0].pol_reqid);
	conf_peer_free(lp);
	/* v6: policy b is IPv4 only and left out */
	lp = conf_peer_learned(&c->c_peers[0], "wide/x", "k/h@R",
	    sa_of("2001:db8::5", &a6), sa_of("2001:db8::1", &l6));
	ASSERT_TRUE(lp != NULL);
	ASSERT_INT_EQ(lp->p_npolicies, 1);
	ASSERT_STR_EQ(lp->p_policies[0].pol_name, "a");
	conf_peer_free(lp);
	/* local of the other family: nothing */
	ASSERT_TRUE(conf_peer_learned(&c->c_peers[0], "w", "k/h@R",
	    sa_of("2001:db8::5", &a6), sa_of("10.9.9.9", &l)) == NULL);
	/* kernel policies: a per range, b only for the v4 range */
	ASSERT_INT_EQ(conf_policy_spd(&c->c_peers[0],
	    &c->c_peers[0].p_policies[0], q, CONF_MAX_PEER_ADDRS), 2);
	ASSERT_INT_EQ(q[0].pol_src.sel_plen, 0);
	ASSERT_INT_EQ(q[0].pol_src.sel_addr.ss_family, AF_INET);
	ASSERT_INT_EQ(q[0].pol_dst.sel_plen, 8);
	ASSERT_INT_EQ(q[1].pol_dst.sel_addr.ss_family, AF_INET6);
	ASSERT_INT_EQ(q[1].pol_dst.sel_plen, 32);
	ASSERT_INT_EQ(conf_policy_spd(&c->c_peers[0],
	    &c->c_peers[0].p_policies[1], q, CONF_MAX_PEER_ADDRS), 1);
	ASSERT_INT_EQ(conf_policy_spd(&c->c_peers[0],
	    &c->c_peers[0].p_policies[0], q, 1), 1);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(lookups)
{
	static const char s[] =
	    "peer b { principal k/b@R; address 192.0.2.2; address 2001:db8::2 }\n"
	    "peer c { principal k/c@R, address 192.0.2.7, u2u allow }\n";
	struct conf_errors e;
	struct kink_conf *c = parse_str(s, NULL, &e);
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(conf_peer_by_name(c, "c") == &c->c_peers[1]);
	ASSERT_TRUE(conf_peer_by_name(c, "d") == NULL);
	ASSERT_TRUE(conf_peer_by_principal(c, "k/b@R") == &c->c_peers[0]);
	/* "," separates peer statements like a newline. */
	ASSERT_INT_EQ(c->c_peers[1].p_naddrs, 1);
	ASSERT_INT_EQ(c->c_peers[1].p_u2u, 1);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(910);	/* ignored */
	inet_pton(AF_INET6, "2001:db8::2", &sin6.sin6_addr);
	ASSERT_TRUE(conf_peer_by_addr(c, (struct sockaddr *)&sin6) ==
	    &c->c_peers[0]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.3", &sin.sin_addr);
	ASSERT_TRUE(conf_peer_by_addr(c, (struct sockaddr *)&sin) == NULL);
	conf_free(c);
	conf_errors_free(&e);
}

TEST(keyword_table)
{
	int n = 0;

	for (int i = 0; conf_keywords[i]; i++, n++) {
		ASSERT_TRUE(conf_keywords[i][0] != '\0');
		for (int j = 0; j < i; j++)
			if (strcmp(conf_keywords[i], conf_keywords[j]) == 0) {
				test_fail(__FILE__, __LINE__, "\"%s\" twice",
				    conf_keywords[i]);
				return;
			}
	}
	ASSERT_TRUE(n > 40);
}

/*
 * Deterministic mutations of every good file: each must either load (and
 * then dump to a fixed point) or fail with at least one error.  Under
 * ASan/valgrind this is where memory bugs in error paths show up.
 */
TEST(mutations)
{
	static const char repl[] = { '\0', '{', '}', '"', '\n', '$', '\\',
	    '#', '=', ',', '/', ';' };
	glob_t g;

	ASSERT_INT_EQ(glob("good/*.conf", 0, NULL, &g), 0);
	for (size_t f = 0; f < g.gl_pathc; f++) {
		char *s = slurp(g.gl_pathv[f]);
		size_t len = s ? strlen(s) : 0;

		for (size_t i = 0; s && i < len; i++) {
			char orig = s[i];
			char r = repl[i % sizeof(repl)];
			struct conf_errors e;
			struct kink_conf *c;

			s[i] = r;
			c = conf_parse_buf("m.conf", s, len, NULL, &e);
			s[i] = orig;
			if (c == NULL && e.ce_count == 0) {
				test_fail(__FILE__, __LINE__, "%s byte %zu: "
				    "NULL without an error", g.gl_pathv[f], i);
				free(s);
				globfree(&g);
				return;
			}
			if (c != NULL && e.ce_count != 0) {
				test_fail(__FILE__, __LINE__, "%s byte %zu: "
				    "a config and errors", g.gl_pathv[f], i);
				free(s);
				globfree(&g);
				return;
			}
			if (c != NULL) {
				char *d = dump_str(c);
				int ok = fixed_point(c, d);

				free(d);
				if (!ok) {
					test_fail(__FILE__, __LINE__, "%s byte "
					    "%zu: no fixed point",
					    g.gl_pathv[f], i);
					conf_free(c);
					free(s);
					globfree(&g);
					return;
				}
			}
			conf_free(c);
			conf_errors_free(&e);
		}
		free(s);
	}
	globfree(&g);
}

/*
 * Every CONF_MAX_* bound, from both sides: a generated file with max items
 * loads (and holds them all), one with max + 1 is refused with the exact
 * message at the item that is one too many.  Generated at run time (the
 * largest is a megabyte) into limit/, each refused file beside its .err,
 * and run through bad_file() like the committed bad/ files.
 */
struct limit {
	const char	*l_name;
	int		 l_max;
	/* a file of n items, and the errors of that file named f */
	void		(*l_gen)(FILE *, int n);
	void		(*l_err)(FILE *, const char *f, int n);
	/* the items a load holds (NULL: none to count) */
	int		(*l_count)(const struct kink_conf *);
	int		 l_bad_at;	/* max items are an error too */
};

static void
gen_listen(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "listen on 127.0.0.1 port %d\n", 1000 + i);
}

static void
err_listen(FILE *fp, const char *f, int n)
{
	/* At the end of the statement: the port is part of the address. */
	fprintf(fp, "%s:%d:30: too many listen addresses (at most %d)\n", f, n,
	    CONF_MAX_LISTEN);
}

static int
count_listen(const struct kink_conf *c)
{
	return c->c_nlisten;
}

static void
gen_peers(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "peer p%04d { principal \"kink/p%04d@R\" }\n", i,
		    i);
}

static void
err_peers(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:6: too many peers (at most %d)\n", f, n,
	    CONF_MAX_PEERS);
}

static int
count_peers(const struct kink_conf *c)
{
	return c->c_npeers;
}

static void
gen_nameservers(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "set nameserver 192.0.2.%d\n", i);
}

static void
err_nameservers(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:16: too many name servers (at most %d)\n", f, n,
	    CONF_MAX_NAMESERVERS);
}

static int
count_nameservers(const struct kink_conf *c)
{
	return c->c_nnameservers;
}

static void
gen_ranges(FILE *fp, int n)
{
	fprintf(fp, "peer \"x\" {\n\tprincipal \"kink/%%{host}@R\"\n"
	    "\taddresses");
	for (int i = 1; i <= n; i++)
		fprintf(fp, " 10.%d.0.0/16", i);
	fprintf(fp, "\n}\n");
}

static void
err_ranges(FILE *fp, const char *f, int n)
{
	/* the column of the one range too many */
	int col = 12;

	for (int i = 1; i < n; i++)
		col += (int)strlen(" 10.0.0.0/16") + (i >= 10);
	fprintf(fp, "%s:3:%d: too many address ranges (at most %d)\n", f, col,
	    CONF_MAX_PEER_ADDRS);
}

static int
count_ranges(const struct kink_conf *c)
{
	return c->c_npeers == 1 ? c->c_peers[0].p_nranges : -1;
}

static void
gen_addrs(FILE *fp, int n)
{
	fprintf(fp, "peer \"x\" {\n\tprincipal \"kink/x@R\"\n");
	for (int i = 1; i <= n; i++)
		fprintf(fp, "\taddress 10.0.0.%d\n", i);
	fprintf(fp, "}\n");
}

static void
err_addrs(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:10: too many addresses (at most %d)\n", f, n + 2,
	    CONF_MAX_PEER_ADDRS);
}

static int
count_addrs(const struct kink_conf *c)
{
	return c->c_npeers == 1 ? c->c_peers[0].p_naddrs : -1;
}

static void
gen_policies(FILE *fp, int n)
{
	fprintf(fp, "peer \"x\" {\n\tprincipal \"kink/x@R\"\n");
	for (int i = 1; i <= n; i++)
		fprintf(fp, "\tesp transport from 10.0.%d.%d to 10.1.0.1\n",
		    i / 200, i % 200 + 1);
	fprintf(fp, "}\n");
}

static void
err_policies(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:2: too many policies in peer \"x\" (at most %d)\n",
	    f, n + 2, CONF_MAX_POLICIES);
}

static int
count_policies(const struct kink_conf *c)
{
	return c->c_npeers == 1 ? c->c_peers[0].p_npolicies : -1;
}

static void
gen_xsets(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "transforms \"t%d\" { esp enc aes-128-cbc auth "
		    "hmac-sha1 }\n", i);
}

static void
err_xsets(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:12: too many transform sets (at most %d)\n", f, n,
	    CONF_MAX_XFORM_SETS);
}

static int
count_xsets(const struct kink_conf *c)
{
	return c->c_nxsets;
}

static void
gen_macros(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "m%d = \"v%d\"\n", i, i);
}

static void
err_macros(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:%d:1: too many macros (at most %d)\n", f, n,
	    CONF_MAX_MACROS);
}

/* n bytes of a quoted string, then of a word. */
static void
gen_string(FILE *fp, int n)
{
	fprintf(fp, "set keytab \"%0*d\"\n", n, 0);
}

static void
err_string(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:1:12: string longer than %d bytes\n", f,
	    CONF_MAX_STRING);
}

static void
gen_word(FILE *fp, int n)
{
	fprintf(fp, "set keytab %0*d\n", n, 0);
}

static void
err_word(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:1:12: word longer than %d bytes\n", f, CONF_MAX_STRING);
}

/* n bytes of a word made by expanding a macro after one literal byte. */
static void
gen_expansion(FILE *fp, int n)
{
	fprintf(fp, "m = \"%0*d\"\nset keytab x$m\n", n - 1, 0);
}

static void
err_expansion(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:2:12: word longer than %d bytes\n", f,
	    CONF_MAX_STRING);
}

static int
count_keytab(const struct kink_conf *c)
{
	return (int)strlen(c->c_keytab);
}

/* n bytes in all: a setting, then comment lines. */
static void
gen_file(FILE *fp, int n)
{
	int left = n - (int)strlen("set verbose 2\n");

	fprintf(fp, "set verbose 2\n");
	for (; left > 0; left -= 80)
		fprintf(fp, "%.*s\n", (left > 80 ? 80 : left) - 1,
		    "# padding padding padding padding padding padding "
		    "padding padding padding padding");
}

static void
err_file(FILE *fp, const char *f, int n)
{
	/* The top file has no position to point at: it names itself. */
	fprintf(fp, "%s: %s: larger than %d bytes\n", f, f, CONF_MAX_FILE);
}

/* Through an include, the position is that of the include statement. */
static void
gen_include(FILE *fp, int n)
{
	char path[64];
	FILE *in;

	fprintf(fp, "include \"include-%d.inc\"\n", n);
	snprintf(path, sizeof(path), "limit/include-%d.inc", n);
	if ((in = fopen(path, "w")) != NULL) {
		gen_file(in, n);
		fclose(in);
	}
}

static void
err_include(FILE *fp, const char *f, int n)
{
	fprintf(fp, "%s:1:9: limit/include-%d.inc: larger than %d bytes\n", f,
	    n, CONF_MAX_FILE);
}

static int
count_verbose(const struct kink_conf *c)
{
	return c->c_verbose == 2 ? CONF_MAX_FILE : -1;
}

/* n statements that are all wrong: every one reported up to the bound. */
static void
gen_errors(FILE *fp, int n)
{
	for (int i = 1; i <= n; i++)
		fprintf(fp, "bogus%d\n", i);
}

static void
err_errors(FILE *fp, const char *f, int n)
{
	for (int i = 1; i <= n && i <= CONF_MAX_ERRORS; i++)
		fprintf(fp, "%s:%d:1: expected \"include\", \"set\", "
		    "\"listen\", \"transforms\", \"peer\" or a macro "
		    "definition, got \"bogus%d\"\n", f, i, i);
	if (n > CONF_MAX_ERRORS)
		fprintf(fp, "too many errors, stopped after %d\n",
		    CONF_MAX_ERRORS);
}

static const struct limit limits[] = {
	{ "listen", CONF_MAX_LISTEN, gen_listen, err_listen, count_listen, 0 },
	{ "peers", CONF_MAX_PEERS, gen_peers, err_peers, count_peers, 0 },
	{ "peer-addrs", CONF_MAX_PEER_ADDRS, gen_addrs, err_addrs,
	    count_addrs, 0 },
	{ "nameservers", CONF_MAX_NAMESERVERS, gen_nameservers,
	    err_nameservers, count_nameservers, 0 },
	{ "ranges", CONF_MAX_PEER_ADDRS, gen_ranges, err_ranges, count_ranges,
	    0 },
	{ "policies", CONF_MAX_POLICIES, gen_policies, err_policies,
	    count_policies, 0 },
	{ "xform-sets", CONF_MAX_XFORM_SETS, gen_xsets, err_xsets,
	    count_xsets, 0 },
	{ "macros", CONF_MAX_MACROS, gen_macros, err_macros, NULL, 0 },
	{ "string", CONF_MAX_STRING, gen_string, err_string, count_keytab, 0 },
	{ "word", CONF_MAX_STRING, gen_word, err_word, count_keytab, 0 },
	{ "expansion", CONF_MAX_STRING, gen_expansion, err_expansion,
	    count_keytab, 0 },
	{ "file", CONF_MAX_FILE, gen_file, err_file, count_verbose, 0 },
	{ "include", CONF_MAX_FILE, gen_include, err_include, count_verbose,
	    0 },
	/* 50 errors are a bad file of their own, with nothing cut off. */
	{ "errors", CONF_MAX_ERRORS, gen_errors, err_errors, NULL, 1 },
};
static const struct limit *cur_limit;
static char limit_path[256];

static void
limit_ok(const char *path)
{
	struct conf_errors e;
	struct kink_conf *c = conf_load(path, NULL, &e);

	if (c == NULL) {
		char *es = errs_str(&e);

		test_fail(__FILE__, __LINE__, "refused at the limit: %.300s",
		    es);
		free(es);
	} else if (cur_limit->l_count != NULL &&
	    cur_limit->l_count(c) != cur_limit->l_max)
		test_fail(__FILE__, __LINE__, "%d items loaded, want %d",
		    cur_limit->l_count(c), cur_limit->l_max);
	conf_free(c);
	conf_errors_free(&e);
}

/* Writes limit/NAME-SUFFIX.conf with n items, and its .err if erring. */
static int
limit_write(const struct limit *l, const char *suffix, int n, int erring)
{
	char err[sizeof(limit_path)];
	FILE *fp;

	snprintf(err, sizeof(err), "limit/%s-%s.err", l->l_name, suffix);
	snprintf(limit_path, sizeof(limit_path), "limit/%s-%s.conf",
	    l->l_name, suffix);
	if (erring) {
		if ((fp = fopen(err, "w")) == NULL)
			return -1;
		l->l_err(fp, limit_path, n);
		fclose(fp);
	}
	if ((fp = fopen(limit_path, "w")) == NULL)
		return -1;
	l->l_gen(fp, n);
	return fclose(fp);
}

static void
limits_run(void)
{
	const size_t n = sizeof(limits) / sizeof(limits[0]);

	if (mkdir("limit", 0755) == -1) {
		printf("FAIL limits: cannot make limit/\n");
		test_nfail++;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct limit *l = cur_limit = &limits[i];

		if (limit_write(l, "at", l->l_max, l->l_bad_at) == -1 ||
		    limit_write(l, "over", l->l_max + 1, 1) == -1) {
			printf("FAIL limit_%s: cannot write the files\n",
			    l->l_name);
			test_nfail++;
			continue;
		}
		snprintf(limit_path, sizeof(limit_path), "limit/%s-at.conf",
		    l->l_name);
		run_named(l->l_bad_at ? bad_file : limit_ok, limit_path,
		    "limit");
		snprintf(limit_path, sizeof(limit_path), "limit/%s-over.conf",
		    l->l_name);
		run_named(bad_file, limit_path, "limit");
	}
}

static int
setup(void)
{
	const char *data = getenv("TEST_DATA");
	char cmd[8192];

	if (data == NULL)
		data = "tests/unit/data";
	if (getcwd(top, sizeof(top)) == NULL || mkdtemp(tmpdir) == NULL)
		return -1;
	/* Our own modes: the secrecy check must not trip on the umask. */
	snprintf(cmd, sizeof(cmd), "cp -R '%s/conf' '%s/' && "
	    "cp etc/kinkd.conf '%s/' && chmod -R u=rwX,go=rX '%s' && "
	    "chmod 0666 '%s/conf/bad/ww.inc'", data, tmpdir, tmpdir, tmpdir,
	    tmpdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/conf", tmpdir);
	return chdir(cmd);
}

static void
teardown(void)
{
	char cmd[8192];

	if (chdir(top) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
}

int
main(void)
{
	if (setup() == -1) {
		printf("FAIL setup: cannot copy the conf test data\n");
		return 1;
	}
	RUN(file_counts);
	each_file("good/*.conf", good_file, "good");
	each_file("bad/*.conf", bad_file, "bad");
	limits_run();
	RUN(example_conf_parses);
	RUN(defaults);
	RUN(policy_defaults);
	RUN(define_overrides);
	RUN(lexer_details);
	RUN(nul_byte);
	RUN(error_limit);
	RUN(include_depth);
	RUN(top_file_checks);
	RUN(reload_policy_same);
	RUN(reqid_collision);
	RUN(reqid_limit);
	RUN(lookups);
	RUN(site_ranges);
	RUN(keyword_table);
	RUN(mutations);
	teardown();
	return test_done();
}
