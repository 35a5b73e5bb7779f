/*
 * Control-protocol codec; layouts are specified in include/ctl.h.
 * Decoders take an rbuf view and fail without side effects on the view's
 * owner; a short field is CTL_E_TRUNC, octets left over CTL_E_TRAILING.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "ctl.h"
#include "kink.h"
#include "isakmp_num.h"
#include "buf.h"
#include "ctl_msg.h"

static const char *const ctl_errstr[CTL_E_MAX] = {
	[CTL_E_OK] = "ok",
	[CTL_E_SHORT] = "incomplete message",
	[CTL_E_VERSION] = "protocol version mismatch",
	[CTL_E_TOOBIG] = "message too long",
	[CTL_E_TYPE] = "unknown message type",
	[CTL_E_FLAGS] = "invalid flags",
	[CTL_E_TRUNC] = "truncated payload",
	[CTL_E_TRAILING] = "trailing octets in payload",
	[CTL_E_STRLEN] = "string too long",
	[CTL_E_STRNUL] = "NUL in string",
	[CTL_E_VALUE] = "field value out of range",
	[CTL_E_ADDR] = "malformed address",
	[CTL_E_KEYLEN] = "key too long",
	[CTL_E_NOSPACE] = "no space in output buffer",
};

const char *
ctl_strerror(int e)
{
	if (e < 0 || e >= CTL_E_MAX)
		return "unknown error";
	return ctl_errstr[e];
}

const char *
ctl_type_name(uint8_t t)
{
	switch (t) {
	case CTL_REQ_SHOW_SA:		return "show-sa";
	case CTL_REQ_SHOW_PEERS:	return "show-peers";
	case CTL_REQ_SHOW_XACT:		return "show-xact";
	case CTL_REQ_SHOW_STATS:	return "show-stats";
	case CTL_REQ_INITIATE:		return "initiate";
	case CTL_REQ_DELETE_SA:		return "delete-sa";
	case CTL_REQ_FLUSH_SA:		return "flush-sa";
	case CTL_REQ_RELOAD:		return "reload";
	case CTL_REQ_LOG:		return "log";
	case CTL_REQ_MONITOR:		return "monitor";
	case CTL_REQ_SHOW_SELF:		return "show-self";
	case CTL_REQ_RECONCILE:		return "reconcile";
	case CTL_REQ_SHOW_POLICIES:	return "show-policies";
	case CTL_REC_SA:		return "sa";
	case CTL_REC_PEER:		return "peer";
	case CTL_REC_XACT:		return "xact";
	case CTL_REC_STATS:		return "stats";
	case CTL_REC_EVENT:		return "event";
	case CTL_REC_INFO:		return "info";
	case CTL_REC_POLICY:		return "policy";
	case CTL_END:			return "end";
	case CTL_ERROR:			return "error";
	}
	return NULL;
}

const char *
ctl_errcode_name(uint16_t c)
{
	static const char *const n[CTL_ERR_MAX + 1] = {
		[CTL_ERR_FAILED] = "failed", [CTL_ERR_PERM] = "perm",
		[CTL_ERR_VERSION] = "version", [CTL_ERR_BADREQ] = "badreq",
		[CTL_ERR_UNKNOWN] = "unknown", [CTL_ERR_NOTSUPP] = "notsupp",
		[CTL_ERR_NOPEER] = "nopeer", [CTL_ERR_NOPOLICY] = "nopolicy",
		[CTL_ERR_NOSA] = "nosa", [CTL_ERR_CONF] = "conf",
		[CTL_ERR_TIMEOUT] = "timeout", [CTL_ERR_BUSY] = "busy",
		[CTL_ERR_INTERNAL] = "internal", [CTL_ERR_PEER] = "peer",
	};

	if (c > CTL_ERR_MAX)
		return NULL;
	return n[c];
}

int
ctl_type_is_request(uint8_t t)
{
	return t >= CTL_REQ_SHOW_SA && t <= CTL_REQ_MAX;
}

void
ctl_hdr_encode(uint8_t out[CTL_HDR_LEN], const struct ctl_hdr *h)
{
	out[0] = h->ch_version;
	out[1] = h->ch_type;
	put_be16(out + 2, h->ch_flags);
	put_be32(out + 4, h->ch_len);
	put_be32(out + 8, h->ch_seq);
}

static int
flags_ok(uint8_t type, uint16_t flags)
{
	if (type == CTL_REQ_SHOW_SA)
		return (flags & ~CTL_F_REQ_MASK) == 0;
	return flags == 0;
}

int
ctl_hdr_decode(const uint8_t *p, size_t len, struct ctl_hdr *h)
{
	if (len < CTL_HDR_LEN)
		return CTL_E_SHORT;
	h->ch_version = p[0];
	h->ch_type = p[1];
	h->ch_flags = get_be16(p + 2);
	h->ch_len = get_be32(p + 4);
	h->ch_seq = get_be32(p + 8);
	if (h->ch_version != CTL_VERSION)
		return CTL_E_VERSION;
	if (h->ch_len > CTL_MAXMSG)
		return CTL_E_TOOBIG;
	if (ctl_type_name(h->ch_type) == NULL)
		return CTL_E_TYPE;
	if (!flags_ok(h->ch_type, h->ch_flags))
		return CTL_E_FLAGS;
	return CTL_E_OK;
}

/* ---- field decoders ---- */

