/*
 * ISAKMP Quick Mode payload codec for the inside of KINK_ISAKMP
 * (RFC 4430 section 5; RFC 2408 section 3; RFC 2407 section 4).
 *
 * Pure: no krb5, no state, no logging, no allocation while parsing.  The
 * parser fills a struct isakmp_msg whose rbuf members are views into the
 * caller's datagram (valid as long as that memory is); the builder writes
 * a payload chain from the same struct.  There is no ISAKMP header and no
 * HASH payload in KINK: the caller gets the first payload type from the
 * KINK_ISAKMP inner header and passes it in.
 *
 * Errors are enum isakmp_err values.  The same enum also carries the
 * negotiation failures of doi_ipsec.c, so that one table
 * (isakmp_err_info) maps every failure to the Notify to send (or a drop).
 *
 * What the codec rejects is structure: lengths, reserved fields, payload
 * order and counts, DOI/situation, SPI sizes, ID formats, nonce length,
 * attribute encoding.  What it only records is meaning: an unknown
 * attribute class or an absurd value (key length 7, lifetime 0) makes one
 * transform unusable (t_err), not the message malformed, because the
 * responder may still choose another proposal (RFC 2408 section 4.2).
 */
#ifndef KINK_ISAKMP_H
#define KINK_ISAKMP_H

#include <stddef.h>
#include <stdint.h>

#include "isakmp_num.h"
#include "buf.h"

/* Limits: more of anything than this is refused (ISAKMP_ERR_TOO_MANY). */
#define ISAKMP_MAX_PROPS	8	/* Proposal payloads in one SA */
#define ISAKMP_MAX_TRANS	16	/* Transforms in one Proposal */
#define ISAKMP_MAX_NOTIFY	4
#define ISAKMP_MAX_DELETE	4
#define ISAKMP_MAX_DELETE_SPIS	64	/* SPIs in one Delete payload */
#define ISAKMP_MAX_NOTIFY_SPI	16	/* Notify SPI Size */
#define ISAKMP_MAX_KE		1024	/* KE data octets (MODP 8192) */

enum isakmp_err {
	ISAKMP_OK = 0,
	/* Structure (isakmp_parse). */
	ISAKMP_ERR_TRUNC,	/* a payload runs past the end of the data */
	ISAKMP_ERR_LENGTH,	/* payload length below its fixed part, or
				   inner lengths that do not add up */
	ISAKMP_ERR_TRAILING,	/* octets after the last payload */
	ISAKMP_ERR_RESERVED,	/* a RESERVED field is not zero */
	ISAKMP_ERR_PAYLOAD_TYPE,/* payload type unknown or not allowed in
				   KINK (m_err_type holds it) */
	ISAKMP_ERR_DUP,		/* second SA, Nonce or KE payload */
	ISAKMP_ERR_TOO_MANY,	/* over one of the ISAKMP_MAX_* limits */
	ISAKMP_ERR_DOI,		/* DOI is not IPSEC_DOI */
	ISAKMP_ERR_SITUATION,	/* Situation is not SIT_IDENTITY_ONLY */
	ISAKMP_ERR_PROP_SYNTAX,	/* proposal/transform chain: bad Next
				   Payload, numbers out of order, #Transforms
				   wrong, no proposal or no transform */
	ISAKMP_ERR_PROTO,	/* Protocol-ID not AH, ESP or IPCOMP */
	ISAKMP_ERR_SPI_SIZE,	/* SPI size wrong for the protocol */
	ISAKMP_ERR_SPI_VALUE,	/* SPI 0..255 (reserved, RFC 4303 2.1) */
	ISAKMP_ERR_ATTR,	/* attribute runs past its transform, or a
				   variable attribute of length 0 */
	ISAKMP_ERR_NONCE_LEN,	/* Nonce not 8..256 octets */
	ISAKMP_ERR_KE_LEN,	/* KE empty or over ISAKMP_MAX_KE */
	ISAKMP_ERR_ID_TYPE,	/* ID type outside 1,4,5,6,7,8 */
	ISAKMP_ERR_ID_LEN,	/* ID data length wrong for its type */
	ISAKMP_ERR_ID_VALUE,	/* mask not contiguous, range reversed, port
				   without protocol */
	ISAKMP_ERR_ID_COUNT,	/* one ID payload, or more than two */
	ISAKMP_ERR_NOTIFY,	/* Notify SPI size over the limit */
	/* Per-transform meaning (recorded in t_err, never returned by
	   isakmp_parse; doi_ipsec.c reports the last one it met). */
	ISAKMP_ERR_ATTR_UNKNOWN,/* attribute class not in RFC 2407 4.5 */
	ISAKMP_ERR_ATTR_VALUE,	/* value out of range: key length not a
				   multiple of 8, lifetime 0, unknown mode */
	ISAKMP_ERR_ATTR_DUP,	/* the same attribute twice; Life Duration
				   without a Life Type before it */
	/* Negotiation (doi_ipsec.c). */
	ISAKMP_ERR_MISSING,	/* a required payload is absent (SA, Ni) */
	ISAKMP_ERR_NO_PROPOSAL,	/* nothing acceptable by policy */
	ISAKMP_ERR_LIFE_RAISED,	/* REPLY raised a lifetime */
	ISAKMP_ERR_SPI_IN_USE,	/* CREATE names an SPI we already have */
	ISAKMP_ERR_KE_REFUSED,	/* KE offered, policy has no PFS */
	ISAKMP_ERR_KE_MISMATCH,	/* KE without Group Description, wrong
				   size, or not a valid public value */
	ISAKMP_ERR_ID_POLICY,	/* IDs do not match any policy */
	ISAKMP_ERR_BAD_REPLY,	/* REPLY chose something we never offered */
	ISAKMP_ERR_PEER_NOTIFY,	/* REPLY carried an error Notify */
	/* Local failures: never the peer's fault, nothing is sent. */
	ISAKMP_ERR_NOMEM,
	ISAKMP_ERR_INTERNAL,	/* bad arguments, PRF or libcrypto failure */
	ISAKMP_ERR_MAX
};

