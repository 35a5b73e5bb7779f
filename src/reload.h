/* Reload and the backend capability filter; see reload.c. */
#ifndef KINK_RELOAD_H
#define KINK_RELOAD_H

#include <stddef.h>

struct kinkd;
struct kink_conf;
struct sadb;
struct kink_engine;

/*
 * Parse `path` (NULL = current) into a new config and swap it in when it
 * is valid: peers re-pointed, SAs whose policy is unchanged kept, the rest
 * removed, SPD entries updated.  On failure the old config stays and
 * `errtext` (may be NULL) gets every error line.  0 / -1.
 */
int	reload_config(struct kinkd *, const char *path, char *errtext,
	    size_t errlen);
/*
 * Drop from every policy of `c` the suites backend `sd` cannot install,
 * one warning per suite; a policy left with none is an error (logged, and
 * appended to errtext, which may be NULL).  0 / -1.  Also raises a
 * `set reply-cache` shorter than one retransmission cycle to it (warned).
 */
int	reload_filter(struct sadb *sd, struct kink_conf *c, char *errtext,
	    size_t errlen);

/*
 * Host name lookups for range peers: made when the first range peer
 * appears, given the file's name servers on each reload.  0 / -1.
 */
int	reload_hostid(struct kink_engine *, const struct kink_conf *);

#endif
