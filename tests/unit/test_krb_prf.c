/*
 * Known answers for the RFC 3961 PRF (src/krb_prf.c).  Every expected value
 * comes from outside the code under test: RFC 3961 appendix A (n-fold, DR,
 * DK), RFC 3962 appendix B (AES-CTS), the racoon2/MIT observation in
 * rfc4430-notes.md (h)7, and relations recomputed here with raw libcrypto.
 * tests/unit/check_krb_prf.sh recomputes the PRF with openssl(1) commands.
 */
#include <openssl/evp.h>

#include "test.h"
#include "krb_prf.h"

static void
hex(const char *h, uint8_t *out, size_t max, size_t *len)
{
	if (test_hex_decode(h, out, max, len) != 0)
		abort();
}

static int
nfold_is(const char *in, size_t outbits, const char *want)
{
	uint8_t	got[64], w[64];
	size_t	wl;

	hex(want, w, sizeof(w), &wl);
	if (wl != outbits / 8)
		abort();
	krb_prf_nfold((const uint8_t *)in, strlen(in), got, outbits / 8);
	if (memcmp(got, w, wl) != 0) {
		test_hexdump("got ", got, wl);
		test_hexdump("want", w, wl);
		return 0;
	}
	return 1;
}

/* RFC 3961 appendix A.1 */
TEST(nfold_rfc3961_a1)
{
	ASSERT_TRUE(nfold_is("012345", 64, "be072631276b1955"));
	ASSERT_TRUE(nfold_is("password", 56, "78a07b6caf85fa"));
	ASSERT_TRUE(nfold_is("Rough Consensus, and Running Code", 64,
	    "bb6ed30870b7f0e0"));
	ASSERT_TRUE(nfold_is("password", 168,
	    "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"));
	ASSERT_TRUE(nfold_is("MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 192,
	    "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b"));
	ASSERT_TRUE(nfold_is("Q", 168,
	    "518a54a215a8452a518a54a215a8452a518a54a215"));
	ASSERT_TRUE(nfold_is("ba", 168,
	    "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"));
	ASSERT_TRUE(nfold_is("kerberos", 64, "6b65726265726f73"));
	ASSERT_TRUE(nfold_is("kerberos", 128,
	    "6b65726265726f737b9b5b2b93132b93"));
	ASSERT_TRUE(nfold_is("kerberos", 168,
	    "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"));
	ASSERT_TRUE(nfold_is("kerberos", 256,
	    "6b65726265726f737b9b5b2b93132b93"
	    "5c9bdcdad95c9899c4cae4dee6d6cae4"));
}

/* RFC 3961 appendix A.3: DR and DK for des3-cbc-sha1-kd. */
TEST(des3_dr_dk_rfc3961_a3)
{
	static const char *v[][4] = {
	    { "dce06b1f64c857a11c3db57c51899b2cc1791008ce973b92", "0000000155",
	      "935079d14490a75c3093c4a6e8c3b049c71e6ee705",
	      "925179d04591a79b5d3192c4a7e9c289b049c71f6ee604cd" },
	    { "5e13d31c70ef765746578531cb51c15bf11ca82c97cee9f2", "00000001aa",
	      "9f58e5a047d894101c469845d67ae3c5249ed812f2",
	      "9e58e5a146d9942a101c469845d67a20e3c4259ed913f207" },
	    { "98e6fd8a04a4b6859b75a176540b9752bad3ecd610a252bc", "0000000155",
	      "12fff90c773f956d13fc2ca0d0840349dbd39908eb",
	      "13fef80d763e94ec6d13fd2ca1d085070249dad39808eabf" },
	    { "622aec25a2fe2cad7094680b7c64940280084c1a7cec92b5", "00000001aa",
	      "f8debf05b097e7dc0603686aca35d91fd9a5516a70",
	      "f8dfbf04b097e6d9dc0702686bcb3489d91fd9a4516b703e" },
	};
	uint8_t	key[24], c[8], wdr[32], wdk[32], dr[48], dk[48];
	size_t	kl, cl, wdrl, wdkl, drl, dkl, i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex(v[i][0], key, sizeof(key), &kl);
		hex(v[i][1], c, sizeof(c), &cl);
		hex(v[i][2], wdr, sizeof(wdr), &wdrl);
		hex(v[i][3], wdk, sizeof(wdk), &wdkl);
		ASSERT_INT_EQ(krb_prf_dr(16, key, kl, c, cl, dr, &drl), 0);
		ASSERT_INT_EQ(drl, wdrl);
		ASSERT_MEM_EQ(dr, wdr, drl);
		ASSERT_INT_EQ(krb_prf_dk(16, key, kl, c, cl, dk, &dkl), 0);
		ASSERT_INT_EQ(dkl, wdkl);
		ASSERT_MEM_EQ(dk, wdk, dkl);
	}
}

