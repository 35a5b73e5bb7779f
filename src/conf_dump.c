/*
 * The normalized kinkd.conf printer (kinkd -nv) and the name tables that
 * the parser and the printer share.  The output spells out every setting
 * with its effective value, so it doubles as the parser's test oracle:
 * parse(dump(c)) must dump to the same text.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#define CONF_INTERNAL
#include "addr.h"
#include "conf.h"
#include "isakmp_num.h"

const struct conf_enc conf_encs[] = {
	{ "aes-128-gcm-16",	ESP_AES_GCM_16,	128, 1 },
	{ "aes-192-gcm-16",	ESP_AES_GCM_16,	192, 1 },
	{ "aes-256-gcm-16",	ESP_AES_GCM_16,	256, 1 },
	{ "aes-128-cbc",	ESP_AES_CBC,	128, 0 },
	{ "aes-192-cbc",	ESP_AES_CBC,	192, 0 },
	{ "aes-256-cbc",	ESP_AES_CBC,	256, 0 },
	{ "3des",		ESP_3DES,	0,   0 },
	{ "null",		ESP_NULL,	0,   0 },
	{ NULL, 0, 0, 0 }
};

const struct conf_auth conf_auths[] = {
	{ "hmac-md5",		AUTH_ALG_HMAC_MD5,	AH_MD5 },
	{ "hmac-sha1",		AUTH_ALG_HMAC_SHA,	AH_SHA },
	{ "hmac-sha2-256",	AUTH_ALG_HMAC_SHA2_256,	AH_SHA2_256 },
	{ "hmac-sha2-384",	AUTH_ALG_HMAC_SHA2_384,	AH_SHA2_384 },
	{ "hmac-sha2-512",	AUTH_ALG_HMAC_SHA2_512,	AH_SHA2_512 },
	{ NULL, 0, 0 }
};

/* Only the groups doi_ipsec implements. */
const struct conf_group conf_groups[] = {
	{ "none",	0 },
	{ "modp2048",	OAKLEY_GROUP_MODP2048 },
	{ "ecp256",	OAKLEY_GROUP_ECP256 },
	{ NULL, 0 }
};

const char *
conf_enc_name(uint8_t id, uint16_t keylen)
{
	for (const struct conf_enc *e = conf_encs; e->e_name; e++)
		if (e->e_id == id && e->e_keylen == keylen)
			return e->e_name;
	return NULL;
}

const char *
conf_auth_name(uint16_t attr)
{
	for (const struct conf_auth *a = conf_auths; a->a_name; a++)
		if (a->a_attr == attr)
			return a->a_name;
	return NULL;
}

const char *
conf_pfs_name(uint16_t group)
{
	for (const struct conf_group *g = conf_groups; g->g_name; g++)
		if (g->g_id == group)
			return g->g_name;
	return NULL;
}

const char *
conf_backend_name(enum conf_backend b)
{
	switch (b) {
	case CONF_BACKEND_AUTO:
		return "auto";
	case CONF_BACKEND_PFKEY:
		return "pfkey";
	case CONF_BACKEND_XFRM:
		return "xfrm";
	case CONF_BACKEND_NULL:
		return "null";
	}
	return "?";
}

static void
put_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Largest unit that divides exactly, so the value reads back unchanged. */
static void
put_dur(FILE *fp, uint64_t ms)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },
	};

	if (ms == 0) {
		fputs("0s", fp);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			fprintf(fp, "%llu%s",
			    (unsigned long long)(ms / units[i].ms), units[i].u);
			return;
		}
	fprintf(fp, "%llums", (unsigned long long)ms);
}

static void
put_addr(FILE *fp, const struct sockaddr_storage *ss)
{
	char s[INET6_ADDRSTRLEN];

	fputs(addr_ntop(addr_sa(ss), s, sizeof(s)), fp);
}

static void
put_sel(FILE *fp, const struct kink_selector *sel)
{
	int full = sel->sel_addr.ss_family == AF_INET ? 32 : 128;

	if (sel->sel_var != 0)
		fputs(sel->sel_var == SEL_VAR_ME ? "me" : "peer", fp);
	else
		put_addr(fp, &sel->sel_addr);
	if (sel->sel_var == 0 && sel->sel_plen != full)
		fprintf(fp, "/%u", sel->sel_plen);
	if (sel->sel_port)
		fprintf(fp, " port %u", sel->sel_port);
}

