/*
 * The transaction state table as data: terminal states are terminal,
 * every live state can fail, the documented paths exist and nothing goes
 * backwards; the ACK-regeneration window is the full backoff cycle.
 */
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "test.h"
#include "xact.h"

TEST(xact_terminal_states)
{
	int s;

	for (s = 0; s < XS_MAX; s++) {
		ASSERT_TRUE(!xact_transition_ok(XS_DONE, s));
		ASSERT_TRUE(!xact_transition_ok(XS_FAILED, s));
	}
	ASSERT_TRUE(!xact_transition_ok(XS_MAX, XS_DONE));
	ASSERT_TRUE(!xact_transition_ok(XS_NEW, XS_MAX));
}

TEST(xact_every_live_state_can_fail)
{
	int s;

	for (s = 0; s < XS_MAX; s++)
		if (s != XS_DONE && s != XS_FAILED)
			ASSERT_TRUE(xact_transition_ok(s, XS_FAILED));
}

TEST(xact_documented_paths)
{
	static const enum xact_st paths[][6] = {
		{ XS_NEW, XS_I_TICKET, XS_I_GETSPI, XS_I_CREATE, XS_DONE },
		{ XS_NEW, XS_I_TICKET, XS_I_GETSPI, XS_I_CREATE, XS_I_AGING,
		    XS_DONE },
		{ XS_NEW, XS_I_TICKET, XS_I_DELETE, XS_DONE },
		{ XS_NEW, XS_I_TICKET, XS_I_GETTGT, XS_I_TICKET, XS_I_GETSPI,
		    XS_I_CREATE },
		{ XS_NEW, XS_I_TICKET, XS_I_STATUS, XS_DONE },
		{ XS_NEW, XS_R_GETSPI, XS_R_CACHE, XS_DONE },
		{ XS_NEW, XS_R_GETSPI, XS_R_ACKWAIT, XS_R_CACHE, XS_DONE },
		{ XS_NEW, XS_R_CACHE, XS_DONE },
	};
	size_t i, j;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		for (j = 1; j < 6 && paths[i][j] != XS_NEW; j++)
			if (!xact_transition_ok(paths[i][j - 1], paths[i][j])) {
				test_fail(__FILE__, __LINE__, "%s -> %s",
				    xact_state_name(paths[i][j - 1]),
				    xact_state_name(paths[i][j]));
				return;
			}
}

TEST(xact_no_way_back)
{
	/* A REPLY once cached is never re-sent for an ACK, nor re-run. */
	ASSERT_TRUE(!xact_transition_ok(XS_R_CACHE, XS_R_ACKWAIT));
	ASSERT_TRUE(!xact_transition_ok(XS_R_CACHE, XS_R_GETSPI));
	ASSERT_TRUE(!xact_transition_ok(XS_R_ACKWAIT, XS_R_GETSPI));
	ASSERT_TRUE(!xact_transition_ok(XS_I_AGING, XS_I_CREATE));
	ASSERT_TRUE(!xact_transition_ok(XS_I_CREATE, XS_I_TICKET));
	ASSERT_TRUE(!xact_transition_ok(XS_I_GETTGT, XS_I_CREATE));
	/* roles do not mix */
	ASSERT_TRUE(!xact_transition_ok(XS_I_CREATE, XS_R_CACHE));
	ASSERT_TRUE(!xact_transition_ok(XS_R_GETSPI, XS_I_CREATE));
	ASSERT_STR_EQ(xact_state_name(XS_I_AGING), "I_AGING");
	ASSERT_STR_EQ(xact_state_name(XS_MAX), "?");
}

TEST(xact_backoff_cycle)
{
	struct kink_conf c;
	struct kink_engine en;

	memset(&c, 0, sizeof(c));
	memset(&en, 0, sizeof(en));
	en.en_conf = &c;
	c.c_retrans_ms = 100;
	c.c_retrans_max_ms = 400;
	c.c_retrans_tries = 5;
	/* 100 + 200 + 400 (capped) + 400 + 400 */
	ASSERT_INT_EQ(xact_cycle_ms(&en), 1500);
	c.c_retrans_tries = 1;
	ASSERT_INT_EQ(xact_cycle_ms(&en), 100);
	c.c_retrans_ms = 1000;
	c.c_retrans_max_ms = 8000;
	c.c_retrans_tries = 5;	/* racoon2's 1, 2, 4, 8, 16 capped at 8 */
	ASSERT_INT_EQ(xact_cycle_ms(&en), 1000 + 2000 + 4000 + 8000 + 8000);
}

int
main(void)
{
	RUN(xact_terminal_states);
	RUN(xact_every_live_state_can_fail);
	RUN(xact_documented_paths);
	RUN(xact_no_way_back);
	RUN(xact_backoff_cycle);
	return test_done();
}
