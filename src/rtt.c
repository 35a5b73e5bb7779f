/*
 * rtt.c: per-peer round-trip estimate, RFC 6298 arithmetic in ms
 * (alpha 1/8, beta 1/4, K 4).
 */
#include "rtt.h"

static uint32_t
clamp(uint64_t v, uint32_t lo, uint32_t hi)
{
	if (v < lo)
		return lo;
	return v > hi ? hi : (uint32_t)v;
}

void
rtt_sample(struct rtt_est *re, uint32_t r, uint32_t min_ms, uint32_t max_ms)
{
	uint32_t dev;

	if (re->re_samples == 0) {
		re->re_srtt_ms = r;
		re->re_rttvar_ms = r / 2;
	} else {
		dev = re->re_srtt_ms > r ? re->re_srtt_ms - r :
		    r - re->re_srtt_ms;
		re->re_rttvar_ms = (uint32_t)(((uint64_t)re->re_rttvar_ms * 3 +
		    dev) / 4);
		re->re_srtt_ms = (uint32_t)(((uint64_t)re->re_srtt_ms * 7 +
		    r) / 8);
	}
	/* A zero estimate would read as "no sample" in the listing. */
	if (re->re_srtt_ms == 0)
		re->re_srtt_ms = 1;
	if (re->re_samples < UINT32_MAX)
		re->re_samples++;
	re->re_rto_ms = clamp((uint64_t)re->re_srtt_ms +
	    4 * (uint64_t)re->re_rttvar_ms, min_ms, max_ms);
}

void
rtt_backoff(struct rtt_est *re, uint32_t next_ms, uint32_t min_ms,
    uint32_t max_ms)
{
	uint32_t next = clamp(next_ms, min_ms, max_ms);

	if (next > re->re_rto_ms)
		re->re_rto_ms = next;
}

uint32_t
rtt_first_ms(const struct rtt_est *re, uint32_t min_ms, uint32_t max_ms)
{
	/* Bounds may have changed by a reload since the estimate. */
	return clamp(re->re_rto_ms, min_ms, max_ms);
}
