/*
 * libFuzzer harness for the XFRM decoder (src/xfrm_msg.c): the input is
 * one datagram as the kernel would deliver it, split into netlink
 * messages the way the driver does.  Checks, and traps when one breaks:
 * the split stays inside the datagram and always moves on; every result
 * is a known kind; an SA never carries a key and can be encoded again as
 * a request without failing for any reason but an unknown algorithm.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
check_sa(const struct kink_sa *sa)
{
	uint64_t out[KMSG_MAX / 8];
	struct kreq rq = { .kr_op = KREQ_ADD, .kr_sa = sa };

	CHECK(sa->sa_enckey_len == 0 && sa->sa_authkey_len == 0);
	if (xfrm_build(&rq, (uint8_t *)out, sizeof(out)) == -1)
		CHECK(errno == EOPNOTSUPP || errno == EINVAL);
	rq.kr_op = KREQ_DELETE;
	CHECK(xfrm_build(&rq, (uint8_t *)out, sizeof(out)) > 0);
}

static void
one(const uint8_t *msg, size_t len)
{
	struct kin in;

	xfrm_parse(msg, len, &in);
	switch (in.ki_kind) {
	case KIN_IGNORE:
	case KIN_DONE:
		break;
	case KIN_ACQUIRE:
		CHECK(in.ki_ev.ev_type == SADB_EV_ACQUIRE);
		break;
	case KIN_EXPIRE:
		CHECK(in.ki_ev.ev_type == SADB_EV_EXPIRE_SOFT ||
		    in.ki_ev.ev_type == SADB_EV_EXPIRE_HARD);
		check_sa(&in.ki_ev.ev_sa);
		break;
	case KIN_SA:
		CHECK(in.ki_have && in.ki_spi == in.ki_sa.sa_spi);
		check_sa(&in.ki_sa);
		break;
	default:	/* xfrm_next vouched for the length: never BAD */
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *buf;
	size_t off, ml;

	/* Exactly len octets, aligned like the driver's buffer. */
	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data, len);
	for (off = 0; off < len && (ml = xfrm_next(buf + off, len - off)) != 0;
	    off += ml) {
		CHECK(ml <= len - off);
		one(buf + off, ml);
	}
	free(buf);
	return 0;
}
