/*
 * rtt.c: the per-peer round-trip estimate (RFC 6298 arithmetic) and the
 * first retransmission interval it gives, within the configured bounds.
 */
#include <string.h>

#include "rtt.h"
#include "test.h"

TEST(rtt_unmeasured_uses_minimum)
{
	struct rtt_est re;

	memset(&re, 0, sizeof(re));
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 100);
	ASSERT_INT_EQ(re.re_samples, 0);
}

TEST(rtt_first_and_later_samples)
{
	struct rtt_est re;

	memset(&re, 0, sizeof(re));
	/* first: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR */
	rtt_sample(&re, 800, 100, 5000);
	ASSERT_INT_EQ(re.re_srtt_ms, 800);
	ASSERT_INT_EQ(re.re_rttvar_ms, 400);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 2400);
	/* later: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 + 1/8 R */
	rtt_sample(&re, 400, 100, 5000);
	ASSERT_INT_EQ(re.re_rttvar_ms, 400);
	ASSERT_INT_EQ(re.re_srtt_ms, 750);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 2350);
	rtt_sample(&re, 750, 100, 5000);
	ASSERT_INT_EQ(re.re_rttvar_ms, 300);
	ASSERT_INT_EQ(re.re_srtt_ms, 750);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 1950);
	ASSERT_INT_EQ(re.re_samples, 3);
}

TEST(rtt_clamped_to_bounds)
{
	struct rtt_est re;

	memset(&re, 0, sizeof(re));
	/* a near peer never waits less than the configured interval */
	rtt_sample(&re, 10, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 100);
	/* a zero sample still counts as measured */
	memset(&re, 0, sizeof(re));
	rtt_sample(&re, 0, 100, 5000);
	ASSERT_INT_EQ(re.re_samples, 1);
	ASSERT_TRUE(re.re_srtt_ms > 0);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 100);
	/* nor more than the maximum */
	memset(&re, 0, sizeof(re));
	rtt_sample(&re, 100000, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 5000);
	/* bounds lowered by a reload apply to the kept estimate */
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 1000), 1000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 6000, 8000), 6000);
}

TEST(rtt_backoff_until_a_clean_sample)
{
	struct rtt_est re;

	memset(&re, 0, sizeof(re));
	/* a resend: later exchanges start from the backed-off wait */
	rtt_backoff(&re, 200, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 200);
	rtt_backoff(&re, 800, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 800);
	/* a shorter exchange's resend does not undo a longer one's */
	rtt_backoff(&re, 200, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 800);
	rtt_backoff(&re, 99999, 100, 5000);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 5000);
	ASSERT_INT_EQ(re.re_samples, 0);
	/* a sample from an exchange sent once replaces the backoff */
	rtt_sample(&re, 50, 100, 5000);
	ASSERT_INT_EQ(re.re_rto_ms, 150);
	ASSERT_INT_EQ(rtt_first_ms(&re, 100, 5000), 150);
}

int
main(void)
{
	RUN(rtt_unmeasured_uses_minimum);
	RUN(rtt_first_and_later_samples);
	RUN(rtt_clamped_to_bounds);
	RUN(rtt_backoff_until_a_clean_sample);
	return test_done();
}
