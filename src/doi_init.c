/*
 * IPsec DOI initiator: the CREATE's proposal from a policy, the
 * optimistic inbound SAs, the check of the REPLY (see doi_ipsec.h).
 */
#include <arpa/inet.h>

#include "addr.h"
#include "doi_int.h"

unsigned
doi_policy_protos(const struct kink_policy *pol)
{
	unsigned m = 0;

	for (int i = 0; i < pol->pol_nsuites && i < POL_MAX_SUITES; i++) {
		if (pol->pol_suites[i].s_esp.x_present)
			m |= DOI_PROTO_BIT(PROTO_IPSEC_ESP);
		if (pol->pol_suites[i].s_ah.x_present)
			m |= DOI_PROTO_BIT(PROTO_IPSEC_AH);
		if (pol->pol_suites[i].s_ipcomp.x_present)
			m |= DOI_PROTO_BIT(PROTO_IPCOMP);
	}
	return m;
}

static void
xform_attrs(const struct kink_policy *pol, uint8_t proto,
    const struct kink_xform *x, struct isakmp_trans *t)
{
	memset(t, 0, sizeof(*t));
	t->t_id = x->x_id;
	t->t_attrs.a_life_secs = pol->pol_life_secs;
	t->t_attrs.a_life_kbytes = pol->pol_life_kbytes;
	t->t_attrs.a_mode = pol->pol_mode;
	t->t_attrs.a_group = pol->pol_pfs_group;
	if (proto == PROTO_IPSEC_ESP) {
		t->t_attrs.a_keylen = x->x_keylen;
		t->t_attrs.a_auth = x->x_auth;
	} else if (proto == PROTO_IPCOMP)
		;	/* life, mode and group as its ESP/AH (racoon's shape) */
	else	/* RFC 2407 4.5: AH MUST carry the Auth Algorithm too. */
		t->t_attrs.a_auth = x->x_auth ? x->x_auth : doi_ah_auth(x->x_id);
}

static int
suite_kind(const struct kink_suite *s)
{
	return (s->s_esp.x_present ? 1 : 0) | (s->s_ah.x_present ? 2 : 0) |
	    (s->s_ipcomp.x_present ? 4 : 0);
}

/*
 * Proposals from the policy's suites in order, so the first suite is the
 * optimistic proposal.  Consecutive single-protocol suites share one
 * Proposal as several Transforms (racoon2's shape, notes h.9); an AH+ESP
 * suite, or one with IPComp, is a bundle of its own: a Proposal per
 * protocol, all with the same number, IPCOMP last with its CPI in a
 * 2-octet SPI field (RFC 2407 4.4.1).
 */
static int
build_offer(struct doi_ctx *c)
{
	const struct kink_policy *pol = &c->c_pol;
	struct isakmp_sa *sa = &c->c_offer;
	int num = 0;

	memset(sa, 0, sizeof(*sa));
	sa->sa_doi = IPSEC_DOI;
	sa->sa_sit = IPSEC_SIT_IDENTITY_ONLY;
	for (int i = 0; i < pol->pol_nsuites; i++) {
		const struct kink_suite *s = &pol->pol_suites[i];
		int kind = suite_kind(s);
		struct isakmp_prop *p = NULL;

		if (kind == 0)
			return -1;
		if (kind != 3 && kind < 4 && i > 0 && suite_kind(&pol->pol_suites[i - 1]) ==
		    kind && sa->sa_prop[sa->sa_nprop - 1].p_ntrans <
		    ISAKMP_MAX_TRANS)
			p = &sa->sa_prop[sa->sa_nprop - 1];
		if (p != NULL) {
			const struct kink_xform *x = kind == 1 ? &s->s_esp :
			    &s->s_ah;

			xform_attrs(pol, p->p_proto, x, &p->p_trans[p->p_ntrans]);
			p->p_trans[p->p_ntrans].t_num = (uint8_t)(p->p_ntrans + 1);
			p->p_ntrans++;
			continue;
		}
		num++;
		for (int k = 0; k < 3; k++) {
			static const uint8_t protos[] = { PROTO_IPSEC_ESP,
			    PROTO_IPSEC_AH, PROTO_IPCOMP };
			uint8_t proto = protos[k];
			const struct kink_xform *x = k == 0 ? &s->s_esp :
			    k == 1 ? &s->s_ah : &s->s_ipcomp;

			if (!x->x_present)
				continue;
			if (sa->sa_nprop >= ISAKMP_MAX_PROPS)
				return -1;
			p = &sa->sa_prop[sa->sa_nprop++];
			p->p_num = (uint8_t)num;
			p->p_proto = proto;
			p->p_spisize = (uint8_t)isakmp_spi_size(proto);
			p->p_spi = doi_in_spi(c, proto);
			p->p_ntrans = 1;
			xform_attrs(pol, proto, x, &p->p_trans[0]);
			p->p_trans[0].t_num = 1;
		}
	}
	return sa->sa_nprop > 0 ? 0 : -1;
}

