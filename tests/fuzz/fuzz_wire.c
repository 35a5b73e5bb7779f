/*
 * libFuzzer harness for the KINK wire codec.  The input is a datagram.
 * Besides "no crash, no sanitizer report", it checks the codec's own
 * promises and traps when one breaks:
 *  - every error is a known parser code;
 *  - every view lies inside the input;
 *  - a parsed message rebuilds with the builder and the rebuild parses
 *    to the same header and payload set;
 *  - wire_cksum_input() yields Length - CksumLen octets with the header
 *    rewritten as RFC 4430 §4 says.
 * The KINK_ENCRYPT ciphertext is also fed to wire_parse_inner() as if it
 * were the plaintext (identity "decryption"), so one input drives both the
 * outer and the inner chain parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kink.h"
#include "buf.h"
#include "wire.h"
#include "wire_rebuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int
inside(struct rbuf r, const uint8_t *p, size_t len)
{
	if (r.rb_len == 0)
		return 1;
	return r.rb_p >= p && (size_t)(r.rb_p - p) <= len &&
	    r.rb_len <= len - (size_t)(r.rb_p - p);
}


static void
check_views(const struct kink_msg *m, const uint8_t *p, size_t len)
{
	unsigned int i;

	CHECK(inside(m->m_raw, p, len));
	CHECK(inside(m->m_covered, p, len));
	CHECK(inside(m->m_cksum, p, len));
	CHECK(inside(m->m_ap_req, p, len));
	CHECK(inside(m->m_ap_rep, p, len));
	CHECK(inside(m->m_krb_error, p, len));
	CHECK(inside(m->m_tgt_req, p, len));
	CHECK(inside(m->m_tgt_rep, p, len));
	CHECK(inside(m->m_encrypt, p, len));
	CHECK(m->m_nisakmp <= WIRE_MAX_ISAKMP);
	for (i = 0; i < m->m_nisakmp; i++)
		if (!m->m_isakmp[i].ip_encrypted)
			CHECK(inside(m->m_isakmp[i].ip_body, p, len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct kink_msg m, m2;
	struct buf b;
	size_t olen;
	int r;

	r = wire_parse(&m, data, size);
	/* Outer parse errors are the header and chain classes only. */
	CHECK(r >= 0 && r < KINK_WE_INNER_PL);
	CHECK(wire_strerror(r) != NULL);
	(void)wire_err_action(r);
	if (r != 0)
		return 0;
	check_views(&m, data, size);
	r = wire_check_type(&m);
	CHECK(r == 0 || r == KINK_WE_MISSING_PL || r == KINK_WE_UNEXPECTED_PL);
	CHECK(m.m_length <= size && m.m_excess == size - m.m_length);

	CHECK(wire_cksum_input(&m, out, sizeof(out), &olen) == 0);
	CHECK(olen == (size_t)m.m_length - m.m_cksumlen);
	CHECK(get_be16(out + 2) == olen && get_be16(out + 14) == 0);
	CHECK(memcmp(out + 4, data + 4, 10) == 0);
	CHECK(memcmp(out + 16, data + 16, olen - 16) == 0);

	/* Rebuild (canonical order) and parse again. */
	buf_init(&b, 0);
	if (m.m_length <= KINK_MAX_MSG) {
		CHECK(wire_test_rebuild(&m, &b) == 0);
		CHECK(wire_parse(&m2, b.b_data, b.b_len) == 0);
		CHECK(m2.m_type == m.m_type && m2.m_xid == m.m_xid &&
		    m2.m_present == m.m_present &&
		    m2.m_nisakmp == m.m_nisakmp &&
		    m2.m_cksumlen == m.m_cksumlen &&
		    m2.m_error == m.m_error);
	}
	buf_free(&b);

	if (wire_has(&m, KINK_ENCRYPT)) {
		m2 = m;
		r = wire_parse_inner(&m, m.m_encrypt.rb_p, m.m_encrypt.rb_len);
		CHECK(r >= 0 && r < KINK_WE_MISSING_PL);
		if (r != 0)
			CHECK(memcmp(&m, &m2, sizeof(m)) == 0);
		else
			check_views(&m, data, size);
	}
	return 0;
}