static int
get_u8(struct rbuf *r, uint8_t *v)
{
	return rbuf_get_u8(r, v) == 0 ? CTL_E_OK : CTL_E_TRUNC;
}

static int
get_u16(struct rbuf *r, uint16_t *v)
{
	return rbuf_get_u16(r, v) == 0 ? CTL_E_OK : CTL_E_TRUNC;
}

static int
get_u32(struct rbuf *r, uint32_t *v)
{
	return rbuf_get_u32(r, v) == 0 ? CTL_E_OK : CTL_E_TRUNC;
}

static int
get_u64(struct rbuf *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (r->rb_len < 8)
		return CTL_E_TRUNC;
	(void)rbuf_get_u32(r, &hi);
	(void)rbuf_get_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return CTL_E_OK;
}

/* str into a char[max + 1]. */
static int
get_str(struct rbuf *r, char *out, size_t max)
{
	struct rbuf save = *r;
	uint16_t n;

	if (rbuf_get_u16(r, &n) != 0)
		return CTL_E_TRUNC;
	if (r->rb_len < n) {
		*r = save;
		return CTL_E_TRUNC;
	}
	if (n > max) {
		*r = save;
		return CTL_E_STRLEN;
	}
	if (memchr(r->rb_p, 0, n) != NULL) {
		*r = save;
		return CTL_E_STRNUL;
	}
	memcpy(out, r->rb_p, n);
	out[n] = '\0';
	(void)rbuf_skip(r, n);
	return CTL_E_OK;
}

static int
get_addr(struct rbuf *r, struct ctl_addr *a)
{
	static const uint8_t zero[16];
	uint8_t pad;

	if (r->rb_len < 20)
		return CTL_E_TRUNC;
	(void)rbuf_get_u8(r, &a->ca_af);
	(void)rbuf_get_u8(r, &pad);
	(void)rbuf_get_u16(r, &a->ca_port);
	(void)rbuf_get_bytes(r, a->ca_addr, 16);
	if (pad != 0)
		return CTL_E_ADDR;
	switch (a->ca_af) {
	case CTL_AF_NONE:
		if (a->ca_port != 0 || memcmp(a->ca_addr, zero, 16) != 0)
			return CTL_E_ADDR;
		break;
	case CTL_AF_INET:
		if (memcmp(a->ca_addr + 4, zero, 12) != 0)
			return CTL_E_ADDR;
		break;
	case CTL_AF_INET6:
		break;
	default:
		return CTL_E_ADDR;
	}
	return CTL_E_OK;
}

static int
get_key(struct rbuf *r, uint8_t *key, uint8_t *klen)
{
	uint8_t n;

	if (rbuf_get_u8(r, &n) != 0)
		return CTL_E_TRUNC;
	if (n > CTL_KEY_MAX)
		return CTL_E_KEYLEN;
	memset(key, 0, CTL_KEY_MAX);
	if (rbuf_get_bytes(r, key, n) != 0)
		return CTL_E_TRUNC;
	*klen = n;
	return CTL_E_OK;
}

