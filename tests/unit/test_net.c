/*
 * net.c: the local address a datagram arrived on is reported (pktinfo),
 * and an answer sent "from" that address leaves from it even when the
 * socket is bound to the wildcard; timers fire once and can be cancelled.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "net.h"
#include "test.h"
#include "timer.h"

struct got {
	int			 n;
	struct sockaddr_storage	 from, to;
	uint8_t			 data[64];
	size_t			 len;
};

static void
input_cb(void *arg, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len)
{
	struct got *g = arg;

	g->n++;
	g->from = *from;
	g->to = *to;
	g->len = len < sizeof(g->data) ? len : sizeof(g->data);
	memcpy(g->data, p, g->len);
}

static void
addr4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, a, &sin->sin_addr);
}

static uint16_t
test_port(void)
{
	return (uint16_t)(30000 + getpid() % 20000);
}

/*
 * The receive calls of the code linked in: these take the place of
 * libc's so a test can count them; the kernel still does the work.
 */
static int rx_calls;

ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	rx_calls++;
	return syscall(SYS_recvmsg, fd, msg, flags);
}

int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
    struct timespec *t)
{
	rx_calls++;
	return (int)syscall(SYS_recvmmsg, fd, v, n, flags, t);
}

struct many {
	int			 n;
	uint8_t			 first[20];
	uint16_t		 port[20];
	char			 to[20][ADDR_STRLEN];
};

static void
many_cb(void *arg, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len)
{
	struct many *m = arg;

	if (m->n < 20 && len > 0) {
		m->first[m->n] = p[0];
		m->port[m->n] = addr_port((const struct sockaddr *)from);
		addr_ntop((const struct sockaddr *)to, m->to[m->n],
		    sizeof(m->to[m->n]));
	}
	m->n++;
}

/*
 * Datagrams waiting are read in one call per batch, each delivered with
 * its own sender, destination and contents, in order; a burst larger
 * than a batch all arrives too.
 */
TEST(net_reads_a_burst_in_one_call)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage any, dst, peer;
	struct many m;
	struct net *n;
	uint8_t msg[100];
	uint16_t port = test_port() + 2, p1, p2;
	socklen_t sl;
	int fd1, fd2, i, k;

	memset(&m, 0, sizeof(m));
	addr4(&any, "0.0.0.0", port);
	ASSERT_TRUE((n = net_new(base, &any, 1, many_cb, &m)) != NULL);
	fd1 = socket(AF_INET, SOCK_DGRAM, 0);
	fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	addr4(&peer, "127.0.0.1", 0);
	ASSERT_INT_EQ(bind(fd1, (struct sockaddr *)&peer,
	    sizeof(struct sockaddr_in)), 0);
	ASSERT_INT_EQ(bind(fd2, (struct sockaddr *)&peer,
	    sizeof(struct sockaddr_in)), 0);
	sl = sizeof(peer);
	getsockname(fd1, (struct sockaddr *)&peer, &sl);
	p1 = addr_port((struct sockaddr *)&peer);
	sl = sizeof(peer);
	getsockname(fd2, (struct sockaddr *)&peer, &sl);
	p2 = addr_port((struct sockaddr *)&peer);
	/* 3 datagrams to two local addresses, from two senders */
	for (i = 0; i < 3; i++) {
		addr4(&dst, i == 1 ? "127.0.0.9" : "127.0.0.1", port);
		memset(msg, 'a' + i, sizeof(msg));
		ASSERT_INT_EQ(sendto(i == 1 ? fd2 : fd1, msg, 10 + (size_t)i,
		    0, (struct sockaddr *)&dst, sizeof(struct sockaddr_in)),
		    10 + i);
	}
	/* all queued (loopback delivers within sendto); then one pass */
	rx_calls = 0;
	for (k = 0; k < 50 && m.n == 0; k++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ASSERT_INT_EQ(m.n, 3);
	ASSERT_INT_EQ(rx_calls, 1);
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(m.first[i], 'a' + i);
	ASSERT_INT_EQ(m.port[0], p1);
	ASSERT_INT_EQ(m.port[1], p2);
	ASSERT_INT_EQ(m.port[2], p1);
	ASSERT_STR_EQ(m.to[0], "127.0.0.1");
	ASSERT_STR_EQ(m.to[1], "127.0.0.9");
	ASSERT_STR_EQ(m.to[2], "127.0.0.1");
	/* 20, more than a batch: every one arrives, in order */
	m.n = 0;
	for (i = 0; i < 20; i++) {
		msg[0] = (uint8_t)i;
		ASSERT_INT_EQ(sendto(fd1, msg, 5, 0, (struct sockaddr *)&dst,
		    sizeof(struct sockaddr_in)), 5);
	}
	for (k = 0; k < 200 && m.n < 20; k++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ASSERT_INT_EQ(m.n, 20);
	for (i = 0; i < 20; i++)
		ASSERT_INT_EQ(m.first[i], i);
	close(fd1);
	close(fd2);
	net_free(n);
	event_base_free(base);
}

TEST(net_wildcard_pktinfo_reply_from_same_address)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage any, dst, peer, src;
	struct got g;
	struct net *n;
	socklen_t sl;
	uint8_t buf[16];
	char a[ADDR_STRLEN];
	uint16_t port = test_port();
	int fd, i;

	memset(&g, 0, sizeof(g));
	addr4(&any, "0.0.0.0", port);
	n = net_new(base, &any, 1, input_cb, &g);
	ASSERT_TRUE(n != NULL);
	/* a client on 127.0.0.1 talks to 127.0.0.7 (loopback /8) */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	addr4(&peer, "127.0.0.1", 0);
	ASSERT_INT_EQ(bind(fd, (struct sockaddr *)&peer,
	    sizeof(struct sockaddr_in)), 0);
	sl = sizeof(peer);
	getsockname(fd, (struct sockaddr *)&peer, &sl);
	addr4(&dst, "127.0.0.7", port);
	ASSERT_INT_EQ(sendto(fd, "ping", 4, 0, (struct sockaddr *)&dst,
	    sizeof(struct sockaddr_in)), 4);
	for (i = 0; i < 50 && g.n == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(1000);
	ASSERT_INT_EQ(g.n, 1);
	ASSERT_INT_EQ(g.len, 4);
	ASSERT_STR_EQ(addr_ntop((struct sockaddr *)&g.to, a, sizeof(a)),
	    "127.0.0.7");
	ASSERT_INT_EQ(addr_port((struct sockaddr *)&g.to), port);
	ASSERT_INT_EQ(addr_port((struct sockaddr *)&g.from),
	    addr_port((struct sockaddr *)&peer));
	/* the answer leaves from 127.0.0.7, the address asked */
	ASSERT_INT_EQ(net_send(n, &g.to, &g.from, (const uint8_t *)"pong", 4),
	    0);
	sl = sizeof(src);
	ASSERT_INT_EQ(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src,
	    &sl), 4);
	ASSERT_MEM_EQ(buf, "pong", 4);
	ASSERT_STR_EQ(addr_ntop((struct sockaddr *)&src, a, sizeof(a)),
	    "127.0.0.7");
	ASSERT_INT_EQ(addr_port((struct sockaddr *)&src), port);
	close(fd);
	net_free(n);
	event_base_free(base);
}

