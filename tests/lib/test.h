/*
 * Minimal unit-test helpers.  Every test program prints one line per case,
 * "PASS name" or "FAIL name: file:line: why", and exits non-zero if any case
 * failed.  tests/lib/harness.sh counts those lines across all tiers.
 *
 *	TEST(name) { ASSERT_INT_EQ(f(), 0); ... }
 *	int main(void) { RUN(name); ...; return test_done(); }
 *
 * An ASSERT_* failure ends the current case (it returns from the function).
 */
#ifndef KINK_TEST_H
#define KINK_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failed_cur;
extern int test_npass, test_nfail;
extern const char *test_cur;

#define TEST(name) static void name(void)

#define RUN(name) do {							\
	test_cur = #name;						\
	test_failed_cur = 0;						\
	name();								\
	if (test_failed_cur)						\
		test_nfail++;						\
	else {								\
		test_npass++;						\
		printf("PASS %s\n", #name);				\
	}								\
	fflush(stdout);							\
} while (0)

void	test_fail(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	test_done(void);
/* Hex helpers: parse "0a 0b..." (whitespace and '#' comments ignored). */
int	test_hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len);
/* Read a hex file from tests/unit/data (relative to TEST_DATA env or cwd). */
int	test_hex_file(const char *name, uint8_t *out, size_t max, size_t *len);
void	test_hexdump(const char *label, const void *p, size_t len);

#define ASSERT_TRUE(c) do {						\
	if (!(c)) { test_fail(__FILE__, __LINE__, "%s", #c); return; }	\
} while (0)
#define ASSERT_INT_EQ(a, b) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		test_fail(__FILE__, __LINE__, "%s == %lld, want %s == %lld", \
		    #a, _a, #b, _b);					\
		return;							\
	}								\
} while (0)
#define ASSERT_INT_NE(a, b) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a == _b) {							\
		test_fail(__FILE__, __LINE__, "%s == %s == %lld", #a, #b, _a); \
		return;							\
	}								\
} while (0)
#define ASSERT_STR_EQ(a, b) do {					\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {		\
		test_fail(__FILE__, __LINE__, "%s == \"%s\", want \"%s\"", \
		    #a, _a ? _a : "(null)", _b ? _b : "(null)");	\
		return;							\
	}								\
} while (0)
#define ASSERT_MEM_EQ(a, b, n) do {					\
	size_t _n = (n);						\
	if (memcmp((a), (b), _n) != 0) {				\
		test_hexdump("got ", (a), _n);				\
		test_hexdump("want", (b), _n);				\
		test_fail(__FILE__, __LINE__, "%s != %s (%zu octets)", #a, #b, _n); \
		return;							\
	}								\
} while (0)

#endif
