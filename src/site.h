/*
 * Range peers (kinkd.conf "addresses" with prefixes): a site's policy
 * for hosts that are found, not listed.  A host found in a range becomes
 * a learned peer, an ordinary entry of the peer table with its own copy
 * of the range peer's configuration (conf_peer_learned()), so EPOCH,
 * dead-peer detection, rekeying and DELETE work for it unchanged.
 *
 * Engine layer, between the input path and the exchanges: xact_input.c,
 * upcall.c, daemon_ctl.c and reload.c call it; it calls xact_create,
 * xact.c (the peer table) and hostid (services).  docs/arch/daemon.md,
 * "Range peers", has the choices and why.
 */
#ifndef KINK_SITE_H
#define KINK_SITE_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct kink_conf;
struct kink_engine;
struct kink_peer;
struct xact_waiter;

/*
 * Initiator (kinkctl initiate ADDRESS, or an ACQUIRE): the learned peer
 * at `addr`, found first if need be, and a CREATE for each of its
 * policies (only `policy` when not "", only reqid `reqid` when not 0).
 * `w` (may be NULL) is held until the CREATEs are started or the lookup
 * failed.  Returns 0, or -1 when `addr` is in no range (nothing done).
 */
int	site_initiate(struct kink_engine *, const struct sockaddr *addr,
	    const char *policy, uint32_t reqid, struct xact_waiter *w);
/* 1 when `reqid` belongs to a range peer's policy. */
int	site_reqid(struct kink_engine *, uint32_t reqid);
/*
 * Responder, after the AP-REQ of a command from `from` to `to` was
 * verified and its client is `princ`: the peer to go on with, or NULL
 * with *v saying why.  The binding of `princ` to `from` is checked
 * first.  A check that answers at once (pattern, file, a cached answer)
 * returns the peer or NULL, SITE_REFUSED (the reason logged).  One that
 * waits on DNS parks the command: `resume` (may be NULL: not parked)
 * holds `bytes` of the caller's until the check answers, and is then
 * called exactly once, on the loop, with the peer, or with NULL and
 * `refused` 1 (refusal logged) or 0 (dropped: too many bytes parked,
 * engine stop, reload); *v is SITE_PARKED, or SITE_REFUSED when it was
 * dropped at once.  A command from a source whose check is pending
 * gives SITE_DUP: a retransmission, to be dropped quietly.
 */
enum site_verdict { SITE_REFUSED, SITE_PARKED, SITE_DUP };
typedef void site_resume_cb(void *arg, struct kink_peer *pe, int refused);
struct kink_peer *site_input(struct kink_engine *, const char *princ,
	    const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to, site_resume_cb *resume,
	    void *arg, size_t bytes, enum site_verdict *v);
/* Bytes of parked commands, all sources, at most (engine-wide). */
#define SITE_PARK_MAX	(1024 * 1024)
/* The learned peer bound to `addr`; NULL if none. */
struct kink_peer *site_peer_by_addr(struct kink_engine *,
	    const struct sockaddr *);
/*
 * Before a reload to `nc`: each learned peer's configuration under the
 * new file in pe_next_conf, NULL when no range of its range peer covers
 * it any more (or a listed peer took its address); reload.c then keeps
 * the SAs of unchanged policies and removes the peers left without one.
 */
void	site_reload_prepare(struct kink_engine *, struct kink_conf *nc);
/* Pending lookups cancelled, the idle timer stopped (engine_fini). */
void	site_fini(struct kink_engine *);

#endif
