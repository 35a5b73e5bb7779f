/*
 * kinkd.conf: the configuration as one plain object.
 *
 * conf_load() reads a file (with its includes) into a fresh struct
 * kink_conf; nothing here keeps global state, so the daemon reloads by
 * loading a new object and swapping it in only when the load succeeded.
 * Every setting is filled in after a successful load: a field the file did
 * not mention holds its documented default (the one exception is
 * c_principal, NULL = "derive kink/<fqdn>@<default realm>", which needs
 * libkrb5 and is the daemon's job).
 *
 * The parser is a pure codec, so tests and fuzzers can drive it without a
 * daemon around it: it never logs.  Problems are
 * collected in a struct conf_errors as "file:line:col: message" lines, all
 * of them, and the caller prints or returns them (kinkctl reload).
 *
 * Ownership: conf_load()/conf_parse_buf() return an object the caller frees
 * with conf_free(); every pointer inside it is owned by it.
 */
#ifndef KINK_CONF_H
#define KINK_CONF_H

#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* Limits, so that a hostile or broken file costs bounded memory. */
#define CONF_MAX_ERRORS		50	/* then "too many errors" and stop */
#define CONF_INCLUDE_DEPTH	8
#define CONF_MAX_FILE		(1024 * 1024)	/* bytes per file */
#define CONF_MAX_STRING		1024	/* bytes in one quoted string/word */
#define CONF_MAX_MACROS		256
#define CONF_MAX_LISTEN		32
#define CONF_MAX_PEERS		4096
#define CONF_MAX_PEER_ADDRS	16
#define CONF_MAX_POLICIES	256	/* per peer */
#define CONF_MAX_XFORM_SETS	256
#define CONF_MAX_NAMESERVERS	8
#define CONF_MAX_LEARNED	100000	/* set max-learned-peers */
#define CONF_MAX_KRB_WORKERS	64	/* set krb-workers (KRB_WORKERS_MAX) */
#define CONF_DEF_KRB_WORKERS_CAP 8	/* auto: online CPUs, at most this */
#define CONF_KRB_WORKERS_AUTO	(-1)	/* the default; not in the dump */

/* Defaults (see docs/arch/conf.md and kinkd.conf(5)). */
#define CONF_DEF_PORT		910
#define CONF_DEF_RETRANS_MS	1000
#define CONF_DEF_RETRANS_MAX_MS	8000
#define CONF_DEF_RETRANS_TRIES	5
#define CONF_DEF_DEADPEER_MS	60000
#define CONF_DEF_RECONCILE_MS	60000
#define CONF_DEF_DELGRACE_MS	10000	/* racoon2's DELETE half-state */
#define CONF_DEF_REPLYCACHE_MS	60000	/* racoon2's R_AGING */
#define CONF_DEF_MAX_XACT_PEER	64
#define CONF_DEF_MAX_XACT	4096
#define CONF_DEF_LIFE_SECS	28800	/* 8h */
#define CONF_DEF_MAX_LEARNED	1024
#define CONF_DEF_LEARNED_IDLE_MS 600000	/* 10m */

/* A -D name=value definition; arrays of these end with cm_name == NULL. */
struct conf_macro {
	const char	*cm_name;
	const char	*cm_value;
};

/* Collected error lines, "file:line:col: message" each, in file order. */
struct conf_errors {
	char		**ce_msgs;
	int		  ce_count;
	int		  ce_truncated;	/* more than CONF_MAX_ERRORS happened */
};

enum conf_backend {
	CONF_BACKEND_AUTO = 0,	/* xfrm if available, else pfkey */
	CONF_BACKEND_PFKEY,
	CONF_BACKEND_XFRM,
	CONF_BACKEND_NULL,	/* in memory; tests and dry runs */
};

enum conf_shutdown {
	CONF_SHUTDOWN_FLUSH = 0,	/* delete our SAs when kinkd stops */
	CONF_SHUTDOWN_KEEP,		/* leave them in the kernel */
};

enum conf_prf {
	CONF_PRF_RFC3961 = 0,	/* krb5_c_prf of the session key's enctype */
	CONF_PRF_MIT,		/* racoon2/MIT-compatible variant */
};

/* How a range peer's hosts are found; the values of enum hostid_mode. */
enum conf_find {
	CONF_FIND_DNS = 1,	/* PTR, then forward confirmation */
	CONF_FIND_PATTERN,	/* host name from the address by a pattern */
	CONF_FIND_FILE,		/* "ADDRESS PRINCIPAL" lines */
};

struct conf_listen {
	struct sockaddr_storage	 l_addr;	/* address and port set */
};

/* A named transform set ("transforms "name" { ... }"). */
struct conf_xform_set {
	char			 xs_name[POL_NAME_MAX];
	struct kink_suite	 xs_suites[POL_MAX_SUITES];
	int			 xs_nsuites;
};

