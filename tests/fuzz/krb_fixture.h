/*
 * A Kerberos world without a KDC for the harnesses that reach src/krb.c
 * (fuzz_krb, fuzz_inner): fixed keys, a MEMORY keytab for our service
 * principal, tickets sealed in-process, and a clock the harness sets for
 * every input so that checked-in tokens stay inside (or outside) their
 * validity window on any day the corpus is replayed.
 *
 * This reaches into krb_int.h, which src/ keeps to the krb files: a
 * ticket that did not come from a KDC can only be handed to
 * krb_client_new through the layer's own constructor, and the TGT that
 * user-to-user verification uses can only be planted there.
 */
#ifndef KINK_FUZZ_KRB_FIXTURE_H
#define KINK_FUZZ_KRB_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "krb_int.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

/* 2026-01-01T00:00:00Z: the time every stored token was made at. */
#define FX_T0		1767225600
#define FX_REALM	"FUZZ.TEST"
#define FX_ME		"kink/beta.test@" FX_REALM
#define FX_PEER		"kink/alpha.test@" FX_REALM
#define FX_KEYTAB	"MEMORY:kinkd-fuzz"
#define FX_ETYPE	ENCTYPE_AES256_CTS_HMAC_SHA1_96

/* Not secrets: the point is that they never change between runs. */
static const uint8_t fx_service_key[32] = "kinkd fuzz service key 32 octet";
static const uint8_t fx_session_key[32] = "kinkd fuzz session key 32 octet";
static const uint8_t fx_tgt_key[32] = "kinkd fuzz tgt session key ....";

/* Exported by libkrb5 but declared only in MIT's private k5-int.h. */
krb5_error_code encode_krb5_ticket(const krb5_ticket *, krb5_data **);
krb5_error_code krb5_encrypt_tkt_part(krb5_context, const krb5_keyblock *,
    krb5_ticket *);

struct fx {
	struct event_base	*base;
	struct krb_ctx		*ctx;		/* the daemon's side (beta) */
	krb5_context		 k;		/* the harness's own */
	krb5_creds		*creds;		/* alpha's ticket for beta */
	krb5_creds		*u2u_creds;	/* the same, under the TGT key */
	struct krb_client	*client;	/* alpha's, one authenticator */
};

static void
fx_kb(krb5_keyblock *kb, const uint8_t *key)
{
	memset(kb, 0, sizeof(*kb));
	kb->magic = KV5M_KEYBLOCK;
	kb->enctype = FX_ETYPE;
	kb->length = 32;
	kb->contents = (krb5_octet *)key;
}

/* The harness's context and the daemon's see the same clock: T0 + off. */
static void
fx_clock(struct fx *fx, int32_t off)
{
	krb5_set_real_time(fx->k, (krb5_timestamp)(FX_T0 + off), 0);
	if (fx->ctx != NULL)
		krb5_set_real_time(fx->ctx->kc_ctx,
		    (krb5_timestamp)(FX_T0 + off), 0);
}

/* A ticket for FX_ME from FX_PEER, sealed in `seal`, as creds. */
static krb5_creds *
fx_ticket(struct fx *fx, const uint8_t *seal)
{
	krb5_context k = fx->k;
	krb5_enc_tkt_part etp;
	krb5_ticket t;
	krb5_keyblock skey, sess;
	krb5_data *der = NULL;
	krb5_creds *c;

	CHECK((c = calloc(1, sizeof(*c))) != NULL);
	CHECK(krb5_parse_name(k, FX_PEER, &c->client) == 0);
	CHECK(krb5_parse_name(k, FX_ME, &c->server) == 0);
	fx_kb(&sess, fx_session_key);
	CHECK(krb5_copy_keyblock_contents(k, &sess, &c->keyblock) == 0);
	c->times.authtime = c->times.starttime = FX_T0 - 60;
	c->times.endtime = FX_T0 + 10 * 3600;
	c->times.renew_till = 0;

	memset(&etp, 0, sizeof(etp));
	etp.magic = KV5M_ENC_TKT_PART;
	etp.flags = TKT_FLG_INITIAL;
	etp.session = &sess;
	etp.client = c->client;
	etp.transited.tr_type = KRB5_DOMAIN_X500_COMPRESS;
	etp.transited.tr_contents.magic = KV5M_DATA;
	etp.times = c->times;
	memset(&t, 0, sizeof(t));
	t.magic = KV5M_TICKET;
	t.server = c->server;
	t.enc_part2 = &etp;
	fx_kb(&skey, seal);
	CHECK(krb5_encrypt_tkt_part(k, &skey, &t) == 0);
	t.enc_part.kvno = 1;
	CHECK(encode_krb5_ticket(&t, &der) == 0);
	c->ticket = *der;
	free(der);
	krb5_free_data_contents(k, &t.enc_part.ciphertext);
	return c;
}