struct doi_ctx *
doi_init_new(const struct kink_policy *pol, const struct sockaddr *local,
    const struct sockaddr *remote, const struct doi_spis *in)
{
	struct doi_ctx *c;
	unsigned need;

	if (pol == NULL || in == NULL || pol->pol_nsuites < 1 ||
	    pol->pol_nsuites > POL_MAX_SUITES)
		return NULL;
	if ((c = doi_ctx_new(ROLE_INIT, local, remote)) == NULL)
		return NULL;
	c->c_pol = *pol;
	c->c_in = *in;
	need = doi_policy_protos(pol);
	if (((need & DOI_PROTO_BIT(PROTO_IPSEC_ESP)) && in->ds_esp < 256) ||
	    ((need & DOI_PROTO_BIT(PROTO_IPSEC_AH)) && in->ds_ah < 256) ||
	    ((need & DOI_PROTO_BIT(PROTO_IPCOMP)) && (in->ds_ipcomp < 256 ||
	    in->ds_ipcomp > 0xffff)))
		goto fail;
	if (build_offer(c) != 0)
		goto fail;
	c->c_nilen = NONCE_LEN;
	random_bytes(c->c_ni, c->c_nilen);
	if (pol->pol_pfs_group != 0 &&
	    (c->c_dh = dh_new(pol->pol_pfs_group)) == NULL)
		goto fail;
	/*
	 * IDs only when the selectors are not just the two hosts: racoon2
	 * never sends them and ignores them (notes h.10).
	 */
	if (doi_sel_set(&pol->pol_src) && doi_sel_set(&pol->pol_dst)) {
		struct kink_selector hl, hr;

		doi_host_sel(&hl, &c->c_local);
		doi_host_sel(&hr, &c->c_remote);
		if (!doi_sel_eq(&pol->pol_src, &hl) || !doi_sel_eq(&pol->pol_dst, &hr) ||
		    pol->pol_ulproto != 0) {
			doi_sel_to_id(&pol->pol_src, pol->pol_ulproto, &c->c_id[0]);
			doi_sel_to_id(&pol->pol_dst, pol->pol_ulproto, &c->c_id[1]);
			c->c_send_ids = 1;
		}
	}
	return c;
fail:
	doi_ctx_free(c);
	return NULL;
}

int
doi_init_proposal(struct doi_ctx *c, struct buf *qm, uint8_t *first)
{
	struct isakmp_msg *m;
	uint8_t ke[DH_MAX_LEN];
	int rc = -1;

	if (c == NULL || c->c_role != ROLE_INIT)
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->m_has_sa = 1;
	m->m_sa = c->c_offer;
	m->m_nonce = rbuf_make(c->c_ni, c->c_nilen);
	if (c->c_dh != NULL) {
		size_t kl = dh_pub_len(dh_group(c->c_dh));

		if (dh_public(c->c_dh, ke, kl) != 0)
			goto out;
		m->m_ke = rbuf_make(ke, kl);
	}
	if (c->c_send_ids) {
		m->m_nid = 2;
		m->m_id[0] = c->c_id[0];
		m->m_id[1] = c->c_id[1];
	}
	if (c->c_test_notify != 0) {
		m->m_nnotify = 1;
		m->m_notify[0].n_doi = IPSEC_DOI;
		m->m_notify[0].n_type = c->c_test_notify;
	}
	if (isakmp_build(m, qm, first) != 0)
		goto out;
	rc = 0;
out:
	free(m);
	return rc;
}