struct conf_peer {
	char			*p_name;
	char			*p_principal;	/* never NULL after a load */
	struct sockaddr_storage	 p_addrs[CONF_MAX_PEER_ADDRS];	/* port 0 */
	int			 p_naddrs;	/* 0 = responder only */
	struct sockaddr_storage	 p_local;	/* ss_family 0 = unset */
	enum conf_prf		 p_prf;
	int			 p_u2u;		/* 1 = allow User-to-User */
	int			 p_resp_life;	/* 1 = send RESPONDER-LIFETIME */
	/*
	 * Policies in file order; each has a unique pol_name within the peer
	 * and a pol_reqid unique within the config (see conf_reqid()).
	 */
	struct kink_policy	*p_policies;
	int			 p_npolicies;
	/*
	 * A range peer ("addresses" with prefixes) is a template: no entry
	 * in the peer table of its own; a learned peer is made from it for
	 * each host found in a range (p_principal holds "%{host}").
	 */
	struct kink_selector	 p_ranges[CONF_MAX_PEER_ADDRS];
	int			 p_nranges;
	enum conf_find		 p_find;	/* range peers only */
	char			*p_find_arg;	/* pattern or file name */
};

struct kink_conf {
	char			*c_principal;	/* NULL = derive */
	char			*c_keytab;	/* KINKD_KEYTAB */
	char			*c_socket;	/* KINKD_SOCKET */
	char			*c_user;	/* KINKD_USER */
	int			 c_strict_priv;	/* failed drop is fatal */
	uint16_t		 c_port;	/* default for listen: 910 */
	/* Never empty after a load: no "listen" = 0.0.0.0 and :: on c_port. */
	struct conf_listen	*c_listen;
	int			 c_nlisten;
	uint32_t		 c_retrans_ms;		/* first interval */
	uint32_t		 c_retrans_max_ms;	/* backoff cap */
	uint32_t		 c_retrans_tries;	/* sends in total */
	uint32_t		 c_deadpeer_ms;		/* STATUS after silence */
	uint32_t		 c_reconcile_ms;	/* records vs kernel; 0 off */
	uint32_t		 c_delgrace_ms;		/* DELETE grace timer */
	uint32_t		 c_replycache_ms;	/* responder reply cache */
	uint32_t		 c_max_xact_peer;
	uint32_t		 c_max_xact;
	enum conf_backend	 c_backend;
	enum conf_shutdown	 c_shutdown;
	int			 c_verbose;		/* 0..3, adds to -v */
	/* Range peers: name servers (none: /etc/resolv.conf), learned peers */
	struct sockaddr_storage	 c_nameservers[CONF_MAX_NAMESERVERS];
	int			 c_nnameservers;
	uint32_t		 c_max_learned;
	uint32_t		 c_learned_idle_ms;
	int			 c_krb_workers;	/* AP-REQ verification threads,
						 * or CONF_KRB_WORKERS_AUTO */

	struct conf_xform_set	*c_xsets;
	int			 c_nxsets;
	struct conf_peer	*c_peers;
	int			 c_npeers;
};

/* `set krb-workers auto` (the default): online CPUs, capped; 0 on one
 * CPU.  conf_krb_workers: the number a configuration asks for. */
int	conf_default_krb_workers(void);
int	conf_krb_workers(const struct kink_conf *);
/*
 * Load `path` (includes relative to the including file's directory).
 * `defines` (may be NULL) override macros of the same name in the file.
 * Returns NULL if anything was wrong; `errs` then holds every error.
 * `errs` is cleared first; free it with conf_errors_free() either way.
 */
struct kink_conf *conf_load(const char *path, const struct conf_macro *defines,
	    struct conf_errors *errs);
/*
 * The same from memory: `name` is used in messages and as the base for
 * relative includes ("." when it has no '/').  `len` bytes, need not be
 * NUL-terminated.  This is the fuzzer's entry point.
 */
struct kink_conf *conf_parse_buf(const char *name, const char *buf, size_t len,
	    const struct conf_macro *defines, struct conf_errors *errs);
void	conf_free(struct kink_conf *);		/* NULL-safe */

void	conf_errors_free(struct conf_errors *);	/* leaves it empty */
void	conf_errors_print(const struct conf_errors *, FILE *);

/*
 * Print the normalized configuration (kinkd -nv): every setting with its
 * effective value, policies with their names, reqids and resolved
 * transforms.  Parsing the output gives back an equal configuration.
 */
void	conf_dump(const struct kink_conf *, FILE *);

/* Lookups; NULL when absent. */
struct conf_peer *conf_peer_by_name(const struct kink_conf *, const char *);
struct conf_peer *conf_peer_by_principal(const struct kink_conf *,
	    const char *);
/* By address (port ignored). */
struct conf_peer *conf_peer_by_addr(const struct kink_conf *,
	    const struct sockaddr *);
struct kink_policy *conf_policy_by_name(const struct conf_peer *,
	    const char *);
/* The range peer whose range holds `sa` (the longest prefix); NULL if none. */
struct conf_peer *conf_peer_by_range(const struct kink_conf *,
	    const struct sockaddr *);
/*
 * A learned peer's own configuration: a copy of range peer `tmpl` named
 * `name`, with `principal`, the one address `addr`, and "me"/"peer" in
 * its policies replaced by `local` and `addr` (policies of the other
 * address family left out).  NULL on allocation failure or when no policy
 * is left; free with conf_peer_free().
 */
