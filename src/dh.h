/*
 * Diffie-Hellman for Quick Mode PFS (RFC 4430 section 5.7, RFC 2409
 * section 5.5): MODP group 14 (RFC 3526, 2048 bits) and ECP group 19
 * (RFC 5903, P-256), through libcrypto.  Public values and shared secrets
 * are in the IKE wire form: MODP values big-endian, left-padded with zeros
 * to the group length (256 octets); ECP values x | y (64 octets) and the
 * shared secret x only (32 octets, RFC 5903 section 7).
 */
#ifndef KINK_DH_H
#define KINK_DH_H

#include <stddef.h>
#include <stdint.h>

#define DH_MAX_LEN	256	/* largest public value / secret, octets */

struct kink_dh;

int	dh_group_supported(uint16_t group);	/* 1 or 0 */
/* Length in octets of a public value (KE data) of `group`; 0 if unknown. */
size_t	dh_pub_len(uint16_t group);
size_t	dh_secret_len(uint16_t group);

/* A fresh private key for `group`; NULL on failure or unknown group. */
struct kink_dh	*dh_new(uint16_t group);
void	 dh_free(struct kink_dh *);	/* wipes the private key */
uint16_t dh_group(const struct kink_dh *);
/* Our public value into out (exactly dh_pub_len octets).  0 / -1. */
int	 dh_public(const struct kink_dh *, uint8_t *out, size_t outlen);
/*
 * g^xy from the peer's public value: 0 on success, -1 if the value has
 * the wrong length or is not a valid element (1, p-1, off the curve...).
 * out gets exactly dh_secret_len octets, zero-padded on the left.
 */
int	 dh_derive(const struct kink_dh *, const uint8_t *peer, size_t peerlen,
	    uint8_t *out, size_t outlen);

#endif
