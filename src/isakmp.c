/*
 * ISAKMP Quick Mode payload codec (see src/isakmp.h).  Pure: buf only.
 */
#include <string.h>

#include "isakmp.h"

#define N_IPT	ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE
#define N_PM	ISAKMP_NTYPE_PAYLOAD_MALFORMED
#define N_NPC	ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN
#define N_SPI	ISAKMP_NTYPE_INVALID_SPI

/*
 * RFC 4430 section 5.5 uses four error types and says PAYLOAD-MALFORMED
 * stands for the other RFC 2408 ones ("INVALID-PROTOCOL-ID, for example,
 * is not used"), so ei_notify folds them; ei_isakmp keeps the precise
 * RFC 2408 name for logs.
 */
static const struct isakmp_err_info err_table[ISAKMP_ERR_MAX] = {
	{ ISAKMP_OK,		"OK",		0, 0 },
	{ ISAKMP_ERR_TRUNC,	"TRUNC",	N_PM, N_PM },
	{ ISAKMP_ERR_LENGTH,	"LENGTH",	N_PM, N_PM },
	{ ISAKMP_ERR_TRAILING,	"TRAILING",	N_PM, N_PM },
	{ ISAKMP_ERR_RESERVED,	"RESERVED",	N_PM, N_PM },
	{ ISAKMP_ERR_PAYLOAD_TYPE, "PAYLOAD_TYPE", N_IPT, N_IPT },
	{ ISAKMP_ERR_DUP,	"DUP",		N_PM, N_PM },
	{ ISAKMP_ERR_TOO_MANY,	"TOO_MANY",	N_PM, N_PM },
	{ ISAKMP_ERR_DOI,	"DOI",		N_PM,
	    ISAKMP_NTYPE_DOI_NOT_SUPPORTED },
	{ ISAKMP_ERR_SITUATION,	"SITUATION",	N_PM,
	    ISAKMP_NTYPE_SITUATION_NOT_SUPPORTED },
	{ ISAKMP_ERR_PROP_SYNTAX, "PROP_SYNTAX", N_PM,
	    ISAKMP_NTYPE_BAD_PROPOSAL_SYNTAX },
	{ ISAKMP_ERR_PROTO,	"PROTO",	N_PM,
	    ISAKMP_NTYPE_INVALID_PROTOCOL_ID },
	{ ISAKMP_ERR_SPI_SIZE,	"SPI_SIZE",	N_PM, N_SPI },
	{ ISAKMP_ERR_SPI_VALUE,	"SPI_VALUE",	N_PM, N_SPI },
	{ ISAKMP_ERR_ATTR,	"ATTR",		N_PM, N_PM },
	{ ISAKMP_ERR_NONCE_LEN,	"NONCE_LEN",	N_PM, N_PM },
	{ ISAKMP_ERR_KE_LEN,	"KE_LEN",	N_PM,
	    ISAKMP_NTYPE_INVALID_KEY_INFORMATION },
	{ ISAKMP_ERR_ID_TYPE,	"ID_TYPE",	N_PM,
	    ISAKMP_NTYPE_INVALID_ID_INFORMATION },
	{ ISAKMP_ERR_ID_LEN,	"ID_LEN",	N_PM,
	    ISAKMP_NTYPE_INVALID_ID_INFORMATION },
	{ ISAKMP_ERR_ID_VALUE,	"ID_VALUE",	N_PM,
	    ISAKMP_NTYPE_INVALID_ID_INFORMATION },
	{ ISAKMP_ERR_ID_COUNT,	"ID_COUNT",	N_PM,
	    ISAKMP_NTYPE_INVALID_ID_INFORMATION },
	{ ISAKMP_ERR_NOTIFY,	"NOTIFY",	N_PM, N_PM },
	{ ISAKMP_ERR_ATTR_UNKNOWN, "ATTR_UNKNOWN", N_NPC,
	    ISAKMP_NTYPE_ATTRIBUTES_NOT_SUPPORTED },
	{ ISAKMP_ERR_ATTR_VALUE, "ATTR_VALUE",	N_NPC,
	    ISAKMP_NTYPE_ATTRIBUTES_NOT_SUPPORTED },
	{ ISAKMP_ERR_ATTR_DUP,	"ATTR_DUP",	N_NPC,
	    ISAKMP_NTYPE_BAD_PROPOSAL_SYNTAX },
	{ ISAKMP_ERR_MISSING,	"MISSING",	N_PM, N_PM },
	{ ISAKMP_ERR_NO_PROPOSAL, "NO_PROPOSAL", N_NPC, N_NPC },
	{ ISAKMP_ERR_LIFE_RAISED, "LIFE_RAISED", N_NPC, N_NPC },
	{ ISAKMP_ERR_SPI_IN_USE, "SPI_IN_USE",	N_SPI, N_SPI },
	{ ISAKMP_ERR_KE_REFUSED, "KE_REFUSED",	N_IPT, N_IPT },
	{ ISAKMP_ERR_KE_MISMATCH, "KE_MISMATCH", N_PM,
	    ISAKMP_NTYPE_INVALID_KEY_INFORMATION },
	{ ISAKMP_ERR_ID_POLICY,	"ID_POLICY",	N_PM,
	    ISAKMP_NTYPE_INVALID_ID_INFORMATION },
	{ ISAKMP_ERR_BAD_REPLY,	"BAD_REPLY",	N_PM, N_PM },
	/* The peer said no: there is nothing to answer. */
	{ ISAKMP_ERR_PEER_NOTIFY, "PEER_NOTIFY", 0, 0 },
	{ ISAKMP_ERR_NOMEM,	"NOMEM",	0, 0 },
	{ ISAKMP_ERR_INTERNAL,	"INTERNAL",	0, 0 },
};

