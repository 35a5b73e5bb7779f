/*
 * IPComp (RFC 3173, RFC 2407 4.4.1) in the kernel backends, without a
 * kernel: the XFRM and PF_KEY requests for CPIs, IPComp SAs and IPComp
 * templates against golden messages (tests/unit/data/kern/ *-ipcomp*.hex,
 * *-getcpi.hex; tests/lib/kern_ipcomp_cases.h), the decoders on IPComp
 * SAs the kernel returns, the broker's rule (IPComp requests only for a
 * policy with IPComp) and the kernel's compression capability.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <linux/ipsec.h>
#include <linux/netlink.h>
#include <linux/pfkeyv2.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "broker_check.h"
#include "broker_msg.h"
#include "isakmp_num.h"
#include "kern_golden.h"
#include "kern_ipcomp_cases.h"
#include "pfkey_msg.h"
#include "sadb.h"
#include "test.h"
#include "xfrm_msg.h"

#define KBUF_ALIGN __attribute__((aligned(8)))

static struct pfkey_state ps = { .ps_pid = KC_PID };

static int
pk_build(const struct kreq *rq, uint8_t *buf, size_t max)
{
	return pfkey_build(&ps, rq, buf, max);
}

static void
golden_all(const char *fmt, int pfkey, kg_build_fn build)
{
	struct kc_ipcomp c;
	struct kc_case cs[KC_MAXCASES];
	uint8_t want[KMSG_MAX] KBUF_ALIGN, got[KMSG_MAX] KBUF_ALIGN;
	size_t wl;
	int fam, n, i, len;

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_ipcomp_init(&c, fam);
		n = pfkey ? kc_ipcomp_cases(&c, 1, cs, IPSEC_DIR_OUTBOUND,
		    IPSEC_DIR_INBOUND) : kc_ipcomp_cases(&c, 0, cs,
		    XFRM_POLICY_OUT, XFRM_POLICY_IN);
		ASSERT_INT_EQ(n, KC_IPCOMP_NCASES);
		for (i = 0; i < n; i++) {
			if (kg_golden(fmt, fam, cs[i].name, want, &wl) == -1) {
				test_fail(__FILE__, __LINE__, "no golden %s",
				    cs[i].name);
				return;
			}
			len = build(&cs[i].rq, got, sizeof(got));
			if (len != (int)wl)
				printf("# %s%d-%s: length %d, want %zu\n", fmt,
				    fam == AF_INET ? 4 : 6, cs[i].name, len, wl);
			ASSERT_INT_EQ(len, wl);
			ASSERT_MEM_EQ(got, want, wl);
		}
	}
}

/*
 * XFRM: ALLOCSPI proto 108 with the 16-bit CPI range; NEWSA/UPDSA with
 * XFRMA_ALG_COMP "deflate" alone (no key, replay window 0); the IPComp
 * template first and optional, before ESP (and AH).
 */
TEST(xfrm_golden)
{
	golden_all("xfrm", 0, xfrm_build);
}

/*
 * PF_KEY: satype SADB_X_SATYPE_IPCOMP, SPIRANGE 0x100..0xefff, the SA
 * extension with SADB_X_CALG_DEFLATE in sadb_sa_encrypt and no key
 * extension, SA2 reqid 0; the ipsecrequest IPPROTO_COMP at level USE.
 */
TEST(pfkey_golden)
{
	golden_all("pfkey", 1, pk_build);
}

/* What the kernels cannot be asked: a key-less IPComp SA only. */
TEST(build_refuses)
{
	struct kc_ipcomp c;
	struct kink_sa sa;
	struct kreq rq = { .kr_op = KREQ_ADD, .kr_sa = &sa };
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;

	kc_ipcomp_init(&c, AF_INET);
	sa = c.out;
	sa.sa_enc = IPCOMP_LZS;		/* Linux has no LZS */
	errno = 0;
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EOPNOTSUPP);
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EOPNOTSUPP);
	sa = c.out;
	sa.sa_auth = AUTH_ALG_HMAC_SHA;
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	sa = c.out;
	sa.sa_spi = 0x10000;		/* a CPI is 16 bits */
	ASSERT_INT_EQ(xfrm_build(&rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(pfkey_build(&ps, &rq, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
}

static void
check_comp_sa(const struct kink_sa *got, const struct kink_sa *want,
    uint32_t reqid)
{
	ASSERT_INT_EQ(got->sa_proto, PROTO_IPCOMP);
	ASSERT_INT_EQ(got->sa_spi, want->sa_spi);
	ASSERT_INT_EQ(got->sa_enc, IPCOMP_DEFLATE);
	ASSERT_INT_EQ(got->sa_auth, 0);
	ASSERT_INT_EQ(got->sa_reqid, reqid);
	ASSERT_INT_EQ(got->sa_mode, ENCAP_MODE_TRANSPORT);
	ASSERT_INT_EQ(got->sa_life_hard_secs, want->sa_life_hard_secs);
	ASSERT_INT_EQ(got->sa_life_soft_bytes, want->sa_life_soft_bytes);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_src), addr_sa(&want->sa_src)),
	    1);
	ASSERT_INT_EQ(addr_eq(addr_sa(&got->sa_dst), addr_sa(&want->sa_dst)),
	    1);
}

