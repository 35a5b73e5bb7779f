/*
 * KINK message codec (RFC 4430 §4, §4.1, §4.2).  See wire.h for the model:
 * views into the datagram, precise error codes, a builder that leaves
 * checksum and encryption to the caller.  Only buf helpers and libc here.
 *
 * Reserved fields.  RFC 4430 §4: "The RESERVED fields MUST be set to zero
 * (0) when a packet is sent.  The receiver MUST ignore these fields."  The
 * parser therefore accepts any value in the RESRVED nibble of octet 1, in
 * RESERVED2 (octet 13 bits 6..0), in each payload's RESERVED octet, in
 * KINK_ISAKMP's 2 reserved octets, in the 3 octets after InnerNextPload and
 * in the alignment padding; the builder writes zeros.  racoon2 rejects a
 * non-zero minor nibble, but that nibble was the minor version only in the
 * drafts: RFC 4430 renamed it RESRVED and dropped KINK_INVMIN (code 4 is
 * RESERVED), so there is no error to answer with and rejecting would break
 * the forward compatibility the MUST-ignore rule exists for.  The raw values
 * stay visible (m_resv, m_flags) for logging.  QMMin is not reserved: it is
 * part of the Quick Mode version, and anything but 1.0 is KINK_BADQMVERS.
 */
#include <stdint.h>
#include <string.h>

#include "kink.h"
#include "buf.h"
#include "wire.h"

/* Payload types that may appear at most once (outer and inner together). */
#define ONCE_ONLY	((1U << KINK_AP_REQ) | (1U << KINK_AP_REP) |	\
			 (1U << KINK_KRB_ERROR) | (1U << KINK_TGT_REQ) |	\
			 (1U << KINK_TGT_REP) | (1U << KINK_ENCRYPT) |	\
			 (1U << KINK_ERROR))
/* Payloads that cannot be inside KINK_ENCRYPT: they carry or need the key. */
#define NOT_INNER	((1U << KINK_AP_REQ) | (1U << KINK_AP_REP) |	\
			 (1U << KINK_ENCRYPT))

#define ALIGN4(n)	(((n) + 3) & ~(size_t)3)

enum kb_state {
	KB_NONE = 0,
	KB_OUTER,	/* adding outer payloads */
	KB_INNER,	/* adding payloads inside KINK_ENCRYPT */
	KB_SEALED,	/* plaintext handed out, waiting for ciphertext */
	KB_ENCDONE,	/* ciphertext placed; ENCRYPT is last */
	KB_FINISHED,	/* Length set, CksumLen 0 */
	KB_CKSUMMED	/* Cksum appended */
};

static int
known_payload(unsigned int t)
{
	return t >= KINK_AP_REQ && t <= KINK_PAYLOAD_MAX;
}

/*
 * Walk one payload chain: `first` is the type of the first payload, `p` and
 * `len` the octets the chain lives in.  Outer chains must fill `len` up to
 * the 4-octet padding of the last payload; inner (decrypted) chains may be
 * followed by cipher padding, which is ignored (notes b.3).
 */
