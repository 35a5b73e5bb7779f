/*
 * krbprf ENCTYPE KEYHEX INPUT: print krb_prf_rfc3961(ENCTYPE, KEY, INPUT) in
 * hex.  Used by tests/unit/check_krb_prf.sh to compare src/krb_prf.c with a
 * PRF recomputed from openssl(1) commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "krb_prf.h"

int
main(int argc, char **argv)
{
	uint8_t	key[64], out[KRB_PRF_MAX];
	size_t	kl, ol, i;

	if (argc != 4 || test_hex_decode(argv[2], key, sizeof(key), &kl) != 0) {
		fprintf(stderr, "usage: krbprf enctype keyhex input\n");
		return 2;
	}
	if (krb_prf_rfc3961(atoi(argv[1]), key, kl, (const uint8_t *)argv[3],
	    strlen(argv[3]), out, &ol) == -1) {
		fprintf(stderr, "krbprf: unsupported\n");
		return 1;
	}
	for (i = 0; i < ol; i++)
		printf("%02x", out[i]);
	printf("\n");
	return 0;
}
