/*
 * -vvv: one line per KINK message sent or accepted, with its type, XID,
 * flags and payload chain (types and lengths, the ISAKMP payloads inside
 * each KINK_ISAKMP, the KINK_ENCRYPT plaintext's chain in braces), so an
 * admin sees what went over the wire without a packet capture.  Only
 * numbers and names from fixed tables are printed: never a key, a ticket
 * or any octet of a payload body, and no string from the network.
 * Called only for messages that parsed (ours, or verified input), but
 * walks the octets defensively: a bad length ends the line with "?".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "isakmp_num.h"
#include "kink.h"
#include "log.h"
#include "wire.h"
#include "xact.h"

#define TRACE_LINE	1024
#define TRACE_MAXPL	32	/* payloads shown per chain */

struct trace {
	char	*t_p;
	size_t	 t_left;
};

static void __attribute__((format(printf, 2, 3)))
tr_put(struct trace *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->t_left <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->t_p, t->t_left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= t->t_left)
		n = (int)t->t_left - 1;
	t->t_p += n;
	t->t_left -= (size_t)n;
}

static const char *const isakmp_names[] = {
	[ISAKMP_NPTYPE_SA] = "SA", [ISAKMP_NPTYPE_P] = "P",
	[ISAKMP_NPTYPE_T] = "T", [ISAKMP_NPTYPE_KE] = "KE",
	[ISAKMP_NPTYPE_ID] = "ID", [ISAKMP_NPTYPE_CERT] = "CERT",
	[ISAKMP_NPTYPE_CR] = "CR", [ISAKMP_NPTYPE_HASH] = "HASH",
	[ISAKMP_NPTYPE_SIG] = "SIG", [ISAKMP_NPTYPE_NONCE] = "NONCE",
	[ISAKMP_NPTYPE_N] = "N", [ISAKMP_NPTYPE_D] = "D",
	[ISAKMP_NPTYPE_VID] = "VID",
};

static unsigned int
be16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* The Quick Mode chain of one KINK_ISAKMP: "(SA 52, NONCE 20, ID 12)". */
static void
tr_qm(struct trace *t, unsigned int next, const uint8_t *p, size_t len)
{
	size_t pl;
	int n;

	tr_put(t, " (");
	for (n = 0; next != ISAKMP_NPTYPE_NONE && n < TRACE_MAXPL; n++) {
		if (len < 4 || (pl = be16(p + 2)) < 4 || pl > len) {
			tr_put(t, "%s?", n ? ", " : "");
			break;
		}
		if (next < sizeof(isakmp_names) / sizeof(isakmp_names[0]) &&
		    isakmp_names[next] != NULL)
			tr_put(t, "%s%s %zu", n ? ", " : "",
			    isakmp_names[next], pl);
		else
			tr_put(t, "%stype %u %zu", n ? ", " : "", next, pl);
		next = p[0];
		p += pl;
		len -= pl;
	}
	tr_put(t, ")");
}

/* A KINK payload chain; the outer one's KINK_ENCRYPT shows `plain`. */
static void
tr_chain(struct trace *t, unsigned int next, const uint8_t *p, size_t len,
    const uint8_t *plain, size_t plainlen)
{
	size_t pl, adv;
	int n;

	for (n = 0; next != KINK_DONE && n < TRACE_MAXPL; n++) {
		if (len < KINK_PL_HDR_LEN || (pl = be16(p + 2)) <
		    KINK_PL_HDR_LEN || pl > len) {
			tr_put(t, "%s?", n ? ", " : "");
			return;
		}
		tr_put(t, "%s%s %zu", n ? ", " : "", wire_payload_name(next),
		    pl);
		if (next == KINK_ISAKMP && pl >= 8) {
			tr_put(t, " QM %u.%u", p[5] >> 4, p[5] & 0x0f);
			tr_qm(t, p[4], p + 8, pl - 8);
		} else if (next == KINK_ERROR && pl >= 8)
			tr_put(t, " %s", wire_error_name((uint32_t)be16(p + 4)
			    << 16 | be16(p + 6)));
		else if (next == KINK_ENCRYPT && plain != NULL &&
		    plainlen >= 4) {
			tr_put(t, " {");
			tr_chain(t, plain[0], plain + 4, plainlen - 4, NULL, 0);
			tr_put(t, "}");
		}
		next = p[0];
		adv = (pl + 3) & ~(size_t)3;
		if (adv > len)
			adv = len;
		p += adv;
		len -= adv;
	}
}

void
xact_trace(const char *dir, const char *peer, const uint8_t *msg,
    size_t len, const uint8_t *plain, size_t plainlen)
{
	char line[TRACE_LINE];
	struct trace t = { line, sizeof(line) };
	unsigned int cklen;

	if (!log_enabled(3) || len < KINK_HDR_LEN)
		return;
	cklen = be16(msg + 14);
	tr_put(&t, "xid 0x%02x%02x%02x%02x peer %s: %s %s flags 0x%02x%s, "
	    "length %zu, cksum %u: ", msg[8], msg[9], msg[10], msg[11],
	    peer != NULL ? peer : "-", dir, wire_msgtype_name(msg[0]),
	    msg[13], (msg[13] & KINK_ACKREQ) ? " (ACKREQ)" : "", len, cklen);
	tr_chain(&t, msg[12], msg + KINK_HDR_LEN, len - KINK_HDR_LEN >= cklen ?
	    len - KINK_HDR_LEN - cklen : 0, plain, plainlen);
	log_debug3("%s", line);
}