static void
put_suite(FILE *fp, const struct kink_suite *s)
{
	const char *sep = "";

	if (s->s_esp.x_present) {
		const char *e = conf_enc_name(s->s_esp.x_id, s->s_esp.x_keylen);

		fprintf(fp, "esp enc %s", e ? e : "?");
		if (s->s_esp.x_auth) {
			const char *a = conf_auth_name(s->s_esp.x_auth);

			fprintf(fp, " auth %s", a ? a : "?");
		}
		sep = " ";
	}
	if (s->s_ah.x_present) {
		const char *a = conf_auth_name(s->s_ah.x_auth);

		fprintf(fp, "%sah auth %s", sep, a ? a : "?");
	}
	if (s->s_ipcomp.x_present)
		fprintf(fp, " ipcomp %s", s->s_ipcomp.x_id == IPCOMP_DEFLATE ?
		    "deflate" : "?");
}

static void
put_proto(FILE *fp, uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		fputs("tcp", fp);
		break;
	case IPPROTO_UDP:
		fputs("udp", fp);
		break;
	case IPPROTO_ICMP:
		fputs("icmp", fp);
		break;
	case IPPROTO_ICMPV6:
		fputs("ipv6-icmp", fp);
		break;
	case IPPROTO_SCTP:
		fputs("sctp", fp);
		break;
	default:
		fprintf(fp, "%u", p);
	}
}

static void
put_policy(FILE *fp, const struct kink_policy *pol)
{
	const char *g;

	fputs("\tpolicy ", fp);
	put_string(fp, pol->pol_name);
	/* The suites tell which protocol the policy negotiates. */
	fprintf(fp, " %s %s from ",
	    pol->pol_nsuites > 0 && !pol->pol_suites[0].s_esp.x_present ?
	    "ah" : "esp",
	    pol->pol_mode == ENCAP_MODE_TUNNEL ? "tunnel" : "transport");
	put_sel(fp, &pol->pol_src);
	fputs(" to ", fp);
	put_sel(fp, &pol->pol_dst);
	if (pol->pol_ulproto) {
		fputs(" proto ", fp);
		put_proto(fp, pol->pol_ulproto);
	}
	if (pol->pol_mode == ENCAP_MODE_TUNNEL) {
		fputs(" \\\n\t    local ", fp);
		put_addr(fp, &pol->pol_tun_local);
		fputs(" remote ", fp);
		put_addr(fp, &pol->pol_tun_remote);
	}
	fputs(" \\\n\t    transforms { ", fp);
	for (int i = 0; i < pol->pol_nsuites; i++) {
		if (i)
			fputs(", ", fp);
		put_suite(fp, &pol->pol_suites[i]);
	}
	fputs(" } \\\n\t    lifetime ", fp);
	put_dur(fp, (uint64_t)pol->pol_life_secs * 1000);
	if (pol->pol_life_kbytes)
		fprintf(fp, " %u kbytes", pol->pol_life_kbytes);
	g = conf_pfs_name(pol->pol_pfs_group);
	fprintf(fp, " pfs %s%s reqid %u\n", g ? g : "?",
	    pol->pol_pfs_optional ? " optional" : "", pol->pol_reqid);
}

