/*
 * IPsec DOI responder: the choice among the initiator's proposals, the
 * REPLY, and the Notify of a refusal (see doi_ipsec.h).  The initiator is
 * in doi_init.c, KEYMAT and SAs in doi_sa.c, IDs in doi_sel.c.
 */
#include <arpa/inet.h>

#include "addr.h"
#include "doi_int.h"

/* --- responder ------------------------------------------------------- */

struct doi_ctx *
doi_resp_new(const struct sockaddr *local, const struct sockaddr *remote)
{
	return doi_ctx_new(ROLE_RESP, local, remote);
}

static const uint8_t try_protos[3] = { PROTO_IPSEC_ESP, PROTO_IPSEC_AH,
    PROTO_IPCOMP };

static const struct kink_xform *
suite_xform(const struct kink_suite *su, int k)
{
	return k == 0 ? &su->s_esp : k == 1 ? &su->s_ah : &su->s_ipcomp;
}

/*
 * One suite against the proposal's protocols (pi[k]: prop index of
 * try_protos[k], -1 = absent): the same set of protocols (an ESP-only
 * proposal never matches a suite with IPComp, nor the reverse), and the
 * earliest matching transform of each into ti[].  1 if it holds.
 */
static int
suite_holds(const struct isakmp_sa *sa, const int *pi,
    const struct kink_suite *su, const struct kink_policy *pol, int *ti)
{
	for (int k = 0; k < 3; k++) {
		const struct kink_xform *x = suite_xform(su, k);
		const struct isakmp_prop *p;

		ti[k] = -1;
		if ((pi[k] >= 0) != (x->x_present != 0))
			return 0;
		if (pi[k] < 0)
			continue;
		p = &sa->sa_prop[pi[k]];
		for (int t = 0; t < p->p_ntrans && ti[k] < 0; t++)
			if (doi_trans_matches(try_protos[k], &p->p_trans[t], x,
			    pol))
				ti[k] = t;
		if (ti[k] < 0)
			return 0;
	}
	return 1;
}

/*
 * Try one proposal (the props [start, end) with the same number) against
 * one policy: the suite giving the initiator's earliest transforms wins.
 */
static int
try_proposal(const struct isakmp_sa *sa, int start, int end,
    const struct kink_policy *pol, struct doi_pick *pk, int *npick,
    int *first_trans)
{
	int best = -1, besti[3] = { 0, 0, 0 };
	int pi[3] = { -1, -1, -1 };

	for (int i = start; i < end; i++) {
		int k;

		for (k = 0; k < 3; k++)
			if (sa->sa_prop[i].p_proto == try_protos[k])
				break;
		if (k == 3 || pi[k] >= 0)
			return 0;	/* a protocol twice */
		pi[k] = i;
	}
	/* IPComp compresses what ESP or AH protects: never taken alone. */
	if (pi[0] < 0 && pi[1] < 0)
		return 0;
	for (int s = 0; s < pol->pol_nsuites && s < POL_MAX_SUITES; s++) {
		int ti[3];

		if (!suite_holds(sa, pi, &pol->pol_suites[s], pol, ti))
			continue;
		if (best < 0 || ti[0] < besti[0] || (ti[0] == besti[0] &&
		    (ti[1] < besti[1] || (ti[1] == besti[1] &&
		    ti[2] < besti[2])))) {
			best = s;
			memcpy(besti, ti, sizeof(besti));
		}
	}
	if (best < 0)
		return 0;
	*npick = 0;
	*first_trans = 1;
	for (int k = 0; k < 3; k++) {
		int ti = besti[k];

		if (pi[k] < 0)
			continue;
		memset(&pk[*npick], 0, sizeof(pk[0]));
		pk[*npick].pk_proto = sa->sa_prop[pi[k]].p_proto;
		pk[*npick].pk_peer_spi = sa->sa_prop[pi[k]].p_spi;
		pk[*npick].pk_t = sa->sa_prop[pi[k]].p_trans[ti];
		if (ti != 0)
			*first_trans = 0;
		(*npick)++;
	}
	return 1;
}

