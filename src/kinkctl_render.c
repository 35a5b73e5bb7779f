/*
 * kinkctl's renderers: the records kinkd sent, as text tables or as JSON
 * (-j), both from the same decoded structs.  JSON is valid whatever the
 * strings hold (escaped; invalid UTF-8 becomes U+FFFD); text escapes
 * control characters.  Keys are printed only for "show sa keys".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "isakmp_num.h"
#include "sa.h"
#include "kink.h"
#include "kinkctl.h"

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

/*
 * Text from the daemon on a terminal: C0 controls, DEL, C1 controls
 * (U+0080..U+009F, which some terminals obey as CSI) and octets outside
 * valid UTF-8 as \xHH, so no record can move the cursor or recolour.
 */
void
kinkctl_put_text(FILE *f, const char *str, int multiline)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	while (*s != '\0') {
		if (*s < 0x80) {
			if ((*s < 0x20 && !(multiline && (*s == '\n' ||
			    *s == '\t'))) || *s == 0x7f)
				fprintf(f, "\\x%02x", *s);
			else
				fputc(*s, f);
			s++;
		} else if ((n = utf8_len(s)) == 0 ||
		    (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
			fprintf(f, "\\x%02x", *s);
			s++;
		} else {
			fwrite(s, 1, (size_t)n, f);
			s += n;
		}
	}
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
json_knull(const char *k, int *first)
{
	json_key(k, first);
	printf("null");
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

/* RFC 2407 4.4.5. */
static const char *
ipcomp_name(uint16_t id)
{
	switch (id) {
	case IPCOMP_OUI:	return "oui";
	case IPCOMP_DEFLATE:	return "deflate";
	case IPCOMP_LZS:	return "lzs";
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

void
kinkctl_render_sa(struct ctl_sa *const *v, size_t n, int keys, int flags)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], nb[16], nb2[16];
	char enc[40], age[24], hex[2 * CTL_KEY_MAX + 1];
	time_t now = time(NULL);

	if ((flags & KINKCTL_JSON)) {
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
			json_kstr("proto", sa_proto_name(s->cs_proto), &f);
			snprintf(spi, sizeof(spi), "0x%08x", s->cs_spi);
			json_kstr("spi", spi, &f);
			json_kstr("src", addr_str(&s->cs_src, src,
			    sizeof(src)), &f);
			json_kstr("dst", addr_str(&s->cs_dst, dst,
			    sizeof(dst)), &f);
			json_kstr("mode", s->cs_mode == ENCAP_MODE_TUNNEL ?
			    "tunnel" : "transport", &f);
			json_kstr("state", sa_state_name[s->cs_state], &f);
			json_kstr("enc", name_or_num(s->cs_proto ==
			    PROTO_IPCOMP ? ipcomp_name(s->cs_enc) :
			    enc_name(s->cs_enc), s->cs_enc, nb, sizeof(nb)),
			    &f);
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
			if (s->cs_reason[0] != '\0')
				json_kstr("reason", s->cs_reason, &f);
			else {
				json_key("reason", &f);
				printf("null");
			}
			printf("}");
		}
		printf("]}\n");
		explicit_bzero(hex, sizeof(hex));
		return;
	}
	if (!(flags & KINKCTL_QUIET))
		printf("%-12s %-3s %-5s %-10s %-15s %-15s %-9s %-15s %-13s "
		    "%-6s %-6s %-6s %s\n", "PEER", "DIR", "PROTO", "SPI",
		    "SRC", "DST", "MODE", "ENC", "AUTH", "STATE", "AGE",
		    "BYTES", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct ctl_sa *s = v[i];

		if (s->cs_proto == PROTO_IPSEC_AH)
			strlcpy(enc, "-", sizeof(enc));
		else if (s->cs_proto == PROTO_IPCOMP)
			strlcpy(enc, name_or_num(ipcomp_name(s->cs_enc),
			    s->cs_enc, nb, sizeof(nb)), sizeof(enc));
		else if (s->cs_enc_keylen != 0)
			snprintf(enc, sizeof(enc), "%s/%u",
			    name_or_num(enc_name(s->cs_enc), s->cs_enc, nb,
			    sizeof(nb)), s->cs_enc_keylen);
		else
			strlcpy(enc, name_or_num(enc_name(s->cs_enc),
			    s->cs_enc, nb, sizeof(nb)), sizeof(enc));
		/* A kernel-only SA of no configured policy has no peer. */
		kinkctl_put_text(stdout, s->cs_peer[0] ? s->cs_peer : "-", 0);
		printf("%*s %-3s %-5s 0x%08x %-15s %-15s %-9s %-15s %-13s "
		    "%-6s %-6s ",
		    strlen(s->cs_peer) < 12 ? (int)(12 -
		    (s->cs_peer[0] ? strlen(s->cs_peer) : 1)) : 0, "",
		    s->cs_dir == CTL_SA_DIR_IN ? "in" : "out",
		    sa_proto_name(s->cs_proto), s->cs_spi,
		    addr_str(&s->cs_src, src, sizeof(src)),
		    addr_str(&s->cs_dst, dst, sizeof(dst)),
		    s->cs_mode == ENCAP_MODE_TUNNEL ? "tunnel" : "transport",
		    enc, name_or_num(auth_name(s->cs_auth), s->cs_auth, nb2,
		    sizeof(nb2)), sa_state_name[s->cs_state],
		    age_str(s->cs_created, now, age, sizeof(age)));
		if (s->cs_bytes == CTL_UNKNOWN64)
			printf("-");
		else
			printf("%" PRIu64, s->cs_bytes);
		/* Last, so the columns before it stay one word each. */
		if (s->cs_reason[0] != '\0') {
			printf(" ");
			kinkctl_put_text(stdout, s->cs_reason, 0);
		}
		printf("\n");
		if (keys) {
			hex_str(s->cs_enckey, s->cs_enckey_len, hex);
			printf("  enckey  %s\n", hex[0] ? hex : "-");
			hex_str(s->cs_authkey, s->cs_authkey_len, hex);
			printf("  authkey %s\n", hex[0] ? hex : "-");
		}
	}
	explicit_bzero(hex, sizeof(hex));
}

void
kinkctl_render_peers(struct ctl_peer *const *v, size_t n, int flags)
{
	char a[INET6_ADDRSTRLEN], age[24];
	time_t now = time(NULL);

	if ((flags & KINKCTL_JSON)) {
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
			json_key("last_error", &f);
			if (p->cp_lasterr[0] != '\0') {
				int g = 1;

				printf("{");
				json_kstr("text", p->cp_lasterr, &g);
				json_knum("time", p->cp_lasterr_time, &g);
				printf("}");
			} else
				printf("null");
			json_knum("rto_ms", p->cp_rto_ms, &f);
			json_key("rtt", &f);
			if (p->cp_rtt_samples > 0) {
				int g = 1;

				printf("{");
				json_knum("srtt_ms", p->cp_srtt_ms, &g);
				json_knum("rttvar_ms", p->cp_rttvar_ms, &g);
				json_knum("samples", p->cp_rtt_samples, &g);
				printf("}");
			} else
				printf("null");
			json_key("learned", &f);
			if (p->cp_learned) {
				int g = 1;

				printf("{");
				json_kstr("range", p->cp_range, &g);
				json_kstr("how", p->cp_how, &g);
				printf("}");
			} else
				printf("null");
			printf("}");
		}
		printf("]}\n");
		return;
	}
	if (!(flags & KINKCTL_QUIET))
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
		kinkctl_put_text(stdout, p->cp_name, 0);
		printf("%*s %-9s %-10s %-7" PRId32 " %-9s %-4" PRIu32 " ",
		    strlen(p->cp_name) < 12 ? (int)(12 - strlen(p->cp_name)) :
		    0, "", peer_state_name[p->cp_state], ep,
		    p->cp_clock_offset, age_str(p->cp_last_seen, now, age,
		    sizeof(age)), p->cp_nsa);
		kinkctl_put_text(stdout, p->cp_principal, 0);
		printf("%*s ", strlen(p->cp_principal) < 30 ?
		    (int)(30 - strlen(p->cp_principal)) : 0, "");
		for (unsigned k = 0; k < p->cp_naddr; k++)
			printf("%s%s", k ? "," : "", addr_str(&p->cp_addr[k],
			    a, sizeof(a)));
		printf("%s\n", p->cp_naddr ? "" : "-");
		if (p->cp_lasterr[0] != '\0') {
			printf("  last error %s ago: ", age_str(
			    p->cp_lasterr_time, now, age, sizeof(age)));
			kinkctl_put_text(stdout, p->cp_lasterr, 0);
			printf("\n");
		}
		if (p->cp_rtt_samples > 0)
			printf("  round trip %" PRIu32 " ms (rttvar %" PRIu32
			    " ms, %" PRIu32 " samples), first retransmit after "
			    "%" PRIu32 " ms\n", p->cp_srtt_ms, p->cp_rttvar_ms,
			    p->cp_rtt_samples, p->cp_rto_ms);
		if (p->cp_learned) {
			printf("  learned from range peer ");
			kinkctl_put_text(stdout, p->cp_range, 0);
			printf(", confirmed by ");
			kinkctl_put_text(stdout, p->cp_how, 0);
			printf("\n");
		}
	}
}

