/*
 * IPv4/IPv6 socket address helpers, the one copy every module uses (the
 * config parser, the DOI, the network layer, the control codec, kinkctl).
 * Pure: no logging, no libevent, so the codecs below the engine can use it.
 *
 * Addresses are struct sockaddr_in / sockaddr_in6, usually inside a
 * struct sockaddr_storage.  Ports are in host byte order here.
 */
#ifndef KINK_ADDR_H
#define KINK_ADDR_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/* A storage as the sockaddr the functions take; unlike a cast, it refuses
 * anything but a struct sockaddr_storage. */
static inline const struct sockaddr *
addr_sa(const struct sockaddr_storage *ss)
{
	return (const struct sockaddr *)ss;
}

/* sizeof the sockaddr of its family: sockaddr_in6 for AF_INET6, else
 * sockaddr_in. */
socklen_t	 addr_len(const struct sockaddr *);
/* The address octets: 16 for AF_INET6, else the 4 of an AF_INET. */
const uint8_t	*addr_bytes(const struct sockaddr *, size_t *len);
/* 1 if same family (AF_INET or AF_INET6) and address; ports ignored. */
int		 addr_eq(const struct sockaddr *, const struct sockaddr *);
/* An order on addresses (family, then octets; ports ignored), 0 exactly
 * when addr_eq() says equal for AF_INET and AF_INET6: index keys. */
int		 addr_cmp(const struct sockaddr *, const struct sockaddr *);
/* Port of an AF_INET/AF_INET6 address, 0 for any other family. */
uint16_t	 addr_port(const struct sockaddr *);
/* Sets the port of an AF_INET/AF_INET6 address; others are left alone. */
void		 addr_set_port(struct sockaddr_storage *, uint16_t);
/* 1 for the unspecified address (0.0.0.0, ::) and for a family that is
 * neither AF_INET nor AF_INET6 (nothing to bind to). */
int		 addr_is_any(const struct sockaddr *);
/* Text (inet_pton) to an address with port 0; 0 or -1 (ss zeroed). */
int		 addr_parse(const char *, struct sockaddr_storage *);
/* Room for addr_ntop()'s text of any address. */
#define ADDR_STRLEN	64
/* Address to text in buf: "(none)" for another family, "(bad)" if
 * inet_ntop fails (buf too short).  Returns buf. */
const char	*addr_ntop(const struct sockaddr *, char *buf, size_t len);

#endif
