/*
 * PF_KEY v2 messages (RFC 2367 with the KAME/Linux SPD extensions), built
 * and parsed without a socket: the pure half of the pfkey backend.  The
 * state a PF_KEY conversation needs (our pid; policy id -> reqid learnt
 * from SPD answers; stand-in reqids) lives in a struct the caller owns.
 */
#ifndef KINK_PFKEY_MSG_H
#define KINK_PFKEY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "kern_msg.h"

#define PFKEY_MAXPOL	1024	/* policy id -> reqid entries */
#define PFKEY_MAXCOMP	256	/* IPComp (dst, CPI) -> reqid entries */

/*
 * Linux keeps a policy template's reqid only up to 0x3fff (above, it
 * makes one up), and outbound lookup wants SA reqid == template reqid
 * exactly.  kinkd's reqids (conf hashes them into 1..0x3fffffff) above
 * that get a stand-in from PFKEY_KREQID_FIRST..0x3fff, used for both the
 * policy and its SAs, and mapped back in dumps and events.
 */
#define PFKEY_KREQID_FIRST	0x2000

struct pfkey_state {
	uint32_t	 ps_pid;	/* ours: the kernel's answers carry it */
	struct {
		uint32_t pp_id;		/* kernel policy index */
		uint32_t pp_reqid;	/* kinkd's reqid for it */
	}		 ps_pol[PFKEY_MAXPOL];
	int		 ps_npol;
	struct {
		uint32_t kr_reqid;	/* kinkd's */
		uint32_t kr_kernel;	/* what the kernel sees */
	}		 ps_kr[PFKEY_MAXPOL];
	int		 ps_nkr;
	uint32_t	 ps_krnext;
	struct {
		struct sockaddr_storage pc_dst;
		uint32_t pc_cpi;
		uint32_t pc_reqid;	/* kinkd's */
	}		 ps_comp[PFKEY_MAXCOMP];
	int		 ps_ncomp;
};

/* The kernel's reqid for kinkd's reqid r (a stand-in above 0x3fff); 0
 * when no stand-in is free. */
uint32_t pfkey_kreqid(struct pfkey_state *, uint32_t r);
/*
 * An IPComp SA's reqid in the kernel: 0, since Linux keeps no reqid for
 * the policy's optional (IPSEC_LEVEL_USE) IPComp request and its outbound
 * lookup wants the SA's reqid equal to the request's.  Remembers (dst,
 * CPI) -> sa_reqid so that dumps and events give kinkd's reqid back (this
 * run's SAs only).
 */
uint32_t pfkey_comp_remember(struct pfkey_state *, const struct kink_sa *);
/* Remember the reqid of an outbound policy (its ACQUIREs carry the id). */
void	pfkey_pol_remember(struct pfkey_state *, uint32_t id, uint32_t reqid);
/* Directions a policy needs (IPSEC_DIR_*): out, in, and fwd for tunnels. */
int	pfkey_dirs(const struct kink_policy *, uint8_t dirs[3]);
/*
 * Encode rq into buf (cap octets, 8-aligned), header complete (length,
 * rq's seq, our pid).  Returns the length, or -1 with errno (EOPNOTSUPP
 * an algorithm PF_KEY lacks, EINVAL, EMSGSIZE); buf holds no key then.
 */
int	pfkey_build(const struct pfkey_state *, const struct kreq *,
	    uint8_t *buf, size_t cap);
/*
 * An SADB_REGISTER answer's supported lists (RFC 2367 2.3.8,
 * SADB_EXT_SUPPORTED_AUTH / _ENCRYPT) into caps, added to what it holds
 * (the ESP and AH answers carry the same lists).  1 when buf is such an
 * answer, 0 when it is another message, -1 when it is malformed.
 */
int	pfkey_caps_parse(const uint8_t *buf, size_t len, struct sadb_caps *);
/* Decode one received message (buf 8-aligned) into *out. */
void	pfkey_parse(const struct pfkey_state *, const uint8_t *buf,
	    size_t len, struct kin *out);

#endif
