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

/*
 * IDs (if any) against a policy, seen from the responder.  No IDs means
 * the SA is between the two hosts the CREATE travelled between, all
 * protocols: the initiator leaves them out exactly then (doi_init_new).
 * So without IDs only a policy without selectors or with exactly those
 * host selectors qualifies; otherwise a peer with an IPv4 and an IPv6
 * host-to-host policy would get the first one for either CREATE.
 */
int
doi_ids_match(const struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *pol)
{
	struct kink_selector si, sr;

	if (m->m_nid == 0) {
		if (!doi_sel_set(&pol->pol_src) || !doi_sel_set(&pol->pol_dst))
			return 1;
		doi_host_sel(&si, &c->c_remote);
		doi_host_sel(&sr, &c->c_local);
		return pol->pol_ulproto == 0 && doi_sel_eq(&si, &pol->pol_dst) &&
		    doi_sel_eq(&sr, &pol->pol_src);
	}
	if (!doi_sel_set(&pol->pol_src) || !doi_sel_set(&pol->pol_dst))
		return 0;
	if (doi_id_to_sel(&m->m_id[0], &si) < 0 || doi_id_to_sel(&m->m_id[1], &sr) < 0)
		return 0;
	if (m->m_id[0].id_proto != m->m_id[1].id_proto ||
	    m->m_id[0].id_proto != pol->pol_ulproto)
		return 0;
	/* IDci is the initiator's side: our remote selector. */
	return doi_sel_eq(&si, &pol->pol_dst) && doi_sel_eq(&sr, &pol->pol_src);
}

/*
 * Why ID_POLICY, for the admin reading the log: the selectors the
 * initiator proposed (from its side) and the configured policy that
 * shares the most of them, as that is most often the one meant.
 */
void
doi_id_policy_text(const struct isakmp_msg *m,
    const struct kink_policy *const *pols, int npols, struct doi_error *err)
{
	struct kink_selector si, sr;
	char a[64], b[64], pa[64], pb[64];
	int best = -1, bscore = -1;

	if (err == NULL)
		return;
	if (doi_id_to_sel(&m->m_id[0], &si) < 0 || doi_id_to_sel(&m->m_id[1], &sr) < 0) {
		snprintf(err->de_text, sizeof(err->de_text),
		    "proposed IDs are ranges no policy can hold");
		return;
	}
	doi_sel_str(&si, a, sizeof(a));
	doi_sel_str(&sr, b, sizeof(b));
	for (int i = 0; i < npols; i++) {
		int sc = doi_sel_eq(&si, &pols[i]->pol_dst) +
		    doi_sel_eq(&sr, &pols[i]->pol_src) +
		    (m->m_id[0].id_proto == pols[i]->pol_ulproto);

		if (doi_sel_set(&pols[i]->pol_src) && doi_sel_set(&pols[i]->pol_dst) &&
		    sc > bscore) {
			best = i;
			bscore = sc;
		}
	}
	if (best < 0) {
		snprintf(err->de_text, sizeof(err->de_text), "proposed from %s "
		    "to %s proto %u; no policy with selectors", a, b,
		    m->m_id[0].id_proto);
		return;
	}
	/* The policy's from/to are our side first: swap to match. */
	doi_sel_str(&pols[best]->pol_dst, pa, sizeof(pa));
	doi_sel_str(&pols[best]->pol_src, pb, sizeof(pb));
	snprintf(err->de_text, sizeof(err->de_text), "proposed from %s to %s "
	    "proto %u; nearest policy %s: from %s to %s proto %u", a, b,
	    m->m_id[0].id_proto, pols[best]->pol_name, pa, pb,
	    pols[best]->pol_ulproto);
}