/*
 * Lower the lifetimes to our policy; never raise them (RFC 4430 3.2).
 * 1 if one was lowered.
 */
static int
lower_life(struct isakmp_attrs *a, const struct kink_policy *pol)
{
	int lowered = 0;

	if (pol->pol_life_secs && pol->pol_life_secs < eff_secs(a->a_life_secs)) {
		a->a_life_secs = pol->pol_life_secs;
		lowered = 1;
	}
	/* Adding a byte limit to a proposal without one would read as a
	   raise to racoon2 (notes h.11): lower only what was sent. */
	if (pol->pol_life_kbytes && a->a_life_kbytes &&
	    pol->pol_life_kbytes < a->a_life_kbytes) {
		a->a_life_kbytes = pol->pol_life_kbytes;
		lowered = 1;
	}
	return lowered;
}

/*
 * The first proposal, in the initiator's order, that one of our policies
 * (IDs and PFS matching) accepts: 1 with the picks, the policy and the
 * optimistic flag in c, else 0.
 */
static int
choose_proposal(struct doi_ctx *c, const struct isakmp_msg *m,
    const struct kink_policy *const *pols, int npols)
{
	const struct isakmp_sa *sa = &m->m_sa;
	int found = 0;

	for (int s = 0; s < sa->sa_nprop && !found; ) {
		int e = s;

		while (e < sa->sa_nprop && sa->sa_prop[e].p_num ==
		    sa->sa_prop[s].p_num)
			e++;
		for (int i = 0; i < npols && !found; i++) {
			struct kink_policy pol = *pols[i];
			int ft;

			/* "pfs G optional" also holds a CREATE without KE. */
			if (pol.pol_pfs_optional && m->m_ke.rb_p == NULL)
				pol.pol_pfs_group = 0;
			if (!doi_ids_match(c, m, pols[i]) ||
			    (pol.pol_pfs_group != 0) != (m->m_ke.rb_p != NULL))
				continue;
			if (try_proposal(sa, s, e, &pol, c->c_pick,
			    &c->c_npick, &ft)) {
				found = 1;
				c->c_polp = pols[i];
				c->c_pol = pol;
				c->c_pick_num = sa->sa_prop[s].p_num;
				c->c_optimistic = s == 0 && ft;
			}
		}
		s = e;
	}
	return found;
}

/*
 * NO-PROPOSAL-CHOSEN over IPComp, for the log: the initiator wants it and
 * no policy has it, or every policy wants it and the initiator offers
 * none.  Nothing when IPComp is not why (other algorithms differ).
 */
static void
ipcomp_text(const struct isakmp_sa *sa, const struct kink_policy *const *pols,
    int npols, struct doi_error *err)
{
	int offered = 0, plain = 0, want = 0, without = 0;

	if (err == NULL || err->de_text[0] != '\0')
		return;
	for (int i = 0; i < sa->sa_nprop; i++) {
		int has = 0;

		for (int j = 0; j < sa->sa_nprop; j++)
			if (sa->sa_prop[j].p_num == sa->sa_prop[i].p_num &&
			    sa->sa_prop[j].p_proto == PROTO_IPCOMP)
				has = 1;
		if (has)
			offered = 1;
		else
			plain = 1;
	}
	for (int i = 0; i < npols; i++)
		for (int s = 0; s < pols[i]->pol_nsuites; s++) {
			if (pols[i]->pol_suites[s].s_ipcomp.x_present)
				want = 1;
			else
				without = 1;
		}
	if (offered && !plain && !want)
		snprintf(err->de_text, sizeof(err->de_text), "every proposal "
		    "asks for IPComp and no policy for this peer has "
		    "\"ipcomp\"");
	else if (plain && !offered && !without)
		snprintf(err->de_text, sizeof(err->de_text), "no proposal "
		    "offers IPComp and every policy for this peer wants "
		    "\"ipcomp\"");
}

