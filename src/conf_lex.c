/*
 * kinkd.conf tokenizer.  Hand-written, not generated, so that it owns
 * quoting, $macros, '\' continuation, comments and exact line:column
 * positions for every error message.
 * It reads from memory; conf_parse.c opens files and handles include.
 *
 * Tokens: words (anything printable up to a blank or one of {}=,;#"$),
 * "quoted strings" (escapes \" and \\), { } = , and newline; ';' is a
 * newline.  `$name` in a word is replaced by the macro's value (the word
 * stays one token: kink/host@$realm); strings in quotes are taken as they
 * are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_INTERNAL
#include "conf.h"

/*
 * Every keyword the parser compares a word against.  Kept here, in one
 * table, so the man page check can verify each is documented.
 */
const char *const conf_keywords[] = {
	/* statements */
	"include", "set", "listen", "on", "transforms", "peer",
	/* set */
	"principal", "keytab", "port", "retransmit", "max", "tries",
	"dead-peer", "delete-grace", "reply-cache", "backend", "auto",
	"pfkey", "xfrm", "null", "on-shutdown", "flush", "keep",
	"max-xact-peer", "max-xact", "socket", "user", "verbose",
	"strict-privileges", "yes", "no", "nameserver", "max-learned-peers",
	"learned-idle", "krb-workers",
	/* transforms */
	"esp", "ah", "enc", "auth", "ipcomp",
	/* peer */
	"address", "local", "prf", "rfc3961", "mit", "u2u", "allow", "deny",
	"responder-lifetime", "send", "omit", "addresses", "find", "dns",
	"pattern", "file", "me",
	/* policy */
	"policy", "transport", "tunnel", "from", "to", "proto", "lifetime",
	"kbytes", "pfs", "none", "optional", "remote", "reqid",
	NULL
};

int
conf_err(struct conf_errors *e, const char *file, int line, int col,
    const char *fmt, ...)
{
	char msg[CONF_MAX_STRING + 256], *s = NULL;
	char **n;
	va_list ap;
	int r;

	if (e == NULL)
		return -1;
	if (e->ce_count >= CONF_MAX_ERRORS) {
		e->ce_truncated = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		r = asprintf(&s, "%s:%d:%d: %s", file, line, col, msg);
	else
		r = asprintf(&s, "%s: %s", file, msg);
	if (r == -1)
		return -1;
	n = reallocarray(e->ce_msgs, e->ce_count + 1, sizeof(*n));
	if (n == NULL) {
		free(s);
		e->ce_truncated = 1;
		return -1;
	}
	e->ce_msgs = n;
	e->ce_msgs[e->ce_count++] = s;
	return -1;
}

void
conf_errors_free(struct conf_errors *e)
{
	if (e == NULL)
		return;
	for (int i = 0; i < e->ce_count; i++)
		free(e->ce_msgs[i]);
	free(e->ce_msgs);
	e->ce_msgs = NULL;
	e->ce_count = 0;
	e->ce_truncated = 0;
}

void
conf_errors_print(const struct conf_errors *e, FILE *fp)
{
	for (int i = 0; i < e->ce_count; i++)
		fprintf(fp, "%s\n", e->ce_msgs[i]);
	if (e->ce_truncated)
		fprintf(fp, "too many errors, stopped after %d\n",
		    CONF_MAX_ERRORS);
}

const char *
conf_macro_get(const struct conf_macros *m, const char *name)
{
	if (m == NULL)
		return NULL;
	for (int i = 0; i < m->m_n; i++)
		if (strcmp(m->m_name[i], name) == 0)
			return m->m_value[i];
	return NULL;
}

void
conf_lex_init(struct conf_lex *lx, const char *name, const char *buf,
    size_t len, const struct conf_macros *m, struct conf_errors *errs)
{
	memset(lx, 0, sizeof(*lx));
	lx->lx_name = name;
	lx->lx_p = buf;
	lx->lx_end = buf + len;
	lx->lx_line = 1;
	lx->lx_col = 1;
	lx->lx_macros = m;
	lx->lx_errs = errs;
}

/* Next character or -1 at the end; does not move. */
static int
peekc(const struct conf_lex *lx, size_t ahead)
{
	if ((size_t)(lx->lx_end - lx->lx_p) <= ahead)
		return -1;
	return (unsigned char)lx->lx_p[ahead];
}

static void
advance(struct conf_lex *lx)
{
	if (lx->lx_p >= lx->lx_end)
		return;
	if (*lx->lx_p == '\n') {
		lx->lx_line++;
		lx->lx_col = 1;
	} else
		lx->lx_col++;
	lx->lx_p++;
}

/* "\\\n" or "\\\r\n": a continuation, length of it or 0. */
static size_t
continuation(const struct conf_lex *lx)
{
	if (peekc(lx, 0) != '\\')
		return 0;
	if (peekc(lx, 1) == '\n')
		return 2;
	if (peekc(lx, 1) == '\r' && peekc(lx, 2) == '\n')
		return 3;
	return 0;
}

static int
wordchar(int c)
{
	if (c < 0x21 || c > 0x7e)
		return 0;
	return strchr("{}=,;#\"$\\", c) == NULL;
}

static int
lex_error(struct conf_lex *lx, struct conf_token *t, const char *fmt,
    const char *arg)
{
	conf_err(lx->lx_errs, lx->lx_name, t->t_line, t->t_col, fmt, arg);
	t->t_type = CT_ERROR;
	return -1;
}

/* Skip the rest of a bad token up to (not including) the newline. */
static void
skip_line(struct conf_lex *lx)
{
	while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n')
		advance(lx);
}

static void
lex_string(struct conf_lex *lx, struct conf_token *t)
{
	size_t n = 0;
	int c;

	advance(lx);	/* opening quote */
	for (;;) {
		c = peekc(lx, 0);
		if (c == -1 || c == '\n') {
			lex_error(lx, t, "unterminated string%s", "");
			return;
		}
		if (c == '"') {
			advance(lx);
			break;
		}
		if (c == '\\' && (peekc(lx, 1) == '"' || peekc(lx, 1) == '\\')) {
			advance(lx);
			c = peekc(lx, 0);
		} else if (c < 0x20 || c == 0x7f) {
			lex_error(lx, t, "control character in string%s", "");
			skip_line(lx);
			return;
		}
		if (n >= CONF_MAX_STRING) {
			lex_error(lx, t, "string longer than %s bytes",
			    "1024");
			skip_line(lx);
			return;
		}
		t->t_text[n++] = (char)c;
		advance(lx);
	}
	t->t_text[n] = '\0';
	t->t_type = CT_STRING;
}

/*
 * Append the value of the $name at the cursor to t_text (at *n).  A word
 * may mix text and macros: kink/host@$realm.
 */
static int
lex_macro(struct conf_lex *lx, struct conf_token *t, size_t *n)
{
	char name[CONF_MAX_STRING + 1];
	const char *v;
	size_t k = 0, vl;
	int c;

	advance(lx);	/* '$' */
	while ((c = peekc(lx, 0)) != -1 && (c == '_' ||
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))) {
		if (k < CONF_MAX_STRING)
			name[k++] = (char)c;
		advance(lx);
	}
	name[k] = '\0';
	if (k == 0)
		return lex_error(lx, t, "expected a macro name after \"$\"%s",
		    "");
	if ((v = conf_macro_get(lx->lx_macros, name)) == NULL)
		return lex_error(lx, t, "undefined macro \"$%s\"", name);
	vl = strlen(v);
	if (*n + vl > CONF_MAX_STRING)
		return lex_error(lx, t, "word longer than %s bytes", "1024");
	memcpy(t->t_text + *n, v, vl);
	*n += vl;
	t->t_macro = 1;
	return 0;
}

