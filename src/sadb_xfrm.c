/*
 * The Linux XFRM netlink format for the kernel driver (sadb_kern.c): its
 * socket and the XFRM codec (xfrm_msg.c).  One NETLINK_XFRM socket
 * carries the requests (each with NLM_F_ACK, matched to its answer by
 * nlmsg_seq) and the ACQUIRE and EXPIRE multicast groups.  The kernel
 * checks CAP_NET_ADMIN on every message, not only when the socket opens
 * (docs/arch/kernel.md).
 */
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/if_alg.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sadb_kern.h"
#include "xfrm_msg.h"

/* An algorithm the crypto API can instantiate (loading its modules). */
static int
alg_bind(int fd, const char *type, const char *name)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };

	strlcpy((char *)sa.salg_type, type, sizeof(sa.salg_type));
	strlcpy((char *)sa.salg_name, name, sizeof(sa.salg_name));
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static char *
read_all(const char *path)
{
	char *text = NULL, *t;
	size_t cap = 0, len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (len + 4097 > cap) {
			if ((t = realloc(text, cap + 65536)) == NULL) {
				free(text);
				close(fd);
				return NULL;
			}
			text = t;
			cap += 65536;
		}
		if ((n = read(fd, text + len, 4096)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	return text;
}

/* /proc/crypto holds a "name : NAME" line: only what is loaded. */
static int
proc_has(const char *text, const char *name)
{
	char want[160];

	snprintf(want, sizeof(want), ": %s\n", name);
	return strstr(text, want) != NULL;
}

/* "/NAME.ko" in a module list (modules.dep, modules.builtin): the slash
 * keeps deflate.ko apart from zlib_deflate.ko. */
static int
mod_listed(const char *text, const char *name)
{
	char want[64];
	const char *p;
	size_t n;

	if (text == NULL)
		return 0;
	n = (size_t)snprintf(want, sizeof(want), "/%s.ko", name);
	for (p = text; (p = strstr(p, want)) != NULL; p += n)
		if (p[n] == ':' || p[n] == '.' || p[n] == '\n' || p[n] == '\0')
			return 1;
	return 0;
}

/* A line "NAME ..." of /proc/modules: loaded now. */
static int
mod_loaded(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return 1;
	return 0;
}

int
sadb_caps_comp_at(struct sadb_caps *c, const char *crypto,
    const char *modules, const char *moddir)
{
	char path[512];
	char *cr, *lo, *dep, *bi;
	const struct sadb_algmap *m;
	int proto;

	cr = read_all(crypto);
	lo = read_all(modules);
	snprintf(path, sizeof(path), "%s/modules.dep", moddir);
	dep = read_all(path);
	snprintf(path, sizeof(path), "%s/modules.builtin", moddir);
	bi = read_all(path);
	/* The IPv4 IPComp type (xfrm type 108); xfrm_ipcomp comes with it. */
	proto = (lo != NULL && mod_loaded(lo, "ipcomp")) ||
	    mod_listed(dep, "ipcomp") || mod_listed(bi, "ipcomp");
	for (int i = 0; (m = sadb_alg_comp_at(i)) != NULL &&
	    i < SADB_CAPS_MAX; i++)
		c->kc_comp[i] = proto && ((cr != NULL &&
		    proc_has(cr, m->al_xfrm)) || mod_listed(dep, m->al_xfrm) ||
		    mod_listed(bi, m->al_xfrm));
	/* Without the module lists (a container, a kernel without modules
	 * installed) nothing says what is built in: unknown, not "none". */
	c->kc_comp_known = dep != NULL || bi != NULL;
	free(cr);
	free(lo);
	free(dep);
	free(bi);
	return c->kc_comp_known ? 0 : -1;
}

void
sadb_caps_comp_probe(struct sadb_caps *c)
{
	char dir[300];
	struct utsname u;

	if (uname(&u) == -1)
		snprintf(dir, sizeof(dir), "/nonexistent");
	else
		snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	(void)sadb_caps_comp_at(c, "/proc/crypto", "/proc/modules", dir);
}

/*
 * XFRM installs whatever the crypto API can instantiate under the names
 * of kern_alg.c.  AF_ALG answers that exactly (a bind per name, loading
 * modules as an SA add would); without AF_ALG, /proc/crypto says what is
 * loaded now, a lower bound.  One fresh socket per name: a bound AF_ALG
 * socket cannot be bound again.
 */
int
sadb_caps_probe(struct sadb_caps *c)
{
	const struct sadb_algmap *m;
	char *text = NULL;
	int fd, i, alg;

	memset(c, 0, sizeof(*c));
	if ((fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) != -1) {
		close(fd);
		alg = 1;
		c->kc_source = "AF_ALG";
	} else {
		if ((text = read_all("/proc/crypto")) == NULL)
			return -1;
		alg = 0;
		c->kc_source = "/proc/crypto";
	}
	for (i = 0; (m = sadb_alg_enc_at(i)) != NULL && i < SADB_CAPS_MAX;
	    i++) {
		if (!alg) {
			c->kc_enc[i] = proc_has(text, m->al_xfrm);
			continue;
		}
		if ((fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) ==
		    -1)
			break;
		c->kc_enc[i] = alg_bind(fd, m->al_aead ? "aead" : "skcipher",
		    m->al_xfrm);
		close(fd);
	}
	for (i = 0; (m = sadb_alg_auth_at(i)) != NULL && i < SADB_CAPS_MAX;
	    i++) {
		if (!alg) {
			c->kc_auth[i] = proc_has(text, m->al_xfrm);
			continue;
		}
		if ((fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) ==
		    -1)
			break;
		c->kc_auth[i] = alg_bind(fd, "hash", m->al_xfrm);
		close(fd);
	}
	free(text);
	c->kc_known = 1;
	sadb_caps_comp_probe(c);
	return 0;
}

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
	.kf_probe = sadb_caps_probe,
};