const struct isakmp_err_info *
isakmp_err_info(int err)
{
	static const struct isakmp_err_info unknown = {
		ISAKMP_ERR_INTERNAL, "UNKNOWN", 0, 0
	};

	if (err < 0 || err >= ISAKMP_ERR_MAX)
		return &unknown;
	return &err_table[err];
}

const char *
isakmp_strerror(int err)
{
	return isakmp_err_info(err)->ei_name;
}

uint16_t
isakmp_err_notify(int err)
{
	return isakmp_err_info(err)->ei_notify;
}

/* --- attributes ------------------------------------------------------ */

int
isakmp_attrs_valid(const struct isakmp_attrs *a)
{
	if (a->a_mode != 0 && a->a_mode != ENCAP_MODE_TUNNEL &&
	    a->a_mode != ENCAP_MODE_TRANSPORT)
		return ISAKMP_ERR_ATTR_VALUE;
	if (a->a_keylen % 8 != 0)
		return ISAKMP_ERR_ATTR_VALUE;
	return 0;
}

/* Record the first meaning problem of a transform. */
static void
trans_err(struct isakmp_trans *t, int err)
{
	if (t->t_err == 0)
		t->t_err = (uint8_t)err;
}

static int
parse_attrs(struct rbuf r, struct isakmp_trans *t)
{
	struct isakmp_attrs *a = &t->t_attrs;
	uint16_t type, lv, cls;
	uint32_t val;
	int pending = 0;	/* Life Type waiting for its Duration */
	struct rbuf v;

	while (r.rb_len > 0) {
		if (rbuf_get_u16(&r, &type) < 0 || rbuf_get_u16(&r, &lv) < 0)
			return ISAKMP_ERR_ATTR;
		cls = type & ISAKMP_GEN_MASK;
		if (type & ISAKMP_GEN_TV)
			val = lv;
		else {
			if (lv == 0 || rbuf_sub(&r, lv, &v) < 0)
				return ISAKMP_ERR_ATTR;
			/* Nothing of the IPsec DOI needs more than 32 bits. */
			val = 0;
			while (v.rb_len > 4 && v.rb_p[0] == 0) {
				v.rb_p++;
				v.rb_len--;
			}
			if (v.rb_len > 4) {
				trans_err(t, ISAKMP_ERR_ATTR_VALUE);
				continue;
			}
			for (size_t i = 0; i < v.rb_len; i++)
				val = val << 8 | v.rb_p[i];
		}
		/* Only Life Duration and private ones are variable. */
		if (!(type & ISAKMP_GEN_TV) && cls != IPSECDOI_ATTR_SA_LD &&
		    cls <= IPSECDOI_ATTR_COMP_DICT_SIZE) {
			trans_err(t, ISAKMP_ERR_ATTR_VALUE);
			continue;
		}
		switch (cls) {
		case IPSECDOI_ATTR_SA_LD_TYPE:
			if (pending)
				trans_err(t, ISAKMP_ERR_ATTR_DUP);
			if (val != IPSECDOI_ATTR_SA_LD_TYPE_SEC &&
			    val != IPSECDOI_ATTR_SA_LD_TYPE_KB) {
				trans_err(t, ISAKMP_ERR_ATTR_VALUE);
				pending = -1;
			} else
				pending = (int)val;
			break;
		case IPSECDOI_ATTR_SA_LD:
			if (pending == 0) {
				trans_err(t, ISAKMP_ERR_ATTR_DUP);
				break;
			}
			if (val == 0)
				trans_err(t, ISAKMP_ERR_ATTR_VALUE);
			else if (pending == IPSECDOI_ATTR_SA_LD_TYPE_SEC) {
				if (a->a_life_secs)
					trans_err(t, ISAKMP_ERR_ATTR_DUP);
				a->a_life_secs = val;
			} else if (pending == IPSECDOI_ATTR_SA_LD_TYPE_KB) {
				if (a->a_life_kbytes)
					trans_err(t, ISAKMP_ERR_ATTR_DUP);
				a->a_life_kbytes = val;
			}
			pending = 0;
			break;
		case IPSECDOI_ATTR_GRP_DESC:
		case IPSECDOI_ATTR_ENC_MODE:
		case IPSECDOI_ATTR_AUTH:
		case IPSECDOI_ATTR_KEY_LENGTH:
		case IPSECDOI_ATTR_KEY_ROUNDS: {
			uint16_t *f = cls == IPSECDOI_ATTR_GRP_DESC ? &a->a_group :
			    cls == IPSECDOI_ATTR_ENC_MODE ? &a->a_mode :
			    cls == IPSECDOI_ATTR_AUTH ? &a->a_auth :
			    cls == IPSECDOI_ATTR_KEY_LENGTH ? &a->a_keylen :
			    &a->a_rounds;

			if (*f != 0)
				trans_err(t, ISAKMP_ERR_ATTR_DUP);
			if (val == 0)
				trans_err(t, ISAKMP_ERR_ATTR_VALUE);
			*f = (uint16_t)val;
			break;
		}
		default:
			trans_err(t, ISAKMP_ERR_ATTR_UNKNOWN);
			break;
		}
	}
	if (pending)
		trans_err(t, ISAKMP_ERR_ATTR_DUP);
	if (isakmp_attrs_valid(a) != 0)
		trans_err(t, isakmp_attrs_valid(a));
	return 0;
}

