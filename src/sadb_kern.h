/*
 * What the two kernel backends (sadb_pfkey.c, sadb_xfrm.c) share: the
 * IPsec DOI -> kernel algorithm tables, and the queue of requests waiting
 * for the kernel's answer, matched by sequence number, each with its own
 * timeout so the event loop never waits on the kernel.
 */
#ifndef KINK_SADB_KERN_H
#define KINK_SADB_KERN_H

#include <sys/queue.h>
#include <stdint.h>

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

struct sadb_algmap {
	uint8_t		 al_doi;	/* ESP transform id or Auth attr */
	uint8_t		 al_pfkey;	/* SADB_*ALG_* */
	const char	*al_xfrm;	/* Linux crypto API name */
	uint16_t	 al_trunc;	/* auth: ICV bits; AEAD: ICV bits */
	uint8_t		 al_aead;	/* AES-GCM: one key, XFRMA_ALG_AEAD */
};

/* NULL when the DOI value has no kernel equivalent. */
const struct sadb_algmap *sadb_alg_enc(uint8_t esp_transform);
const struct sadb_algmap *sadb_alg_auth(uint16_t auth_attr);

enum sadb_req_kind {
	SADB_REQ_DONE = 1,	/* rq_done */
	SADB_REQ_SPI,		/* rq_spicb */
	SADB_REQ_DUMP,		/* rq_dumpcb */
	SADB_REQ_GET,		/* rq_dumpcb, one SA, any reqid */
	SADB_REQ_QUIET,		/* nobody waits (first half of delete + add) */
};

struct sadb_kern;

struct sadb_req {
	TAILQ_ENTRY(sadb_req) rq_entry;
	struct sadb_kern *rq_k;
	uint32_t	 rq_seq;
	enum sadb_req_kind rq_kind;
	sadb_done_cb	 rq_done;
	sadb_spi_cb	 rq_spicb;
	sadb_dump_cb	 rq_dumpcb;
	void		*rq_arg;
	uint32_t	 rq_spi;	/* SPI: the value the kernel gave */
	int		 rq_gotspi;
	/* An UPDATE of a larval SA that may have expired: the ADD to send
	 * instead on ESRCH (owned; holds keys, wiped on free). */
	uint8_t		*rq_fallback;
	size_t		 rq_fallback_len;
	struct kink_sa	 rq_sa;		/* for the larval table, no keys */
	/* One call, several kernel messages (a policy per direction): the
	 * earlier ones are QUIET with rq_parent set to the last one's seq,
	 * which reports the first error of all. */
	uint32_t	 rq_parent;
	int		 rq_prev_err;
	struct event	*rq_timer;
};

struct sadb_larval {
	struct sockaddr_storage lv_dst;
	uint32_t	 lv_spi;
	uint8_t		 lv_proto;
};

struct sadb_kern {
	struct sadb	*k_sd;
	int		 k_fd;
	struct event	*k_ev;
	uint32_t	 k_seq;
	uint32_t	 k_larval_reqid;
	TAILQ_HEAD(, sadb_req) k_reqs;
	int		 k_nreqs;
	struct sadb_larval k_larval[SADB_KERN_MAXLARVAL];
	int		 k_nlarval;
	int		 k_incb;	/* inside the read callback */
	int		 k_dead;	/* closed while k_incb: free on the way out */
	/* Whatever the backend needs more (pfkey: policy id -> reqid). */
	void		*k_extra;
};

struct sadb_req *sadb_req_new(struct sadb_kern *, enum sadb_req_kind,
	    void *arg);
struct sadb_req *sadb_req_find(struct sadb_kern *, uint32_t seq);
/* Call the request's callback with err (and the SPI if any), free it. */
void	sadb_req_finish(struct sadb_req *, int err);
/* Free without calling back (the request could not be sent). */
void	sadb_req_free(struct sadb_req *);
/* Drop every pending request without calling back (backend closing). */
void	sadb_req_free_all(struct sadb_kern *);
uint32_t sadb_kern_seq(struct sadb_kern *);

void	sadb_larval_add(struct sadb_kern *, const struct sockaddr_storage *,
	    uint32_t spi, uint8_t proto);
/* 1 if it was there (and is now removed). */
int	sadb_larval_take(struct sadb_kern *, const struct sockaddr_storage *,
	    uint32_t spi, uint8_t proto);

int	sadb_addr_eq(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
int	sadb_reqid_ours(const struct sadb *, uint32_t reqid);

#endif