/* Our optimistic picks: the first transform of each first proposal. */
static int
optimistic_picks(const struct isakmp_sa *sa, struct doi_pick *pk)
{
	int n = 0;

	for (int i = 0; i < sa->sa_nprop &&
	    sa->sa_prop[i].p_num == sa->sa_prop[0].p_num; i++) {
		if (n >= DOI_MAX_SA)
			return -1;
		memset(&pk[n], 0, sizeof(pk[n]));
		pk[n].pk_proto = sa->sa_prop[i].p_proto;
		pk[n].pk_peer_spi = sa->sa_prop[i].p_spi;
		pk[n].pk_t = sa->sa_prop[i].p_trans[0];
		n++;
	}
	return n;
}

int
doi_init_optimistic(struct doi_ctx *c, doi_prf_fn prf, void *arg,
    struct doi_result *r)
{
	struct doi_pick pk[DOI_MAX_SA];
	int n;

	memset(r, 0, sizeof(*r));
	/* KE means 3-way from the start: nothing to install early. */
	if (c == NULL || c->c_role != ROLE_INIT || c->c_dh != NULL)
		return -1;
	if ((n = optimistic_picks(&c->c_offer, pk)) < 0)
		return -1;
	if (c->c_send_ids)
		c->c_nid = 2;
	c->c_nrlen = 0;
	if (doi_make_sas(c, pk, n, prf, arg, r, 0) != 0) {
		doi_result_clear(r);
		return -1;
	}
	r->dr_optimistic = 1;
	return 0;
}

static int
peer_error_notify(const struct isakmp_msg *m, struct doi_error *err)
{
	for (int i = 0; i < m->m_nnotify; i++) {
		const struct isakmp_notify *n = &m->m_notify[i];

		/* Status types are to be ignored (RFC 4430 5.5). */
		if (n->n_type > ISAKMP_NTYPE_ERROR_MAX)
			continue;
		set_err(err, ISAKMP_ERR_PEER_NOTIFY);
		err->de_notify = n->n_type;
		err->de_proto = n->n_proto;
		err->de_datalen = n->n_data.rb_len < sizeof(err->de_data) ?
		    n->n_data.rb_len : sizeof(err->de_data);
		if (err->de_datalen)
			memcpy(err->de_data, n->n_data.rb_p, err->de_datalen);
		if (n->n_spi.rb_len == 4)
			err->de_spi = get_be32(n->n_spi.rb_p);
		return 1;
	}
	return 0;
}

/*
 * The initiator's reading of the REPLY's SA payload: one proposal (one
 * per protocol of a bundle) with one transform each, every one what we
 * offered, lifetimes not raised.  Fills pk[0..*np) with our transforms
 * at the lifetimes agreed; *optimistic is cleared unless the REPLY took
 * the first proposal's first transforms.  0, or the ISAKMP_ERR_* to send.
 */
static int
reply_picks(const struct doi_ctx *c, const struct isakmp_sa *rs,
    struct doi_pick *pk, int *np, int *optimistic)
{
	int rc;

