#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ipsec.h>
#include <linux/pfkeyv2.h>
#include <linux/xfrm.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "kink.h"
#include "log.h"
#include "net.h"
#include "stats.h"

struct net_sock {
	int			 ns_fd;
	struct sockaddr_storage	 ns_addr;
	struct event		*ns_ev;
	struct net		*ns_net;
};

/*
 * Datagrams one recvmmsg() takes: the socket is read in one call per
 * wake-up instead of one per datagram plus one that finds it empty.
 */
#define NET_RX_BATCH	8

/* The receive batch; one octet more than we accept, to notice oversize. */
struct net_rx {
	uint8_t			 rx_buf[NET_RX_BATCH][KINK_MAX_MSG + 1];
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				    CMSG_SPACE(sizeof(struct in_pktinfo))];
	}			 rx_cm[NET_RX_BATCH];
	struct sockaddr_storage	 rx_from[NET_RX_BATCH];
	struct iovec		 rx_iov[NET_RX_BATCH];
	struct mmsghdr		 rx_msg[NET_RX_BATCH];
	/* The batch being handed over: rx_msg[rx_next..rx_got - 1] are
	 * still to come (net_rx_more); rx_got is 0 between batches. */
	int			 rx_got, rx_next;
};

struct net {
	struct net_sock		 n_socks[NET_MAX_SOCKS];
	int			 n_nsocks;
	net_input_cb		*n_cb;
	net_icmp_cb		*n_icmp;
	void			*n_arg;
	struct net_rx		 n_rx;
};

/* Where the datagram was sent to: the socket's address, pktinfo's host. */
static void
net_dest(const struct net_sock *ns, struct msghdr *msg,
    struct sockaddr_storage *to)
{
	struct cmsghdr *c;

	*to = ns->ns_addr;
	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)to)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)to)->sin6_addr = pi.ipi6_addr;
		}
	}
}

/* An ICMP error's name if it says the destination is unreachable. */
static const char *
icmp_what(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP &&
	    ee->ee_type == ICMP_DEST_UNREACH) {
		switch (ee->ee_code) {
		case ICMP_PORT_UNREACH:
			return "port unreachable";
		case ICMP_HOST_UNREACH:
			return "host unreachable";
		case ICMP_NET_UNREACH:
			return "network unreachable";
		case ICMP_PROT_UNREACH:
			return "protocol unreachable";
		default:
			return "destination unreachable";
		}
	}
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6 &&
	    ee->ee_type == ICMPV6_DEST_UNREACH) {
		switch (ee->ee_code) {
		case ICMPV6_PORT_UNREACH:
			return "port unreachable";
		case ICMPV6_ADDR_UNREACH:
			return "address unreachable";
		case ICMPV6_NOROUTE:
			return "no route";
		default:
			return "destination unreachable";
		}
	}
	return NULL;
}

/*
 * The socket's error queue (IP_RECVERR): each entry names the datagram's
 * destination.  Drained every time, as a queued error keeps the socket
 * readable (EPOLLERR) until read; bounded like the data loop.
 */
static void
net_read_errqueue(struct net_sock *ns)
{
	struct net *n = ns->ns_net;
	union {
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
		    sizeof(struct sockaddr_in6)) * 2];
	} cm;
	struct sockaddr_storage dst;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	uint8_t buf[64];
	int i;

	for (i = 0; i < 64; i++) {
		memset(&msg, 0, sizeof(msg));
		memset(&dst, 0, sizeof(dst));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &dst;
		msg.msg_namelen = sizeof(dst);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		if (recvmsg(ns->ns_fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			struct sock_extended_err ee;
			const char *what;

			if (!((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_RECVERR)) ||
			    c->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			stats_inc(STAT_ICMP_RCVD);
			if ((what = icmp_what(&ee)) != NULL &&
			    n->n_icmp != NULL && msg.msg_namelen > 0 &&
			    dst.ss_family == ns->ns_addr.ss_family)
				n->n_icmp(n->n_arg, &dst, what);
		}
	}
}

/* A pending ICMP error a plain recvmsg/sendmsg reports once (sk_err). */
static int
net_icmp_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	    e == EHOSTDOWN || e == ENETDOWN || e == EPROTO;
}