/* An IPComp SA in a dump or GET answer is kinkd's kind, CPI and all. */
TEST(xfrm_parse_ipcomp_sa)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct kc_ipcomp c;
	struct kin in;
	size_t len;
	int fam;

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_ipcomp_init(&c, fam);
		ASSERT_INT_EQ(kg_golden("xfrm", fam, "add-ipcomp", buf, &len),
		    0);
		((struct nlmsghdr *)buf)->nlmsg_seq = 9;
		((struct nlmsghdr *)buf)->nlmsg_flags = 0;
		xfrm_parse(buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_SA);
		ASSERT_INT_EQ(in.ki_seq, 9);
		ASSERT_TRUE(!in.ki_foreign);
		ASSERT_INT_EQ(in.ki_spi, KC_CPI_OUT);
		check_comp_sa(&in.ki_sa, &c.out, 0x1234);
		if (test_failed_cur)
			return;
	}
}

/* The PF_KEY ADD golden as the kernel's dump entry for it. */
static size_t
pk_dump_entry(int fam, const char *kind, uint8_t *buf)
{
	struct sadb_msg *h = (struct sadb_msg *)buf;
	size_t len;

	if (kg_golden("pfkey", fam, kind, buf, &len) == -1)
		return 0;
	h->sadb_msg_type = SADB_DUMP;
	h->sadb_msg_seq = 0;
	return len;
}

/*
 * Linux keeps reqid 0 on IPComp SAs under PF_KEY: the backend gives back
 * the reqid of the SAs it added (by destination and CPI), 0 for others.
 */
TEST(pfkey_parse_ipcomp_sa)
{
	uint8_t buf[KMSG_MAX] KBUF_ALIGN;
	struct pfkey_state *st = calloc(1, sizeof(*st));
	struct kc_ipcomp c;
	struct kin in;
	size_t len;
	int fam;

	ASSERT_TRUE(st != NULL);
	st->ps_pid = KC_PID;
	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		kc_ipcomp_init(&c, fam);
		ASSERT_TRUE((len = pk_dump_entry(fam, "add-ipcomp", buf)) != 0);
		pfkey_parse(st, buf, len, &in);
		ASSERT_INT_EQ(in.ki_kind, KIN_DUMP);
		ASSERT_INT_EQ(in.ki_have, 1);
		check_comp_sa(&in.ki_sa, &c.out, 0);
		ASSERT_INT_EQ(pfkey_comp_remember(st, &c.out), 0);
		pfkey_parse(st, buf, len, &in);
		check_comp_sa(&in.ki_sa, &c.out, 0x1234);
		/* the same CPI toward the other host is another SA */
		ASSERT_TRUE((len = pk_dump_entry(fam, "update-ipcomp", buf)) !=
		    0);
		((struct sadb_sa *)(buf + sizeof(struct sadb_msg)))->
		    sadb_sa_spi = htonl(KC_CPI_OUT);
		pfkey_parse(st, buf, len, &in);
		ASSERT_INT_EQ(in.ki_sa.sa_reqid, 0);
		if (test_failed_cur)
			break;
	}
	free(st);
}

static const char ipcomp_conf[] =
    "set principal \"kink/alpha.example.org@EXAMPLE.ORG\"\n"
    "set backend null\n"
    "peer \"beta\" {\n"
    "  principal kink/beta.example.org@EXAMPLE.ORG\n"
    "  address 192.0.2.2\n"
    "  esp transport from 192.0.2.1 to 192.0.2.2\n"
    "}\n"
    "peer \"gamma\" {\n"
    "  principal kink/gamma.example.org@EXAMPLE.ORG\n"
    "  address 192.0.2.3\n"
    "  esp transport from 192.0.2.1 to 192.0.2.3\n"
    "}\n";

/* Beta's policy with IPComp in its first suite (as conf makes it). */
static struct kink_conf *
ipcomp_load(int with)
{
	struct conf_errors e;
	struct kink_conf *c;
	struct kink_policy *p;

	memset(&e, 0, sizeof(e));
	c = conf_parse_buf("t", ipcomp_conf, strlen(ipcomp_conf), NULL, &e);
	conf_errors_free(&e);
	if (c == NULL || !with)
		return c;
	p = &c->c_peers[0].p_policies[0];
	p->pol_suites[0].s_ipcomp.x_present = 1;
	p->pol_suites[0].s_ipcomp.x_id = IPCOMP_DEFLATE;
	return c;
}

