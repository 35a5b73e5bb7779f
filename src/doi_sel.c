/*
 * IPsec DOI selectors and ID payloads (RFC 2407 4.6.2): policy selectors
 * to IDci/IDcr and back, the responder's match of IDs against a policy,
 * and the log text when none fits.
 */
#include <arpa/inet.h>

#include "addr.h"
#include "doi_int.h"

/* A host selector (/32 or /128) for an address. */
void
doi_host_sel(struct kink_selector *sel, const struct sockaddr_storage *ss)
{
	memset(sel, 0, sizeof(*sel));
	memcpy(&sel->sel_addr, ss, addr_len(addr_sa(ss)));
	addr_set_port(&sel->sel_addr, 0);
	sel->sel_plen = ss->ss_family == AF_INET6 ? 128 : 32;
}

int
doi_sel_set(const struct kink_selector *s)
{
	return s->sel_addr.ss_family == AF_INET ||
	    s->sel_addr.ss_family == AF_INET6;
}

/* "192.0.2.0/24 port 80" (no port when any); into out[len]. */
void
doi_sel_str(const struct kink_selector *s, char *out, size_t len)
{
	char a[ADDR_STRLEN];
	size_t n;

	addr_ntop(addr_sa(&s->sel_addr), a, sizeof(a));
	n = (size_t)snprintf(out, len, "%s/%u", a, s->sel_plen);
	if (s->sel_port != 0 && n < len)
		snprintf(out + n, len - n, " port %u", s->sel_port);
}

/* Selector -> ID payload (ADDR for a host, SUBNET otherwise). */
void
doi_sel_to_id(const struct kink_selector *s, uint8_t ulproto,
    struct isakmp_id *id)
{
	size_t alen;
	const uint8_t *a = addr_bytes(addr_sa(&s->sel_addr), &alen);
	int v6 = alen == 16;

	memset(id, 0, sizeof(*id));
	id->id_alen = (uint8_t)alen;
	id->id_proto = ulproto;
	id->id_port = ulproto ? s->sel_port : 0;
	memcpy(id->id_addr, a, alen);
	if (s->sel_plen == alen * 8) {
		id->id_type = v6 ? IPSEC_ID_IPV6_ADDR : IPSEC_ID_IPV4_ADDR;
		return;
	}
	id->id_type = v6 ? IPSEC_ID_IPV6_ADDR_SUBNET : IPSEC_ID_IPV4_ADDR_SUBNET;
	for (int i = 0; i < s->sel_plen; i++)
		id->id_addr2[i / 8] |= 0x80 >> (i % 8);
	for (size_t i = 0; i < alen; i++)
		id->id_addr[i] &= id->id_addr2[i];
}

/* ID payload -> selector; -1 if a range is not a prefix. */
int
doi_id_to_sel(const struct isakmp_id *id, struct kink_selector *s)
{
	int plen = id->id_alen * 8, i;

	memset(s, 0, sizeof(*s));
	if (id->id_alen == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->sel_addr;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, id->id_addr, 16);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&s->sel_addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, id->id_addr, 4);
	}
	switch (id->id_type) {
	case IPSEC_ID_IPV4_ADDR_SUBNET:
	case IPSEC_ID_IPV6_ADDR_SUBNET:
		for (plen = 0; plen < id->id_alen * 8 &&
		    (id->id_addr2[plen / 8] & (0x80 >> (plen % 8))); plen++)
			;
		break;
	case IPSEC_ID_IPV4_ADDR_RANGE:
	case IPSEC_ID_IPV6_ADDR_RANGE:
		/* Only a range that is exactly a prefix maps to one. */
		for (plen = id->id_alen * 8; plen > 0; plen--) {
			int b = plen - 1;

			if ((id->id_addr[b / 8] & (0x80 >> (b % 8))) != 0 ||
			    (id->id_addr2[b / 8] & (0x80 >> (b % 8))) == 0)
				break;
		}
		for (i = 0; i < plen; i++)
			if (((id->id_addr[i / 8] ^ id->id_addr2[i / 8]) &
			    (0x80 >> (i % 8))) != 0)
				return -1;
		break;
	}
	s->sel_plen = (uint8_t)plen;
	s->sel_port = id->id_port;
	return 0;
}

