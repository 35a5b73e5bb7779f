/*
 * kinkd <-> kinkctl control protocol, version 1.  The spec lives here.
 *
 * Transport: a UNIX stream socket (default CTL_SOCKET), mode 0660.  The
 * client connects, sends one or more requests, and reads answers.  Every
 * message, in both directions, is a 12-octet header followed by ch_len
 * payload octets:
 *
 *	 0      1      2      3
 *	+------+------+------+------+
 *	| ver  | type |   flags     |
 *	+------+------+------+------+
 *	|           len             |	payload octets after the header
 *	+------+------+------+------+
 *	|           seq             |	request id, echoed in every answer
 *	+------+------+------+------+
 *
 * All integers are unsigned, network order.  ch_len <= CTL_MAXMSG.
 *
 * A request (CTL_REQ_*) gets zero or more records (CTL_REC_*) with the
 * request's seq, then exactly one CTL_END or CTL_ERROR.  CTL_REQ_MONITOR is
 * the exception: it gets a stream of CTL_REC_EVENT records, the first of
 * type "subscribed" (sent once the subscription is in place, so a client
 * that waits for it cannot miss a later event), and no END until kinkd
 * shuts down.  The server answers requests of one connection in order.
 * A header kinkd cannot trust (bad version, unknown type, len too big,
 * undecodable payload) gets a CTL_ERROR and the connection is closed;
 * other connections are not affected.
 *
 * Field encodings inside payloads (the same for every record type):
 *	u8/u16/u32/u64	network order (u64 as two u32, high first)
 *	i32		two's complement in a u32
 *	str		u16 length, then that many octets, no NUL, no
 *			terminator; each field has a maximum length (below)
 *	addr		u8 af (CTL_AF_*), u8 0, u16 port, 16 octets address:
 *			INET uses the first 4, the other 12 MUST be zero;
 *			NONE has all 18 octets after af zero
 *	key		u8 length (<= CTL_KEY_MAX), then that many octets
 * A decoder rejects a payload that is short, has octets left over, a
 * string over its maximum or containing NUL, or an enum outside its range.
 *
 * Request payloads:
 *	SHOW_SA		str peer (CTL_NAME_MAX; empty = all peers)
 *			flag CTL_F_KEYS: include raw keys (root only)
 *	SHOW_PEERS, SHOW_XACT, SHOW_STATS, MONITOR, SHOW_SELF	empty
 *	INITIATE	str peer (non-empty), str policy (empty = every
 *			policy of the peer); answered when the exchanges end
 *	DELETE_SA	u32 spi
 *	FLUSH_SA	str peer (empty = all)
 *	RELOAD		str file (CTL_PATH_MAX; empty = the current file)
 *	LOG		u8 level (CTL_LOG_*)
 *	RECONCILE	empty; answered with one STATS record (reconcile_lost,
 *			reconcile_orphans, reconcile_spd) when the run ends.
 *			Added in version 1 without a bump: an older kinkd
 *			answers an unknown type with CTL_E_TYPE, as for any.
 *	SHOW_POLICIES	empty; one POLICY record per configured policy
 *			(added in version 1 without a bump, as RECONCILE)
 * INITIATE, DELETE_SA, FLUSH_SA, RELOAD, LOG, RECONCILE and SHOW_SA with
 * CTL_F_KEYS
 * change state or disclose keys: kinkd refuses them (CTL_ERR_PERM) to a
 * caller whose SO_PEERCRED uid is not 0.
 *
 * Record payloads, in order:
 *	SA	str peer, str policy, u8 dir (CTL_SA_DIR_*), u8 proto
 *		(PROTO_IPSEC_AH/ESP), u8 mode (ENCAP_MODE_*), u8 state
 *		(CTL_SA_*), u32 spi, addr src, addr dst, u16 enc (ESP
 *		transform id, 0 = none), u16 enc_keylen (bits), u16 auth (auth
 *		algorithm attribute, 0 = none), key enckey, key authkey,
 *		u32 life_soft_secs, u32 life_hard_secs, u64 life_soft_bytes,
 *		u64 life_hard_bytes (0 = no limit), u64 created (Unix
 *		seconds), u64 bytes (CTL_UNKNOWN64 = not known),
 *		str reason (CTL_REASON_MAX; empty = none: why the SA is not
 *		in force, e.g. "kernel lost it (reconcile 12:03:04)")
 *		Keys are sent only when the request had CTL_F_KEYS; otherwise
 *		both key lengths are 0.
 *	PEER	str name, str principal (CTL_PRINC_MAX), u8 state
 *		(CTL_PEER_*), u8 naddr (<= CTL_PEER_ADDR_MAX), naddr x addr,
 *		u8 epoch_known (0/1), u32 epoch, i32 clock_offset (seconds,
 *		peer minus us), u64 last_seen (Unix seconds, 0 = never),
 *		u32 nsa, str last_error (CTL_REASON_MAX; empty = none: the
 *		last exchange with the peer that failed, and why),
 *		u64 last_error_time (Unix seconds, 0 = none), the round
 *		trip (u32 rto_ms, rtt_samples, srtt_ms, rttvar_ms), u8
 *		learned (0/1), str range (CTL_NAME_MAX; the range peer it
 *		was learned from), str how (CTL_REASON_MAX; how its
 *		principal and address were confirmed, e.g. "dns ptr+a")
 *	XACT	u32 xid, str peer, u8 cmd (KINK_MSGTYPE_*), u8 role
 *		(CTL_ROLE_*), str state (CTL_STATE_MAX, e.g. "I_CREATE"),
 *		u16 tries, u32 age_ms
 *	STATS	u16 n (<= CTL_STATS_MAX), n x { str name (CTL_STAT_NAME_MAX),
 *		u64 value }; a server may send several STATS records
 *	EVENT	u64 time_ms (Unix milliseconds), str type (CTL_EVTYPE_MAX),
 *		str peer, u32 xid (0 = none), str text (CTL_TEXT_MAX)
 *	INFO	str name (CTL_STAT_NAME_MAX, non-empty), str value
 *		(CTL_TEXT_MAX); SHOW_SELF answers with one per fact
 *		("version", "principal", "listen", ...), a name possibly
 *		repeated (one "listen" per address)
 *	POLICY	str peer, str name, u32 reqid, u8 mode (ENCAP_MODE_*),
 *		addr src, u8 src_plen, addr dst, u8 dst_plen (the selectors:
 *		src is this host's side; port 0 = any), u8 ulproto (0 = any),
 *		u32 priority (the kernel's), u8 ndir (1..CTL_POL_DIR_MAX),
 *		ndir x { u8 dir (CTL_POL_DIR_*), u8 kernel (CTL_POL_K_*) }:
 *		kernel is what the kernel answered when asked for the entry
 *		while the request was served, never kinkd's own record
 *	END	empty
 *	ERROR	u16 code (CTL_ERR_*), str text (CTL_ERRTEXT_MAX; may hold
 *		several lines, e.g. every error of a config file)
 */
