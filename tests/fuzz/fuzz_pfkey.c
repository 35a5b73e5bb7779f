/*
 * libFuzzer harness for the PF_KEY decoder (src/pfkey_msg.c): the input is
 * one datagram as the kernel would deliver it.  Checks, and traps when one
 * breaks: every result is a known kind; an answer or event with an SA
 * never carries a key; an SA the decoder returns can be encoded again as
 * a request without failing for any reason but an unknown algorithm.  The
 * state knows a policy id and a stand-in reqid, so both mappings run.
 * The same input goes through the SADB_REGISTER list reader.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfkey_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
check_sa(const struct pfkey_state *ps, const struct kink_sa *sa)
{
	uint64_t out[KMSG_MAX / 8];
	struct kreq rq = { .kr_op = KREQ_ADD, .kr_sa = sa };

	CHECK(sa->sa_enckey_len == 0 && sa->sa_authkey_len == 0);
	if (pfkey_build(ps, &rq, (uint8_t *)out, sizeof(out)) == -1)
		CHECK(errno == EOPNOTSUPP || errno == EINVAL);
	rq.kr_op = KREQ_DELETE;
	CHECK(pfkey_build(ps, &rq, (uint8_t *)out, sizeof(out)) > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct pfkey_state ps;
	struct kin in;
	uint8_t *msg;

	if (ps.ps_pid == 0) {
		ps.ps_pid = 4242;
		pfkey_pol_remember(&ps, 0x42, 0x12345678);
		(void)pfkey_kreqid(&ps, 0x12345678);
	}
	/* Exactly len octets, 8-aligned like the driver's buffer. */
	if ((msg = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(msg, data, len);
	pfkey_parse(&ps, msg, len, &in);
	{
		/* The SADB_REGISTER lists: a known answer, within bounds. */
		struct sadb_caps caps;
		int rc;

		memset(&caps, 0, sizeof(caps));
		rc = pfkey_caps_parse(msg, len, &caps);
		CHECK(rc >= -1 && rc <= 1 && (rc == 1) == caps.kc_known);
	}
	free(msg);
	switch (in.ki_kind) {
	case KIN_IGNORE:
	case KIN_BAD:
	case KIN_DONE:
	case KIN_SPI:
		break;
	case KIN_ACQUIRE:
		CHECK(in.ki_ev.ev_type == SADB_EV_ACQUIRE);
		break;
	case KIN_EXPIRE:
		CHECK(in.ki_ev.ev_type == SADB_EV_EXPIRE_SOFT ||
		    in.ki_ev.ev_type == SADB_EV_EXPIRE_HARD);
		check_sa(&ps, &in.ki_ev.ev_sa);
		break;
	case KIN_GET:
	case KIN_DUMP:
		if (in.ki_have)
			check_sa(&ps, &in.ki_sa);
		break;
	default:
		CHECK(0);
	}
	return 0;
}
