/*
 * kinkd.conf parser, token layer: the current and the peeked token, the
 * error messages ("expected ..., got ..."), and the value readers
 * (strings, numbers, durations, addresses, prefixes) every production
 * uses.  Apart from the grammar so that the whole-file checks can word
 * their errors the same way without calling back into the grammar.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"
#include "conf_parser.h"

int
ctok_stopped(const struct conf_parser *p)
{
	return p->cp_errs->ce_truncated;
}

void
ctok_next(struct conf_parser *p)
{
	if (p->cp_havepeek) {
		p->cp_tok = p->cp_peek;
		p->cp_havepeek = 0;
	} else
		conf_lex_next(p->cp_lx, &p->cp_tok);
	if (ctok_stopped(p))
		p->cp_tok.t_type = CT_EOF;
}

const struct conf_token *
ctok_peek(struct conf_parser *p)
{
	if (!p->cp_havepeek) {
		conf_lex_next(p->cp_lx, &p->cp_peek);
		p->cp_havepeek = 1;
	}
	return &p->cp_peek;
}

void
ctok_describe(const struct conf_token *t, char *buf, size_t len)
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

int
ctok_err_at(struct conf_parser *p, const struct conf_where *w, const char *fmt,
    ...)
{
	char msg[CONF_MAX_STRING + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return conf_err(p->cp_errs, w->w_file, w->w_line, w->w_col, "%s", msg);
}

struct conf_where
ctok_where(const struct conf_parser *p, const struct conf_token *t)
{
	struct conf_where w = { p->cp_lx->lx_name, t->t_line, t->t_col };

	return w;
}

/* An error about the current token. */
int
ctok_err_tok(struct conf_parser *p, const char *fmt, ...)
{
	struct conf_where w = ctok_where(p, &p->cp_tok);
	char msg[CONF_MAX_STRING + 256];
	va_list ap;

	if (p->cp_tok.t_type == CT_ERROR)	/* already reported */
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctok_err_at(p, &w, "%s", msg);
}

/* expected "a", "b" or "c", got X */
int
ctok_err_expected(struct conf_parser *p, const char *const *alts,
    const char *tail)
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
	ctok_describe(&p->cp_tok, got, sizeof(got));
	return ctok_err_tok(p, "%s, got %s", msg, got);
}

int
ctok_err_expected1(struct conf_parser *p, const char *what)
{
	char got[128];

	ctok_describe(&p->cp_tok, got, sizeof(got));
	return ctok_err_tok(p, "expected %s, got %s", what, got);
}

int
ctok_is_kw(const struct conf_parser *p, const char *kw)
{
	return p->cp_tok.t_type == CT_WORD && strcmp(p->cp_tok.t_text, kw) == 0;
}

/* One of `alts`: its index, the token consumed; else an error. */
int
ctok_expect_kw(struct conf_parser *p, const char *const *alts)
{
	for (int i = 0; alts[i]; i++)
		if (ctok_is_kw(p, alts[i])) {
			ctok_next(p);
			return i;
		}
	return ctok_err_expected(p, alts, NULL);
}

int
ctok_expect_kw1(struct conf_parser *p, const char *kw)
{
	const char *alts[] = { kw, NULL };

	return ctok_expect_kw(p, alts);
}

int
ctok_expect_type(struct conf_parser *p, enum conf_tok type, const char *what)
{
	if (p->cp_tok.t_type != type)
		return ctok_err_expected1(p, what);
	ctok_next(p);
	return 0;
}

/* STRING: quoted or a bare word; copied to out (size max). */
int
ctok_get_string(struct conf_parser *p, const char *what, char *out, size_t max)
{
	if (p->cp_tok.t_type != CT_STRING && p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, what);
	if (p->cp_tok.t_text[0] == '\0')
		return ctok_err_tok(p, "%s must not be empty", what);
	if (strlen(p->cp_tok.t_text) >= max)
		return ctok_err_tok(p, "%s longer than %zu bytes", what,
		    max - 1);
	memcpy(out, p->cp_tok.t_text, strlen(p->cp_tok.t_text) + 1);
	ctok_next(p);
	return 0;
}

