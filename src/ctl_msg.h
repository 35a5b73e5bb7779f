/*
 * Control-protocol codec (include/ctl.h): framing and every request and
 * record type.  Pure: buf helpers and libc only, never logs, never
 * allocates except by growing the caller's struct buf.  Shared by kinkd
 * (src/control.c) and kinkctl, and fuzzed (tests/fuzz/fuzz_ctl.c).
 *
 * Every function returns CTL_E_OK (0) or a precise enum ctl_err.  The
 * encoder applies the decoder's rules, so whatever it produces decodes.
 */
#ifndef KINK_CTL_MSG_H
#define KINK_CTL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "buf.h"

enum ctl_err {
	CTL_E_OK = 0,
	CTL_E_SHORT,		/* less than header + ch_len: read more */
	CTL_E_VERSION,		/* ch_version != CTL_VERSION */
	CTL_E_TOOBIG,		/* ch_len > CTL_MAXMSG */
	CTL_E_TYPE,		/* ch_type not defined */
	CTL_E_FLAGS,		/* flag bits not allowed for this type */
	CTL_E_TRUNC,		/* payload ends inside a field */
	CTL_E_TRAILING,		/* payload octets left after the last field */
	CTL_E_STRLEN,		/* string longer than its field's maximum */
	CTL_E_STRNUL,		/* NUL octet inside a string */
	CTL_E_VALUE,		/* enum/count field out of range, empty name */
	CTL_E_ADDR,		/* bad af, or non-zero padding in an addr */
	CTL_E_KEYLEN,		/* key length > CTL_KEY_MAX */
	CTL_E_NOSPACE,		/* encoder: output buffer cap reached */
	CTL_E_MAX
};

/* A whole decoded message.  ~15 KB: kinkctl and control.c heap-allocate. */
struct ctl_msg {
	struct ctl_hdr		m_hdr;
	union {
		struct ctl_req		m_req;		/* CTL_REQ_* */
		struct ctl_sa		m_sa;
		struct ctl_peer		m_peer;
		struct ctl_xact		m_xact;
		struct ctl_stats	m_stats;
		struct ctl_event	m_event;
		struct ctl_info		m_info;
		struct ctl_policy	m_policy;
		struct ctl_error	m_error;
	};
};

const char *ctl_strerror(int);
/* Name of a ch_type ("show-sa", "sa", "end", ...) or NULL if undefined. */
const char *ctl_type_name(uint8_t);
/* Short name of a CTL_ERR_* code ("perm", ...) or NULL. */
const char *ctl_errcode_name(uint16_t);
int	ctl_type_is_request(uint8_t);

/*
 * Decode a header from the first CTL_HDR_LEN octets.  CTL_E_SHORT if fewer.
 * Otherwise *h is filled in EVEN WHEN an error follows (so a server can
 * echo ch_seq in its CTL_ERROR); checks in order: version, len, type, flags.
 */
int	ctl_hdr_decode(const uint8_t *, size_t, struct ctl_hdr *);
void	ctl_hdr_encode(uint8_t out[CTL_HDR_LEN], const struct ctl_hdr *);

/* Decode the payload of a message of `type` into m's union. */
int	ctl_payload_decode(uint8_t type, uint16_t flags, struct rbuf,
	    struct ctl_msg *);

/*
 * Decode one whole message from the start of p.  On CTL_E_OK *used is the
 * number of octets consumed.  CTL_E_SHORT means "incomplete, read more"
 * (after a valid header).  Header errors as ctl_hdr_decode(); m->m_hdr is
 * valid whenever the header was complete.
 */
int	ctl_msg_decode(const uint8_t *, size_t, struct ctl_msg *, size_t *used);

/*
 * Append one message (header + payload) to `out`.  The type, flags and seq
 * come from m->m_hdr; version and len are computed.  The union member that
 * matches the type is encoded (none for END and the empty requests).  On
 * error `out` is left as it was.
 */
int	ctl_msg_encode(struct buf *out, const struct ctl_msg *);

/* ctl_addr <-> sockaddr (AF_INET/AF_INET6; anything else is NONE). */
struct sockaddr;
struct sockaddr_storage;
void	ctl_addr_from_sockaddr(struct ctl_addr *, const struct sockaddr *);
int	ctl_addr_to_sockaddr(const struct ctl_addr *,
	    struct sockaddr_storage *);

#endif