void
conf_dump(const struct kink_conf *c, FILE *fp)
{
	fputs("# kinkd.conf, normalized\n", fp);
	if (c->c_principal) {
		fputs("set principal ", fp);
		put_string(fp, c->c_principal);
		fputc('\n', fp);
	}
	fputs("set keytab ", fp);
	put_string(fp, c->c_keytab);
	fprintf(fp, "\nset port %u\n", c->c_port);
	fputs("set retransmit ", fp);
	put_dur(fp, c->c_retrans_ms);
	fputs(" max ", fp);
	put_dur(fp, c->c_retrans_max_ms);
	fprintf(fp, " tries %u\n", c->c_retrans_tries);
	fputs("set dead-peer ", fp);
	put_dur(fp, c->c_deadpeer_ms);
	fputs("\nset reconcile ", fp);
	put_dur(fp, c->c_reconcile_ms);
	fputs("\nset delete-grace ", fp);
	put_dur(fp, c->c_delgrace_ms);
	fputs("\nset reply-cache ", fp);
	put_dur(fp, c->c_replycache_ms);
	fprintf(fp, "\nset backend %s\n", conf_backend_name(c->c_backend));
	fprintf(fp, "set on-shutdown %s\n",
	    c->c_shutdown == CONF_SHUTDOWN_KEEP ? "keep" : "flush");
	fprintf(fp, "set max-xact-peer %u\n", c->c_max_xact_peer);
	fprintf(fp, "set max-xact %u\n", c->c_max_xact);
	fputs("set socket ", fp);
	put_string(fp, c->c_socket);
	fputs("\nset user ", fp);
	put_string(fp, c->c_user);
	fprintf(fp, "\nset strict-privileges %s\n",
	    c->c_strict_priv ? "yes" : "no");
	fprintf(fp, "set verbose %d\n", c->c_verbose);
	for (int i = 0; i < c->c_nnameservers; i++) {
		fputs("set nameserver ", fp);
		put_addr(fp, &c->c_nameservers[i]);
		fputc('\n', fp);
	}
	fprintf(fp, "set max-learned-peers %u\nset learned-idle ",
	    c->c_max_learned);
	put_dur(fp, c->c_learned_idle_ms);
	fputc('\n', fp);
	if (c->c_krb_workers != CONF_KRB_WORKERS_AUTO)
		fprintf(fp, "set krb-workers %d\n", c->c_krb_workers);
	for (int i = 0; i < c->c_nlisten; i++) {
		fputs("listen on ", fp);
		put_addr(fp, &c->c_listen[i].l_addr);
		fprintf(fp, " port %u\n",
		    addr_port(addr_sa(&c->c_listen[i].l_addr)));
	}
	for (int i = 0; i < c->c_nxsets; i++) {
		const struct conf_xform_set *xs = &c->c_xsets[i];

		fputs("\ntransforms ", fp);
		put_string(fp, xs->xs_name);
		fputs(" {\n", fp);
		for (int j = 0; j < xs->xs_nsuites; j++) {
			fputc('\t', fp);
			put_suite(fp, &xs->xs_suites[j]);
			fputc('\n', fp);
		}
		fputs("}\n", fp);
	}
	for (int i = 0; i < c->c_npeers; i++) {
		const struct conf_peer *p = &c->c_peers[i];

		fputs("\npeer ", fp);
		put_string(fp, p->p_name);
		fputs(" {\n\tprincipal ", fp);
		put_string(fp, p->p_principal);
		fputc('\n', fp);
		for (int j = 0; j < p->p_naddrs; j++) {
			fputs("\taddress ", fp);
			put_addr(fp, &p->p_addrs[j]);
			fputc('\n', fp);
		}
		if (p->p_nranges > 0) {
			static const char *const finds[] = {
				"?", "dns", "pattern", "file"
			};

			fputs("\taddresses", fp);
			for (int j = 0; j < p->p_nranges; j++) {
				fputc(' ', fp);
				put_addr(fp, &p->p_ranges[j].sel_addr);
				fprintf(fp, "/%u", p->p_ranges[j].sel_plen);
			}
			fprintf(fp, "\n\tfind %s", finds[p->p_find <= 3 ?
			    p->p_find : 0]);
			if (p->p_find_arg != NULL) {
				fputc(' ', fp);
				put_string(fp, p->p_find_arg);
			}
			fputc('\n', fp);
		}
		if (p->p_local.ss_family) {
			fputs("\tlocal ", fp);
			put_addr(fp, &p->p_local);
			fputc('\n', fp);
		}
		fprintf(fp, "\tprf %s\n",
		    p->p_prf == CONF_PRF_MIT ? "mit" : "rfc3961");
		fprintf(fp, "\tu2u %s\n", p->p_u2u ? "allow" : "deny");
		fprintf(fp, "\tresponder-lifetime %s\n",
		    p->p_resp_life ? "send" : "omit");
		for (int j = 0; j < p->p_npolicies; j++)
			put_policy(fp, &p->p_policies[j]);
		fputs("}\n", fp);
	}
}
