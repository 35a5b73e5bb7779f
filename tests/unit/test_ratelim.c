/*
 * ratelim.c: answers to unauthenticated senders are budgeted per source
 * (an IPv4 address, an IPv6 /64) and in total, per second, so one busy
 * sender leaves the rest of the total to the others.
 */
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "ratelim.h"
#include "test.h"

static int
burst(struct ratelim *rl, const char *a, int n, uint64_t now)
{
	struct sockaddr_storage ss;
	int ok = 0;

	if (addr_parse(a, &ss) != 0)
		return -1;
	while (n-- > 0)
		ok += ratelim_ok(rl, addr_sa(&ss), now, 5, 20);
	return ok;
}

TEST(ratelim_per_source_and_total)
{
	struct ratelim rl;

	memset(&rl, 0, sizeof(rl));
	/* one sender at 160/s gets its 5, not the whole 20 */
	ASSERT_INT_EQ(burst(&rl, "192.0.2.1", 160, 1000), 5);
	/* the others still get theirs */
	ASSERT_INT_EQ(burst(&rl, "192.0.2.2", 3, 1000), 3);
	ASSERT_INT_EQ(burst(&rl, "192.0.2.3", 10, 1500), 5);
	ASSERT_INT_EQ(burst(&rl, "192.0.2.4", 10, 1999), 5);
	/* the total holds: 18 given, 2 left */
	ASSERT_INT_EQ(burst(&rl, "192.0.2.5", 10, 1999), 2);
	ASSERT_INT_EQ(burst(&rl, "192.0.2.6", 1, 1999), 0);
	/* a new second, new budgets */
	ASSERT_INT_EQ(burst(&rl, "192.0.2.1", 160, 2000), 5);
}

TEST(ratelim_v6_slash64)
{
	struct ratelim rl;

	memset(&rl, 0, sizeof(rl));
	/* addresses of one /64 are one source */
	ASSERT_INT_EQ(burst(&rl, "2001:db8:1:2::1", 3, 0), 3);
	ASSERT_INT_EQ(burst(&rl, "2001:db8:1:2::ffff", 10, 0), 2);
	/* the next /64 is another */
	ASSERT_INT_EQ(burst(&rl, "2001:db8:1:3::1", 10, 0), 5);
	/* a v4 address is never a v6 source */
	ASSERT_INT_EQ(burst(&rl, "32.1.13.184", 10, 0), 5);
}

TEST(ratelim_table_full)
{
	struct ratelim rl;
	char a[32];
	int ok = 0;

	memset(&rl, 0, sizeof(rl));
	/* more sources than slots: the total still bounds them */
	for (int i = 0; i < RATELIM_SRCS + 40; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i);
		ok += burst(&rl, a, 1, 0);
	}
	ASSERT_INT_EQ(ok, 20);
}

int
main(void)
{
	RUN(ratelim_per_source_and_total);
	RUN(ratelim_v6_slash64);
	RUN(ratelim_table_full);
	return test_done();
}
