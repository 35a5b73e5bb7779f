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
 *            | "backend" ( "auto" | "pfkey" | "xfrm" | "null" )
 *            | "on-shutdown" ( "flush" | "keep" )
 *            | "max-xact-peer" NUM | "max-xact" NUM
 *            | "socket" STRING | "user" STRING | "verbose" NUM ) .
 *   listen   = "listen" "on" ADDR [ "port" NUM ] .
 *   xforms   = "transforms" STRING "{" suites "}" .
 *   suites   = { [ suite ] ( NL | "," ) } .            (at least one suite)
 *   suite    = xform { xform } .                       (each protocol once)
 *   xform    = "esp" "enc" ENC [ "auth" AUTH ] | "ah" "auth" AUTH .
 *   peer     = "peer" STRING "{" { [ pstmt ] ( NL | "," ) } "}" .
 *   pstmt    = "principal" STRING | "address" ADDR | "local" ADDR
 *            | "prf" ( "rfc3961" | "mit" ) | "u2u" ( "allow" | "deny" )
 *            | policy .
 *   policy   = [ "policy" STRING ] ( "esp" | "ah" ) ( "transport" | "tunnel" )
 *              "from" NET [ "port" NUM ] "to" NET [ "port" NUM ] { popt } .
 *   popt     = "proto" PROTO | "transforms" ( STRING | "{" suites "}" )
 *            | "lifetime" life { life } | "pfs" GROUP
 *            | "local" ADDR | "remote" ADDR | "reqid" NUM .
 *   life     = DUR | NUM "kbytes" .
 *   NET      = ADDR [ "/" NUM ] .   DUR = NUM [ "ms" | "s" | "m" | "h" | "d" ] .
 *
 * STRING is a "quoted string" or a bare word; keywords must be bare.
 * Checks that need the whole file (tunnel endpoints from listen addresses,
 * reqids, duplicate principals) run in finish() at the end.
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
#include "isakmp_num.h"

#define REQID_MAX	0x3fffffffU

struct conf_where {
	const char	*w_file;
	int		 w_line, w_col;
};

/* Per-policy facts the final pass needs; parallel to the policies. */
struct pol_info {
	int		 pi_peer, pi_idx;
	struct conf_where pi_at;
	int		 pi_fixed_reqid;
	int		 pi_local_set, pi_remote_set;
};

struct listen_info {
	struct conf_where li_at;
	int		 li_port_set;
};

struct peer_info {
	struct conf_where pe_at;		/* the name */
	struct conf_where pe_principal_at;
};

struct conf_parser {
	struct conf_lex		*cp_lx;
	struct conf_token	 cp_tok;	/* current token */
	struct conf_token	 cp_peek;
	int			 cp_havepeek;
	struct conf_errors	*cp_errs;
	struct kink_conf	*cp_conf;
	struct conf_macros	 cp_macros;
	/* Files being read, for cycle detection. */
	dev_t			 cp_dev[CONF_INCLUDE_DEPTH + 1];
	ino_t			 cp_ino[CONF_INCLUDE_DEPTH + 1];
	int			 cp_depth;
	char			**cp_names;	/* file names, live to the end */
	int			 cp_nnames;
	struct listen_info	*cp_listen;
	struct peer_info	*cp_peers;
	struct pol_info		*cp_pols;
	int			 cp_npols;
};

/*
 * Default ESP suites.  CBC+HMAC first: every backend installs them (Linux
 * PF_KEY, the "auto" default where af_key loads, cannot install AES-GCM),
 * and HMAC-SHA1 is what racoon2 peers can use.  GCM stays on offer for
 * peers that prefer it over XFRM.
 */
static const struct kink_suite default_esp[] = {
	{ { 1, 12, 256, 5 }, { 0, 0, 0, 0 } },	/* aes-256-cbc hmac-sha2-256 */
	{ { 1, 12, 128, 5 }, { 0, 0, 0, 0 } },	/* aes-128-cbc hmac-sha2-256 */
	{ { 1, 12, 128, 2 }, { 0, 0, 0, 0 } },	/* aes-128-cbc hmac-sha1 */
	{ { 1, 20, 256, 0 }, { 0, 0, 0, 0 } },	/* aes-256-gcm-16 */
	{ { 1, 20, 128, 0 }, { 0, 0, 0, 0 } },	/* aes-128-gcm-16 */
};
static const struct kink_suite default_ah[] = {
	{ { 0, 0, 0, 0 }, { 1, 5, 0, 5 } },	/* ah auth hmac-sha2-256 */
	{ { 0, 0, 0, 0 }, { 1, 3, 0, 2 } },	/* ah auth hmac-sha1 */
};

/* ---------------------------------------------------------------- */
/* Tokens and errors */

static int
stopped(const struct conf_parser *p)
{
	return p->cp_errs->ce_truncated;
}

static void
next(struct conf_parser *p)
{
	if (p->cp_havepeek) {
		p->cp_tok = p->cp_peek;
		p->cp_havepeek = 0;
	} else
		conf_lex_next(p->cp_lx, &p->cp_tok);
	if (stopped(p))
		p->cp_tok.t_type = CT_EOF;
}

static const struct conf_token *
peek(struct conf_parser *p)
{
	if (!p->cp_havepeek) {
		conf_lex_next(p->cp_lx, &p->cp_peek);
		p->cp_havepeek = 1;
	}
	return &p->cp_peek;
}

static void
describe(const struct conf_token *t, char *buf, size_t len)
{
	switch (t->t_type) {
	case CT_EOF:
		snprintf(buf, len, "end of file");
		break;
	case CT_NL:
		snprintf(buf, len, "newline");
		break;
	case CT_LBRACE:
		snprintf(buf, len, "\"{\"");
		break;
	case CT_RBRACE:
		snprintf(buf, len, "\"}\"");
		break;
	case CT_EQ:
		snprintf(buf, len, "\"=\"");
		break;
	case CT_COMMA:
		snprintf(buf, len, "\",\"");
		break;
	default:
		snprintf(buf, len, "\"%.64s%s\"", t->t_text,
		    strlen(t->t_text) > 64 ? "..." : "");
		break;
	}
}

