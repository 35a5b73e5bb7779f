/*
 * Reconciliation: kinkd's SA records against what the kernel holds.  The
 * kernel can lose what kinkd installed (another tool, `ip xfrm state
 * flush`, a second instance) or hold what kinkd no longer owns; kinkd
 * repairs what it owns, one log line per repair: an SA the kernel lost is
 * marked missing and its pair renegotiated (a rekey CREATE, whose end
 * DELETEs the old pair at the peer), an SA in kinkd's reqid range that no
 * record or transaction owns is removed, and every SPD entry is written
 * again (the backends update in place, so this is idempotent).
 * Runs every `set reconcile` interval, after a reload and on `kinkctl
 * reconcile`.
 */
#ifndef KINK_RECONCILE_H
#define KINK_RECONCILE_H

struct kinkd;

struct reconcile_result {
	int	rr_lost;	/* SAs the kernel lost: renegotiating */
	int	rr_orphans;	/* SAs nobody owns: removed */
	int	rr_spd;		/* SPD entries written again */
	int	rr_larval;	/* larval (ACQUIRE) SAs removed */
};

/* err 0: the comparison ran; -1: the backend could not dump. */
typedef void reconcile_done_fn(void *arg, int err,
	    const struct reconcile_result *);

/* Start one run; `done` (may be NULL) when it ends.  -1: not started. */
int	reconcile_start(struct kinkd *, const char *why, reconcile_done_fn *,
	    void *arg);
/* (Re)arm the periodic run from the active configuration (0 = off). */
void	reconcile_arm(struct kinkd *);
void	reconcile_fini(struct kinkd *);
struct kink_sa;
/* The one line for removing a larval SA (spi 0) a dump returned. */
void	reconcile_larval_log(const struct kink_sa *, const char *why);

#endif