int
doi_resp_choose(struct doi_ctx *c, const struct kink_policy *const *pols,
    int npols, const uint8_t *qm, size_t len, uint8_t first,
    doi_spi_inuse_fn inuse, void *inuse_arg, struct doi_error *err)
{
	struct isakmp_msg *m;
	int rc, any_pfs = 0, any_ids = 0;

	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_RESP || c->c_chosen ||
	    (npols > 0 && pols == NULL)) {
		set_err(err, ISAKMP_ERR_INTERNAL);
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		set_err(err, ISAKMP_ERR_NOMEM);
		return -1;
	}
	if ((rc = isakmp_parse(qm, len, first, m)) != 0) {
		set_err(err, rc);
		if (rc == ISAKMP_ERR_PAYLOAD_TYPE && err != NULL) {
			err->de_data[0] = m->m_err_type;
			err->de_datalen = 1;
		}
		goto fail;
	}
	keep_notifies(c, m);
	rc = ISAKMP_ERR_MISSING;
	if (!m->m_has_sa || m->m_nonce.rb_p == NULL)
		goto failrc;
	for (int i = 0; i < npols; i++) {
		if (pols[i]->pol_pfs_group != 0)
			any_pfs = 1;
		if (doi_ids_match(c, m, pols[i]))
			any_ids = 1;
	}
	/* KE we cannot do: INVALID-PAYLOAD-TYPE naming KE (RFC 4430 3.2). */
	if (m->m_ke.rb_p != NULL && !any_pfs) {
		set_err(err, ISAKMP_ERR_KE_REFUSED);
		if (err != NULL) {
			err->de_data[0] = ISAKMP_NPTYPE_KE;
			err->de_datalen = 1;
		}
		goto fail;
	}
	/* IDs that fit no policy at all are the IDs' fault, not the SA's. */
	rc = ISAKMP_ERR_ID_POLICY;
	if (m->m_nid == 2 && !any_ids) {
		set_err(err, rc);
		doi_id_policy_text(c, m, pols, npols, err);
		goto fail;
	}
	rc = ISAKMP_ERR_NO_PROPOSAL;
	if (!choose_proposal(c, m, pols, npols)) {
		set_err(err, rc);
		/* Without IDs: the two hosts fit no policy; say which. */
		if (!any_ids && npols > 0)
			doi_id_policy_text(c, m, pols, npols, err);
		ipcomp_text(&m->m_sa, pols, npols, err);
		goto fail;
	}
	if (!doi_ids_narrowed(c, m, c->c_polp, c->c_narrowed,
	    sizeof(c->c_narrowed)))
		c->c_narrowed[0] = '\0';
	/* The SPIs the initiator picked for our outbound SAs. */
	for (int i = 0; i < c->c_npick; i++) {
		struct doi_pick *pk = &c->c_pick[i];

		if (inuse != NULL && inuse(inuse_arg, pk->pk_proto,
		    pk->pk_peer_spi)) {
			set_err(err, ISAKMP_ERR_SPI_IN_USE);
			if (err != NULL) {
				err->de_proto = pk->pk_proto;
				err->de_spi = pk->pk_peer_spi;
			}
			goto fail;
		}
		pk->pk_lowered = lower_life(&pk->pk_t.t_attrs, &c->c_pol);
	}
	if (m->m_ke.rb_p != NULL) {
		uint16_t g = c->c_pol.pol_pfs_group;

		rc = ISAKMP_ERR_KE_MISMATCH;
		if (m->m_ke.rb_len != dh_pub_len(g) ||
		    (c->c_dh = dh_new(g)) == NULL)
			goto failrc;
		c->c_gxylen = dh_secret_len(g);
		if (dh_derive(c->c_dh, m->m_ke.rb_p, m->m_ke.rb_len, c->c_gxy,
		    c->c_gxylen) != 0)
			goto failrc;
	}
	memcpy(c->c_ni, m->m_nonce.rb_p, m->m_nonce.rb_len);
	c->c_nilen = m->m_nonce.rb_len;
	c->c_nid = m->m_nid;
	memcpy(c->c_id, m->m_id, sizeof(c->c_id));
	c->c_chosen = 1;
	free(m);
	return 0;