	/* One proposal (one per protocol of a bundle), one transform each. */
	for (int i = 0; i < rs->sa_nprop; i++) {
		const struct isakmp_prop *p = &rs->sa_prop[i];
		const struct isakmp_prop *o = NULL;
		const struct isakmp_trans *ot = NULL, *t = &p->p_trans[0];
		struct doi_pick *pick;
		int j;

		rc = ISAKMP_ERR_BAD_REPLY;
		if (p->p_num != rs->sa_prop[0].p_num || p->p_ntrans != 1 ||
		    *np >= DOI_MAX_SA)
			return rc;
		for (j = 0; j < c->c_offer.sa_nprop; j++)
			if (c->c_offer.sa_prop[j].p_num == p->p_num &&
			    c->c_offer.sa_prop[j].p_proto == p->p_proto) {
				o = &c->c_offer.sa_prop[j];
				break;
			}
		if (o == NULL)
			return rc;
		for (int k = 0; k < o->p_ntrans; k++)
			if (o->p_trans[k].t_num == t->t_num)
				ot = &o->p_trans[k];
		if (ot == NULL || t->t_id != ot->t_id || t->t_err != 0 ||
		    t->t_attrs.a_mode != ot->t_attrs.a_mode ||
		    t->t_attrs.a_keylen != ot->t_attrs.a_keylen ||
		    t->t_attrs.a_auth != ot->t_attrs.a_auth ||
		    t->t_attrs.a_group != ot->t_attrs.a_group ||
		    t->t_attrs.a_rounds != ot->t_attrs.a_rounds)
			return rc;
		for (int k = 0; k < *np; k++)
			if (pk[k].pk_proto == p->p_proto)
				return rc;
		/* Lower is fine, higher never (RFC 4430 3.2). */
		rc = ISAKMP_ERR_LIFE_RAISED;
		if (eff_secs(t->t_attrs.a_life_secs) >
		    eff_secs(ot->t_attrs.a_life_secs))
			return rc;
		if (ot->t_attrs.a_life_kbytes && t->t_attrs.a_life_kbytes >
		    ot->t_attrs.a_life_kbytes)
			return rc;
		pick = &pk[*np];
		memset(pick, 0, sizeof(*pick));
		pick->pk_proto = p->p_proto;
		pick->pk_peer_spi = p->p_spi;
		pick->pk_t = *ot;
		/* The shorter lifetimes win; absent in the REPLY = ours. */
		if (t->t_attrs.a_life_secs)
			pick->pk_t.t_attrs.a_life_secs = t->t_attrs.a_life_secs;
		if (t->t_attrs.a_life_kbytes)
			pick->pk_t.t_attrs.a_life_kbytes =
			    t->t_attrs.a_life_kbytes;
		if (ot != &o->p_trans[0] || p->p_num != c->c_offer.sa_prop[0].p_num)
			*optimistic = 0;
		(*np)++;
	}
	/* Every protocol of the chosen proposal must be answered. */
	rc = ISAKMP_ERR_BAD_REPLY;
	for (int j = 0, cnt = 0; j < c->c_offer.sa_nprop; j++) {
		if (c->c_offer.sa_prop[j].p_num != rs->sa_prop[0].p_num)
			continue;
		if (++cnt > *np)
			return rc;
	}
	return 0;
}

/*
 * RESPONDER-LIFETIME (RFC 2407 4.5.4, 4.6.3.1): the responder's lifetime
 * for one protocol, naming its inbound SPI (our outbound).  The shorter
 * one binds (RFC 4430 3.2), so a shorter value lowers the pick; a longer
 * one, a malformed one or one for another SA is ignored: a status Notify
 * never fails the exchange.  1 if a lifetime was lowered.
 */
static int
responder_lifetime(const struct isakmp_msg *m, struct doi_pick *pk, int n)
{
	int lowered = 0;

	for (int i = 0; i < m->m_nnotify; i++) {
		const struct isakmp_notify *no = &m->m_notify[i];
		uint32_t secs, kb;

		if (no->n_type != IPSEC_NTYPE_RESPONDER_LIFETIME ||
		    isakmp_life_parse(no->n_data.rb_p, no->n_data.rb_len,
		    &secs, &kb) != 0)
			continue;
		for (int j = 0; j < n; j++) {
			struct isakmp_attrs *a = &pk[j].pk_t.t_attrs;

			if (pk[j].pk_proto != no->n_proto ||
			    (no->n_spi.rb_len == 4 &&
			    get_be32(no->n_spi.rb_p) != pk[j].pk_peer_spi))
				continue;
			if (secs && secs < eff_secs(a->a_life_secs)) {
				a->a_life_secs = secs;
				lowered = 1;
			}
			if (kb && (a->a_life_kbytes == 0 ||
			    kb < a->a_life_kbytes)) {
				a->a_life_kbytes = kb;
				lowered = 1;
			}
		}
	}
	return lowered;
}