void
conf_lex_next(struct conf_lex *lx, struct conf_token *t)
{
	size_t k, n;
	int c;

	t->t_macro = 0;
	t->t_text[0] = '\0';
	for (;;) {
		c = peekc(lx, 0);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v') {
			advance(lx);
			continue;
		}
		if ((k = continuation(lx)) != 0) {
			while (k--)
				advance(lx);
			continue;
		}
		if (c == '#') {
			skip_line(lx);
			continue;
		}
		break;
	}
	t->t_line = lx->lx_line;
	t->t_col = lx->lx_col;
	switch (c) {
	case -1:
		t->t_type = CT_EOF;
		return;
	case '\n':
	case ';':
		advance(lx);
		t->t_type = CT_NL;
		return;
	case '{':
		advance(lx);
		t->t_type = CT_LBRACE;
		return;
	case '}':
		advance(lx);
		t->t_type = CT_RBRACE;
		return;
	case '=':
		advance(lx);
		t->t_type = CT_EQ;
		return;
	case ',':
		advance(lx);
		t->t_type = CT_COMMA;
		return;
	case '"':
		lex_string(lx, t);
		return;
	}
	if (!wordchar(c) && c != '$') {
		char what[16];

		if (c == '\\')
			snprintf(what, sizeof(what), "\"\\\"");
		else
			snprintf(what, sizeof(what), "0x%02x", c);
		advance(lx);
		lex_error(lx, t, "unexpected character %s", what);
		return;
	}
	n = 0;
	while ((c = peekc(lx, 0)) != -1 && (wordchar(c) || c == '$')) {
		if (c == '$') {
			if (lex_macro(lx, t, &n) == -1) {
				while (wordchar(peekc(lx, 0)) ||
				    peekc(lx, 0) == '$')
					advance(lx);
				return;
			}
			continue;
		}
		if (n >= CONF_MAX_STRING) {
			lex_error(lx, t, "word longer than %s bytes", "1024");
			while (wordchar(peekc(lx, 0)))
				advance(lx);
			return;
		}
		t->t_text[n++] = (char)c;
		advance(lx);
	}
	t->t_text[n] = '\0';
	t->t_type = CT_WORD;
}
