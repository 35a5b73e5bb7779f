/*
 * ISAKMP (RFC 2408) and IPsec DOI (RFC 2407) numbers used by the IKE
 * Quick Mode payloads that KINK carries in KINK_ISAKMP (RFC 4430 section 5).
 * Names follow the RFCs; later IANA additions say where they come from.
 */
#ifndef KINK_INCLUDE_ISAKMP_NUM_H
#define KINK_INCLUDE_ISAKMP_NUM_H

/* RFC 2408 section 3.1: Next Payload types. */
#define ISAKMP_NPTYPE_NONE	0
#define ISAKMP_NPTYPE_SA	1
#define ISAKMP_NPTYPE_P		2	/* Proposal */
#define ISAKMP_NPTYPE_T		3	/* Transform */
#define ISAKMP_NPTYPE_KE	4
#define ISAKMP_NPTYPE_ID	5
#define ISAKMP_NPTYPE_CERT	6
#define ISAKMP_NPTYPE_CR	7
#define ISAKMP_NPTYPE_HASH	8	/* never in KINK (RFC 4430 section 5) */
#define ISAKMP_NPTYPE_SIG	9
#define ISAKMP_NPTYPE_NONCE	10
#define ISAKMP_NPTYPE_N		11	/* Notification */
#define ISAKMP_NPTYPE_D		12	/* Delete */
#define ISAKMP_NPTYPE_VID	13

/* Generic payload header: Next(1) RESERVED(1) Length(2). */
#define ISAKMP_GEN_HDR_LEN	4
#define ISAKMP_SA_HDR_LEN	12	/* + DOI(4) + Situation(4) */
#define ISAKMP_PROP_HDR_LEN	8	/* + P#, Proto, SPI size, #T */
#define ISAKMP_TRANS_HDR_LEN	8	/* + T#, T-ID, RESERVED2(2) */
#define ISAKMP_ID_HDR_LEN	8	/* + ID type, proto, port */
#define ISAKMP_N_HDR_LEN	12	/* + DOI, proto, SPI size, type */
#define ISAKMP_D_HDR_LEN	12	/* + DOI, proto, SPI size, #SPIs */

/* RFC 2408 section 3.3: data attribute format bit. */
#define ISAKMP_GEN_TV		0x8000	/* AF=1: value in the Length field */
#define ISAKMP_GEN_MASK		0x7fff

/* RFC 2407 section 4.2: the IPsec DOI, and section 4.2 situations. */
#define IPSEC_DOI		1
#define IPSEC_SIT_IDENTITY_ONLY	0x00000001
#define IPSEC_SIT_SECRECY	0x00000002
#define IPSEC_SIT_INTEGRITY	0x00000004

/* RFC 2407 section 4.4.1: Protocol identifiers. */
#define PROTO_ISAKMP		1
#define PROTO_IPSEC_AH		2
#define PROTO_IPSEC_ESP		3
#define PROTO_IPCOMP		4

/* RFC 2407 section 4.4.3: AH transform identifiers (+ IANA). */
#define AH_MD5			2
#define AH_SHA			3
#define AH_DES			4
#define AH_SHA2_256		5	/* IANA, RFC 4868 */
#define AH_SHA2_384		6
#define AH_SHA2_512		7
#define AH_AES_XCBC_MAC		9	/* RFC 3566 */

/* RFC 2407 section 4.4.4: ESP transform identifiers (+ IANA). */
#define ESP_DES			2
#define ESP_3DES		3
#define ESP_NULL		11
#define ESP_AES_CBC		12	/* RFC 3602; "ESP_AES" in IANA */
#define ESP_AES_CTR		13	/* RFC 3686 */
#define ESP_AES_GCM_8		18	/* RFC 4106, 8-octet ICV */
#define ESP_AES_GCM_12		19	/* 12-octet ICV */
#define ESP_AES_GCM_16		20	/* 16-octet ICV */

/* RFC 2407 section 4.4.5: IPCOMP transform identifiers. */
#define IPCOMP_OUI		1
#define IPCOMP_DEFLATE		2
#define IPCOMP_LZS		3

/* RFC 2407 section 4.5: IPsec Security Association attribute classes. */
#define IPSECDOI_ATTR_SA_LD_TYPE	1	/* B */
#define IPSECDOI_ATTR_SA_LD		2	/* V */
#define IPSECDOI_ATTR_GRP_DESC		3	/* B */
#define IPSECDOI_ATTR_ENC_MODE		4	/* B */
#define IPSECDOI_ATTR_AUTH		5	/* B */
#define IPSECDOI_ATTR_KEY_LENGTH	6	/* B */
#define IPSECDOI_ATTR_KEY_ROUNDS	7	/* B */
#define IPSECDOI_ATTR_COMP_DICT_SIZE	8	/* B */
#define IPSECDOI_ATTR_COMP_PRIVALG	9	/* V */