void
kinkctl_render_xact(struct ctl_xact *const *v, size_t n, int flags)
{
	if ((flags & KINKCTL_JSON)) {
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
	if (!(flags & KINKCTL_QUIET))
		printf("%-10s %-12s %-7s %-9s %-16s %-5s %s\n", "XID", "PEER",
		    "CMD", "ROLE", "STATE", "TRIES", "AGE");
	for (size_t i = 0; i < n; i++) {
		const struct ctl_xact *x = v[i];

		printf("0x%08x ", x->cx_xid);
		kinkctl_put_text(stdout, x->cx_peer, 0);
		printf("%*s %-7s %-9s ", strlen(x->cx_peer) < 12 ?
		    (int)(12 - strlen(x->cx_peer)) : 0, "",
		    cmd_name(x->cx_cmd), x->cx_role == CTL_ROLE_INITIATOR ?
		    "initiator" : "responder");
		kinkctl_put_text(stdout, x->cx_state, 0);
		printf("%*s %-5u %" PRIu32 ".%03" PRIu32 "s\n",
		    strlen(x->cx_state) < 16 ? (int)(16 - strlen(x->cx_state)) :
		    0, "", x->cx_tries, x->cx_age_ms / 1000,
		    x->cx_age_ms % 1000);
	}
}

void
kinkctl_render_stats(struct ctl_stats *const *v, size_t n, int flags)
{
	int f = 1;

	if ((flags & KINKCTL_JSON))
		printf("{\"stats\":{");
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i]->cst_n; k++) {
			const struct ctl_stat *st = &v[i]->cst_v[k];

			if ((flags & KINKCTL_JSON)) {
				json_knum(st->cst_name, st->cst_value, &f);
				continue;
			}
			kinkctl_put_text(stdout, st->cst_name, 0);
			printf("%*s %20" PRIu64 "\n",
			    strlen(st->cst_name) < 32 ?
			    (int)(32 - strlen(st->cst_name)) : 0, "",
			    st->cst_value);
		}
	}
	if ((flags & KINKCTL_JSON))
		printf("}}\n");
}