/* Evaluate a decoder step; leave on the first error. */
#define D(x) do { if ((e = (x)) != CTL_E_OK) goto out; } while (0)
#define RANGE(v, lo, hi) do {						\
	if ((v) < (lo) || (v) > (hi)) { e = CTL_E_VALUE; goto out; }	\
} while (0)

static int
dec_req(uint8_t type, struct rbuf *r, struct ctl_req *q)
{
	int e = CTL_E_OK;

	memset(q, 0, sizeof(*q));
	switch (type) {
	case CTL_REQ_SHOW_SA:
	case CTL_REQ_FLUSH_SA:
		D(get_str(r, q->cr_peer, CTL_NAME_MAX));
		break;
	case CTL_REQ_INITIATE:
		D(get_str(r, q->cr_peer, CTL_NAME_MAX));
		D(get_str(r, q->cr_policy, CTL_NAME_MAX));
		if (q->cr_peer[0] == '\0')
			e = CTL_E_VALUE;
		break;
	case CTL_REQ_DELETE_SA:
		D(get_u32(r, &q->cr_spi));
		break;
	case CTL_REQ_RELOAD:
		D(get_str(r, q->cr_file, CTL_PATH_MAX));
		break;
	case CTL_REQ_LOG:
		D(get_u8(r, &q->cr_level));
		RANGE(q->cr_level, CTL_LOG_BRIEF, CTL_LOG_MAX);
		break;
	default:	/* SHOW_PEERS/XACT/STATS/SELF, MONITOR */
		break;
	}
out:
	return e;
}

static int
dec_sa(struct rbuf *r, struct ctl_sa *s)
{
	int e = CTL_E_OK;

	memset(s, 0, sizeof(*s));
	D(get_str(r, s->cs_peer, CTL_NAME_MAX));
	D(get_str(r, s->cs_policy, CTL_NAME_MAX));
	D(get_u8(r, &s->cs_dir));
	RANGE(s->cs_dir, CTL_SA_DIR_IN, CTL_SA_DIR_OUT);
	D(get_u8(r, &s->cs_proto));
	RANGE(s->cs_proto, PROTO_IPSEC_AH, PROTO_IPCOMP);
	D(get_u8(r, &s->cs_mode));
	RANGE(s->cs_mode, ENCAP_MODE_TUNNEL, ENCAP_MODE_TRANSPORT);
	D(get_u8(r, &s->cs_state));
	RANGE(s->cs_state, CTL_SA_LARVAL, CTL_SA_MISSING);
	D(get_u32(r, &s->cs_spi));
	D(get_addr(r, &s->cs_src));
	D(get_addr(r, &s->cs_dst));
	D(get_u16(r, &s->cs_enc));
	D(get_u16(r, &s->cs_enc_keylen));
	D(get_u16(r, &s->cs_auth));
	D(get_key(r, s->cs_enckey, &s->cs_enckey_len));
	D(get_key(r, s->cs_authkey, &s->cs_authkey_len));
	D(get_u32(r, &s->cs_life_soft_secs));
	D(get_u32(r, &s->cs_life_hard_secs));
	D(get_u64(r, &s->cs_life_soft_bytes));
	D(get_u64(r, &s->cs_life_hard_bytes));
	D(get_u64(r, &s->cs_created));
	D(get_u64(r, &s->cs_bytes));
	D(get_str(r, s->cs_reason, CTL_REASON_MAX));
out:
	return e;
}

static int
dec_peer(struct rbuf *r, struct ctl_peer *p)
{
	int e = CTL_E_OK;
	uint32_t off;

	memset(p, 0, sizeof(*p));
	D(get_str(r, p->cp_name, CTL_NAME_MAX));
	D(get_str(r, p->cp_principal, CTL_PRINC_MAX));
	D(get_u8(r, &p->cp_state));
	RANGE(p->cp_state, CTL_PEER_UNKNOWN, CTL_PEER_SUSPECTED);
	D(get_u8(r, &p->cp_naddr));
	RANGE(p->cp_naddr, 0, CTL_PEER_ADDR_MAX);
	for (unsigned i = 0; i < p->cp_naddr; i++)
		D(get_addr(r, &p->cp_addr[i]));
	D(get_u8(r, &p->cp_epoch_known));
	RANGE(p->cp_epoch_known, 0, 1);
	D(get_u32(r, &p->cp_epoch));
	D(get_u32(r, &off));
	p->cp_clock_offset = (int32_t)off;
	D(get_u64(r, &p->cp_last_seen));
	D(get_u32(r, &p->cp_nsa));
	D(get_str(r, p->cp_lasterr, CTL_REASON_MAX));
	D(get_u64(r, &p->cp_lasterr_time));
	D(get_u32(r, &p->cp_rto_ms));
	D(get_u32(r, &p->cp_rtt_samples));
	D(get_u32(r, &p->cp_srtt_ms));
	D(get_u32(r, &p->cp_rttvar_ms));
	D(get_u8(r, &p->cp_learned));
	RANGE(p->cp_learned, 0, 1);
	D(get_str(r, p->cp_range, CTL_NAME_MAX));
	D(get_str(r, p->cp_how, CTL_REASON_MAX));
out:
	return e;
}