static int
parse_chain(struct kink_msg *m, uint8_t first, const uint8_t *p, size_t len,
    int inner)
{
	struct kink_isakmp_pl *ip;
	struct rbuf body;
	unsigned int type = first;
	size_t off = 0, plen, adv;
	uint8_t next;

	while (type != KINK_DONE) {
		if (!known_payload(type))
			return KINK_WE_UNKNOWN_PL;
		if (off >= len)
			return KINK_WE_NO_DONE;
		if (len - off < KINK_PL_HDR_LEN)
			return KINK_WE_PL_SHORT;
		next = p[off];
		plen = get_be16(p + off + 2);
		if (plen < KINK_PL_HDR_LEN)
			return KINK_WE_PL_SHORT;
		if (plen > len - off)
			return KINK_WE_PL_OVERRUN;
		if (inner && (NOT_INNER & (1U << type)))
			return KINK_WE_INNER_PL;
		if ((ONCE_ONLY & (1U << type)) && (m->m_present & (1U << type)))
			return KINK_WE_DUP;
		body = rbuf_make(p + off + KINK_PL_HDR_LEN,
		    plen - KINK_PL_HDR_LEN);

		switch (type) {
		case KINK_AP_REQ:
		case KINK_AP_REP:
			if (body.rb_len < 4)
				return KINK_WE_PL_SHORT;
			if (type == KINK_AP_REQ) {
				m->m_ap_req_epoch = get_be32(body.rb_p);
				m->m_ap_req = rbuf_make(body.rb_p + 4,
				    body.rb_len - 4);
			} else {
				m->m_ap_rep_epoch = get_be32(body.rb_p);
				m->m_ap_rep = rbuf_make(body.rb_p + 4,
				    body.rb_len - 4);
			}
			break;
		case KINK_KRB_ERROR:
			m->m_krb_error = body;
			break;
		case KINK_TGT_REQ:
			m->m_tgt_req = body;
			break;
		case KINK_TGT_REP:
			m->m_tgt_rep = body;
			break;
		case KINK_ISAKMP:
			if (body.rb_len < 4)
				return KINK_WE_PL_SHORT;
			if (m->m_nisakmp >= WIRE_MAX_ISAKMP)
				return KINK_WE_TOO_MANY;
			if (body.rb_p[1] != KINK_QMVERSION)
				return KINK_WE_QMVERS;
			ip = &m->m_isakmp[m->m_nisakmp++];
			ip->ip_inner_next = body.rb_p[0];
			ip->ip_qmver = body.rb_p[1];
			ip->ip_encrypted = inner;
			ip->ip_body = rbuf_make(body.rb_p + 4, body.rb_len - 4);
			break;
		case KINK_ENCRYPT:
			/* §4.2.7: MUST be the final payload of the outer chain. */
			if (next != KINK_DONE)
				return KINK_WE_ENCRYPT_NOT_LAST;
			m->m_encrypt = body;
			break;
		case KINK_ERROR:
			if (plen != KINK_ERROR_PL_LEN)
				return KINK_WE_PL_LEN;
			m->m_error = get_be32(body.rb_p);
			break;
		}
		m->m_present |= 1U << type;
		m->m_npayloads++;
		if (inner)
			m->m_inner |= 1U << type;

		/*
		 * The last payload's padding may be missing (§4.1 allows
		 * Length to end the message there); any other payload
		 * running into the end makes the next check fail NO_DONE.
		 */
		adv = ALIGN4(plen);
		off = adv > len - off ? len : off + adv;
		type = next;
	}
	if (!inner && off < len)
		return KINK_WE_TRAILING;
	return KINK_WE_OK;
}

int
wire_parse(struct kink_msg *m, const uint8_t *p, size_t len)
{
	size_t l0;

	memset(m, 0, sizeof(*m));
	if (p == NULL || len < KINK_HDR_LEN)
		return KINK_WE_SHORT;
	m->m_type = p[0];
	m->m_mjver = p[1] >> 4;
	m->m_resv = p[1] & 0x0f;
	m->m_length = get_be16(p + 2);
	m->m_doi = get_be32(p + 4);
	m->m_xid = get_be32(p + 8);
	m->m_next = p[12];
	m->m_flags = p[13];
	m->m_cksumlen = get_be16(p + 14);

	/* Version first: with another MjVer nothing else can be trusted. */
	if (m->m_mjver != KINK_MJVER)
		return KINK_WE_MAJVER;
	if (m->m_length < KINK_HDR_LEN)
		return KINK_WE_LEN_SHORT;
	if (m->m_length > len)
		return KINK_WE_LEN_LONG;
	/* §4 Length: data after the message is "not forbidden"; ignore it. */
	m->m_excess = len - m->m_length;
	if (m->m_type == KINK_MSGTYPE_RESERVED ||
	    m->m_type > KINK_MSGTYPE_MAX)
		return KINK_WE_MSGTYPE;
	if (m->m_cksumlen > m->m_length - KINK_HDR_LEN)
		return KINK_WE_CKSUMLEN;
	l0 = m->m_length - m->m_cksumlen;
	/* §4.1: the Cksum field is 4-aligned; without one, no constraint. */
	if (m->m_cksumlen > 0 && l0 % KINK_ALIGN != 0)
		return KINK_WE_CKSUM_ALIGN;
	if (m->m_doi != KINK_DOI_IPSEC)
		return KINK_WE_DOI;

	m->m_raw = rbuf_make(p, m->m_length);
	m->m_covered = rbuf_make(p, l0);
	m->m_cksum = rbuf_make(p + l0, m->m_cksumlen);
	return parse_chain(m, m->m_next, p + KINK_HDR_LEN, l0 - KINK_HDR_LEN,
	    0);
}