static void
net_read(evutil_socket_t fd, short ev, void *arg)
{
	struct net_sock *ns = arg;
	struct net *n = ns->ns_net;
	struct net_rx *rx = &n->n_rx;
	struct sockaddr_storage to;
	struct msghdr *msg;
	size_t len;
	int i, got, round;

	/* Bounded batch: a flood cannot starve timers and the control. */
	for (round = 0; round < 64 / NET_RX_BATCH; round++) {
		memset(rx->rx_msg, 0, sizeof(rx->rx_msg));
		for (i = 0; i < NET_RX_BATCH; i++) {
			rx->rx_iov[i].iov_base = rx->rx_buf[i];
			rx->rx_iov[i].iov_len = sizeof(rx->rx_buf[i]);
			msg = &rx->rx_msg[i].msg_hdr;
			msg->msg_name = &rx->rx_from[i];
			msg->msg_namelen = sizeof(rx->rx_from[i]);
			msg->msg_iov = &rx->rx_iov[i];
			msg->msg_iovlen = 1;
			msg->msg_control = rx->rx_cm[i].buf;
			msg->msg_controllen = sizeof(rx->rx_cm[i].buf);
		}
		if ((got = recvmmsg(fd, rx->rx_msg, NET_RX_BATCH, MSG_DONTWAIT,
		    NULL)) == -1) {
			/*
			 * The error queue is read only when the socket says
			 * there is one: an ICMP error fails the read once
			 * (sk_err), and a wake-up with nothing to read is an
			 * error queued after a send took sk_err.  A read of
			 * the queue on every wake-up would cost a system call
			 * per datagram.
			 */
			if (net_icmp_errno(errno)) {
				net_read_errqueue(ns);
				continue;
			}
			if (round == 0 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				net_read_errqueue(ns);
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("recvmmsg");
			return;
		}
		rx->rx_got = got;
		for (i = 0; i < got; i++) {
			rx->rx_next = i + 1;
			msg = &rx->rx_msg[i].msg_hdr;
			len = rx->rx_msg[i].msg_len;
			stats_inc(STAT_RX);
			stats_add(STAT_RX_BYTES, (uint64_t)len);
			if (len > KINK_MAX_MSG || (msg->msg_flags & MSG_TRUNC)) {
				stats_inc(STAT_DROP_TRUNC);
				continue;
			}
			net_dest(ns, msg, &to);
			n->n_cb(n->n_arg, &rx->rx_from[i], &to, rx->rx_buf[i],
			    len);
		}
		rx->rx_got = 0;
		/* Fewer than asked: the socket is empty, no call to learn it. */
		if (got < NET_RX_BATCH)
			return;
	}
}

int
net_rx_more(const struct net *n, int (*want)(const uint8_t *, size_t))
{
	const struct net_rx *rx = &n->n_rx;
	size_t len;
	int i, more = 0;

	for (i = rx->rx_next; i < rx->rx_got; i++) {
		len = rx->rx_msg[i].msg_len;
		/* What net_read will drop is nobody's work. */
		if (len > KINK_MAX_MSG ||
		    (rx->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC))
			continue;
		if (want == NULL || want(rx->rx_buf[i], len))
			more++;
	}
	return more;
}

/*
 * KINK's own datagrams must never need the SAs they negotiate: a policy
 * covering every packet between two hosts (kinkd.conf's "esp transport
 * from A to B") would otherwise hold the CREATE back until the SA it
 * carries exists.  A per-socket bypass policy for both directions, as
 * racoon and strongSwan do, in XFRM's form (xfrm_user) or else PF_KEY's
 * (af_key): the kernel offers the option to whichever is loaded.  Setting
 * it needs CAP_NET_ADMIN, which kinkd has when it opens its sockets.  A
 * kernel without IPsec (or the null backend) has nothing to bypass.
 */
static void
net_bypass(int fd, int family)
{
	struct xfrm_userpolicy_info xp;
	struct sadb_x_policy kp;
	int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int xopt = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
	int kopt = family == AF_INET6 ? IPV6_IPSEC_POLICY : IP_IPSEC_POLICY;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		memset(&xp, 0, sizeof(xp));
		xp.sel.family = family;
		xp.dir = dir == 0 ? XFRM_POLICY_IN : XFRM_POLICY_OUT;
		xp.action = XFRM_POLICY_ALLOW;
		xp.lft.soft_byte_limit = xp.lft.hard_byte_limit = XFRM_INF;
		xp.lft.soft_packet_limit = xp.lft.hard_packet_limit = XFRM_INF;
		if (setsockopt(fd, level, xopt, &xp, sizeof(xp)) == 0)
			continue;
		memset(&kp, 0, sizeof(kp));
		kp.sadb_x_policy_len = sizeof(kp) / 8;
		kp.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
		kp.sadb_x_policy_type = IPSEC_POLICY_BYPASS;
		kp.sadb_x_policy_dir = dir == 0 ? IPSEC_DIR_INBOUND :
		    IPSEC_DIR_OUTBOUND;
		if (setsockopt(fd, level, kopt, &kp, sizeof(kp)) == -1)
			log_debug("net: no IPsec bypass on the KINK socket: "
			    "%s", strerror(errno));
	}
}

