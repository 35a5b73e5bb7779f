/*
 * The kernel SA/SP database behind one interface, with three backends:
 * "null" (in memory, for host tests), "pfkey" (RFC 2367) and "xfrm"
 * (Linux netlink).  Nothing here blocks: every request completes through
 * its callback, called later from the event loop (never from inside the
 * request call), with 0 or an errno value.  A NULL callback is allowed
 * (nobody is told).  A request call that returns -1 never calls back.
 *
 * Kernel events (ACQUIRE, EXPIRE, and a SA deleted behind kinkd's back)
 * reach the daemon through the single upcall registered with sadb_new().
 */
#ifndef KINK_SADB_H
#define KINK_SADB_H

#include <stdint.h>

#include "policy.h"
#include "sa.h"

struct event_base;
struct sadb;
struct sadb_caps;

enum sadb_event_type {
	SADB_EV_ACQUIRE = 1,	/* traffic matched a policy with no SA */
	SADB_EV_EXPIRE_SOFT,	/* time to rekey */
	SADB_EV_EXPIRE_HARD,	/* the SA is gone */
};

struct sadb_event {
	enum sadb_event_type	 ev_type;
	uint32_t		 ev_reqid;	/* ACQUIRE: policy's reqid */
	/*
	 * ACQUIRE: the protocol (PROTO_*, DOI) the kernel found no SA for;
	 * 0 if the message did not say.  An optional IPComp template asks
	 * again every larval lifetime when the peer chose no IPComp.
	 */
	uint8_t			 ev_proto;
	struct sockaddr_storage	 ev_src, ev_dst;/* ACQUIRE: outer addresses */
	struct kink_sa		 ev_sa;		/* EXPIRE: the SA (no keys) */
};

typedef void (*sadb_upcall_cb)(const struct sadb_event *, void *arg);
typedef void (*sadb_done_cb)(int err, void *arg);
typedef void (*sadb_spi_cb)(int err, uint32_t spi, void *arg);
/* Dump: called once per SA, then once with sa == NULL and the result. */
typedef void (*sadb_dump_cb)(int err, const struct kink_sa *sa, void *arg);
/* SPD repair, once per direction (SADB_SPD_OUT/IN/FWD): 0 the kernel
 * did not have the entry and has it now, EEXIST it had it, else the
 * error. */
typedef void (*sadb_spd_cb)(int err, int dir, void *arg);
#define SADB_SPD_OUT	1
#define SADB_SPD_IN	2
#define SADB_SPD_FWD	3

struct sadb_ops {
	const char *name;
	/* Open the kernel interface; called as root before privileges drop. */
	int	(*open)(struct sadb *);
	void	(*close)(struct sadb *);
	/* Reserve an inbound SPI for src->dst (dst is this host). */
	int	(*getspi)(struct sadb *, const struct sockaddr_storage *src,
		    const struct sockaddr_storage *dst, uint8_t proto,
		    sadb_spi_cb, void *);
	/* Install; replace=1 swaps keys of an existing SPI (delete + add). */
	int	(*add)(struct sadb *, const struct kink_sa *, int replace,
		    sadb_done_cb, void *);
	int	(*del)(struct sadb *, const struct kink_sa *, sadb_done_cb,
		    void *);
	/* Every SA kinkd installed (by reqid range), as the kernel has it. */
	int	(*dump)(struct sadb *, sadb_dump_cb, void *);
	int	(*spd_add)(struct sadb *, const struct kink_policy *,
		    sadb_done_cb, void *);
	int	(*spd_del)(struct sadb *, const struct kink_policy *,
		    sadb_done_cb, void *);
	/* One SA (sa_dst, sa_spi, sa_proto; sa_src too if known), without
	 * keys: cb like dump (the SA, then NULL), or NULL with ESRCH. */
	int	(*get)(struct sadb *, const struct kink_sa *, sadb_dump_cb,
		    void *);
	/*
	 * Optional: can this backend install the transform (proto is
	 * IPPROTO_ESP, IPPROTO_AH or IPPROTO_COMP)?  1 yes; 0 no, with *why set to a
	 * static reason.  NULL op: everything it is asked for.
	 */
	int	(*supports)(struct sadb *, uint8_t proto,
		    const struct kink_xform *, const char **why);
	/* Optional: remove the larval SA (SPI 0) of an ACQUIRE that sa
	 * describes (src, dst, proto, mode, reqid), as a dump returned it. */
	int	(*del_larval)(struct sadb *, const struct kink_sa *,
		    sadb_done_cb, void *);
	/* Optional: see sadb_spd_repair(). */
	int	(*spd_repair)(struct sadb *, const struct kink_policy *,
		    sadb_spd_cb, void *);
	/* Optional, read-only: see sadb_spd_get(). */
	int	(*spd_get)(struct sadb *, const struct kink_policy *,
		    sadb_spd_cb, void *);
	/* Optional: see sadb_caps(). */
	int	(*caps)(struct sadb *, struct sadb_caps *);
};

