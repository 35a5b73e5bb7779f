/*
 * What the broker lets the engine ask of the kernel, judged against the
 * broker's own copy of the configuration (never the engine's view).  Pure,
 * like the codec, so the fuzzer runs decode and check together.
 *
 * A request is allowed when a configured policy covers it:
 *  - SPD add/delete: a configured policy, same reqid, mode, selectors,
 *    upper-layer protocol and tunnel endpoints (suites are not compared:
 *    the backend filter may have dropped some, and the SPD has none);
 *  - SA add/delete/get: the policy of the SA's reqid, its mode, a suite
 *    with the SA's protocol (IPComp: a suite with s_ipcomp, so a policy
 *    without IPComp gets no IPComp SA and reserves no CPI); selectors (when set) inside the policy's, in
 *    the SA's direction; the remote outer address one the configuration
 *    names for it (tunnel endpoint, a peer address, or inside the remote
 *    selector), unless the peer is responder-only (realm-wide): then
 *    Kerberos, which the broker cannot see, is what binds the address;
 *  - a range peer's policy is a template: the remote outer address must
 *    lie in one of its ranges, the local one be its "local" when set, and
 *    the SA fit the template with "peer" and "me" set to those two host
 *    addresses (one learned peer's policy, never the whole range); its SPD
 *    entries are the ones conf_policy_spd makes of the template;
 *  - GETSPI (an SPI, or a CPI for IPComp): some policy with that protocol
 *    whose local and remote sides fit dst and src;
 *  - a delete without reqid: the release of an SPI GETSPI reserved, where
 *    the GETSPI was allowed;
 *  - DEL_LARVAL: like a delete, of the SPI-0 placeholder only;
 *  - SPD_REPAIR, SPD_GET: like SPD add (a query of a configured policy's
 *    entries only: the rest of the SPD is not the engine's business);
 *  - DUMP, SUPPORTS and CAPS: always (they change nothing);
 *  - the test build's knobs: never (the broker's test hook, when there
 *    is one, takes them before this check).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "broker_check.h"
#include "isakmp_num.h"

static int
fam_ok(int f)
{
	return f == AF_INET || f == AF_INET6;
}

/* Is address a inside the prefix of selector s (port ignored)? */
static int
in_prefix(const struct sockaddr_storage *a, const struct kink_selector *s)
{
	const uint8_t *x, *y;
	size_t lx, ly, full;
	unsigned rem;

	if (!fam_ok(a->ss_family) || a->ss_family != s->sel_addr.ss_family)
		return 0;
	x = addr_bytes(addr_sa(a), &lx);
	y = addr_bytes(addr_sa(&s->sel_addr), &ly);
	if (lx != ly || s->sel_plen > lx * 8)
		return 0;
	full = s->sel_plen / 8;
	if (memcmp(x, y, full) != 0)
		return 0;
	rem = s->sel_plen % 8;
	if (rem == 0)
		return 1;
	return ((x[full] ^ y[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

/* Is selector in inside selector out (prefix within, port agrees)? */
static int
sel_within(const struct kink_selector *in, const struct kink_selector *out)
{
	if (out->sel_addr.ss_family == 0)
		return 1;	/* the policy does not restrict this side */
	if (in->sel_plen < out->sel_plen || !in_prefix(&in->sel_addr, out))
		return 0;
	return out->sel_port == 0 || in->sel_port == out->sel_port;
}

static int
sel_same(const struct kink_selector *a, const struct kink_selector *b)
{
	if (a->sel_addr.ss_family == 0 || b->sel_addr.ss_family == 0)
		return a->sel_addr.ss_family == b->sel_addr.ss_family &&
		    a->sel_plen == b->sel_plen && a->sel_port == b->sel_port;
	return addr_eq(addr_sa(&a->sel_addr), addr_sa(&b->sel_addr)) &&
	    a->sel_plen == b->sel_plen && a->sel_port == b->sel_port;
}

static int
tun_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == 0 || b->ss_family == 0)
		return a->ss_family == b->ss_family;
	return addr_eq(addr_sa(a), addr_sa(b));
}

static int
spd_same(const struct kink_policy *a, const struct kink_policy *b)
{
	return a->pol_reqid == b->pol_reqid && a->pol_mode == b->pol_mode &&
	    a->pol_ulproto == b->pol_ulproto &&
	    sel_same(&a->pol_src, &b->pol_src) &&
	    sel_same(&a->pol_dst, &b->pol_dst) &&
	    tun_same(&a->pol_tun_local, &b->pol_tun_local) &&
	    tun_same(&a->pol_tun_remote, &b->pol_tun_remote);
}

static int
has_proto(const struct kink_policy *p, uint8_t proto)
{
	int i;

	for (i = 0; i < p->pol_nsuites; i++)
		if ((proto == PROTO_IPSEC_ESP && p->pol_suites[i].s_esp.x_present)
		    || (proto == PROTO_IPSEC_AH &&
		    p->pol_suites[i].s_ah.x_present) ||
		    (proto == PROTO_IPCOMP &&
		    p->pol_suites[i].s_ipcomp.x_present))
			return 1;
	return 0;
}

/* The remote outer address: one the configuration names for the peer. */
static int
remote_ok(const struct conf_peer *cp, const struct kink_policy *p,
    const struct sockaddr_storage *re)
{
	int i;

	if (!fam_ok(re->ss_family))
		return 0;
	if (p->pol_tun_remote.ss_family != 0 &&
	    addr_eq(addr_sa(re), addr_sa(&p->pol_tun_remote)))
		return 1;
	for (i = 0; i < cp->p_naddrs; i++)
		if (addr_eq(addr_sa(re), addr_sa(&cp->p_addrs[i])))
			return 1;
	if (p->pol_dst.sel_addr.ss_family != 0 && in_prefix(re, &p->pol_dst))
		return 1;
	return cp->p_naddrs == 0;
}

/* The local outer address: a tunnel endpoint, or inside the local side. */
static int
local_ok(const struct conf_peer *cp, const struct kink_policy *p,
    const struct sockaddr_storage *lo)
{
	if (!fam_ok(lo->ss_family))
		return 0;
	if (p->pol_tun_local.ss_family != 0)
		return addr_eq(addr_sa(lo), addr_sa(&p->pol_tun_local));
	if (cp->p_local.ss_family != 0 &&
	    addr_eq(addr_sa(lo), addr_sa(&cp->p_local)))
		return 1;
	/* Transport mode: the exchange's own address, any of this host's. */
	return 1;
}

/* One SA against one policy; NULL if it fits, else why not. */
static const char *sa_fits(const struct conf_peer *, const struct kink_policy *,
    const struct kink_sa *, int);

/* Is a inside one of range peer cp's "addresses" prefixes? */
static int
in_range(const struct conf_peer *cp, const struct sockaddr_storage *a)
{
	int i;

	for (i = 0; i < cp->p_nranges; i++)
		if (in_prefix(a, &cp->p_ranges[i]))
			return 1;
	return 0;
}

/* The local outer address of a range peer: its "local" when it has one. */
static int
range_local_ok(const struct conf_peer *cp, const struct sockaddr_storage *lo)
{
	if (!fam_ok(lo->ss_family))
		return 0;
	return cp->p_local.ss_family == 0 ||
	    addr_eq(addr_sa(lo), addr_sa(&cp->p_local));
}

/* "me"/"peer" of a template side set to one host address (/32, /128). */
static int
var_fill(struct kink_selector *sel, const struct sockaddr_storage *lo,
    const struct sockaddr_storage *re)
{
	const struct sockaddr_storage *v;

	if (sel->sel_var == 0)
		return 1;
	v = sel->sel_var == SEL_VAR_ME ? lo : re;
	if (!fam_ok(v->ss_family))
		return 0;
	sel->sel_addr = *v;
	addr_set_port(&sel->sel_addr, 0);
	sel->sel_plen = v->ss_family == AF_INET ? 32 : 128;
	sel->sel_var = 0;
	return 1;
}

/*
 * One SA against a range peer's template policy: the policy of the one
 * learned peer its outer addresses make, and nothing wider.
 */
static const char *
range_fits(const struct conf_peer *cp, const struct kink_policy *p,
    const struct kink_sa *sa, int selectors)
{
	const struct sockaddr_storage *lo, *re;
	struct kink_policy q = *p;
	struct conf_peer one;

	if (sa->sa_dir != SA_DIR_IN && sa->sa_dir != SA_DIR_OUT)
		return "no direction";
	lo = sa->sa_dir == SA_DIR_IN ? &sa->sa_dst : &sa->sa_src;
	re = sa->sa_dir == SA_DIR_IN ? &sa->sa_src : &sa->sa_dst;
	if ((selectors || re->ss_family != 0) && !in_range(cp, re))
		return "remote address outside the range peer's addresses";
	if ((selectors || lo->ss_family != 0) && !range_local_ok(cp, lo))
		return "local address not the range peer's local";
	if (selectors) {
		if (!var_fill(&q.pol_src, lo, re) ||
		    !var_fill(&q.pol_dst, lo, re))
			return "no address for the template's me or peer";
		/* No selector would be any traffic: wider than one host. */
		if (sa->sa_sel_src.sel_addr.ss_family == 0 ||
		    sa->sa_sel_dst.sel_addr.ss_family == 0)
			return "selectors missing for a range peer's SA";
	}
	memset(&one, 0, sizeof(one));
	one.p_local = cp->p_local;
	one.p_naddrs = 1;	/* never "any remote" */
	if (fam_ok(re->ss_family)) {
		one.p_addrs[0] = *re;
		addr_set_port(&one.p_addrs[0], 0);
	}
	return sa_fits(&one, &q, sa, selectors);
}

static const char *
peer_fits(const struct conf_peer *cp, const struct kink_policy *p,
    const struct kink_sa *sa, int selectors)
{
	if (cp->p_nranges > 0)
		return range_fits(cp, p, sa, selectors);
	return sa_fits(cp, p, sa, selectors);
}

static const char *
sa_fits(const struct conf_peer *cp, const struct kink_policy *p,
    const struct kink_sa *sa, int selectors)
{
	const struct sockaddr_storage *lo, *re;
	const struct kink_selector *sl, *sr;

	/* A delete by reconciliation names no mode (0): SPI and reqid do. */
	if (sa->sa_mode != p->pol_mode && (selectors || sa->sa_mode != 0))
		return "mode differs from the policy's";
	if (!has_proto(p, sa->sa_proto))
		return "protocol not in the policy's suites";
	if (sa->sa_dir != SA_DIR_IN && sa->sa_dir != SA_DIR_OUT)
		return "no direction";
	lo = sa->sa_dir == SA_DIR_IN ? &sa->sa_dst : &sa->sa_src;
	re = sa->sa_dir == SA_DIR_IN ? &sa->sa_src : &sa->sa_dst;
	/* A delete names only the destination and SPI. */
	if (selectors || re->ss_family != 0)
		if (!remote_ok(cp, p, re))
			return "remote address not configured for the peer";
	if (selectors || lo->ss_family != 0)
		if (!local_ok(cp, p, lo))
			return "local address is not the tunnel endpoint";
	if (!selectors)
		return NULL;
	sl = sa->sa_dir == SA_DIR_OUT ? &sa->sa_sel_src : &sa->sa_sel_dst;
	sr = sa->sa_dir == SA_DIR_OUT ? &sa->sa_sel_dst : &sa->sa_sel_src;
	if ((sl->sel_addr.ss_family != 0 && !sel_within(sl, &p->pol_src)) ||
	    (sr->sel_addr.ss_family != 0 && !sel_within(sr, &p->pol_dst)))
		return "selectors outside the policy's";
	if (p->pol_ulproto != 0 && sa->sa_sel_ulproto != p->pol_ulproto)
		return "upper-layer protocol differs from the policy's";
	return NULL;
}

static int
check_sa(const struct kink_conf *c, const struct kink_sa *sa, int selectors,
    char *why, size_t len)
{
	const char *last = "no configured policy has its reqid";
	int i, j;

	for (i = 0; i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++) {
			const struct kink_policy *p =
			    &c->c_peers[i].p_policies[j];
			const char *r;

			struct kink_sa t;

			if (p->pol_reqid != sa->sa_reqid)
				continue;
			if ((r = peer_fits(&c->c_peers[i], p, sa, selectors)) ==
			    NULL)
				return 1;
			last = r;
			/* A dumped SA may come without a direction: try both. */
			if (selectors || sa->sa_dir != 0)
				continue;
			t = *sa;
			t.sa_dir = SA_DIR_IN;
			if (peer_fits(&c->c_peers[i], p, &t, 0) == NULL)
				return 1;
			t.sa_dir = SA_DIR_OUT;
			if (peer_fits(&c->c_peers[i], p, &t, 0) == NULL)
				return 1;
		}
	snprintf(why, len, "SA spi 0x%08x reqid %u: %s", sa->sa_spi,
	    sa->sa_reqid, last);
	return 0;
}

static int
check_spd(const struct kink_conf *c, const struct kink_policy *q, char *why,
    size_t len)
{
	int i, j;

	for (i = 0; i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++) {
			/* A range peer's template: the entries it makes. */
			struct kink_policy e[CONF_MAX_PEER_ADDRS];
			int k, n = conf_policy_spd(&c->c_peers[i],
			    &c->c_peers[i].p_policies[j], e,
			    CONF_MAX_PEER_ADDRS);

			for (k = 0; k < n; k++)
				if (spd_same(&e[k], q))
					return 1;
		}
	snprintf(why, len, "SPD entry reqid %u is not a configured policy",
	    q->pol_reqid);
	return 0;
}

/* Some policy may use `proto` from `remote` to `local`. */
static int
pair_ok(const struct kink_conf *c, uint8_t proto,
    const struct sockaddr_storage *remote,
    const struct sockaddr_storage *local)
{
	int i, j;

	for (i = 0; i < c->c_npeers; i++)
		for (j = 0; j < c->c_peers[i].p_npolicies; j++) {
			const struct conf_peer *cp = &c->c_peers[i];
			const struct kink_policy *p = &cp->p_policies[j];

			if (!has_proto(p, proto))
				continue;
			if (cp->p_nranges > 0 ? in_range(cp, remote) &&
			    range_local_ok(cp, local) :
			    remote_ok(cp, p, remote) && local_ok(cp, p, local))
				return 1;
		}
	return 0;
}

static int
check_getspi(const struct kink_conf *c, const struct bmsg *m, char *why,
    size_t len)
{
	if (m->bm_proto != PROTO_IPSEC_ESP && m->bm_proto != PROTO_IPSEC_AH &&
	    m->bm_proto != PROTO_IPCOMP) {
		snprintf(why, len, "GETSPI for protocol %u", m->bm_proto);
		return 0;
	}
	if (pair_ok(c, m->bm_proto, &m->bm_src, &m->bm_dst))
		return 1;
	snprintf(why, len, "GETSPI: no configured policy for that pair of "
	    "addresses");
	return 0;
}

/*
 * A DEL without a reqid releases an SPI that GETSPI reserved (an inbound SA
 * whose add the kernel refused is still the larval state the reservation
 * made, which carries no reqid): allowed where the GETSPI was, inbound from
 * a configured remote to a configured local address.
 */
static int
check_del(const struct kink_conf *c, const struct kink_sa *sa, char *why,
    size_t len)
{
	if (sa->sa_reqid == 0 && (sa->sa_proto == PROTO_IPSEC_ESP ||
	    sa->sa_proto == PROTO_IPSEC_AH || sa->sa_proto == PROTO_IPCOMP) &&
	    pair_ok(c, sa->sa_proto, &sa->sa_src, &sa->sa_dst))
		return 1;
	return check_sa(c, sa, 0, why, len);
}

int
bk_check(const struct kink_conf *c, const struct bmsg *m, char *why,
    size_t len)
{
	if (len > 0)
		why[0] = '\0';
	switch (m->bm_type) {
	case BM_DUMP:
	case BM_SUPPORTS:
	case BM_CAPS:
		return 1;
	case BM_GETSPI:
		return check_getspi(c, m, why, len);
	case BM_ADD:
		return check_sa(c, &m->bm_sa, 1, why, len);
	case BM_DEL:
		return check_del(c, &m->bm_sa, why, len);
	case BM_GET:
		return check_sa(c, &m->bm_sa, 0, why, len);
	case BM_DEL_LARVAL:
		if (m->bm_sa.sa_spi != 0) {
			snprintf(why, len, "larval SA with spi 0x%08x",
			    m->bm_sa.sa_spi);
			return 0;
		}
		return check_sa(c, &m->bm_sa, 0, why, len);
	case BM_SPD_ADD:
	case BM_SPD_DEL:
	case BM_SPD_REPAIR:
	case BM_SPD_GET:
		return check_spd(c, &m->bm_pol, why, len);
	case BM_TEST:
	case BM_TEST_EVENT:
		snprintf(why, len, "a test knob, and this is not the test "
		    "build");
		return 0;
	default:
		snprintf(why, len, "type %u is not a request", m->bm_type);
		return 0;
	}
}
