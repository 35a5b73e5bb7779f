/*
 * KINK message codec (RFC 4430 §4).  Pure: calls only buf helpers and libc,
 * never krb5 or libevent (tests/unit/check_pure_nm.sh enforces it), never
 * logs.  Every function returns 0 or a precise enum wire_err code; the
 * caller logs once with peer/XID context and asks wire_err_action() what to
 * answer.
 *
 * Parsing.  wire_parse() fills a struct kink_msg with VIEWS (struct rbuf)
 * into the datagram: nothing is copied or allocated, so the datagram must
 * outlive the message.  KINK_ENCRYPT is kept as an opaque ciphertext view
 * (m_encrypt); once a higher layer has decrypted it, wire_parse_inner()
 * parses the plaintext chain with the same code into the same struct (views
 * into the caller's plaintext buffer, which must outlive the message too).
 * A failed wire_parse_inner() leaves the message unchanged.
 *
 * Checksum.  The Cksum is computed over octets [0, Length - CksumLen) with
 * the header's Length rewritten to Length - CksumLen and CksumLen to 0
 * (§4; notes b.2).  wire_cksum_input() produces exactly those octets into a
 * caller buffer; m_cksum is the received checksum.
 *
 * Building.  struct kink_builder writes into a caller-owned struct buf:
 *
 *	wire_build_begin(&kb, &buf, KINK_MSGTYPE_CREATE, KINK_DOI_IPSEC, xid, 0);
 *	wire_build_ap_req(&kb, epoch, der, derlen);
 *	wire_build_encrypt_begin(&kb);
 *	wire_build_isakmp(&kb, ISAKMP_NPTYPE_SA, KINK_QMVERSION, qm, qmlen);
 *	wire_build_encrypt_plain(&kb, &plain);	// InnerNextPload|0 0 0|chain
 *	... ct = encrypt(key, KINK_KU_ENCRYPT, plain) ...
 *	wire_build_encrypt_end(&kb, ct, ctlen);
 *	wire_build_finish(&kb, &covered);	// pad; Length=L0, CksumLen=0
 *	... ck = get_mic(key, KINK_KU_CKSUM, covered) ...
 *	wire_build_cksum(&kb, ck, cklen);	// append; fix Length, CksumLen
 *
 * An unauthenticated message stops after wire_build_finish().  Errors are
 * sticky: after the first failure every later call returns the same code,
 * so a sequence can be checked once at the end.  The plaintext view from
 * wire_build_encrypt_plain() points into the buf and is valid until the
 * next builder call.  The codec computes no checksum and encrypts nothing.
 */
#ifndef KINK_WIRE_H
#define KINK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "kink.h"
#include "buf.h"

/*
 * Payload count limit.  KINK_ISAKMP is the only payload that may repeat;
 * every other type may appear once (outer and inner chain together), so a
 * message holds at most 7 + WIRE_MAX_ISAKMP payloads.
 */
#define WIRE_MAX_ISAKMP		8	/* KINK_ISAKMP payloads per message */

/*
 * Malformed-input classes.  0 is success.  wire_err_action() maps each to
 * the daemon's answer; wire_strerror() gives a short text for logs.
 */
enum wire_err {
	KINK_WE_OK = 0,
	KINK_WE_SHORT,		/* datagram shorter than the 16-octet header */
	KINK_WE_MAJVER,		/* MjVer != 1 */
	KINK_WE_LEN_LONG,	/* Length > datagram (truncated message) */
	KINK_WE_LEN_SHORT,	/* Length < header size */
	KINK_WE_MSGTYPE,	/* Type is RESERVED (0) or not defined */
	KINK_WE_CKSUMLEN,	/* CksumLen reaches into the header */
	KINK_WE_CKSUM_ALIGN,	/* CksumLen > 0, Length - CksumLen not 4-aligned */
	KINK_WE_DOI,		/* DOI != KINK_DOI_IPSEC */
	KINK_WE_PL_SHORT,	/* payload header does not fit, or length < min */
	KINK_WE_PL_OVERRUN,	/* payload length runs past the covered region */
	KINK_WE_PL_LEN,		/* fixed-size payload with the wrong length */
	KINK_WE_NO_DONE,	/* chain ends without Next Payload = KINK_DONE */
	KINK_WE_TRAILING,	/* octets after the chain, within Length */
	KINK_WE_UNKNOWN_PL,	/* payload type not defined by RFC 4430 */
	KINK_WE_ENCRYPT_NOT_LAST, /* KINK_ENCRYPT with Next Payload != DONE */
	KINK_WE_DUP,		/* a once-only payload appears twice */
	KINK_WE_TOO_MANY,	/* more than WIRE_MAX_ISAKMP KINK_ISAKMP */
	KINK_WE_QMVERS,		/* KINK_ISAKMP QM version not 1.0 */
	KINK_WE_INNER_PL,	/* AP_REQ/AP_REP/ENCRYPT inside KINK_ENCRYPT */
	KINK_WE_INNER_SHORT,	/* decrypted plaintext shorter than 4 octets */
	KINK_WE_MISSING_PL,	/* wire_check_type(): required payload absent */
	KINK_WE_UNEXPECTED_PL,	/* wire_check_type(): payload not allowed */
	KINK_WE_NOT_ENCRYPTED,	/* wire_parse_inner(): no KINK_ENCRYPT, or done */
	KINK_WE_NOSPACE,	/* builder: message would exceed KINK_MAX_MSG */
	KINK_WE_BUILD_STATE,	/* builder: call out of order */
	KINK_WE_ARG,		/* builder: bad argument (NULL, value too big) */
	KINK_WE_NERR		/* count; not an error */
};