/* --- SA / Proposal / Transform --------------------------------------- */

static int
proto_spisize(uint8_t proto)
{
	switch (proto) {
	case PROTO_IPSEC_AH:
	case PROTO_IPSEC_ESP:
		return 4;
	case PROTO_IPCOMP:
		return 2;
	}
	return -1;
}

int
isakmp_spi_size(uint8_t proto)
{
	return proto_spisize(proto);
}

/*
 * The SPI sizes a protocol may carry: its own, and for IPCOMP also 4
 * octets holding the 16-bit CPI (legal on receipt; parsed, it is built
 * back the same, so a chain round-trips; kinkd itself sends 2).
 */
static int
spisize_ok(uint8_t proto, uint8_t size)
{
	return size == proto_spisize(proto) ||
	    (proto == PROTO_IPCOMP && size == 4);
}

/* SPIs 1..255 are reserved (RFC 4303 2.1); CPIs 0..255 too (RFC 3173). */
static int
spi_valid(uint32_t spi)
{
	return spi >= 256;
}

static int
parse_prop(struct rbuf body, struct isakmp_prop *p)
{
	uint8_t ntrans, tnext, tnum, tid;
	uint16_t tlen, res2;
	struct rbuf tb, ab;
	int i, rc;

	if (rbuf_get_u8(&body, &p->p_num) < 0 ||
	    rbuf_get_u8(&body, &p->p_proto) < 0 ||
	    rbuf_get_u8(&body, &p->p_spisize) < 0 ||
	    rbuf_get_u8(&body, &ntrans) < 0)
		return ISAKMP_ERR_LENGTH;
	if (proto_spisize(p->p_proto) < 0)
		return ISAKMP_ERR_PROTO;
	if (!spisize_ok(p->p_proto, p->p_spisize))
		return ISAKMP_ERR_SPI_SIZE;
	if (p->p_spisize == 4) {
		if (rbuf_get_u32(&body, &p->p_spi) < 0)
			return ISAKMP_ERR_LENGTH;
		/* RFC 2407 4.4.1: a 4-octet CPI field still holds 16 bits. */
		if (p->p_proto == PROTO_IPCOMP && p->p_spi > 0xffff)
			return ISAKMP_ERR_SPI_VALUE;
	} else {
		uint16_t cpi;

		if (rbuf_get_u16(&body, &cpi) < 0)
			return ISAKMP_ERR_LENGTH;
		p->p_spi = cpi;
	}
	if (!spi_valid(p->p_spi))
		return ISAKMP_ERR_SPI_VALUE;
	if (ntrans == 0)
		return ISAKMP_ERR_PROP_SYNTAX;
	if (ntrans > ISAKMP_MAX_TRANS)
		return ISAKMP_ERR_TOO_MANY;
	for (i = 0; i < ntrans; i++) {
		struct isakmp_trans *t = &p->p_trans[i];
		uint8_t res;

		if (body.rb_len < ISAKMP_TRANS_HDR_LEN)
			return body.rb_len == 0 ? ISAKMP_ERR_PROP_SYNTAX :
			    ISAKMP_ERR_LENGTH;
		(void)rbuf_get_u8(&body, &tnext);
		(void)rbuf_get_u8(&body, &res);
		(void)rbuf_get_u16(&body, &tlen);
		if (tlen < ISAKMP_TRANS_HDR_LEN)
			return ISAKMP_ERR_LENGTH;
		if (rbuf_sub(&body, tlen - ISAKMP_GEN_HDR_LEN, &tb) < 0)
			return ISAKMP_ERR_LENGTH;
		if (res != 0)
			return ISAKMP_ERR_RESERVED;
		if (tnext != (i + 1 < ntrans ? ISAKMP_NPTYPE_T :
		    ISAKMP_NPTYPE_NONE))
			return ISAKMP_ERR_PROP_SYNTAX;
		(void)rbuf_get_u8(&tb, &tnum);
		(void)rbuf_get_u8(&tb, &tid);
		(void)rbuf_get_u16(&tb, &res2);
		if (res2 != 0)
			return ISAKMP_ERR_RESERVED;
		t->t_num = tnum;
		t->t_id = tid;
		ab = tb;
		if ((rc = parse_attrs(ab, t)) != 0)
			return rc;
	}
	if (body.rb_len != 0)
		return ISAKMP_ERR_LENGTH;
	p->p_ntrans = ntrans;
	return 0;
}

