/*
 * The compact SA form (src/sa_rec.c) gives back every field it was made
 * from, for IPv4 and IPv6 (scope included), with keys of their real
 * length or without them, and stays the smaller form it is there for.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "isakmp_num.h"
#include "sa_rec.h"
#include "test.h"

static void
full_sa(struct kink_sa *sa, const char *src, const char *dst)
{
	memset(sa, 0, sizeof(*sa));
	addr_parse(src, &sa->sa_src);
	addr_parse(dst, &sa->sa_dst);
	addr_parse(src, &sa->sa_sel_src.sel_addr);
	addr_parse(dst, &sa->sa_sel_dst.sel_addr);
	sa->sa_sel_src.sel_plen = 24;
	sa->sa_sel_dst.sel_plen = 32;
	sa->sa_sel_src.sel_port = 5000;
	sa->sa_sel_dst.sel_port = 443;
	sa->sa_sel_ulproto = IPPROTO_TCP;
	sa->sa_proto = PROTO_IPSEC_ESP;
	sa->sa_dir = SA_DIR_OUT;
	sa->sa_mode = ENCAP_MODE_TUNNEL;
	sa->sa_spi = 0xdeadbeef;
	sa->sa_reqid = 0x4000;
	sa->sa_enc = ESP_AES_CBC;
	sa->sa_enc_keylen = 256;
	sa->sa_auth = AUTH_ALG_HMAC_SHA2_512;
	sa->sa_enckey_len = 32;
	memset(sa->sa_enckey, 0xa5, 32);
	sa->sa_authkey_len = SA_KEY_MAX;
	memset(sa->sa_authkey, 0x5a, SA_KEY_MAX);
	sa->sa_life_soft_secs = 3000;
	sa->sa_life_hard_secs = 3600;
	sa->sa_life_soft_bytes = 1ULL << 40;
	sa->sa_life_hard_bytes = (1ULL << 41) + 7;
}

TEST(sa_rec_round_trip_v4)
{
	struct kink_sa sa, back;
	struct kink_sa_rec r;

	memset(&r, 0, sizeof(r));
	full_sa(&sa, "192.0.2.1", "198.51.100.7");
	ASSERT_INT_EQ(sa_rec_set(&r, &sa, 1), 0);
	sa_rec_get(&r, &back);
	ASSERT_MEM_EQ(&back, &sa, sizeof(sa));
	/* Without keys: every other field, no key. */
	ASSERT_INT_EQ(sa_rec_set(&r, &sa, 0), 0);
	ASSERT_TRUE(r.sa_keys == NULL);
	sa_rec_get(&r, &back);
	ASSERT_INT_EQ(back.sa_enckey_len, 0);
	ASSERT_INT_EQ(back.sa_authkey_len, 0);
	ASSERT_INT_EQ(back.sa_enckey[0], 0);
	sa_free_keys(&sa);
	ASSERT_MEM_EQ(&back, &sa, sizeof(sa));
	sa_rec_free(&r);
}

TEST(sa_rec_round_trip_v6_scope_and_ports)
{
	struct kink_sa sa, back;
	struct kink_sa_rec r;

	memset(&r, 0, sizeof(r));
	full_sa(&sa, "2001:db8::1", "fe80::2");
	((struct sockaddr_in6 *)&sa.sa_dst)->sin6_scope_id = 3;
	((struct sockaddr_in6 *)&sa.sa_src)->sin6_port = htons(910);
	sa.sa_dir = SA_DIR_IN;
	sa.sa_proto = PROTO_IPSEC_AH;
	sa.sa_enckey_len = 0;
	memset(sa.sa_enckey, 0, sizeof(sa.sa_enckey));
	ASSERT_INT_EQ(sa_rec_set(&r, &sa, 1), 0);
	ASSERT_INT_EQ(r.sa_authkey_len, SA_KEY_MAX);
	sa_rec_get(&r, &back);
	ASSERT_MEM_EQ(&back, &sa, sizeof(sa));
	/* A second set replaces keys and fields. */
	full_sa(&sa, "10.0.0.1", "10.0.0.2");
	ASSERT_INT_EQ(sa_rec_set(&r, &sa, 1), 0);
	sa_rec_get(&r, &back);
	ASSERT_MEM_EQ(&back, &sa, sizeof(sa));
	sa_rec_free(&r);
	ASSERT_TRUE(r.sa_keys == NULL);
	ASSERT_INT_EQ(r.sa_enckey_len + r.sa_authkey_len, 0);
}

TEST(sa_rec_refuses_oversized_keys)
{
	struct kink_sa sa;
	struct kink_sa_rec r;

	memset(&r, 0, sizeof(r));
	full_sa(&sa, "192.0.2.1", "192.0.2.2");
	sa.sa_enckey_len = SA_KEY_MAX + 1;
	errno = 0;
	ASSERT_INT_EQ(sa_rec_set(&r, &sa, 1), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_TRUE(r.sa_keys == NULL);
}

/* The point of the form: well under a quarter of struct kink_sa. */
TEST(sa_rec_is_compact)
{
	ASSERT_TRUE(sizeof(struct kink_sa_rec) * 4 <= sizeof(struct kink_sa));
	ASSERT_INT_EQ(sizeof(union sa_addr), sizeof(struct sockaddr_in6));
}

int
main(void)
{
	RUN(sa_rec_round_trip_v4);
	RUN(sa_rec_round_trip_v6_scope_and_ports);
	RUN(sa_rec_refuses_oversized_keys);
	RUN(sa_rec_is_compact);
	return test_done();
}