#ifndef KINK_CTL_H
#define KINK_CTL_H

#include <stdint.h>

#define CTL_SOCKET		"/run/kinkd.sock"
#define CTL_VERSION		1
#define CTL_HDR_LEN		12
#define CTL_MAXMSG		65536	/* payload octets per message */

/* ch_flags */
#define CTL_F_KEYS		0x0001	/* SHOW_SA: include raw keys */
#define CTL_F_REQ_MASK		CTL_F_KEYS	/* flags valid in a request */
/* Answers carry no flags (0); any bit set is a decoding error. */

/* ch_type: requests */
#define CTL_REQ_SHOW_SA		1
#define CTL_REQ_SHOW_PEERS	2
#define CTL_REQ_SHOW_XACT	3
#define CTL_REQ_SHOW_STATS	4
#define CTL_REQ_INITIATE	5
#define CTL_REQ_DELETE_SA	6
#define CTL_REQ_FLUSH_SA	7
#define CTL_REQ_RELOAD		8
#define CTL_REQ_LOG		9
#define CTL_REQ_MONITOR		10
#define CTL_REQ_SHOW_SELF	11	/* kinkd's version, identity, sockets */
#define CTL_REQ_RECONCILE	12
#define CTL_REQ_SHOW_POLICIES	13
#define CTL_REQ_MAX		13

/* ch_type: answers */
#define CTL_REC_SA		64
#define CTL_REC_PEER		65
#define CTL_REC_XACT		66
#define CTL_REC_STATS		67
#define CTL_REC_EVENT		68
#define CTL_REC_INFO		69
#define CTL_REC_POLICY		70
#define CTL_END			126
#define CTL_ERROR		127

/* Field limits (octets, not counting a C terminator). */
#define CTL_NAME_MAX		64	/* peer and policy names */
#define CTL_PRINC_MAX		256	/* Kerberos principal */
#define CTL_PATH_MAX		1024
#define CTL_STATE_MAX		32	/* transaction state name */
#define CTL_EVTYPE_MAX		32	/* event type */
#define CTL_TEXT_MAX		512	/* event text */
#define CTL_ERRTEXT_MAX		8192	/* error text */
#define CTL_KEY_MAX		64	/* = SA_KEY_MAX */
#define CTL_PEER_ADDR_MAX	8
#define CTL_STATS_MAX		128	/* counters per STATS record */
#define CTL_STAT_NAME_MAX	48
#define CTL_REASON_MAX		160	/* why an SA is missing, a peer's error */