static int
parse_sa(struct rbuf body, struct isakmp_sa *sa)
{
	uint8_t pnext = ISAKMP_NPTYPE_P, res;
	uint16_t plen;
	struct rbuf pb;
	int rc, lastnum = -1;

	if (rbuf_get_u32(&body, &sa->sa_doi) < 0 ||
	    rbuf_get_u32(&body, &sa->sa_sit) < 0)
		return ISAKMP_ERR_LENGTH;
	if (sa->sa_doi != IPSEC_DOI)
		return ISAKMP_ERR_DOI;
	if (sa->sa_sit != IPSEC_SIT_IDENTITY_ONLY)
		return ISAKMP_ERR_SITUATION;
	if (body.rb_len == 0)
		return ISAKMP_ERR_PROP_SYNTAX;
	while (pnext == ISAKMP_NPTYPE_P) {
		struct isakmp_prop *p;

		if (body.rb_len < ISAKMP_PROP_HDR_LEN)
			return ISAKMP_ERR_LENGTH;
		if (sa->sa_nprop >= ISAKMP_MAX_PROPS)
			return ISAKMP_ERR_TOO_MANY;
		(void)rbuf_get_u8(&body, &pnext);
		(void)rbuf_get_u8(&body, &res);
		(void)rbuf_get_u16(&body, &plen);
		if (plen < ISAKMP_PROP_HDR_LEN ||
		    rbuf_sub(&body, plen - ISAKMP_GEN_HDR_LEN, &pb) < 0)
			return ISAKMP_ERR_LENGTH;
		if (res != 0)
			return ISAKMP_ERR_RESERVED;
		if (pnext != ISAKMP_NPTYPE_P && pnext != ISAKMP_NPTYPE_NONE)
			return ISAKMP_ERR_PROP_SYNTAX;
		p = &sa->sa_prop[sa->sa_nprop];
		if ((rc = parse_prop(pb, p)) != 0)
			return rc;
		/* Numbers rise; equal numbers form a bundle (2408 4.2). */
		if ((int)p->p_num < lastnum)
			return ISAKMP_ERR_PROP_SYNTAX;
		lastnum = p->p_num;
		sa->sa_nprop++;
	}
	if (body.rb_len != 0)
		return ISAKMP_ERR_LENGTH;
	return 0;
}

/* --- ID, Notify, Delete ---------------------------------------------- */

static int
id_datalen(uint8_t type, uint8_t *alen)
{
	switch (type) {
	case IPSEC_ID_IPV4_ADDR:
		*alen = 4;
		return 4;
	case IPSEC_ID_IPV4_ADDR_SUBNET:
	case IPSEC_ID_IPV4_ADDR_RANGE:
		*alen = 4;
		return 8;
	case IPSEC_ID_IPV6_ADDR:
		*alen = 16;
		return 16;
	case IPSEC_ID_IPV6_ADDR_SUBNET:
	case IPSEC_ID_IPV6_ADDR_RANGE:
		*alen = 16;
		return 32;
	}
	return -1;
}

int
isakmp_id_valid(const struct isakmp_id *id)
{
	uint8_t alen;
	int seen0 = 0;

	if (id_datalen(id->id_type, &alen) < 0)
		return ISAKMP_ERR_ID_TYPE;
	if (id->id_alen != alen)
		return ISAKMP_ERR_ID_LEN;
	if (id->id_port != 0 && id->id_proto == 0)
		return ISAKMP_ERR_ID_VALUE;
	if (id->id_type == IPSEC_ID_IPV4_ADDR_SUBNET ||
	    id->id_type == IPSEC_ID_IPV6_ADDR_SUBNET) {
		/* A mask is ones then zeros. */
		for (int i = 0; i < alen * 8; i++) {
			int bit = id->id_addr2[i / 8] >> (7 - i % 8) & 1;

			if (!bit)
				seen0 = 1;
			else if (seen0)
				return ISAKMP_ERR_ID_VALUE;
		}
	}
	if ((id->id_type == IPSEC_ID_IPV4_ADDR_RANGE ||
	    id->id_type == IPSEC_ID_IPV6_ADDR_RANGE) &&
	    memcmp(id->id_addr, id->id_addr2, alen) > 0)
		return ISAKMP_ERR_ID_VALUE;
	return 0;
}

static int
parse_id(struct rbuf body, struct isakmp_id *id)
{
	int dlen;

	if (rbuf_get_u8(&body, &id->id_type) < 0 ||
	    rbuf_get_u8(&body, &id->id_proto) < 0 ||
	    rbuf_get_u16(&body, &id->id_port) < 0)
		return ISAKMP_ERR_LENGTH;
	if ((dlen = id_datalen(id->id_type, &id->id_alen)) < 0)
		return ISAKMP_ERR_ID_TYPE;
	if (body.rb_len != (size_t)dlen)
		return ISAKMP_ERR_ID_LEN;
	memcpy(id->id_addr, body.rb_p, id->id_alen);
	if (dlen > id->id_alen)
		memcpy(id->id_addr2, body.rb_p + id->id_alen, id->id_alen);
	return isakmp_id_valid(id);
}

