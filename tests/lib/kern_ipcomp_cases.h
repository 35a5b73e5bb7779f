/*
 * The IPComp SAs and policies behind the golden kernel messages
 * tests/unit/data/kern/<format><4|6>-*ipcomp*.hex and *-getcpi.hex, on
 * top of kern_cases.h (same hosts, seq and pid).  One IPComp SA per
 * direction, bundled with the ESP SAs of kern_cases.h: same addresses,
 * mode, reqid and lifetimes; the CPI in sa_spi, deflate in sa_enc, no key.
 */
#ifndef KINK_KERN_IPCOMP_CASES_H
#define KINK_KERN_IPCOMP_CASES_H

#include "kern_cases.h"

#define KC_CPI_IN	0x4321U		/* ours: B->A */
#define KC_CPI_OUT	0x0567U		/* the peer's: A->B */

struct kc_ipcomp {
	struct kc		 base;
	struct kink_sa		 in, out;
	struct kink_policy	 transport;	/* ESP + IPComp, ICMP, A<->B */
	struct kink_policy	 tunnel;	/* ESP + AH + IPComp, subnets */
	/* ESP first, ESP + IPComp second: the same template as transport */
	struct kink_policy	 later;
};

static inline void
kc_ipcomp_sa(struct kink_sa *sa, const struct kink_sa *esp, uint32_t cpi)
{
	*sa = *esp;
	sa->sa_proto = PROTO_IPCOMP;
	sa->sa_spi = cpi;
	sa->sa_enc = IPCOMP_DEFLATE;
	sa->sa_auth = 0;
	memset(sa->sa_enckey, 0, sizeof(sa->sa_enckey));
	memset(sa->sa_authkey, 0, sizeof(sa->sa_authkey));
	sa->sa_enckey_len = sa->sa_authkey_len = 0;
}

static inline void
kc_ipcomp_init(struct kc_ipcomp *c, int fam)
{
	kc_init(&c->base, fam);
	kc_ipcomp_sa(&c->in, &c->base.update, KC_CPI_IN);
	kc_ipcomp_sa(&c->out, &c->base.add, KC_CPI_OUT);
	c->transport = c->base.transport;
	c->transport.pol_suites[0].s_ipcomp.x_present = 1;
	c->transport.pol_suites[0].s_ipcomp.x_id = IPCOMP_DEFLATE;
	c->tunnel = c->base.tunnel;
	c->tunnel.pol_suites[0].s_ipcomp = c->transport.pol_suites[0].s_ipcomp;
	c->later = c->base.transport;
	c->later.pol_suites[1] = c->transport.pol_suites[0];
	c->later.pol_nsuites = 2;
}

/*
 * Every IPComp request for one family.  kreq_sa is the reqid the driver
 * gives an IPComp SA: kinkd's under XFRM, 0 under PF_KEY (Linux keeps no
 * reqid for the optional IPComp request of a policy).
 */
static inline int
kc_ipcomp_cases(const struct kc_ipcomp *c, int pfkey, struct kc_case *out,
    int dir_out, int dir_in)
{
	uint32_t big = pfkey ? KC_STANDIN : 0x12345678;
	uint32_t kreq_sa = pfkey ? 0 : 0x1234;
	int n = 0;

#define KC(nm, ...) do {						\
	struct kreq _r = { .kr_seq = KC_SEQ, __VA_ARGS__ };		\
	out[n].name = (nm);						\
	out[n++].rq = _r;						\
} while (0)
	KC("getcpi", .kr_op = KREQ_GETSPI, .kr_src = &c->base.b,
	    .kr_dst = &c->base.a, .kr_proto = PROTO_IPCOMP,
	    .kr_reqid = KC_LARVAL);
	KC("update-ipcomp", .kr_op = KREQ_UPDATE, .kr_sa = &c->in,
	    .kr_reqid = kreq_sa);
	KC("add-ipcomp", .kr_op = KREQ_ADD, .kr_sa = &c->out,
	    .kr_reqid = kreq_sa);
	KC("del-ipcomp", .kr_op = KREQ_DELETE, .kr_sa = &c->out);
	KC("get-ipcomp", .kr_op = KREQ_GET, .kr_sa = &c->in);
	KC("spdadd-ipcomp-out", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dir_out,
	    .kr_reqid = 0x1234);
	KC("spdadd-ipcomp-in", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->transport, .kr_dir = (uint8_t)dir_in,
	    .kr_reqid = 0x1234);
	KC("spdadd-ipcomp-tunnel-out", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->tunnel, .kr_dir = (uint8_t)dir_out,
	    .kr_reqid = big);
	KC("spdadd-ipcomp-later-out", .kr_op = KREQ_SPD_ADD,
	    .kr_pol = &c->later, .kr_dir = (uint8_t)dir_out,
	    .kr_reqid = 0x1234);
#undef KC
	return n;
}

#define KC_IPCOMP_NCASES	9

#endif
