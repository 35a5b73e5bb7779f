/*
 * krbprf ENCTYPE KEYHEX INPUT: print krb_prf_rfc3961(ENCTYPE, KEY, INPUT) in
 * hex (src/krb_prf.c alone).
 * krbprf -k rfc3961|mit ENCTYPE KEYHEX INPUT: print krb_prf(KEY, kind,
 * INPUT), the function kinkd derives KEYMAT with (src/krb.c: krb_prf.c or
 * libkrb5's PRF, by enctype and kind), on a key of ENCTYPE.
 * Used by tests/unit/check_krb_prf.sh to compare both with PRFs recomputed
 * from openssl(1) commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "krb_int.h"

static int
usage(void)
{
	fprintf(stderr, "usage: krbprf [-k rfc3961|mit] enctype keyhex input\n");
	return 2;
}

static void
put_hex(const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* krb_prf through a krb_ctx that holds nothing but a krb5 context: the
 * PRF needs no KDC, keytab or loop. */
static int
via_krb(const char *kind, int enctype, const uint8_t *key, size_t kl,
    const char *in)
{
	struct krb_ctx	 ctx;
	struct krb_key	*k;
	uint8_t		 out[KRB_PRF_MAX];
	size_t		 ol;
	int		 rc = 1;

	memset(&ctx, 0, sizeof(ctx));
	if (krb5_init_context(&ctx.kc_ctx) != 0) {
		fprintf(stderr, "krbprf: krb5_init_context failed\n");
		return 1;
	}
	if ((k = krb_key_new(&ctx, enctype, key, kl)) == NULL)
		fprintf(stderr, "krbprf: enctype %d unknown to libkrb5\n",
		    enctype);
	else if (krb_prf(k, strcmp(kind, "mit") == 0 ? KRB_PRF_MIT :
	    KRB_PRF_RFC3961, (const uint8_t *)in, strlen(in), out, &ol) != 0)
		fprintf(stderr, "krbprf: krb_prf failed\n");
	else {
		put_hex(out, ol);
		rc = 0;
	}
	krb_key_free(k);
	krb5_free_context(ctx.kc_ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	uint8_t	key[64], out[KRB_PRF_MAX];
	size_t	kl, ol;

	if (argc == 6 && strcmp(argv[1], "-k") == 0) {
		if ((strcmp(argv[2], "mit") != 0 &&
		    strcmp(argv[2], "rfc3961") != 0) ||
		    test_hex_decode(argv[4], key, sizeof(key), &kl) != 0)
			return usage();
		return via_krb(argv[2], atoi(argv[3]), key, kl, argv[5]);
	}
	if (argc != 4 || test_hex_decode(argv[2], key, sizeof(key), &kl) != 0)
		return usage();
	if (krb_prf_rfc3961(atoi(argv[1]), key, kl, (const uint8_t *)argv[3],
	    strlen(argv[3]), out, &ol) == -1) {
		fprintf(stderr, "krbprf: unsupported\n");
		return 1;
	}
	put_hex(out, ol);
	return 0;
}