/* An AP-REQ from FX_PEER made at the clock's time with `c`. */
static inline void
fx_ap_req(struct fx *fx, krb5_creds *c, int u2u, krb5_data *out)
{
	krb5_auth_context ac = NULL;
	krb5_flags opts = AP_OPTS_MUTUAL_REQUIRED;

	if (u2u)
		opts |= AP_OPTS_USE_SESSION_KEY;
	CHECK(krb5_auth_con_init(fx->k, &ac) == 0);
	CHECK(krb5_mk_req_extended(fx->k, &ac, opts, NULL, c, out) == 0);
	krb5_auth_con_free(fx->k, ac);
}

static void
fx_conf(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[1024];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/kinkd-fuzz-krb5.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");

	/* No KDC at all: the TGT fetch krb_ctx_new starts fails at once
	 * instead of looking for one in DNS. */
	CHECK((fd = mkstemp(path)) != -1);
	CHECK((f = fdopen(fd, "w")) != NULL);
	fprintf(f, "[libdefaults]\n default_realm = %s\n"
	    " dns_lookup_kdc = false\n dns_lookup_realm = false\n"
	    " rdns = false\n[realms]\n %s = {\n }\n", FX_REALM, FX_REALM);
	fclose(f);
	setenv("KRB5_CONFIG", path, 1);
	/* The file is read at each krb5_init_context: keep it until exit. */
}

static void
fx_init(struct fx *fx)
{
	struct krb_ctx_opts o = { "none:", 1000 };
	krb5_keytab kt;
	krb5_keytab_entry e;
	krb5_keyblock tgt;
	struct buf b;

	memset(fx, 0, sizeof(*fx));
	fx_conf();
	CHECK(krb5_init_context(&fx->k) == 0);
	CHECK(krb5_kt_resolve(fx->k, FX_KEYTAB, &kt) == 0);
	memset(&e, 0, sizeof(e));
	CHECK(krb5_parse_name(fx->k, FX_ME, &e.principal) == 0);
	e.vno = 1;
	fx_kb(&e.key, fx_service_key);
	CHECK(krb5_kt_add_entry(fx->k, kt, &e) == 0);
	krb5_free_principal(fx->k, e.principal);
	/* A MEMORY keytab lives while a handle on it is open: keep kt. */

	CHECK((fx->base = event_base_new()) != NULL);
	CHECK((fx->ctx = krb_ctx_new(fx->base, FX_ME, FX_KEYTAB, &o)) != NULL);
	/* The TGT a KDC would have given us, for user-to-user. */
	CHECK((fx->ctx->kc_tgt = calloc(1, sizeof(krb5_creds))) != NULL);
	fx_kb(&tgt, fx_tgt_key);
	CHECK(krb5_copy_keyblock_contents(fx->ctx->kc_ctx, &tgt,
	    &fx->ctx->kc_tgt->keyblock) == 0);

	fx_clock(fx, 0);
	fx->creds = fx_ticket(fx, fx_service_key);
	fx->u2u_creds = fx_ticket(fx, fx_tgt_key);
	/* Alpha's side, with one authenticator for AP-REPs to match. */
	{
		krb5_creds *c;
		struct krb_ticket *t;

		CHECK(krb5_copy_creds(fx->ctx->kc_ctx, fx->creds, &c) == 0);
		CHECK((t = krb_ticket_new(fx->ctx, c, FX_ME, 0)) != NULL);
		CHECK((fx->client = krb_client_new(fx->ctx, t)) != NULL);
		krb_ticket_free(t);
	}
	buf_init(&b, 0);
	CHECK(krb_client_mk_req(fx->client, &b) == 0);
	buf_free(&b);
}

#endif