static int
dec_xact(struct rbuf *r, struct ctl_xact *x)
{
	int e = CTL_E_OK;

	memset(x, 0, sizeof(*x));
	D(get_u32(r, &x->cx_xid));
	D(get_str(r, x->cx_peer, CTL_NAME_MAX));
	D(get_u8(r, &x->cx_cmd));
	RANGE(x->cx_cmd, KINK_MSGTYPE_CREATE, KINK_MSGTYPE_MAX);
	D(get_u8(r, &x->cx_role));
	RANGE(x->cx_role, CTL_ROLE_INITIATOR, CTL_ROLE_RESPONDER);
	D(get_str(r, x->cx_state, CTL_STATE_MAX));
	D(get_u16(r, &x->cx_tries));
	D(get_u32(r, &x->cx_age_ms));
out:
	return e;
}

static int
dec_stats(struct rbuf *r, struct ctl_stats *s)
{
	int e = CTL_E_OK;

	s->cst_n = 0;
	D(get_u16(r, &s->cst_n));
	if (s->cst_n > CTL_STATS_MAX) {
		s->cst_n = 0;
		return CTL_E_VALUE;
	}
	for (unsigned i = 0; i < s->cst_n; i++) {
		D(get_str(r, s->cst_v[i].cst_name, CTL_STAT_NAME_MAX));
		if (s->cst_v[i].cst_name[0] == '\0')
			return CTL_E_VALUE;
		D(get_u64(r, &s->cst_v[i].cst_value));
	}
out:
	return e;
}

static int
dec_event(struct rbuf *r, struct ctl_event *ev)
{
	int e = CTL_E_OK;

	memset(ev, 0, sizeof(*ev));
	D(get_u64(r, &ev->ce_time_ms));
	D(get_str(r, ev->ce_type, CTL_EVTYPE_MAX));
	if (ev->ce_type[0] == '\0')
		return CTL_E_VALUE;
	D(get_str(r, ev->ce_peer, CTL_NAME_MAX));
	D(get_u32(r, &ev->ce_xid));
	D(get_str(r, ev->ce_text, CTL_TEXT_MAX));
out:
	return e;
}

static int
dec_info(struct rbuf *r, struct ctl_info *in)
{
	int e = CTL_E_OK;

	memset(in, 0, sizeof(*in));
	D(get_str(r, in->ci_name, CTL_STAT_NAME_MAX));
	if (in->ci_name[0] == '\0')
		return CTL_E_VALUE;
	D(get_str(r, in->ci_value, CTL_TEXT_MAX));
out:
	return e;
}

static int
dec_policy(struct rbuf *r, struct ctl_policy *p)
{
	int e = CTL_E_OK;

	memset(p, 0, sizeof(*p));
	D(get_str(r, p->cpo_peer, CTL_NAME_MAX));
	D(get_str(r, p->cpo_name, CTL_NAME_MAX));
	D(get_u32(r, &p->cpo_reqid));
	D(get_u8(r, &p->cpo_mode));
	RANGE(p->cpo_mode, ENCAP_MODE_TUNNEL, ENCAP_MODE_TRANSPORT);
	D(get_addr(r, &p->cpo_src));
	D(get_u8(r, &p->cpo_src_plen));
	D(get_addr(r, &p->cpo_dst));
	D(get_u8(r, &p->cpo_dst_plen));
	D(get_u8(r, &p->cpo_ulproto));
	D(get_u32(r, &p->cpo_priority));
	D(get_u8(r, &p->cpo_ndir));
	RANGE(p->cpo_ndir, 1, CTL_POL_DIR_MAX);
	for (unsigned i = 0; i < p->cpo_ndir; i++) {
		D(get_u8(r, &p->cpo_dir[i]));
		RANGE(p->cpo_dir[i], CTL_POL_DIR_OUT, CTL_POL_DIR_MAX);
		D(get_u8(r, &p->cpo_kernel[i]));
		RANGE(p->cpo_kernel[i], CTL_POL_K_NO, CTL_POL_K_UNKNOWN);
	}
out:
	return e;
}