int
wire_parse_inner(struct kink_msg *m, const uint8_t *plain, size_t len)
{
	struct kink_msg t;
	int r;

	if (!wire_has(m, KINK_ENCRYPT) || m->m_decrypted)
		return KINK_WE_NOT_ENCRYPTED;
	if (plain == NULL || len < 4)
		return KINK_WE_INNER_SHORT;
	/* Work on a copy so that a bad plaintext leaves *m as it was. */
	t = *m;
	if ((r = parse_chain(&t, plain[0], plain + 4, len - 4, 1)) != 0)
		return r;
	t.m_decrypted = 1;
	*m = t;
	return KINK_WE_OK;
}

#define BIT(t)	(1U << (t))

int
wire_check_type(const struct kink_msg *m)
{
	uint32_t need = 0, deny = 0, only = 0;

	switch (m->m_type) {
	case KINK_MSGTYPE_CREATE:
	case KINK_MSGTYPE_DELETE:
	case KINK_MSGTYPE_STATUS:
		need = BIT(KINK_AP_REQ);
		deny = BIT(KINK_AP_REP) | BIT(KINK_TGT_REQ) | BIT(KINK_TGT_REP);
		break;
	case KINK_MSGTYPE_ACK:
		only = BIT(KINK_AP_REQ);
		break;
	case KINK_MSGTYPE_GETTGT:
		only = BIT(KINK_TGT_REQ);
		break;
	case KINK_MSGTYPE_REPLY:
		need = BIT(KINK_AP_REP) | BIT(KINK_KRB_ERROR) |
		    BIT(KINK_ERROR) | BIT(KINK_TGT_REP);
		deny = BIT(KINK_AP_REQ) | BIT(KINK_TGT_REQ);
		break;
	default:
		return KINK_WE_MSGTYPE;
	}
	if (only != 0) {
		if ((m->m_present & only) == 0)
			return KINK_WE_MISSING_PL;
		if ((m->m_present & ~only) != 0)
			return KINK_WE_UNEXPECTED_PL;
		return KINK_WE_OK;
	}
	/* "need" is any-of: one REPLY form suffices. */
	if ((m->m_present & need) == 0)
		return KINK_WE_MISSING_PL;
	if ((m->m_present & deny) != 0)
		return KINK_WE_UNEXPECTED_PL;
	return KINK_WE_OK;
}

int
wire_cksum_input(const struct kink_msg *m, uint8_t *out, size_t max,
    size_t *outlen)
{
	size_t l0 = m->m_covered.rb_len;

	if (l0 < KINK_HDR_LEN || m->m_covered.rb_p == NULL)
		return KINK_WE_ARG;
	if (out == NULL || max < l0)
		return KINK_WE_NOSPACE;
	memcpy(out, m->m_covered.rb_p, l0);
	/* §4 Cksum: Length = length without the checksum, CksumLen = 0. */
	put_be16(out + 2, (uint16_t)l0);
	put_be16(out + 14, 0);
	*outlen = l0;
	return KINK_WE_OK;
}

/* Builder. */

static int
kb_fail(struct kink_builder *kb, int err)
{
	if (kb->kb_err == 0)
		kb->kb_err = err;
	return kb->kb_err;
}

/* Append octets, refusing to grow the message past KINK_MAX_MSG. */
static int
kb_put(struct kink_builder *kb, const void *p, size_t len)
{
	struct buf *b = kb->kb_buf;

	if (len > KINK_MAX_MSG || b->b_len > KINK_MAX_MSG - len)
		return kb_fail(kb, KINK_WE_NOSPACE);
	if (len > 0 && p == NULL)
		return kb_fail(kb, KINK_WE_ARG);
	if (buf_put(b, p, len) == -1)
		return kb_fail(kb, KINK_WE_NOSPACE);
	return 0;
}

