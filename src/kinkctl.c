/*
 * kinkctl: drive and inspect kinkd over its control socket (include/ctl.h).
 *
 *	kinkctl [-jq] [-s socket] command [arg ...]
 *
 * The command grammar is a set of token tables (ikectl style): each word
 * may be abbreviated to a unique prefix, and an unknown or ambiguous word
 * prints the valid words at that point.  kinkd sends records (data);
 * kinkctl renders them, as text tables or as JSON (-j), from the same
 * decoded structs.  Exit status: 0 ok, 1 daemon or connection error
 * (message on stderr), 2 usage.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ctl.h"
#include "kink.h"
#include "isakmp_num.h"
#include "buf.h"
#include "ctl_msg.h"

#define EXIT_OK		0
#define EXIT_DAEMON	1
#define EXIT_USAGE	2

static int	 opt_json;
static int	 opt_quiet;
static const char *opt_socket = CTL_SOCKET;
/*
 * Seconds to wait for kinkd's whole answer (connect included), so a hung
 * daemon cannot hang a script; 0 = forever.  Above a default exchange
 * (kinkctl initiate answers when it ends: ~23 s of retransmissions with
 * the default "set retransmit", plus the KDC).  monitor has its own -t.
 */
#define KINKCTL_TIMEOUT	60
static long	 opt_timeout = KINKCTL_TIMEOUT;

/* ---- command grammar ---- */

enum tok_type { T_END, T_OPTEND, T_KEYWORD, T_ARG, T_MONITOR_OPTS };

enum action {
	A_NONE, A_SHOW_SA, A_SHOW_PEERS, A_SHOW_XACT, A_SHOW_STATS,
	A_INITIATE, A_DELETE_SA, A_FLUSH_SA, A_RELOAD, A_LOG_VERBOSE,
	A_LOG_BRIEF, A_MONITOR,
	/* argument slots and modifiers */
	A_PEER, A_POLICY, A_SPI, A_FILE, A_KEYS
};

struct token {
	enum tok_type	 t_type;
	const char	*t_word;	/* keyword, or the ARG's placeholder */
	enum action	 t_action;
	const struct token *t_next;
};

