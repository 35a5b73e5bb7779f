/*
 * KINK's UDP sockets (RFC 4430 section 9: port 910 by default).  One socket
 * per "listen" address (a wildcard address gets one too).  Every datagram
 * is read with the local address it arrived on (IP_PKTINFO /
 * IPV6_RECVPKTINFO), and answers leave from that same address: through the
 * socket bound to it, or through a wildcard socket with the source address
 * set per packet.  Commands we initiate leave from the configured port, as
 * racoon2 sends its REPLYs to port 910 of the command's source address.
 */
#ifndef KINK_NET_H
#define KINK_NET_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct net;

#define NET_MAX_SOCKS	32

/*
 * `to` is the local address (with our port) the datagram arrived on; the
 * data is only valid during the call.
 */
typedef void net_input_cb(void *arg, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t *p, size_t len);

/*
 * An ICMP or ICMPv6 unreachable for a datagram we sent (IP_RECVERR /
 * IPV6_RECVERR on every socket): `dst` is where that datagram went (with
 * its port), `what` a short name ("port unreachable", "host
 * unreachable"...).  Unauthenticated: a hint, never a verdict.
 */
typedef void net_icmp_cb(void *arg, const struct sockaddr_storage *dst,
    const char *what);

/* addrs: `n` local addresses with their ports.  NULL on failure (logged). */
struct net	*net_new(struct event_base *,
		    const struct sockaddr_storage *addrs, int n, net_input_cb *,
		    void *);
void		 net_free(struct net *);
/* Who hears of ICMP errors (same arg as the input callback); NULL: none. */
void		 net_set_icmp(struct net *, net_icmp_cb *);
/*
 * Send from local address `from` (its port is ignored; ss_family 0 = any
 * socket of `to`'s family) to `to`.  0 or -1 (logged).
 */
int		 net_send(struct net *, const struct sockaddr_storage *from,
		    const struct sockaddr_storage *to, const uint8_t *, size_t);
/*
 * A local address to reach `to` from: the bound address of a listening
 * socket of that family, or the kernel's route choice for a wildcard one.
 * 0 or -1.
 */
/*
 * During an input callback: how many datagrams of the receive batch
 * (recvmmsg) are still to be handed over after this one and satisfy
 * `want` (all when NULL); 0 outside a callback.
 */
int		 net_rx_more(const struct net *,
		    int (*want)(const uint8_t *, size_t));
int		 net_local_for(struct net *, const struct sockaddr_storage *to,
		    struct sockaddr_storage *local);

#endif