static int
kb_pad(struct kink_builder *kb)
{
	static const uint8_t zero[KINK_ALIGN];
	size_t rem = kb->kb_buf->b_len % KINK_ALIGN;

	return rem == 0 ? 0 : kb_put(kb, zero, KINK_ALIGN - rem);
}

/*
 * Start a payload of `type` whose value is `hdrx` (fixed part, `hdrxlen`
 * octets) followed by `data`: pad the previous payload, link it to this one
 * through its Next Payload octet, write the generic header.
 */
static int
kb_payload(struct kink_builder *kb, uint8_t type, const uint8_t *hdrx,
    size_t hdrxlen, const void *data, size_t len)
{
	uint8_t h[KINK_PL_HDR_LEN];
	size_t plen, off;

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_OUTER && kb->kb_state != KB_INNER)
		return kb_fail(kb, KINK_WE_BUILD_STATE);
	if (len > 0 && data == NULL)
		return kb_fail(kb, KINK_WE_ARG);
	if (len > UINT16_MAX - KINK_PL_HDR_LEN - hdrxlen)
		return kb_fail(kb, KINK_WE_NOSPACE);
	plen = KINK_PL_HDR_LEN + hdrxlen + len;
	if (kb_pad(kb) != 0)
		return kb->kb_err;
	off = kb->kb_buf->b_len;
	h[0] = KINK_DONE;
	h[1] = 0;
	put_be16(h + 2, (uint16_t)plen);
	if (kb_put(kb, h, sizeof(h)) != 0 || kb_put(kb, hdrx, hdrxlen) != 0 ||
	    kb_put(kb, data, len) != 0)
		return kb->kb_err;
	kb->kb_buf->b_data[kb->kb_next_off] = type;
	kb->kb_next_off = off;
	kb->kb_npayloads++;
	return 0;
}

int
wire_build_begin(struct kink_builder *kb, struct buf *b, uint8_t type,
    uint32_t doi, uint32_t xid, uint8_t flags)
{
	uint8_t h[KINK_HDR_LEN];

	memset(kb, 0, sizeof(*kb));
	if (b == NULL)
		return kb_fail(kb, KINK_WE_ARG);
	kb->kb_buf = b;
	/* RESERVED2 MUST be zero on send (§4). */
	if (flags & KINK_RESERVED2_MASK)
		return kb_fail(kb, KINK_WE_ARG);
	buf_reset(b);
	h[0] = type;
	h[1] = KINK_VERSION;
	put_be16(h + 2, 0);
	put_be32(h + 4, doi);
	put_be32(h + 8, xid);
	h[12] = KINK_DONE;
	h[13] = flags;
	put_be16(h + 14, 0);
	if (kb_put(kb, h, sizeof(h)) != 0)
		return kb->kb_err;
	kb->kb_next_off = 12;
	kb->kb_state = KB_OUTER;
	return 0;
}

static int
build_ap(struct kink_builder *kb, uint8_t type, uint32_t epoch,
    const void *der, size_t len)
{
	uint8_t e[4];

	put_be32(e, epoch);
	return kb_payload(kb, type, e, sizeof(e), der, len);
}

int
wire_build_ap_req(struct kink_builder *kb, uint32_t epoch, const void *der,
    size_t len)
{
	return build_ap(kb, KINK_AP_REQ, epoch, der, len);
}

int
wire_build_ap_rep(struct kink_builder *kb, uint32_t epoch, const void *der,
    size_t len)
{
	return build_ap(kb, KINK_AP_REP, epoch, der, len);
}

int
wire_build_krb_error(struct kink_builder *kb, const void *der, size_t len)
{
	return kb_payload(kb, KINK_KRB_ERROR, NULL, 0, der, len);
}

int
wire_build_tgt_req(struct kink_builder *kb, const void *princ, size_t len)
{
	return kb_payload(kb, KINK_TGT_REQ, NULL, 0, princ, len);
}

int
wire_build_tgt_rep(struct kink_builder *kb, const void *der, size_t len)
{
	return kb_payload(kb, KINK_TGT_REP, NULL, 0, der, len);
}

int
wire_build_isakmp(struct kink_builder *kb, uint8_t inner_next,
    uint8_t qmver, const void *body, size_t len)
{
	uint8_t x[4] = { inner_next, qmver, 0, 0 };

	return kb_payload(kb, KINK_ISAKMP, x, sizeof(x), body, len);
}

