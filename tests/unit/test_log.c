/*
 * log.c's two defences against a hostile sender: log_esc (no control
 * octet, terminal escape or non-ASCII octet survives, and the result
 * always fits) and log_rate_ok (a fixed number of lines per second, the
 * rest counted and summarized once).
 */
#include <string.h>

#include "log.h"
#include "test.h"

TEST(log_esc_controls)
{
	char out[256];
	const char bad[] = "kink/\r\033[2KFAKE!\n\t\\x\x7f\xc3\xa9";

	log_esc(out, sizeof(out), bad, sizeof(bad) - 1);
	ASSERT_STR_EQ(out,
	    "kink/\\r\\033[2KFAKE!\\n\\t\\\\x\\177\\303\\251");
	for (const char *p = out; *p != '\0'; p++)
		ASSERT_TRUE(*p >= 0x20 && *p < 0x7f);
	/* Plain text is unchanged. */
	log_esc(out, sizeof(out), "kink/beta.test@EXAMPLE", 22);
	ASSERT_STR_EQ(out, "kink/beta.test@EXAMPLE");
	/* A NUL inside the length is shown, not a terminator. */
	log_esc(out, sizeof(out), "a\0b", 3);
	ASSERT_STR_EQ(out, "a\\0b");
}

TEST(log_esc_truncates_whole_escapes)
{
	char out[8];

	memset(out, 'Z', sizeof(out));
	/* "ab\033" needs 6 octets + NUL: fits; a 4th escape does not. */
	log_esc(out, sizeof(out), "ab\033\033", 4);
	ASSERT_STR_EQ(out, "ab\\033");
	log_esc(out, 1, "abc", 3);
	ASSERT_STR_EQ(out, "");
}

TEST(log_rate_budget)
{
	struct log_rate lr;
	int i, ok = 0;

	memset(&lr, 0, sizeof(lr));
	for (i = 0; i < 1000; i++)
		ok += log_rate_ok(&lr, 10, 5000, "test input");
	ASSERT_INT_EQ(ok, 10);
	ASSERT_INT_EQ(lr.lr_suppressed, 990);
	/* Same window, still over. */
	ASSERT_INT_EQ(log_rate_ok(&lr, 10, 5999, "test input"), 0);
	ASSERT_INT_EQ(lr.lr_suppressed, 991);
	/* Next second: the summary goes out, the budget is new. */
	ASSERT_INT_EQ(log_rate_ok(&lr, 10, 6000, "test input"), 1);
	ASSERT_INT_EQ(lr.lr_suppressed, 0);
	ASSERT_INT_EQ(lr.lr_count, 1);
}

int
main(void)
{
	RUN(log_esc_controls);
	RUN(log_esc_truncates_whole_escapes);
	RUN(log_rate_budget);
	return test_done();
}