/* What to do about an error (RFC 4430 section 5.5). */
struct isakmp_err_info {
	enum isakmp_err	 ei_err;
	const char	*ei_name;	/* "PAYLOAD_TYPE", for logs */
	uint16_t	 ei_notify;	/* Notify type to send; 0 = drop */
	uint16_t	 ei_isakmp;	/* the RFC 2408 type that names the
					   problem precisely, for logs */
};
const struct isakmp_err_info *isakmp_err_info(int err);
const char	*isakmp_strerror(int err);
uint16_t	 isakmp_err_notify(int err);	/* 0 = drop */

/* IPsec DOI SA attributes of one transform (RFC 2407 section 4.5). */
struct isakmp_attrs {
	uint32_t	 a_life_secs;	/* 0 = absent */
	uint32_t	 a_life_kbytes;	/* 0 = absent */
	uint16_t	 a_group;	/* Group Description; 0 = absent */
	uint16_t	 a_mode;	/* ENCAP_MODE_*; 0 = absent */
	uint16_t	 a_auth;	/* AUTH_ALG_*; 0 = absent */
	uint16_t	 a_keylen;	/* bits; 0 = absent */
	uint16_t	 a_rounds;	/* Key Rounds; 0 = absent */
};

struct isakmp_trans {
	uint8_t		 t_num;
	uint8_t		 t_id;		/* AH_* / ESP_* / IPCOMP_* */
	uint8_t		 t_err;		/* 0 or ISAKMP_ERR_ATTR_*: unusable */
	struct isakmp_attrs t_attrs;
};

struct isakmp_prop {
	uint8_t		 p_num;
	uint8_t		 p_proto;	/* PROTO_IPSEC_AH/ESP, PROTO_IPCOMP */
	uint8_t		 p_spisize;	/* 4, or 2 for IPCOMP */
	uint32_t	 p_spi;		/* host order (CPI for IPCOMP) */
	int		 p_ntrans;
	struct isakmp_trans p_trans[ISAKMP_MAX_TRANS];
};

