/*
 * broker_check.c for range peers: an SA, SPD entry or GETSPI is allowed
 * for one host inside the range peer's addresses, with the template's
 * "me"/"peer" set to the SA's own outer addresses (and "me" the range
 * peer's "local" when it has one); nothing outside, nothing wider.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "broker_check.h"
#include "broker_msg.h"
#include "isakmp_num.h"
#include "test.h"

static const char range_conf[] =
    "peer \"site\" {\n"
    "  addresses 10.0.0.0/8 2001:db8::/32\n"
    "  principal \"kink/%{host}@EXAMPLE.ORG\"\n"
    "  esp transport from me to peer\n"
    "}\n"
    "peer \"pinned\" {\n"
    "  addresses 198.51.100.0/24\n"
    "  principal \"kink/%{host}@EXAMPLE.ORG\"\n"
    "  local 192.0.2.1\n"
    "  esp transport from me to peer\n"
    "}\n";

static struct kink_conf *
range_load(void)
{
	struct conf_errors e;
	struct kink_conf *c;

	memset(&e, 0, sizeof(e));
	c = conf_parse_buf("t", range_conf, strlen(range_conf), NULL, &e);
	conf_errors_free(&e);
	return c;
}

/*
 * The SA the engine adds for the learned peer at `peer` from `me`, in
 * direction dir: the learned peer's policy (conf_peer_learned) as it is.
 */
static int
learned_sa(const struct conf_peer *tmpl, const char *me, const char *peer,
    uint8_t dir, struct bmsg *m)
{
	struct sockaddr_storage lo, re;
	struct conf_peer *lp;
	const struct kink_policy *p;

	memset(m, 0, sizeof(*m));
	if (addr_parse(me, &lo) == -1 || addr_parse(peer, &re) == -1 ||
	    (lp = conf_peer_learned(tmpl, "t", "kink/h@EXAMPLE.ORG",
	    addr_sa(&re), addr_sa(&lo))) == NULL)
		return -1;
	p = &lp->p_policies[0];
	m->bm_type = BM_ADD;
	m->bm_sa.sa_proto = PROTO_IPSEC_ESP;
	m->bm_sa.sa_dir = dir;
	m->bm_sa.sa_mode = p->pol_mode;
	m->bm_sa.sa_spi = 0x2000;
	m->bm_sa.sa_reqid = p->pol_reqid;
	m->bm_sa.sa_src = dir == SA_DIR_OUT ? lo : re;
	m->bm_sa.sa_dst = dir == SA_DIR_OUT ? re : lo;
	m->bm_sa.sa_sel_src = dir == SA_DIR_OUT ? p->pol_src : p->pol_dst;
	m->bm_sa.sa_sel_dst = dir == SA_DIR_OUT ? p->pol_dst : p->pol_src;
	conf_peer_free(lp);
	return 0;
}

static int
ok(const struct kink_conf *c, const struct bmsg *m, const char *want)
{
	char why[200];
	int r = bk_check(c, m, why, sizeof(why));

	if (want == NULL)
		return r == 1;
	return r == 0 && strstr(why, want) != NULL;
}

/* Both directions of one host inside the range, v4 and v6; outside not. */
TEST(broker_range_inside_outside)
{
	struct kink_conf *c = range_load();
	const struct conf_peer *site;
	struct bmsg m;
	static const char *const in[][2] = {
		{ "10.9.8.1", "10.1.2.3" },
		{ "2001:db8::1", "2001:db8:5::7" },
	};
	static const char *const out[][2] = {
		{ "10.9.8.1", "11.1.2.3" },
		{ "2001:db8::1", "2001:db9::7" },
	};

	ASSERT_TRUE(c != NULL);
	site = &c->c_peers[0];
	for (int i = 0; i < 2; i++) {
		for (uint8_t d = SA_DIR_IN; d <= SA_DIR_OUT; d++) {
			ASSERT_INT_EQ(learned_sa(site, in[i][0], in[i][1], d,
			    &m), 0);
			ASSERT_TRUE(ok(c, &m, NULL));
			/* delete and get name fewer fields: still that host */
			m.bm_type = BM_DEL;
			ASSERT_TRUE(ok(c, &m, NULL));
			m.bm_type = BM_GET;
			ASSERT_TRUE(ok(c, &m, NULL));
		}
		/*
		 * The learned peer's policy, but for a host outside every
		 * range: conf_peer_learned does not look at ranges.
		 */
		ASSERT_INT_EQ(learned_sa(site, out[i][0], out[i][1],
		    SA_DIR_OUT, &m), 0);
		ASSERT_TRUE(ok(c, &m, "outside the range peer's addresses"));
		m.bm_type = BM_DEL;
		ASSERT_TRUE(ok(c, &m, "outside the range peer's addresses"));
		ASSERT_INT_EQ(learned_sa(site, out[i][0], out[i][1],
		    SA_DIR_IN, &m), 0);
		ASSERT_TRUE(ok(c, &m, "outside the range peer's addresses"));
	}
	conf_free(c);
}