static int
err_at(struct conf_parser *p, const struct conf_where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
err_at(struct conf_parser *p, const struct conf_where *w, const char *fmt, ...)
{
	char msg[CONF_MAX_STRING + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return conf_err(p->cp_errs, w->w_file, w->w_line, w->w_col, "%s", msg);
}

static struct conf_where
where(const struct conf_parser *p, const struct conf_token *t)
{
	struct conf_where w = { p->cp_lx->lx_name, t->t_line, t->t_col };

	return w;
}

/* An error about the current token. */
static int
err_tok(struct conf_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
err_tok(struct conf_parser *p, const char *fmt, ...)
{
	struct conf_where w = where(p, &p->cp_tok);
	char msg[CONF_MAX_STRING + 256];
	va_list ap;

	if (p->cp_tok.t_type == CT_ERROR)	/* already reported */
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_at(p, &w, "%s", msg);
}

/* expected "a", "b" or "c", got X */
static int
err_expected(struct conf_parser *p, const char *const *alts, const char *tail)
{
	char msg[1024], got[128];
	size_t n = 0, k;

	for (k = 0; alts[k]; k++)
		;
	n += snprintf(msg + n, sizeof(msg) - n, "expected ");
	for (size_t i = 0; alts[i] && n < sizeof(msg); i++) {
		const char *sep = i == 0 ? "" :
		    (i == k - 1 && tail == NULL) ? " or " : ", ";

		n += snprintf(msg + n, sizeof(msg) - n, "%s\"%s\"", sep,
		    alts[i]);
	}
	if (tail && n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - n, " or %s", tail);
	describe(&p->cp_tok, got, sizeof(got));
	return err_tok(p, "%s, got %s", msg, got);
}

static int
err_expected1(struct conf_parser *p, const char *what)
{
	char got[128];

	describe(&p->cp_tok, got, sizeof(got));
	return err_tok(p, "expected %s, got %s", what, got);
}

static int
is_kw(const struct conf_parser *p, const char *kw)
{
	return p->cp_tok.t_type == CT_WORD && strcmp(p->cp_tok.t_text, kw) == 0;
}

/* One of `alts`: its index, the token consumed; else an error. */
static int
expect_kw(struct conf_parser *p, const char *const *alts)
{
	for (int i = 0; alts[i]; i++)
		if (is_kw(p, alts[i])) {
			next(p);
			return i;
		}
	return err_expected(p, alts, NULL);
}

static int
expect_kw1(struct conf_parser *p, const char *kw)
{
	const char *alts[] = { kw, NULL };

	return expect_kw(p, alts);
}

static int
expect_type(struct conf_parser *p, enum conf_tok type, const char *what)
{
	if (p->cp_tok.t_type != type)
		return err_expected1(p, what);
	next(p);
	return 0;
}

/* STRING: quoted or a bare word; copied to out (size max). */
static int
get_string(struct conf_parser *p, const char *what, char *out, size_t max)
{
	if (p->cp_tok.t_type != CT_STRING && p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, what);
	if (p->cp_tok.t_text[0] == '\0')
		return err_tok(p, "%s must not be empty", what);
	if (strlen(p->cp_tok.t_text) >= max)
		return err_tok(p, "%s longer than %zu bytes", what, max - 1);
	memcpy(out, p->cp_tok.t_text, strlen(p->cp_tok.t_text) + 1);
	next(p);
	return 0;
}

static int
get_dup_string(struct conf_parser *p, const char *what, char **out)
{
	char buf[CONF_MAX_STRING + 1];
	char *s;

	if (get_string(p, what, buf, sizeof(buf)) == -1)
		return -1;
	if ((s = strdup(buf)) == NULL)
		return err_tok(p, "out of memory");
	free(*out);
	*out = s;
	return 0;
}

/* Decimal digits only, no sign, no overflow. */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int
get_num(struct conf_parser *p, const char *what, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, "a number");
	if (parse_u64(p->cp_tok.t_text, &v) == -1 || v < min || v > max)
		return err_tok(p, "bad %s \"%s\": expected a number from %llu "
		    "to %llu", what, p->cp_tok.t_text, (unsigned long long)min,
		    (unsigned long long)max);
	*out = v;
	next(p);
	return 0;
}

/* NUM [unit] into milliseconds; a bare number is seconds. */
static int
parse_dur(const char *s, uint64_t *ms)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "", 1000 },
	};
	char num[32];
	size_t n = strspn(s, "0123456789");
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(num, &v) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].u) == 0) {
			if (v > UINT64_MAX / units[i].ms)
				return -1;
			*ms = v * units[i].ms;
			return 0;
		}
	return -1;
}

static int
get_dur(struct conf_parser *p, const char *what, uint64_t min_ms,
    uint64_t max_ms, const char *range, uint64_t *out)
{
	uint64_t v;

	if (p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, "a duration");
	if (parse_dur(p->cp_tok.t_text, &v) == -1)
		return err_tok(p, "bad duration \"%s\": expected a number with "
		    "unit ms, s, m, h or d", p->cp_tok.t_text);
	if (v < min_ms || v > max_ms)
		return err_tok(p, "bad %s \"%s\": expected %s", what,
		    p->cp_tok.t_text, range);
	*out = v;
	next(p);
	return 0;
}

static int
get_addr(struct conf_parser *p, struct sockaddr_storage *ss)
{
	if (p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, "an IPv4 or IPv6 address");
	if (addr_parse(p->cp_tok.t_text, ss) == -1)
		return err_tok(p, "bad address \"%s\"", p->cp_tok.t_text);
	next(p);
	return 0;
}

/* NET = ADDR [ "/" NUM ], no host bits set. */
static int
get_net(struct conf_parser *p, struct kink_selector *sel)
{
	char buf[CONF_MAX_STRING + 1], *slash;
	uint64_t plen;
	size_t len;
	const uint8_t *b;
	int full;

	if (p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, "an address or prefix");
	memcpy(buf, p->cp_tok.t_text, sizeof(buf));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &sel->sel_addr) == -1)
		return err_tok(p, "bad address \"%s\"", buf);
	full = sel->sel_addr.ss_family == AF_INET ? 32 : 128;
	plen = (uint64_t)full;
	if (slash && (parse_u64(slash, &plen) == -1 || plen > (uint64_t)full))
		return err_tok(p, "bad prefix length \"/%s\" for an IPv%d "
		    "address", slash, full == 32 ? 4 : 6);
	sel->sel_plen = (uint8_t)plen;
	b = addr_bytes(addr_sa(&sel->sel_addr), &len);
	for (size_t i = 0; i < len; i++) {
		size_t bit = i * 8;
		uint8_t mask = bit >= plen ? 0xff :
		    bit + 8 <= plen ? 0 : (uint8_t)(0xff >> (plen - bit));

		if (b[i] & mask)
			return err_tok(p, "\"%s\" has host bits set beyond "
			    "/%u", p->cp_tok.t_text, (unsigned)plen);
	}
	next(p);
	return 0;
}

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
		next(p);
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
	struct conf_where at = where(p, &p->cp_tok);

	memcpy(name, p->cp_tok.t_text, sizeof(name));
	if (p->cp_tok.t_macro || !macro_name_ok(name))
		return err_tok(p, "bad macro name \"%s\": expected letters, "
		    "digits and _", name);
	next(p);
	next(p);	/* "=" */
	if (p->cp_tok.t_type != CT_STRING && p->cp_tok.t_type != CT_WORD)
		return err_expected1(p, "a value");
	memcpy(value, p->cp_tok.t_text, sizeof(value));
	next(p);
	if (macro_set(&p->cp_macros, name, value, 0) == -1)
		return err_at(p, &at, "too many macros (at most %d)",
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

	next(p);
	at = where(p, &p->cp_tok);
	if (get_string(p, "a file name", name, sizeof(name)) == -1)
		return -1;
	if (p->cp_tok.t_type != CT_NL && p->cp_tok.t_type != CT_EOF)
		return err_expected1(p, "newline");
	slash = strrchr(cur, '/');
	if (name[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cur),
		    cur, name);
	parse_path(p, path, &at);
	return 0;
}