/* Shared by sadb.c and the backends; the daemon treats it as opaque. */
struct sadb {
	const struct sadb_ops	*sd_ops;
	struct event_base	*sd_base;
	sadb_upcall_cb		 sd_upcall;
	void			*sd_upcall_arg;
	void			*sd_priv;	/* backend state */
	/*
	 * The reqids that are kinkd's: dump (and so sadb_flush) returns only
	 * SAs in [sd_reqid_min, sd_reqid_max].  sadb_new() sets
	 * SADB_REQID_MIN..SADB_REQID_MAX; the daemon may narrow it.
	 */
	uint32_t		 sd_reqid_min, sd_reqid_max;
};

/*
 * Linux PF_KEY keeps a policy's reqid only up to IPSEC_MANUAL_REQID_MAX
 * (0x3fff); for larger ones the pfkey backend gives the kernel a stand-in
 * reqid (0x2000..0x3fff) for the policy and its SAs, and maps it back.
 */
#define SADB_REQID_MIN		1
#define SADB_REQID_MAX		0x3fffffffU
#define SADB_PFKEY_REQID_MAX	0x3fff

extern const struct sadb_ops sadb_null_ops;
extern const struct sadb_ops sadb_pfkey_ops;
extern const struct sadb_ops sadb_xfrm_ops;

/*
 * backend: "null", "pfkey", "xfrm", or "auto" (PF_KEY where the socket
 * opens, else XFRM).  Returns NULL with errno set when it cannot open.
 */
struct sadb *sadb_new(struct event_base *, const char *backend,
	    sadb_upcall_cb, void *arg);
void	sadb_free(struct sadb *);
const char *sadb_backend(const struct sadb *);
int	sadb_getspi(struct sadb *, const struct sockaddr_storage *src,
	    const struct sockaddr_storage *dst, uint8_t proto, sadb_spi_cb,
	    void *);
int	sadb_add(struct sadb *, const struct kink_sa *, int replace,
	    sadb_done_cb, void *);
int	sadb_del(struct sadb *, const struct kink_sa *, sadb_done_cb, void *);
int	sadb_dump(struct sadb *, sadb_dump_cb, void *);
/* ENOTSUP (-1) for a backend without it. */
int	sadb_get(struct sadb *, const struct kink_sa *, sadb_dump_cb, void *);
/*
 * A larval SA (sa_spi 0: the kernel's placeholder while an ACQUIRE waits,
 * which stops further ACQUIREs for its selector until it expires) as a
 * dump returned it: removed.  ENOTSUP (-1) for a backend without it.
 */
int	sadb_del_larval(struct sadb *, const struct kink_sa *, sadb_done_cb,
	    void *);
int	sadb_spd_add(struct sadb *, const struct kink_policy *, sadb_done_cb,
	    void *);
int	sadb_spd_del(struct sadb *, const struct kink_policy *, sadb_done_cb,
	    void *);
/*
 * Write a policy's SPD entries again, saying which ones the kernel had
 * lost: per direction an add that fails with EEXIST when the entry is
 * there, then the usual update in place (so an entry another tool
 * changed is still rewritten).  Returns how many callbacks will come (one
 * per direction), or -1 (ENOTSUP: the backend cannot tell; use
 * sadb_spd_add()).
 */
int	sadb_spd_repair(struct sadb *, const struct kink_policy *, sadb_spd_cb,
	    void *);
/*
 * Ask the kernel, without changing anything, which of a policy's SPD
 * entries it holds now: cb once per direction with 0 (held), ENOENT (not
 * held) or another error (cannot tell).  Returns how many callbacks will
 * come, or -1 (ENOTSUP: the backend cannot answer).
 */
int	sadb_spd_get(struct sadb *, const struct kink_policy *, sadb_spd_cb,
	    void *);
/*
 * Delete every SA that dump returns (kinkd's reqids): shutdown with
 * "flush", and stale SAs of a previous run at start.  cb gets 0 or the
 * first error; SAs that vanished meanwhile (ESRCH) are not errors.
 */
