/*
 * Names for KINK numbers (logs, kinkctl) and the wire error table: text and
 * what the daemon answers.  Kept apart from wire.c so the codec proper stays
 * code only.
 */
#include <stddef.h>
#include <stdint.h>

#include "kink.h"
#include "wire.h"

static const char *const msgtype_names[KINK_MSGTYPE_MAX + 1] = {
	[KINK_MSGTYPE_RESERVED] = "RESERVED",
	[KINK_MSGTYPE_CREATE] = "CREATE",
	[KINK_MSGTYPE_DELETE] = "DELETE",
	[KINK_MSGTYPE_REPLY] = "REPLY",
	[KINK_MSGTYPE_GETTGT] = "GETTGT",
	[KINK_MSGTYPE_ACK] = "ACK",
	[KINK_MSGTYPE_STATUS] = "STATUS",
};

static const char *const payload_names[KINK_PAYLOAD_MAX + 1] = {
	[KINK_DONE] = "KINK_DONE",
	[KINK_AP_REQ] = "KINK_AP_REQ",
	[KINK_AP_REP] = "KINK_AP_REP",
	[KINK_KRB_ERROR] = "KINK_KRB_ERROR",
	[KINK_TGT_REQ] = "KINK_TGT_REQ",
	[KINK_TGT_REP] = "KINK_TGT_REP",
	[KINK_ISAKMP] = "KINK_ISAKMP",
	[KINK_ENCRYPT] = "KINK_ENCRYPT",
	[KINK_ERROR] = "KINK_ERROR",
};

static const char *const error_names[KINK_ERROR_MAX + 1] = {
	[KINK_OK] = "KINK_OK",
	[KINK_PROTOERR] = "KINK_PROTOERR",
	[KINK_INVDOI] = "KINK_INVDOI",
	[KINK_INVMAJ] = "KINK_INVMAJ",
	[KINK_ERR_RESERVED4] = "RESERVED",
	[KINK_INTERR] = "KINK_INTERR",
	[KINK_BADQMVERS] = "KINK_BADQMVERS",
	[KINK_U2UDENIED] = "KINK_U2UDENIED",
};

const char *
wire_msgtype_name(unsigned int t)
{
	if (t <= KINK_MSGTYPE_MAX)
		return msgtype_names[t];
	if (t < KINK_MSGTYPE_PRIVATE_MIN)
		return "UNASSIGNED";
	return t <= 255 ? "PRIVATE" : "INVALID";
}

const char *
wire_payload_name(unsigned int t)
{
	if (t <= KINK_PAYLOAD_MAX)
		return payload_names[t];
	if (t < KINK_PAYLOAD_PRIVATE_MIN)
		return "UNASSIGNED";
	return t <= 255 ? "PRIVATE" : "INVALID";
}

const char *
wire_error_name(uint32_t c)
{
	if (c <= KINK_ERROR_MAX)
		return error_names[c];
	if (c < KINK_ERROR_PRIVATE_MIN)
		return "UNASSIGNED";
	if (c < KINK_ERROR_RESERVED_MIN)
		return "PRIVATE";
	return "RESERVED";
}

/* RFC 2408 section 3.14.1 and RFC 2407 section 4.6.3. */
static const char *const notify_names[] = {
	[1] = "INVALID-PAYLOAD-TYPE", [2] = "DOI-NOT-SUPPORTED",
	[3] = "SITUATION-NOT-SUPPORTED", [4] = "INVALID-COOKIE",
	[5] = "INVALID-MAJOR-VERSION", [6] = "INVALID-MINOR-VERSION",
	[7] = "INVALID-EXCHANGE-TYPE", [8] = "INVALID-FLAGS",
	[9] = "INVALID-MESSAGE-ID", [10] = "INVALID-PROTOCOL-ID",
	[11] = "INVALID-SPI", [12] = "INVALID-TRANSFORM-ID",
	[13] = "ATTRIBUTES-NOT-SUPPORTED", [14] = "NO-PROPOSAL-CHOSEN",
	[15] = "BAD-PROPOSAL-SYNTAX", [16] = "PAYLOAD-MALFORMED",
	[17] = "INVALID-KEY-INFORMATION", [18] = "INVALID-ID-INFORMATION",
	[19] = "INVALID-CERT-ENCODING", [20] = "INVALID-CERTIFICATE",
	[21] = "CERT-TYPE-UNSUPPORTED", [22] = "INVALID-CERT-AUTHORITY",
	[23] = "INVALID-HASH-INFORMATION", [24] = "AUTHENTICATION-FAILED",
	[25] = "INVALID-SIGNATURE", [26] = "ADDRESS-NOTIFICATION",
	[27] = "NOTIFY-SA-LIFETIME", [28] = "CERTIFICATE-UNAVAILABLE",
	[29] = "UNSUPPORTED-EXCHANGE-TYPE", [30] = "UNEQUAL-PAYLOAD-LENGTHS",
};