static int
parse_notify(struct rbuf body, struct isakmp_notify *n)
{
	uint8_t spisize;

	if (rbuf_get_u32(&body, &n->n_doi) < 0 ||
	    rbuf_get_u8(&body, &n->n_proto) < 0 ||
	    rbuf_get_u8(&body, &spisize) < 0 ||
	    rbuf_get_u16(&body, &n->n_type) < 0)
		return ISAKMP_ERR_LENGTH;
	/* RFC 2408 3.14: the IPsec DOI, or 0 for ISAKMP-level notices. */
	if (n->n_doi != IPSEC_DOI && n->n_doi != 0)
		return ISAKMP_ERR_DOI;
	if (spisize > ISAKMP_MAX_NOTIFY_SPI)
		return ISAKMP_ERR_NOTIFY;
	if (rbuf_sub(&body, spisize, &n->n_spi) < 0)
		return ISAKMP_ERR_LENGTH;
	n->n_data = body;
	return 0;
}

static int
parse_delete(struct rbuf body, struct isakmp_delete *d)
{
	if (rbuf_get_u32(&body, &d->d_doi) < 0 ||
	    rbuf_get_u8(&body, &d->d_proto) < 0 ||
	    rbuf_get_u8(&body, &d->d_spisize) < 0 ||
	    rbuf_get_u16(&body, &d->d_nspi) < 0)
		return ISAKMP_ERR_LENGTH;
	if (d->d_doi != IPSEC_DOI)
		return ISAKMP_ERR_DOI;
	if (proto_spisize(d->d_proto) < 0)
		return ISAKMP_ERR_PROTO;
	if (!spisize_ok(d->d_proto, d->d_spisize))
		return ISAKMP_ERR_SPI_SIZE;
	if (d->d_nspi == 0)
		return ISAKMP_ERR_LENGTH;
	if (d->d_nspi > ISAKMP_MAX_DELETE_SPIS)
		return ISAKMP_ERR_TOO_MANY;
	if (body.rb_len != (size_t)d->d_nspi * d->d_spisize)
		return ISAKMP_ERR_LENGTH;
	for (int i = 0; i < d->d_nspi; i++) {
		if (d->d_spisize == 4) {
			(void)rbuf_get_u32(&body, &d->d_spi[i]);
			if (d->d_proto == PROTO_IPCOMP && d->d_spi[i] > 0xffff)
				return ISAKMP_ERR_SPI_VALUE;
		} else {
			uint16_t cpi;

			(void)rbuf_get_u16(&body, &cpi);
			d->d_spi[i] = cpi;
		}
	}
	return 0;
}

/* --- the chain ------------------------------------------------------- */

#define ISAKMP_MAX_PAYLOADS	16

int
isakmp_parse(const uint8_t *p, size_t len, uint8_t first,
    struct isakmp_msg *m)
{
	struct rbuf r = rbuf_make(p, len), body;
	uint8_t next = first, np, res;
	uint16_t plen;
	int n = 0, rc = 0;

	memset(m, 0, sizeof(*m));
	while (next != ISAKMP_NPTYPE_NONE) {
		m->m_err_off = len - r.rb_len;
		if (++n > ISAKMP_MAX_PAYLOADS)
			return ISAKMP_ERR_TOO_MANY;
		if (r.rb_len < ISAKMP_GEN_HDR_LEN)
			return ISAKMP_ERR_TRUNC;
		np = r.rb_p[0];
		res = r.rb_p[1];
		plen = get_be16(r.rb_p + 2);
		if (plen < ISAKMP_GEN_HDR_LEN)
			return ISAKMP_ERR_LENGTH;
		if (plen > r.rb_len)
			return ISAKMP_ERR_TRUNC;
		(void)rbuf_skip(&r, ISAKMP_GEN_HDR_LEN);
		(void)rbuf_sub(&r, plen - ISAKMP_GEN_HDR_LEN, &body);
		if (res != 0)
			return ISAKMP_ERR_RESERVED;
		switch (next) {
		case ISAKMP_NPTYPE_SA:
			if (m->m_has_sa)
				return ISAKMP_ERR_DUP;
			if ((rc = parse_sa(body, &m->m_sa)) != 0)
				return rc;
			m->m_has_sa = 1;
			break;
		case ISAKMP_NPTYPE_NONCE:
			if (m->m_nonce.rb_p != NULL)
				return ISAKMP_ERR_DUP;
			if (body.rb_len < ISAKMP_NONCE_MIN ||
			    body.rb_len > ISAKMP_NONCE_MAX)
				return ISAKMP_ERR_NONCE_LEN;
			m->m_nonce = body;
			break;
		case ISAKMP_NPTYPE_KE:
			if (m->m_ke.rb_p != NULL)
				return ISAKMP_ERR_DUP;
			if (body.rb_len == 0 || body.rb_len > ISAKMP_MAX_KE)
				return ISAKMP_ERR_KE_LEN;
			m->m_ke = body;
			break;
		case ISAKMP_NPTYPE_ID:
			if (m->m_nid >= 2)
				return ISAKMP_ERR_ID_COUNT;
			if ((rc = parse_id(body, &m->m_id[m->m_nid])) != 0)
				return rc;
			m->m_nid++;
			break;
		case ISAKMP_NPTYPE_N:
			if (m->m_nnotify >= ISAKMP_MAX_NOTIFY)
				return ISAKMP_ERR_TOO_MANY;
			if ((rc = parse_notify(body,
			    &m->m_notify[m->m_nnotify])) != 0)
				return rc;
			m->m_nnotify++;
			break;
		case ISAKMP_NPTYPE_D:
			if (m->m_ndelete >= ISAKMP_MAX_DELETE)
				return ISAKMP_ERR_TOO_MANY;
			if ((rc = parse_delete(body,
			    &m->m_delete[m->m_ndelete])) != 0)
				return rc;
			m->m_ndelete++;
			break;
		case ISAKMP_NPTYPE_VID:
			/* Harmless and meaningless to us (RFC 2408 3.16). */
			break;
		default:
			/* HASH and the phase-1 payloads have no place in
			   KINK (RFC 4430 section 5); the rest are unknown. */
			m->m_err_type = next;
			return ISAKMP_ERR_PAYLOAD_TYPE;
		}
		next = np;
	}
	m->m_err_off = len - r.rb_len;
	if (r.rb_len != 0)
		return ISAKMP_ERR_TRAILING;
	if (m->m_nid == 1)
		return ISAKMP_ERR_ID_COUNT;
	return 0;
}

