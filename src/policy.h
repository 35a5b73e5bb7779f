/*
 * Policy objects: what the admin allows for one peer, as plain structs.
 * conf_parse.c fills them from kinkd.conf; doi_ipsec.c builds proposals
 * from them and checks a peer's proposal against them; sadb installs the
 * SPD entries they describe.  Algorithm values are the IPsec DOI numbers
 * (include/isakmp_num.h), never kernel numbers: each sadb backend maps them.
 */
#ifndef KINK_POLICY_H
#define KINK_POLICY_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>

#define POL_NAME_MAX		64
#define POL_MAX_SUITES		16	/* transform suites per policy */

/* One protocol's transform inside a suite. */
struct kink_xform {
	uint8_t		 x_present;	/* this protocol is part of the suite */
	uint8_t		 x_id;		/* ESP/AH transform id (DOI) */
	uint16_t	 x_keylen;	/* Key Length attribute, bits; 0 = none */
	uint16_t	 x_auth;	/* Authentication Algorithm attr; 0 = none */
};

/*
 * A suite: what one IPsec SA (or an AH+ESP bundle) may use.  Suites are in
 * the admin's order of preference; the first one is the optimistic
 * proposal (RFC 4430 section 3.2).
 */
struct kink_suite {
	struct kink_xform s_esp;
	struct kink_xform s_ah;
	struct kink_xform s_ipcomp;	/* x_present, x_id = IPCOMP_* (DOI); no keys */
};

/* An address prefix with optional upper-layer protocol and port. */
struct kink_selector {
	struct sockaddr_storage sel_addr;	/* family AF_INET or AF_INET6 */
	uint8_t		 sel_plen;		/* prefix length */
	uint16_t	 sel_port;		/* 0 = any */
	/*
	 * SEL_VAR_*: "me" or "peer" in a range peer's policy (sel_addr is
	 * AF_UNSPEC there); a learned peer's copy has the address filled in.
	 */
	uint8_t		 sel_var;
};
#define SEL_VAR_ME	1
#define SEL_VAR_PEER	2

struct kink_policy {
	char		 pol_name[POL_NAME_MAX];
	uint8_t		 pol_mode;	/* ENCAP_MODE_TUNNEL / ENCAP_MODE_TRANSPORT */
	struct kink_selector pol_src;	/* local side of the traffic */
	struct kink_selector pol_dst;	/* remote side */
	uint8_t		 pol_ulproto;	/* 0 = any, else IPPROTO_* */
	struct kink_suite pol_suites[POL_MAX_SUITES];
	int		 pol_nsuites;
	uint32_t	 pol_life_secs;		/* 0 = no seconds lifetime */
	uint32_t	 pol_life_kbytes;	/* 0 = no kilobytes lifetime */
	uint16_t	 pol_pfs_group;	/* 0 = no PFS, else DH group (14, 19) */
	uint8_t		 pol_pfs_optional;	/* "pfs G optional": without KE too */
	/* Tunnel endpoints (tunnel mode only): this host and the peer. */
	struct sockaddr_storage pol_tun_local;
	struct sockaddr_storage pol_tun_remote;
	uint32_t	 pol_reqid;	/* links SPD entries and SAs in the kernel */
};

#endif
