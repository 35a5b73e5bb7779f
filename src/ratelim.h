/*
 * Per-second budgets for answers to unauthenticated senders, per source
 * and in total: one sender cannot spend the budget everyone else's error
 * replies come from.  A source is an IPv4 address or an IPv6 /64 (one
 * host usually holds a whole /64).  Pure: no clock, no log; the caller
 * passes the time.
 */
#ifndef KINK_RATELIM_H
#define KINK_RATELIM_H

#include <sys/socket.h>

#include <stdint.h>

#define RATELIM_SRCS	64	/* sources remembered per second */

struct ratelim {
	uint64_t	 rl_window_ms;
	int		 rl_total;
	int		 rl_nsrc;
	struct {
		uint8_t	 key[9];	/* family, then 4 or 8 octets */
		int	 count;
	}		 rl_src[RATELIM_SRCS];
};

/*
 * 1 when an answer to `src` at `now_ms` is within both budgets (and
 * counts it), 0 when over either.  With every slot of the second taken
 * by other sources, a new source is held to the total budget alone.
 */
int	ratelim_ok(struct ratelim *, const struct sockaddr *src,
	    uint64_t now_ms, int per_src, int total);

#endif
