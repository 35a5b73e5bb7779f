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

/* RFC 4120 section 7.5.9: KRB_ERROR error codes. */
static const char *const krb_error_names[] = {
	[0] = "KDC_ERR_NONE",
	[1] = "KDC_ERR_NAME_EXP",
	[2] = "KDC_ERR_SERVICE_EXP",
	[3] = "KDC_ERR_BAD_PVNO",
	[4] = "KDC_ERR_C_OLD_MAST_KVNO",
	[5] = "KDC_ERR_S_OLD_MAST_KVNO",
	[6] = "KDC_ERR_C_PRINCIPAL_UNKNOWN",
	[7] = "KDC_ERR_S_PRINCIPAL_UNKNOWN",
	[8] = "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
	[9] = "KDC_ERR_NULL_KEY",
	[10] = "KDC_ERR_CANNOT_POSTDATE",
	[11] = "KDC_ERR_NEVER_VALID",
	[12] = "KDC_ERR_POLICY",
	[13] = "KDC_ERR_BADOPTION",
	[14] = "KDC_ERR_ETYPE_NOSUPP",
	[15] = "KDC_ERR_SUMTYPE_NOSUPP",
	[16] = "KDC_ERR_PADATA_TYPE_NOSUPP",
	[17] = "KDC_ERR_TRTYPE_NOSUPP",
	[18] = "KDC_ERR_CLIENT_REVOKED",
	[19] = "KDC_ERR_SERVICE_REVOKED",
	[20] = "KDC_ERR_TGT_REVOKED",
	[21] = "KDC_ERR_CLIENT_NOTYET",
	[22] = "KDC_ERR_SERVICE_NOTYET",
	[23] = "KDC_ERR_KEY_EXPIRED",
	[24] = "KDC_ERR_PREAUTH_FAILED",
	[25] = "KDC_ERR_PREAUTH_REQUIRED",
	[26] = "KDC_ERR_SERVER_NOMATCH",
	[27] = "KDC_ERR_MUST_USE_USER2USER",
	[28] = "KDC_ERR_PATH_NOT_ACCEPTED",
	[29] = "KDC_ERR_SVC_UNAVAILABLE",
	[31] = "KRB_AP_ERR_BAD_INTEGRITY",
	[32] = "KRB_AP_ERR_TKT_EXPIRED",
	[33] = "KRB_AP_ERR_TKT_NYV",
	[34] = "KRB_AP_ERR_REPEAT",
	[35] = "KRB_AP_ERR_NOT_US",
	[36] = "KRB_AP_ERR_BADMATCH",
	[37] = "KRB_AP_ERR_SKEW",
	[38] = "KRB_AP_ERR_BADADDR",
	[39] = "KRB_AP_ERR_BADVERSION",
	[40] = "KRB_AP_ERR_MSG_TYPE",
	[41] = "KRB_AP_ERR_MODIFIED",
	[42] = "KRB_AP_ERR_BADORDER",
	[44] = "KRB_AP_ERR_BADKEYVER",
	[45] = "KRB_AP_ERR_NOKEY",
	[46] = "KRB_AP_ERR_MUT_FAIL",
	[47] = "KRB_AP_ERR_BADDIRECTION",
	[48] = "KRB_AP_ERR_METHOD",
	[49] = "KRB_AP_ERR_BADSEQ",
	[50] = "KRB_AP_ERR_INAPP_CKSUM",
	[51] = "KRB_AP_PATH_NOT_ACCEPTED",
	[52] = "KRB_ERR_RESPONSE_TOO_BIG",
	[60] = "KRB_ERR_GENERIC",
	[61] = "KRB_ERR_FIELD_TOOLONG",
	[62] = "KDC_ERROR_CLIENT_NOT_TRUSTED",
	[63] = "KDC_ERROR_KDC_NOT_TRUSTED",
	[64] = "KDC_ERROR_INVALID_SIG",
	[65] = "KDC_ERR_KEY_TOO_WEAK",
	[66] = "KDC_ERR_CERTIFICATE_MISMATCH",
	[67] = "KRB_AP_ERR_NO_TGT",
	[68] = "KDC_ERR_WRONG_REALM",
	[69] = "KRB_AP_ERR_USER_TO_USER_REQUIRED",
	[70] = "KDC_ERR_CANT_VERIFY_CERTIFICATE",
	[71] = "KDC_ERR_INVALID_CERTIFICATE",
	[72] = "KDC_ERR_REVOKED_CERTIFICATE",
	[73] = "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
	[74] = "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
	[75] = "KDC_ERR_CLIENT_NAME_MISMATCH",
	[76] = "KDC_ERR_KDC_NAME_MISMATCH",
};

const char *
wire_krb_error_name(int code)
{
	if (code >= 0 && (size_t)code < sizeof(krb_error_names) /
	    sizeof(krb_error_names[0]) && krb_error_names[code] != NULL)
		return krb_error_names[code];
	return "UNASSIGNED";
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
