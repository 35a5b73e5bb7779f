/*
 * Finding and confirming the names of range peers (issue 14): which
 * principal is at an address (initiator), and whether an authenticated
 * principal is bound to the address it sent from (responder).  Three ways,
 * chosen per range peer: DNS (PTR, then forward confirmation), a pattern
 * over the address, or a file of "ADDRESS PRINCIPAL" lines.
 *
 * Services layer (like krb_kdc.c): uses libevent/evdns and log.c, called
 * by the engine, never calls up.  Asynchronous: the event loop never waits
 * on DNS.  docs/arch/hostid.md has the cache, the rate limit and the trust
 * model.
 */
#ifndef KINK_HOSTID_H
#define KINK_HOSTID_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hostid;

/* How the peers of a range are found (kinkd.conf: find dns | find pattern "..." | find file "...") */
enum hostid_mode { HOSTID_DNS = 1, HOSTID_PATTERN, HOSTID_FILE };

struct hostid_rule {			/* one range peer's way of finding names; plain data */
	enum hostid_mode	 mode;
	const char		*principal;	/* pattern, e.g. "kink/%{host}@EXAMPLE.ORG" */
	const char		*pattern;	/* HOSTID_PATTERN: host name from the address */
	const char		*file;		/* HOSTID_FILE: lines "ADDRESS PRINCIPAL" */
};

struct hostid_opts {			/* global: kinkd.conf "set nameserver/…" */
	const struct sockaddr_storage *nameservers;	/* NULL/0 = /etc/resolv.conf */
	int			 nnameservers;
	uint32_t		 fail_cache_ms;	/* failures cached this long (default 30 s) */
	uint32_t		 max_ttl_ms;	/* positive answers capped (default 1 h) */
	uint32_t		 per_source_per_s; /* lookups per source address per second */
};

enum hostid_status {
	HOSTID_OK = 0,		/* bound: principal <-> address confirmed */
	HOSTID_MISMATCH,	/* answered, but principal and address do not match */
	HOSTID_NOTFOUND,	/* no name / no record (NXDOMAIN, no line) */
	HOSTID_TEMPFAIL,	/* DNS down / timeout / SERVFAIL */
	HOSTID_LIMITED,		/* per-source rate limit hit; nothing asked */
	HOSTID_BADPRINC,	/* the principal does not match the rule's pattern */
};

/* `how`: short text for logs and kinkctl, e.g. "dns ptr+a", "dns a", "pattern", "file:12" */
typedef void hostid_cb(void *arg, enum hostid_status, const char *principal,
	    const char *how);

struct hostid *hostid_new(struct event_base *, const struct hostid_opts *);
void	 hostid_free(struct hostid *);	/* pending callbacks are never called after */
int	 hostid_reconfigure(struct hostid *, const struct hostid_opts *); /* reload */
/* Initiator: which principal is at `addr` under `rule`.  The callback may run before
   this returns (cache hit, pattern and file modes): callers must allow that. Returns
   0, or -1 (errno) if it could not even start. */
int	 hostid_lookup(struct hostid *, const struct hostid_rule *,
	    const struct sockaddr *addr, hostid_cb *, void *arg);
/* Responder: is the authenticated `principal` bound to `addr` under `rule` (DNS: host part
   from the principal pattern, forward A/AAAA lookup must contain addr). Same callback rules. */
int	 hostid_check(struct hostid *, const struct hostid_rule *, const char *principal,
	    const struct sockaddr *addr, hostid_cb *, void *arg);
/* Cancel every pending callback with this arg (peer or transaction going away). */
void	 hostid_cancel(struct hostid *, void *arg);
const char *hostid_status_str(enum hostid_status);
/* Pure helpers (unit-testable): host from principal under pattern, principal from host. */
int	 hostid_principal_host(const char *pattern, const char *principal, char *host, size_t);
int	 hostid_host_principal(const char *pattern, const char *host, char *out, size_t);

#endif