/* --- building -------------------------------------------------------- */

/* Start a payload whose type the previous payload's Next field names. */
static int
put_hdr(struct buf *out, size_t *prev_next, uint8_t type, uint8_t *first,
    size_t *hdr)
{
	if (*prev_next == (size_t)-1)
		*first = type;
	else if (buf_set_u8(out, *prev_next, type) < 0)
		return -1;
	*prev_next = out->b_len;
	*hdr = out->b_len;
	return buf_put_u32(out, 0);	/* Next, RESERVED, Length later */
}

static int
end_len(struct buf *out, size_t hdr)
{
	size_t len = out->b_len - hdr;

	if (len > 0xffff)
		return -1;
	return buf_set_u16(out, hdr + 2, (uint16_t)len);
}

static int
put_attr(struct buf *out, uint16_t type, uint32_t val)
{
	if (val <= 0xffff)
		return buf_put_u16(out, type | ISAKMP_GEN_TV) < 0 ||
		    buf_put_u16(out, (uint16_t)val) < 0 ? -1 : 0;
	return buf_put_u16(out, type) < 0 || buf_put_u16(out, 4) < 0 ||
	    buf_put_u32(out, val) < 0 ? -1 : 0;
}

static int
build_attrs(struct buf *out, const struct isakmp_attrs *a)
{
	int rc = 0;

	/* racoon2's order (notes h.9), so byte comparisons stay easy. */
	if (a->a_life_secs) {
		rc |= put_attr(out, IPSECDOI_ATTR_SA_LD_TYPE,
		    IPSECDOI_ATTR_SA_LD_TYPE_SEC);
		rc |= put_attr(out, IPSECDOI_ATTR_SA_LD, a->a_life_secs);
	}
	if (a->a_life_kbytes) {
		rc |= put_attr(out, IPSECDOI_ATTR_SA_LD_TYPE,
		    IPSECDOI_ATTR_SA_LD_TYPE_KB);
		rc |= put_attr(out, IPSECDOI_ATTR_SA_LD, a->a_life_kbytes);
	}
	if (a->a_mode)
		rc |= put_attr(out, IPSECDOI_ATTR_ENC_MODE, a->a_mode);
	if (a->a_keylen)
		rc |= put_attr(out, IPSECDOI_ATTR_KEY_LENGTH, a->a_keylen);
	if (a->a_auth)
		rc |= put_attr(out, IPSECDOI_ATTR_AUTH, a->a_auth);
	if (a->a_group)
		rc |= put_attr(out, IPSECDOI_ATTR_GRP_DESC, a->a_group);
	if (a->a_rounds)
		rc |= put_attr(out, IPSECDOI_ATTR_KEY_ROUNDS, a->a_rounds);
	return rc;
}

