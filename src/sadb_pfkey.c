/*
 * The PF_KEY v2 format (RFC 2367 with the KAME/Linux SPD extensions) for
 * the kernel driver (sadb_kern.c): its socket and the PF_KEY codec
 * (pfkey_msg.c).  Requests carry our pid and a fresh sequence number; the
 * kernel's answer (often broadcast to every PF_KEY socket) is matched on
 * both.  Linux checks CAP_NET_ADMIN when the socket is created, not per
 * message, and tells only registered sockets of ACQUIRE and EXPIRE.
 */
#include <sys/socket.h>
#include <linux/pfkeyv2.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "pfkey_msg.h"
#include "sadb_kern.h"

static int
pfkey_sock(void **state)
{
	struct pfkey_state *ps;
	int fd, e;

	/* CAP_NET_ADMIN is checked here, once. */
	if ((fd = socket(PF_KEY, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_KEY_V2)) == -1)
		return -1;
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	ps->ps_pid = (uint32_t)getpid();
	*state = ps;
	return fd;
}

static void
pfkey_free(void *state)
{
	free(state);
}

/* The codec's typed state behind the driver's opaque one. */
static uint32_t
pfkey_reqid(void *state, uint32_t reqid)
{
	return pfkey_kreqid(state, reqid);
}

static uint32_t
pfkey_comp(void *state, const struct kink_sa *sa)
{
	return pfkey_comp_remember(state, sa);
}

static void
pfkey_policy(void *state, uint32_t id, uint32_t reqid)
{
	pfkey_pol_remember(state, id, reqid);
}

static int
pfkey_build_msg(const void *state, const struct kreq *kr, uint8_t *buf,
    size_t cap)
{
	return pfkey_build(state, kr, buf, cap);
}

static void
pfkey_parse_msg(const void *state, const uint8_t *buf, size_t len,
    struct kin *out)
{
	pfkey_parse(state, buf, len, out);
}

/* PF_KEY sends one message per datagram. */
static size_t
pfkey_next(const uint8_t *buf, size_t len)
{
	return len;
}

const struct sadb_kfmt sadb_pfkey_fmt = {
	.kf_name = "pfkey",
	.kf_one_dump = 1,
	.kf_register = 1,
	.kf_open = pfkey_sock,
	.kf_free = pfkey_free,
	.kf_reqid = pfkey_reqid,
	.kf_comp = pfkey_comp,
	.kf_policy = pfkey_policy,
	.kf_dirs = pfkey_dirs,
	.kf_build = pfkey_build_msg,
	.kf_next = pfkey_next,
	.kf_parse = pfkey_parse_msg,
	.kf_caps = pfkey_caps_parse,
};
