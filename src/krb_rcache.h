/*
 * The responder's replay cache: a set of authenticator digests in memory,
 * mirrored into a ring in a MAP_SHARED file so that a restarted daemon
 * still knows what it accepted before.  No syscall per authenticator.
 * docs/arch/krb.md gives the safety argument.  No krb5 type here: krb.c
 * computes the digest.
 */
#ifndef KINK_KRB_RCACHE_H
#define KINK_KRB_RCACHE_H

#include <stddef.h>
#include <stdint.h>

#define KRB_RC_DIGEST	16	/* octets of an authenticator digest */
#define KRB_RC_SLOTS	(1u << 18)	/* ring entries in the file */

struct krb_rc;

enum krb_rc_verdict {
	KRB_RC_FRESH = 0,	/* not seen: now remembered */
	KRB_RC_REPLAY,		/* seen within the skew window */
	KRB_RC_UNKNOWN		/* older than what the state can vouch for */
};

/*
 * `path` NULL keeps the set in memory only.  `skew` is the clock skew
 * in seconds (how long an authenticator can be accepted), `now_us` the
 * current time, `bootid` this boot's identity ("" if unknown: the file
 * is then never trusted across a restart).  Opening never fails for a
 * bad or missing file: the file is rebuilt and every authenticator
 * made before `now_us` is refused (KRB_RC_UNKNOWN).  NULL only when out
 * of memory.  `why` (may be NULL) gets the reason the file was not
 * trusted, or "".
 */
struct krb_rc	*krb_rc_open(const char *path, uint32_t skew, int64_t now_us,
		    const char *bootid, char *why, size_t whylen);
void		 krb_rc_close(struct krb_rc *);
/* Check an authenticator made at `ctime_us` and remember it if fresh. */
enum krb_rc_verdict krb_rc_check(struct krb_rc *,
		    const uint8_t dig[KRB_RC_DIGEST], int64_t ctime_us,
		    int64_t now_us);
/* Entries remembered in memory (for tests). */
size_t		 krb_rc_count(const struct krb_rc *);
/* This boot's identity into out ("" if unknown). */
void		 krb_rc_bootid(char *out, size_t len);

#endif
