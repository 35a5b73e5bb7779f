/*
 * One IPsec SA as kinkd hands it to the kernel: doi_ipsec.c produces these
 * from a completed negotiation, sadb backends install them, kinkctl shows
 * them.  Algorithms are IPsec DOI numbers (include/isakmp_num.h).  Keys are
 * owned: sa_free_keys() wipes them.
 */
#ifndef KINK_SA_H
#define KINK_SA_H

#include <sys/socket.h>
#include <stdint.h>

#include "policy.h"

#define SA_KEY_MAX	64	/* octets; covers AES-256+salt, HMAC-SHA2-512 */

enum sa_dir { SA_DIR_IN = 1, SA_DIR_OUT = 2 };

struct kink_sa {
	struct sockaddr_storage sa_src;		/* outer source address */
	struct sockaddr_storage sa_dst;		/* outer destination address */
	uint8_t		 sa_proto;	/* PROTO_IPSEC_ESP / PROTO_IPSEC_AH (DOI) */
	uint8_t		 sa_dir;	/* enum sa_dir, from this host's view */
	uint8_t		 sa_mode;	/* ENCAP_MODE_TUNNEL / _TRANSPORT */
	uint32_t	 sa_spi;	/* host order; chosen by sa_dst's host */
	uint32_t	 sa_reqid;
	uint8_t		 sa_enc;	/* ESP transform id; 0 for AH */
	uint16_t	 sa_enc_keylen;	/* bits as negotiated (Key Length attr) */
	uint16_t	 sa_auth;	/* Authentication Algorithm attr; 0 = none */
	uint8_t		 sa_enckey[SA_KEY_MAX];	/* incl. the 4-octet GCM salt */
	uint8_t		 sa_enckey_len;
	uint8_t		 sa_authkey[SA_KEY_MAX];
	uint8_t		 sa_authkey_len;
	uint32_t	 sa_life_soft_secs, sa_life_hard_secs;	/* 0 = none */
	uint64_t	 sa_life_soft_bytes, sa_life_hard_bytes;/* 0 = none */
	/* Traffic selectors, from the ID payloads or the policy. */
	struct kink_selector sa_sel_src, sa_sel_dst;
	uint8_t		 sa_sel_ulproto;
	/* Filled by sadb dump/get only: what the kernel counted so far. */
	uint64_t	 sa_cur_bytes, sa_cur_packets;
};

/* "esp", "ah" or "ipcomp" for a DOI protocol (PROTO_IPSEC_ESP = 3). */
static inline const char *
sa_proto_name(uint8_t doi_proto)
{
	return doi_proto == 2 ? "ah" : doi_proto == 4 ? "ipcomp" : "esp";
}

static inline void
sa_free_keys(struct kink_sa *sa)
{
	volatile uint8_t *p = sa->sa_enckey, *q = sa->sa_authkey;

	for (unsigned i = 0; i < SA_KEY_MAX; i++)
		p[i] = q[i] = 0;
	sa->sa_enckey_len = sa->sa_authkey_len = 0;
}

#endif