/* set = "set" ( ... ) */
static int
parse_set(struct conf_parser *p)
{
	static const char *const kws[] = {
		"principal", "keytab", "port", "retransmit", "dead-peer",
		"delete-grace", "reply-cache", "backend", "on-shutdown",
		"max-xact-peer", "max-xact", "socket", "user", "verbose", NULL
	};
	static const char *const backends[] = {
		"auto", "pfkey", "xfrm", "null", NULL
	};
	static const char *const shutdowns[] = { "flush", "keep", NULL };
	struct kink_conf *c = p->cp_conf;
	uint64_t v, v2;
	int k;

	next(p);
	switch (expect_kw(p, kws)) {
	case 0:
		return get_dup_string(p, "a principal", &c->c_principal);
	case 1:
		return get_dup_string(p, "a file name", &c->c_keytab);
	case 2:
		if (get_num(p, "port", 1, 65535, &v) == -1)
			return -1;
		c->c_port = (uint16_t)v;
		return 0;
	case 3:
		if (get_dur(p, "retransmit interval", 1, 60000,
		    "1ms to 1m", &v) == -1)
			return -1;
		c->c_retrans_ms = (uint32_t)v;
		if (c->c_retrans_max_ms < c->c_retrans_ms)
			c->c_retrans_max_ms = c->c_retrans_ms;
		if (is_kw(p, "max")) {
			struct conf_where at;

			next(p);
			at = where(p, &p->cp_tok);
			if (get_dur(p, "retransmit max", 1, 3600000,
			    "1ms to 1h", &v2) == -1)
				return -1;
			if (v2 < v)
				return err_at(p, &at, "retransmit max is "
				    "shorter than the first interval");
			c->c_retrans_max_ms = (uint32_t)v2;
		}
		if (is_kw(p, "tries")) {
			next(p);
			if (get_num(p, "tries", 1, 100, &v) == -1)
				return -1;
			c->c_retrans_tries = (uint32_t)v;
		}
		return 0;
	case 4:
		if (get_dur(p, "dead-peer interval", 0, 86400000,
		    "0 (off) to 1d", &v) == -1)
			return -1;
		c->c_deadpeer_ms = (uint32_t)v;
		return 0;
	case 5:
		if (get_dur(p, "delete-grace", 0, 3600000, "0 to 1h", &v) == -1)
			return -1;
		c->c_delgrace_ms = (uint32_t)v;
		return 0;
	case 6:
		if (get_dur(p, "reply-cache", 1000, 3600000, "1s to 1h",
		    &v) == -1)
			return -1;
		c->c_replycache_ms = (uint32_t)v;
		return 0;
	case 7:
		if ((k = expect_kw(p, backends)) == -1)
			return -1;
		c->c_backend = (enum conf_backend)k;
		return 0;
	case 8:
		if ((k = expect_kw(p, shutdowns)) == -1)
			return -1;
		c->c_shutdown = (enum conf_shutdown)k;
		return 0;
	case 9:
		if (get_num(p, "max-xact-peer", 1, 100000, &v) == -1)
			return -1;
		c->c_max_xact_peer = (uint32_t)v;
		return 0;
	case 10:
		if (get_num(p, "max-xact", 1, 1000000, &v) == -1)
			return -1;
		c->c_max_xact = (uint32_t)v;
		return 0;
	case 11:
		return get_dup_string(p, "a socket path", &c->c_socket);
	case 12:
		return get_dup_string(p, "a user name", &c->c_user);
	case 13:
		if (get_num(p, "verbose", 0, 3, &v) == -1)
			return -1;
		c->c_verbose = (int)v;
		return 0;
	}
	return -1;
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

	next(p);
	if (expect_kw1(p, "on") == -1)
		return -1;
	at = where(p, &p->cp_tok);
	if (get_addr(p, &ss) == -1)
		return -1;
	if (is_kw(p, "port")) {
		next(p);
		if (get_num(p, "port", 1, 65535, &port) == -1)
			return -1;
	}
	if (c->c_nlisten >= CONF_MAX_LISTEN)
		return err_tok(p, "too many listen addresses (at most %d)",
		    CONF_MAX_LISTEN);
	nl = reallocarray(c->c_listen, c->c_nlisten + 1, sizeof(*nl));
	if (nl == NULL)
		return err_tok(p, "out of memory");
	c->c_listen = nl;
	np = reallocarray(p->cp_listen, c->c_nlisten + 1, sizeof(*np));
	if (np == NULL)
		return err_tok(p, "out of memory");
	p->cp_listen = np;
	addr_set_port(&ss, (uint16_t)port);
	np[c->c_nlisten].li_port_set = port != 0;
	np[c->c_nlisten].li_at = at;
	c->c_listen[c->c_nlisten++].l_addr = ss;
	return 0;
}

static const char *const enc_names_hint =
    "aes-128-gcm-16, aes-192-gcm-16, aes-256-gcm-16, aes-128-cbc, "
    "aes-192-cbc, aes-256-cbc, 3des or null";
static const char *const auth_names_hint =
    "hmac-md5, hmac-sha1, hmac-sha2-256, hmac-sha2-384 or hmac-sha2-512";

static const struct conf_auth *
get_auth(struct conf_parser *p)
{
	for (const struct conf_auth *a = conf_auths; a->a_name; a++)
		if (is_kw(p, a->a_name)) {
			next(p);
			return a;
		}
	{
		char got[128];

		describe(&p->cp_tok, got, sizeof(got));
		err_tok(p, "expected an authentication algorithm (%s), got %s",
		    auth_names_hint, got);
	}
	return NULL;
}

/* suite = xform { xform } */
static int
parse_suite(struct conf_parser *p, struct kink_suite *s)
{
	static const char *const protos[] = { "esp", "ah", NULL };
	const struct conf_auth *a;
	int k, n = 0;

	memset(s, 0, sizeof(*s));
	while (n == 0 || is_kw(p, "esp") || is_kw(p, "ah")) {
		struct conf_where at = where(p, &p->cp_tok);

		if ((k = expect_kw(p, protos)) == -1)
			return -1;
		n++;
		if ((k == 0 && s->s_esp.x_present) ||
		    (k == 1 && s->s_ah.x_present))
			return err_at(p, &at, "\"%s\" given twice in one "
			    "suite", protos[k]);
		if (k == 0) {
			const struct conf_enc *e;
			struct conf_where eat;

			if (expect_kw1(p, "enc") == -1)
				return -1;
			eat = where(p, &p->cp_tok);
			for (e = conf_encs; e->e_name; e++)
				if (is_kw(p, e->e_name))
					break;
			if (e->e_name == NULL) {
				char got[128];

				describe(&p->cp_tok, got, sizeof(got));
				return err_tok(p, "expected an encryption "
				    "algorithm (%s), got %s", enc_names_hint,
				    got);
			}
			next(p);
			s->s_esp.x_present = 1;
			s->s_esp.x_id = e->e_id;
			s->s_esp.x_keylen = e->e_keylen;
			if (is_kw(p, "auth")) {
				if (e->e_aead)
					return err_tok(p, "%s is a combined "
					    "mode cipher: no \"auth\" with it",
					    e->e_name);
				next(p);
				if ((a = get_auth(p)) == NULL)
					return -1;
				s->s_esp.x_auth = a->a_attr;
			} else if (!e->e_aead)
				return err_at(p, &eat, "esp enc %s needs "
				    "\"auth\"", e->e_name);
		} else {
			if (expect_kw1(p, "auth") == -1)
				return -1;
			if ((a = get_auth(p)) == NULL)
				return -1;
			s->s_ah.x_present = 1;
			s->s_ah.x_id = a->a_ah_id;
			s->s_ah.x_auth = a->a_attr;
		}
	}
	return 0;
}