static int
dec_error(struct rbuf *r, struct ctl_error *er)
{
	int e = CTL_E_OK;

	er->er_code = 0;
	er->er_text[0] = '\0';
	D(get_u16(r, &er->er_code));
	RANGE(er->er_code, 1, CTL_ERR_MAX);
	D(get_str(r, er->er_text, CTL_ERRTEXT_MAX));
out:
	return e;
}

#undef D
#undef RANGE

int
ctl_payload_decode(uint8_t type, uint16_t flags, struct rbuf r,
    struct ctl_msg *m)
{
	int e;

	if (ctl_type_name(type) == NULL)
		return CTL_E_TYPE;
	if (!flags_ok(type, flags))
		return CTL_E_FLAGS;
	if (ctl_type_is_request(type))
		e = dec_req(type, &r, &m->m_req);
	else {
		switch (type) {
		case CTL_REC_SA:	e = dec_sa(&r, &m->m_sa); break;
		case CTL_REC_PEER:	e = dec_peer(&r, &m->m_peer); break;
		case CTL_REC_XACT:	e = dec_xact(&r, &m->m_xact); break;
		case CTL_REC_STATS:	e = dec_stats(&r, &m->m_stats); break;
		case CTL_REC_EVENT:	e = dec_event(&r, &m->m_event); break;
		case CTL_REC_INFO:	e = dec_info(&r, &m->m_info); break;
		case CTL_REC_POLICY:	e = dec_policy(&r, &m->m_policy); break;
		case CTL_ERROR:		e = dec_error(&r, &m->m_error); break;
		default:		e = CTL_E_OK; break;	/* END */
		}
	}
	if (e == CTL_E_OK && r.rb_len != 0)
		e = CTL_E_TRAILING;
	return e;
}

int
ctl_msg_decode(const uint8_t *p, size_t len, struct ctl_msg *m, size_t *used)
{
	int e;

	if ((e = ctl_hdr_decode(p, len, &m->m_hdr)) != CTL_E_OK)
		return e;
	if (len - CTL_HDR_LEN < m->m_hdr.ch_len)
		return CTL_E_SHORT;
	e = ctl_payload_decode(m->m_hdr.ch_type, m->m_hdr.ch_flags,
	    rbuf_make(p + CTL_HDR_LEN, m->m_hdr.ch_len), m);
	if (e == CTL_E_OK)
		*used = CTL_HDR_LEN + m->m_hdr.ch_len;
	return e;
}

/* ---- encoders: same rules as the decoders ---- */

#define E(x) do { if ((e = (x)) != CTL_E_OK) goto out; } while (0)
#define P(x) do { if ((x) != 0) { e = CTL_E_NOSPACE; goto out; } } while (0)
#define RANGE(v, lo, hi) do {						\
	if ((v) < (lo) || (v) > (hi)) { e = CTL_E_VALUE; goto out; }	\
} while (0)

static int
put_u64(struct buf *b, uint64_t v)
{
	if (buf_put_u32(b, (uint32_t)(v >> 32)) != 0 ||
	    buf_put_u32(b, (uint32_t)v) != 0)
		return CTL_E_NOSPACE;
	return CTL_E_OK;
}

static int
put_str(struct buf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		return CTL_E_STRLEN;
	if (buf_put_u16(b, (uint16_t)n) != 0 || buf_put(b, s, n) != 0)
		return CTL_E_NOSPACE;
	return CTL_E_OK;
}

