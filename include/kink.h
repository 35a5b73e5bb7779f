/*
 * RFC 4430 (KINK) wire numbers, with the RFC's names.  Searching for a name
 * from RFC 4430 should land here.  Message types carry a KINK_MSGTYPE_
 * prefix because the RFC's bare names (CREATE, ACK...) are too generic for C.
 */
#ifndef KINK_KINK_H
#define KINK_KINK_H

/* Transport (§9). */
#define KINK_PORT		910

/* Header (§4 Figure 5). */
#define KINK_HDR_LEN		16
#define KINK_MJVER		1		/* MjVer MUST be 1 */
#define KINK_VERSION		0x10		/* MjVer 1 in the high nibble */
#define KINK_ACKREQ		0x80		/* "A" bit of octet 13 */
#define KINK_RESERVED2_MASK	0x7f		/* rest of octet 13 */

/* Message types (§4, IANA "KINK Message Types"). */
#define KINK_MSGTYPE_RESERVED	0
#define KINK_MSGTYPE_CREATE	1
#define KINK_MSGTYPE_DELETE	2
#define KINK_MSGTYPE_REPLY	3
#define KINK_MSGTYPE_GETTGT	4
#define KINK_MSGTYPE_ACK	5
#define KINK_MSGTYPE_STATUS	6
#define KINK_MSGTYPE_MAX	6		/* highest defined */
#define KINK_MSGTYPE_PRIVATE_MIN 128		/* 128-255 private use */

/* Payload types (§4.2, IANA "KINK Next Payload Types"). */
#define KINK_DONE		0
#define KINK_AP_REQ		1
#define KINK_AP_REP		2
#define KINK_KRB_ERROR		3
#define KINK_TGT_REQ		4
#define KINK_TGT_REP		5
#define KINK_ISAKMP		6
#define KINK_ENCRYPT		7
#define KINK_ERROR		8
#define KINK_PAYLOAD_MAX	8		/* highest defined */
#define KINK_PAYLOAD_PRIVATE_MIN 128		/* 128-255 private use */

/* Generic payload header (§4.2 Figure 6). */
#define KINK_PL_HDR_LEN		4
#define KINK_ALIGN		4		/* §4.1 */

/* KINK_ISAKMP (§4.2.6): QMMaj 1, QMMin 0. */
#define KINK_QMMAJ		1
#define KINK_QMMIN		0
#define KINK_QMVERSION		0x10
#define KINK_ISAKMP_HDR_LEN	8		/* generic header + 4 */

/* KINK_AP_REQ / KINK_AP_REP: generic header + EPOCH (§4.2.1, §4.2.2). */
#define KINK_AP_HDR_LEN		8

/* KINK_ERROR (§4.2.8): generic header + ErrorCode. */
#define KINK_ERROR_PL_LEN	8

/* KINK_ERROR codes (§4.2.8). */
#define KINK_OK			0
#define KINK_PROTOERR		1
#define KINK_INVDOI		2
#define KINK_INVMAJ		3
#define KINK_ERR_RESERVED4	4		/* KINK_INVMIN in the drafts */
#define KINK_INTERR		5
#define KINK_BADQMVERS		6
#define KINK_U2UDENIED		7
#define KINK_ERROR_MAX		7		/* highest defined */
#define KINK_ERROR_IANA_MIN	8		/* 8-8191 IANA */
#define KINK_ERROR_PRIVATE_MIN	8192		/* 8192-16383 private use */
#define KINK_ERROR_RESERVED_MIN	16384		/* >= 16384 reserved */

/* Domain of Interpretation: the IPsec DOI (RFC 2407). */
#define KINK_DOI_IPSEC		1

/* Kerberos key usage numbers (§8; RFC 4120 §7.5.1 registry). */
#define KINK_KU_ENCRYPT		39		/* KINK_ENCRYPT payload */
#define KINK_KU_CKSUM		40		/* Cksum field */

/*
 * Largest KINK message kinkd builds or accepts into its receive buffer.
 * The Length field allows 65535; 16 KiB covers a ticket with a large PAC
 * plus Quick Mode payloads with room to spare.
 */
#define KINK_MAX_MSG		16384

#endif
