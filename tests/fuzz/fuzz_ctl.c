/*
 * libFuzzer harness for the control-protocol codec (src/ctl_msg.c).  The
 * input is treated two ways:
 *  - as a byte stream from a control socket, decoded message by message the
 *    way src/control.c and kinkctl do;
 *  - as "type, flags, payload" fed straight to ctl_payload_decode(), so the
 *    record decoders are reached without a valid header.
 * Besides "no crash, no sanitizer report", it traps when a codec promise
 * breaks: every error is a known code, `used` stays inside the input, and
 * whatever decodes re-encodes to exactly the same octets (the encoding is
 * canonical and the encoder accepts everything the decoder does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "buf.h"
#include "ctl_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct ctl_msg *m;

static void
reencode_same(const struct ctl_msg *d, const uint8_t *p, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(ctl_msg_encode(&b, d) == CTL_E_OK);
	CHECK(b.b_len == n);
	CHECK(memcmp(b.b_data, p, n) == 0);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, used;
	int e;

	if (m == NULL && (m = malloc(sizeof(*m))) == NULL)
		return 0;

	/* As a stream. */
	while (off < size) {
		e = ctl_msg_decode(data + off, size - off, m, &used);
		CHECK(e >= 0 && e < CTL_E_MAX);
		if (e != CTL_E_OK)
			break;
		CHECK(used >= CTL_HDR_LEN && used <= size - off);
		reencode_same(m, data + off, used);
		off += used;
	}

	/* As one payload of a chosen type. */
	if (size >= 3) {
		struct buf b;
		uint8_t hdr[CTL_HDR_LEN];

		e = ctl_payload_decode(data[0], (uint16_t)data[1],
		    rbuf_make(data + 2, size - 2), m);
		CHECK(e >= 0 && e < CTL_E_MAX);
		if (e == CTL_E_OK && size - 2 <= CTL_MAXMSG) {
			m->m_hdr.ch_version = CTL_VERSION;
			m->m_hdr.ch_type = data[0];
			m->m_hdr.ch_flags = data[1];
			m->m_hdr.ch_len = (uint32_t)(size - 2);
			m->m_hdr.ch_seq = 0x01020304;
			ctl_hdr_encode(hdr, &m->m_hdr);
			buf_init(&b, 0);
			CHECK(buf_put(&b, hdr, sizeof(hdr)) == 0);
			CHECK(buf_put(&b, data + 2, size - 2) == 0);
			reencode_same(m, b.b_data, b.b_len);
			buf_free(&b);
		}
	}
	return 0;
}