/* suites = { [ suite ] ( NL | "," ) } up to the closing "}" (consumed). */
static int
parse_suites(struct conf_parser *p, struct kink_suite *suites, int *n,
    const struct conf_where *open)
{
	int bad = 0;

	*n = 0;
	for (;;) {
		if (p->cp_tok.t_type == CT_NL || p->cp_tok.t_type == CT_COMMA) {
			next(p);
			continue;
		}
		if (p->cp_tok.t_type == CT_RBRACE) {
			next(p);
			break;
		}
		if (p->cp_tok.t_type == CT_EOF)
			return err_expected1(p, "\"}\"");
		if (*n >= POL_MAX_SUITES) {
			err_tok(p, "more than %d suites", POL_MAX_SUITES);
			bad = 1;
		} else if (parse_suite(p, &suites[*n]) == -1)
			bad = 1;
		else {
			(*n)++;
			if (p->cp_tok.t_type == CT_NL ||
			    p->cp_tok.t_type == CT_COMMA ||
			    p->cp_tok.t_type == CT_RBRACE)
				continue;
			err_expected1(p, "\",\", newline or \"}\"");
			bad = 1;
		}
		/* Skip the rest of this suite. */
		while (p->cp_tok.t_type != CT_NL &&
		    p->cp_tok.t_type != CT_COMMA &&
		    p->cp_tok.t_type != CT_RBRACE && p->cp_tok.t_type != CT_EOF)
			next(p);
	}
	if (bad)
		return -1;
	if (*n == 0)
		return err_at(p, open, "no transforms between \"{\" and \"}\"");
	return 0;
}

static struct conf_xform_set *
xset_find(const struct kink_conf *c, const char *name)
{
	for (int i = 0; i < c->c_nxsets; i++)
		if (strcmp(c->c_xsets[i].xs_name, name) == 0)
			return &c->c_xsets[i];
	return NULL;
}

/* xforms = "transforms" STRING "{" suites "}" */
static int
parse_xforms(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct conf_xform_set xs, *nx;
	struct conf_where at, open;

	memset(&xs, 0, sizeof(xs));
	next(p);
	at = where(p, &p->cp_tok);
	if (get_string(p, "a transform set name", xs.xs_name,
	    sizeof(xs.xs_name)) == -1)
		return -1;
	open = where(p, &p->cp_tok);
	if (expect_type(p, CT_LBRACE, "\"{\"") == -1)
		return -1;
	if (parse_suites(p, xs.xs_suites, &xs.xs_nsuites, &open) == -1)
		return 0;	/* errors reported, block consumed */
	if (xset_find(c, xs.xs_name))
		return err_at(p, &at, "duplicate transform set \"%s\"",
		    xs.xs_name);
	if (c->c_nxsets >= CONF_MAX_XFORM_SETS)
		return err_at(p, &at, "too many transform sets (at most %d)",
		    CONF_MAX_XFORM_SETS);
	nx = reallocarray(c->c_xsets, c->c_nxsets + 1, sizeof(*nx));
	if (nx == NULL)
		return err_at(p, &at, "out of memory");
	c->c_xsets = nx;
	c->c_xsets[c->c_nxsets++] = xs;
	return 0;
}

static uint32_t
fnv1a(uint32_t h, const void *v, size_t len)
{
	const uint8_t *b = v;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619U;
	}
	return h;
}

uint32_t
conf_reqid(const char *peer, const char *policy)
{
	uint32_t h = 2166136261U;

	h = fnv1a(h, peer, strlen(peer) + 1);
	h = fnv1a(h, policy, strlen(policy));
	return h % REQID_MAX + 1;
}

static uint32_t
hash_sel(uint32_t h, struct kink_selector *sel)
{
	/* Byte by byte, so names do not depend on the host's byte order. */
	uint8_t v[3] = { sel->sel_plen, (uint8_t)(sel->sel_port >> 8),
	    (uint8_t)sel->sel_port };
	size_t len;
	const uint8_t *b = addr_bytes(addr_sa(&sel->sel_addr), &len);

	h = fnv1a(h, b, len);
	return fnv1a(h, v, sizeof(v));
}

/* An unnamed policy is named after its traffic, so the name (and with it
 * the reqid) stays put when other policies are added or removed. */
static void
auto_name(struct kink_policy *pol, int esp)
{
	uint32_t h = 2166136261U;
	uint8_t v[3] = { pol->pol_mode, pol->pol_ulproto, (uint8_t)esp };

	h = fnv1a(h, v, sizeof(v));
	h = hash_sel(h, &pol->pol_src);
	h = hash_sel(h, &pol->pol_dst);
	snprintf(pol->pol_name, sizeof(pol->pol_name), "p%08x", h);
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
		if (is_kw(p, protos[i].n)) {
			*out = protos[i].v;
			next(p);
			return 0;
		}
	if (p->cp_tok.t_type == CT_WORD &&
	    parse_u64(p->cp_tok.t_text, &v) == 0 && v <= 255) {
		*out = (uint8_t)v;
		next(p);
		return 0;
	}
	return err_expected1(p, "a protocol (tcp, udp, icmp, ipv6-icmp, sctp, "
	    "any or a number up to 255)");
}

static int
get_selector(struct conf_parser *p, struct kink_selector *sel,
    struct conf_where *at, struct conf_where *port_at)
{
	uint64_t v;

	*at = where(p, &p->cp_tok);
	if (get_net(p, sel) == -1)
		return -1;
	if (is_kw(p, "port")) {
		next(p);
		*port_at = where(p, &p->cp_tok);
		if (get_num(p, "port", 1, 65535, &v) == -1)
			return -1;
		sel->sel_port = (uint16_t)v;
	}
	return 0;
}