/*
 * 1 when another UDP socket of this network namespace is bound to exactly
 * `addr` and port, the socket of `fd` aside.  SO_REUSEADDR lets a wildcard
 * and a specific address share a port (two daemons for two addresses);
 * it also lets a second kinkd bind the very same address and port and take
 * part of the first one's traffic, which this catches.  The kernel's table
 * prints addresses as the 32-bit words of the network-order address, so
 * they compare with the words of ours as read from memory.
 */
static int
net_dup_bound(int fd, const struct sockaddr_storage *addr)
{
	const uint32_t *w;
	struct stat st;
	char line[512], hex[40];
	unsigned port, nw, i;
	unsigned long ino;
	FILE *f;
	int dup = 0;

	if (addr->ss_family == AF_INET6) {
		w = (const uint32_t *)(const void *)&((const struct sockaddr_in6 *)
		    (const void *)addr)->sin6_addr;
		nw = 4;
	} else {
		w = (const uint32_t *)(const void *)&((const struct sockaddr_in *)
		    (const void *)addr)->sin_addr;
		nw = 1;
	}
	if (fstat(fd, &st) == -1 || (f = fopen(nw == 4 ? "/proc/net/udp6" :
	    "/proc/net/udp", "re")) == NULL) {
		log_debug("net: cannot check for another socket on port %u",
		    addr_port(addr_sa(addr)));
		return 0;
	}
	while (!dup && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %*s %*s %*s %*s "
		    "%*s %*s %lu", hex, &port, &ino) != 3 ||
		    strlen(hex) != 8 * nw ||
		    port != addr_port(addr_sa(addr)) || ino == st.st_ino)
			continue;
		dup = 1;
		for (i = 0; i < nw; i++) {
			char word[9];

			memcpy(word, hex + 8 * i, 8);
			word[8] = '\0';
			if ((uint32_t)strtoul(word, NULL, 16) != w[i])
				dup = 0;
		}
	}
	fclose(f);
	return dup;
}

static int
net_open(struct net *n, struct event_base *base,
    const struct sockaddr_storage *addr)
{
	struct net_sock *ns = &n->n_socks[n->n_nsocks];
	char a[ADDR_STRLEN];
	int fd, on = 1;

	if ((fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (addr->ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on)) == -1)
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on,
	    sizeof(on)) == -1)
		goto fail;
	/*
	 * ICMP unreachables for what we send (RFC 4430 3.7: a hint for
	 * dead-peer detection).  Without it Linux reports nothing to an
	 * unconnected UDP socket; a failure only costs the hint.
	 */
	if (addr->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on,
		    sizeof(on));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	net_bypass(fd, addr->ss_family);
	if (bind(fd, addr_sa(addr), addr_len(addr_sa(addr))) == -1)
		goto fail;
	if (net_dup_bound(fd, addr)) {
		log_warnx("%s port %u is already bound by another process "
		    "(another kinkd?): not sharing it",
		    addr_ntop(addr_sa(addr), a, sizeof(a)),
		    addr_port(addr_sa(addr)));
		close(fd);
		return -1;
	}
	ns->ns_fd = fd;
	ns->ns_addr = *addr;
	ns->ns_net = n;
	if ((ns->ns_ev = event_new(base, fd, EV_READ | EV_PERSIST, net_read,
	    ns)) == NULL || event_add(ns->ns_ev, NULL) == -1) {
		log_warnx("net: event_new failed");
		close(fd);
		return -1;
	}
	n->n_nsocks++;
	log_debug("listening on %s port %u",
	    addr_ntop(addr_sa(addr), a, sizeof(a)),
	    addr_port(addr_sa(addr)));
	return 0;
