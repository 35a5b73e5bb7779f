/*
 * kinkd.conf transform suites: a suite's "esp" / "ah" / "ipcomp" parts, a
 * brace list of suites, and named "transforms" sets.  Part of the grammar
 * (conf_parse.c calls in; see conf_parser.h), kept apart so each parser
 * file stays one job.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"
#include "conf_parser.h"
#include "isakmp_num.h"

static const char *const enc_names_hint =
    "aes-128-gcm-16, aes-192-gcm-16, aes-256-gcm-16, aes-128-cbc, "
    "aes-192-cbc, aes-256-cbc, 3des or null";
static const char *const auth_names_hint =
    "hmac-md5, hmac-sha1, hmac-sha2-256, hmac-sha2-384 or hmac-sha2-512";

static const struct conf_auth *
get_auth(struct conf_parser *p)
{
	for (const struct conf_auth *a = conf_auths; a->a_name; a++)
		if (ctok_is_kw(p, a->a_name)) {
			ctok_next(p);
			return a;
		}
	{
		char got[128];

		ctok_describe(&p->cp_tok, got, sizeof(got));
		ctok_err_tok(p,
		    "expected an authentication algorithm (%s), got %s",
		    auth_names_hint, got);
	}
	return NULL;
}

/* suite = xform { xform } */
static int
parse_suite(struct conf_parser *p, struct kink_suite *s)
{
	static const char *const protos[] = { "esp", "ah", "ipcomp", NULL };
	const struct conf_auth *a;
	struct conf_where first = ctok_where(p, &p->cp_tok);
	int k, n = 0;

	memset(s, 0, sizeof(*s));
	while (n == 0 || ctok_is_kw(p, "esp") || ctok_is_kw(p, "ah") ||
	    ctok_is_kw(p, "ipcomp")) {
		struct conf_where at = ctok_where(p, &p->cp_tok);

		if ((k = ctok_expect_kw(p, protos)) == -1)
			return -1;
		n++;
		if ((k == 0 && s->s_esp.x_present) ||
		    (k == 1 && s->s_ah.x_present) ||
		    (k == 2 && s->s_ipcomp.x_present))
			return ctok_err_at(p, &at, "\"%s\" given twice in one "
			    "suite", protos[k]);
		if (k == 2) {
			/* RFC 2407 4.4.5; deflate is what every kernel has. */
			if (!ctok_is_kw(p, "deflate")) {
				char got[128];

				ctok_describe(&p->cp_tok, got, sizeof(got));
				return ctok_err_tok(p, "expected an IPComp "
				    "algorithm (deflate), got %s", got);
			}
			ctok_next(p);
			s->s_ipcomp.x_present = 1;
			s->s_ipcomp.x_id = IPCOMP_DEFLATE;
		} else if (k == 0) {
			const struct conf_enc *e;
			struct conf_where eat;

			if (ctok_expect_kw1(p, "enc") == -1)
				return -1;
			eat = ctok_where(p, &p->cp_tok);
			for (e = conf_encs; e->e_name; e++)
				if (ctok_is_kw(p, e->e_name))
					break;
			if (e->e_name == NULL) {
				char got[128];

				ctok_describe(&p->cp_tok, got, sizeof(got));
				return ctok_err_tok(p, "expected an encryption "
				    "algorithm (%s), got %s", enc_names_hint,
				    got);
			}
			ctok_next(p);
			s->s_esp.x_present = 1;
			s->s_esp.x_id = e->e_id;
			s->s_esp.x_keylen = e->e_keylen;
			if (ctok_is_kw(p, "auth")) {
				if (e->e_aead)
					return ctok_err_tok(p,
					    "%s is a combined "
					    "mode cipher: no \"auth\" with it",
					    e->e_name);
				ctok_next(p);
				if ((a = get_auth(p)) == NULL)
					return -1;
				s->s_esp.x_auth = a->a_attr;
			} else if (!e->e_aead)
				return ctok_err_at(p, &eat, "esp enc %s needs "
				    "\"auth\"", e->e_name);
		} else {
			if (ctok_expect_kw1(p, "auth") == -1)
				return -1;
			if ((a = get_auth(p)) == NULL)
				return -1;
			s->s_ah.x_present = 1;
			s->s_ah.x_id = a->a_ah_id;
			s->s_ah.x_auth = a->a_attr;
		}
	}
	/* IPComp compresses what ESP or AH protects, never alone. */
	if (s->s_ipcomp.x_present && !s->s_esp.x_present &&
	    !s->s_ah.x_present)
		return ctok_err_at(p, &first, "\"ipcomp\" needs esp or ah in "
		    "the same suite");
	return 0;
}