static int
build_sa(struct buf *out, const struct isakmp_sa *sa)
{
	int lastnum = -1;

	if (sa->sa_doi != IPSEC_DOI)
		return ISAKMP_ERR_DOI;
	if (sa->sa_sit != IPSEC_SIT_IDENTITY_ONLY)
		return ISAKMP_ERR_SITUATION;
	if (sa->sa_nprop < 1)
		return ISAKMP_ERR_PROP_SYNTAX;
	if (sa->sa_nprop > ISAKMP_MAX_PROPS)
		return ISAKMP_ERR_TOO_MANY;
	if (buf_put_u32(out, sa->sa_doi) < 0 ||
	    buf_put_u32(out, sa->sa_sit) < 0)
		return ISAKMP_ERR_NOMEM;
	for (int i = 0; i < sa->sa_nprop; i++) {
		const struct isakmp_prop *p = &sa->sa_prop[i];
		size_t ph = out->b_len, th;

		if (proto_spisize(p->p_proto) < 0)
			return ISAKMP_ERR_PROTO;
		if (!spisize_ok(p->p_proto, p->p_spisize))
			return ISAKMP_ERR_SPI_SIZE;
		if (!spi_valid(p->p_spi) || ((p->p_spisize == 2 ||
		    p->p_proto == PROTO_IPCOMP) && p->p_spi > 0xffff))
			return ISAKMP_ERR_SPI_VALUE;
		if (p->p_ntrans < 1 || (int)p->p_num < lastnum)
			return ISAKMP_ERR_PROP_SYNTAX;
		if (p->p_ntrans > ISAKMP_MAX_TRANS)
			return ISAKMP_ERR_TOO_MANY;
		lastnum = p->p_num;
		if (buf_put_u8(out, i + 1 < sa->sa_nprop ? ISAKMP_NPTYPE_P :
		    ISAKMP_NPTYPE_NONE) < 0 || buf_put_u8(out, 0) < 0 ||
		    buf_put_u16(out, 0) < 0 || buf_put_u8(out, p->p_num) < 0 ||
		    buf_put_u8(out, p->p_proto) < 0 ||
		    buf_put_u8(out, p->p_spisize) < 0 ||
		    buf_put_u8(out, (uint8_t)p->p_ntrans) < 0)
			return ISAKMP_ERR_NOMEM;
		if ((p->p_spisize == 4 ? buf_put_u32(out, p->p_spi) :
		    buf_put_u16(out, (uint16_t)p->p_spi)) < 0)
			return ISAKMP_ERR_NOMEM;
		for (int j = 0; j < p->p_ntrans; j++) {
			const struct isakmp_trans *t = &p->p_trans[j];

			if (t->t_err != 0)
				return t->t_err;
			if (isakmp_attrs_valid(&t->t_attrs) != 0)
				return isakmp_attrs_valid(&t->t_attrs);
			th = out->b_len;
			if (buf_put_u8(out, j + 1 < p->p_ntrans ?
			    ISAKMP_NPTYPE_T : ISAKMP_NPTYPE_NONE) < 0 ||
			    buf_put_u8(out, 0) < 0 || buf_put_u16(out, 0) < 0 ||
			    buf_put_u8(out, t->t_num) < 0 ||
			    buf_put_u8(out, t->t_id) < 0 ||
			    buf_put_u16(out, 0) < 0 ||
			    build_attrs(out, &t->t_attrs) < 0)
				return ISAKMP_ERR_NOMEM;
			if (end_len(out, th) < 0)
				return ISAKMP_ERR_LENGTH;
		}
		if (end_len(out, ph) < 0)
			return ISAKMP_ERR_LENGTH;
	}
	return 0;
}

/* One Notification payload (RFC 2408 section 3.14): 0 or ISAKMP_ERR_*. */
static int
build_notify(struct buf *out, const struct isakmp_notify *n, size_t *prev,
    uint8_t *first)
{
	size_t hdr;

	if (n->n_doi != IPSEC_DOI && n->n_doi != 0)
		return ISAKMP_ERR_DOI;
	if (n->n_spi.rb_len > ISAKMP_MAX_NOTIFY_SPI)
		return ISAKMP_ERR_NOTIFY;
	if (put_hdr(out, prev, ISAKMP_NPTYPE_N, first, &hdr) < 0 ||
	    buf_put_u32(out, n->n_doi) < 0 ||
	    buf_put_u8(out, n->n_proto) < 0 ||
	    buf_put_u8(out, (uint8_t)n->n_spi.rb_len) < 0 ||
	    buf_put_u16(out, n->n_type) < 0 ||
	    (n->n_spi.rb_len &&
	    buf_put(out, n->n_spi.rb_p, n->n_spi.rb_len) < 0) ||
	    (n->n_data.rb_len &&
	    buf_put(out, n->n_data.rb_p, n->n_data.rb_len) < 0))
		return ISAKMP_ERR_NOMEM;
	if (end_len(out, hdr) < 0)
		return ISAKMP_ERR_LENGTH;
	return 0;
}

/* One Delete payload (RFC 2408 section 3.15): 0 or ISAKMP_ERR_*. */
static int
build_delete(struct buf *out, const struct isakmp_delete *d, size_t *prev,
    uint8_t *first)
{
	size_t hdr;

	if (d->d_doi != IPSEC_DOI)
		return ISAKMP_ERR_DOI;
	if (proto_spisize(d->d_proto) < 0)
		return ISAKMP_ERR_PROTO;
	if (!spisize_ok(d->d_proto, d->d_spisize))
		return ISAKMP_ERR_SPI_SIZE;
	if (d->d_nspi == 0)
		return ISAKMP_ERR_LENGTH;
	if (d->d_nspi > ISAKMP_MAX_DELETE_SPIS)
		return ISAKMP_ERR_TOO_MANY;
	for (int j = 0; j < d->d_nspi; j++)
		if (d->d_proto == PROTO_IPCOMP && d->d_spi[j] > 0xffff)
			return ISAKMP_ERR_SPI_VALUE;
	if (put_hdr(out, prev, ISAKMP_NPTYPE_D, first, &hdr) < 0 ||
	    buf_put_u32(out, d->d_doi) < 0 ||
	    buf_put_u8(out, d->d_proto) < 0 ||
	    buf_put_u8(out, d->d_spisize) < 0 ||
	    buf_put_u16(out, d->d_nspi) < 0)
		return ISAKMP_ERR_NOMEM;
	for (int j = 0; j < d->d_nspi; j++)
		if ((d->d_spisize == 4 ? buf_put_u32(out, d->d_spi[j]) :
		    buf_put_u16(out, (uint16_t)d->d_spi[j])) < 0)
			return ISAKMP_ERR_NOMEM;
	/* At most 64 SPIs always fit the Length: a failure is the buffer's. */
	if (end_len(out, hdr) < 0)
		return ISAKMP_ERR_NOMEM;
	return 0;
}

