/*
 * The golden-message check both codec unit tests run: every request of
 * kc_cases() built by one codec and compared byte for byte with its file
 * in tests/unit/data/kern/.  Apart from kern_cases.h because it needs the
 * unit test library, which the fuzzers do not link.
 */
#ifndef KINK_KERN_GOLDEN_H
#define KINK_KERN_GOLDEN_H

#include <stdio.h>

#include "kern_cases.h"
#include "test.h"

/* The golden message kern/<fmt><4|6>-<kind>.hex. */
static inline int
kg_golden(const char *fmt, int fam, const char *kind, uint8_t *buf,
    size_t *len)
{
	char name[128];

	snprintf(name, sizeof(name), "kern/%s%d-%s.hex", fmt,
	    fam == AF_INET ? 4 : 6, kind);
	return test_hex_file(name, buf, KMSG_MAX, len);
}

/* A codec's request builder: octets written, or -1. */
typedef int (*kg_build_fn)(const struct kreq *, uint8_t *, size_t);

/*
 * Builds all ncases requests of one family (dirs as kc_cases() takes
 * them) and fails the current test on the first that differs.
 */
static inline void
kg_build_all(const char *fmt, int fam, int pfkey, const uint8_t dirs[3],
    int ncases, kg_build_fn build)
{
	struct kc c;
	struct kc_case cs[KC_MAXCASES];
	uint8_t want[KMSG_MAX] __attribute__((aligned(8)));
	uint8_t got[KMSG_MAX] __attribute__((aligned(8)));
	size_t wl;
	int n, i, len;

	kc_init(&c, fam);
	n = kc_cases(&c, pfkey, cs, dirs[0], dirs[1], dirs[2]);
	ASSERT_INT_EQ(n, ncases);
	for (i = 0; i < n; i++) {
		if (kg_golden(fmt, fam, cs[i].name, want, &wl) == -1) {
			test_fail(__FILE__, __LINE__, "no golden %s",
			    cs[i].name);
			return;
		}
		len = build(&cs[i].rq, got, sizeof(got));
		if (len != (int)wl)
			printf("# %s: length %d, want %zu\n", cs[i].name, len,
			    wl);
		ASSERT_INT_EQ(len, wl);
		ASSERT_MEM_EQ(got, want, wl);
	}
}

#endif
