/*
 * Linux XFRM netlink messages, built and parsed without a socket: the
 * pure half of the xfrm backend.  XFRM needs no state beyond the request.
 */
#ifndef KINK_XFRM_MSG_H
#define KINK_XFRM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "kern_msg.h"

/* Directions a policy needs (XFRM_POLICY_*): out, in, fwd for tunnels. */
int	xfrm_dirs(const struct kink_policy *, uint8_t dirs[3]);
/*
 * Encode rq into buf (cap octets, 8-aligned), header complete (length,
 * rq's seq; pid 0, the kernel fills it in).  Returns the length, or -1
 * with errno (EOPNOTSUPP, EINVAL, EMSGSIZE); buf holds no key then.
 */
int	xfrm_build(const struct kreq *, uint8_t *buf, size_t cap);
/* Length of the first netlink message of a datagram, 0 when none fits. */
size_t	xfrm_next(const uint8_t *buf, size_t len);
/* Decode one netlink message (buf 4-aligned, len from xfrm_next). */
void	xfrm_parse(const uint8_t *buf, size_t len, struct kin *out);

#endif
