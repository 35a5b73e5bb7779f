/*
 * libFuzzer harness for the Kerberos tokens an unauthenticated sender puts
 * in KINK_AP_REQ, KINK_AP_REP and KINK_KRB_ERROR, through src/krb.c's
 * entry points as xact_input.c calls them, against the fixed keys of
 * krb_fixture.h (no KDC: the responder's keytab, our TGT for user-to-user
 * and the initiator's ticket are made in-process).
 *
 * Input: octet 0 picks the token (mod 3: AP-REQ, AP-REP, KRB_ERROR),
 * octet 1 the clock (one of fx_offsets, seconds after the time the stored
 * tokens were made), the rest is the token.  Checks, and traps when one
 * breaks:
 *  - a verified AP-REQ names its client, has a session key and an AP-REP;
 *  - a failed one either leaves nothing or something a KRB_ERROR can be
 *    made from (the skew/expiry rule of RFC 4430 3.4/3.5), and the error
 *    can be made;
 *  - every error maps to an RFC 4120 code and a message.
 *
 * With KINK_FUZZ_KRB_SEEDS=DIR in the environment the harness writes its
 * seed tokens to DIR and exits (tests/fuzz/corpus/krb was made so).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "krb_fixture.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int32_t fx_offsets[8] = {
	0, 1, 600, -600, 2 * 86400, -2 * 86400, 36000, 299
};

static struct fx fx;

static void
check_err(krb_err err)
{
	int rfc = krb_err_rfc(err);

	CHECK(rfc >= 0 && rfc <= 127);
	CHECK(krb_err_str(fx.ctx, err) != NULL);
}

static void
do_ap_req(const uint8_t *p, size_t len)
{
	struct krb_acceptor *acc = NULL;
	struct buf out;
	krb_err err;
	time_t sec;
	int32_t usec;

	buf_init(&out, 0);
	err = krb_rd_req(fx.ctx, p, len, KRB_RDREQ_U2U, &acc);
	check_err(err);
	if (err == 0) {
		CHECK(acc != NULL && krb_acceptor_client(acc) != NULL &&
		    krb_acceptor_key(acc) != NULL);
		CHECK(krb_acceptor_ctime(acc, &sec, &usec) == 0);
		CHECK(krb_acceptor_mk_rep(acc, &out) == 0 && out.b_len > 0);
	}
	if (acc != NULL || err != 0) {
		/* What the responder answers with (RFC 4430 3.4). */
		buf_reset(&out);
		CHECK(krb_mk_error(fx.ctx, krb_err_rfc(err), acc, &out) == 0);
	}
	krb_acceptor_free(acc);
	buf_free(&out);
}

static void
do_ap_rep(const uint8_t *p, size_t len)
{
	krb_err err;

	err = krb_client_rd_rep(fx.client, p, len);
	/* No stored AP-REP can match this run's authenticator. */
	CHECK(err != 0);
	check_err(err);
}

static void
do_krb_error(const uint8_t *p, size_t len)
{
	struct krb_error_info ei;
	krb_err err;
	int32_t off = 0;

	err = krb_rd_error(fx.ctx, p, len, &ei);
	if (err != 0) {
		check_err(err);
		return;
	}
	CHECK(ei.ke_code >= 0);
	/* As if the KINK Cksum had verified: the skew rule runs in full. */
	(void)krb_client_skew(fx.client, &ei, 1);
	if (krb_peer_offset(fx.ctx, FX_ME, &off) == 0 && off != 0)
		CHECK(krb_peer_set_offset(fx.ctx, FX_ME, 0) == 0);
}

static void
seed(const char *dir, const char *name, uint8_t kind, uint8_t clock,
    const void *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK((f = fopen(path, "wb")) != NULL);
	fputc(kind, f);
	fputc(clock, f);
	fwrite(p, 1, len, f);
	CHECK(fclose(f) == 0);
}

static void
write_seeds(const char *dir)
{
	krb5_data req = { KV5M_DATA, 0, NULL }, u2u = { KV5M_DATA, 0, NULL };
	struct krb_acceptor *acc = NULL;
	struct buf b;

	fx_clock(&fx, 0);
	fx_ap_req(&fx, fx.creds, 0, &req);
	fx_ap_req(&fx, fx.u2u_creds, 1, &u2u);
	seed(dir, "00-ap-req", 0, 0, req.data, req.length);
	seed(dir, "01-ap-req-u2u", 0, 0, u2u.data, u2u.length);
	seed(dir, "02-ap-req-skew", 0, 2, req.data, req.length);
	seed(dir, "03-ap-req-expired", 0, 4, req.data, req.length);
	seed(dir, "04-ap-req-not-yet-valid", 0, 5, req.data, req.length);

	/* The AP-REP to a fresh AP-REQ of the harness's client. */
	buf_init(&b, 0);
	CHECK(krb_client_mk_req(fx.client, &b) == 0);
	CHECK(krb_rd_req(fx.ctx, b.b_data, b.b_len, 0, &acc) == 0);
	buf_reset(&b);
	CHECK(krb_acceptor_mk_rep(acc, &b) == 0);
	seed(dir, "05-ap-rep", 1, 0, b.b_data, b.b_len);
	buf_reset(&b);
	CHECK(krb_mk_error(fx.ctx, KRB_AP_ERR_SKEW, acc, &b) == 0);
	seed(dir, "06-krb-error-skew", 2, 0, b.b_data, b.b_len);
	buf_reset(&b);
	CHECK(krb_mk_error(fx.ctx, KRB_AP_ERR_MODIFIED, NULL, &b) == 0);
	seed(dir, "07-krb-error", 2, 0, b.b_data, b.b_len);
	krb_acceptor_free(acc);
	buf_free(&b);
	krb5_free_data_contents(fx.k, &req);
	krb5_free_data_contents(fx.k, &u2u);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("KINK_FUZZ_KRB_SEEDS");

	fx_init(&fx);
	if (dir != NULL) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	fx_clock(&fx, fx_offsets[data[1] % 8]);
	switch (data[0] % 3) {
	case 0:
		do_ap_req(data + 2, size - 2);
		break;
	case 1:
		do_ap_rep(data + 2, size - 2);
		break;
	default:
		do_krb_error(data + 2, size - 2);
		break;
	}
	return 0;
}