/* An IPComp SA of peer i's policy, direction dir. */
static void
comp_msg(const struct kink_conf *c, int i, uint8_t type, uint8_t dir,
    struct bmsg *m)
{
	const struct kink_policy *p = &c->c_peers[i].p_policies[0];
	const char *peer = i == 0 ? "192.0.2.2" : "192.0.2.3";

	memset(m, 0, sizeof(*m));
	m->bm_type = type;
	addr_parse(dir == SA_DIR_OUT ? "192.0.2.1" : peer, &m->bm_sa.sa_src);
	addr_parse(dir == SA_DIR_OUT ? peer : "192.0.2.1", &m->bm_sa.sa_dst);
	m->bm_sa.sa_proto = PROTO_IPCOMP;
	m->bm_sa.sa_dir = dir;
	m->bm_sa.sa_mode = ENCAP_MODE_TRANSPORT;
	m->bm_sa.sa_spi = 0x4321;
	m->bm_sa.sa_enc = IPCOMP_DEFLATE;
	m->bm_sa.sa_reqid = p->pol_reqid;
	m->bm_sa.sa_sel_src = dir == SA_DIR_OUT ? p->pol_src : p->pol_dst;
	m->bm_sa.sa_sel_dst = dir == SA_DIR_OUT ? p->pol_dst : p->pol_src;
}

static int
allowed(const struct kink_conf *c, const struct bmsg *m)
{
	char why[200];

	return bk_check(c, m, why, sizeof(why));
}

/* Every IPComp request the engine makes, for beta with and without. */
static void
broker_cases(int with)
{
	static const uint8_t types[] = { BM_ADD, BM_DEL, BM_GET };
	struct kink_conf *c = ipcomp_load(with);
	struct bmsg m;
	char why[200];
	size_t i;

	ASSERT_TRUE(c != NULL);
	for (i = 0; i < sizeof(types); i++)
		for (uint8_t d = SA_DIR_IN; d <= SA_DIR_OUT; d++) {
			comp_msg(c, 0, types[i], d, &m);
			ASSERT_INT_EQ(allowed(c, &m), with);
			/* gamma's policy never has IPComp */
			comp_msg(c, 1, types[i], d, &m);
			ASSERT_INT_EQ(allowed(c, &m), 0);
		}
	comp_msg(c, 0, BM_ADD, SA_DIR_OUT, &m);
	ASSERT_INT_EQ(bk_check(c, &m, why, sizeof(why)), with);
	if (!with)
		ASSERT_TRUE(strstr(why, "protocol not in the policy's suites")
		    != NULL);
	/* a CPI from beta to us; the release of an unused one */
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_GETSPI;
	m.bm_proto = PROTO_IPCOMP;
	addr_parse("192.0.2.2", &m.bm_src);
	addr_parse("192.0.2.1", &m.bm_dst);
	ASSERT_INT_EQ(allowed(c, &m), with);
	addr_parse("192.0.2.3", &m.bm_src);
	ASSERT_INT_EQ(allowed(c, &m), 0);
	comp_msg(c, 0, BM_DEL, SA_DIR_IN, &m);
	m.bm_sa.sa_reqid = 0;
	m.bm_sa.sa_dir = 0;
	ASSERT_INT_EQ(allowed(c, &m), with);
	/* the larval IPComp SA of an ACQUIRE */
	comp_msg(c, 0, BM_DEL_LARVAL, SA_DIR_OUT, &m);
	m.bm_sa.sa_spi = 0;
	ASSERT_INT_EQ(allowed(c, &m), with);
	/* ESP stays allowed either way */
	comp_msg(c, 0, BM_ADD, SA_DIR_OUT, &m);
	m.bm_sa.sa_proto = PROTO_IPSEC_ESP;
	ASSERT_INT_EQ(allowed(c, &m), 1);
	conf_free(c);
}

TEST(broker_allows_ipcomp_with_policy)
{
	broker_cases(1);
}

TEST(broker_refuses_ipcomp_without_policy)
{
	broker_cases(0);
}

/* The SPD entry with its IPComp template passes as the policy it is. */
TEST(broker_spd_with_ipcomp)
{
	struct kink_conf *c = ipcomp_load(1);
	struct bmsg m;

	ASSERT_TRUE(c != NULL);
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_SPD_ADD;
	m.bm_pol = c->c_peers[0].p_policies[0];
	ASSERT_INT_EQ(allowed(c, &m), 1);
	conf_free(c);
}

