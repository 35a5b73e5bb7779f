/*
 * addr.c: the shared IPv4/IPv6 address helpers, on both families and on
 * an unset (family 0) address, which several callers pass through.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "test.h"

TEST(addr_parse_and_print)
{
	struct sockaddr_storage ss;
	char buf[64];

	ASSERT_INT_EQ(addr_parse("192.0.2.1", &ss), 0);
	ASSERT_INT_EQ(ss.ss_family, AF_INET);
	ASSERT_INT_EQ(addr_port(addr_sa(&ss)), 0);
	ASSERT_STR_EQ(addr_ntop(addr_sa(&ss), buf, sizeof(buf)), "192.0.2.1");
	ASSERT_INT_EQ(addr_len(addr_sa(&ss)), sizeof(struct sockaddr_in));
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &ss), 0);
	ASSERT_INT_EQ(ss.ss_family, AF_INET6);
	ASSERT_STR_EQ(addr_ntop(addr_sa(&ss), buf, sizeof(buf)), "2001:db8::1");
	ASSERT_INT_EQ(addr_len(addr_sa(&ss)), sizeof(struct sockaddr_in6));
	ASSERT_INT_EQ(addr_parse("192.0.2.300", &ss), -1);
	ASSERT_INT_EQ(ss.ss_family, 0);
	ASSERT_STR_EQ(addr_ntop(addr_sa(&ss), buf, sizeof(buf)), "(none)");
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &ss), 0);
	ASSERT_STR_EQ(addr_ntop(addr_sa(&ss), buf, 4), "(ba");
}

TEST(addr_bytes_port_any)
{
	struct sockaddr_storage a, b;
	const uint8_t *p;
	size_t len;

	ASSERT_INT_EQ(addr_parse("192.0.2.7", &a), 0);
	p = addr_bytes(addr_sa(&a), &len);
	ASSERT_INT_EQ(len, 4);
	ASSERT_MEM_EQ(p, "\xc0\x00\x02\x07", 4);
	addr_set_port(&a, 910);
	ASSERT_INT_EQ(addr_port(addr_sa(&a)), 910);
	ASSERT_INT_EQ(ntohs(((struct sockaddr_in *)&a)->sin_port), 910);
	ASSERT_TRUE(!addr_is_any(addr_sa(&a)));
	ASSERT_INT_EQ(addr_parse("::", &b), 0);
	p = addr_bytes(addr_sa(&b), &len);
	ASSERT_INT_EQ(len, 16);
	ASSERT_TRUE(addr_is_any(addr_sa(&b)));
	addr_set_port(&b, 65535);
	ASSERT_INT_EQ(addr_port(addr_sa(&b)), 65535);
	ASSERT_INT_EQ(addr_parse("0.0.0.0", &b), 0);
	ASSERT_TRUE(addr_is_any(addr_sa(&b)));
	/* Nothing to bind to in another family; its port stays 0. */
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(addr_is_any(addr_sa(&b)));
	addr_set_port(&b, 910);
	ASSERT_INT_EQ(addr_port(addr_sa(&b)), 0);
	ASSERT_INT_EQ(((struct sockaddr_in *)&b)->sin_port, 0);
}

TEST(addr_eq_ignores_ports_not_families)
{
	struct sockaddr_storage a, b;

	ASSERT_INT_EQ(addr_parse("192.0.2.1", &a), 0);
	ASSERT_INT_EQ(addr_parse("192.0.2.1", &b), 0);
	addr_set_port(&b, 911);
	ASSERT_TRUE(addr_eq(addr_sa(&a), addr_sa(&b)));
	ASSERT_INT_EQ(addr_parse("192.0.2.2", &b), 0);
	ASSERT_TRUE(!addr_eq(addr_sa(&a), addr_sa(&b)));
	ASSERT_INT_EQ(addr_parse("::ffff:192.0.2.1", &b), 0);
	ASSERT_TRUE(!addr_eq(addr_sa(&a), addr_sa(&b)));
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &a), 0);
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &b), 0);
	ASSERT_TRUE(addr_eq(addr_sa(&a), addr_sa(&b)));
	ASSERT_INT_EQ(addr_parse("2001:db8::2", &b), 0);
	ASSERT_TRUE(!addr_eq(addr_sa(&a), addr_sa(&b)));
	/* Two unset addresses are not "the same address". */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(!addr_eq(addr_sa(&a), addr_sa(&b)));
}

TEST(addr_cmp_orders_like_addr_eq)
{
	struct sockaddr_storage a, b;

	ASSERT_INT_EQ(addr_parse("192.0.2.1", &a), 0);
	ASSERT_INT_EQ(addr_parse("192.0.2.1", &b), 0);
	addr_set_port(&b, 911);
	ASSERT_INT_EQ(addr_cmp(addr_sa(&a), addr_sa(&b)), 0);
	ASSERT_INT_EQ(addr_parse("192.0.2.2", &b), 0);
	ASSERT_TRUE(addr_cmp(addr_sa(&a), addr_sa(&b)) < 0);
	ASSERT_TRUE(addr_cmp(addr_sa(&b), addr_sa(&a)) > 0);
	/* Every IPv4 address before every IPv6 one, mapped ones included. */
	ASSERT_INT_EQ(addr_parse("::ffff:192.0.2.1", &b), 0);
	ASSERT_TRUE(addr_cmp(addr_sa(&a), addr_sa(&b)) < 0);
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &a), 0);
	ASSERT_INT_EQ(addr_parse("2001:db8::1", &b), 0);
	ASSERT_INT_EQ(addr_cmp(addr_sa(&a), addr_sa(&b)), 0);
	ASSERT_INT_EQ(addr_parse("2001:db8::2", &b), 0);
	ASSERT_TRUE(addr_cmp(addr_sa(&a), addr_sa(&b)) < 0);
}

int
main(void)
{
	RUN(addr_parse_and_print);
	RUN(addr_bytes_port_any);
	RUN(addr_eq_ignores_ports_not_families);
	RUN(addr_cmp_orders_like_addr_eq);
	return test_done();
}