struct conf_peer *conf_peer_learned(const struct conf_peer *tmpl,
	    const char *name, const char *principal,
	    const struct sockaddr *addr, const struct sockaddr *local);
void	conf_peer_free(struct conf_peer *);	/* NULL-safe */
/*
 * A copy of `cp` with no policies (name, principal, addresses, options):
 * what a peer removed by a reload needs to finish telling the peer, with
 * nothing the SPD or an ACQUIRE could find.  NULL on allocation failure;
 * free with conf_peer_free().
 */
struct conf_peer *conf_peer_bare(const struct conf_peer *cp);
/*
 * The kernel policies of `pol` of peer `cp`, into out[0..max): the policy
 * itself, or for a range peer's "me"/"peer" policy one per range of a
 * fitting family ("me" any address, "peer" the range), so an ACQUIRE
 * comes for every host of the range.  Returns how many.
 */
int	conf_policy_spd(const struct conf_peer *cp,
	    const struct kink_policy *pol, struct kink_policy *out, int max);

/*
 * 1 when two policies are the same in every field that matters for an
 * installed SA (name, reqid, mode, selectors, protocol, suites, lifetimes,
 * PFS group, tunnel endpoints), else 0.  On reload the daemon keeps an SA
 * when its policy in the new config (found by peer name + policy name) is
 * conf_policy_same() as the old one.
 */
int	conf_policy_same(const struct kink_policy *, const struct kink_policy *);

/*
 * The reqid a policy gets: FNV-1a of "peer\0policy-name" folded into
 * 1..0x3fffffff, then the next free value on a (rare) collision within the
 * config.  Unnamed policies are named "p" + 8 hex digits of a hash of their
 * traffic (mode, selectors, protocol), so both stay the same across a
 * reload that keeps the policy; "reqid N" in the file pins it.
 */
uint32_t conf_reqid(const char *peer, const char *policy);

/* Names for the enum and DOI values, as the file spells them. */
const char *conf_backend_name(enum conf_backend);
const char *conf_enc_name(uint8_t esp_id, uint16_t keylen);	/* NULL if unknown */
/* One full retransmission cycle of `set retransmit`, in ms. */
uint32_t conf_retrans_cycle_ms(const struct kink_conf *);
const char *conf_auth_name(uint16_t auth_attr);
const char *conf_pfs_name(uint16_t group);

/* Every keyword the parser knows, NULL-terminated (man page check). */
extern const char *const conf_keywords[];

#ifdef CONF_INTERNAL
/*
 * Shared by conf_lex.c, conf_parse.c, conf.c and conf_dump.c only.
 */
enum conf_tok {
	CT_EOF = 0,
	CT_NL,		/* newline or ';' */
	CT_WORD,	/* unquoted word, or a $macro's value */
	CT_STRING,	/* "quoted" */
	CT_LBRACE,
	CT_RBRACE,
	CT_EQ,
	CT_COMMA,
	CT_ERROR,	/* the lexer has already reported it */
};

struct conf_token {
	enum conf_tok	 t_type;
	int		 t_line, t_col;
	int		 t_macro;	/* came from $name */
	char		 t_text[CONF_MAX_STRING + 1];
};

struct conf_macros {
	char		*m_name[CONF_MAX_MACROS];
	char		*m_value[CONF_MAX_MACROS];
	uint8_t		 m_fixed[CONF_MAX_MACROS];	/* from -D: wins */
	int		 m_n;
};

struct conf_lex {
	const char	*lx_name;	/* for messages */
	const char	*lx_p, *lx_end;
	int		 lx_line, lx_col;
	const struct conf_macros *lx_macros;
	struct conf_errors *lx_errs;
};

void	conf_lex_init(struct conf_lex *, const char *name, const char *buf,
	    size_t len, const struct conf_macros *, struct conf_errors *);
void	conf_lex_next(struct conf_lex *, struct conf_token *);
const char *conf_macro_get(const struct conf_macros *, const char *);
/* Adds "file:line:col: message" (line 0: "file: message"); returns -1. */
int	conf_err(struct conf_errors *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reqids are 1..CONF_REQID_MAX: hashed ones and pinned ones alike. */
#define CONF_REQID_MAX	0x3fffffffU
/* A loaded-config object with every default filled in (conf.c). */
struct kink_conf *conf_new_defaults(void);
/* Name an unnamed policy after its traffic (conf.c, see conf_reqid()). */
void	conf_policy_autoname(struct kink_policy *, int esp);

/* Algorithm name tables (conf_dump.c). */
struct conf_enc {
	const char	*e_name;
	uint8_t		 e_id;
	uint16_t	 e_keylen;
	int		 e_aead;
};
struct conf_auth {
	const char	*a_name;
	uint16_t	 a_attr;	/* ESP Authentication Algorithm attr */
	uint8_t		 a_ah_id;	/* AH transform id */
};
struct conf_group {
	const char	*g_name;
	uint16_t	 g_id;
};
extern const struct conf_enc conf_encs[];
extern const struct conf_auth conf_auths[];
extern const struct conf_group conf_groups[];
#endif /* CONF_INTERNAL */

#endif