struct parse_result {
	enum action	 pr_action;
	struct ctl_req	 pr_req;
	int		 pr_keys;
	/* monitor */
	long		 pr_count;	/* 0 = unlimited */
	long		 pr_timeout;	/* seconds; 0 = none */
#define MAX_EVTYPES 8
	const char	*pr_evtype[MAX_EVTYPES];	/* none = all */
	int		 pr_nevtype;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_show_sa[];
static const struct token t_show_sa_peer[];
static const struct token t_initiate[];
static const struct token t_initiate_policy[];
static const struct token t_delete[];
static const struct token t_delete_spi[];
static const struct token t_flush[];
static const struct token t_flush_sa[];
static const struct token t_flush_peer[];
static const struct token t_reload[];
static const struct token t_log[];
static const struct token t_monitor[];
static const struct token t_end[];

static const struct token t_main[] = {
	{ T_KEYWORD, "show", A_NONE, t_show },
	{ T_KEYWORD, "initiate", A_INITIATE, t_initiate },
	{ T_KEYWORD, "delete", A_NONE, t_delete },
	{ T_KEYWORD, "flush", A_NONE, t_flush },
	{ T_KEYWORD, "reload", A_RELOAD, t_reload },
	{ T_KEYWORD, "log", A_NONE, t_log },
	{ T_KEYWORD, "monitor", A_MONITOR, t_monitor },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_show[] = {
	{ T_KEYWORD, "sa", A_SHOW_SA, t_show_sa },
	{ T_KEYWORD, "peers", A_SHOW_PEERS, t_end },
	{ T_KEYWORD, "xact", A_SHOW_XACT, t_end },
	{ T_KEYWORD, "stats", A_SHOW_STATS, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
/* show sa [peer NAME] [keys], in either order: the tables loop. */
static const struct token t_show_sa[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_KEYWORD, "peer", A_NONE, t_show_sa_peer },
	{ T_KEYWORD, "keys", A_KEYS, t_show_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_show_sa_peer[] = {
	{ T_ARG, "NAME", A_PEER, t_show_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_initiate[] = {
	{ T_ARG, "PEER", A_PEER, t_initiate_policy },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_initiate_policy[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_ARG, "POLICY", A_POLICY, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_delete[] = {
	{ T_KEYWORD, "sa", A_DELETE_SA, t_delete_spi },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_delete_spi[] = {
	{ T_ARG, "SPI", A_SPI, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush[] = {
	{ T_KEYWORD, "sa", A_FLUSH_SA, t_flush_sa },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush_sa[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_KEYWORD, "peer", A_NONE, t_flush_peer },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_flush_peer[] = {
	{ T_ARG, "NAME", A_PEER, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_reload[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_ARG, "FILE", A_FILE, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_log[] = {
	{ T_KEYWORD, "verbose", A_LOG_VERBOSE, t_end },
	{ T_KEYWORD, "brief", A_LOG_BRIEF, t_end },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_monitor[] = {
	{ T_MONITOR_OPTS, NULL, A_NONE, NULL },
	{ T_END, NULL, A_NONE, NULL }
};
static const struct token t_end[] = {
	{ T_OPTEND, NULL, A_NONE, NULL },
	{ T_END, NULL, A_NONE, NULL }
};

static void
usage(void)
{
	fprintf(stderr,
"usage: kinkctl [-jq] [-s socket] [-t seconds] command [arg ...]\n"
"  show sa [peer NAME] [keys] | show peers | show xact | show stats\n"
"  flush sa [peer NAME] | delete sa SPI | initiate PEER [POLICY]\n"
"  reload [FILE] | log verbose|brief\n"
"  monitor [-n count] [-t seconds] [-e type ...]\n"
"options: -j JSON output, -q quiet (no headers or \"ok\"),\n"
"  -s socket (default " CTL_SOCKET "),\n"
"  -t seconds to wait for kinkd's answer (default 60, 0 = no limit;\n"
"  not for monitor)\n"
"show sa keys prints the raw SA keys (root only); nothing else does.\n"
"Words may be abbreviated to a unique prefix.\n");
	exit(EXIT_USAGE);
}

/* The words valid at this point; an optional end is shown as "<end>". */
static void
print_valid(const struct token *t)
{
	fprintf(stderr, "valid commands/args:\n");
	for (int i = 0; t[i].t_type != T_END; i++) {
		if (t[i].t_type == T_OPTEND)
			fprintf(stderr, "  <end of command>\n");
		else if (t[i].t_type == T_KEYWORD)
			fprintf(stderr, "  %s\n", t[i].t_word);
		else if (t[i].t_type == T_ARG)
			fprintf(stderr, "  <%s>\n", t[i].t_word);
		else
			fprintf(stderr,
			    "  [-n count] [-t seconds] [-e type ...]\n");
	}
}

static long
parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "kinkctl: bad %s: %s\n", what, s);
		exit(EXIT_USAGE);
	}
	return v;
}

static uint32_t
parse_spi(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' ||
	    v > UINT32_MAX) {
		fprintf(stderr, "kinkctl: bad SPI: %s (decimal or 0x hex)\n",
		    s);
		exit(EXIT_USAGE);
	}
	return (uint32_t)v;
}

static void
copy_arg(char *dst, size_t size, const char *s, const char *what)
{
	if (strlcpy(dst, s, size) >= size) {
		fprintf(stderr, "kinkctl: %s too long (max %zu): %s\n", what,
		    size - 1, s);
		exit(EXIT_USAGE);
	}
}

static void
monitor_opts(int argc, char **argv, struct parse_result *pr)
{
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(argv[i], "-n") == 0)
			pr->pr_count = parse_num(argv[++i], 1, LONG_MAX,
			    "count");
		else if (strcmp(argv[i], "-t") == 0)
			pr->pr_timeout = parse_num(argv[++i], 1, 86400 * 365,
			    "timeout");
		else if (strcmp(argv[i], "-e") == 0 &&
		    pr->pr_nevtype < MAX_EVTYPES)
			pr->pr_evtype[pr->pr_nevtype++] = argv[++i];
		else
			goto bad;
	}
	return;
bad:
	fprintf(stderr, "kinkctl: bad monitor arguments\n");
	print_valid(t_monitor);
	exit(EXIT_USAGE);
}

static void
set_action(struct parse_result *pr, const struct token *t, const char *word)
{
	if (t->t_type == T_ARG && word[0] == '\0') {
		fprintf(stderr, "kinkctl: empty %s\n", t->t_word);
		exit(EXIT_USAGE);
	}
	switch (t->t_action) {
	case A_NONE:
		break;
	case A_PEER:
		copy_arg(pr->pr_req.cr_peer, sizeof(pr->pr_req.cr_peer), word,
		    "peer name");
		break;
	case A_POLICY:
		copy_arg(pr->pr_req.cr_policy, sizeof(pr->pr_req.cr_policy),
		    word, "policy name");
		break;
	case A_FILE: {
		/* kinkd's cwd is not ours: send an absolute path. */
		char *abs = realpath(word, NULL);

		copy_arg(pr->pr_req.cr_file, sizeof(pr->pr_req.cr_file),
		    abs != NULL ? abs : word, "file name");
		free(abs);
		break;
	}
	case A_SPI:
		pr->pr_req.cr_spi = parse_spi(word);
		break;
	case A_KEYS:
		pr->pr_keys = 1;
		break;
	default:
		pr->pr_action = t->t_action;
		break;
	}
}

static void
parse_command(int argc, char **argv, struct parse_result *pr)
{
	const struct token *table = t_main, *match;
	int i = 0, n;

	memset(pr, 0, sizeof(*pr));
	for (;;) {
		if (table[0].t_type == T_MONITOR_OPTS) {
			monitor_opts(argc - i, argv + i, pr);
			return;
		}
		if (i == argc) {
			if (table[0].t_type == T_OPTEND)
				return;		/* the end is allowed here */
			fprintf(stderr, "kinkctl: missing argument\n");
			print_valid(table);
			exit(EXIT_USAGE);
		}
		match = NULL;
		n = 0;
		/* A keyword that matches exactly wins over prefixes. */
		for (int k = 0; table[k].t_type != T_END; k++) {
			if (table[k].t_type != T_KEYWORD)
				continue;
			if (strcmp(table[k].t_word, argv[i]) == 0) {
				match = &table[k];
				n = 1;
				break;
			}
			if (strncmp(table[k].t_word, argv[i],
			    strlen(argv[i])) == 0) {
				match = &table[k];
				n++;
			}
		}
		if (n == 0) {
			for (int k = 0; table[k].t_type != T_END; k++) {
				if (table[k].t_type == T_ARG) {
					match = &table[k];
					n = 1;
					break;
				}
			}
		}
		if (n != 1) {
			fprintf(stderr, "kinkctl: %s argument: %s\n",
			    n == 0 ? "unknown" : "ambiguous", argv[i]);
			print_valid(table);
			exit(EXIT_USAGE);
		}
		set_action(pr, match, argv[i]);
		table = match->t_next;
		i++;
	}
}

/* ---- output helpers ---- */

/* Text: control characters as \xNN; newlines kept only if `multiline`. */
static void
put_text(FILE *f, const char *s, int multiline)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) ||
		    c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static int
utf8_len(const unsigned char *s)
{
	int n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string; invalid UTF-8 becomes U+FFFD so the output stays valid. */
static void
json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	putchar('"');
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s++);
		} else if (*s == '\n') {
			printf("\\n");
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			printf("\\u%04x", *s++);
		} else if ((n = utf8_len(s)) == 0) {
			printf("\\ufffd");
			s++;
		} else {
			fwrite(s, 1, n, stdout);
			s += n;
		}
	}
	putchar('"');
}

static void
json_key(const char *k, int *first)
{
	printf("%s", *first ? "" : ",");
	*first = 0;
	json_str(k);
	putchar(':');
}

static void
json_kstr(const char *k, const char *v, int *first)
{
	json_key(k, first);
	json_str(v);
}

static void
json_knum(const char *k, uint64_t v, int *first)
{
	json_key(k, first);
	printf("%" PRIu64, v);
}

/* "-" for an address the record leaves unset. */
static const char *
addr_str(const struct ctl_addr *a, char *out, size_t len)
{
	struct sockaddr_storage ss;

	if (ctl_addr_to_sockaddr(a, &ss) != CTL_E_OK) {
		strlcpy(out, "-", len);
		return out;
	}
	return addr_ntop(addr_sa(&ss), out, len);
}

static void
hex_str(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char *
name_or_num(const char *name, unsigned v, char *buf, size_t len)
{
	if (name != NULL)
		return name;
	snprintf(buf, len, "%u", v);
	return buf;
}

static const char *
enc_name(uint16_t id)
{
	switch (id) {
	case 0:			return "none";
	case ESP_DES:		return "des";
	case ESP_3DES:		return "3des";
	case ESP_NULL:		return "null";
	case ESP_AES_CBC:	return "aes-cbc";
	case ESP_AES_CTR:	return "aes-ctr";
	case ESP_AES_GCM_8:	return "aes-gcm-8";
	case ESP_AES_GCM_12:	return "aes-gcm-12";
	case ESP_AES_GCM_16:	return "aes-gcm-16";
	}
	return NULL;
}

static const char *
auth_name(uint16_t id)
{
	switch (id) {
	case 0:				return "none";
	case AUTH_ALG_HMAC_MD5:		return "hmac-md5";
	case AUTH_ALG_HMAC_SHA:		return "hmac-sha1";
	case AUTH_ALG_DES_MAC:		return "des-mac";
	case AUTH_ALG_KPDK:		return "kpdk";
	case AUTH_ALG_HMAC_SHA2_256:	return "hmac-sha2-256";
	case AUTH_ALG_HMAC_SHA2_384:	return "hmac-sha2-384";
	case AUTH_ALG_HMAC_SHA2_512:	return "hmac-sha2-512";
	case AUTH_ALG_AES_XCBC_MAC:	return "aes-xcbc-mac";
	}
	return NULL;
}

static const char *
cmd_name(uint8_t c)
{
	switch (c) {
	case KINK_MSGTYPE_CREATE:	return "CREATE";
	case KINK_MSGTYPE_DELETE:	return "DELETE";
	case KINK_MSGTYPE_REPLY:	return "REPLY";
	case KINK_MSGTYPE_GETTGT:	return "GETTGT";
	case KINK_MSGTYPE_ACK:		return "ACK";
	case KINK_MSGTYPE_STATUS:	return "STATUS";
	}
	return "?";
}

static const char *const sa_state_name[] = {
	[CTL_SA_LARVAL] = "larval", [CTL_SA_MATURE] = "mature",
	[CTL_SA_DYING] = "dying", [CTL_SA_KERNEL_ONLY] = "kernel-only",
	[CTL_SA_MISSING] = "missing",
};
static const char *const peer_state_name[] = {
	[CTL_PEER_UNKNOWN] = "unknown", [CTL_PEER_ALIVE] = "alive",
	[CTL_PEER_SUSPECTED] = "suspected",
};

/* "12s", "5m03s", "2h05m", "3d04h"; "-" when t is 0 (unknown). */
static const char *
age_str(uint64_t since, time_t now, char *out, size_t len)
{
	uint64_t d;

	if (since == 0) {
		strlcpy(out, "-", len);
		return out;
	}
	d = (uint64_t)now > since ? (uint64_t)now - since : 0;
	if (d < 60)
		snprintf(out, len, "%" PRIu64 "s", d);
	else if (d < 3600)
		snprintf(out, len, "%" PRIu64 "m%02" PRIu64 "s", d / 60,
		    d % 60);
	else if (d < 86400)
		snprintf(out, len, "%" PRIu64 "h%02" PRIu64 "m", d / 3600,
		    d / 60 % 60);
	else
		snprintf(out, len, "%" PRIu64 "d%02" PRIu64 "h", d / 86400,
		    d / 3600 % 24);
	return out;
}

/* ---- renderers: text and JSON from the same records ---- */

static void
render_sa(struct ctl_sa *const *v, size_t n, int keys)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], nb[16], nb2[16];
	char enc[40], age[24], hex[2 * CTL_KEY_MAX + 1];
	time_t now = time(NULL);

	if (opt_json) {
		printf("{\"sa\":[");
		for (size_t i = 0; i < n; i++) {
			const struct ctl_sa *s = v[i];
			int f = 1;
			char spi[16];

			printf("%s{", i ? "," : "");
			json_kstr("peer", s->cs_peer, &f);
			json_kstr("policy", s->cs_policy, &f);
			json_kstr("dir", s->cs_dir == CTL_SA_DIR_IN ? "in" :
			    "out", &f);
			json_kstr("proto", s->cs_proto == PROTO_IPSEC_ESP ?
			    "esp" : "ah", &f);
			snprintf(spi, sizeof(spi), "0x%08x", s->cs_spi);
			json_kstr("spi", spi, &f);
			json_kstr("src", addr_str(&s->cs_src, src,
			    sizeof(src)), &f);
			json_kstr("dst", addr_str(&s->cs_dst, dst,
			    sizeof(dst)), &f);
			json_kstr("mode", s->cs_mode == ENCAP_MODE_TUNNEL ?
			    "tunnel" : "transport", &f);
			json_kstr("state", sa_state_name[s->cs_state], &f);
			json_kstr("enc", name_or_num(enc_name(s->cs_enc),
			    s->cs_enc, nb, sizeof(nb)), &f);
			json_knum("enc_id", s->cs_enc, &f);
			json_knum("enc_keylen", s->cs_enc_keylen, &f);
			json_kstr("auth", name_or_num(auth_name(s->cs_auth),
			    s->cs_auth, nb2, sizeof(nb2)), &f);
			json_knum("auth_id", s->cs_auth, &f);
			if (keys) {
				hex_str(s->cs_enckey, s->cs_enckey_len, hex);
				json_kstr("enckey", hex, &f);
				hex_str(s->cs_authkey, s->cs_authkey_len, hex);
				json_kstr("authkey", hex, &f);
			}
			json_knum("life_soft_secs", s->cs_life_soft_secs, &f);
			json_knum("life_hard_secs", s->cs_life_hard_secs, &f);
			json_knum("life_soft_bytes", s->cs_life_soft_bytes,
			    &f);
			json_knum("life_hard_bytes", s->cs_life_hard_bytes,
			    &f);
			json_knum("created", s->cs_created, &f);
			json_key("bytes", &f);
			if (s->cs_bytes == CTL_UNKNOWN64)
				printf("null");
			else
				printf("%" PRIu64, s->cs_bytes);
			printf("}");
		}
		printf("]}\n");
		explicit_bzero(hex, sizeof(hex));
		return;
	}
	if (!opt_quiet)
		printf("%-12s %-3s %-5s %-10s %-15s %-15s %-9s %-15s %-13s "
		    "%-6s %-6s %s\n", "PEER", "DIR", "PROTO", "SPI", "SRC",
		    "DST", "MODE", "ENC", "AUTH", "STATE", "AGE", "BYTES");
	for (size_t i = 0; i < n; i++) {
		const struct ctl_sa *s = v[i];

		if (s->cs_proto == PROTO_IPSEC_AH)
			strlcpy(enc, "-", sizeof(enc));
		else if (s->cs_enc_keylen != 0)
			snprintf(enc, sizeof(enc), "%s/%u",
			    name_or_num(enc_name(s->cs_enc), s->cs_enc, nb,
			    sizeof(nb)), s->cs_enc_keylen);
		else
			strlcpy(enc, name_or_num(enc_name(s->cs_enc),
			    s->cs_enc, nb, sizeof(nb)), sizeof(enc));
		/* A kernel-only SA of no configured policy has no peer. */
		put_text(stdout, s->cs_peer[0] ? s->cs_peer : "-", 0);
		printf("%*s %-3s %-5s 0x%08x %-15s %-15s %-9s %-15s %-13s "
		    "%-6s %-6s ",
		    strlen(s->cs_peer) < 12 ? (int)(12 -
		    (s->cs_peer[0] ? strlen(s->cs_peer) : 1)) : 0, "",
		    s->cs_dir == CTL_SA_DIR_IN ? "in" : "out",
		    s->cs_proto == PROTO_IPSEC_ESP ? "esp" : "ah", s->cs_spi,
		    addr_str(&s->cs_src, src, sizeof(src)),
		    addr_str(&s->cs_dst, dst, sizeof(dst)),
		    s->cs_mode == ENCAP_MODE_TUNNEL ? "tunnel" : "transport",
		    enc, name_or_num(auth_name(s->cs_auth), s->cs_auth, nb2,
		    sizeof(nb2)), sa_state_name[s->cs_state],
		    age_str(s->cs_created, now, age, sizeof(age)));
		if (s->cs_bytes == CTL_UNKNOWN64)
			printf("-\n");
		else
			printf("%" PRIu64 "\n", s->cs_bytes);
		if (keys) {
			hex_str(s->cs_enckey, s->cs_enckey_len, hex);
			printf("  enckey  %s\n", hex[0] ? hex : "-");
			hex_str(s->cs_authkey, s->cs_authkey_len, hex);
			printf("  authkey %s\n", hex[0] ? hex : "-");
		}
	}
	explicit_bzero(hex, sizeof(hex));
}

static void
render_peers(struct ctl_peer *const *v, size_t n)
{
	char a[INET6_ADDRSTRLEN], age[24];
	time_t now = time(NULL);

	if (opt_json) {
		printf("{\"peers\":[");
		for (size_t i = 0; i < n; i++) {
			const struct ctl_peer *p = v[i];
			int f = 1;

			printf("%s{", i ? "," : "");
			json_kstr("name", p->cp_name, &f);
			json_kstr("principal", p->cp_principal, &f);
			json_kstr("state", peer_state_name[p->cp_state], &f);
			json_key("addresses", &f);
			printf("[");
			for (unsigned k = 0; k < p->cp_naddr; k++) {
				printf("%s", k ? "," : "");
				json_str(addr_str(&p->cp_addr[k], a,
				    sizeof(a)));
			}
			printf("]");
			json_key("epoch", &f);
			if (p->cp_epoch_known)
				printf("%" PRIu32, p->cp_epoch);
			else
				printf("null");
			json_key("clock_offset", &f);
			printf("%" PRId32, p->cp_clock_offset);
			json_knum("last_seen", p->cp_last_seen, &f);
			json_knum("sas", p->cp_nsa, &f);
			printf("}");
		}
		printf("]}\n");
		return;
	}
	if (!opt_quiet)
		printf("%-12s %-9s %-10s %-7s %-9s %-4s %-30s %s\n", "NAME",
		    "STATE", "EPOCH", "OFFSET", "LASTSEEN", "SAS", "PRINCIPAL",
		    "ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		const struct ctl_peer *p = v[i];
		char ep[16];

		if (p->cp_epoch_known)
			snprintf(ep, sizeof(ep), "0x%08x", p->cp_epoch);
		else
			strlcpy(ep, "-", sizeof(ep));
		put_text(stdout, p->cp_name, 0);
		printf("%*s %-9s %-10s %-7" PRId32 " %-9s %-4" PRIu32 " ",
		    strlen(p->cp_name) < 12 ? (int)(12 - strlen(p->cp_name)) :
		    0, "", peer_state_name[p->cp_state], ep,
		    p->cp_clock_offset, age_str(p->cp_last_seen, now, age,
		    sizeof(age)), p->cp_nsa);
		put_text(stdout, p->cp_principal, 0);
		printf("%*s ", strlen(p->cp_principal) < 30 ?
		    (int)(30 - strlen(p->cp_principal)) : 0, "");
		for (unsigned k = 0; k < p->cp_naddr; k++)
			printf("%s%s", k ? "," : "", addr_str(&p->cp_addr[k],
			    a, sizeof(a)));
		printf("%s\n", p->cp_naddr ? "" : "-");
	}
}

static void
render_xact(struct ctl_xact *const *v, size_t n)
{
	if (opt_json) {
		printf("{\"xact\":[");
		for (size_t i = 0; i < n; i++) {
			const struct ctl_xact *x = v[i];
			int f = 1;
			char xid[16];

			printf("%s{", i ? "," : "");
			snprintf(xid, sizeof(xid), "0x%08x", x->cx_xid);
			json_kstr("xid", xid, &f);
			json_kstr("peer", x->cx_peer, &f);
			json_kstr("cmd", cmd_name(x->cx_cmd), &f);
			json_kstr("role", x->cx_role == CTL_ROLE_INITIATOR ?
			    "initiator" : "responder", &f);
			json_kstr("state", x->cx_state, &f);
			json_knum("tries", x->cx_tries, &f);
			json_knum("age_ms", x->cx_age_ms, &f);
			printf("}");
		}
		printf("]}\n");
		return;
	}
	if (!opt_quiet)
		printf("%-10s %-12s %-7s %-9s %-16s %-5s %s\n", "XID", "PEER",
		    "CMD", "ROLE", "STATE", "TRIES", "AGE");
	for (size_t i = 0; i < n; i++) {
		const struct ctl_xact *x = v[i];

		printf("0x%08x ", x->cx_xid);
		put_text(stdout, x->cx_peer, 0);
		printf("%*s %-7s %-9s ", strlen(x->cx_peer) < 12 ?
		    (int)(12 - strlen(x->cx_peer)) : 0, "",
		    cmd_name(x->cx_cmd), x->cx_role == CTL_ROLE_INITIATOR ?
		    "initiator" : "responder");
		put_text(stdout, x->cx_state, 0);
		printf("%*s %-5u %" PRIu32 ".%03" PRIu32 "s\n",
		    strlen(x->cx_state) < 16 ? (int)(16 - strlen(x->cx_state)) :
		    0, "", x->cx_tries, x->cx_age_ms / 1000,
		    x->cx_age_ms % 1000);
	}
}

static void
render_stats(struct ctl_stats *const *v, size_t n)
{
	int f = 1;

	if (opt_json)
		printf("{\"stats\":{");
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i]->cst_n; k++) {
			const struct ctl_stat *st = &v[i]->cst_v[k];

			if (opt_json) {
				json_knum(st->cst_name, st->cst_value, &f);
				continue;
			}
			put_text(stdout, st->cst_name, 0);
			printf("%*s %20" PRIu64 "\n",
			    strlen(st->cst_name) < 32 ?
			    (int)(32 - strlen(st->cst_name)) : 0, "",
			    st->cst_value);
		}
	}
	if (opt_json)
		printf("}}\n");
}

static void
render_event(const struct ctl_event *ev)
{
	char ts[64];
	struct tm tm;
	time_t t = (time_t)(ev->ce_time_ms / 1000);
	int f = 1;

	if (opt_json) {
		printf("{");
		json_knum("time_ms", ev->ce_time_ms, &f);
		json_kstr("type", ev->ce_type, &f);
		json_kstr("peer", ev->ce_peer, &f);
		json_knum("xid", ev->ce_xid, &f);
		json_kstr("text", ev->ce_text, &f);
		printf("}\n");
	} else {
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("%s.%03uZ ", ts, (unsigned)(ev->ce_time_ms % 1000));
		put_text(stdout, ev->ce_type, 0);
		if (ev->ce_peer[0] != '\0') {
			printf(" peer=");
			put_text(stdout, ev->ce_peer, 0);
		}
		if (ev->ce_xid != 0)
			printf(" xid=0x%08x", ev->ce_xid);
		if (ev->ce_text[0] != '\0') {
			printf(" ");
			put_text(stdout, ev->ce_text, 0);
		}
		printf("\n");
	}
	fflush(stdout);
}

/* ---- connection ---- */

struct conn {
	int		 fd;
	uint8_t		*rbuf;
	size_t		 rlen;
	size_t		 rcap;
};

static int
conn_open(struct conn *c)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, opt_socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "kinkctl: socket path too long: %s\n",
		    opt_socket);
		return -1;
	}
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "kinkctl: socket: %s\n", strerror(errno));
		return -1;
	}
	/*
	 * Bounds connect (a full backlog of a daemon that stopped
	 * accepting) and the request's write, as conn_recv's deadline
	 * bounds the answer.
	 */
	if (opt_timeout > 0) {
		struct timeval tv = { opt_timeout, 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv));
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			fprintf(stderr, "kinkctl: kinkd did not accept the "
			    "connection within %ld s\n", opt_timeout);
		else
			fprintf(stderr, "kinkctl: connect %s: %s\n",
			    opt_socket, strerror(errno));
		return -1;
	}
	c->rcap = CTL_HDR_LEN + CTL_MAXMSG;
	if ((c->rbuf = malloc(c->rcap)) == NULL) {
		fprintf(stderr, "kinkctl: out of memory\n");
		return -1;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	if (c->rbuf != NULL) {
		explicit_bzero(c->rbuf, c->rcap);
		free(c->rbuf);
	}
}