/* wire_err_action() for errors the daemon answers with no message at all. */
#define WIRE_ACT_DROP		(-1)

/* One KINK_ISAKMP payload (§4.2.6). */
struct kink_isakmp_pl {
	uint8_t		 ip_inner_next;	/* ISAKMP type of first QM payload */
	uint8_t		 ip_qmver;	/* QMMaj << 4 | QMMin; 0x10 */
	int		 ip_encrypted;	/* found inside KINK_ENCRYPT */
	struct rbuf	 ip_body;	/* Quick Mode payload chain */
};

/*
 * A parsed KINK message.  All rbufs are views (see top).  A payload that is
 * absent has a zero view; test presence with wire_has().
 */
struct kink_msg {
	/* Header (§4). */
	uint8_t		 m_type;	/* KINK_MSGTYPE_* */
	uint8_t		 m_mjver;	/* high nibble of octet 1 (always 1) */
	uint8_t		 m_resv;	/* low nibble of octet 1, ignored */
	uint16_t	 m_length;	/* Length as received */
	uint32_t	 m_doi;
	uint32_t	 m_xid;
	uint8_t		 m_next;	/* first payload type */
	uint8_t		 m_flags;	/* octet 13: KINK_ACKREQ | RESERVED2 */
	uint16_t	 m_cksumlen;

	struct rbuf	 m_raw;		/* octets [0, Length) */
	struct rbuf	 m_covered;	/* octets [0, Length - CksumLen) */
	struct rbuf	 m_cksum;	/* the Cksum field; empty if CksumLen 0 */
	size_t		 m_excess;	/* datagram octets after Length, ignored */

	/* Payloads.  m_present has bit (1 << type) for each type seen. */
	uint32_t	 m_present;
	uint32_t	 m_inner;	/* types that came from inside ENCRYPT */
	unsigned int	 m_npayloads;	/* outer + inner */

	uint32_t	 m_ap_req_epoch;
	struct rbuf	 m_ap_req;	/* DER Kerberos AP-REQ */
	uint32_t	 m_ap_rep_epoch;
	struct rbuf	 m_ap_rep;	/* DER Kerberos AP-REP */
	struct rbuf	 m_krb_error;	/* DER KRB-ERROR */
	struct rbuf	 m_tgt_req;	/* PrincName, not NUL-terminated */
	struct rbuf	 m_tgt_rep;	/* DER Ticket */
	uint32_t	 m_error;	/* KINK_ERROR ErrorCode */
	struct rbuf	 m_encrypt;	/* ciphertext, until decrypted */
	int		 m_decrypted;	/* wire_parse_inner() succeeded */
	unsigned int	 m_nisakmp;
	struct kink_isakmp_pl m_isakmp[WIRE_MAX_ISAKMP];
};

static inline int
wire_has(const struct kink_msg *m, unsigned int pltype)
{
	return pltype < 32 && (m->m_present & (1U << pltype)) != 0;
}

static inline int
wire_ackreq(const struct kink_msg *m)
{
	return (m->m_flags & KINK_ACKREQ) != 0;
}

/*
 * Parse a datagram.  Fills *m (zeroed first) with views into `dgram`.  On
 * error the header fields are still filled whenever the datagram held 16
 * octets (the XID for a KINK_ERROR reply, the type for logging); payload
 * views are then partial and must not be used.
 */
int	wire_parse(struct kink_msg *m, const uint8_t *dgram, size_t len);

/*
 * Parse the decrypted KINK_ENCRYPT plaintext (InnerNextPload, 3 reserved
 * octets, inner chain; octets after the chain's KINK_DONE are ignored as
 * cipher padding) into *m.  `plain` is owned by the caller and must outlive
 * *m.  On error *m is unchanged.
 */
