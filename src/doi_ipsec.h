/*
 * IPsec DOI logic for KINK CREATE (RFC 4430 sections 3.2, 5, 7): proposals
 * from a policy, the responder's choice, the initiator's check of the
 * REPLY, KEYMAT, PFS, and the SA descriptions handed to sadb.
 *
 * No krb5, no event loop, no kernel, no logging: the Kerberos PRF comes in
 * as a callback (a closure over the ticket's session key), inbound SPIs come
 * in as values (the daemon gets them from sadb_getspi first, asynchronously)
 * and "is this SPI already in use" is a callback.  Functions return 0, or
 * -1 with a struct doi_error saying what to tell the peer.
 *
 * Initiator (one context per KINK_ISAKMP payload of a CREATE):
 *
 *	mask = doi_policy_protos(pol);        getspi for each bit (ESP, AH)
 *	ctx  = doi_init_new(pol, local, remote, &spis);
 *	doi_init_proposal(ctx, &qm, &first);  -> KINK_ISAKMP body, CREATE
 *	if (doi_init_optimistic(ctx, prf, k, &r) == 0)
 *		install r.dr_in[0..dr_nsa)    (2-way hope; fails with PFS)
 *	... REPLY arrives ...
 *	doi_init_reply(ctx, body, len, first, prf, k, &r, &err)
 *		ok:  if r.dr_in_changed replace (DELETE+ADD) the inbound SAs,
 *		     install r.dr_out; ACK if the REPLY had ACKREQ
 *		-1:  err.de_notify from the peer or our own reason; no SAs.
 *		     (err.de_err == ISAKMP_ERR_PEER_NOTIFY with de_notify
 *		     INVALID-PAYLOAD-TYPE / data 4: peer refused KE; the
 *		     daemon MAY retry without PFS as a new transaction.)
 *	doi_result_clear(&r); doi_ctx_free(ctx);
 *
 * Responder:
 *
 *	ctx = doi_resp_new(local, remote);
 *	doi_resp_choose(ctx, pols, npols, body, len, first, inuse, arg, &err)
 *		-1: send doi_notify_build(&err) in the REPLY; no state.
 *	mask = doi_resp_protos(ctx);          getspi for each bit
 *	doi_resp_finish(ctx, &spis, prf, k, &qm, &first, &r, &err)
 *		-> REPLY body; r.dr_ackreq says whether to set ACKREQ.
 *		install r.dr_in now; r.dr_out now if !r.dr_ackreq, else on ACK.
 */
#ifndef KINK_DOI_IPSEC_H
#define KINK_DOI_IPSEC_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "policy.h"
#include "sa.h"
#include "isakmp.h"

/*
 * The KEYMAT PRF: prf(session key, in) into out, *outlen = octets written
 * (out has room for DOI_PRF_MAX).  0 on success, -1 on failure.
 */
#define DOI_PRF_MAX	64
typedef int (*doi_prf_fn)(void *arg, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t *outlen);

/*
 * 1 if this host already has an SA with `spi` for `proto` towards the
 * peer (the SA the CREATE asks us to make outbound), else 0.
 */
typedef int (*doi_spi_inuse_fn)(void *arg, uint8_t proto, uint32_t spi);

/* This host's inbound SPIs, host order, one per protocol; 0 = none. */
struct doi_spis {
	uint32_t	 ds_esp;
	uint32_t	 ds_ah;
	uint32_t	 ds_ipcomp;	/* the CPI (RFC 3173 2.2): 256..0xffff */
};
#define DOI_PROTO_BIT(p)	(1u << (p))	/* bits of doi_*_protos */

/* A failure and what to tell the peer about it. */
struct doi_error {
	int		 de_err;	/* enum isakmp_err */
	uint16_t	 de_notify;	/* Notify type; 0 = send nothing */
	uint8_t		 de_proto;	/* Notify Protocol-ID, 0 = none */
	uint32_t	 de_spi;	/* with de_proto: the SPI concerned */
	uint8_t		 de_data[4];
	size_t		 de_datalen;
	/*
	 * For the log, never the wire: what was refused and against what
	 * (ID_POLICY: the proposed selectors and the nearest policy).
	 */
	char		 de_text[512];
};

#define DOI_MAX_SA	3	/* AH + ESP + IPCOMP bundle */

struct doi_result {
	uint8_t		 dr_optimistic;	/* the optimistic proposal won */
	uint8_t		 dr_ackreq;	/* responder: set ACKREQ */
	uint8_t		 dr_in_changed;	/* initiator: inbound SAs differ
					   from doi_init_optimistic's */
	uint8_t		 dr_pfs;	/* KE was used */
	uint8_t		 dr_resp_life;	/* RESPONDER-LIFETIME sent (responder)
					   or lowered a lifetime (initiator) */
	int		 dr_nsa;	/* SAs per direction */
	/*
	 * Index i of dr_in and dr_out: the same protocol. ESP, then AH,
	 * then IPCOMP (sa_spi = the CPI, no keys: RFC 2407 4.4.1).
	 */
	struct kink_sa	 dr_in[DOI_MAX_SA];	/* dst = this host */
	struct kink_sa	 dr_out[DOI_MAX_SA];	/* dst = the peer */
	const struct kink_policy *dr_policy;	/* responder: the match */
};
void	doi_result_clear(struct doi_result *);	/* wipes keys */