int
doi_sel_eq(const struct kink_selector *a, const struct kink_selector *b)
{
	size_t la, lb;
	const uint8_t *pa = addr_bytes(addr_sa(&a->sel_addr), &la);
	const uint8_t *pb = addr_bytes(addr_sa(&b->sel_addr), &lb);
	int full = a->sel_plen / 8, rem = a->sel_plen % 8;

	if (a->sel_addr.ss_family != b->sel_addr.ss_family ||
	    a->sel_plen != b->sel_plen || a->sel_port != b->sel_port)
		return 0;
	if (memcmp(pa, pb, full) != 0)
		return 0;
	return rem == 0 ||
	    ((pa[full] ^ pb[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

/* An ID's addresses as the inclusive range [lo, hi] (RFC 2407 4.6.2). */
static void
id_range(const struct isakmp_id *id, uint8_t *lo, uint8_t *hi)
{
	memcpy(lo, id->id_addr, id->id_alen);
	memcpy(hi, id->id_addr, id->id_alen);
	switch (id->id_type) {
	case IPSEC_ID_IPV4_ADDR_SUBNET:
	case IPSEC_ID_IPV6_ADDR_SUBNET:
		for (int i = 0; i < id->id_alen; i++) {
			lo[i] &= id->id_addr2[i];
			hi[i] = lo[i] | (uint8_t)~id->id_addr2[i];
		}
		break;
	case IPSEC_ID_IPV4_ADDR_RANGE:
	case IPSEC_ID_IPV6_ADDR_RANGE:
		memcpy(hi, id->id_addr2, id->id_alen);
		break;
	}
}

/*
 * One side of the proposal inside one side of a policy: same family,
 * every address of the ID within the policy's prefix, and the policy's
 * port (if any) the ID's.
 */
static int
id_inside(const struct isakmp_id *id, const struct kink_selector *s)
{
	struct isakmp_id ps;
	uint8_t ilo[16], ihi[16], plo[16], phi[16];

	doi_sel_to_id(s, 0, &ps);
	if (ps.id_alen != id->id_alen)
		return 0;
	id_range(id, ilo, ihi);
	id_range(&ps, plo, phi);
	if (memcmp(plo, ilo, id->id_alen) > 0 ||
	    memcmp(ihi, phi, id->id_alen) > 0)
		return 0;
	return s->sel_port == 0 || s->sel_port == id->id_port;
}

/*
 * What the initiator proposes, as IDci (its side) and IDcr: the IDs it
 * sent, or, without IDs, the two hosts the CREATE travelled between, all
 * protocols (the initiator leaves them out exactly then, doi_init_new,
 * and racoon2 never sends any).
 */
static void
proposed_ids(const struct doi_ctx *c, const struct isakmp_msg *m,
    struct isakmp_id *id)
{
	struct kink_selector s;

	if (m->m_nid == 2) {
		id[0] = m->m_id[0];
		id[1] = m->m_id[1];
		return;
	}
	doi_host_sel(&s, &c->c_remote);
	doi_sel_to_id(&s, 0, &id[0]);
	doi_host_sel(&s, &c->c_local);
	doi_sel_to_id(&s, 0, &id[1]);
}

/*
 * The proposal against a policy, seen from the responder, the way Quick
 * Mode responders narrow: IDs that fall inside the policy (addresses,
 * protocol, ports) qualify and are installed as proposed; wider ones do
 * not.  A policy without selectors stands for the two hosts, all
 * protocols.  Without IDs the proposal is the two hosts, all protocols,
 * so a policy for other hosts (an IPv4 and an IPv6 host-to-host policy
 * of one peer) or a narrower one (one protocol or port) does not
 * qualify.  The kernel holds prefixes only: a range that is not one
 * never qualifies.
 */
int
doi_ids_match(const struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *pol)
{
	struct kink_selector si, sr, hl, hr;
	const struct kink_selector *ps = &pol->pol_src, *pd = &pol->pol_dst;
	struct isakmp_id id[2];

	proposed_ids(c, m, id);
	if (doi_id_to_sel(&id[0], &si) < 0 || doi_id_to_sel(&id[1], &sr) < 0)
		return 0;
	/* One upper-layer protocol per kernel selector. */
	if (id[0].id_proto != id[1].id_proto ||
	    (pol->pol_ulproto != 0 && pol->pol_ulproto != id[0].id_proto))
		return 0;
	if (!doi_sel_set(ps) || !doi_sel_set(pd)) {
		doi_host_sel(&hl, &c->c_local);
		doi_host_sel(&hr, &c->c_remote);
		ps = &hl;
		pd = &hr;
	}
	/* IDci is the initiator's side: our remote selector. */
	return id_inside(&id[0], pd) && id_inside(&id[1], ps);
}

/* "from 10.0.0.0/24 to 10.0.1.1/32 port 53 proto 17" of two IDs. */
static void
ids_str(const struct isakmp_id *id, char *out, size_t len)
{
	struct kink_selector s;
	char a[2][2 * ADDR_STRLEN + 8], l[ADDR_STRLEN], h[ADDR_STRLEN];
	uint8_t lo[16], hi[16];

	for (int k = 0; k < 2; k++) {
		int af = id[k].id_alen == 16 ? AF_INET6 : AF_INET;

		if (doi_id_to_sel(&id[k], &s) == 0) {
			doi_sel_str(&s, a[k], sizeof(a[k]));
			continue;
		}
		/* A range that is not a prefix: shown as the range. */
		id_range(&id[k], lo, hi);
		inet_ntop(af, lo, l, sizeof(l));
		inet_ntop(af, hi, h, sizeof(h));
		snprintf(a[k], sizeof(a[k]), "%s-%s", l, h);
	}
	snprintf(out, len, "from %s to %s proto %u", a[0], a[1],
	    id[0].id_proto);
}

/*
 * Why no policy holds the proposal, for the admin reading the log: the
 * selectors the initiator proposed (from its side; without IDs the two
 * hosts, all protocols) and the configured policy that shares the most
 * of them, as that is most often the one meant.
 */
void
doi_id_policy_text(const struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *const *pols, int npols, struct doi_error *err)
{
	struct isakmp_id id[2];
	struct kink_selector s;
	char prop[320], pa[64], pb[64];
	int best = -1, bscore = -1;

	if (err == NULL)
		return;
	proposed_ids(c, m, id);
	ids_str(id, prop, sizeof(prop));
	if (doi_id_to_sel(&id[0], &s) < 0 || doi_id_to_sel(&id[1], &s) < 0) {
		snprintf(err->de_text, sizeof(err->de_text), "proposed %s: "
		    "a range that is not a prefix, which no kernel selector "
		    "holds", prop);
		return;
	}
	for (int i = 0; i < npols; i++) {
		int sc = id_inside(&id[0], &pols[i]->pol_dst) +
		    id_inside(&id[1], &pols[i]->pol_src) +
		    (id[0].id_proto == pols[i]->pol_ulproto);

		if (doi_sel_set(&pols[i]->pol_src) &&
		    doi_sel_set(&pols[i]->pol_dst) && sc > bscore) {
			best = i;
			bscore = sc;
		}
	}
	if (best < 0) {
		snprintf(err->de_text, sizeof(err->de_text), "proposed %s%s; "
		    "no policy with selectors", m->m_nid ? "" : "(no IDs) ",
		    prop);
		return;
	}
	/* The policy's from/to are our side first: swap to match. */
	doi_sel_str(&pols[best]->pol_dst, pa, sizeof(pa));
	doi_sel_str(&pols[best]->pol_src, pb, sizeof(pb));
	/* Bounded so that the policy's side always fits de_text. */
	snprintf(err->de_text, sizeof(err->de_text), "proposed %s%.250s; "
	    "nearest policy %s: from %s to %s proto %u",
	    m->m_nid ? "" : "(no IDs) ", prop, pols[best]->pol_name, pa, pb,
	    pols[best]->pol_ulproto);
}

/*
 * After the choice: 1 if the proposal is narrower than the policy that
 * holds it (the SAs get the proposal's selectors, not the policy's), with
 * both in `out` for the log; else 0.
 */
int
doi_ids_narrowed(const struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *pol, char *out, size_t len)
{
	struct kink_selector si, sr, hl, hr;
	const struct kink_selector *ps = &pol->pol_src, *pd = &pol->pol_dst;
	struct isakmp_id id[2];
	char prop[320], pa[64], pb[64];

	proposed_ids(c, m, id);
	if (doi_id_to_sel(&id[0], &si) < 0 || doi_id_to_sel(&id[1], &sr) < 0)
		return 0;
	if (!doi_sel_set(ps) || !doi_sel_set(pd)) {
		doi_host_sel(&hl, &c->c_local);
		doi_host_sel(&hr, &c->c_remote);
		ps = &hl;
		pd = &hr;
	}
	if (doi_sel_eq(&si, pd) && doi_sel_eq(&sr, ps) &&
	    id[0].id_proto == pol->pol_ulproto)
		return 0;
	ids_str(id, prop, sizeof(prop));
	doi_sel_str(pd, pa, sizeof(pa));
	doi_sel_str(ps, pb, sizeof(pb));
	snprintf(out, len, "proposed %s inside policy %s: from %s to %s "
	    "proto %u", prop, pol->pol_name, pa, pb, pol->pol_ulproto);
	return 1;
}