void
kinkctl_render_event(const struct ctl_event *ev, int flags)
{
	char ts[64];
	struct tm tm;
	time_t t = (time_t)(ev->ce_time_ms / 1000);
	int f = 1;

	if ((flags & KINKCTL_JSON)) {
		printf("{");
		json_knum("time_ms", ev->ce_time_ms, &f);
		json_kstr("type", ev->ce_type, &f);
		/* As in the tables: XIDs as "0x..." strings, none = null. */
		if (ev->ce_peer[0] != '\0')
			json_kstr("peer", ev->ce_peer, &f);
		else
			json_knull("peer", &f);
		if (ev->ce_xid != 0) {
			char x[16];

			snprintf(x, sizeof(x), "0x%08x", ev->ce_xid);
			json_kstr("xid", x, &f);
		} else
			json_knull("xid", &f);
		json_kstr("text", ev->ce_text, &f);
		printf("}\n");
	} else {
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("%s.%03uZ ", ts, (unsigned)(ev->ce_time_ms % 1000));
		kinkctl_put_text(stdout, ev->ce_type, 0);
		if (ev->ce_peer[0] != '\0') {
			printf(" peer=");
			kinkctl_put_text(stdout, ev->ce_peer, 0);
		}
		if (ev->ce_xid != 0)
			printf(" xid=0x%08x", ev->ce_xid);
		if (ev->ce_text[0] != '\0') {
			printf(" ");
			kinkctl_put_text(stdout, ev->ce_text, 0);
		}
		printf("\n");
	}
	fflush(stdout);
}