struct doi_ctx;

/* Protocols (DOI_PROTO_BIT) that need an inbound SPI for this policy. */
unsigned	 doi_policy_protos(const struct kink_policy *);

/* Initiator. */
struct doi_ctx	*doi_init_new(const struct kink_policy *,
		    const struct sockaddr *local, const struct sockaddr *remote,
		    const struct doi_spis *in);
int		 doi_init_proposal(struct doi_ctx *, struct buf *qm,
		    uint8_t *first);
int		 doi_init_optimistic(struct doi_ctx *, doi_prf_fn, void *,
		    struct doi_result *);
int		 doi_init_reply(struct doi_ctx *, const uint8_t *qm, size_t len,
		    uint8_t first, doi_prf_fn, void *, struct doi_result *,
		    struct doi_error *);

/* Responder. */
struct doi_ctx	*doi_resp_new(const struct sockaddr *local,
		    const struct sockaddr *remote);
int		 doi_resp_choose(struct doi_ctx *,
		    const struct kink_policy *const *pols, int npols,
		    const uint8_t *qm, size_t len, uint8_t first,
		    doi_spi_inuse_fn, void *, struct doi_error *);
unsigned	 doi_resp_protos(const struct doi_ctx *);
/*
 * After doi_resp_choose: the proposal's selectors and the policy's when
 * the proposal is narrower (the SAs get the proposal's), for the log;
 * NULL when the SAs get the policy's own selectors.
 */
const char	*doi_resp_narrowed(const struct doi_ctx *);
int		 doi_resp_finish(struct doi_ctx *, const struct doi_spis *in,
		    doi_prf_fn, void *, struct buf *qm, uint8_t *first,
		    struct doi_result *, struct doi_error *);

/*
 * Responder: when a lifetime is lowered, also send a RESPONDER-LIFETIME
 * Notify (RFC 2407 4.5.4) in the REPLY.  Off by default: racoon2 aborts
 * on any Notify in Quick Mode (the REPLY's SA carries the lifetime).
 */
void		 doi_resp_set_life_notify(struct doi_ctx *, int on);
/*
 * The Notify types the last message parsed carried (the CREATE for a
 * responder, the REPLY for an initiator), in order, for the log: up to
 * `max` into types; returns how many there were and forgets them, so a
 * caller that asks again gets 0.
 */
int		 doi_notifies(struct doi_ctx *, uint16_t *types, int max);

void		 doi_ctx_free(struct doi_ctx *);	/* wipes nonces, DH */

/* A KINK_ISAKMP body with one Notify for `err` (de_notify != 0). */
int		 doi_notify_build(const struct doi_error *, struct buf *qm,
		    uint8_t *first);

/*
 * Building blocks, public for known-answer tests.
 *
 * KEYMAT = K1 | K2 | ... (RFC 2409 section 5.5, RFC 4430 section 7):
 *   K1 = prf([gxy |] proto | spi | ni [| nr]), Kn = prf(Kn-1 | same)
 * spi in network order; nr NULL/0 = absent; gxy NULL/0 = no PFS.
 */
int	doi_keymat(doi_prf_fn, void *, const uint8_t *gxy, size_t gxylen,
	    uint8_t proto, uint32_t spi, const uint8_t *ni, size_t nilen,
	    const uint8_t *nr, size_t nrlen, uint8_t *out, size_t outlen);
/* Key sizes in octets (RFC 4301 4.5.2); -1 if the algorithm is unknown. */
int	doi_enc_keylen(uint8_t esp_id, uint16_t keylen_bits); /* incl. salt */
int	doi_auth_keylen(uint16_t auth_alg);
/*
 * Soft lifetime below `hard` (seconds), randomized (RFC 4430 3.6) between
 * T-retrans (`t_retrans` seconds, 0 = the default 31) and 4 x T-retrans.
 */
uint32_t doi_soft_secs(uint32_t hard, uint32_t t_retrans);
/* The same from the random word `r` (no draw of its own). */
uint32_t doi_soft_secs_r(uint32_t hard, uint32_t t_retrans, uint32_t r);
/* T-retrans of this context's SAs: the daemon's retransmission cycle. */
void	doi_set_retrans(struct doi_ctx *, uint32_t secs);

/* Tests only: a Notify of this type (0 = none) in the proposal. */
void	doi_set_notify(struct doi_ctx *, uint16_t type);
/* Tests only: fix the nonce this context sends (8..256 octets). */
int	doi_set_nonce(struct doi_ctx *, const uint8_t *, size_t);
/* Tests only: g^xy once known (0 octets without PFS).  0 / -1. */
int	doi_get_gxy(const struct doi_ctx *, uint8_t *, size_t max, size_t *);

#endif