/* policy = [ "policy" STRING ] ( "esp" | "ah" ) mode "from" .. { popt } */
static int
parse_policy(struct conf_parser *p, int peer)
{
	static const char *const protos[] = { "esp", "ah", NULL };
	static const char *const modes[] = { "transport", "tunnel", NULL };
	static const char *const popts[] = {
		"proto", "transforms", "lifetime", "pfs", "local", "remote",
		"reqid", NULL
	};
	struct conf_peer *pe = &p->cp_conf->c_peers[peer];
	struct conf_where at = where(p, &p->cp_tok), src_at, dst_at, port_at;
	struct conf_where xf_at;
	struct kink_policy pol, *np;
	struct pol_info pi, *npi;
	int named = 0, esp, k, life_set = 0;
	uint64_t v;

	memset(&pol, 0, sizeof(pol));
	memset(&pi, 0, sizeof(pi));
	memset(&port_at, 0, sizeof(port_at));
	xf_at = at;
	if (is_kw(p, "policy")) {
		next(p);
		if (get_string(p, "a policy name", pol.pol_name,
		    sizeof(pol.pol_name)) == -1)
			return -1;
		named = 1;
	}
	if ((k = expect_kw(p, protos)) == -1)
		return -1;
	esp = k == 0;
	if ((k = expect_kw(p, modes)) == -1)
		return -1;
	pol.pol_mode = k == 0 ? ENCAP_MODE_TRANSPORT : ENCAP_MODE_TUNNEL;
	if (expect_kw1(p, "from") == -1 ||
	    get_selector(p, &pol.pol_src, &src_at, &port_at) == -1 ||
	    expect_kw1(p, "to") == -1 ||
	    get_selector(p, &pol.pol_dst, &dst_at, &port_at) == -1)
		return -1;
	if (pol.pol_src.sel_addr.ss_family != pol.pol_dst.sel_addr.ss_family)
		return err_at(p, &dst_at, "mixed address families: \"from\" "
		    "is IPv%d, \"to\" is IPv%d",
		    pol.pol_src.sel_addr.ss_family == AF_INET ? 4 : 6,
		    pol.pol_dst.sel_addr.ss_family == AF_INET ? 4 : 6);
	pol.pol_life_secs = CONF_DEF_LIFE_SECS;
	while (p->cp_tok.t_type != CT_NL && p->cp_tok.t_type != CT_EOF &&
	    p->cp_tok.t_type != CT_RBRACE && p->cp_tok.t_type != CT_COMMA) {
		int opt = -1;

		for (int i = 0; popts[i]; i++)
			if (is_kw(p, popts[i]))
				opt = i;
		if (opt == -1)
			return err_expected(p, popts, "newline");
		next(p);
		switch (opt) {
		case 0:
			if (get_proto(p, &pol.pol_ulproto) == -1)
				return -1;
			break;
		case 1:
			xf_at = where(p, &p->cp_tok);
			if (p->cp_tok.t_type == CT_LBRACE) {
				struct conf_where open = xf_at;

				next(p);
				if (parse_suites(p, pol.pol_suites,
				    &pol.pol_nsuites, &open) == -1)
					return -1;
			} else {
				char name[POL_NAME_MAX];
				struct conf_xform_set *xs;

				if (get_string(p, "a transform set name or "
				    "\"{\"", name, sizeof(name)) == -1)
					return -1;
				if ((xs = xset_find(p->cp_conf, name)) == NULL)
					return err_at(p, &xf_at, "unknown "
					    "transform set \"%s\"", name);
				memcpy(pol.pol_suites, xs->xs_suites,
				    sizeof(pol.pol_suites));
				pol.pol_nsuites = xs->xs_nsuites;
			}
			break;
		case 2:
			if (!life_set) {
				pol.pol_life_secs = 0;
				pol.pol_life_kbytes = 0;
			}
			life_set = 1;
			do {
				if (p->cp_tok.t_type == CT_WORD &&
				    peek(p)->t_type == CT_WORD &&
				    strcmp(peek(p)->t_text, "kbytes") == 0) {
					if (get_num(p, "kbytes", 1, UINT32_MAX,
					    &v) == -1)
						return -1;
					next(p);	/* kbytes */
					pol.pol_life_kbytes = (uint32_t)v;
				} else {
					struct conf_where lat =
					    where(p, &p->cp_tok);

					if (get_dur(p, "lifetime", 1000,
					    (uint64_t)UINT32_MAX * 1000,
					    "at least 1s", &v) == -1)
						return -1;
					if (v % 1000)
						return err_at(p, &lat, "lifetime "
						    "must be whole seconds");
					pol.pol_life_secs = (uint32_t)(v / 1000);
				}
			} while (p->cp_tok.t_type == CT_WORD &&
			    p->cp_tok.t_text[0] >= '0' &&
			    p->cp_tok.t_text[0] <= '9');
			break;
		case 3: {
			const struct conf_group *g;

			for (g = conf_groups; g->g_name; g++)
				if (is_kw(p, g->g_name))
					break;
			if (g->g_name == NULL) {
				static const char *const gs[] = {
					"none", "modp2048", "ecp256", NULL
				};
				return err_expected(p, gs, NULL);
			}
			pol.pol_pfs_group = g->g_id;
			next(p);
			break;
		}
		case 4:
			if (get_addr(p, &pol.pol_tun_local) == -1)
				return -1;
			pi.pi_local_set = 1;
			break;
		case 5:
			if (get_addr(p, &pol.pol_tun_remote) == -1)
				return -1;
			pi.pi_remote_set = 1;
			break;
		case 6:
			if (get_num(p, "reqid", 1, REQID_MAX, &v) == -1)
				return -1;
			pol.pol_reqid = (uint32_t)v;
			pi.pi_fixed_reqid = 1;
			break;
		}
	}

	/* Checks that need the whole line. */
	if (pol.pol_mode == ENCAP_MODE_TRANSPORT) {
		int full = pol.pol_src.sel_addr.ss_family == AF_INET ? 32 : 128;

		if (pol.pol_src.sel_plen != full)
			return err_at(p, &src_at, "transport mode needs host "
			    "addresses, not a /%u prefix",
			    pol.pol_src.sel_plen);
		if (pol.pol_dst.sel_plen != full)
			return err_at(p, &dst_at, "transport mode needs host "
			    "addresses, not a /%u prefix",
			    pol.pol_dst.sel_plen);
		if (pi.pi_local_set || pi.pi_remote_set)
			return err_at(p, &at, "\"local\" and \"remote\" are "
			    "tunnel endpoints: not for transport mode");
	}
	if ((pol.pol_src.sel_port || pol.pol_dst.sel_port) &&
	    pol.pol_ulproto != IPPROTO_TCP && pol.pol_ulproto != IPPROTO_UDP &&
	    pol.pol_ulproto != IPPROTO_SCTP)
		return err_at(p, &port_at, "a port needs \"proto tcp\", "
		    "\"proto udp\" or \"proto sctp\"");
	if (pi.pi_local_set && pi.pi_remote_set &&
	    pol.pol_tun_local.ss_family != pol.pol_tun_remote.ss_family)
		return err_at(p, &at, "tunnel endpoints \"local\" and "
		    "\"remote\" differ in address family");
	if (pol.pol_nsuites == 0) {
		const struct kink_suite *d = esp ? default_esp : default_ah;
		size_t n = esp ? sizeof(default_esp) / sizeof(default_esp[0]) :
		    sizeof(default_ah) / sizeof(default_ah[0]);

		memcpy(pol.pol_suites, d, n * sizeof(*d));
		pol.pol_nsuites = (int)n;
	}
	for (int i = 0; i < pol.pol_nsuites; i++) {
		const struct kink_suite *s = &pol.pol_suites[i];

		if (esp && !s->s_esp.x_present)
			return err_at(p, &xf_at, "suite %d has no esp "
			    "transform, but the policy is esp", i + 1);
		if (!esp && s->s_esp.x_present)
			return err_at(p, &xf_at, "suite %d has an esp "
			    "transform, but the policy is ah", i + 1);
	}
	if (!named)
		auto_name(&pol, esp);
	for (int i = 0; i < pe->p_npolicies; i++)
		if (strcmp(pe->p_policies[i].pol_name, pol.pol_name) == 0) {
			if (named)
				return err_at(p, &at, "duplicate policy \"%s\" "
				    "in peer \"%s\"", pol.pol_name, pe->p_name);
			return err_at(p, &at, "policy with the same traffic "
			    "as an earlier one in peer \"%s\"", pe->p_name);
		}
	if (pe->p_npolicies >= CONF_MAX_POLICIES)
		return err_at(p, &at, "too many policies in peer \"%s\" (at "
		    "most %d)", pe->p_name, CONF_MAX_POLICIES);
	np = reallocarray(pe->p_policies, pe->p_npolicies + 1, sizeof(*np));
	if (np == NULL)
		return err_at(p, &at, "out of memory");
	pe->p_policies = np;
	npi = reallocarray(p->cp_pols, p->cp_npols + 1, sizeof(*npi));
	if (npi == NULL)
		return err_at(p, &at, "out of memory");
	p->cp_pols = npi;
	pi.pi_peer = peer;
	pi.pi_idx = pe->p_npolicies;
	pi.pi_at = at;
	p->cp_pols[p->cp_npols++] = pi;
	pe->p_policies[pe->p_npolicies++] = pol;
	return 0;
}