TEST(net_oversize_dropped)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage la, dst;
	static uint8_t big[20000];
	struct got g;
	struct net *n;
	uint16_t port = test_port() + 1;
	int fd, i;

	memset(&g, 0, sizeof(g));
	addr4(&la, "127.0.0.1", port);
	ASSERT_TRUE((n = net_new(base, &la, 1, input_cb, &g)) != NULL);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	addr4(&dst, "127.0.0.1", port);
	sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&dst,
	    sizeof(struct sockaddr_in));
	sendto(fd, "ok", 2, 0, (struct sockaddr *)&dst,
	    sizeof(struct sockaddr_in));
	for (i = 0; i < 50 && g.n == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(1000);
	ASSERT_INT_EQ(g.n, 1);
	ASSERT_INT_EQ(g.len, 2);
	close(fd);
	net_free(n);
	event_base_free(base);
}

TEST(net_addr_helpers)
{
	struct sockaddr_storage a, b;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&b;

	addr4(&a, "192.0.2.1", 910);
	addr4(&b, "192.0.2.1", 911);
	ASSERT_TRUE(addr_eq((struct sockaddr *)&a, (struct sockaddr *)&b));
	addr4(&b, "192.0.2.2", 910);
	ASSERT_TRUE(!addr_eq((struct sockaddr *)&a, (struct sockaddr *)&b));
	memset(&b, 0, sizeof(b));
	s6->sin6_family = AF_INET6;
	ASSERT_TRUE(addr_is_any((struct sockaddr *)&b));
	ASSERT_TRUE(!addr_eq((struct sockaddr *)&a, (struct sockaddr *)&b));
	addr_set_port(&b, 910);
	ASSERT_INT_EQ(addr_port((struct sockaddr *)&b), 910);
}

static void
tick(void *arg)
{
	(*(int *)arg)++;
}

TEST(timer_once_and_cancel)
{
	struct event_base *base = event_base_new();
	struct timer t1, t2;
	int n1 = 0, n2 = 0;
	uint64_t t0 = timer_now_ms();

	ASSERT_INT_EQ(timer_init(&t1, base, tick, &n1), 0);
	ASSERT_INT_EQ(timer_init(&t2, base, tick, &n2), 0);
	timer_add_ms(&t1, 5);
	timer_add_ms(&t2, 5);
	ASSERT_TRUE(timer_pending(&t1));
	timer_del(&t2);
	ASSERT_TRUE(!timer_pending(&t2));
	event_base_dispatch(base);	/* returns when nothing is pending */
	ASSERT_INT_EQ(n1, 1);
	ASSERT_INT_EQ(n2, 0);
	ASSERT_TRUE(timer_now_ms() - t0 >= 5);
	timer_fini(&t1);
	timer_fini(&t2);
	timer_fini(&t2);	/* idempotent */
	event_base_free(base);
}

int
main(void)
{
	RUN(net_wildcard_pktinfo_reply_from_same_address);
	RUN(net_oversize_dropped);
	RUN(net_reads_a_burst_in_one_call);
	RUN(net_addr_helpers);
	RUN(timer_once_and_cancel);
	return test_done();
}