fail:
	log_warn("socket %s port %u",
	    addr_ntop(addr_sa(addr), a, sizeof(a)),
	    addr_port(addr_sa(addr)));
	close(fd);
	return -1;
}

struct net *
net_new(struct event_base *base, const struct sockaddr_storage *addrs, int na,
    net_input_cb *cb, void *arg)
{
	struct net *n;
	int i;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_warn("net_new");
		return NULL;
	}
	n->n_cb = cb;
	n->n_arg = arg;
	for (i = 0; i < na && i < NET_MAX_SOCKS; i++)
		if (net_open(n, base, &addrs[i]) == -1) {
			net_free(n);
			return NULL;
		}
	return n;
}

void
net_set_icmp(struct net *n, net_icmp_cb *cb)
{
	n->n_icmp = cb;
}

void
net_free(struct net *n)
{
	int i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n_nsocks; i++) {
		event_free(n->n_socks[i].ns_ev);
		close(n->n_socks[i].ns_fd);
	}
	free(n);
}

int
net_local_for(struct net *n, const struct sockaddr_storage *to,
    struct sockaddr_storage *local)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, fd;

	for (i = 0; i < n->n_nsocks; i++) {
		const struct sockaddr_storage *a = &n->n_socks[i].ns_addr;

		if (a->ss_family != to->ss_family)
			continue;
		if (!addr_is_any(addr_sa(a))) {
			*local = *a;
			return 0;
		}
		/* Wildcard: ask the routing table, as connect() would. */
		if ((fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1)
			return -1;
		sl = sizeof(ss);
		if (connect(fd, addr_sa(to), addr_len(addr_sa(to))) == -1 ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
			close(fd);
			return -1;
		}
		close(fd);
		*local = ss;
		addr_set_port(local, addr_port(addr_sa(a)));
		return 0;
	}
	return -1;
}

int
net_send(struct net *n, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len)
{
	struct net_sock *ns = NULL, *wild = NULL;
	union {
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	char a[ADDR_STRLEN];
	int i;

	for (i = 0; i < n->n_nsocks; i++) {
		struct net_sock *s = &n->n_socks[i];

		if (s->ns_addr.ss_family != to->ss_family)
			continue;
		if (addr_is_any(addr_sa(&s->ns_addr))) {
			if (wild == NULL)
				wild = s;
		} else if (from->ss_family == 0 || addr_eq(addr_sa(from),
		    addr_sa(&s->ns_addr))) {
			ns = s;
			break;
		}
	}
	memset(&msg, 0, sizeof(msg));
	if (ns == NULL && wild != NULL) {
		ns = wild;
		if (from->ss_family == AF_INET) {
			struct in_pktinfo pi;
			struct cmsghdr *c;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst =
			    ((const struct sockaddr_in *)from)->sin_addr;
			msg.msg_control = cm.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		} else if (from->ss_family == AF_INET6) {
			struct in6_pktinfo pi;
			struct cmsghdr *c;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_addr =
			    ((const struct sockaddr_in6 *)from)->sin6_addr;
			msg.msg_control = cm.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
	if (ns == NULL) {
		log_warnx("no socket to send to %s from",
		    addr_ntop(addr_sa(to), a, sizeof(a)));
		stats_inc(STAT_TX_ERR);
		return -1;
	}
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	msg.msg_name = (void *)(uintptr_t)to;
	msg.msg_namelen = addr_len(addr_sa(to));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/*
	 * An ICMP error pending on the socket (IP_RECVERR) fails the next
	 * send once without sending; the error queue has it already.
	 */
	if (sendmsg(ns->ns_fd, &msg, 0) == -1 && (!net_icmp_errno(errno) ||
	    sendmsg(ns->ns_fd, &msg, 0) == -1)) {
		log_warn("sendmsg to %s port %u",
		    addr_ntop(addr_sa(to), a, sizeof(a)),
		    addr_port(addr_sa(to)));
		stats_inc(STAT_TX_ERR);
		return -1;
	}
	stats_inc(STAT_TX);
	return 0;
}