/* show self's "key" records ("kvno N enctype") as a JSON array. */
static void
self_keys_json(struct ctl_info *const *v, size_t n, int *f)
{
	int fk = 1;

	json_key("keys", f);
	printf("[");
	for (size_t i = 0; i < n; i++) {
		unsigned kvno;
		int off = 0, k2 = 1;

		if (strcmp(v[i]->ci_name, "key") != 0 ||
		    sscanf(v[i]->ci_value, "kvno %u %n", &kvno, &off) != 1 ||
		    off == 0)
			continue;
		printf("%s{", fk ? "" : ",");
		fk = 0;
		json_knum("kvno", kvno, &k2);
		json_kstr("enctype", v[i]->ci_value + off, &k2);
		printf("}");
	}
	printf("]");
}

/* A space-separated list (kernel_enc, _auth, _comp) as a JSON array. */
static void
self_words_json(const char *k, const char *val, int *f)
{
	char w[CTL_TEXT_MAX + 1];
	int fw = 1;

	json_key(k, f);
	printf("[");
	while (*val != '\0') {
		size_t n = strcspn(val, " ");

		if (n > 0 && n < sizeof(w)) {
			memcpy(w, val, n);
			w[n] = '\0';
			printf("%s", fw ? "" : ",");
			fw = 0;
			json_str(w);
		}
		val += n;
		val += strspn(val, " ");
	}
	printf("]");
}

/*
 * show self: one "name value" line per INFO record (a repeated name, like
 * listen or key, gives one line each); JSON keeps the names as keys, the
 * repeatable "listen" and "key" (as "keys") always arrays and the counts
 * as numbers.
 */
void
kinkctl_render_self(struct ctl_info *const *v, size_t n, int flags)
{
	int f = 1, fl = 1;

	if (!(flags & KINKCTL_JSON)) {
		for (size_t i = 0; i < n; i++) {
			kinkctl_put_text(stdout, v[i]->ci_name, 0);
			printf("%*s ", strlen(v[i]->ci_name) < 10 ?
			    (int)(10 - strlen(v[i]->ci_name)) : 0, "");
			kinkctl_put_text(stdout, v[i]->ci_value, 0);
			printf("\n");
		}
		return;
	}
	printf("{\"self\":{");
	for (size_t i = 0; i < n; i++) {
		const char *k = v[i]->ci_name, *val = v[i]->ci_value;
		char *end;
		unsigned long long num;

		if (strcmp(k, "listen") == 0 || strcmp(k, "key") == 0)
			continue;
		if (strcmp(k, "kernel_enc") == 0 ||
		    strcmp(k, "kernel_auth") == 0 ||
		    strcmp(k, "kernel_comp") == 0) {
			self_words_json(k, val, &f);
			continue;
		}
		num = strtoull(val, &end, 10);
		if ((strcmp(k, "pid") == 0 || strcmp(k, "uptime_s") == 0 ||
		    strcmp(k, "krb_workers") == 0) &&
		    *val != '\0' && *end == '\0')
			json_knum(k, num, &f);
		else
			json_kstr(k, val, &f);
	}
	self_keys_json(v, n, &f);
	json_key("listen", &f);
	printf("[");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i]->ci_name, "listen") != 0)
			continue;
		printf("%s", fl ? "" : ",");
		fl = 0;
		json_str(v[i]->ci_value);
	}
	printf("]}}\n");
}

