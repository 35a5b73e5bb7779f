/*
 * The one kernel driver behind the pfkey and xfrm backends: it owns the
 * socket and its event, the queue of requests waiting for the kernel's
 * answer (matched by sequence number, each with its own timeout so the
 * event loop never waits on the kernel), the read loop and the dispatch
 * of what the kernel says (answers, dumps, ACQUIRE and EXPIRE).  What
 * differs between the two is the message format: an ops table per format
 * (struct sadb_kfmt) names its pure codec (pfkey_msg.c, xfrm_msg.c).
 */
#ifndef KINK_SADB_KERN_H
#define KINK_SADB_KERN_H

#include <stdint.h>

#include "kern_msg.h"
#include "sadb.h"

/* How long the kernel gets to answer one request. */
#define SADB_KERN_TIMEOUT_MS	5000
/* Receive buffer: a dump of many SAs, or a burst of ACQUIREs. */
#define SADB_KERN_RCVBUF	(1024 * 1024)
/* Requests in flight; beyond this a request fails with EAGAIN. */
#define SADB_KERN_MAXREQ	1024
/* Inbound SPIs reserved by getspi and not yet installed that we track. */
#define SADB_KERN_MAXLARVAL	1024

/*
 * getspi reserves an SPI in a larval SA the kernel keys on (mode, reqid,
 * proto, addresses) and hands the same SPI to a second request with the
 * same key; a distinct reqid per request, outside any range a policy can
 * use, keeps reservations apart.  UPDATE later replaces the larval SA
 * found by SPI whatever its reqid.
 */
#define SADB_LARVAL_REQID_BASE	0xc0000000U

/*
 * One message format: how to open its socket and encode, split and decode
 * its messages.  The codec functions are pure; kf_open is the only one
 * that touches the system (as root, before privileges drop).
 */
struct sadb_kfmt {
	const char	*kf_name;
	/* PF_KEY: the kernel serves one dump at a time (else EBUSY). */
	int		 kf_one_dump;
	/* XFRM: ENOBUFS on recv means multicast overran the buffer, events
	 * are lost but the socket reads on (the kernel re-sends ACQUIREs). */
	int		 kf_overrun_ok;
	/* PF_KEY: only registered sockets hear ACQUIRE and EXPIRE. */
	int		 kf_register;
	/* The socket (non-blocking) and the format's state; -1 with errno.
	 * The driver sizes its receive buffer. */
	int	(*kf_open)(void **state);
	void	(*kf_free)(void *state);
	/* The kernel's reqid for kinkd's (0: none free); NULL: the same. */
	uint32_t (*kf_reqid)(void *state, uint32_t reqid);
	/* Optional: the kernel's reqid for an IPComp SA (PF_KEY: 0, and the
	 * SA's reqid remembered for dumps); NULL: as kf_reqid. */
	uint32_t (*kf_comp)(void *state, const struct kink_sa *);
	/* An outbound policy's id and reqid (PF_KEY ACQUIREs need it). */
	void	(*kf_policy)(void *state, uint32_t id, uint32_t reqid);
	int	(*kf_dirs)(const struct kink_policy *, uint8_t dirs[3]);
	int	(*kf_build)(const void *state, const struct kreq *,
		    uint8_t *buf, size_t cap);
	/* Length of the first message in a datagram; 0: none. */
	size_t	(*kf_next)(const uint8_t *buf, size_t len);
	void	(*kf_parse)(const void *state, const uint8_t *buf,
		    size_t len, struct kin *);
	/*
	 * Optional: what the kernel can install.  kf_caps reads one received
	 * message (PF_KEY's SADB_REGISTER answer: 1 when it was one);
	 * kf_probe asks at open (XFRM: the crypto API).
	 */
	int	(*kf_caps)(const uint8_t *buf, size_t len, struct sadb_caps *);
	int	(*kf_probe)(struct sadb_caps *);
};

/* The two formats (sadb_pfkey.c, sadb_xfrm.c); sadb_pfkey_ops and
 * sadb_xfrm_ops (sadb.h) are the driver over each. */
extern const struct sadb_kfmt sadb_pfkey_fmt;
extern const struct sadb_kfmt sadb_xfrm_fmt;

int	sadb_reqid_ours(const struct sadb *, uint32_t reqid);

#endif
