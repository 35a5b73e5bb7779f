/*
 * Shared inside the IPsec DOI module only (doi_ipsec.c responder,
 * doi_init.c initiator, doi_sa.c KEYMAT and SA descriptions, doi_sel.c
 * selectors and ID payloads): the context and the picks.  Callers outside
 * the module use doi_ipsec.h.
 */
#ifndef KINK_DOI_INT_H
#define KINK_DOI_INT_H

#include <stdlib.h>
#include <string.h>

#include "doi_ipsec.h"
#include "dh.h"

#define NONCE_LEN	16	/* what we send; racoon2 sends 16 too */
#define KEYMAT_MAX	128	/* enc (<= 36) + auth (<= 64) */
#define SEED_MAX	(DH_MAX_LEN + 5 + 2 * ISAKMP_NONCE_MAX)

/*
 * RFC 4430 3.6: soft = hard - random(T-retrans .. T-rekey), T-rekey at
 * least twice T-retrans.  The daemon sets T-retrans from its configured
 * retransmission cycle (doi_set_retrans); this is the default cycle.
 */
#define DOI_T_RETRANS	31	/* 1+2+4+8+16 s, a full retransmit cycle */

enum { ROLE_INIT = 1, ROLE_RESP };

/* One protocol of the chosen (or optimistic) proposal. */
struct doi_pick {
	uint8_t		 pk_proto;
	uint32_t	 pk_peer_spi;	/* the peer's inbound SPI */
	struct isakmp_trans pk_t;	/* the one transform, final attrs */
	int		 pk_lowered;	/* responder lowered a lifetime */
};

struct doi_ctx {
	int		 c_role;
	struct sockaddr_storage c_local, c_remote;
	struct kink_policy c_pol;	/* initiator's copy; responder's match */
	const struct kink_policy *c_polp;	/* responder: caller's pointer */
	struct doi_spis	 c_in;		/* this host's inbound SPIs */
	uint8_t		 c_ni[ISAKMP_NONCE_MAX], c_nr[ISAKMP_NONCE_MAX];
	size_t		 c_nilen, c_nrlen;
	int		 c_nonce_fixed;
	struct kink_dh	*c_dh;
	uint8_t		 c_gxy[DH_MAX_LEN];
	size_t		 c_gxylen;
	struct isakmp_sa c_offer;	/* initiator: what we proposed */
	int		 c_send_ids;
	struct isakmp_id c_id[2];	/* IDci, IDcr as sent or received */
	int		 c_nid;
	/* Responder: the choice. */
	int		 c_npick;
	struct doi_pick	 c_pick[DOI_MAX_SA];
	uint8_t		 c_pick_num;	/* Proposal # chosen */
	int		 c_optimistic;
	int		 c_chosen;
	uint32_t	 c_t_retrans;	/* seconds of one retransmit cycle */
	char		 c_narrowed[512];	/* responder: IDs
					   narrower than the policy, for the
					   log; "" = as configured */
	int		 c_life_notify;	/* responder: send RESPONDER-LIFETIME */
	uint16_t	 c_test_notify;	/* initiator: Notify in the proposal */
	/* Notify types of the last message parsed (CREATE or REPLY). */
	int		 c_nnotify;
	uint16_t	 c_notify[ISAKMP_MAX_NOTIFY];
};

/* Remember the Notify types a parsed message carried (for the log). */
static inline void
keep_notifies(struct doi_ctx *c, const struct isakmp_msg *m)
{
	c->c_nnotify = 0;
	for (int i = 0; i < m->m_nnotify && i < ISAKMP_MAX_NOTIFY; i++)
		c->c_notify[c->c_nnotify++] = m->m_notify[i].n_type;
}

/* Seconds lifetime: absent means RFC 2407's default (4.5). */
static inline uint32_t
eff_secs(uint32_t v)
{
	return v ? v : IPSECDOI_ATTR_SA_LD_SEC_DEFAULT;
}

static inline void
set_err(struct doi_error *e, int err)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->de_err = err;
	e->de_notify = isakmp_err_notify(err);
}

static inline void
random_bytes(uint8_t *p, size_t n)
{
	arc4random_buf(p, n);
}

/* doi_sel.c: selectors and ID payloads. */
void	 doi_host_sel(struct kink_selector *, const struct sockaddr_storage *);
int	 doi_sel_set(const struct kink_selector *);
void	 doi_sel_str(const struct kink_selector *, char *, size_t);
void	 doi_sel_to_id(const struct kink_selector *, uint8_t,
	    struct isakmp_id *);
int	 doi_id_to_sel(const struct isakmp_id *, struct kink_selector *);
int	 doi_sel_eq(const struct kink_selector *, const struct kink_selector *);
int	 doi_ids_match(const struct doi_ctx *, const struct isakmp_msg *,
	    const struct kink_policy *);
void	 doi_id_policy_text(const struct doi_ctx *, const struct isakmp_msg *,
	    const struct kink_policy *const *, int, struct doi_error *);
int	 doi_ids_narrowed(const struct doi_ctx *, const struct isakmp_msg *,
	    const struct kink_policy *, char *, size_t);

/* doi_sa.c: algorithms, contexts, the SAs of a choice. */
uint16_t doi_ah_auth(uint8_t);
int	 doi_trans_usable(uint8_t, const struct isakmp_trans *);
int	 doi_trans_matches(uint8_t, const struct isakmp_trans *,
	    const struct kink_xform *, const struct kink_policy *);
uint32_t doi_in_spi(const struct doi_ctx *, uint8_t);
int	 doi_make_sas(struct doi_ctx *, const struct doi_pick *, int,
	    doi_prf_fn, void *, struct doi_result *, int);
struct doi_ctx *doi_ctx_new(int, const struct sockaddr *,
	    const struct sockaddr *);

#endif