static int
conn_send(struct conn *c, const struct ctl_msg *m)
{
	struct buf b;
	size_t off = 0;
	ssize_t w;
	int e;

	buf_init(&b, CTL_HDR_LEN + CTL_MAXMSG);
	if ((e = ctl_msg_encode(&b, m)) != CTL_E_OK) {
		fprintf(stderr, "kinkctl: cannot encode request: %s\n",
		    ctl_strerror(e));
		buf_free(&b);
		return -1;
	}
	while (off < b.b_len) {
		w = write(c->fd, b.b_data + off, b.b_len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			fprintf(stderr, "kinkctl: kinkd did not read the "
			    "request within %ld s\n", opt_timeout);
			buf_free(&b);
			return -1;
		}
		if (w <= 0) {
			fprintf(stderr, "kinkctl: write: %s\n",
			    strerror(errno));
			buf_free(&b);
			return -1;
		}
		off += (size_t)w;
	}
	buf_free(&b);
	return 0;
}

/*
 * Read the next message.  Returns 1 with *m filled, 0 on timeout (deadline
 * in ms since the epoch; 0 = none), -1 on error (reported).
 */
static int
conn_recv(struct conn *c, struct ctl_msg *m, uint64_t deadline)
{
	struct pollfd pfd;
	struct timeval tv;
	size_t used;
	ssize_t r;
	int e, timeout;

	for (;;) {
		e = ctl_msg_decode(c->rbuf, c->rlen, m, &used);
		if (e == CTL_E_OK) {
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
			c->rlen -= used;
			return 1;
		}
		if (e != CTL_E_SHORT) {
			fprintf(stderr, "kinkctl: bad message from kinkd: %s\n",
			    ctl_strerror(e));
			return -1;
		}
		timeout = -1;
		if (deadline != 0) {
			uint64_t now;

			gettimeofday(&tv, NULL);
			now = (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (now >= deadline)
				return 0;
			timeout = (int)(deadline - now);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((e = poll(&pfd, 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "kinkctl: poll: %s\n", strerror(errno));
			return -1;
		}
		if (e == 0)
			continue;	/* the deadline check returns 0 */
		r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fprintf(stderr, "kinkctl: read: %s\n", strerror(errno));
			return -1;
		}
		if (r == 0) {
			fprintf(stderr, "kinkctl: connection closed by "
			    "kinkd\n");
			return -1;
		}
		c->rlen += (size_t)r;
	}
}

/* Records collected until END, so JSON is only printed when complete. */
struct records {
	void	**r_v;
	size_t	  r_n;
	size_t	  r_cap;
	size_t	  r_size;	/* bytes per record */
};

static int
records_add(struct records *rs, const void *rec)
{
	void *copy, **nv;

	if (rs->r_n == rs->r_cap) {
		size_t ncap = rs->r_cap ? rs->r_cap * 2 : 16;

		if ((nv = reallocarray(rs->r_v, ncap, sizeof(*nv))) == NULL)
			return -1;
		rs->r_v = nv;
		rs->r_cap = ncap;
	}
	if ((copy = malloc(rs->r_size)) == NULL)
		return -1;
	memcpy(copy, rec, rs->r_size);
	rs->r_v[rs->r_n++] = copy;
	return 0;
}

static void
records_free(struct records *rs)
{
	for (size_t i = 0; i < rs->r_n; i++) {
		explicit_bzero(rs->r_v[i], rs->r_size);
		free(rs->r_v[i]);
	}
	free(rs->r_v);
}

static uint8_t
request_type(enum action a)
{
	switch (a) {
	case A_SHOW_SA:		return CTL_REQ_SHOW_SA;
	case A_SHOW_PEERS:	return CTL_REQ_SHOW_PEERS;
	case A_SHOW_XACT:	return CTL_REQ_SHOW_XACT;
	case A_SHOW_STATS:	return CTL_REQ_SHOW_STATS;
	case A_INITIATE:	return CTL_REQ_INITIATE;
	case A_DELETE_SA:	return CTL_REQ_DELETE_SA;
	case A_FLUSH_SA:	return CTL_REQ_FLUSH_SA;
	case A_RELOAD:		return CTL_REQ_RELOAD;
	case A_LOG_VERBOSE:
	case A_LOG_BRIEF:	return CTL_REQ_LOG;
	case A_MONITOR:		return CTL_REQ_MONITOR;
	default:		return 0;
	}
}

/* Which record type each request may be answered with (0 = none). */
static uint8_t
record_type(uint8_t req)
{
	switch (req) {
	case CTL_REQ_SHOW_SA:		return CTL_REC_SA;
	case CTL_REQ_SHOW_PEERS:	return CTL_REC_PEER;
	case CTL_REQ_SHOW_XACT:		return CTL_REC_XACT;
	case CTL_REQ_SHOW_STATS:	return CTL_REC_STATS;
	case CTL_REQ_MONITOR:		return CTL_REC_EVENT;
	}
	return 0;
}

static size_t
record_size(uint8_t rec)
{
	switch (rec) {
	case CTL_REC_SA:	return sizeof(struct ctl_sa);
	case CTL_REC_PEER:	return sizeof(struct ctl_peer);
	case CTL_REC_XACT:	return sizeof(struct ctl_xact);
	case CTL_REC_STATS:	return sizeof(struct ctl_stats);
	}
	return 0;
}

static int
daemon_error(const struct ctl_error *er)
{
	size_t n = strlen(er->er_text);

	put_text(stderr, er->er_text, 1);
	if (n == 0 || er->er_text[n - 1] != '\n')
		fputc('\n', stderr);
	return EXIT_DAEMON;
}

static uint64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static int
evtype_wanted(const struct parse_result *pr, const char *type)
{
	if (pr->pr_nevtype == 0)
		return 1;
	for (int i = 0; i < pr->pr_nevtype; i++)
		if (strcmp(pr->pr_evtype[i], type) == 0)
			return 1;
	return 0;
}

static int
run_monitor(struct conn *c, struct ctl_msg *m, const struct parse_result *pr,
    uint32_t seq)
{
	uint64_t deadline = pr->pr_timeout ? now_ms() +
	    (uint64_t)pr->pr_timeout * 1000 : 0;
	long seen = 0;
	int r;

	for (;;) {
		if ((r = conn_recv(c, m, deadline)) < 0)
			return EXIT_DAEMON;
		if (r == 0) {
			if (pr->pr_count == 0)
				return EXIT_OK;
			fprintf(stderr, "kinkctl: monitor: timeout after %lds, "
			    "%ld of %ld events\n", pr->pr_timeout, seen,
			    pr->pr_count);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_seq != seq) {
			fprintf(stderr, "kinkctl: answer for another request "
			    "(seq %u)\n", m->m_hdr.ch_seq);
			return EXIT_DAEMON;
		}
		if (m->m_hdr.ch_type == CTL_ERROR)
			return daemon_error(&m->m_error);
		if (m->m_hdr.ch_type == CTL_END)
			return EXIT_OK;
		if (m->m_hdr.ch_type != CTL_REC_EVENT) {
			fprintf(stderr, "kinkctl: unexpected %s record\n",
			    ctl_type_name(m->m_hdr.ch_type));
			return EXIT_DAEMON;
		}
		if (strcmp(m->m_event.ce_type, CTL_EV_SUBSCRIBED) == 0) {
			/* Lets scripts know no later event can be missed. */
			if (!opt_quiet)
				render_event(&m->m_event);
			continue;
		}
		if (!evtype_wanted(pr, m->m_event.ce_type))
			continue;
		render_event(&m->m_event);
		if (pr->pr_count != 0 && ++seen >= pr->pr_count)
			return EXIT_OK;
	}
}

static int
run(const struct parse_result *pr)
{
	struct conn c;
	struct ctl_msg *m;
	struct records rs;
	uint8_t rtype;
	uint32_t seq = (uint32_t)getpid();
	int rv = EXIT_DAEMON, r;
	uint64_t deadline = opt_timeout > 0 ? now_ms() +
	    (uint64_t)opt_timeout * 1000 : 0;

	memset(&rs, 0, sizeof(rs));
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fprintf(stderr, "kinkctl: out of memory\n");
		return EXIT_DAEMON;
	}
	if (conn_open(&c) == -1)
		goto out;
	m->m_hdr.ch_type = request_type(pr->pr_action);
	m->m_hdr.ch_flags = pr->pr_keys ? CTL_F_KEYS : 0;
	m->m_hdr.ch_seq = seq;
	m->m_req = pr->pr_req;
	m->m_req.cr_level = pr->pr_action == A_LOG_VERBOSE ? CTL_LOG_VERBOSE :
	    CTL_LOG_BRIEF;
	if (conn_send(&c, m) == -1)
		goto out;
	if (pr->pr_action == A_MONITOR) {
		rv = run_monitor(&c, m, pr, seq);
		goto out;
	}
	rtype = record_type(m->m_hdr.ch_type);
	rs.r_size = record_size(rtype);
	for (;;) {
		if ((r = conn_recv(&c, m, deadline)) < 0)
			goto out;
		if (r == 0) {
			fprintf(stderr, "kinkctl: kinkd did not answer within "
			    "%ld s\n", opt_timeout);
			goto out;
		}
		if (m->m_hdr.ch_seq != seq) {
			fprintf(stderr, "kinkctl: answer for another request "
			    "(seq %u)\n", m->m_hdr.ch_seq);
			goto out;
		}
		if (m->m_hdr.ch_type == CTL_ERROR) {
			rv = daemon_error(&m->m_error);
			goto out;
		}
		if (m->m_hdr.ch_type == CTL_END)
			break;
		if (rtype == 0 || m->m_hdr.ch_type != rtype) {
			fprintf(stderr, "kinkctl: unexpected %s record\n",
			    ctl_type_name(m->m_hdr.ch_type));
			goto out;
		}
		if (records_add(&rs, &m->m_sa) == -1) {
			fprintf(stderr, "kinkctl: out of memory\n");
			goto out;
		}
	}
	switch (rtype) {
	case CTL_REC_SA:
		render_sa((struct ctl_sa *const *)rs.r_v, rs.r_n,
		    pr->pr_keys);
		break;
	case CTL_REC_PEER:
		render_peers((struct ctl_peer *const *)rs.r_v, rs.r_n);
		break;
	case CTL_REC_XACT:
		render_xact((struct ctl_xact *const *)rs.r_v, rs.r_n);
		break;
	case CTL_REC_STATS:
		render_stats((struct ctl_stats *const *)rs.r_v, rs.r_n);
		break;
	default:
		if (opt_json)
			printf("{\"result\":\"ok\"}\n");
		else if (!opt_quiet)
			printf("ok\n");
		break;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "kinkctl: stdout: %s\n", strerror(errno));
		goto out;
	}
	rv = EXIT_OK;
out:
	records_free(&rs);
	conn_close(&c);
	explicit_bzero(m, sizeof(*m));
	free(m);
	return rv;
}

int
main(int argc, char **argv)
{
	struct parse_result pr;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	/* "+": options stop at the command, so monitor's -n/-t are its own. */
	while ((ch = getopt(argc, argv, "+jqs:t:")) != -1) {
		switch (ch) {
		case 'j':
			opt_json = 1;
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 's':
			opt_socket = optarg;
			break;
		case 't': {
			const char *errstr;

			opt_timeout = (long)strtonum(optarg, 0, 86400, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "kinkctl: -t %s: %s\n", optarg,
				    errstr);
				usage();
			}
			break;
		}
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	parse_command(argc, argv, &pr);
	if (pr.pr_action == A_NONE) {
		fprintf(stderr, "kinkctl: incomplete command\n");
		usage();
	}
	return run(&pr);
}