int
isakmp_build(const struct isakmp_msg *m, struct buf *out, uint8_t *first)
{
	size_t prev = (size_t)-1, hdr, start = out->b_len;
	int rc = ISAKMP_ERR_NOMEM, i;

	*first = ISAKMP_NPTYPE_NONE;
	if (m->m_nid != 0 && m->m_nid != 2) {
		rc = ISAKMP_ERR_ID_COUNT;
		goto fail;
	}
	if (m->m_nnotify < 0 || m->m_nnotify > ISAKMP_MAX_NOTIFY ||
	    m->m_ndelete < 0 || m->m_ndelete > ISAKMP_MAX_DELETE) {
		rc = ISAKMP_ERR_TOO_MANY;
		goto fail;
	}
	if (m->m_has_sa) {
		if (put_hdr(out, &prev, ISAKMP_NPTYPE_SA, first, &hdr) < 0)
			goto fail;
		if ((rc = build_sa(out, &m->m_sa)) != 0)
			goto fail;
		rc = ISAKMP_ERR_LENGTH;
		if (end_len(out, hdr) < 0)
			goto fail;
	}
	if (m->m_nonce.rb_p != NULL) {
		rc = ISAKMP_ERR_NONCE_LEN;
		if (m->m_nonce.rb_len < ISAKMP_NONCE_MIN ||
		    m->m_nonce.rb_len > ISAKMP_NONCE_MAX)
			goto fail;
		rc = ISAKMP_ERR_NOMEM;
		if (put_hdr(out, &prev, ISAKMP_NPTYPE_NONCE, first, &hdr) < 0 ||
		    buf_put(out, m->m_nonce.rb_p, m->m_nonce.rb_len) < 0 ||
		    end_len(out, hdr) < 0)
			goto fail;
	}
	if (m->m_ke.rb_p != NULL) {
		rc = ISAKMP_ERR_KE_LEN;
		if (m->m_ke.rb_len == 0 || m->m_ke.rb_len > ISAKMP_MAX_KE)
			goto fail;
		rc = ISAKMP_ERR_NOMEM;
		if (put_hdr(out, &prev, ISAKMP_NPTYPE_KE, first, &hdr) < 0 ||
		    buf_put(out, m->m_ke.rb_p, m->m_ke.rb_len) < 0 ||
		    end_len(out, hdr) < 0)
			goto fail;
	}
	for (i = 0; i < m->m_nid; i++) {
		const struct isakmp_id *id = &m->m_id[i];

		if ((rc = isakmp_id_valid(id)) != 0)
			goto fail;
		rc = ISAKMP_ERR_NOMEM;
		if (put_hdr(out, &prev, ISAKMP_NPTYPE_ID, first, &hdr) < 0 ||
		    buf_put_u8(out, id->id_type) < 0 ||
		    buf_put_u8(out, id->id_proto) < 0 ||
		    buf_put_u16(out, id->id_port) < 0 ||
		    buf_put(out, id->id_addr, id->id_alen) < 0)
			goto fail;
		if (id->id_type != IPSEC_ID_IPV4_ADDR &&
		    id->id_type != IPSEC_ID_IPV6_ADDR &&
		    buf_put(out, id->id_addr2, id->id_alen) < 0)
			goto fail;
		if (end_len(out, hdr) < 0)
			goto fail;
	}
	for (i = 0; i < m->m_nnotify; i++)
		if ((rc = build_notify(out, &m->m_notify[i], &prev,
		    first)) != 0)
			goto fail;
	for (i = 0; i < m->m_ndelete; i++)
		if ((rc = build_delete(out, &m->m_delete[i], &prev,
		    first)) != 0)
			goto fail;
	return 0;
fail:
	/* Leave nothing half-built behind. */
	out->b_len = start;
	*first = ISAKMP_NPTYPE_NONE;
	return rc;
}

int
isakmp_life_parse(const uint8_t *p, size_t len, uint32_t *secs,
    uint32_t *kbytes)
{
	struct isakmp_trans t;
	const struct isakmp_attrs *a = &t.t_attrs;
	int rc;

	memset(&t, 0, sizeof(t));
	*secs = *kbytes = 0;
	if (p == NULL || len == 0)
		return ISAKMP_ERR_ATTR;
	if ((rc = parse_attrs(rbuf_make(p, len), &t)) != 0)
		return rc;
	if (t.t_err != 0)
		return t.t_err;
	/* Only lifetimes belong in RESPONDER-LIFETIME (RFC 2407 4.6.3.1). */
	if (a->a_group || a->a_mode || a->a_auth || a->a_keylen ||
	    a->a_rounds || (a->a_life_secs == 0 && a->a_life_kbytes == 0))
		return ISAKMP_ERR_ATTR_VALUE;
	*secs = a->a_life_secs;
	*kbytes = a->a_life_kbytes;
	return 0;
}

int
isakmp_life_build(uint32_t secs, uint32_t kbytes, struct buf *out)
{
	struct isakmp_attrs a;

	memset(&a, 0, sizeof(a));
	a.a_life_secs = secs;
	a.a_life_kbytes = kbytes;
	if (secs == 0 && kbytes == 0)
		return -1;
	return build_attrs(out, &a) == 0 ? 0 : -1;
}
