/*
 * The compact form of an IPsec SA that is held for a long time (the SA
 * records, the null backend's store): addresses in the room of their
 * family instead of a sockaddr_storage each, and the keys in one
 * allocation sized to their real length instead of two SA_KEY_MAX
 * arrays.  At 100,000 SA pairs this is most of kinkd's memory.  Field
 * names are those of struct kink_sa, so lookups read the same.  Pure:
 * libc only.
 */
#ifndef KINK_SA_REC_H
#define KINK_SA_REC_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>

#include "sa.h"

/* An AF_INET or AF_INET6 address (any other family keeps its family only). */
union sa_addr {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

struct kink_sa_rec {
	union sa_addr	 sa_src, sa_dst;
	union sa_addr	 sa_sel_src_addr, sa_sel_dst_addr;
	uint16_t	 sa_sel_src_port, sa_sel_dst_port;
	uint8_t		 sa_sel_src_plen, sa_sel_dst_plen, sa_sel_ulproto;
	uint8_t		 sa_proto, sa_dir, sa_mode, sa_enc;
	uint8_t		 sa_enckey_len, sa_authkey_len;
	uint16_t	 sa_enc_keylen, sa_auth;
	uint32_t	 sa_spi, sa_reqid;
	uint32_t	 sa_life_soft_secs, sa_life_hard_secs;
	uint64_t	 sa_life_soft_bytes, sa_life_hard_bytes;
	uint8_t		*sa_keys;	/* enckey then authkey; NULL if none */
};

/*
 * `r` (its old keys wiped and freed first) made from `sa`; with
 * `keys` 0 the keys are left out.  -1 (r unchanged but for its keys,
 * errno ENOMEM) when the keys cannot be allocated.
 */
int	sa_rec_set(struct kink_sa_rec *r, const struct kink_sa *sa, int keys);
/* The full SA back (keys included if held); wipe it with sa_free_keys(). */
void	sa_rec_get(const struct kink_sa_rec *, struct kink_sa *);
/* The keys wiped and freed. */
void	sa_rec_free(struct kink_sa_rec *);
/* An address of the record as the storage the rest of kinkd uses. */
void	sa_addr_get(const union sa_addr *, struct sockaddr_storage *);
void	sa_addr_set(union sa_addr *, const struct sockaddr_storage *);

#endif
