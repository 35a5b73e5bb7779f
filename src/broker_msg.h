/*
 * The messages between the engine and the privileged broker (privsep):
 * one SOCK_SEQPACKET datagram per message, so a message never straddles
 * two reads.  Pure codec: no krb5, libevent or logging, so the broker's
 * parser can be fuzzed and unit-tested alone (docs/arch/privsep.md).
 *
 *	u8 version (BM_VERSION)  u8 type  u16 zero  u32 seq  fields...
 *
 * Which fields a type carries, and in which order, is one row of the
 * table in broker_msg.c; adding a sadb op is a BM_* number here and a row
 * there.  Every field is bounded, and decoding refuses any octet left over.
 */
#ifndef KINK_BROKER_MSG_H
#define KINK_BROKER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "sa.h"
#include "sadb.h"

#define BM_VERSION	1
#define BM_MAX		2048	/* octets; the largest message fits well */
#define BM_TEXT_MAX	63	/* a backend name or a refusal reason */

enum bm_type {
	/* engine -> broker */
	BM_GETSPI = 1,
	BM_ADD,
	BM_DEL,
	BM_DUMP,
	BM_SPD_ADD,
	BM_SPD_DEL,
	BM_GET,
	BM_SUPPORTS,
	BM_DEL_LARVAL,		/* sa: a larval SA as a dump returned it */
	BM_SPD_REPAIR,		/* pol: answered R_COUNT, then R_SPD each */
	BM_SPD_GET,		/* pol: answered R_COUNT, then R_SPD each */
	/* The test build's null-backend knobs: refused by a broker
	 * without the test build's hook (docs/arch/privsep.md). */
	BM_TEST,		/* flag: which knob, spi: its argument, sa */
	BM_TEST_EVENT,		/* ev: have the backend emit it */
	BM_CAPS,		/* answered R_CAPS: the backend's sadb_caps */
	/* broker -> engine */
	BM_R_DONE = 64,		/* err */
	BM_R_SPI,		/* err, spi */
	BM_R_SA,		/* one SA of a dump or get */
	BM_R_END,		/* err: the dump or get is complete */
	BM_R_SUPPORTS,		/* flag (1 yes), text (why not) */
	BM_R_EVENT,		/* an upcall: ACQUIRE, EXPIRE */
	BM_R_HELLO,		/* text: the backend's name */
	BM_R_SIGNAL,		/* flag: a signal the broker got, for the engine */
	BM_R_COUNT,		/* err, flag: how many R_SPD will follow */
	BM_R_SPD,		/* err, flag: the SPD direction (SADB_SPD_*) */
	BM_R_CAPS,		/* err, caps, text (caps' source) */
};

/* Who may send a type: the broker decodes only BM_FROM_ENGINE. */
enum bm_dir { BM_FROM_ENGINE = 1, BM_FROM_BROKER = 2 };

/* Decoding errors, one per class of malformed message. */
enum bm_err {
	BM_OK = 0,
	BM_E_SHORT = -1,	/* ends inside the header or a field */
	BM_E_LONG = -2,		/* over BM_MAX */
	BM_E_VERSION = -3,
	BM_E_TYPE = -4,		/* unknown type, or not from that side */
	BM_E_TRAILING = -5,	/* octets after the last field */
	BM_E_FAMILY = -6,	/* an address family other than 0, 4, 6 */
	BM_E_RANGE = -7,	/* a length, prefix, count or enum out of range */
	BM_E_TEXT = -8,		/* a name or text with a control character */
};

/* A decoded message: the fields its type carries are set, the rest zero. */
struct bmsg {
	uint8_t			 bm_type;	/* enum bm_type */
	uint32_t		 bm_seq;
	struct sockaddr_storage	 bm_src, bm_dst;
	uint8_t			 bm_proto;
	uint32_t		 bm_flag;	/* ADD: replace; R_SUPPORTS: yes */
	int32_t			 bm_err;	/* an errno value */
	uint32_t		 bm_spi;
	struct kink_sa		 bm_sa;
	struct kink_policy	 bm_pol;
	struct kink_xform	 bm_xf;
	struct sadb_event	 bm_ev;
	struct sadb_caps	 bm_caps;	/* kc_source travels as bm_text;
						 * decoded, it is NULL */
	char			 bm_text[BM_TEXT_MAX + 1];
};

/* The type's name ("ADD"), or NULL for an unknown type. */
const char *bm_type_name(uint8_t type);
/* Which side sends the type: enum bm_dir, 0 if unknown. */
int	bm_type_dir(uint8_t type);
/* Text for an enum bm_err. */
const char *bm_strerror(int err);
/* Encode the fields of m's type: length, or -1 (unknown type, too small,
 * or a field out of range: the same rules the decoder applies). */
int	bm_encode(const struct bmsg *m, uint8_t *out, size_t cap);
/*
 * Decode one message sent by `from`: BM_OK with *m filled (every field
 * the type does not carry zero), or an enum bm_err (m then undefined).
 */
int	bm_decode(const uint8_t *p, size_t len, int from, struct bmsg *m);

#endif