/* kinkctl version: ours, and the daemon's from its INFO records. */
void
kinkctl_render_version(const char *client, struct ctl_info *const *v,
    size_t n, int flags)
{
	const char *daemon = NULL;
	int f = 1;

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->ci_name, "version") == 0)
			daemon = v[i]->ci_value;
	if ((flags & KINKCTL_JSON)) {
		printf("{");
		json_kstr("kinkctl", client, &f);
		if (daemon != NULL)
			json_kstr("kinkd", daemon, &f);
		else {
			json_key("kinkd", &f);
			printf("null");
		}
		printf("}\n");
		return;
	}
	printf("kinkctl %s\nkinkd ", client);
	kinkctl_put_text(stdout, daemon != NULL ? daemon : "unknown", 0);
	printf("\n");
}

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

/* kinkd's gauges among the STATS names; everything else only grows. */
static int
prom_is_gauge(const char *name)
{
	return strcmp(name, "xact_active") == 0 ||
	    strcmp(name, "sa_count") == 0 || strcmp(name, "uptime_ms") == 0;
}

static void
prom_peer_series(struct ctl_peer *const *p, size_t np, const char *metric,
    const char *type, const char *help, int which)
{
	printf("# HELP kinkd_%s %s\n# TYPE kinkd_%s %s\n", metric, help,
	    metric, type);
	for (size_t i = 0; i < np; i++) {
		printf("kinkd_%s{peer=\"", metric);
		prom_label(p[i]->cp_name);
		printf("\"} ");
		switch (which) {
		case 0:
			printf("%" PRIu32 "\n", p[i]->cp_nsa);
			break;
		case 1:
			printf("%d\n", p[i]->cp_state == CTL_PEER_ALIVE);
			break;
		case 2:
			printf("%" PRId32 "\n", p[i]->cp_clock_offset);
			break;
		default:
			printf("%" PRIu64 "\n", p[i]->cp_last_seen);
			break;
		}
	}
}

void
kinkctl_render_prometheus(struct ctl_stats *const *v, size_t n,
    struct ctl_peer *const *p, size_t np)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i]->cst_n; k++) {
			const struct ctl_stat *st = &v[i]->cst_v[k];
			int g = prom_is_gauge(st->cst_name);
			char name[CTL_STAT_NAME_MAX + 16];
			size_t j;

			/* Metric names are [a-zA-Z0-9_:]: map the rest. */
			snprintf(name, sizeof(name), "kinkd_%s%s",
			    st->cst_name, g ? "" : "_total");
			for (j = 0; name[j] != '\0'; j++)
				if (!isalnum((unsigned char)name[j]) &&
				    name[j] != '_' && name[j] != ':')
					name[j] = '_';
			printf("# TYPE %s %s\n%s %" PRIu64 "\n", name,
			    g ? "gauge" : "counter", name, st->cst_value);
		}
	}
	prom_peer_series(p, np, "peer_sas", "gauge",
	    "SAs kinkd holds with the peer", 0);
	prom_peer_series(p, np, "peer_up", "gauge",
	    "1 if the peer answered within the dead-peer interval", 1);
	prom_peer_series(p, np, "peer_clock_offset_seconds", "gauge",
	    "peer clock minus ours", 2);
	prom_peer_series(p, np, "peer_last_seen_seconds", "gauge",
	    "Unix time the peer was last heard from, 0 = never", 3);
}