static int
put_addr(struct buf *b, const struct ctl_addr *a)
{
	static const uint8_t zero[16];

	switch (a->ca_af) {
	case CTL_AF_NONE:
		if (a->ca_port != 0 || memcmp(a->ca_addr, zero, 16) != 0)
			return CTL_E_ADDR;
		break;
	case CTL_AF_INET:
		if (memcmp(a->ca_addr + 4, zero, 12) != 0)
			return CTL_E_ADDR;
		break;
	case CTL_AF_INET6:
		break;
	default:
		return CTL_E_ADDR;
	}
	if (buf_put_u8(b, a->ca_af) != 0 || buf_put_u8(b, 0) != 0 ||
	    buf_put_u16(b, a->ca_port) != 0 || buf_put(b, a->ca_addr, 16) != 0)
		return CTL_E_NOSPACE;
	return CTL_E_OK;
}

static int
put_key(struct buf *b, const uint8_t *key, uint8_t n)
{
	if (n > CTL_KEY_MAX)
		return CTL_E_KEYLEN;
	if (buf_put_u8(b, n) != 0 || buf_put(b, key, n) != 0)
		return CTL_E_NOSPACE;
	return CTL_E_OK;
}

static int
enc_req(struct buf *b, uint8_t type, const struct ctl_req *q)
{
	int e = CTL_E_OK;

	switch (type) {
	case CTL_REQ_SHOW_SA:
	case CTL_REQ_FLUSH_SA:
		E(put_str(b, q->cr_peer, CTL_NAME_MAX));
		break;
	case CTL_REQ_INITIATE:
		if (q->cr_peer[0] == '\0')
			return CTL_E_VALUE;
		E(put_str(b, q->cr_peer, CTL_NAME_MAX));
		E(put_str(b, q->cr_policy, CTL_NAME_MAX));
		break;
	case CTL_REQ_DELETE_SA:
		P(buf_put_u32(b, q->cr_spi));
		break;
	case CTL_REQ_RELOAD:
		E(put_str(b, q->cr_file, CTL_PATH_MAX));
		break;
	case CTL_REQ_LOG:
		RANGE(q->cr_level, CTL_LOG_BRIEF, CTL_LOG_MAX);
		P(buf_put_u8(b, q->cr_level));
		break;
	default:
		break;
	}
out:
	return e;
}

static int
enc_sa(struct buf *b, const struct ctl_sa *s)
{
	int e = CTL_E_OK;

	RANGE(s->cs_dir, CTL_SA_DIR_IN, CTL_SA_DIR_OUT);
	RANGE(s->cs_proto, PROTO_IPSEC_AH, PROTO_IPCOMP);
	RANGE(s->cs_mode, ENCAP_MODE_TUNNEL, ENCAP_MODE_TRANSPORT);
	RANGE(s->cs_state, CTL_SA_LARVAL, CTL_SA_MISSING);
	E(put_str(b, s->cs_peer, CTL_NAME_MAX));
	E(put_str(b, s->cs_policy, CTL_NAME_MAX));
	P(buf_put_u8(b, s->cs_dir));
	P(buf_put_u8(b, s->cs_proto));
	P(buf_put_u8(b, s->cs_mode));
	P(buf_put_u8(b, s->cs_state));
	P(buf_put_u32(b, s->cs_spi));
	E(put_addr(b, &s->cs_src));
	E(put_addr(b, &s->cs_dst));
	P(buf_put_u16(b, s->cs_enc));
	P(buf_put_u16(b, s->cs_enc_keylen));
	P(buf_put_u16(b, s->cs_auth));
	E(put_key(b, s->cs_enckey, s->cs_enckey_len));
	E(put_key(b, s->cs_authkey, s->cs_authkey_len));
	P(buf_put_u32(b, s->cs_life_soft_secs));
	P(buf_put_u32(b, s->cs_life_hard_secs));
	E(put_u64(b, s->cs_life_soft_bytes));
	E(put_u64(b, s->cs_life_hard_bytes));
	E(put_u64(b, s->cs_created));
	E(put_u64(b, s->cs_bytes));
	E(put_str(b, s->cs_reason, CTL_REASON_MAX));
out:
	return e;
}

