/*
 * kinkctl's connection to kinkd's control socket: connect, send one
 * request, read messages with a deadline, so that a hung daemon cannot
 * hang a script.  Read buffers are wiped on close: SA records may hold
 * keys.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "kinkctl.h"

int
kinkctl_conn_open(struct conn *c, const char *path, long timeout)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "kinkctl: socket path too long: %s\n",
		    path);
		return -1;
	}
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "kinkctl: socket: %s\n", strerror(errno));
		return -1;
	}
	/*
	 * Bounds connect (a full backlog of a daemon that stopped
	 * accepting) and the request's write, as kinkctl_conn_recv's deadline
	 * bounds the answer.
	 */
	if (c->timeout > 0) {
		struct timeval tv = { c->timeout, 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv));
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			fprintf(stderr, "kinkctl: kinkd did not accept the "
			    "connection within %ld s\n", c->timeout);
		else
			fprintf(stderr, "kinkctl: connect %s: %s\n",
			    path, strerror(errno));
		return -1;
	}
	c->rcap = CTL_HDR_LEN + CTL_MAXMSG;
	if ((c->rbuf = malloc(c->rcap)) == NULL) {
		fprintf(stderr, "kinkctl: out of memory\n");
		return -1;
	}
	return 0;
}

void
kinkctl_conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	if (c->rbuf != NULL) {
		explicit_bzero(c->rbuf, c->rcap);
		free(c->rbuf);
	}
}

int
kinkctl_conn_send(struct conn *c, const struct ctl_msg *m)
{
	struct buf b;
	size_t off = 0;
	ssize_t w;
	int e;

	buf_init(&b, CTL_HDR_LEN + CTL_MAXMSG);
	if ((e = ctl_msg_encode(&b, m)) != CTL_E_OK) {
		fprintf(stderr, "kinkctl: cannot encode request: %s\n",
		    ctl_strerror(e));
		buf_free(&b);
		return -1;
	}
	while (off < b.b_len) {
		w = write(c->fd, b.b_data + off, b.b_len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			fprintf(stderr, "kinkctl: kinkd did not read the "
			    "request within %ld s\n", c->timeout);
			buf_free(&b);
			return -1;
		}
		if (w <= 0) {
			fprintf(stderr, "kinkctl: write: %s\n",
			    strerror(errno));
			buf_free(&b);
			return -1;
		}
		off += (size_t)w;
	}
	buf_free(&b);
	return 0;
}

int
kinkctl_conn_recv(struct conn *c, struct ctl_msg *m, uint64_t deadline)
{
	struct pollfd pfd;
	struct timeval tv;
	size_t used;
	ssize_t r;
	int e, timeout;

	for (;;) {
		e = ctl_msg_decode(c->rbuf, c->rlen, m, &used);
		if (e == CTL_E_OK) {
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
			c->rlen -= used;
			return 1;
		}
		if (e != CTL_E_SHORT) {
			fprintf(stderr, "kinkctl: bad message from kinkd: %s\n",
			    ctl_strerror(e));
			return -1;
		}
		timeout = -1;
		if (deadline != 0) {
			uint64_t now;

			gettimeofday(&tv, NULL);
			now = (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (now >= deadline)
				return 0;
			timeout = (int)(deadline - now);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((e = poll(&pfd, 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "kinkctl: poll: %s\n", strerror(errno));
			return -1;
		}
		if (e == 0)
			continue;	/* the deadline check returns 0 */
		r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fprintf(stderr, "kinkctl: read: %s\n", strerror(errno));
			return -1;
		}
		if (r == 0) {
			fprintf(stderr, "kinkctl: connection closed by "
			    "kinkd\n");
			return -1;
		}
		c->rlen += (size_t)r;
	}
}