static const char *
pol_dir_name(uint8_t d)
{
	return d == CTL_POL_DIR_OUT ? "out" : d == CTL_POL_DIR_IN ? "in" :
	    "fwd";
}

static const char *
pol_kernel_name(uint8_t k)
{
	return k == CTL_POL_K_YES ? "yes" : k == CTL_POL_K_NO ? "no" :
	    "unknown";
}

static const char *
ulproto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 0:		return "any";
	case 1:		return "icmp";
	case 6:		return "tcp";
	case 17:	return "udp";
	case 58:	return "ipv6-icmp";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static void
pol_sel_json(const char *k, const struct ctl_addr *a, uint8_t plen, int *f)
{
	char s[64];
	int g = 1;

	json_key(k, f);
	putchar('{');
	json_kstr("addr", addr_str(a, s, sizeof(s)), &g);
	json_knum("prefix", plen, &g);
	json_knum("port", a->ca_port, &g);
	putchar('}');
}

static void
pol_json(const struct ctl_policy *p)
{
	int f = 1;

	putchar('{');
	json_kstr("peer", p->cpo_peer, &f);
	json_kstr("name", p->cpo_name, &f);
	json_knum("reqid", p->cpo_reqid, &f);
	json_kstr("mode", p->cpo_mode == ENCAP_MODE_TUNNEL ? "tunnel" :
	    "transport", &f);
	pol_sel_json("src", &p->cpo_src, p->cpo_src_plen, &f);
	pol_sel_json("dst", &p->cpo_dst, p->cpo_dst_plen, &f);
	json_knum("proto", p->cpo_ulproto, &f);
	json_knum("priority", p->cpo_priority, &f);
	json_key("dirs", &f);
	putchar('[');
	for (unsigned d = 0; d < p->cpo_ndir; d++) {
		int g = 1;

		printf("%s{", d ? "," : "");
		json_kstr("dir", pol_dir_name(p->cpo_dir[d]), &g);
		json_kstr("kernel", pol_kernel_name(p->cpo_kernel[d]), &g);
		putchar('}');
	}
	printf("]}");
}

/*
 * show policies: a block per policy, the selectors from this host's side,
 * then one line per kernel SPD entry saying whether the kernel has it.
 */
void
kinkctl_render_policies(struct ctl_policy *const *v, size_t n, int flags)
{
	char s[64], d[64], pb[8];

	if ((flags & KINKCTL_JSON)) {
		printf("{\"policies\":[");
		for (size_t i = 0; i < n; i++) {
			printf("%s", i ? "," : "");
			pol_json(v[i]);
		}
		printf("]}\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ctl_policy *p = v[i];

		printf("peer ");
		kinkctl_put_text(stdout, p->cpo_peer, 0);
		printf(" policy ");
		kinkctl_put_text(stdout, p->cpo_name, 0);
		printf(" reqid %" PRIu32 " %s priority %" PRIu32 "\n",
		    p->cpo_reqid, p->cpo_mode == ENCAP_MODE_TUNNEL ?
		    "tunnel" : "transport", p->cpo_priority);
		printf("  %s/%u port %u -> %s/%u port %u proto %s\n",
		    addr_str(&p->cpo_src, s, sizeof(s)), p->cpo_src_plen,
		    p->cpo_src.ca_port, addr_str(&p->cpo_dst, d, sizeof(d)),
		    p->cpo_dst_plen, p->cpo_dst.ca_port,
		    ulproto_name(p->cpo_ulproto, pb, sizeof(pb)));
		for (unsigned k = 0; k < p->cpo_ndir; k++)
			printf("  %s kernel: %s\n", pol_dir_name(p->cpo_dir[k]),
			    pol_kernel_name(p->cpo_kernel[k]));
	}
}