/* SA Life Type values. */
#define IPSECDOI_ATTR_SA_LD_TYPE_SEC	1
#define IPSECDOI_ATTR_SA_LD_TYPE_KB	2
#define IPSECDOI_ATTR_SA_LD_SEC_DEFAULT	28800	/* RFC 2407 section 4.5 */

/* Encapsulation Mode values. */
#define ENCAP_MODE_TUNNEL	1
#define ENCAP_MODE_TRANSPORT	2

/* Authentication Algorithm values (RFC 2407 section 4.5, RFC 4868). */
#define AUTH_ALG_HMAC_MD5	1
#define AUTH_ALG_HMAC_SHA	2
#define AUTH_ALG_DES_MAC	3
#define AUTH_ALG_KPDK		4
#define AUTH_ALG_HMAC_SHA2_256	5
#define AUTH_ALG_HMAC_SHA2_384	6
#define AUTH_ALG_HMAC_SHA2_512	7
#define AUTH_ALG_AES_XCBC_MAC	9	/* RFC 3566 */

/* Group Description values (IKE group numbers, RFC 3526 / RFC 5903). */
#define OAKLEY_GROUP_MODP2048	14
#define OAKLEY_GROUP_ECP256	19

/* RFC 2407 section 4.6.2.1: Identification types. */
#define IPSEC_ID_IPV4_ADDR		1
#define IPSEC_ID_FQDN			2
#define IPSEC_ID_USER_FQDN		3
#define IPSEC_ID_IPV4_ADDR_SUBNET	4
#define IPSEC_ID_IPV6_ADDR		5
#define IPSEC_ID_IPV6_ADDR_SUBNET	6
#define IPSEC_ID_IPV4_ADDR_RANGE	7
#define IPSEC_ID_IPV6_ADDR_RANGE	8
#define IPSEC_ID_DER_ASN1_DN		9
#define IPSEC_ID_DER_ASN1_GN		10
#define IPSEC_ID_KEY_ID			11

/* RFC 2408 section 3.14.1: Notify Message Types, errors (< 16384). */
#define ISAKMP_NTYPE_INVALID_PAYLOAD_TYPE	1
#define ISAKMP_NTYPE_DOI_NOT_SUPPORTED		2
#define ISAKMP_NTYPE_SITUATION_NOT_SUPPORTED	3
#define ISAKMP_NTYPE_INVALID_COOKIE		4
#define ISAKMP_NTYPE_INVALID_MAJOR_VERSION	5
#define ISAKMP_NTYPE_INVALID_MINOR_VERSION	6
#define ISAKMP_NTYPE_INVALID_EXCHANGE_TYPE	7
#define ISAKMP_NTYPE_INVALID_FLAGS		8
#define ISAKMP_NTYPE_INVALID_MESSAGE_ID		9
#define ISAKMP_NTYPE_INVALID_PROTOCOL_ID	10
#define ISAKMP_NTYPE_INVALID_SPI		11
#define ISAKMP_NTYPE_INVALID_TRANSFORM_ID	12
#define ISAKMP_NTYPE_ATTRIBUTES_NOT_SUPPORTED	13
#define ISAKMP_NTYPE_NO_PROPOSAL_CHOSEN		14
#define ISAKMP_NTYPE_BAD_PROPOSAL_SYNTAX	15
#define ISAKMP_NTYPE_PAYLOAD_MALFORMED		16
#define ISAKMP_NTYPE_INVALID_KEY_INFORMATION	17
#define ISAKMP_NTYPE_INVALID_ID_INFORMATION	18
#define ISAKMP_NTYPE_AUTHENTICATION_FAILED	24
#define ISAKMP_NTYPE_ERROR_MAX			16383
/* RFC 2407 section 4.6.3: IPsec DOI status types. */
#define IPSEC_NTYPE_RESPONDER_LIFETIME		24576
#define IPSEC_NTYPE_REPLAY_STATUS		24577
#define IPSEC_NTYPE_INITIAL_CONTACT		24578

/* RFC 2409 section 5: nonce length limits (octets). */
#define ISAKMP_NONCE_MIN	8
#define ISAKMP_NONCE_MAX	256

#endif