const char *
wire_notify_name(unsigned int t)
{
	if (t < sizeof(notify_names) / sizeof(notify_names[0]) &&
	    notify_names[t] != NULL)
		return notify_names[t];
	switch (t) {
	case 16384:	return "CONNECTED";
	case 24576:	return "RESPONDER-LIFETIME";
	case 24577:	return "REPLAY-STATUS";
	case 24578:	return "INITIAL-CONTACT";
	}
	if (t == 0 || t > 65535)
		return "INVALID";
	if ((t >= 8192 && t <= 16383) || (t >= 32768 && t <= 40959))
		return "PRIVATE";
	if (t >= 24576 && t <= 32767)
		return "DOI-SPECIFIC";
	return "RESERVED";
}

/*
 * What the daemon does with each wire error.  Replies are unauthenticated
 * KINK_ERROR payloads to a command; the daemon never answers a REPLY or an
 * ACK whatever this table says (no error ping-pong between two daemons).
 * Drop when there is no header to answer (SHORT), when the Type is not a
 * command we know (answering unknown types invites reflection), and for
 * local (builder/caller) errors.
 */
static const struct {
	const char	*text;
	int		 action;
} wire_errors[KINK_WE_NERR] = {
	[KINK_WE_OK] = { "success", KINK_OK },
	[KINK_WE_SHORT] = { "datagram shorter than a KINK header",
	    WIRE_ACT_DROP },
	[KINK_WE_MAJVER] = { "unsupported KINK major version", KINK_INVMAJ },
	[KINK_WE_LEN_LONG] = { "Length exceeds the datagram", KINK_PROTOERR },
	[KINK_WE_LEN_SHORT] = { "Length shorter than a KINK header",
	    KINK_PROTOERR },
	[KINK_WE_MSGTYPE] = { "reserved or unknown message type",
	    WIRE_ACT_DROP },
	[KINK_WE_CKSUMLEN] = { "CksumLen exceeds the message", KINK_PROTOERR },
	[KINK_WE_CKSUM_ALIGN] = { "Cksum not on a 4-octet boundary",
	    KINK_PROTOERR },
	[KINK_WE_DOI] = { "unsupported DOI", KINK_INVDOI },
	[KINK_WE_PL_SHORT] = { "payload shorter than its minimum",
	    KINK_PROTOERR },
	[KINK_WE_PL_OVERRUN] = { "payload length overruns the message",
	    KINK_PROTOERR },
	[KINK_WE_PL_LEN] = { "fixed-size payload has the wrong length",
	    KINK_PROTOERR },
	[KINK_WE_NO_DONE] = { "payload chain not terminated by KINK_DONE",
	    KINK_PROTOERR },
	[KINK_WE_TRAILING] = { "octets after the payload chain",
	    KINK_PROTOERR },
	[KINK_WE_UNKNOWN_PL] = { "unknown payload type", KINK_PROTOERR },
	[KINK_WE_ENCRYPT_NOT_LAST] = { "KINK_ENCRYPT is not the last payload",
	    KINK_PROTOERR },
	[KINK_WE_DUP] = { "duplicate payload", KINK_PROTOERR },
	[KINK_WE_TOO_MANY] = { "too many payloads", KINK_PROTOERR },
	[KINK_WE_QMVERS] = { "unsupported Quick Mode version",
	    KINK_BADQMVERS },
	[KINK_WE_INNER_PL] = { "payload not allowed inside KINK_ENCRYPT",
	    KINK_PROTOERR },
	[KINK_WE_INNER_SHORT] = { "decrypted KINK_ENCRYPT shorter than 4 octets",
	    KINK_PROTOERR },
	[KINK_WE_MISSING_PL] = { "required payload missing for the message type",
	    KINK_PROTOERR },
	[KINK_WE_UNEXPECTED_PL] = { "payload not allowed in the message type",
	    KINK_PROTOERR },
	[KINK_WE_NOT_ENCRYPTED] = { "no undecrypted KINK_ENCRYPT payload",
	    WIRE_ACT_DROP },
	[KINK_WE_NOSPACE] = { "message too large", WIRE_ACT_DROP },
	[KINK_WE_BUILD_STATE] = { "message builder used out of order",
	    WIRE_ACT_DROP },
	[KINK_WE_ARG] = { "invalid argument", WIRE_ACT_DROP },
};

const char *
wire_strerror(int err)
{
	if (err < 0 || err >= KINK_WE_NERR || wire_errors[err].text == NULL)
		return "unknown wire error";
	return wire_errors[err].text;
}

int
wire_err_action(int err)
{
	if (err < 0 || err >= KINK_WE_NERR || wire_errors[err].text == NULL)
		return WIRE_ACT_DROP;
	return wire_errors[err].action;
}