#define CTL_UNKNOWN64		UINT64_MAX

/* addr af */
#define CTL_AF_NONE		0
#define CTL_AF_INET		4
#define CTL_AF_INET6		6

/* SA dir (same values as enum sa_dir in src/sa.h) */
#define CTL_SA_DIR_IN		1
#define CTL_SA_DIR_OUT		2

/* SA state */
#define CTL_SA_LARVAL		1	/* SPI reserved, no keys yet */
#define CTL_SA_MATURE		2
#define CTL_SA_DYING		3	/* soft lifetime hit, or deleting */
/*
 * SHOW_SA merges kinkd's records with the backend's dump (added in
 * protocol version 1 without a bump: a client that predates them rejects
 * only such a record):
 */
#define CTL_SA_KERNEL_ONLY	4	/* kernel has it, kinkd has no record */
#define CTL_SA_MISSING		5	/* kinkd's record; the kernel lost it */

/* POLICY direction entries and what the kernel said of each */
#define CTL_POL_DIR_OUT		1
#define CTL_POL_DIR_IN		2
#define CTL_POL_DIR_FWD		3
#define CTL_POL_DIR_MAX		3
#define CTL_POL_K_NO		0	/* the kernel does not hold it */
#define CTL_POL_K_YES		1
#define CTL_POL_K_UNKNOWN	2	/* the backend cannot say */

/* PEER state */
#define CTL_PEER_UNKNOWN	0	/* configured, never heard from */
#define CTL_PEER_ALIVE		1
#define CTL_PEER_SUSPECTED	2	/* dead-peer interval passed; probing */

/* XACT role */
#define CTL_ROLE_INITIATOR	1
#define CTL_ROLE_RESPONDER	2

/*
 * EVENT types kinkd sends (kinkctl shows any string; tests wait on these).
 * "subscribed" is sent by the control server itself.
 */
#define CTL_EV_SUBSCRIBED	"subscribed"
#define CTL_EV_SA_ADD		"sa-add"	/* SA installed */
#define CTL_EV_SA_DEL		"sa-del"	/* SA removed (any reason) */
#define CTL_EV_XACT_START	"xact-start"
#define CTL_EV_XACT_DONE	"xact-done"	/* transaction completed */
#define CTL_EV_XACT_FAIL	"xact-fail"	/* gave up or got an error */
#define CTL_EV_PEER_EPOCH	"peer-epoch"	/* peer restarted (new EPOCH) */
#define CTL_EV_PEER_STATE	"peer-state"	/* alive <-> suspected */
#define CTL_EV_PEER_LEARNED	"peer-learned"	/* from a range; text: principal */
#define CTL_EV_PEER_FORGOTTEN	"peer-forgotten" /* a learned peer; text: why */
#define CTL_EV_RELOAD		"reload"	/* text: "ok" or the error */
#define CTL_EV_DROP		"drop"		/* input dropped; text why */

/* LOG level */
#define CTL_LOG_BRIEF		0	/* back to the command line's and file's */
#define CTL_LOG_VERBOSE		1	/* exchanges' state changes, messages */
#define CTL_LOG_DEBUG		2	/* everything, payload summaries too */
#define CTL_LOG_INFO		3	/* admin lines, no debug */
#define CTL_LOG_WARNING		4	/* warnings and errors only */
#define CTL_LOG_MAX		4

/* ERROR code: what kind of failure; the text says the specifics. */
#define CTL_ERR_FAILED		1	/* generic failure */
#define CTL_ERR_PERM		2	/* caller is not root */
#define CTL_ERR_VERSION		3	/* ch_version != CTL_VERSION */
#define CTL_ERR_BADREQ		4	/* malformed request */
#define CTL_ERR_UNKNOWN		5	/* unknown request type */
#define CTL_ERR_NOTSUPP		6	/* request not handled by this kinkd */
#define CTL_ERR_NOPEER		7
#define CTL_ERR_NOPOLICY	8
#define CTL_ERR_NOSA		9
#define CTL_ERR_CONF		10	/* reload: bad config, old kept */
#define CTL_ERR_TIMEOUT		11	/* exchange gave up */
#define CTL_ERR_BUSY		12	/* too many requests/connections */
#define CTL_ERR_INTERNAL	13	/* out of memory and the like */
#define CTL_ERR_PEER		14	/* peer answered with an error */
#define CTL_ERR_MAX		14