static int
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * The capability from /proc/crypto, /proc/modules and the module lists
 * of the running kernel, here from files: deflate loaded or loadable,
 * and the IPComp protocol (ipcomp.ko) loaded, loadable or built in.
 */
TEST(caps_comp_files)
{
	char crypto[600], mods[600], why[200];
	struct kink_xform x = { .x_present = 1, .x_id = IPCOMP_DEFLATE };
	struct sadb_caps c;
	const char *tmp = getenv("TMPDIR");
	char tmpl[512];

	snprintf(tmpl, sizeof(tmpl), "%s/kinkd-ipcomp-caps.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(tmpl) != NULL);
	snprintf(crypto, sizeof(crypto), "%s/crypto", tmpl);
	snprintf(mods, sizeof(mods), "%s/modules", tmpl);

	/* nothing readable: unknown, nothing refused */
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), -1);
	ASSERT_INT_EQ(c.kc_comp_known, 0);
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_COMP, &x, why, sizeof(why)),
	    1);

	/* deflate loaded, but no module lists: the protocol may be built
	 * in or not, so unknown again */
	ASSERT_INT_EQ(put(tmpl, "crypto", "name         : deflate\n"
	    "driver       : deflate-scomp\n"), 0);
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), -1);
	ASSERT_INT_EQ(c.kc_comp_known, 0);
	/* deflate loaded, the protocol loadable */
	ASSERT_INT_EQ(put(tmpl, "modules.dep",
	    "kernel/net/ipv4/ipcomp.ko: kernel/net/xfrm/xfrm_ipcomp.ko\n"), 0);
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), 0);
	ASSERT_INT_EQ(c.kc_comp_known, 1);
	ASSERT_INT_EQ(c.kc_comp[0], 1);
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_COMP, &x, why, sizeof(why)),
	    1);
	sadb_caps_names(&c, 2, why, sizeof(why));
	ASSERT_TRUE(strcmp(why, "deflate") == 0);

	/* only zlib_deflate (not the crypto algorithm), the protocol
	 * loaded: no deflate, and the reason says so */
	ASSERT_INT_EQ(put(tmpl, "crypto", "name         : sha1\n"), 0);
	ASSERT_INT_EQ(put(tmpl, "modules.dep",
	    "kernel/lib/zlib_deflate/zlib_deflate.ko:\n"), 0);
	ASSERT_INT_EQ(put(tmpl, "modules",
	    "esp4 24576 0 - Live 0x0\nipcomp 16384 0 - Live 0x0\n"), 0);
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), 0);
	ASSERT_INT_EQ(c.kc_comp[0], 0);
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_COMP, &x, why, sizeof(why)),
	    0);
	ASSERT_TRUE(strstr(why, "the kernel has no IPComp deflate") != NULL);
	sadb_caps_names(&c, 2, why, sizeof(why));
	ASSERT_TRUE(strcmp(why, "") == 0);

	/* deflate loadable (compressed module), the protocol built in */
	ASSERT_INT_EQ(put(tmpl, "modules.dep",
	    "kernel/crypto/deflate.ko.xz: kernel/lib/zlib_deflate.ko.xz\n"),
	    0);
	ASSERT_INT_EQ(put(tmpl, "modules", "esp4 24576 0 - Live 0x0\n"), 0);
	ASSERT_INT_EQ(put(tmpl, "modules.builtin",
	    "kernel/net/ipv4/ipcomp.ko\n"), 0);
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), 0);
	ASSERT_INT_EQ(c.kc_comp[0], 1);

	/* deflate there but no IPComp protocol anywhere */
	ASSERT_INT_EQ(put(tmpl, "modules.builtin", "kernel/net/ipv4/ah4.ko\n"),
	    0);
	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(sadb_caps_comp_at(&c, crypto, mods, tmpl), 0);
	ASSERT_INT_EQ(c.kc_comp[0], 0);
	/* a transform the tables lack is refused whenever caps are known */
	x.x_id = IPCOMP_LZS;
	ASSERT_INT_EQ(sadb_caps_xform(&c, IPPROTO_COMP, &x, why, sizeof(why)),
	    0);
	ASSERT_TRUE(strstr(why, "such compression") != NULL);

	snprintf(crypto, sizeof(crypto), "rm -rf '%s'", tmpl);
	ASSERT_INT_EQ(system(crypto), 0);
}

int
main(void)
{
	RUN(xfrm_golden);
	RUN(pfkey_golden);
	RUN(build_refuses);
	RUN(xfrm_parse_ipcomp_sa);
	RUN(pfkey_parse_ipcomp_sa);
	RUN(broker_allows_ipcomp_with_policy);
	RUN(broker_refuses_ipcomp_without_policy);
	RUN(broker_spd_with_ipcomp);
	RUN(caps_comp_files);
	return test_done();
}