/*
 * The REPLY lowered a lifetime below the optimistic inbound SAs' (3.2:
 * the shorter one binds both directions), so they need replacing even
 * with the same keys.
 */
static int
life_lowered(const struct doi_pick *opt, int nopt, const struct doi_pick *pk,
    int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < nopt; j++) {
			const struct isakmp_attrs *a = &pk[i].pk_t.t_attrs;
			const struct isakmp_attrs *o = &opt[j].pk_t.t_attrs;

			if (opt[j].pk_proto == pk[i].pk_proto &&
			    (eff_secs(a->a_life_secs) !=
			    eff_secs(o->a_life_secs) ||
			    a->a_life_kbytes != o->a_life_kbytes))
				return 1;
		}
	return 0;
}

int
doi_init_reply(struct doi_ctx *c, const uint8_t *qm, size_t len,
    uint8_t first, doi_prf_fn prf, void *arg, struct doi_result *r,
    struct doi_error *err)
{
	struct isakmp_msg *m;
	struct doi_pick pk[DOI_MAX_SA], opt[DOI_MAX_SA];
	int rc, n = 0, nopt, optimistic = 1, pfs;

	memset(r, 0, sizeof(*r));
	set_err(err, 0);
	if (c == NULL || c->c_role != ROLE_INIT) {
		set_err(err, ISAKMP_ERR_INTERNAL);
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		set_err(err, ISAKMP_ERR_NOMEM);
		return -1;
	}
	if ((rc = isakmp_parse(qm, len, first, m)) != 0)
		goto fail;
	keep_notifies(c, m);
	if (peer_error_notify(m, err))
		goto failp;
	if (!m->m_has_sa) {
		rc = ISAKMP_ERR_MISSING;
		goto fail;
	}
	if ((rc = reply_picks(c, &m->m_sa, pk, &n, &optimistic)) != 0)
		goto fail;
	r->dr_resp_life = (uint8_t)responder_lifetime(m, pk, n);
	pfs = c->c_dh != NULL;
	if (pfs != (m->m_ke.rb_p != NULL)) {
		rc = pfs ? ISAKMP_ERR_KE_MISMATCH : ISAKMP_ERR_BAD_REPLY;
		goto fail;
	}
	if (pfs) {
		uint16_t g = dh_group(c->c_dh);

		rc = ISAKMP_ERR_KE_MISMATCH;
		c->c_gxylen = dh_secret_len(g);
		if (dh_derive(c->c_dh, m->m_ke.rb_p, m->m_ke.rb_len, c->c_gxy,
		    c->c_gxylen) != 0)
			goto fail;
	}
	c->c_nrlen = 0;
	if (m->m_nonce.rb_p != NULL) {
		memcpy(c->c_nr, m->m_nonce.rb_p, m->m_nonce.rb_len);
		c->c_nrlen = m->m_nonce.rb_len;
	}
	c->c_nid = c->c_send_ids ? 2 : 0;
	rc = ISAKMP_ERR_INTERNAL;
	if (doi_make_sas(c, pk, n, prf, arg, r, 1) != 0)
		goto fail;
	r->dr_optimistic = (uint8_t)optimistic;
	r->dr_pfs = (uint8_t)pfs;
	/*
	 * The inbound SAs of doi_init_optimistic hold other keys (or other
	 * algorithms) unless the optimistic proposal won without Nr and
	 * without KE.  Compare keys too, so nothing rests on that reading.
	 */
	nopt = optimistic_picks(&c->c_offer, opt);
	r->dr_in_changed = !(optimistic && c->c_nrlen == 0 && !pfs &&
	    nopt == n) || life_lowered(opt, nopt, pk, n);
	free(m);
	return 0;
fail:
	set_err(err, rc);
failp:
	doi_result_clear(r);
	c->c_gxylen = 0;
	explicit_bzero(c->c_gxy, sizeof(c->c_gxy));
	free(m);
	return -1;
}