/* pstmt = "principal" STRING | "address" ADDR | ... | policy */
static int
parse_pstmt(struct conf_parser *p, int peer)
{
	static const char *const kws[] = {
		"principal", "address", "local", "prf", "u2u", "policy",
		"esp", "ah", NULL
	};
	static const char *const prfs[] = { "rfc3961", "mit", NULL };
	static const char *const u2us[] = { "deny", "allow", NULL };
	struct kink_conf *c = p->cp_conf;
	struct conf_peer *pe = &c->c_peers[peer];
	struct sockaddr_storage ss;
	struct conf_where at;
	int k;

	for (k = 5; kws[k]; k++)
		if (is_kw(p, kws[k]))
			return parse_policy(p, peer);
	switch (expect_kw(p, kws)) {
	case 0:
		p->cp_peers[peer].pe_principal_at = where(p, &p->cp_tok);
		return get_dup_string(p, "a principal", &pe->p_principal);
	case 1:
		at = where(p, &p->cp_tok);
		if (get_addr(p, &ss) == -1)
			return -1;
		for (int i = 0; i < c->c_npeers; i++)
			for (int j = 0; j < c->c_peers[i].p_naddrs; j++)
				if (addr_eq(addr_sa(&c->c_peers[i].p_addrs[j]),
				    addr_sa(&ss)))
					return err_at(p, &at, "address already "
					    "given for peer \"%s\"",
					    c->c_peers[i].p_name);
		if (pe->p_naddrs >= CONF_MAX_PEER_ADDRS)
			return err_at(p, &at, "too many addresses (at most "
			    "%d)", CONF_MAX_PEER_ADDRS);
		pe->p_addrs[pe->p_naddrs++] = ss;
		return 0;
	case 2:
		return get_addr(p, &pe->p_local);
	case 3:
		if ((k = expect_kw(p, prfs)) == -1)
			return -1;
		pe->p_prf = (enum conf_prf)k;
		return 0;
	case 4:
		if ((k = expect_kw(p, u2us)) == -1)
			return -1;
		pe->p_u2u = k;
		return 0;
	}
	return -1;
}