/* RFC 3962 appendix B: AES-128 CBC with ciphertext stealing, IV 0. */
TEST(aes_cts_rfc3962_b)
{
	static const char *key = "636869636b656e207465726979616b69";
	static const char *pt =
	    "4920776f756c64206c696b652074686520"
	    "47656e6572616c20476175277320436869"
	    "636b656e2c20706c656173652c";
	static const struct { size_t len; const char *out; } v[] = {
	    { 17, "c6353568f2bf8cb4d8a580362da7ff7f97" },
	    { 31, "fc00783e0efdb2c1d445d4c8eff7ed22"
		  "97687268d6ecccc0c07b25e25ecfe5" },
	    { 32, "39312523a78662d5be7fcbcc98ebf5a8"
		  "97687268d6ecccc0c07b25e25ecfe584" },
	    { 47, "97687268d6ecccc0c07b25e25ecfe584"
		  "b3fffd940c16a18c1b5549d2f838029e"
		  "39312523a78662d5be7fcbcc98ebf5" },
	};
	uint8_t	k[16], p[64], w[64], out[64];
	size_t	kl, pl, wl, i;

	hex(key, k, sizeof(k), &kl);
	hex(pt, p, sizeof(p), &pl);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex(v[i].out, w, sizeof(w), &wl);
		ASSERT_INT_EQ(wl, v[i].len);
		ASSERT_INT_EQ(krb_prf_aes_cts(k, kl, p, v[i].len, out), 0);
		ASSERT_MEM_EQ(out, w, wl);
	}
	ASSERT_INT_EQ(krb_prf_aes_cts(k, kl, p, 15, out), -1);
}

/* rfc4430-notes.md (h)7: racoon2's PRF on an aes256 key 00..1f. */
TEST(prf_aes256_racoon2_kat)
{
	uint8_t	key[32], out[KRB_PRF_MAX], w[32];
	size_t	i, outlen = 0, wl;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	hex("c03c29332e2a8739fcb1245d39ce3e7da7c29f99", w, sizeof(w), &wl);
	ASSERT_INT_EQ(krb_prf_rfc3961(18, key, sizeof(key),
	    (const uint8_t *)"hello KINK", 10, out, &outlen), 0);
	ASSERT_INT_EQ(outlen, 20);
	ASSERT_MEM_EQ(out, w, 20);
}

/*
 * The MIT value of the same KAT is E(DK, first 16 octets of SHA-1(x)) with
 * raw AES-ECB: check that relation with libcrypto directly, which pins both
 * our DK and the notes' claim that only the truncation/CTS step differs.
 */
TEST(prf_aes256_mit_relation)
{
	uint8_t	key[32], dk[32], h[20], e[32], w[16];
	size_t	i, dkl, wl;
	unsigned int hl;
	int	n = 0;
	EVP_CIPHER_CTX *c;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	hex("a7c29f996662878b0f659ab42a62d860", w, sizeof(w), &wl);
	ASSERT_INT_EQ(krb_prf_dk(18, key, 32, (const uint8_t *)"prf", 3,
	    dk, &dkl), 0);
	ASSERT_INT_EQ(EVP_Digest("hello KINK", 10, h, &hl, EVP_sha1(), NULL), 1);
	ASSERT_TRUE((c = EVP_CIPHER_CTX_new()) != NULL);
	ASSERT_INT_EQ(EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, dk, NULL), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	ASSERT_INT_EQ(EVP_EncryptUpdate(c, e, &n, h, 16), 1);
	EVP_CIPHER_CTX_free(c);
	ASSERT_INT_EQ(n, 16);
	ASSERT_MEM_EQ(e, w, 16);
}

TEST(prf_lengths_and_rejects)
{
	uint8_t	key[32] = { 0 }, out[KRB_PRF_MAX];
	size_t	outlen = 0;

	ASSERT_INT_EQ(krb_prf_rfc3961(17, key, 16, (const uint8_t *)"x", 1,
	    out, &outlen), 0);
	ASSERT_INT_EQ(outlen, 20);
	ASSERT_INT_EQ(krb_prf_rfc3961(16, key, 24, (const uint8_t *)"x", 1,
	    out, &outlen), 0);
	ASSERT_INT_EQ(outlen, 16);
	ASSERT_INT_EQ(krb_prf_rfc3961(18, key, 16, (const uint8_t *)"x", 1,
	    out, &outlen), -1);
	/* arcfour-hmac: RFC 4757's HMAC-SHA1, 20 octets, 16-octet keys only */
	ASSERT_INT_EQ(krb_prf_rfc3961(23, key, 16, (const uint8_t *)"x", 1,
	    out, &outlen), 0);
	ASSERT_INT_EQ(outlen, 20);
	ASSERT_INT_EQ(krb_prf_rfc3961(23, key, 32, (const uint8_t *)"x", 1,
	    out, &outlen), -1);
	ASSERT_INT_EQ(krb_prf_rfc3961(24, key, 16, (const uint8_t *)"x", 1,
	    out, &outlen), -1);
	ASSERT_INT_EQ(krb_prf_rfc3961(20, key, 32, (const uint8_t *)"x", 1,
	    out, &outlen), -1);
}

int
main(void)
{
	RUN(nfold_rfc3961_a1);
	RUN(des3_dr_dk_rfc3961_a3);
	RUN(aes_cts_rfc3962_b);
	RUN(prf_aes256_racoon2_kat);
	RUN(prf_aes256_mit_relation);
	RUN(prf_lengths_and_rejects);
	return test_done();
}