int
ctok_get_dup_string(struct conf_parser *p, const char *what, char **out)
{
	char buf[CONF_MAX_STRING + 1];
	char *s;

	if (ctok_get_string(p, what, buf, sizeof(buf)) == -1)
		return -1;
	if ((s = strdup(buf)) == NULL)
		return ctok_err_tok(p, "out of memory");
	free(*out);
	*out = s;
	return 0;
}

/* Decimal digits only, no sign, no overflow. */
int
ctok_parse_u64(const char *s, uint64_t *out)
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

int
ctok_get_num(struct conf_parser *p, const char *what, uint64_t min,
    uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, "a number");
	if (ctok_parse_u64(p->cp_tok.t_text, &v) == -1 || v < min || v > max)
		return ctok_err_tok(p,
		    "bad %s \"%s\": expected a number from %llu "
		    "to %llu", what, p->cp_tok.t_text, (unsigned long long)min,
		    (unsigned long long)max);
	*out = v;
	ctok_next(p);
	return 0;
}

/* NUM [unit] into milliseconds; a bare number is seconds. */
int
ctok_parse_dur(const char *s, uint64_t *ms)
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
	if (ctok_parse_u64(num, &v) == -1)
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

int
ctok_get_dur(struct conf_parser *p, const char *what, uint64_t min_ms,
    uint64_t max_ms, const char *range, uint64_t *out)
{
	uint64_t v;

	if (p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, "a duration");
	if (ctok_parse_dur(p->cp_tok.t_text, &v) == -1)
		return ctok_err_tok(p,
		    "bad duration \"%s\": expected a number with "
		    "unit ms, s, m, h or d", p->cp_tok.t_text);
	if (v < min_ms || v > max_ms)
		return ctok_err_tok(p, "bad %s \"%s\": expected %s", what,
		    p->cp_tok.t_text, range);
	*out = v;
	ctok_next(p);
	return 0;
}

int
ctok_get_addr(struct conf_parser *p, struct sockaddr_storage *ss)
{
	if (p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, "an IPv4 or IPv6 address");
	if (addr_parse(p->cp_tok.t_text, ss) == -1)
		return ctok_err_tok(p, "bad address \"%s\"", p->cp_tok.t_text);
	ctok_next(p);
	return 0;
}

/* NET = ADDR [ "/" NUM ], no host bits set. */
int
ctok_get_net(struct conf_parser *p, struct kink_selector *sel)
{
	char buf[CONF_MAX_STRING + 1], *slash;
	uint64_t plen;
	size_t len;
	const uint8_t *b;
	int full;

	if (p->cp_tok.t_type != CT_WORD)
		return ctok_err_expected1(p, "an address or prefix");
	memcpy(buf, p->cp_tok.t_text, sizeof(buf));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &sel->sel_addr) == -1)
		return ctok_err_tok(p, "bad address \"%s\"", buf);
	full = sel->sel_addr.ss_family == AF_INET ? 32 : 128;
	plen = (uint64_t)full;
	if (slash && (ctok_parse_u64(slash,
	    &plen) == -1 || plen > (uint64_t)full))
		return ctok_err_tok(p, "bad prefix length \"/%s\" for an IPv%d "
		    "address", slash, full == 32 ? 4 : 6);
	sel->sel_plen = (uint8_t)plen;
	b = addr_bytes(addr_sa(&sel->sel_addr), &len);
	for (size_t i = 0; i < len; i++) {
		size_t bit = i * 8;
		uint8_t mask = bit >= plen ? 0xff :
		    bit + 8 <= plen ? 0 : (uint8_t)(0xff >> (plen - bit));

		if (b[i] & mask)
			return ctok_err_tok(p,
			    "\"%s\" has host bits set beyond "
			    "/%u", p->cp_tok.t_text, (unsigned)plen);
	}
	ctok_next(p);
	return 0;
}
