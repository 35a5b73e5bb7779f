/*
 * kinkd.conf parser: recursive descent, one function per production,
 * building a fresh struct kink_conf (hand-written, so every error names
 * what was expected and what was found).  Reentrant: all state is
 * in struct conf_parser.  Never logs; every problem becomes one
 * "file:line:col: message" in struct conf_errors, and parsing goes on at
 * the next statement so that one run reports all of a file's errors.
 *
 *   config   = { [ stmt ] NL } EOF .                      (NL: newline or ;)
 *   stmt     = include | macro | set | listen | xforms | peer .
 *   include  = "include" STRING .
 *   macro    = NAME "=" STRING .                   (used as $NAME)
 *   set      = "set" ( "principal" STRING | "keytab" STRING
 *            | "port" NUM | "retransmit" DUR [ "max" DUR ] [ "tries" NUM ]
 *            | "dead-peer" DUR | "delete-grace" DUR | "reply-cache" DUR
 *            | "reconcile" DUR
 *            | "backend" ( "auto" | "pfkey" | "xfrm" | "null" )
 *            | "on-shutdown" ( "flush" | "keep" )
 *            | "max-xact-peer" NUM | "max-xact" NUM
 *            | "socket" STRING | "user" STRING | "verbose" NUM
 *            | "nameserver" ADDR | "max-learned-peers" NUM
 *            | "learned-idle" DUR | "krb-workers" ( NUM | "auto" ) ) .
 *   listen   = "listen" "on" ADDR [ "port" NUM ] .
 *   xforms   = "transforms" STRING "{" suites "}" .
 *   suites   = { [ suite ] ( NL | "," ) } .            (at least one suite)
 *   suite    = xform { xform } .                       (each protocol once)
 *   xform    = "esp" "enc" ENC [ "auth" AUTH ] | "ah" "auth" AUTH
 *            | "ipcomp" "deflate" .                   (with esp or ah)
 *   peer     = "peer" STRING "{" { [ pstmt ] ( NL | "," ) } "}" .
 *   pstmt    = "principal" STRING | "address" ADDR | "local" ADDR
 *            | "prf" ( "rfc3961" | "mit" ) | "u2u" ( "allow" | "deny" )
 *            | "responder-lifetime" ( "omit" | "send" )
 *            | "addresses" NET { NET }                 (a range peer)
 *            | "find" ( "dns" | "pattern" STRING | "file" STRING )
 *            | policy .
 *   policy   = [ "policy" STRING ] ( "esp" | "ah" ) ( "transport" | "tunnel" )
 *              "from" SEL [ "port" NUM ] "to" SEL [ "port" NUM ] { popt } .
 *   SEL      = NET | "me" | "peer" .          ("me"/"peer": range peers only)
 *   popt     = "proto" PROTO | "transforms" ( STRING | "{" suites "}" )
 *            | "lifetime" life { life } | "pfs" GROUP [ "optional" ]
 *            | "local" ADDR | "remote" ADDR | "reqid" NUM .
 *   life     = DUR | NUM "kbytes" .
 *   NET      = ADDR [ "/" NUM ] .   DUR = NUM [ "ms" | "s" | "m" | "h" | "d" ] .
 *
 * STRING is a "quoted string" or a bare word; keywords must be bare.
 * Checks that need the whole file (tunnel endpoints from listen addresses,
 * reqids, duplicate principals) run in conf_check.c at the end.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"
#include "conf_parser.h"
#include "isakmp_num.h"

/*
 * Default ESP suites.  CBC+HMAC first: every backend installs them (Linux
 * PF_KEY, the "auto" default where af_key loads, cannot install AES-GCM),
 * and HMAC-SHA1 is what racoon2 peers can use.  GCM stays on offer for
 * peers that prefer it over XFRM.
 */
