/*
 * Per-peer state that outlives transactions and reloads: the principal,
 * the EPOCH last seen in a verified AP-REQ/AP-REP, liveness for dead-peer
 * detection, and the SAs made with the peer (struct kink_sarec, the
 * daemon's own record of what it installed, which `kinkctl show sa` lists).
 *
 * A struct kink_peer exists for every configured peer; pe_conf points into
 * the active configuration and is re-pointed on reload.  The clock offset
 * and the ticket cache live in the krb module, keyed by principal.
 */
#ifndef KINK_PEER_H
#define KINK_PEER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>
#include <time.h>

#include "ctl.h"
#include "sa.h"
#include "timer.h"

struct kinkd;
struct conf_peer;

/* Monitor event for an SA whose keys were replaced (3-way CREATE). */
#define PEER_EV_SA_UPDATE	"sa-update"

struct kink_sarec {
	TAILQ_ENTRY(kink_sarec)	 sr_entry;
	struct kink_peer	*sr_peer;
	char			 sr_policy[POL_NAME_MAX];
	uint32_t		 sr_reqid;
	uint32_t		 sr_pair;	/* one CREATE: its in/out SAs */
	uint8_t			 sr_initiator;	/* we sent the CREATE */
	uint8_t			 sr_state;	/* CTL_SA_* */
	uint8_t			 sr_installed;	/* backend has the keys */
	time_t			 sr_created;
	struct timer		 sr_timer;	/* DELETE grace */
	uint64_t		 sr_del_serial;	/* DELETE xact naming it */
	uint64_t		 sr_bytes;	/* from the last backend dump */
	uint8_t			 sr_bytes_known;
	struct kink_sa		 sr_sa;		/* keys wiped on free */
};
TAILQ_HEAD(kink_sarec_head, kink_sarec);

struct kink_peer {
	TAILQ_ENTRY(kink_peer)	 pe_entry;
	struct kinkd		*pe_kd;
	char			 pe_name[CTL_NAME_MAX + 1];
	char			 pe_principal[CTL_PRINC_MAX + 1];
	struct conf_peer	*pe_conf;
	uint8_t			 pe_epoch_known;
	uint32_t		 pe_epoch;
	uint8_t			 pe_state;	/* CTL_PEER_* */
	time_t			 pe_last_seen;	/* last authenticated message */
	uint64_t		 pe_last_ms;	/* the same, monotonic */
	int			 pe_nxact;
	struct timer		 pe_dpd;	/* dead-peer check */
	struct kink_xact	*pe_probe;	/* STATUS in flight */
	/*
	 * User-to-User (RFC 4430 3.1, 3.7.1): set once the KDC or the peer
	 * said this peer needs it; the peer's TGT from its last TGT_REP and
	 * the U2U ticket made under it are reused until the ticket nears its
	 * end or the peer shows it no longer holds that TGT.
	 */
	uint8_t			 pe_u2u;
	uint8_t			*pe_u2u_tgt;
	size_t			 pe_u2u_tgtlen;
	struct krb_ticket	*pe_u2u_tkt;
	/* A TGT_REP's TGT being tried: cache replaced only if it works. */
	struct krb_req		*pe_u2u_probe;
	void			*pe_u2u_probe_arg;
};
TAILQ_HEAD(kink_peer_head, kink_peer);

struct krb_ticket;
struct krb_req;
struct kink_peer *peer_new(struct kinkd *, struct conf_peer *);
void	peer_free(struct kink_peer *);	/* removes its SAs from the table */
struct kink_peer *peer_by_name(struct kinkd *, const char *);
struct kink_peer *peer_by_principal(struct kinkd *, const char *);
/* Authenticated traffic from the peer: alive, restart the DPD clock. */
void	peer_seen(struct kink_peer *);
/*
 * A verified EPOCH from the peer.  A change means the peer restarted:
 * every SA made with it is invalid (except those of pair `keep_pair`, the
 * exchange the EPOCH arrived in; 0 = none) and its cached REPLYs go.
 * Returns 1 on a change, else 0.
 */
int	peer_epoch(struct kink_peer *, uint32_t epoch, uint32_t keep_pair);
/* (Re)arm the dead-peer timer from the active config. */
void	peer_dpd_arm(struct kink_peer *);
int	peer_nsa(const struct kink_peer *);

/* SA records.  Each install/removal goes to the backend too. */
struct kink_sarec *peer_sa_add(struct kink_peer *, const char *policy,
	    uint32_t reqid, uint32_t pair, int initiator,
	    const struct kink_sa *, int replace);
/* Remove from the backend and the table now. */
void	peer_sa_del(struct kink_sarec *, const char *why);
/* Remove after `ms` (RFC 4430 3.3 grace); 0 = now. */
void	peer_sa_del_later(struct kink_sarec *, uint32_t ms);
/* Forget a record without touching the backend (it is already gone). */
void	peer_sa_forget(struct kink_sarec *);
struct kink_sarec *peer_sa_find(struct kinkd *, uint8_t proto, uint32_t spi,
	    uint8_t dir);
/* Every SA of a pair, removed now (why) or inbound after the grace. */
int	peer_pair_del(struct kinkd *, uint32_t pair, const char *why);
/* Number of peers' SAs removed. */
int	peer_sa_flush(struct kinkd *, struct kink_peer *, const char *why);

#endif