/* Selectors wider than one host, or naming another host, are refused. */
TEST(broker_range_selectors_not_wider)
{
	struct kink_conf *c = range_load();
	const struct conf_peer *site;
	struct bmsg m;

	ASSERT_TRUE(c != NULL);
	site = &c->c_peers[0];
	/* the remote side as the whole range (v4) */
	ASSERT_INT_EQ(learned_sa(site, "10.9.8.1", "10.1.2.3", SA_DIR_OUT,
	    &m), 0);
	m.bm_sa.sa_sel_dst = site->p_ranges[0];
	ASSERT_TRUE(ok(c, &m, "selectors outside"));
	/* the remote side a /120 (v6) */
	ASSERT_INT_EQ(learned_sa(site, "2001:db8::1", "2001:db8:5::7",
	    SA_DIR_IN, &m), 0);
	m.bm_sa.sa_sel_src.sel_plen = 120;
	ASSERT_TRUE(ok(c, &m, "selectors outside"));
	/* the local side wider than "me" */
	ASSERT_INT_EQ(learned_sa(site, "10.9.8.1", "10.1.2.3", SA_DIR_OUT,
	    &m), 0);
	m.bm_sa.sa_sel_src.sel_plen = 0;
	ASSERT_TRUE(ok(c, &m, "selectors outside"));
	/* traffic of another host of the range under this host's SA */
	ASSERT_INT_EQ(learned_sa(site, "10.9.8.1", "10.1.2.3", SA_DIR_OUT,
	    &m), 0);
	addr_parse("10.1.2.4", &m.bm_sa.sa_sel_dst.sel_addr);
	ASSERT_TRUE(ok(c, &m, "selectors outside"));
	/* no selectors at all would be any traffic */
	ASSERT_INT_EQ(learned_sa(site, "10.9.8.1", "10.1.2.3", SA_DIR_OUT,
	    &m), 0);
	memset(&m.bm_sa.sa_sel_dst, 0, sizeof(m.bm_sa.sa_sel_dst));
	ASSERT_TRUE(ok(c, &m, "selectors missing"));
	/* v4 selectors on a v6 pair of outer addresses */
	ASSERT_INT_EQ(learned_sa(site, "2001:db8::1", "2001:db8:5::7",
	    SA_DIR_OUT, &m), 0);
	addr_parse("10.1.2.3", &m.bm_sa.sa_sel_dst.sel_addr);
	m.bm_sa.sa_sel_dst.sel_plen = 32;
	ASSERT_TRUE(ok(c, &m, "selectors outside"));
	/* tunnel mode under the transport template */
	ASSERT_INT_EQ(learned_sa(site, "10.9.8.1", "10.1.2.3", SA_DIR_OUT,
	    &m), 0);
	m.bm_sa.sa_mode = ENCAP_MODE_TUNNEL;
	ASSERT_TRUE(ok(c, &m, "mode differs"));
	conf_free(c);
}

/* A range peer with "local": "me" is that address and no other. */
TEST(broker_range_local_pinned)
{
	struct kink_conf *c = range_load();
	const struct conf_peer *pin;
	struct bmsg m;

	ASSERT_TRUE(c != NULL);
	pin = &c->c_peers[1];
	ASSERT_INT_EQ(learned_sa(pin, "192.0.2.1", "198.51.100.7", SA_DIR_IN,
	    &m), 0);
	ASSERT_TRUE(ok(c, &m, NULL));
	ASSERT_INT_EQ(learned_sa(pin, "192.0.2.9", "198.51.100.7", SA_DIR_IN,
	    &m), 0);
	ASSERT_TRUE(ok(c, &m, "local address not the range peer's local"));
	conf_free(c);
}

/* SPD: the entries the template makes (one per range); GETSPI: in range. */
TEST(broker_range_spd_getspi)
{
	struct kink_conf *c = range_load();
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	const struct conf_peer *site;
	struct bmsg m;
	int n;

	ASSERT_TRUE(c != NULL);
	site = &c->c_peers[0];
	n = conf_policy_spd(site, &site->p_policies[0], q, CONF_MAX_PEER_ADDRS);
	ASSERT_INT_EQ(n, 2);
	memset(&m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		m.bm_type = BM_SPD_ADD;
		m.bm_pol = q[i];
		ASSERT_TRUE(ok(c, &m, NULL));
		m.bm_type = BM_SPD_DEL;
		ASSERT_TRUE(ok(c, &m, NULL));
		/* wider than the range */
		m.bm_type = BM_SPD_ADD;
		m.bm_pol.pol_dst.sel_plen = 4;
		ASSERT_TRUE(ok(c, &m, "is not a configured policy"));
	}
	/* the template itself ("me"/"peer" unset) is no kernel policy */
	m.bm_pol = site->p_policies[0];
	ASSERT_TRUE(ok(c, &m, "is not a configured policy"));
	memset(&m, 0, sizeof(m));
	m.bm_type = BM_GETSPI;
	m.bm_proto = PROTO_IPSEC_ESP;
	addr_parse("10.1.2.3", &m.bm_src);
	addr_parse("10.9.8.1", &m.bm_dst);
	ASSERT_TRUE(ok(c, &m, NULL));
	addr_parse("2001:db8:5::7", &m.bm_src);
	addr_parse("2001:db8::1", &m.bm_dst);
	ASSERT_TRUE(ok(c, &m, NULL));
	addr_parse("2001:db9::7", &m.bm_src);
	ASSERT_TRUE(ok(c, &m, "no configured policy"));
	addr_parse("11.1.2.3", &m.bm_src);
	addr_parse("10.9.8.1", &m.bm_dst);
	ASSERT_TRUE(ok(c, &m, "no configured policy"));
	/* the pinned peer's range, to another local address */
	addr_parse("198.51.100.7", &m.bm_src);
	addr_parse("192.0.2.9", &m.bm_dst);
	ASSERT_TRUE(ok(c, &m, "no configured policy"));
	addr_parse("192.0.2.1", &m.bm_dst);
	ASSERT_TRUE(ok(c, &m, NULL));
	conf_free(c);
}

int
main(void)
{
	RUN(broker_range_inside_outside);
	RUN(broker_range_selectors_not_wider);
	RUN(broker_range_local_pinned);
	RUN(broker_range_spd_getspi);
	return test_done();
}
