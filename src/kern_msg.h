/*
 * What the kernel driver (sadb_kern.c) and the two pure message codecs
 * (pfkey_msg.c for PF_KEY v2, xfrm_msg.c for Linux XFRM netlink) exchange:
 * a typed request to encode and a typed result of decoding one kernel
 * message.  The codecs hold no socket, no event and no global state, so
 * they can be tested against golden messages and fuzzed without a kernel;
 * the driver owns everything that waits (the queue, timers, callbacks).
 */
#ifndef KINK_KERN_MSG_H
#define KINK_KERN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "sadb.h"

/* Largest request either codec builds; the caller's buffer, 8-aligned. */
#define KMSG_MAX	2048

/* IPsec DOI -> kernel algorithm (PF_KEY number, Linux crypto API name). */
struct sadb_algmap {
	uint8_t		 al_doi;	/* ESP transform id or Auth attr */
	uint8_t		 al_pfkey;	/* SADB_*ALG_* */
	const char	*al_xfrm;	/* Linux crypto API name */
	uint16_t	 al_trunc;	/* auth: ICV bits; AEAD: ICV bits */
	uint8_t		 al_aead;	/* AES-GCM: one key, XFRMA_ALG_AEAD */
};

/* The i-th table entry (caps, show self), NULL past the end. */
const struct sadb_algmap *sadb_alg_enc_at(int i);
const struct sadb_algmap *sadb_alg_auth_at(int i);
/* NULL when the DOI value has no kernel equivalent. */
const struct sadb_algmap *sadb_alg_enc(uint8_t esp_transform);
const struct sadb_algmap *sadb_alg_auth(uint16_t auth_attr);
/* IPComp: IPCOMP_* transform id -> PF_KEY SADB_X_CALG_*, crypto name. */
const struct sadb_algmap *sadb_alg_comp_at(int i);
const struct sadb_algmap *sadb_alg_comp(uint8_t ipcomp_transform);
/* The CPIs kinkd reserves (RFC 3173 2.2: 0..255 are the well-known ones,
 * 61440..65535 for private use); Linux wants IPComp SPIs below 0x10000. */
#define KERN_CPI_MIN	0x100
#define KERN_CPI_MAX	0xefff
/* An SA's algorithms (NULL: none); -1 with errno EOPNOTSUPP when the
 * kernel has no such algorithm, EINVAL for AH without one.  An IPComp SA
 * has its compression algorithm in *enc (EINVAL: an integrity algorithm
 * or a CPI above 16 bits). */
int	sadb_alg_sa(const struct kink_sa *, const struct sadb_algmap **enc,
	    const struct sadb_algmap **auth);
/* The SPD directions a policy needs, in the format's values val[] =
 * { out, in, fwd }: out and in, and fwd for tunnels.  Returns the count. */
int	kern_pol_dirs(const struct kink_policy *, const uint8_t val[3],
	    uint8_t dirs[3]);

/*
 * A policy's kernel priority.  Both kernels take the matching policy with
 * the lowest value, so a more specific selector gets a lower one: the
 * prefix lengths, plus 16 bits for each port and 8 for the protocol, as
 * if ports and protocol extended the prefix.  Values stay at or above
 * KERN_PRIO_BASE - KERN_PRIO_SPAN so that an administrator's policies at
 * the kernels' default priority 0 (a bypass, say) still win.
 */
#define KERN_PRIO_BASE		1024
#define KERN_PRIO_SPAN		(128 + 128 + 16 + 16 + 8)
uint32_t kern_pol_priority(const struct kink_policy *);
/*
 * 1 when any suite of the policy has IPComp: its SPD entries then carry
 * the optional IPComp template whichever suite the peer chooses (an
 * ACQUIRE it raises while an ESP-only pair is in force is dropped).
 */
int	kern_pol_ipcomp(const struct kink_policy *);
/* 1 when no packet can ever reach policy `b` in the kernel because `a`
 * matches everything `b` matches and wins ties or beats it. */