static int
enc_peer(struct buf *b, const struct ctl_peer *p)
{
	int e = CTL_E_OK;

	RANGE(p->cp_state, CTL_PEER_UNKNOWN, CTL_PEER_SUSPECTED);
	RANGE(p->cp_naddr, 0, CTL_PEER_ADDR_MAX);
	RANGE(p->cp_epoch_known, 0, 1);
	RANGE(p->cp_learned, 0, 1);
	E(put_str(b, p->cp_name, CTL_NAME_MAX));
	E(put_str(b, p->cp_principal, CTL_PRINC_MAX));
	P(buf_put_u8(b, p->cp_state));
	P(buf_put_u8(b, p->cp_naddr));
	for (unsigned i = 0; i < p->cp_naddr; i++)
		E(put_addr(b, &p->cp_addr[i]));
	P(buf_put_u8(b, p->cp_epoch_known));
	P(buf_put_u32(b, p->cp_epoch));
	P(buf_put_u32(b, (uint32_t)p->cp_clock_offset));
	E(put_u64(b, p->cp_last_seen));
	P(buf_put_u32(b, p->cp_nsa));
	E(put_str(b, p->cp_lasterr, CTL_REASON_MAX));
	E(put_u64(b, p->cp_lasterr_time));
	P(buf_put_u32(b, p->cp_rto_ms));
	P(buf_put_u32(b, p->cp_rtt_samples));
	P(buf_put_u32(b, p->cp_srtt_ms));
	P(buf_put_u32(b, p->cp_rttvar_ms));
	P(buf_put_u8(b, p->cp_learned));
	E(put_str(b, p->cp_range, CTL_NAME_MAX));
	E(put_str(b, p->cp_how, CTL_REASON_MAX));
out:
	return e;
}

static int
enc_xact(struct buf *b, const struct ctl_xact *x)
{
	int e = CTL_E_OK;

	RANGE(x->cx_cmd, KINK_MSGTYPE_CREATE, KINK_MSGTYPE_MAX);
	RANGE(x->cx_role, CTL_ROLE_INITIATOR, CTL_ROLE_RESPONDER);
	P(buf_put_u32(b, x->cx_xid));
	E(put_str(b, x->cx_peer, CTL_NAME_MAX));
	P(buf_put_u8(b, x->cx_cmd));
	P(buf_put_u8(b, x->cx_role));
	E(put_str(b, x->cx_state, CTL_STATE_MAX));
	P(buf_put_u16(b, x->cx_tries));
	P(buf_put_u32(b, x->cx_age_ms));
out:
	return e;
}

static int
enc_stats(struct buf *b, const struct ctl_stats *s)
{
	int e = CTL_E_OK;

	RANGE(s->cst_n, 0, CTL_STATS_MAX);
	P(buf_put_u16(b, s->cst_n));
	for (unsigned i = 0; i < s->cst_n; i++) {
		if (s->cst_v[i].cst_name[0] == '\0')
			return CTL_E_VALUE;
		E(put_str(b, s->cst_v[i].cst_name, CTL_STAT_NAME_MAX));
		E(put_u64(b, s->cst_v[i].cst_value));
	}
out:
	return e;
}

static int
enc_event(struct buf *b, const struct ctl_event *ev)
{
	int e = CTL_E_OK;

	if (ev->ce_type[0] == '\0')
		return CTL_E_VALUE;
	E(put_u64(b, ev->ce_time_ms));
	E(put_str(b, ev->ce_type, CTL_EVTYPE_MAX));
	E(put_str(b, ev->ce_peer, CTL_NAME_MAX));
	P(buf_put_u32(b, ev->ce_xid));
	E(put_str(b, ev->ce_text, CTL_TEXT_MAX));
out:
	return e;
}

static int
enc_info(struct buf *b, const struct ctl_info *in)
{
	int e = CTL_E_OK;

	if (in->ci_name[0] == '\0')
		return CTL_E_VALUE;
	E(put_str(b, in->ci_name, CTL_STAT_NAME_MAX));
	E(put_str(b, in->ci_value, CTL_TEXT_MAX));
out:
	return e;
}