static int
stmt_keyword(const struct conf_parser *p)
{
	return is_kw(p, "peer") || is_kw(p, "transforms") ||
	    is_kw(p, "listen") || is_kw(p, "set") || is_kw(p, "include");
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

	next(p);
	at = where(p, &p->cp_tok);
	if (get_string(p, "a peer name", name, sizeof(name)) == -1)
		return -1;
	if (conf_peer_by_name(c, name)) {
		err_at(p, &at, "duplicate peer \"%s\"", name);
		dup = 1;
	}
	open = where(p, &p->cp_tok);
	if (expect_type(p, CT_LBRACE, "\"{\"") == -1)
		return -1;
	if (c->c_npeers >= CONF_MAX_PEERS)
		return err_at(p, &at, "too many peers (at most %d)",
		    CONF_MAX_PEERS);
	npe = reallocarray(c->c_peers, c->c_npeers + 1, sizeof(*npe));
	if (npe == NULL)
		return err_at(p, &at, "out of memory");
	c->c_peers = npe;
	ni = reallocarray(p->cp_peers, c->c_npeers + 1, sizeof(*ni));
	if (ni == NULL)
		return err_at(p, &at, "out of memory");
	p->cp_peers = ni;
	idx = c->c_npeers++;
	pe = &c->c_peers[idx];
	memset(pe, 0, sizeof(*pe));
	memset(&ni[idx], 0, sizeof(ni[idx]));
	ni[idx].pe_at = at;
	if ((pe->p_name = strdup(name)) == NULL)
		return err_at(p, &at, "out of memory");
	for (;;) {
		if (p->cp_tok.t_type == CT_NL || p->cp_tok.t_type == CT_COMMA) {
			next(p);
			continue;
		}
		if (p->cp_tok.t_type == CT_RBRACE) {
			next(p);
			break;
		}
		if (p->cp_tok.t_type == CT_EOF || stmt_keyword(p)) {
			char got[128];

			describe(&p->cp_tok, got, sizeof(got));
			err_tok(p, "expected \"}\" to close peer \"%s\" "
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
			err_expected1(p, "newline");
			recover(p, 1);
		}
	}
	/* Nothing else can refer to a peer yet, so a bad one is dropped. */
	pe = &c->c_peers[idx];
	if (pe->p_principal == NULL && !dup)
		err_at(p, &at, "peer \"%s\" has no principal", name);
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

	if (p->cp_tok.t_type == CT_WORD && peek(p)->t_type == CT_EQ)
		return parse_macro(p);
	if (is_kw(p, "include"))
		return parse_include(p);
	if (is_kw(p, "set"))
		return parse_set(p);
	if (is_kw(p, "listen"))
		return parse_listen(p);
	if (is_kw(p, "transforms"))
		return parse_xforms(p);
	if (is_kw(p, "peer"))
		return parse_peer(p);
	return err_expected(p, kws, "a macro definition");
}

/* config = { [ stmt ] NL } EOF */
static void
parse_config(struct conf_parser *p)
{
	int r;

	next(p);
	while (p->cp_tok.t_type != CT_EOF) {
		if (p->cp_tok.t_type == CT_NL) {
			next(p);
			continue;
		}
		if ((r = parse_stmt(p)) == -1)
			recover(p, 0);
		else if (r == 0 && p->cp_tok.t_type != CT_NL &&
		    p->cp_tok.t_type != CT_EOF) {
			err_expected1(p, "newline");
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
		err_at(p, at, "includes nested deeper than %d",
		    CONF_INCLUDE_DEPTH);
		return;
	}
	/* O_NONBLOCK: a FIFO must not hang the daemon; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		err_at(p, at, "%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		err_at(p, at, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_at(p, at, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		err_at(p, at, "%s: group or world writable, refusing it", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		err_at(p, at, "%s: owned by uid %u, not root or uid %u, "
		    "refusing it", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	for (int i = 0; i < p->cp_depth; i++)
		if (p->cp_dev[i] == st.st_dev && p->cp_ino[i] == st.st_ino) {
			err_at(p, at, "%s: include cycle", path);
			goto out;
		}
	if (st.st_size > CONF_MAX_FILE) {
		err_at(p, at, "%s: larger than %d bytes", path, CONF_MAX_FILE);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_at(p, at, "%s: out of memory", path);
		goto out;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_at(p, at, "%s: %s", path,
			    r == 0 ? "file shrank while read" : strerror(errno));
			goto out;
		}
		off += (size_t)r;
	}
	if ((name = keep_name(p, path)) == NULL) {
		err_at(p, at, "out of memory");
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
/* Whole-config checks and defaults */

struct reqid_set {
	uint32_t	*rs_v;
	size_t		 rs_mask;
};

static int
reqid_has(const struct reqid_set *s, uint32_t v)
{
	for (size_t i = v & s->rs_mask; s->rs_v[i]; i = (i + 1) & s->rs_mask)
		if (s->rs_v[i] == v)
			return 1;
	return 0;
}

static void
reqid_add(struct reqid_set *s, uint32_t v)
{
	size_t i;

	for (i = v & s->rs_mask; s->rs_v[i]; i = (i + 1) & s->rs_mask)
		;
	s->rs_v[i] = v;
}

static void
finish_reqids(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct reqid_set s;
	size_t size = 16;

	while (size < 2 * (size_t)p->cp_npols + 1)
		size *= 2;
	if ((s.rs_v = calloc(size, sizeof(*s.rs_v))) == NULL) {
		conf_err(p->cp_errs, "conf", 0, 0, "out of memory");
		return;
	}
	s.rs_mask = size - 1;
	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct kink_policy *pol;

		if (!pi->pi_fixed_reqid || !c->c_peers[pi->pi_peer].p_name)
			continue;
		pol = &c->c_peers[pi->pi_peer].p_policies[pi->pi_idx];
		if (reqid_has(&s, pol->pol_reqid))
			err_at(p, &pi->pi_at, "reqid %u is used twice",
			    pol->pol_reqid);
		else
			reqid_add(&s, pol->pol_reqid);
	}
	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct conf_peer *pe = &c->c_peers[pi->pi_peer];
		struct kink_policy *pol;
		uint32_t r;

		if (pi->pi_fixed_reqid || pe->p_name == NULL)
			continue;
		pol = &pe->p_policies[pi->pi_idx];
		r = conf_reqid(pe->p_name, pol->pol_name);
		while (reqid_has(&s, r))
			r = r % REQID_MAX + 1;
		reqid_add(&s, r);
		pol->pol_reqid = r;
	}
	free(s.rs_v);
}

/* The one listen address of family `af` that is not a wildcard. */
static const struct sockaddr_storage *
sole_listen(const struct kink_conf *c, int af)
{
	const struct sockaddr_storage *found = NULL;

	for (int i = 0; i < c->c_nlisten; i++) {
		struct sockaddr_storage ss = c->c_listen[i].l_addr;

		if (ss.ss_family != af || addr_is_any(addr_sa(&ss)))
			continue;
		if (found && !addr_eq(addr_sa(found), addr_sa(&ss)))
			return NULL;
		found = &c->c_listen[i].l_addr;
	}
	return found;
}

static void
finish_tunnels(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;

	for (int i = 0; i < p->cp_npols; i++) {
		struct pol_info *pi = &p->cp_pols[i];
		struct conf_peer *pe = &c->c_peers[pi->pi_peer];
		struct kink_policy *pol = &pe->p_policies[pi->pi_idx];
		const struct sockaddr_storage *l;
		int af;

		if (pe->p_name == NULL || pol->pol_mode != ENCAP_MODE_TUNNEL)
			continue;
		if (!pi->pi_remote_set) {
			/*
			 * The peer's first address of the local endpoint's
			 * family, else of the traffic's, else any.
			 */
			af = pi->pi_local_set ? pol->pol_tun_local.ss_family :
			    pol->pol_src.sel_addr.ss_family;
			for (int j = 0; j < pe->p_naddrs; j++)
				if (pe->p_addrs[j].ss_family == af) {
					pol->pol_tun_remote = pe->p_addrs[j];
					break;
				}
			if (pol->pol_tun_remote.ss_family == 0 &&
			    !pi->pi_local_set && pe->p_naddrs > 0)
				pol->pol_tun_remote = pe->p_addrs[0];
			if (pol->pol_tun_remote.ss_family == 0) {
				err_at(p, &pi->pi_at, "tunnel mode needs a "
				    "remote endpoint: give peer \"%s\" an "
				    "\"address\" or the policy \"remote ADDR\"",
				    pe->p_name);
				continue;
			}
		}
		if (!pi->pi_local_set) {
			af = pol->pol_tun_remote.ss_family;
			if (pe->p_local.ss_family == af)
				pol->pol_tun_local = pe->p_local;
			else if ((l = sole_listen(c, af)) != NULL) {
				pol->pol_tun_local = *l;
				addr_set_port(&pol->pol_tun_local, 0);
			} else {
				err_at(p, &pi->pi_at, "tunnel mode needs a "
				    "local endpoint: add \"local ADDR\" to "
				    "the policy or to peer \"%s\"", pe->p_name);
				continue;
			}
		}
		if (pol->pol_tun_local.ss_family != pol->pol_tun_remote.ss_family)
			err_at(p, &pi->pi_at, "tunnel endpoints differ in "
			    "address family");
	}
}

static void
finish(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	int n;

	if (c->c_nlisten == 0) {
		c->c_listen = calloc(2, sizeof(*c->c_listen));
		if (c->c_listen == NULL) {
			conf_err(p->cp_errs, "conf", 0, 0, "out of memory");
			return;
		}
		c->c_listen[0].l_addr.ss_family = AF_INET;
		c->c_listen[1].l_addr.ss_family = AF_INET6;
		addr_set_port(&c->c_listen[0].l_addr, c->c_port);
		addr_set_port(&c->c_listen[1].l_addr, c->c_port);
		c->c_nlisten = 2;
	} else
		for (int i = 0; i < c->c_nlisten; i++)
			if (!p->cp_listen[i].li_port_set)
				addr_set_port(&c->c_listen[i].l_addr,
				    c->c_port);
	for (int i = 0; p->cp_listen && i < c->c_nlisten; i++)
		for (int j = 0; j < i; j++)
			if (addr_eq(addr_sa(&c->c_listen[i].l_addr),
			    addr_sa(&c->c_listen[j].l_addr)) &&
			    addr_port(addr_sa(&c->c_listen[i].l_addr)) ==
			    addr_port(addr_sa(&c->c_listen[j].l_addr))) {
				err_at(p, &p->cp_listen[i].li_at, "listen "
				    "address and port given twice");
				break;
			}
	for (int i = 0; i < c->c_npeers; i++) {
		struct conf_peer *a = &c->c_peers[i];

		if (a->p_name == NULL || a->p_principal == NULL)
			continue;
		for (int j = 0; j < i; j++) {
			struct conf_peer *b = &c->c_peers[j];

			if (b->p_name && b->p_principal &&
			    strcmp(a->p_principal, b->p_principal) == 0) {
				err_at(p, &p->cp_peers[i].pe_principal_at,
				    "principal \"%s\" already belongs to peer "
				    "\"%s\"", a->p_principal, b->p_name);
				break;
			}
		}
	}
	finish_tunnels(p);
	finish_reqids(p);

	/* Drop duplicate peers (already reported) to keep lookups simple. */
	n = 0;
	for (int i = 0; i < c->c_npeers; i++) {
		if (c->c_peers[i].p_name == NULL) {
			free(c->c_peers[i].p_principal);
			free(c->c_peers[i].p_policies);
			continue;
		}
		c->c_peers[n++] = c->c_peers[i];
	}
	c->c_npeers = n;
}

/* ---------------------------------------------------------------- */
/* API */

static struct kink_conf *
conf_new_defaults(void)
{
	struct kink_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_keytab = strdup(KINKD_KEYTAB);
	c->c_socket = strdup(KINKD_SOCKET);
	c->c_user = strdup(KINKD_USER);
	if (c->c_keytab == NULL || c->c_socket == NULL || c->c_user == NULL) {
		conf_free(c);
		return NULL;
	}
	c->c_port = CONF_DEF_PORT;
	c->c_retrans_ms = CONF_DEF_RETRANS_MS;
	c->c_retrans_max_ms = CONF_DEF_RETRANS_MAX_MS;
	c->c_retrans_tries = CONF_DEF_RETRANS_TRIES;
	c->c_deadpeer_ms = CONF_DEF_DEADPEER_MS;
	c->c_delgrace_ms = CONF_DEF_DELGRACE_MS;
	c->c_replycache_ms = CONF_DEF_REPLYCACHE_MS;
	c->c_max_xact_peer = CONF_DEF_MAX_XACT_PEER;
	c->c_max_xact = CONF_DEF_MAX_XACT;
	c->c_backend = CONF_BACKEND_AUTO;
	c->c_shutdown = CONF_SHUTDOWN_FLUSH;
	return c;
}

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
		finish(p);
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

void
conf_free(struct kink_conf *c)
{
	if (c == NULL)
		return;
	free(c->c_principal);
	free(c->c_keytab);
	free(c->c_socket);
	free(c->c_user);
	free(c->c_listen);
	free(c->c_xsets);
	for (int i = 0; i < c->c_npeers; i++) {
		free(c->c_peers[i].p_name);
		free(c->c_peers[i].p_principal);
		free(c->c_peers[i].p_policies);
	}
	free(c->c_peers);
	free(c);
}

struct conf_peer *
conf_peer_by_name(const struct kink_conf *c, const char *name)
{
	for (int i = 0; i < c->c_npeers; i++)
		if (c->c_peers[i].p_name &&
		    strcmp(c->c_peers[i].p_name, name) == 0)
			return &c->c_peers[i];
	return NULL;
}

struct conf_peer *
conf_peer_by_principal(const struct kink_conf *c, const char *princ)
{
	for (int i = 0; i < c->c_npeers; i++)
		if (c->c_peers[i].p_principal &&
		    strcmp(c->c_peers[i].p_principal, princ) == 0)
			return &c->c_peers[i];
	return NULL;
}

struct conf_peer *
conf_peer_by_addr(const struct kink_conf *c, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (sa->sa_family == AF_INET)
		memcpy(&ss, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(&ss, sa, sizeof(struct sockaddr_in6));
	else
		return NULL;
	for (int i = 0; i < c->c_npeers; i++)
		for (int j = 0; j < c->c_peers[i].p_naddrs; j++)
			if (addr_eq(addr_sa(&c->c_peers[i].p_addrs[j]),
			    addr_sa(&ss)))
				return &c->c_peers[i];
	return NULL;
}

struct kink_policy *
conf_policy_by_name(const struct conf_peer *pe, const char *name)
{
	for (int i = 0; i < pe->p_npolicies; i++)
		if (strcmp(pe->p_policies[i].pol_name, name) == 0)
			return &pe->p_policies[i];
	return NULL;
}

static int
sel_same(const struct kink_selector *a, const struct kink_selector *b)
{
	return addr_eq(addr_sa(&a->sel_addr), addr_sa(&b->sel_addr)) &&
	    a->sel_plen == b->sel_plen && a->sel_port == b->sel_port;
}

static int
xform_same(const struct kink_xform *a, const struct kink_xform *b)
{
	if (a->x_present != b->x_present)
		return 0;
	return !a->x_present || (a->x_id == b->x_id &&
	    a->x_keylen == b->x_keylen && a->x_auth == b->x_auth);
}

static int
tun_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == 0 || b->ss_family == 0)
		return a->ss_family == b->ss_family;
	return addr_eq(addr_sa(a), addr_sa(b));
}

int
conf_policy_same(const struct kink_policy *a, const struct kink_policy *b)
{
	if (strcmp(a->pol_name, b->pol_name) != 0 ||
	    a->pol_reqid != b->pol_reqid || a->pol_mode != b->pol_mode ||
	    a->pol_ulproto != b->pol_ulproto ||
	    a->pol_nsuites != b->pol_nsuites ||
	    a->pol_life_secs != b->pol_life_secs ||
	    a->pol_life_kbytes != b->pol_life_kbytes ||
	    a->pol_pfs_group != b->pol_pfs_group ||
	    !sel_same(&a->pol_src, &b->pol_src) ||
	    !sel_same(&a->pol_dst, &b->pol_dst) ||
	    !tun_same(&a->pol_tun_local, &b->pol_tun_local) ||
	    !tun_same(&a->pol_tun_remote, &b->pol_tun_remote))
		return 0;
	for (int i = 0; i < a->pol_nsuites; i++)
		if (!xform_same(&a->pol_suites[i].s_esp,
		    &b->pol_suites[i].s_esp) ||
		    !xform_same(&a->pol_suites[i].s_ah, &b->pol_suites[i].s_ah))
			return 0;
	return 1;
}