int	kern_pol_shadows(const struct kink_policy *a,
	    const struct kink_policy *b);

enum kreq_op {
	KREQ_GETSPI = 1,	/* kr_src, kr_dst, kr_proto, kr_reqid; kr_sa: mode */
	KREQ_ADD,		/* kr_sa, kr_reqid (the kernel's) */
	KREQ_UPDATE,		/* kr_sa, kr_reqid: replaces a larval SA */
	KREQ_DELETE,		/* kr_sa */
	KREQ_GET,		/* kr_sa */
	KREQ_DUMP,
	KREQ_SPD_ADD,		/* kr_pol, kr_dir, kr_reqid */
	KREQ_SPD_DEL,		/* kr_pol, kr_dir */
	KREQ_REGISTER,		/* kr_proto (PF_KEY only) */
	KREQ_SPD_GET,		/* kr_pol, kr_dir (XFRM only): read one
				   entry; the ACK 0 or ENOENT says */
	KREQ_SPD_DUMP,		/* PF_KEY only: every SPD entry, as
				   KIN_DUMP parts with ki_spd set */
};

struct kreq {
	enum kreq_op		 kr_op;
	uint32_t		 kr_seq;
	const struct kink_sa	*kr_sa;
	const struct kink_policy *kr_pol;
	uint8_t			 kr_dir;	/* the format's direction */
	const struct sockaddr_storage *kr_src, *kr_dst;
	uint8_t			 kr_proto;	/* DOI protocol */
	/* The reqid the kernel sees (PF_KEY may stand one in). */
	uint32_t		 kr_reqid;
	/* KREQ_SPD_ADD: add only, EEXIST if the kernel has the entry. */
	int			 kr_excl;
};

/*
 * One decoded kernel message.  The kinds differ because the two kernels
 * finish requests differently: a PF_KEY answer is one message that ends
 * its request, an XFRM request ends with an ACK (NLMSG_ERROR 0) or
 * NLMSG_DONE after any number of data messages.
 */
enum kin_kind {
	KIN_IGNORE = 0,	/* not ours, or nothing to act on */
	KIN_BAD,	/* malformed */
	KIN_ACQUIRE,	/* ki_ev */
	KIN_EXPIRE,	/* ki_ev (soft or hard, with the SA) */
	KIN_DONE,	/* ends request ki_seq with ki_err (0: success) */
	KIN_SPI,	/* PF_KEY GETSPI answer: ki_spi if ki_have; ends it */
	KIN_GET,	/* PF_KEY GET answer: ki_sa if ki_have; ends it */
	KIN_SA,		/* XFRM SA (ALLOCSPI answer, GET or dump entry) */
	KIN_DUMP,	/* PF_KEY dump part: ki_err, ki_sa if ki_have */
};

struct kin {
	enum kin_kind		 ki_kind;
	uint32_t		 ki_seq;
	int			 ki_err;	/* errno the kernel answered */
	int			 ki_have;	/* ki_sa / ki_spi are set */
	int			 ki_last;	/* KIN_DUMP: the last part */
	int			 ki_foreign;	/* KIN_SA: not ESP/AH/IPComp */
	uint32_t		 ki_spi;
	/* KIN_DONE: the outbound policy's id (PF_KEY SPD answers);
	 * KIN_ACQUIRE: the policy that matched (PF_KEY). */
	int			 ki_polid_set;
	uint32_t		 ki_polid;
	struct kink_sa		 ki_sa;		/* never with keys */
	struct sadb_event	 ki_ev;
	/*
	 * KIN_DUMP of an SPD dump (PF_KEY): one kernel policy, with the
	 * selector as the kernel holds it for its direction (the format's
	 * value): source, destination, upper-layer protocol (0: any).
	 */
	int			 ki_spd;
	uint8_t			 ki_spd_dir;
	uint8_t			 ki_spd_ipsec;	/* type IPSEC (not bypass) */
	uint8_t			 ki_spd_ulproto;
	struct kink_selector	 ki_spd_src, ki_spd_dst;
};

#endif
