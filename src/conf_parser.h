/*
 * The kinkd.conf parser's own state and its token layer, shared by the
 * parser files only (conf_tok.c, conf_parse.c, conf_suite.c, conf_check.c;
 * include conf.h with CONF_INTERNAL first).  Four files because they are
 * four jobs: conf_tok.c reads tokens and values and words the errors,
 * conf_parse.c is the grammar (one function per production), conf_suite.c
 * the transform suites' part of it, conf_check.c the checks that need the
 * whole file.  Calls go one way: conf_parse.c calls the other three,
 * conf_suite.c and conf_check.c only conf_tok.c.
 */
#ifndef KINK_CONF_PARSER_H
#define KINK_CONF_PARSER_H

#include <sys/types.h>
#include <stdint.h>

#ifndef CONF_INTERNAL
#error "conf_parser.h needs CONF_INTERNAL and conf.h"
#endif

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

/* Tokens (conf_tok.c). */
int	ctok_stopped(const struct conf_parser *);	/* error cap reached */
void	ctok_next(struct conf_parser *);
const struct conf_token *ctok_peek(struct conf_parser *);
/* A token as an error message shows it ("got ..."). */
void	ctok_describe(const struct conf_token *, char *, size_t);
struct conf_where ctok_where(const struct conf_parser *,
	    const struct conf_token *);
int	ctok_is_kw(const struct conf_parser *, const char *kw);

/* Errors: each returns -1, so a production can "return ctok_err_...". */
int	ctok_err_at(struct conf_parser *, const struct conf_where *,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error about the current token. */
int	ctok_err_tok(struct conf_parser *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* expected "a", "b" or "c"<tail>, got X */
int	ctok_err_expected(struct conf_parser *, const char *const *alts,
	    const char *tail);
int	ctok_err_expected1(struct conf_parser *, const char *what);

/* Expect and consume: keywords (index in alts), a token type, values. */
int	ctok_expect_kw(struct conf_parser *, const char *const *alts);
int	ctok_expect_kw1(struct conf_parser *, const char *kw);
int	ctok_expect_type(struct conf_parser *, enum conf_tok, const char *what);
int	ctok_get_string(struct conf_parser *, const char *what, char *out,
	    size_t max);
int	ctok_get_dup_string(struct conf_parser *, const char *what, char **out);
int	ctok_parse_u64(const char *, uint64_t *);
int	ctok_get_num(struct conf_parser *, const char *what, uint64_t min,
	    uint64_t max, uint64_t *out);
int	ctok_parse_dur(const char *, uint64_t *ms);
/* `range` words the allowed range in the error message. */
int	ctok_get_dur(struct conf_parser *, const char *what, uint64_t min_ms,
	    uint64_t max_ms, const char *range, uint64_t *out);
int	ctok_get_addr(struct conf_parser *, struct sockaddr_storage *);
int	ctok_get_net(struct conf_parser *, struct kink_selector *);

/*
 * Whole-file checks and what they fill in (conf_check.c): listen ports,
 * duplicate listen addresses and principals, tunnel endpoints, reqids;
 * then drops the duplicate peers already reported.
 */
void	conf_check_finish(struct conf_parser *);

/*
 * Transform suites (conf_suite.c).  conf_parse_suites: the suites up to
 * the closing "}" (consumed), `open` being the "{" for the empty-list
 * error.  conf_parse_xforms: a whole "transforms NAME { ... }" statement.
 */
struct kink_suite;
struct conf_xform_set;
struct kink_conf;
int	conf_parse_suites(struct conf_parser *, struct kink_suite *, int *n,
	    const struct conf_where *open);
int	conf_parse_xforms(struct conf_parser *);
struct conf_xform_set *conf_xset_find(const struct kink_conf *,
	    const char *name);

#endif
