/*
 * The Linux XFRM netlink format for the kernel driver (sadb_kern.c): its
 * socket and the XFRM codec (xfrm_msg.c).  One NETLINK_XFRM socket
 * carries the requests (each with NLM_F_ACK, matched to its answer by
 * nlmsg_seq) and the ACQUIRE and EXPIRE multicast groups.  The kernel
 * checks CAP_NET_ADMIN on every message, not only when the socket opens
 * (docs/arch/kernel.md).
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <unistd.h>

#include "sadb_kern.h"
#include "xfrm_msg.h"

/* XFRM keeps no state beyond the driver's: a token, never read. */
static char xfrm_nostate;

static int
xfrm_sock(void **state)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int fd, e;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_XFRM)) == -1)
		return -1;
	/* Joining the groups needs CAP_NET_ADMIN: fails here, not later. */
	nl.nl_groups = XFRMGRP_ACQUIRE | XFRMGRP_EXPIRE;
	if (bind(fd, (struct sockaddr *)&nl, sizeof(nl)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*state = &xfrm_nostate;
	return fd;
}

static void
xfrm_free(void *state)
{
}

/* The codec needs no state: the driver's argument is dropped. */
static int
xfrm_build_msg(const void *state, const struct kreq *kr, uint8_t *buf,
    size_t cap)
{
	return xfrm_build(kr, buf, cap);
}

static void
xfrm_parse_msg(const void *state, const uint8_t *buf, size_t len,
    struct kin *out)
{
	xfrm_parse(buf, len, out);
}

const struct sadb_kfmt sadb_xfrm_fmt = {
	.kf_name = "xfrm",
	.kf_overrun_ok = 1,
	.kf_open = xfrm_sock,
	.kf_free = xfrm_free,
	.kf_dirs = xfrm_dirs,
	.kf_build = xfrm_build_msg,
	.kf_next = xfrm_next,
	.kf_parse = xfrm_parse_msg,
};
