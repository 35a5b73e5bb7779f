/*
 * A peer's round-trip estimate and the first retransmission interval it
 * gives (RFC 4430 section 9 asks for RTT-based timers; the estimator is
 * TCP's, RFC 6298).  Pure arithmetic so the unit tier checks it directly:
 * the caller supplies the samples and the configured bounds.
 */
#ifndef KINK_RTT_H
#define KINK_RTT_H

#include <stdint.h>

struct rtt_est {
	uint32_t	re_srtt_ms;	/* smoothed round trip; 0 until a sample */
	uint32_t	re_rttvar_ms;	/* its mean deviation */
	uint32_t	re_rto_ms;	/* first interval; 0: use the minimum */
	uint32_t	re_samples;	/* samples taken */
};

/*
 * A round trip measured on an exchange that was sent once (Karn's rule:
 * the caller does not pass a retransmitted one).  The interval becomes
 * SRTT + 4 RTTVAR, clamped to [min_ms, max_ms].
 */
void	 rtt_sample(struct rtt_est *, uint32_t rtt_ms, uint32_t min_ms,
	    uint32_t max_ms);
/*
 * A command went unanswered and is resent, the next wait being `next_ms`:
 * later exchanges start from that, clamped, until a clean sample says otherwise (RFC 6298
 * 5.5, 5.7); without this a path slower than the minimum interval would
 * retransmit every exchange and never yield a sample.
 */
void	 rtt_backoff(struct rtt_est *, uint32_t next_ms, uint32_t min_ms,
	    uint32_t max_ms);
/* The first retransmission interval of a new exchange. */
uint32_t rtt_first_ms(const struct rtt_est *, uint32_t min_ms,
	    uint32_t max_ms);

#endif