failrc:
	set_err(err, rc);
fail:
	/* No state: forget whatever the failed attempt picked. */
	dh_free(c->c_dh);
	c->c_dh = NULL;
	c->c_npick = 0;
	c->c_polp = NULL;
	c->c_gxylen = 0;
	explicit_bzero(c->c_gxy, sizeof(c->c_gxy));
	free(m);
	return -1;
}

const char *
doi_resp_narrowed(const struct doi_ctx *c)
{
	if (c == NULL || !c->c_chosen || c->c_narrowed[0] == '\0')
		return NULL;
	return c->c_narrowed;
}

unsigned
doi_resp_protos(const struct doi_ctx *c)
{
	unsigned mask = 0;

	if (c == NULL || !c->c_chosen)
		return 0;
	for (int i = 0; i < c->c_npick; i++)
		mask |= DOI_PROTO_BIT(c->c_pick[i].pk_proto);
	return mask;
}

/*
 * RESPONDER-LIFETIME (RFC 2407 4.6.3.1) for each protocol whose lifetime
 * we lowered: its Protocol ID, our inbound SPI, the lifetimes we chose.
 * life[i] holds the SPI and the data; m's Notify views them.
 */
static int
add_life_notifies(const struct doi_ctx *c, struct isakmp_msg *m,
    struct buf *life)
{
	for (int i = 0; i < c->c_npick && i < DOI_MAX_SA; i++) {
		const struct doi_pick *pk = &c->c_pick[i];
		struct isakmp_notify *n;

		/* The IPComp SA has its ESP/AH SA's lifetimes anyway. */
		if (!pk->pk_lowered || pk->pk_proto == PROTO_IPCOMP)
			continue;
		if (m->m_nnotify >= ISAKMP_MAX_NOTIFY ||
		    buf_put_u32(&life[i], doi_in_spi(c, pk->pk_proto)) < 0 ||
		    isakmp_life_build(eff_secs(pk->pk_t.t_attrs.a_life_secs),
		    pk->pk_t.t_attrs.a_life_kbytes, &life[i]) != 0)
			return -1;
		n = &m->m_notify[m->m_nnotify++];
		n->n_doi = IPSEC_DOI;
		n->n_proto = pk->pk_proto;
		n->n_type = IPSEC_NTYPE_RESPONDER_LIFETIME;
		n->n_spi = rbuf_make(life[i].b_data, 4);
		n->n_data = rbuf_make(life[i].b_data + 4, life[i].b_len - 4);
	}
	return 0;
}

int
doi_resp_finish(struct doi_ctx *c, const struct doi_spis *in,
    doi_prf_fn prf, void *arg, struct buf *qm, uint8_t *first,
    struct doi_result *r, struct doi_error *err)
{
	struct isakmp_msg *m = NULL;
	uint8_t ke[DH_MAX_LEN];
	struct buf life[DOI_MAX_SA];
	int rc = ISAKMP_ERR_INTERNAL, add_nr;
	size_t start = qm->b_len;

	for (int i = 0; i < DOI_MAX_SA; i++)
		buf_init(&life[i], 0);

