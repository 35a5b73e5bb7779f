/*
 * The PF_KEY v2 backend (RFC 2367 with the KAME/Linux SPD extensions):
 * the kernel driver (sadb_kern.c) with the PF_KEY codec (pfkey_msg.c).
 * Requests carry our pid and a fresh sequence number; the kernel's answer
 * (often broadcast to every PF_KEY socket) is matched on both.  Linux
 * checks CAP_NET_ADMIN when the socket is created, not per message.
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
	int fd, sz = SADB_KERN_RCVBUF, e;

	/* CAP_NET_ADMIN is checked here, once. */
	if ((fd = socket(PF_KEY, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_KEY_V2)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
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

static uint32_t
pfkey_reqid(void *state, uint32_t reqid)
{
	return pfkey_kreqid(state, reqid);
}

static void
pfkey_policy(void *state, uint32_t id, uint32_t reqid)
{
	pfkey_pol_remember(state, id, reqid);
}

static int
pfkey_build_any(const void *state, const struct kreq *kr, uint8_t *buf,
    size_t cap)
{
	return pfkey_build(state, kr, buf, cap);
}

/* PF_KEY sends one message per datagram. */
static size_t
pfkey_next(const uint8_t *buf, size_t len)
{
	return len;
}

static void
pfkey_parse_any(const void *state, const uint8_t *buf, size_t len,
    struct kin *out)
{
	pfkey_parse(state, buf, len, out);
}

static const struct sadb_kfmt pfkey_fmt = {
	.kf_name = "pfkey",
	.kf_one_dump = 1,
	.kf_register = 1,
	.kf_open = pfkey_sock,
	.kf_free = pfkey_free,
	.kf_reqid = pfkey_reqid,
	.kf_policy = pfkey_policy,
	.kf_dirs = pfkey_dirs,
	.kf_build = pfkey_build_any,
	.kf_next = pfkey_next,
	.kf_parse = pfkey_parse_any,
};

static int
pfkey_open(struct sadb *sd)
{
	return sadb_kern_open(sd, &pfkey_fmt);
}

const struct sadb_ops sadb_pfkey_ops = {
	.name = "pfkey",
	.open = pfkey_open,
	.close = sadb_kern_close,
	.getspi = sadb_kern_getspi,
	.add = sadb_kern_add,
	.del = sadb_kern_del,
	.dump = sadb_kern_dump,
	.spd_add = sadb_kern_spd_add,
	.spd_del = sadb_kern_spd_del,
	.get = sadb_kern_get,
};
