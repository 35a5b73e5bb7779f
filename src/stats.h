/*
 * Daemon counters at the choke points: what was received, sent,
 * dropped and why, retransmits, give-ups, SAs.  One process-wide table;
 * `kinkctl show stats` prints every counter by name, and the host tests
 * assert on them instead of on timing.
 */
#ifndef KINK_STATS_H
#define KINK_STATS_H

#include <stdint.h>

#define STATS_LIST(X)							\
	X(RX, "rx")			/* datagrams received */	\
	X(RX_BYTES, "rx_bytes")						\
	X(TX, "tx")			/* datagrams sent */		\
	X(TX_ERR, "tx_err")						\
	X(RETRANS, "retransmits")	/* commands and REPLYs resent */\
	X(GIVEUP, "giveups")		/* retransmission exhausted */	\
	X(DROP_PARSE, "drop_parse")	/* malformed KINK message */	\
	X(DROP_TRUNC, "drop_trunc")	/* datagram over KINK_MAX_MSG */\
	X(DROP_KRB, "drop_krb")		/* AP-REQ/AP-REP did not verify */\
	X(DROP_CKSUM, "drop_cksum")	/* bad or missing Cksum */	\
	X(DROP_DECRYPT, "drop_decrypt")					\
	X(DROP_NOPEER, "drop_nopeer")	/* principal not configured */	\
	X(DROP_ADDR, "drop_addr")	/* peer's command, foreign source */\
	X(DROP_NOXACT, "drop_noxact")	/* REPLY/ACK for no transaction */\
	X(DROP_STATE, "drop_state")	/* message not expected now */	\
	X(DROP_CAP, "drop_xact_cap")	/* transaction limit reached */	\
	X(DROP_KRB_BUSY, "drop_krb_busy") /* verification queue full */\
	X(DROP_PARK, "drop_park_full")	/* no room to park a command */\
	X(KRB_WORKER, "krb_worker_verified") /* AP-REQs done on workers */\
	X(XACT_EVICT, "xact_evicted")	/* cached REPLY/ACK given up early */\
	X(DROP_UNAUTH, "drop_unauth")	/* unauthenticated error/command */\
	X(DUP_CACHED, "dup_replied_from_cache")				\
	X(DUP_INPROGRESS, "dup_in_progress")				\
	X(ERR_SENT, "errors_sent")	/* lone KRB_ERROR / KINK_ERROR */\
	X(ERR_RCVD, "errors_received")					\
	X(XACT_START, "xact_started")					\
	X(XACT_DONE, "xact_done")					\
	X(XACT_FAIL, "xact_failed")					\
	X(XACT_TRANS, "xact_transitions")				\
	X(XACT_BADTRANS, "xact_illegal_transitions")			\
	X(CREATE_OPT, "create_optimistic")				\
	X(CREATE_NONOPT, "create_nonoptimistic")			\
	X(ACK_SENT, "ack_sent")						\
	X(ACK_RCVD, "ack_received")					\
	X(SA_ADD, "sa_added")						\
	X(SA_DEL, "sa_deleted")						\
	X(SADB_ERR, "sadb_errors")					\
	X(KDC_ERR, "kdc_errors")					\
	X(EPOCH_CHANGE, "peer_epoch_changes")				\
	X(STATUS_SENT, "status_sent")					\
	X(ACQUIRE, "acquire")						\
	X(EXPIRE_SOFT, "expire_soft")					\
	X(EXPIRE_HARD, "expire_hard")					\
	X(RELOAD_OK, "reload_ok")					\
	X(RELOAD_FAIL, "reload_failed")					\
	X(ICMP_RCVD, "icmp_received")	/* errors on KINK sockets */	\
	X(ICMP_PROBE, "icmp_probes")	/* STATUS started by one */

enum stat_id {
#define STAT_ENUM(id, name)	STAT_##id,
	STATS_LIST(STAT_ENUM)
#undef STAT_ENUM
	STAT_MAX
};

void		 stats_inc(enum stat_id);
void		 stats_add(enum stat_id, uint64_t);
uint64_t	 stats_get(enum stat_id);
const char	*stats_name(enum stat_id);

#endif