static int
enc_policy(struct buf *b, const struct ctl_policy *p)
{
	int e = CTL_E_OK;

	RANGE(p->cpo_ndir, 1, CTL_POL_DIR_MAX);
	RANGE(p->cpo_mode, ENCAP_MODE_TUNNEL, ENCAP_MODE_TRANSPORT);
	E(put_str(b, p->cpo_peer, CTL_NAME_MAX));
	E(put_str(b, p->cpo_name, CTL_NAME_MAX));
	P(buf_put_u32(b, p->cpo_reqid));
	P(buf_put_u8(b, p->cpo_mode));
	E(put_addr(b, &p->cpo_src));
	P(buf_put_u8(b, p->cpo_src_plen));
	E(put_addr(b, &p->cpo_dst));
	P(buf_put_u8(b, p->cpo_dst_plen));
	P(buf_put_u8(b, p->cpo_ulproto));
	P(buf_put_u32(b, p->cpo_priority));
	P(buf_put_u8(b, p->cpo_ndir));
	for (unsigned i = 0; i < p->cpo_ndir; i++) {
		RANGE(p->cpo_dir[i], CTL_POL_DIR_OUT, CTL_POL_DIR_MAX);
		RANGE(p->cpo_kernel[i], CTL_POL_K_NO, CTL_POL_K_UNKNOWN);
		P(buf_put_u8(b, p->cpo_dir[i]));
		P(buf_put_u8(b, p->cpo_kernel[i]));
	}
out:
	return e;
}

static int
enc_error(struct buf *b, const struct ctl_error *er)
{
	int e = CTL_E_OK;

	RANGE(er->er_code, 1, CTL_ERR_MAX);
	P(buf_put_u16(b, er->er_code));
	E(put_str(b, er->er_text, CTL_ERRTEXT_MAX));
out:
	return e;
}

#undef E
#undef P
#undef RANGE

int
ctl_msg_encode(struct buf *out, const struct ctl_msg *m)
{
	uint8_t hdr[CTL_HDR_LEN];
	struct ctl_hdr h = m->m_hdr;
	size_t start = out->b_len;
	uint8_t type = h.ch_type;
	int e;

	if (ctl_type_name(type) == NULL)
		return CTL_E_TYPE;
	if (!flags_ok(type, h.ch_flags))
		return CTL_E_FLAGS;
	if (buf_put_zero(out, CTL_HDR_LEN) != 0)
		return CTL_E_NOSPACE;
	if (ctl_type_is_request(type))
		e = enc_req(out, type, &m->m_req);
	else {
		switch (type) {
		case CTL_REC_SA:	e = enc_sa(out, &m->m_sa); break;
		case CTL_REC_PEER:	e = enc_peer(out, &m->m_peer); break;
		case CTL_REC_XACT:	e = enc_xact(out, &m->m_xact); break;
		case CTL_REC_STATS:	e = enc_stats(out, &m->m_stats); break;
		case CTL_REC_EVENT:	e = enc_event(out, &m->m_event); break;
		case CTL_REC_INFO:	e = enc_info(out, &m->m_info); break;
		case CTL_REC_POLICY:	e = enc_policy(out, &m->m_policy); break;
		case CTL_ERROR:		e = enc_error(out, &m->m_error); break;
		default:		e = CTL_E_OK; break;
		}
	}
	if (e == CTL_E_OK && out->b_len - start - CTL_HDR_LEN > CTL_MAXMSG)
		e = CTL_E_TOOBIG;
	if (e != CTL_E_OK) {
		/* Wipe what was written: an SA record holds keys. */
		memset(out->b_data + start, 0, out->b_len - start);
		out->b_len = start;
		return e;
	}
	h.ch_version = CTL_VERSION;
	h.ch_len = (uint32_t)(out->b_len - start - CTL_HDR_LEN);
	ctl_hdr_encode(hdr, &h);
	memcpy(out->b_data + start, hdr, CTL_HDR_LEN);
	return CTL_E_OK;
}

void
ctl_addr_from_sockaddr(struct ctl_addr *a, const struct sockaddr *sa)
{
	const uint8_t *b;
	size_t len;

	memset(a, 0, sizeof(*a));
	if (sa == NULL ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	a->ca_af = sa->sa_family == AF_INET ? CTL_AF_INET : CTL_AF_INET6;
	a->ca_port = addr_port(sa);
	b = addr_bytes(sa, &len);
	memcpy(a->ca_addr, b, len);
}

int
ctl_addr_to_sockaddr(const struct ctl_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->ca_af == CTL_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->ca_port);
		memcpy(&sin->sin_addr, a->ca_addr, 4);
		return CTL_E_OK;
	}
	if (a->ca_af == CTL_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->ca_port);
		memcpy(&s6->sin6_addr, a->ca_addr, 16);
		return CTL_E_OK;
	}
	return CTL_E_ADDR;
}