static const struct kink_suite default_esp[] = {
	{ { 1, 12, 256, 5 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },	/* aes-256-cbc hmac-sha2-256 */
	{ { 1, 12, 128, 5 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },	/* aes-128-cbc hmac-sha2-256 */
	{ { 1, 12, 128, 2 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },	/* aes-128-cbc hmac-sha1 */
	{ { 1, 20, 256, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },	/* aes-256-gcm-16 */
	{ { 1, 20, 128, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },	/* aes-128-gcm-16 */
};
static const struct kink_suite default_ah[] = {
	{ { 0, 0, 0, 0 }, { 1, 5, 0, 5 }, { 0, 0, 0, 0 } },	/* ah auth hmac-sha2-256 */
	{ { 0, 0, 0, 0 }, { 1, 3, 0, 2 }, { 0, 0, 0, 0 } },	/* ah auth hmac-sha1 */
};

/* ---------------------------------------------------------------- */
/* Statements */

static void parse_file_buf(struct conf_parser *, const char *, const char *,
	    size_t);
static void parse_path(struct conf_parser *, const char *,
	    const struct conf_where *);

/* Skip to the end of the statement; braces opened on the way are skipped
 * whole.  In a peer block, "," and "}" at depth 0 end the statement too. */
static void
recover(struct conf_parser *p, int inblock)
{
	int depth = 0;

	for (;;) {
		switch (p->cp_tok.t_type) {
		case CT_EOF:
			return;
		case CT_NL:
			if (depth == 0)
				return;
			break;
		case CT_LBRACE:
			depth++;
			break;
		case CT_COMMA:
			if (depth == 0 && inblock)
				return;
			break;
		case CT_RBRACE:
			if (depth == 0 && inblock)
				return;
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		ctok_next(p);
	}
}

static int
macro_name_ok(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int
macro_set(struct conf_macros *m, const char *name, const char *value,
    int fixed)
{
	char *v;
	int i;

	for (i = 0; i < m->m_n; i++)
		if (strcmp(m->m_name[i], name) == 0)
			break;
	if (i < m->m_n && m->m_fixed[i] && !fixed)
		return 0;	/* -D wins over the file */
	if (i == m->m_n && m->m_n >= CONF_MAX_MACROS)
		return -1;
	if ((v = strdup(value)) == NULL)
		return -1;
	if (i == m->m_n) {
		if ((m->m_name[i] = strdup(name)) == NULL) {
			free(v);
			return -1;
		}
		m->m_n++;
	} else
		free(m->m_value[i]);
	m->m_value[i] = v;
	m->m_fixed[i] = (uint8_t)fixed;
	return 0;
}

/* macro = NAME "=" STRING */
static int
parse_macro(struct conf_parser *p)
{
	char name[CONF_MAX_STRING + 1], value[CONF_MAX_STRING + 1];
	struct conf_where at = ctok_where(p, &p->cp_tok);

	memcpy(name, p->cp_tok.t_text, sizeof(name));
	if (p->cp_tok.t_macro || !macro_name_ok(name))
		return ctok_err_tok(p,
		    "bad macro name \"%s\": expected letters, "
		    "digits and _", name);
	ctok_next(p);
	ctok_next(p);	/* "=" */
	if (p->cp_tok.t_type != CT_STRING && p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, "a value");
	memcpy(value, p->cp_tok.t_text, sizeof(value));
	ctok_next(p);
	if (macro_set(&p->cp_macros, name, value, 0) == -1)
		return ctok_err_at(p, &at, "too many macros (at most %d)",
		    CONF_MAX_MACROS);
	return 0;
}

/* include = "include" STRING */
static int
parse_include(struct conf_parser *p)
{
	char name[CONF_MAX_STRING + 1], path[2 * CONF_MAX_STRING + 2];
	struct conf_where at;
	const char *cur = p->cp_lx->lx_name, *slash;

	ctok_next(p);
	at = ctok_where(p, &p->cp_tok);
	if (ctok_get_string(p, "a file name", name, sizeof(name)) == -1)
		return -1;
	if (p->cp_tok.t_type != CT_NL && p->cp_tok.t_type != CT_EOF)
		return ctok_err_expected1(p, "newline");
	slash = strrchr(cur, '/');
	if (name[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cur),
		    cur, name);
	parse_path(p, path, &at);
	return 0;
}

/* "set nameserver ADDR", repeatable */
static int
parse_nameserver(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct conf_where at = ctok_where(p, &p->cp_tok);
	struct sockaddr_storage ss;

	if (ctok_get_addr(p, &ss) == -1)
		return -1;
	if (c->c_nnameservers >= CONF_MAX_NAMESERVERS)
		return ctok_err_at(p, &at, "too many name servers (at most "
		    "%d)", CONF_MAX_NAMESERVERS);
	for (int i = 0; i < c->c_nnameservers; i++)
		if (addr_eq(addr_sa(&c->c_nameservers[i]), addr_sa(&ss)))
			return ctok_err_at(p, &at, "name server given twice");
	c->c_nameservers[c->c_nnameservers++] = ss;
	return 0;
}

/* The range-peer settings: 16 nameserver, 17 max-learned-peers, 18
 * learned-idle; and 19 krb-workers */
static int
parse_set_site(struct conf_parser *p, int k)
{
	struct kink_conf *c = p->cp_conf;
	uint64_t v;

	if (k == 16)
		return parse_nameserver(p);
	if (k == 17) {
		if (ctok_get_num(p, "max-learned-peers", 0, CONF_MAX_LEARNED,
		    &v) == -1)
			return -1;
		c->c_max_learned = (uint32_t)v;
		return 0;
	}
	if (k == 19) {
		if (ctok_is_kw(p, "auto")) {
			ctok_next(p);
			c->c_krb_workers = CONF_KRB_WORKERS_AUTO;
			return 0;
		}
		if (ctok_get_num(p, "krb-workers", 0, CONF_MAX_KRB_WORKERS,
		    &v) == -1)
			return -1;
		c->c_krb_workers = (int)v;
		return 0;
	}
	if (ctok_get_dur(p, "learned-idle", 1000, 86400000, "1s to 1d",
	    &v) == -1)
		return -1;
	c->c_learned_idle_ms = (uint32_t)v;
	return 0;
}

static int
parse_set(struct conf_parser *p)
{
	static const char *const kws[] = {
		"principal", "keytab", "port", "retransmit", "dead-peer",
		"delete-grace", "reply-cache", "backend", "on-shutdown",
		"max-xact-peer", "max-xact", "socket", "user", "verbose",
		"reconcile", "strict-privileges", "nameserver",
		"max-learned-peers", "learned-idle", "krb-workers", NULL
	};
	static const char *const noyes[] = { "no", "yes", NULL };
	static const char *const backends[] = {
		"auto", "pfkey", "xfrm", "null", NULL
	};
	static const char *const shutdowns[] = { "flush", "keep", NULL };
	struct kink_conf *c = p->cp_conf;
	uint64_t v, v2;
	int k;

	ctok_next(p);
	switch ((k = ctok_expect_kw(p, kws))) {
	case 0:
		return ctok_get_dup_string(p, "a principal", &c->c_principal);
	case 1:
		return ctok_get_dup_string(p, "a file name", &c->c_keytab);
	case 2:
		if (ctok_get_num(p, "port", 1, 65535, &v) == -1)
			return -1;
		c->c_port = (uint16_t)v;
		return 0;
	case 3:
		if (ctok_get_dur(p, "retransmit interval", 1, 60000,
		    "1ms to 1m", &v) == -1)
			return -1;
		c->c_retrans_ms = (uint32_t)v;
		if (c->c_retrans_max_ms < c->c_retrans_ms)
			c->c_retrans_max_ms = c->c_retrans_ms;
		if (ctok_is_kw(p, "max")) {
			struct conf_where at;

			ctok_next(p);
			at = ctok_where(p, &p->cp_tok);
			if (ctok_get_dur(p, "retransmit max", 1, 3600000,
			    "1ms to 1h", &v2) == -1)
				return -1;
			if (v2 < v)
				return ctok_err_at(p, &at, "retransmit max is "
				    "shorter than the first interval");
			c->c_retrans_max_ms = (uint32_t)v2;
		}
		if (ctok_is_kw(p, "tries")) {
			ctok_next(p);
			if (ctok_get_num(p, "tries", 1, 100, &v) == -1)
				return -1;
			c->c_retrans_tries = (uint32_t)v;
		}
		return 0;
	case 4:
		if (ctok_get_dur(p, "dead-peer interval", 0, 86400000,
		    "0 (off) to 1d", &v) == -1)
			return -1;
		c->c_deadpeer_ms = (uint32_t)v;
		return 0;
	case 5:
		if (ctok_get_dur(p, "delete-grace", 0, 3600000, "0 to 1h",
		    &v) == -1)
			return -1;
		c->c_delgrace_ms = (uint32_t)v;
		return 0;
	case 6:
		if (ctok_get_dur(p, "reply-cache", 1000, 3600000, "1s to 1h",
		    &v) == -1)
			return -1;
		c->c_replycache_ms = (uint32_t)v;
		return 0;
	case 7:
		if ((k = ctok_expect_kw(p, backends)) == -1)
			return -1;
		c->c_backend = (enum conf_backend)k;
		return 0;
	case 8:
		if ((k = ctok_expect_kw(p, shutdowns)) == -1)
			return -1;
		c->c_shutdown = (enum conf_shutdown)k;
		return 0;
	case 9:
		if (ctok_get_num(p, "max-xact-peer", 1, 100000, &v) == -1)
			return -1;
		c->c_max_xact_peer = (uint32_t)v;
		return 0;
	case 10:
		if (ctok_get_num(p, "max-xact", 1, 1000000, &v) == -1)
			return -1;
		c->c_max_xact = (uint32_t)v;
		return 0;
	case 11:
		return ctok_get_dup_string(p, "a socket path", &c->c_socket);
	case 12:
		return ctok_get_dup_string(p, "a user name", &c->c_user);
	case 13:
		if (ctok_get_num(p, "verbose", 0, 3, &v) == -1)
			return -1;
		c->c_verbose = (int)v;
		return 0;
	case 14:
		if (ctok_get_dur(p, "reconcile interval", 0, 86400000,
		    "0 (off) to 1d", &v) == -1)
			return -1;
		c->c_reconcile_ms = (uint32_t)v;
		return 0;
	case 15:
		if ((k = ctok_expect_kw(p, noyes)) == -1)
			return -1;
		c->c_strict_priv = k;
		return 0;
	}
	return k >= 16 ? parse_set_site(p, k) : -1;
}

/* listen = "listen" "on" ADDR [ "port" NUM ] */
static int
parse_listen(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct sockaddr_storage ss;
	struct conf_listen *nl;
	struct listen_info *np;
	struct conf_where at;
	uint64_t port = 0;

	ctok_next(p);
	if (ctok_expect_kw1(p, "on") == -1)
		return -1;
	at = ctok_where(p, &p->cp_tok);
	if (ctok_get_addr(p, &ss) == -1)
		return -1;
	if (ctok_is_kw(p, "port")) {
		ctok_next(p);
		if (ctok_get_num(p, "port", 1, 65535, &port) == -1)
			return -1;
	}
	if (c->c_nlisten >= CONF_MAX_LISTEN)
		return ctok_err_tok(p, "too many listen addresses (at most %d)",
		    CONF_MAX_LISTEN);
	nl = reallocarray(c->c_listen, c->c_nlisten + 1, sizeof(*nl));
	if (nl == NULL)
		return ctok_err_tok(p, "out of memory");
	c->c_listen = nl;
	np = reallocarray(p->cp_listen, c->c_nlisten + 1, sizeof(*np));
	if (np == NULL)
		return ctok_err_tok(p, "out of memory");
	p->cp_listen = np;
	addr_set_port(&ss, (uint16_t)port);
	np[c->c_nlisten].li_port_set = port != 0;
	np[c->c_nlisten].li_at = at;
	c->c_listen[c->c_nlisten++].l_addr = ss;
	return 0;
}

static int
get_proto(struct conf_parser *p, uint8_t *out)
{
	static const struct { const char *n; uint8_t v; } protos[] = {
		{ "any", 0 }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "ipv6-icmp", IPPROTO_ICMPV6 },
		{ "sctp", IPPROTO_SCTP },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (ctok_is_kw(p, protos[i].n)) {
			*out = protos[i].v;
			ctok_next(p);
			return 0;
		}
	if (p->cp_tok.t_type == CT_WORD &&
	    ctok_parse_u64(p->cp_tok.t_text, &v) == 0 && v <= 255) {
		*out = (uint8_t)v;
		ctok_next(p);
		return 0;
	}
	return ctok_err_expected1(p,
	    "a protocol (tcp, udp, icmp, ipv6-icmp, sctp, "
	    "any or a number up to 255)");
}

static int
get_selector(struct conf_parser *p, struct kink_selector *sel,
    struct conf_where *at, struct conf_where *port_at)
{
	uint64_t v;

	*at = ctok_where(p, &p->cp_tok);
	if (ctok_is_kw(p, "me") || ctok_is_kw(p, "peer")) {
		memset(sel, 0, sizeof(*sel));
		sel->sel_var = ctok_is_kw(p, "me") ? SEL_VAR_ME : SEL_VAR_PEER;
		ctok_next(p);
	} else if (ctok_get_net(p, sel) == -1)
		return -1;
	if (ctok_is_kw(p, "port")) {
		ctok_next(p);
		*port_at = ctok_where(p, &p->cp_tok);
		if (ctok_get_num(p, "port", 1, 65535, &v) == -1)
			return -1;
		sel->sel_port = (uint16_t)v;
	}
	return 0;
}

/* Where the parts of one policy line are, for its error messages. */
struct pol_where {
	struct conf_where pw_at;	/* the line */
	struct conf_where pw_src, pw_dst, pw_port, pw_xf;
};

/* "transforms" ( "{" suites "}" | NAME ) */
static int
get_policy_transforms(struct conf_parser *p, struct kink_policy *pol,
    struct pol_where *w)
{
	char name[POL_NAME_MAX];
	struct conf_xform_set *xs;

	w->pw_xf = ctok_where(p, &p->cp_tok);
	if (p->cp_tok.t_type == CT_LBRACE) {
		struct conf_where open = w->pw_xf;

		ctok_next(p);
		return conf_parse_suites(p, pol->pol_suites, &pol->pol_nsuites,
		    &open);
	}
	if (ctok_get_string(p, "a transform set name or \"{\"", name,
	    sizeof(name)) == -1)
		return -1;
	if ((xs = conf_xset_find(p->cp_conf, name)) == NULL)
		return ctok_err_at(p, &w->pw_xf, "unknown transform set "
		    "\"%s\"", name);
	memcpy(pol->pol_suites, xs->xs_suites, sizeof(pol->pol_suites));
	pol->pol_nsuites = xs->xs_nsuites;
	return 0;
}

/* "lifetime" ( DUR | NUM "kbytes" ) { ... }: the first "lifetime" clears
 * the defaults, so giving only kbytes proposes no time lifetime (which
 * RFC 2407 4.5 reads as 28800 s). */
static int
get_policy_lifetime(struct conf_parser *p, struct kink_policy *pol,
    int *life_set)
{
	uint64_t v;

	if (!*life_set) {
		pol->pol_life_secs = 0;
		pol->pol_life_kbytes = 0;
	}
	*life_set = 1;
	do {
		if (p->cp_tok.t_type == CT_WORD &&
		    ctok_peek(p)->t_type == CT_WORD &&
		    strcmp(ctok_peek(p)->t_text, "kbytes") == 0) {
			if (ctok_get_num(p, "kbytes", 1, UINT32_MAX, &v) == -1)
				return -1;
			ctok_next(p);	/* kbytes */
			pol->pol_life_kbytes = (uint32_t)v;
		} else {
			struct conf_where lat = ctok_where(p, &p->cp_tok);

			if (ctok_get_dur(p, "lifetime", 1000,
			    (uint64_t)UINT32_MAX * 1000, "at least 1s",
			    &v) == -1)
				return -1;
			if (v % 1000)
				return ctok_err_at(p, &lat, "lifetime must be "
				    "whole seconds");
			pol->pol_life_secs = (uint32_t)(v / 1000);
		}
	} while (p->cp_tok.t_type == CT_WORD &&
	    p->cp_tok.t_text[0] >= '0' && p->cp_tok.t_text[0] <= '9');
	return 0;
}

/* "pfs" GROUP */
static int
get_policy_pfs(struct conf_parser *p, struct kink_policy *pol)
{
	static const char *const gs[] = { "none", "modp2048", "ecp256", NULL };
	const struct conf_group *g;

	for (g = conf_groups; g->g_name; g++)
		if (ctok_is_kw(p, g->g_name))
			break;
	if (g->g_name == NULL)
		return ctok_err_expected(p, gs, NULL);
	pol->pol_pfs_group = g->g_id;
	ctok_next(p);
	/* RFC 4430 3.2: a peer refusing KE may be asked again without it. */
	if (g->g_id != 0 && ctok_is_kw(p, "optional")) {
		pol->pol_pfs_optional = 1;
		ctok_next(p);
	}
	return 0;
}

/* { popt } up to the end of the line */
static int
parse_popts(struct conf_parser *p, struct kink_policy *pol,
    struct pol_info *pi, struct pol_where *w)
{
	static const char *const popts[] = {
		"proto", "transforms", "lifetime", "pfs", "local", "remote",
		"reqid", NULL
	};
	int life_set = 0, rc = 0;
	uint64_t v;

	while (p->cp_tok.t_type != CT_NL && p->cp_tok.t_type != CT_EOF &&
	    p->cp_tok.t_type != CT_RBRACE && p->cp_tok.t_type != CT_COMMA) {
		int opt = -1;

		for (int i = 0; popts[i]; i++)
			if (ctok_is_kw(p, popts[i]))
				opt = i;
		if (opt == -1)
			return ctok_err_expected(p, popts, "newline");
		ctok_next(p);
		switch (opt) {
		case 0:
			rc = get_proto(p, &pol->pol_ulproto);
			break;
		case 1:
			rc = get_policy_transforms(p, pol, w);
			break;
		case 2:
			rc = get_policy_lifetime(p, pol, &life_set);
			break;
		case 3:
			rc = get_policy_pfs(p, pol);
			break;
		case 4:
			if ((rc = ctok_get_addr(p, &pol->pol_tun_local)) == 0)
				pi->pi_local_set = 1;
			break;
		case 5:
			if ((rc = ctok_get_addr(p, &pol->pol_tun_remote)) == 0)
				pi->pi_remote_set = 1;
			break;
		case 6:
			rc = ctok_get_num(p, "reqid", 1, CONF_REQID_MAX, &v);
			if (rc == 0) {
				pol->pol_reqid = (uint32_t)v;
				pi->pi_fixed_reqid = 1;
			}
			break;
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Checks that need the whole line; then the default suites. */
static int
check_policy(struct conf_parser *p, struct kink_policy *pol,
    const struct pol_info *pi, int esp, const struct pol_where *w)
{
	if ((pol->pol_src.sel_var || pol->pol_dst.sel_var) &&
	    (pol->pol_mode != ENCAP_MODE_TRANSPORT || pi->pi_local_set ||
	    pi->pi_remote_set))
		return ctok_err_at(p, &w->pw_at, "\"me\" and \"peer\" are "
		    "for transport mode only");
	if (pol->pol_mode == ENCAP_MODE_TRANSPORT) {
		int full =
		    pol->pol_src.sel_addr.ss_family == AF_INET ? 32 : 128;

		if (pol->pol_src.sel_var == 0 && pol->pol_src.sel_plen != full)
			return ctok_err_at(p, &w->pw_src, "transport mode "
			    "needs host addresses, not a /%u prefix",
			    pol->pol_src.sel_plen);
		full = pol->pol_dst.sel_addr.ss_family == AF_INET ? 32 : 128;
		if (pol->pol_dst.sel_var == 0 && pol->pol_dst.sel_plen != full)
			return ctok_err_at(p, &w->pw_dst, "transport mode "
			    "needs host addresses, not a /%u prefix",
			    pol->pol_dst.sel_plen);
		if (pi->pi_local_set || pi->pi_remote_set)
			return ctok_err_at(p, &w->pw_at, "\"local\" and "
			    "\"remote\" are tunnel endpoints: not for "
			    "transport mode");
	}
	if ((pol->pol_src.sel_port || pol->pol_dst.sel_port) &&
	    pol->pol_ulproto != IPPROTO_TCP &&
	    pol->pol_ulproto != IPPROTO_UDP &&
	    pol->pol_ulproto != IPPROTO_SCTP)
		return ctok_err_at(p, &w->pw_port, "a port needs \"proto "
		    "tcp\", \"proto udp\" or \"proto sctp\"");
	if (pi->pi_local_set && pi->pi_remote_set &&
	    pol->pol_tun_local.ss_family != pol->pol_tun_remote.ss_family)
		return ctok_err_at(p, &w->pw_at, "tunnel endpoints \"local\" "
		    "and \"remote\" differ in address family");
	if (pol->pol_nsuites == 0) {
		const struct kink_suite *d = esp ? default_esp : default_ah;
		size_t n = esp ? sizeof(default_esp) / sizeof(default_esp[0]) :
		    sizeof(default_ah) / sizeof(default_ah[0]);

		memcpy(pol->pol_suites, d, n * sizeof(*d));
		pol->pol_nsuites = (int)n;
	}
	for (int i = 0; i < pol->pol_nsuites; i++) {
		const struct kink_suite *s = &pol->pol_suites[i];

		if (esp && !s->s_esp.x_present)
			return ctok_err_at(p, &w->pw_xf, "suite %d has no "
			    "esp transform, but the policy is esp", i + 1);
		if (!esp && s->s_esp.x_present)
			return ctok_err_at(p, &w->pw_xf, "suite %d has an "
			    "esp transform, but the policy is ah", i + 1);
		/*
		 * The kernel policy's templates are fixed before anything is
		 * negotiated: a suite with another set of protocols than the
		 * first would leave the kernel wanting an SA that the
		 * negotiation never made.
		 */
		if (s->s_ah.x_present != pol->pol_suites[0].s_ah.x_present)
			return ctok_err_at(p, &w->pw_xf, "suite %d %s ah, "
			    "suite 1 %s: one policy's suites must use the "
			    "same protocols", i + 1,
			    s->s_ah.x_present ? "has" : "has no",
			    pol->pol_suites[0].s_ah.x_present ? "has" :
			    "has none");
	}
	return 0;
}

/* Append the policy to its peer, unless its name is taken there. */
static int
add_policy(struct conf_parser *p, int peer, const struct kink_policy *pol,
    struct pol_info *pi, int named, const struct conf_where *at)
{
	struct conf_peer *pe = &p->cp_conf->c_peers[peer];
	struct kink_policy *np;
	struct pol_info *npi;

	for (int i = 0; i < pe->p_npolicies; i++)
		if (strcmp(pe->p_policies[i].pol_name, pol->pol_name) == 0) {
			if (named)
				return ctok_err_at(p, at, "duplicate policy "
				    "\"%s\" in peer \"%s\"", pol->pol_name,
				    pe->p_name);
			return ctok_err_at(p, at, "policy with the same "
			    "traffic as an earlier one in peer \"%s\"",
			    pe->p_name);
		}
	if (pe->p_npolicies >= CONF_MAX_POLICIES)
		return ctok_err_at(p, at, "too many policies in peer \"%s\" "
		    "(at most %d)", pe->p_name, CONF_MAX_POLICIES);
	np = reallocarray(pe->p_policies, pe->p_npolicies + 1, sizeof(*np));
	if (np == NULL)
		return ctok_err_at(p, at, "out of memory");
	pe->p_policies = np;
	npi = reallocarray(p->cp_pols, p->cp_npols + 1, sizeof(*npi));
	if (npi == NULL)
		return ctok_err_at(p, at, "out of memory");
	p->cp_pols = npi;
	pi->pi_peer = peer;
	pi->pi_idx = pe->p_npolicies;
	pi->pi_at = *at;
	p->cp_pols[p->cp_npols++] = *pi;
	pe->p_policies[pe->p_npolicies++] = *pol;
	return 0;
}

/* policy = [ "policy" STRING ] ( "esp" | "ah" ) mode "from" .. { popt } */
static int
parse_policy(struct conf_parser *p, int peer)
{
	static const char *const protos[] = { "esp", "ah", NULL };
	static const char *const modes[] = { "transport", "tunnel", NULL };
	struct pol_where w;
	struct kink_policy pol;
	struct pol_info pi;
	int named = 0, esp, k;

	memset(&pol, 0, sizeof(pol));
	memset(&pi, 0, sizeof(pi));
	memset(&w, 0, sizeof(w));
	w.pw_at = ctok_where(p, &p->cp_tok);
	w.pw_xf = w.pw_at;
	if (ctok_is_kw(p, "policy")) {
		ctok_next(p);
		if (ctok_get_string(p, "a policy name", pol.pol_name,
		    sizeof(pol.pol_name)) == -1)
			return -1;
		named = 1;
	}
	if ((k = ctok_expect_kw(p, protos)) == -1)
		return -1;
	esp = k == 0;
	if ((k = ctok_expect_kw(p, modes)) == -1)
		return -1;
	pol.pol_mode = k == 0 ? ENCAP_MODE_TRANSPORT : ENCAP_MODE_TUNNEL;
	if (ctok_expect_kw1(p, "from") == -1 ||
	    get_selector(p, &pol.pol_src, &w.pw_src, &w.pw_port) == -1 ||
	    ctok_expect_kw1(p, "to") == -1 ||
	    get_selector(p, &pol.pol_dst, &w.pw_dst, &w.pw_port) == -1)
		return -1;
	if (pol.pol_src.sel_var == 0 && pol.pol_dst.sel_var == 0 &&
	    pol.pol_src.sel_addr.ss_family != pol.pol_dst.sel_addr.ss_family)
		return ctok_err_at(p, &w.pw_dst, "mixed address families: "
		    "\"from\" is IPv%d, \"to\" is IPv%d",
		    pol.pol_src.sel_addr.ss_family == AF_INET ? 4 : 6,
		    pol.pol_dst.sel_addr.ss_family == AF_INET ? 4 : 6);
	pol.pol_life_secs = CONF_DEF_LIFE_SECS;
	if (parse_popts(p, &pol, &pi, &w) == -1 ||
	    check_policy(p, &pol, &pi, esp, &w) == -1)
		return -1;
	if (!named)
		conf_policy_autoname(&pol, esp);
	return add_policy(p, peer, &pol, &pi, named, &w.pw_at);
}

/*
 * "responder-lifetime" ( "omit" | "send" ): whether a lowered lifetime
 * also goes to this peer as a RESPONDER-LIFETIME Notify (RFC 2407
 * 4.5.4).  omit by default: racoon2 aborts on any Notify in Quick Mode,
 * and the REPLY's SA carries the lowered lifetime anyway (RFC 4430 3.2).
 */
static int
parse_resp_life(struct conf_parser *p, struct conf_peer *pe)
{
	static const char *const kws[] = { "responder-lifetime", NULL };
	static const char *const vals[] = { "omit", "send", NULL };
	int k;

	if (ctok_expect_kw(p, kws) == -1 || (k = ctok_expect_kw(p, vals)) == -1)
		return -1;
	pe->p_resp_life = k;
	return 0;
}

/*
 * "addresses" NET { NET }: the peer is a range; its hosts are found
 * (see "find") and each becomes a learned peer.
 */
static int
parse_ranges(struct conf_parser *p, struct conf_peer *pe)
{
	struct kink_selector sel;
	struct conf_where at;

	ctok_next(p);
	do {
		at = ctok_where(p, &p->cp_tok);
		memset(&sel, 0, sizeof(sel));
		if (ctok_get_net(p, &sel) == -1)
			return -1;
		if (pe->p_nranges >= CONF_MAX_PEER_ADDRS)
			return ctok_err_at(p, &at, "too many address ranges "
			    "(at most %d)", CONF_MAX_PEER_ADDRS);
		for (int i = 0; i < pe->p_nranges; i++)
			if (pe->p_ranges[i].sel_plen == sel.sel_plen &&
			    addr_eq(addr_sa(&pe->p_ranges[i].sel_addr),
			    addr_sa(&sel.sel_addr)))
				return ctok_err_at(p, &at, "address range "
				    "given twice");
		pe->p_ranges[pe->p_nranges++] = sel;
	} while (p->cp_tok.t_type == CT_WORD);
	return 0;
}

/* "find" ( "dns" | "pattern" STRING | "file" STRING ) */
static int
parse_find(struct conf_parser *p, struct conf_peer *pe)
{
	static const char *const kws[] = { "dns", "pattern", "file", NULL };
	int k;

	ctok_next(p);
	if ((k = ctok_expect_kw(p, kws)) == -1)
		return -1;
	pe->p_find = (enum conf_find)(k + CONF_FIND_DNS);
	free(pe->p_find_arg);
	pe->p_find_arg = NULL;
	if (k == 0)
		return 0;
	return ctok_get_dup_string(p, k == 1 ? "a host name pattern" :
	    "a file name", &pe->p_find_arg);
}

/* A range peer's own rules, at its closing brace. */
static void
check_range_peer(struct conf_parser *p, struct conf_peer *pe,
    const struct conf_where *at)
{
	int var = 0;

	for (int i = 0; i < pe->p_npolicies; i++)
		if (pe->p_policies[i].pol_src.sel_var ||
		    pe->p_policies[i].pol_dst.sel_var)
			var = 1;
	if (pe->p_nranges == 0) {
		if (var)
			ctok_err_at(p, at, "peer \"%s\": \"me\" and \"peer\" "
			    "need \"addresses\" (a range peer)", pe->p_name);
		else if (pe->p_find != 0)
			ctok_err_at(p, at, "peer \"%s\": \"find\" needs "
			    "\"addresses\" (a range peer)", pe->p_name);
		return;
	}
	if (pe->p_naddrs > 0)
		ctok_err_at(p, at, "peer \"%s\": \"address\" and "
		    "\"addresses\" do not mix (a range peer's hosts are found)",
		    pe->p_name);
	if (pe->p_principal != NULL && strstr(pe->p_principal, "%{host}") ==
	    NULL)
		ctok_err_at(p, at, "peer \"%s\": a range peer's principal "
		    "needs %%{host}, like \"kink/%%{host}@REALM\"", pe->p_name);
	if (pe->p_find == 0)
		pe->p_find = CONF_FIND_DNS;
}

/* pstmt = "principal" STRING | "address" ADDR | ... | policy */
static int
parse_pstmt(struct conf_parser *p, int peer)
{
	static const char *const kws[] = {
		"principal", "address", "local", "prf", "u2u", "policy",
		"esp", "ah", "addresses", "find", "responder-lifetime", NULL
	};
	static const char *const prfs[] = { "rfc3961", "mit", NULL };
	static const char *const u2us[] = { "deny", "allow", NULL };
	struct kink_conf *c = p->cp_conf;
	struct conf_peer *pe = &c->c_peers[peer];
	struct sockaddr_storage ss;
	struct conf_where at;
	int k;

	for (k = 5; k < 8; k++)
		if (ctok_is_kw(p, kws[k]))
			return parse_policy(p, peer);
	if (ctok_is_kw(p, "responder-lifetime"))
		return parse_resp_life(p, pe);
	if (ctok_is_kw(p, "addresses"))
		return parse_ranges(p, pe);
	if (ctok_is_kw(p, "find"))
		return parse_find(p, pe);
	switch (ctok_expect_kw(p, kws)) {
	case 0:
		p->cp_peers[peer].pe_principal_at = ctok_where(p, &p->cp_tok);
		return ctok_get_dup_string(p, "a principal", &pe->p_principal);
	case 1:
		at = ctok_where(p, &p->cp_tok);
		if (ctok_get_addr(p, &ss) == -1)
			return -1;
		for (int i = 0; i < c->c_npeers; i++)
			for (int j = 0; j < c->c_peers[i].p_naddrs; j++)
				if (addr_eq(addr_sa(&c->c_peers[i].p_addrs[j]),
				    addr_sa(&ss)))
					return ctok_err_at(p, &at,
					    "address already "
					    "given for peer \"%s\"",
					    c->c_peers[i].p_name);
		if (pe->p_naddrs >= CONF_MAX_PEER_ADDRS)
			return ctok_err_at(p, &at,
			    "too many addresses (at most "
			    "%d)", CONF_MAX_PEER_ADDRS);
		pe->p_addrs[pe->p_naddrs++] = ss;
		return 0;
	case 2:
		return ctok_get_addr(p, &pe->p_local);
	case 3:
		if ((k = ctok_expect_kw(p, prfs)) == -1)
			return -1;
		pe->p_prf = (enum conf_prf)k;
		return 0;
	case 4:
		if ((k = ctok_expect_kw(p, u2us)) == -1)
			return -1;
		pe->p_u2u = k;
		return 0;
	}
	return -1;
}

static int
stmt_keyword(const struct conf_parser *p)
{
	return ctok_is_kw(p, "peer") || ctok_is_kw(p, "transforms") ||
	    ctok_is_kw(p, "listen") || ctok_is_kw(p, "set") || ctok_is_kw(p,
	    "include");
}

/* peer = "peer" STRING "{" { [ pstmt ] NL } "}" */
static int
parse_peer(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct conf_peer *pe, *npe;
	struct peer_info *ni;
	struct conf_where at, open;
	char name[CONF_MAX_STRING + 1];
	int idx, dup = 0, r = 0;

	ctok_next(p);
	at = ctok_where(p, &p->cp_tok);
	if (ctok_get_string(p, "a peer name", name, sizeof(name)) == -1)
		return -1;
	if (conf_peer_by_name(c, name)) {
		ctok_err_at(p, &at, "duplicate peer \"%s\"", name);
		dup = 1;
	}
	open = ctok_where(p, &p->cp_tok);
	if (ctok_expect_type(p, CT_LBRACE, "\"{\"") == -1)
		return -1;
	if (c->c_npeers >= CONF_MAX_PEERS)
		return ctok_err_at(p, &at, "too many peers (at most %d)",
		    CONF_MAX_PEERS);
	npe = reallocarray(c->c_peers, c->c_npeers + 1, sizeof(*npe));
	if (npe == NULL)
		return ctok_err_at(p, &at, "out of memory");
	c->c_peers = npe;
	ni = reallocarray(p->cp_peers, c->c_npeers + 1, sizeof(*ni));
	if (ni == NULL)
		return ctok_err_at(p, &at, "out of memory");
	p->cp_peers = ni;
	idx = c->c_npeers++;
	pe = &c->c_peers[idx];
	memset(pe, 0, sizeof(*pe));
	memset(&ni[idx], 0, sizeof(ni[idx]));
	ni[idx].pe_at = at;
	if ((pe->p_name = strdup(name)) == NULL)
		return ctok_err_at(p, &at, "out of memory");
	for (;;) {
		if (p->cp_tok.t_type == CT_NL || p->cp_tok.t_type == CT_COMMA) {
			ctok_next(p);
			continue;
		}
		if (p->cp_tok.t_type == CT_RBRACE) {
			ctok_next(p);
			break;
		}
		if (p->cp_tok.t_type == CT_EOF || stmt_keyword(p)) {
			char got[128];

			ctok_describe(&p->cp_tok, got, sizeof(got));
			ctok_err_tok(p, "expected \"}\" to close peer \"%s\" "
			    "(line %d), got %s", name, open.w_line, got);
			r = 1;	/* the next statement starts here */
			break;
		}
		if (parse_pstmt(p, idx) == -1)
			recover(p, 1);
		else if (p->cp_tok.t_type != CT_NL &&
		    p->cp_tok.t_type != CT_COMMA &&
		    p->cp_tok.t_type != CT_RBRACE &&
		    p->cp_tok.t_type != CT_EOF) {
			ctok_err_expected1(p, "newline");
			recover(p, 1);
		}
	}
	/* Nothing else can refer to a peer yet, so a bad one is dropped. */
	pe = &c->c_peers[idx];
	if (pe->p_principal == NULL && !dup)
		ctok_err_at(p, &at, "peer \"%s\" has no principal", name);
	if (!dup)
		check_range_peer(p, pe, &at);
	if (dup) {
		/* Keep the arrays parallel; finish() skips dropped peers. */
		free(pe->p_name);
		pe->p_name = NULL;
	}
	return r;
}

/*
 * stmt = include | macro | set | listen | xforms | peer
 * 0 ok, -1 error (not yet recovered), 1 ok and the current token already
 * starts the next statement (an unclosed peer block).
 */
static int
parse_stmt(struct conf_parser *p)
{
	static const char *const kws[] = {
		"include", "set", "listen", "transforms", "peer", NULL
	};

	if (p->cp_tok.t_type == CT_WORD && ctok_peek(p)->t_type == CT_EQ)
		return parse_macro(p);
	if (ctok_is_kw(p, "include"))
		return parse_include(p);
	if (ctok_is_kw(p, "set"))
		return parse_set(p);
	if (ctok_is_kw(p, "listen"))
		return parse_listen(p);
	if (ctok_is_kw(p, "transforms"))
		return conf_parse_xforms(p);
	if (ctok_is_kw(p, "peer"))
		return parse_peer(p);
	return ctok_err_expected(p, kws, "a macro definition");
}

/* config = { [ stmt ] NL } EOF */
static void
parse_config(struct conf_parser *p)
{
	int r;

	ctok_next(p);
	while (p->cp_tok.t_type != CT_EOF) {
		if (p->cp_tok.t_type == CT_NL) {
			ctok_next(p);
			continue;
		}
		if ((r = parse_stmt(p)) == -1)
			recover(p, 0);
		else if (r == 0 && p->cp_tok.t_type != CT_NL &&
		    p->cp_tok.t_type != CT_EOF) {
			ctok_err_expected1(p, "newline");
			recover(p, 0);
		}
	}
}

static void
parse_file_buf(struct conf_parser *p, const char *name, const char *buf,
    size_t len)
{
	struct conf_lex lx, *olx = p->cp_lx;
	struct conf_token *save;
	int havepeek = p->cp_havepeek;

	/* The includer's current and peeked tokens survive the include. */
	if ((save = malloc(2 * sizeof(*save))) == NULL) {
		conf_err(p->cp_errs, name, 0, 0, "out of memory");
		return;
	}
	save[0] = p->cp_tok;
	save[1] = p->cp_peek;
	p->cp_havepeek = 0;
	conf_lex_init(&lx, name, buf, len, &p->cp_macros, p->cp_errs);
	p->cp_lx = &lx;
	parse_config(p);
	p->cp_lx = olx;
	p->cp_tok = save[0];
	p->cp_peek = save[1];
	p->cp_havepeek = havepeek;
	free(save);
}

static const char *
keep_name(struct conf_parser *p, const char *name)
{
	char **n, *s;

	if ((s = strdup(name)) == NULL)
		return NULL;
	if ((n = reallocarray(p->cp_names, p->cp_nnames + 1,
	    sizeof(*n))) == NULL) {
		free(s);
		return NULL;
	}
	p->cp_names = n;
	p->cp_names[p->cp_nnames++] = s;
	return s;
}

/*
 * Open, check and parse one file.  `inc` is where the include statement
 * was (NULL for the top file): errors about opening go there.
 */
static void
parse_path(struct conf_parser *p, const char *path,
    const struct conf_where *inc)
{
	struct conf_where top = { path, 0, 0 };
	const struct conf_where *at = inc ? inc : &top;
	const char *name;
	struct stat st;
	char *buf = NULL;
	size_t off = 0;
	ssize_t r;
	int fd;

	if (p->cp_depth > CONF_INCLUDE_DEPTH) {
		ctok_err_at(p, at, "includes nested deeper than %d",
		    CONF_INCLUDE_DEPTH);
		return;
	}
	/* O_NONBLOCK: a FIFO must not hang the daemon; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		ctok_err_at(p, at, "%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		ctok_err_at(p, at, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ctok_err_at(p, at, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ctok_err_at(p, at, "%s: group or world writable, refusing it",
		    path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		ctok_err_at(p, at, "%s: owned by uid %u, not root or uid %u, "
		    "refusing it", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	for (int i = 0; i < p->cp_depth; i++)
		if (p->cp_dev[i] == st.st_dev && p->cp_ino[i] == st.st_ino) {
			ctok_err_at(p, at, "%s: include cycle", path);
			goto out;
		}
	if (st.st_size > CONF_MAX_FILE) {
		ctok_err_at(p, at, "%s: larger than %d bytes", path,
		    CONF_MAX_FILE);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		ctok_err_at(p, at, "%s: out of memory", path);
		goto out;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			ctok_err_at(p, at, "%s: %s", path,
			    r == 0 ? "file shrank while read" : strerror(errno));
			goto out;
		}
		off += (size_t)r;
	}
	if ((name = keep_name(p, path)) == NULL) {
		ctok_err_at(p, at, "out of memory");
		goto out;
	}
	p->cp_dev[p->cp_depth] = st.st_dev;
	p->cp_ino[p->cp_depth] = st.st_ino;
	p->cp_depth++;
	parse_file_buf(p, name, buf, off);
	p->cp_depth--;
out:
	free(buf);
	close(fd);
}

/* ---------------------------------------------------------------- */
/* API */

static int
parser_init(struct conf_parser *p, const struct conf_macro *defines,
    struct conf_errors *errs)
{
	memset(p, 0, sizeof(*p));
	memset(errs, 0, sizeof(*errs));
	p->cp_errs = errs;
	if ((p->cp_conf = conf_new_defaults()) == NULL) {
		conf_err(errs, "conf", 0, 0, "out of memory");
		return -1;
	}
	for (int i = 0; defines && defines[i].cm_name; i++) {
		const char *n = defines[i].cm_name, *v = defines[i].cm_value;

		if (!macro_name_ok(n))
			conf_err(errs, "-D", 0, 0, "bad macro name \"%.64s\"",
			    n);
		else if (v == NULL || strlen(v) > CONF_MAX_STRING)
			conf_err(errs, "-D", 0, 0, "bad value for macro "
			    "\"%s\"", n);
		else if (macro_set(&p->cp_macros, n, v, 1) == -1)
			conf_err(errs, "-D", 0, 0, "too many macros");
	}
	return 0;
}

static struct kink_conf *
parser_done(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;

	if (!p->cp_errs->ce_truncated)
		conf_check_finish(p);
	for (int i = 0; i < p->cp_macros.m_n; i++) {
		free(p->cp_macros.m_name[i]);
		free(p->cp_macros.m_value[i]);
	}
	for (int i = 0; i < p->cp_nnames; i++)
		free(p->cp_names[i]);
	free(p->cp_names);
	free(p->cp_listen);
	free(p->cp_peers);
	free(p->cp_pols);
	if (p->cp_errs->ce_count || p->cp_errs->ce_truncated) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct kink_conf *
conf_load(const char *path, const struct conf_macro *defines,
    struct conf_errors *errs)
{
	struct conf_parser p;

	if (parser_init(&p, defines, errs) == -1)
		return NULL;
	if (errs->ce_count == 0)
		parse_path(&p, path, NULL);
	return parser_done(&p);
}

struct kink_conf *
conf_parse_buf(const char *name, const char *buf, size_t len,
    const struct conf_macro *defines, struct conf_errors *errs)
{
	struct conf_parser p;
	const char *n;

	if (parser_init(&p, defines, errs) == -1)
		return NULL;
	if (errs->ce_count == 0) {
		if ((n = keep_name(&p, name)) == NULL)
			conf_err(errs, name, 0, 0, "out of memory");
		else if (len > CONF_MAX_FILE)
			conf_err(errs, name, 0, 0, "larger than %d bytes",
			    CONF_MAX_FILE);
		else
			parse_file_buf(&p, n, buf, len);
	}
	return parser_done(&p);
}