struct isakmp_sa {
	uint32_t	 sa_doi;	/* IPSEC_DOI */
	uint32_t	 sa_sit;	/* IPSEC_SIT_IDENTITY_ONLY */
	int		 sa_nprop;
	struct isakmp_prop sa_prop[ISAKMP_MAX_PROPS];
};

struct isakmp_id {
	uint8_t		 id_type;	/* IPSEC_ID_* (1,4,5,6,7,8) */
	uint8_t		 id_proto;	/* 0 = any */
	uint16_t	 id_port;	/* 0 = any */
	uint8_t		 id_alen;	/* 4 or 16 */
	uint8_t		 id_addr[16];
	uint8_t		 id_addr2[16];	/* mask or range end; unused for
					   a single address */
};

struct isakmp_notify {
	uint32_t	 n_doi;
	uint8_t		 n_proto;
	uint16_t	 n_type;
	struct rbuf	 n_spi;		/* n_spi.rb_len = SPI Size */
	struct rbuf	 n_data;
};

struct isakmp_delete {
	uint32_t	 d_doi;
	uint8_t		 d_proto;
	uint8_t		 d_spisize;	/* 4, or 2 for IPCOMP */
	uint16_t	 d_nspi;
	uint32_t	 d_spi[ISAKMP_MAX_DELETE_SPIS];	/* host order */
};

/*
 * A decoded (or to-be-built) Quick Mode payload chain.  Payloads are built
 * in the order SA, Nonce, KE, IDci, IDcr, Notify..., Delete...
 */
struct isakmp_msg {
	int		 m_has_sa;
	struct isakmp_sa m_sa;
	struct rbuf	 m_nonce;	/* body; rb_p NULL = absent */
	struct rbuf	 m_ke;		/* body; rb_p NULL = absent */
	int		 m_nid;		/* 0 or 2: IDci, IDcr */
	struct isakmp_id m_id[2];
	int		 m_nnotify;
	struct isakmp_notify m_notify[ISAKMP_MAX_NOTIFY];
	int		 m_ndelete;
	struct isakmp_delete m_delete[ISAKMP_MAX_DELETE];
	/* Error detail from isakmp_parse. */
	uint8_t		 m_err_type;	/* payload type for PAYLOAD_TYPE */
	size_t		 m_err_off;	/* offset of the offending payload */
};

/*
 * Parse `len` octets starting with a payload of type `first` (from the
 * KINK_ISAKMP inner header).  Returns ISAKMP_OK or an error; *m is zeroed
 * first and partly filled on error.
 */
int	isakmp_parse(const uint8_t *p, size_t len, uint8_t first,
	    struct isakmp_msg *m);

/*
 * Append the chain described by *m to `out`; *first gets the first
 * payload's type (ISAKMP_NPTYPE_NONE if *m is empty).  Checks what the
 * parser would check, so whatever builds also parses.
 */
int	isakmp_build(const struct isakmp_msg *m, struct buf *out,
	    uint8_t *first);

/* Attribute helpers shared with doi_ipsec.c. */
int	isakmp_attrs_valid(const struct isakmp_attrs *);  /* 0 or ERR_ATTR_* */

/*
 * The data of a RESPONDER-LIFETIME Notify (RFC 2407 4.6.3.1): SA Life
 * Type / SA Life Duration pairs and nothing else.  Parse: 0 with the
 * seconds and kilobytes (0 = absent), or an ISAKMP_ERR_ATTR*.  Build:
 * appends the pairs for the non-zero values; 0 / -1.
 */
int	isakmp_life_parse(const uint8_t *, size_t, uint32_t *secs,
	    uint32_t *kbytes);
int	isakmp_life_build(uint32_t secs, uint32_t kbytes, struct buf *out);

/* ID payload <-> address prefix/range, for selectors. */
int	isakmp_id_valid(const struct isakmp_id *);	/* 0 or ERR_ID_* */
/*
 * The SPI size to send for a protocol: 4 for AH and ESP, 2 for IPCOMP
 * (its CPI, RFC 2407 4.4.1); -1 for any other protocol.
 */
int	isakmp_spi_size(uint8_t proto);

#endif