int
wire_build_error(struct kink_builder *kb, uint32_t code)
{
	uint8_t c[4];

	put_be32(c, code);
	return kb_payload(kb, KINK_ERROR, c, sizeof(c), NULL, 0);
}

int
wire_build_encrypt_begin(struct kink_builder *kb)
{
	static const uint8_t pre[4];	/* InnerNextPload + RESERVED2 */

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_OUTER)
		return kb_fail(kb, KINK_WE_BUILD_STATE);
	if (kb_payload(kb, KINK_ENCRYPT, NULL, 0, NULL, 0) != 0)
		return kb->kb_err;
	kb->kb_enc_off = kb->kb_next_off;
	kb->kb_inner_next_off = kb->kb_buf->b_len;
	if (kb_put(kb, pre, sizeof(pre)) != 0)
		return kb->kb_err;
	/* Inner payloads link from InnerNextPload, not from ENCRYPT's own. */
	kb->kb_next_off = kb->kb_inner_next_off;
	kb->kb_state = KB_INNER;
	return 0;
}

int
wire_build_encrypt_plain(struct kink_builder *kb, struct rbuf *plain)
{
	struct buf *b = kb->kb_buf;

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_INNER || plain == NULL)
		return kb_fail(kb, plain == NULL ? KINK_WE_ARG :
		    KINK_WE_BUILD_STATE);
	/*
	 * The plaintext ends with the last inner payload, unpadded (racoon2
	 * encrypts the same span); the receiver ignores what follows.
	 */
	*plain = rbuf_make(b->b_data + kb->kb_inner_next_off,
	    b->b_len - kb->kb_inner_next_off);
	kb->kb_state = KB_SEALED;
	return 0;
}

int
wire_build_encrypt_end(struct kink_builder *kb, const void *ct, size_t len)
{
	struct buf *b = kb->kb_buf;

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_SEALED)
		return kb_fail(kb, KINK_WE_BUILD_STATE);
	if (len > UINT16_MAX - KINK_PL_HDR_LEN)
		return kb_fail(kb, KINK_WE_NOSPACE);
	/* Drop the plaintext; the ciphertext takes its place. */
	explicit_bzero(b->b_data + kb->kb_inner_next_off,
	    b->b_len - kb->kb_inner_next_off);
	b->b_len = kb->kb_inner_next_off;
	if (kb_put(kb, ct, len) != 0)
		return kb->kb_err;
	put_be16(b->b_data + kb->kb_enc_off + 2,
	    (uint16_t)(KINK_PL_HDR_LEN + len));
	kb->kb_next_off = kb->kb_enc_off;
	kb->kb_state = KB_ENCDONE;
	return 0;
}

int
wire_build_finish(struct kink_builder *kb, struct rbuf *covered)
{
	struct buf *b = kb->kb_buf;

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_OUTER && kb->kb_state != KB_ENCDONE)
		return kb_fail(kb, KINK_WE_BUILD_STATE);
	/* notes b.2 step 1-2: pad, Length = L0, CksumLen = 0. */
	if (kb_pad(kb) != 0)
		return kb->kb_err;
	kb->kb_l0 = b->b_len;
	put_be16(b->b_data + 2, (uint16_t)kb->kb_l0);
	put_be16(b->b_data + 14, 0);
	if (covered != NULL)
		*covered = rbuf_make(b->b_data, kb->kb_l0);
	kb->kb_state = KB_FINISHED;
	return 0;
}

int
wire_build_cksum(struct kink_builder *kb, const void *cksum, size_t len)
{
	struct buf *b = kb->kb_buf;

	if (kb->kb_err)
		return kb->kb_err;
	if (kb->kb_state != KB_FINISHED)
		return kb_fail(kb, KINK_WE_BUILD_STATE);
	if (len == 0 || cksum == NULL)
		return kb_fail(kb, KINK_WE_ARG);
	if (kb_put(kb, cksum, len) != 0)
		return kb->kb_err;
	/* notes b.2 step 5; no KINK padding after the Cksum (§4). */
	put_be16(b->b_data + 2, (uint16_t)b->b_len);
	put_be16(b->b_data + 14, (uint16_t)len);
	kb->kb_state = KB_CKSUMMED;
	return 0;
}