int	sadb_flush(struct sadb *, sadb_done_cb, void *);
/*
 * Whether every transform of the suite can be installed by this backend
 * (Linux PF_KEY has no AEAD, so no AES-GCM): 1 yes, 0 no with *why set.
 * The daemon drops suites it could not install from its policies.
 */
int	sadb_supports(struct sadb *, const struct kink_suite *,
	    const char **why);
/*
 * What this kernel can install, per entry of the algorithm tables
 * (kern_alg.c: sadb_alg_enc_at(), sadb_alg_auth_at()): from PF_KEY's
 * SADB_REGISTER answer (its supported lists, which Linux fills by asking
 * the crypto API, modules loaded on demand) or, for XFRM and `kinkd -n`,
 * from the crypto API itself (AF_ALG bind per name, which loads modules
 * the same way; else /proc/crypto, which lists only what is loaded).
 * kc_known 0: nothing learnt, nothing refused.
 */
#define SADB_CAPS_MAX	16
struct sadb_caps {
	int		 kc_known;
	const char	*kc_source;	/* "SADB_REGISTER", "AF_ALG", ... */
	uint8_t		 kc_enc[SADB_CAPS_MAX];	/* 1: available */
	uint16_t	 kc_enc_min[SADB_CAPS_MAX];	/* key bits; 0: any */
	uint16_t	 kc_enc_max[SADB_CAPS_MAX];
	uint8_t		 kc_auth[SADB_CAPS_MAX];
	/*
	 * IPComp (sadb_alg_comp_at()): PF_KEY's REGISTER lists no
	 * compression, AF_ALG has none, so for both backends this comes
	 * from /proc/crypto (loaded) and the running kernel's module lists
	 * (loadable on demand).  kc_comp_known 0: nothing refused.
	 */
	int		 kc_comp_known;
	uint8_t		 kc_comp[SADB_CAPS_MAX];
};
#define SADB_CAPS_COMP_SOURCE	"/proc/crypto, kernel modules"
/* The backend's view (0), or -1 when it has none (null, or unknown). */
int	sadb_caps(struct sadb *, struct sadb_caps *);
/* The crypto API's answer without a backend (kinkd -n): 0 or -1. */
int	sadb_caps_probe(struct sadb_caps *);
/* Only the IPComp part (kc_comp*), which every kernel backend adds. */
void	sadb_caps_comp_probe(struct sadb_caps *);
/* The same from these files (unit tests): -1 (unknown) when neither
 * module list could be read. */
int	sadb_caps_comp_at(struct sadb_caps *, const char *proc_crypto,
	    const char *proc_modules, const char *moddir);
/*
 * Whether caps allow the transform (proto IPPROTO_ESP / IPPROTO_AH): 1,
 * or 0 with the reason in why ("the kernel has no hmac(sha512)").
 */
int	sadb_caps_xform(const struct sadb_caps *, uint8_t proto,
	    const struct kink_xform *, char *why, size_t);
/* The names caps hold, space-separated: "cbc(aes) ..." (enc 1, auth 0,
 * compression 2). */
void	sadb_caps_names(const struct sadb_caps *, int enc, char *, size_t);

/*
 * Backends deliver kernel events here.  Inline, so a backend reaches the
 * registered upcall without calling up into sadb.c, which calls down into
 * the backends.
 */
static inline void
sadb_upcall(struct sadb *sd, const struct sadb_event *ev)
{
	if (sd->sd_upcall != NULL)
		sd->sd_upcall(ev, sd->sd_upcall_arg);
}
/* The null backend: make it emit an event (tests drive ACQUIRE/EXPIRE). */
int	sadb_null_event(struct sadb *, const struct sadb_event *);
/*
 * Make the null backend refuse AES-GCM like PF_KEY (on != 0) or accept
 * everything again (the test build sets it from the environment before
 * the start-up suite filter runs).
 */
int	sadb_null_refuse_gcm(struct sadb *, int on);
/*
 * Make the null backend answer every SA add of the directions in `dirs`
 * (bits 1 << SA_DIR_IN, 1 << SA_DIR_OUT; 0 = none) with ENOSYS, as a
 * kernel without the transform does (the test build's `refuse add`).
 */
int	sadb_null_refuse_add(struct sadb *, unsigned dirs);
/*
 * Make the null backend answer spd_get with ENOTSUP (on != 0), as a
 * backend that cannot be asked does, or answer again (the test build's
 * `refuse spd-get`, ended by `refuse none`).
 */
int	sadb_null_refuse_spd_get(struct sadb *, int on);
/*
 * A completion that only logs (and counts) a failure; `what` is a
 * constant string naming the request.
 */
void	sadb_done_log(int err, void *what);

#endif