/* Decoded forms.  Strings are NUL-terminated C strings. */
struct ctl_hdr {
	uint8_t		ch_version;
	uint8_t		ch_type;
	uint16_t	ch_flags;
	uint32_t	ch_len;
	uint32_t	ch_seq;
};

struct ctl_addr {
	uint8_t		ca_af;		/* CTL_AF_* */
	uint16_t	ca_port;	/* host order */
	uint8_t		ca_addr[16];
};

/* Request parameters; which fields are used depends on the type. */
struct ctl_req {
	char		cr_peer[CTL_NAME_MAX + 1];
	char		cr_policy[CTL_NAME_MAX + 1];
	char		cr_file[CTL_PATH_MAX + 1];
	uint32_t	cr_spi;
	uint8_t		cr_level;
};

struct ctl_sa {
	char		cs_peer[CTL_NAME_MAX + 1];
	char		cs_policy[CTL_NAME_MAX + 1];
	uint8_t		cs_dir;
	uint8_t		cs_proto;
	uint8_t		cs_mode;
	uint8_t		cs_state;
	uint32_t	cs_spi;
	struct ctl_addr	cs_src, cs_dst;
	uint16_t	cs_enc;
	uint16_t	cs_enc_keylen;
	uint16_t	cs_auth;
	uint8_t		cs_enckey_len;
	uint8_t		cs_enckey[CTL_KEY_MAX];
	uint8_t		cs_authkey_len;
	uint8_t		cs_authkey[CTL_KEY_MAX];
	uint32_t	cs_life_soft_secs, cs_life_hard_secs;
	uint64_t	cs_life_soft_bytes, cs_life_hard_bytes;
	uint64_t	cs_created;
	uint64_t	cs_bytes;
	char		cs_reason[CTL_REASON_MAX + 1];
};

struct ctl_peer {
	char		cp_name[CTL_NAME_MAX + 1];
	char		cp_principal[CTL_PRINC_MAX + 1];
	uint8_t		cp_state;
	uint8_t		cp_naddr;
	struct ctl_addr	cp_addr[CTL_PEER_ADDR_MAX];
	uint8_t		cp_epoch_known;
	uint32_t	cp_epoch;
	int32_t		cp_clock_offset;
	uint64_t	cp_last_seen;
	uint32_t	cp_nsa;
	char		cp_lasterr[CTL_REASON_MAX + 1];
	uint64_t	cp_lasterr_time;
	uint32_t	cp_rto_ms;	/* next command's first wait */
	uint32_t	cp_rtt_samples;	/* 0: srtt/rttvar not measured */
	uint32_t	cp_srtt_ms;
	uint32_t	cp_rttvar_ms;
	/* A learned peer: its range peer and how its address was confirmed */
	uint8_t		cp_learned;
	char		cp_range[CTL_NAME_MAX + 1];
	char		cp_how[CTL_REASON_MAX + 1];
};

struct ctl_xact {
	uint32_t	cx_xid;
	char		cx_peer[CTL_NAME_MAX + 1];
	uint8_t		cx_cmd;
	uint8_t		cx_role;
	char		cx_state[CTL_STATE_MAX + 1];
	uint16_t	cx_tries;
	uint32_t	cx_age_ms;
};

struct ctl_stat {
	char		cst_name[CTL_STAT_NAME_MAX + 1];
	uint64_t	cst_value;
};

struct ctl_stats {
	uint16_t	cst_n;
	struct ctl_stat	cst_v[CTL_STATS_MAX];
};

struct ctl_event {
	uint64_t	ce_time_ms;
	char		ce_type[CTL_EVTYPE_MAX + 1];
	char		ce_peer[CTL_NAME_MAX + 1];
	uint32_t	ce_xid;
	char		ce_text[CTL_TEXT_MAX + 1];
};

struct ctl_info {
	char		ci_name[CTL_STAT_NAME_MAX + 1];
	char		ci_value[CTL_TEXT_MAX + 1];
};

struct ctl_policy {
	char		cpo_peer[CTL_NAME_MAX + 1];
	char		cpo_name[CTL_NAME_MAX + 1];
	uint32_t	cpo_reqid;
	uint8_t		cpo_mode;
	struct ctl_addr	cpo_src, cpo_dst;
	uint8_t		cpo_src_plen, cpo_dst_plen;
	uint8_t		cpo_ulproto;
	uint32_t	cpo_priority;
	uint8_t		cpo_ndir;
	uint8_t		cpo_dir[CTL_POL_DIR_MAX];
	uint8_t		cpo_kernel[CTL_POL_DIR_MAX];
};

struct ctl_error {
	uint16_t	er_code;
	char		er_text[CTL_ERRTEXT_MAX + 1];
};

#endif