	memset(r, 0, sizeof(*r));
	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_RESP || !c->c_chosen || in == NULL)
		goto fail;
	c->c_in = *in;
	for (int i = 0; i < c->c_npick; i++)
		if (doi_in_spi(c, c->c_pick[i].pk_proto) < 256 ||
		    (c->c_pick[i].pk_proto == PROTO_IPCOMP &&
		    doi_in_spi(c, PROTO_IPCOMP) > 0xffff))
			goto fail;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		rc = ISAKMP_ERR_NOMEM;
		goto fail;
	}
	/*
	 * Nr only off the optimistic path (and with KE, which is 3-way
	 * anyway): racoon2 initiators recompute inbound keys only when the
	 * answer is not optimistic (notes c.1, h.8).
	 */
	add_nr = !c->c_optimistic || c->c_dh != NULL;
	if (add_nr) {
		if (!c->c_nonce_fixed) {
			c->c_nrlen = NONCE_LEN;
			random_bytes(c->c_nr, c->c_nrlen);
		}
		m->m_nonce = rbuf_make(c->c_nr, c->c_nrlen);
	} else
		c->c_nrlen = 0;
	m->m_has_sa = 1;
	m->m_sa.sa_doi = IPSEC_DOI;
	m->m_sa.sa_sit = IPSEC_SIT_IDENTITY_ONLY;
	m->m_sa.sa_nprop = c->c_npick;
	for (int i = 0; i < c->c_npick; i++) {
		struct isakmp_prop *p = &m->m_sa.sa_prop[i];

		p->p_num = c->c_pick_num;
		p->p_proto = c->c_pick[i].pk_proto;
		/* Our CPI in 2 octets (RFC 2407 4.4.1) whatever they sent. */
		p->p_spisize = (uint8_t)isakmp_spi_size(p->p_proto);
		p->p_spi = doi_in_spi(c, p->p_proto);
		p->p_ntrans = 1;
		p->p_trans[0] = c->c_pick[i].pk_t;
	}
	if (c->c_dh != NULL) {
		size_t kl = dh_pub_len(dh_group(c->c_dh));

		if (dh_public(c->c_dh, ke, kl) != 0)
			goto fail;
		m->m_ke = rbuf_make(ke, kl);
	}
	if (c->c_nid == 2) {
		m->m_nid = 2;
		m->m_id[0] = c->c_id[0];
		m->m_id[1] = c->c_id[1];
	}
	if (c->c_life_notify && add_life_notifies(c, m, life) != 0)
		goto fail;
	if ((rc = isakmp_build(m, qm, first)) != 0)
		goto fail;
	rc = ISAKMP_ERR_INTERNAL;
	if (doi_make_sas(c, c->c_pick, c->c_npick, prf, arg, r, 1) != 0)
		goto fail;
	r->dr_optimistic = (uint8_t)c->c_optimistic;
	r->dr_pfs = c->c_dh != NULL;
	/* RFC 4430 3.2: ACK when not optimistic, with Nr, or with KE. */
	r->dr_ackreq = !c->c_optimistic || add_nr || r->dr_pfs;
	r->dr_policy = c->c_polp;
	r->dr_resp_life = m->m_nnotify > 0;
	for (int i = 0; i < DOI_MAX_SA; i++)
		buf_free(&life[i]);
	free(m);
	return 0;
fail:
	set_err(err, rc);
	doi_result_clear(r);
	if (qm->b_len > start)
		qm->b_len = start;
	for (int i = 0; i < DOI_MAX_SA; i++)
		buf_free(&life[i]);
	free(m);
	return -1;
}

int
doi_notify_build(const struct doi_error *e, struct buf *qm, uint8_t *first)
{
	struct isakmp_msg *m;
	uint8_t spi[4];
	int rc;

	if (e == NULL || e->de_notify == 0 || e->de_datalen > sizeof(e->de_data))
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->m_nnotify = 1;
	m->m_notify[0].n_doi = IPSEC_DOI;
	m->m_notify[0].n_proto = e->de_proto;
	m->m_notify[0].n_type = e->de_notify;
	if (e->de_proto != 0 && e->de_spi != 0) {
		put_be32(spi, e->de_spi);
		m->m_notify[0].n_spi = rbuf_make(spi, 4);
	}
	m->m_notify[0].n_data = rbuf_make(e->de_data, e->de_datalen);
	rc = isakmp_build(m, qm, first);
	free(m);
	return rc == 0 ? 0 : -1;
}