/* suites = { [ suite ] ( NL | "," ) } up to the closing "}" (consumed). */
int
conf_parse_suites(struct conf_parser *p, struct kink_suite *suites, int *n,
    const struct conf_where *open)
{
	int bad = 0;

	*n = 0;
	for (;;) {
		if (p->cp_tok.t_type == CT_NL || p->cp_tok.t_type == CT_COMMA) {
			ctok_next(p);
			continue;
		}
		if (p->cp_tok.t_type == CT_RBRACE) {
			ctok_next(p);
			break;
		}
		if (p->cp_tok.t_type == CT_EOF)
			return ctok_err_expected1(p, "\"}\"");
		if (*n >= POL_MAX_SUITES) {
			ctok_err_tok(p, "more than %d suites", POL_MAX_SUITES);
			bad = 1;
		} else if (parse_suite(p, &suites[*n]) == -1)
			bad = 1;
		else {
			(*n)++;
			if (p->cp_tok.t_type == CT_NL ||
			    p->cp_tok.t_type == CT_COMMA ||
			    p->cp_tok.t_type == CT_RBRACE)
				continue;
			ctok_err_expected1(p, "\",\", newline or \"}\"");
			bad = 1;
		}
		/* Skip the rest of this suite. */
		while (p->cp_tok.t_type != CT_NL &&
		    p->cp_tok.t_type != CT_COMMA &&
		    p->cp_tok.t_type != CT_RBRACE && p->cp_tok.t_type != CT_EOF)
			ctok_next(p);
	}
	if (bad)
		return -1;
	if (*n == 0)
		return ctok_err_at(p, open,
		    "no transforms between \"{\" and \"}\"");
	return 0;
}

struct conf_xform_set *
conf_xset_find(const struct kink_conf *c, const char *name)
{
	for (int i = 0; i < c->c_nxsets; i++)
		if (strcmp(c->c_xsets[i].xs_name, name) == 0)
			return &c->c_xsets[i];
	return NULL;
}

/* xforms = "transforms" STRING "{" suites "}" */
int
conf_parse_xforms(struct conf_parser *p)
{
	struct kink_conf *c = p->cp_conf;
	struct conf_xform_set xs, *nx;
	struct conf_where at, open;

	memset(&xs, 0, sizeof(xs));
	ctok_next(p);
	at = ctok_where(p, &p->cp_tok);
	if (ctok_get_string(p, "a transform set name", xs.xs_name,
	    sizeof(xs.xs_name)) == -1)
		return -1;
	open = ctok_where(p, &p->cp_tok);
	if (ctok_expect_type(p, CT_LBRACE, "\"{\"") == -1)
		return -1;
	if (conf_parse_suites(p, xs.xs_suites, &xs.xs_nsuites, &open) == -1)
		return 0;	/* errors reported, block consumed */
	if (conf_xset_find(c, xs.xs_name))
		return ctok_err_at(p, &at, "duplicate transform set \"%s\"",
		    xs.xs_name);
	if (c->c_nxsets >= CONF_MAX_XFORM_SETS)
		return ctok_err_at(p, &at,
		    "too many transform sets (at most %d)",
		    CONF_MAX_XFORM_SETS);
	nx = reallocarray(c->c_xsets, c->c_nxsets + 1, sizeof(*nx));
	if (nx == NULL)
		return ctok_err_at(p, &at, "out of memory");
	c->c_xsets = nx;
	c->c_xsets[c->c_nxsets++] = xs;
	return 0;
}