int	wire_parse_inner(struct kink_msg *m, const uint8_t *plain, size_t len);

/*
 * RFC 4430 §6 message construction, on the payloads seen so far (call after
 * wire_parse(), again after wire_parse_inner() if wanted):
 *   CREATE, DELETE, STATUS  KINK_AP_REQ; no AP_REP, TGT_REQ, TGT_REP
 *   ACK                     KINK_AP_REQ and nothing else (§6.2)
 *   GETTGT                  KINK_TGT_REQ and nothing else (§6.6)
 *   REPLY                   AP_REP, KRB_ERROR, KINK_ERROR or TGT_REP (§6.1,
 *                           §6.6); no AP_REQ, TGT_REQ
 * Returns 0, KINK_WE_MISSING_PL or KINK_WE_UNEXPECTED_PL.
 */
int	wire_check_type(const struct kink_msg *m);

/*
 * Copy the octets the Cksum covers, with Length = Length - CksumLen and
 * CksumLen = 0 in the copied header, into out[0 .. *outlen).  `max` is the
 * size of `out`; KINK_WE_NOSPACE if it is too small.
 */
int	wire_cksum_input(const struct kink_msg *m, uint8_t *out, size_t max,
	    size_t *outlen);

/* Builder. */
struct kink_builder {
	struct buf	*kb_buf;	/* not owned; reset by wire_build_begin */
	size_t		 kb_next_off;	/* offset of the Next Payload to patch */
	size_t		 kb_enc_off;	/* offset of the KINK_ENCRYPT header */
	size_t		 kb_inner_next_off; /* InnerNextPload in the plaintext */
	size_t		 kb_l0;		/* Length before the Cksum */
	int		 kb_state;	/* private: see wire.c */
	int		 kb_err;	/* sticky first error */
	unsigned int	 kb_npayloads;
};

int	wire_build_begin(struct kink_builder *, struct buf *, uint8_t type,
	    uint32_t doi, uint32_t xid, uint8_t flags);
int	wire_build_ap_req(struct kink_builder *, uint32_t epoch,
	    const void *der, size_t len);
int	wire_build_ap_rep(struct kink_builder *, uint32_t epoch,
	    const void *der, size_t len);
int	wire_build_krb_error(struct kink_builder *, const void *der,
	    size_t len);
int	wire_build_tgt_req(struct kink_builder *, const void *princ,
	    size_t len);
int	wire_build_tgt_rep(struct kink_builder *, const void *der, size_t len);
int	wire_build_isakmp(struct kink_builder *, uint8_t inner_next,
	    uint8_t qmver, const void *body, size_t len);
int	wire_build_error(struct kink_builder *, uint32_t code);
/* Payloads added after this go into the encrypted inner chain. */
int	wire_build_encrypt_begin(struct kink_builder *);
/* Close the inner chain; *plain = the octets to encrypt (view into buf). */
int	wire_build_encrypt_plain(struct kink_builder *, struct rbuf *plain);
/* Replace the plaintext with the caller's ciphertext; ENCRYPT is last. */
int	wire_build_encrypt_end(struct kink_builder *, const void *ct,
	    size_t len);
/*
 * Pad to 4 octets and set Length = L0, CksumLen = 0.  *covered (may be
 * NULL) = the octets to checksum: the whole message so far.  The message
 * in the buf is complete and sendable as an unauthenticated message.
 */
int	wire_build_finish(struct kink_builder *, struct rbuf *covered);
/* Append the Cksum; set CksumLen and Length. */
int	wire_build_cksum(struct kink_builder *, const void *cksum, size_t len);

/* Errors (wire_names.c). */
const char *wire_strerror(int err);
/* KINK_ERROR code to reply with (KINK_PROTOERR...), WIRE_ACT_DROP, or 0. */
int	wire_err_action(int err);

/*
 * Names for logs and kinkctl (wire_names.c).  Defined values get the RFC's
 * name; others get their RFC range ("RESERVED", "UNASSIGNED", "PRIVATE").
 */
const char *wire_msgtype_name(unsigned int type);
const char *wire_payload_name(unsigned int type);
const char *wire_error_name(uint32_t code);
/* ISAKMP Notify Message Type (RFC 2408 3.14.1, RFC 2407 4.6.3). */
const char *wire_notify_name(unsigned int type);
/* KRB_ERROR error-code (RFC 4120 7.5.9), e.g. "KRB_AP_ERR_SKEW". */
const char *wire_krb_error_name(int code);

#endif
