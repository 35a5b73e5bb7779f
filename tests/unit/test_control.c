/*
 * control.c + kinkctl end to end: a real control server (src/control.c on
 * a libevent loop, in a child process) answering with fixed records, and
 * the real $B/kinkctl binary as the client.  Covers every command's text
 * and JSON rendering, exit statuses, peer-credential refusal (client run
 * as uid 65534), garbage/oversize requests closing only their connection,
 * pipelining, asynchronous answers (also to a client that went away), and
 * monitor streaming.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctl.h"
#include "ctl_msg.h"
#include "control.h"
#include "version.h"
#include "isakmp_num.h"
#include "kink.h"
#include "log.h"
#include "test.h"

static char	 dir[64];
static char	 sock_path[128], sock_path2[128];
static char	 kinkctl[PATH_MAX];
static pid_t	 server_pid = -1;
static const char *run_cwd;	/* kinkctl's working directory, if set */

/* ---------------- the test server (child process) ---------------- */

static struct control	*srv_ctl;
static struct event_base *srv_base;
static struct control_req *srv_held;
static int		 srv_held_alive = -1;
static uint64_t		 srv_flush_calls, srv_log_level = 99, srv_handler_calls;

static void
fixed_sa(struct ctl_sa *s, int i)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->cs_peer, "beta");
	if (i == 0) {
		strcpy(s->cs_policy, "web");
		s->cs_dir = CTL_SA_DIR_OUT;
		s->cs_proto = PROTO_IPSEC_ESP;
		s->cs_mode = ENCAP_MODE_TRANSPORT;
		s->cs_state = CTL_SA_MATURE;
		s->cs_spi = 0xdeadbeef;
		s->cs_src.ca_af = s->cs_dst.ca_af = CTL_AF_INET;
		inet_pton(AF_INET, "192.0.2.1", s->cs_src.ca_addr);
		inet_pton(AF_INET, "192.0.2.2", s->cs_dst.ca_addr);
		s->cs_enc = ESP_AES_CBC;
		s->cs_enc_keylen = 128;
		s->cs_auth = AUTH_ALG_HMAC_SHA2_256;
		s->cs_enckey_len = 4;
		memcpy(s->cs_enckey, "\xa0\xa1\xa2\xa3", 4);
		s->cs_authkey_len = 2;
		memcpy(s->cs_authkey, "\x01\x02", 2);
		s->cs_life_hard_secs = 3600;
		s->cs_bytes = 1234;
	} else {
		strcpy(s->cs_policy, "all");
		s->cs_dir = CTL_SA_DIR_IN;
		s->cs_proto = PROTO_IPSEC_AH;
		s->cs_mode = ENCAP_MODE_TUNNEL;
		s->cs_state = CTL_SA_LARVAL;
		s->cs_spi = 0x0badcafe;
		s->cs_src.ca_af = s->cs_dst.ca_af = CTL_AF_INET6;
		inet_pton(AF_INET6, "2001:db8::2", s->cs_src.ca_addr);
		inet_pton(AF_INET6, "2001:db8::1", s->cs_dst.ca_addr);
		s->cs_auth = AUTH_ALG_HMAC_SHA;
		s->cs_authkey_len = 3;
		memcpy(s->cs_authkey, "\xff\xee\xdd", 3);
		s->cs_bytes = CTL_UNKNOWN64;
		strcpy(s->cs_reason, "larval (acquire pending)");
	}
}

static void
h_show_sa(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	struct ctl_sa s;

	srv_handler_calls++;
	for (int i = 0; i < 2; i++) {
		fixed_sa(&s, i);
		if (r->cr_peer[0] == '\0' || strcmp(r->cr_peer, s.cs_peer) == 0)
			control_send_sa(rq, &s);
	}
	control_end(rq);
}

static void
h_show_peers(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	struct ctl_peer p;

	srv_handler_calls++;
	memset(&p, 0, sizeof(p));
	strcpy(p.cp_name, "beta");
	strcpy(p.cp_principal, "kink/beta@EXAMPLE.ORG");
	p.cp_state = CTL_PEER_ALIVE;
	p.cp_naddr = 2;
	p.cp_addr[0].ca_af = CTL_AF_INET;
	inet_pton(AF_INET, "192.0.2.2", p.cp_addr[0].ca_addr);
	p.cp_addr[1].ca_af = CTL_AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", p.cp_addr[1].ca_addr);
	p.cp_epoch_known = 1;
	p.cp_epoch = 0x5f5e100;
	p.cp_clock_offset = -3;
	p.cp_nsa = 2;
	p.cp_rto_ms = 1350;
	p.cp_rtt_samples = 3;
	p.cp_srtt_ms = 450;
	p.cp_rttvar_ms = 225;
	p.cp_learned = 1;
	strcpy(p.cp_range, "site");
	strcpy(p.cp_how, "dns ptr+a");
	control_send_peer(rq, &p);
	memset(&p, 0, sizeof(p));
	strcpy(p.cp_name, "gamma");
	strcpy(p.cp_principal, "kink/gamma@EXAMPLE.ORG");
	strcpy(p.cp_lasterr, "initiator CREATE: no answer after 5 sends");
	p.cp_lasterr_time = (uint64_t)time(NULL) - 5;
	p.cp_rto_ms = 2000;
	control_send_peer(rq, &p);
	control_end(rq);
}

static void
h_show_xact(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	struct ctl_xact x;

	memset(&x, 0, sizeof(x));
	x.cx_xid = 0x1a2b3c4d;
	strcpy(x.cx_peer, "beta");
	x.cx_cmd = KINK_MSGTYPE_CREATE;
	x.cx_role = CTL_ROLE_INITIATOR;
	strcpy(x.cx_state, "I_CREATE");
	x.cx_tries = 2;
	x.cx_age_ms = 1500;
	control_send_xact(rq, &x);
	control_end(rq);
}

static void
h_show_self(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	control_send_info(rq, "version", "9.8.7");
	control_send_info(rq, "principal", "kink/alpha.example@EXAMPLE");
	control_send_info(rq, "pid", "%d", 42);
	control_send_info(rq, "uptime_s", "%d", 3600);
	control_send_info(rq, "listen", "127.0.0.1 port 910");
	control_send_info(rq, "listen", "::1 port 910");
	control_send_info(rq, "keytab", "/k\ttab\"x");
	control_send_info(rq, "key", "kvno 3 aes256-cts-hmac-sha1-96");
	control_send_info(rq, "key", "kvno 2 aes128-cts-hmac-sha1-96");
	control_send_info(rq, "tgt_expires", "2026-12-07T10:00:00Z");
	control_end(rq);
}

static void
h_show_stats(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	char name[16];

	control_send_stat(rq, "handler_calls", srv_handler_calls);
	control_send_stat(rq, "flush_calls", srv_flush_calls);
	control_send_stat(rq, "log_level", srv_log_level);
	/* 0 = nothing released yet, 1 = client was gone, 2 = still there */
	control_send_stat(rq, "held_released", (uint64_t)(srv_held_alive + 1));
	control_send_stat(rq, "held_pending", srv_held != NULL);
	/* more than one record's worth */
	for (int i = 0; i < CTL_STATS_MAX + 2; i++) {
		snprintf(name, sizeof(name), "c%03d", i);
		control_send_stat(rq, name, (uint64_t)i);
	}
	control_end(rq);
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	control_end(arg);
}

static void
h_initiate(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	struct timeval tv = { 0, 50000 };

	srv_handler_calls++;
	if (strcmp(r->cr_peer, "nosuch") == 0) {
		control_error(rq, CTL_ERR_NOPEER, "no such peer: %s",
		    r->cr_peer);
		return;
	}
	if (strcmp(r->cr_peer, "hold") == 0) {
		srv_held = rq;		/* answered by "release" */
		return;
	}
	if (strcmp(r->cr_peer, "release") == 0) {
		if (srv_held != NULL) {
			srv_held_alive = control_req_alive(srv_held);
			control_end(srv_held);	/* client gone: no-op send */
			srv_held = NULL;
		}
		control_end(rq);
		return;
	}
	if (strcmp(r->cr_policy, "fail") == 0) {
		control_error(rq, CTL_ERR_TIMEOUT, "initiate %s: CREATE timed "
		    "out after 5 tries", r->cr_peer);
		return;
	}
	/* Asynchronous: the exchange "completes" 50 ms later. */
	event_base_once(srv_base, -1, EV_TIMEOUT, later_cb, rq, &tv);
}

static void
h_delete_sa(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	srv_handler_calls++;
	if (r->cr_spi != 0x12345678) {
		control_error(rq, CTL_ERR_NOSA, "no SA with SPI 0x%08x",
		    r->cr_spi);
		return;
	}
	control_end(rq);
}

static void
h_flush_sa(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	const char *peer = r->cr_peer[0] ? r->cr_peer : "beta";

	srv_handler_calls++;
	srv_flush_calls++;
	control_eventf(srv_ctl, CTL_EV_SA_DEL, peer, 0x1234,
	    "esp spi 0xdeadbeef \"quoted\"\ttab");
	control_eventf(srv_ctl, CTL_EV_SA_DEL, peer, 0, "ah spi 0x0badcafe");
	control_end(rq);
}

static void
h_reload(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	srv_handler_calls++;
	if (strcmp(r->cr_file, "bad.conf") == 0) {
		control_error(rq, CTL_ERR_CONF, "kinkd.conf:14:9: expected "
		    "\"transport\" or \"tunnel\", got \"trasnport\"\n"
		    "kinkd.conf:20:1: unknown keyword \"pear\"");
		return;
	}
	if (strstr(r->cr_file, "rel.conf") != NULL) {
		/* echo what arrived: kinkctl must have made it absolute */
		control_error(rq, CTL_ERR_CONF, "file=%s", r->cr_file);
		return;
	}
	control_eventf(srv_ctl, CTL_EV_RELOAD, NULL, 0, "ok");
	control_end(rq);
}

static void
h_log(struct control_req *rq, const struct ctl_req *r, void *arg)
{
	srv_handler_calls++;
	srv_log_level = r->cr_level;
	control_end(rq);
}

static void
term_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(srv_base);
}

static void
server_main(int ready_fd)
{
	struct control_handlers h = {
		.h_show_sa = h_show_sa, .h_show_peers = h_show_peers,
		.h_show_xact = h_show_xact, .h_show_stats = h_show_stats,
		.h_initiate = h_initiate, .h_delete_sa = h_delete_sa,
		.h_flush_sa = h_flush_sa, .h_reload = h_reload, .h_log = h_log,
		.h_show_self = h_show_self,
	}, none;
	struct control *ctl2;
	struct event *sig;
	struct stat st;
	int rc = 0;

	memset(&none, 0, sizeof(none));
	log_init("test_control", 1, 0);
	srv_base = event_base_new();
	sig = evsignal_new(srv_base, SIGTERM, term_cb, NULL);
	event_add(sig, NULL);
	srv_ctl = control_new(srv_base, sock_path, &h, NULL);
	ctl2 = control_new(srv_base, sock_path2, &none, NULL);
	/* Short, so idle_connection_closed waits little. */
	if (srv_ctl != NULL)
		control_set_idle(srv_ctl, 1500);
	if (srv_ctl == NULL || ctl2 == NULL ||
	    control_set_group(ctl2, 65534) == -1)
		_exit(3);
	(void)write(ready_fd, "r", 1);
	close(ready_fd);
	event_base_dispatch(srv_base);
	if (srv_held != NULL)
		control_end(srv_held);
	control_free(srv_ctl);
	control_free(ctl2);
	/* control_free() removes the socket */
	if (stat(sock_path, &st) == 0)
		rc = 4;
	event_free(sig);
	event_base_free(srv_base);
	libevent_global_shutdown();
	exit(rc);
}

/* ---------------- client helpers ---------------- */

struct result {
	int	status;		/* exit status, or -1 if killed */
	char	out[65536];
	char	err[8192];
};

static void
slurp(int fd, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

static int
tmpfd(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/outXXXXXX", dir);
	fd = mkstemp(path);
	unlink(path);
	return fd;
}

/* Run kinkctl with argv (NULL-terminated, without argv[0]) as `uid`. */
static int
run_as(uid_t uid, struct result *r, const char *const *args)
{
	const char *argv[32];
	int ofd = tmpfd(), efd = tmpfd(), st, n = 0;
	pid_t pid;

	argv[n++] = kinkctl;
	for (; *args != NULL && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		if (run_cwd != NULL && chdir(run_cwd) == -1)
			_exit(97);
		if (uid != 0 && (setgroups(0, NULL) == -1 ||
		    setuid(uid) == -1))
			_exit(98);
		execv(kinkctl, (char *const *)argv);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	slurp(ofd, r->out, sizeof(r->out));
	slurp(efd, r->err, sizeof(r->err));
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r->status;
}

#define CTL(r, ...) run_as(0, (r), (const char *const[]){ "-s", sock_path, \
	__VA_ARGS__, NULL })
#define CTL_UID(uid, r, ...) run_as((uid), (r), (const char *const[]){ "-s", \
	sock_path, __VA_ARGS__, NULL })

/* ---- a tiny strict JSON checker (RFC 8259 syntax) ---- */

static const char *json_value(const char *);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
					    p[i]) || p[i] == '\0')
						return NULL;
				p += 5;
				continue;
			}
			if (*p == '\0' || !strchr("\"\\/bfnrt", *p))
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static const char *
json_number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	return p;
}

static const char *
json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if ((p = json_string(json_ws(p))) == NULL)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if ((p = json_value(p)) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return json_number(p);
}

/* One JSON document per line (monitor) or one in all (others). */
static int
json_ok(const char *s, int per_line)
{
	const char *p = s;

	if (*s == '\0')
		return 0;
	while (*p != '\0') {
		if ((p = json_value(p)) == NULL)
			return 0;
		if (per_line && *p != '\n')
			return 0;
		p = json_ws(p);
	}
	return 1;
}

/* ---- raw protocol client ---- */

static uint8_t	raw_buf[CTL_HDR_LEN + CTL_MAXMSG];
static size_t	raw_len;
static int	raw_fd = -1;

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	raw_fd = -1;	/* fd numbers are reused: forget old leftovers */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
raw_send(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static int
raw_request(int fd, uint8_t type, uint32_t seq, const struct ctl_req *rq)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	struct buf b;
	int rv;

	m->m_hdr.ch_type = type;
	m->m_hdr.ch_seq = seq;
	if (rq != NULL)
		m->m_req = *rq;
	buf_init(&b, 0);
	rv = ctl_msg_encode(&b, m) == CTL_E_OK ? raw_send(fd, b.b_data,
	    b.b_len) : -1;
	buf_free(&b);
	free(m);
	return rv;
}

/*
 * Read one message within 5 s.  Returns 1 ok, 0 EOF (clean close), -1
 * error/timeout.  Keeps leftovers in a per-call static buffer keyed by fd.
 */

static int
raw_recv(int fd, struct ctl_msg *m)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t used;
	ssize_t n;

	if (fd != raw_fd) {
		raw_fd = fd;
		raw_len = 0;
	}
	for (;;) {
		int e = ctl_msg_decode(raw_buf, raw_len, m, &used);

		if (e == CTL_E_OK) {
			memmove(raw_buf, raw_buf + used, raw_len - used);
			raw_len -= used;
			return 1;
		}
		if (e != CTL_E_SHORT)
			return -1;
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		n = read(fd, raw_buf + raw_len, sizeof(raw_buf) - raw_len);
		if (n == 0)
			return raw_len == 0 ? 0 : -1;
		if (n < 0)
			return -1;
		raw_len += (size_t)n;
	}
}

/* Expect exactly one CTL_ERROR with `code`, then EOF. */
static int
expect_error_close(int fd, uint16_t code, uint32_t seq)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	int ok;

	ok = raw_recv(fd, m) == 1 && m->m_hdr.ch_type == CTL_ERROR &&
	    m->m_error.er_code == code && m->m_hdr.ch_seq == seq &&
	    raw_recv(fd, m) == 0;
	free(m);
	return ok;
}

/* Server-side counters through show stats. */
static long long
stat_of(const char *name)
{
	struct result *r = malloc(sizeof(*r));
	char key[64];
	const char *p;
	long long v = -1;

	snprintf(key, sizeof(key), "\n%s ", name);
	if (CTL(r, "-q", "show", "stats") == 0) {
		memmove(r->out + 1, r->out, strlen(r->out) + 1);
		r->out[0] = '\n';
		if ((p = strstr(r->out, key)) != NULL)
			v = strtoll(p + strlen(key), NULL, 10);
	}
	free(r);
	return v;
}

/* ---------------- tests ---------------- */

TEST(socket_created_0660)
{
	struct stat st;

	ASSERT_INT_EQ(stat(sock_path, &st), 0);
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_INT_EQ(st.st_mode & 07777, 0660);
	ASSERT_INT_EQ(st.st_uid, 0);
	ASSERT_INT_EQ(stat(sock_path2, &st), 0);
	ASSERT_INT_EQ(st.st_gid, 65534);	/* control_set_group() */
	ASSERT_INT_EQ(st.st_mode & 07777, 0660);
}

TEST(show_sa_text)
{
	struct result *r = malloc(sizeof(*r));
	const char *want =
"PEER         DIR PROTO SPI        SRC             DST             MODE      ENC             AUTH          STATE  AGE    BYTES  REASON\n"
"beta         out esp   0xdeadbeef 192.0.2.1       192.0.2.2       transport aes-cbc/128     hmac-sha2-256 mature -      1234\n"
"beta         in  ah    0x0badcafe 2001:db8::2     2001:db8::1     tunnel    -               hmac-sha1     larval -      - larval (acquire pending)\n";

	ASSERT_INT_EQ(CTL(r, "show", "sa"), 0);
	ASSERT_STR_EQ(r->out, want);
	ASSERT_STR_EQ(r->err, "");
	ASSERT_TRUE(strstr(r->out, "a0a1") == NULL);	/* no keys */
	/* unique prefixes */
	ASSERT_INT_EQ(CTL(r, "sh", "sa"), 0);
	ASSERT_STR_EQ(r->out, want);
	/* -q drops the header */
	ASSERT_INT_EQ(CTL(r, "-q", "show", "sa"), 0);
	ASSERT_STR_EQ(r->out, want + strlen("PEER         DIR PROTO SPI        SRC             DST             MODE      ENC             AUTH          STATE  AGE    BYTES  REASON\n"));
	free(r);
}

TEST(show_sa_json)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "-j", "show", "sa"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	ASSERT_STR_EQ(r->out, "{\"sa\":[{\"peer\":\"beta\",\"policy\":\"web\","
	    "\"dir\":\"out\",\"proto\":\"esp\",\"spi\":\"0xdeadbeef\","
	    "\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\",\"mode\":\"transport\","
	    "\"state\":\"mature\",\"enc\":\"aes-cbc\",\"enc_id\":12,"
	    "\"enc_keylen\":128,\"auth\":\"hmac-sha2-256\",\"auth_id\":5,"
	    "\"life_soft_secs\":0,\"life_hard_secs\":3600,"
	    "\"life_soft_bytes\":0,\"life_hard_bytes\":0,\"created\":0,"
	    "\"bytes\":1234,\"reason\":null},"
	    "{\"peer\":\"beta\",\"policy\":\"all\",\"dir\":\"in\","
	    "\"proto\":\"ah\",\"spi\":\"0x0badcafe\",\"src\":\"2001:db8::2\","
	    "\"dst\":\"2001:db8::1\",\"mode\":\"tunnel\",\"state\":\"larval\","
	    "\"enc\":\"none\",\"enc_id\":0,\"enc_keylen\":0,"
	    "\"auth\":\"hmac-sha1\",\"auth_id\":2,\"life_soft_secs\":0,"
	    "\"life_hard_secs\":0,\"life_soft_bytes\":0,\"life_hard_bytes\":0,"
	    "\"created\":0,\"bytes\":null,"
	    "\"reason\":\"larval (acquire pending)\"}]}\n");
	free(r);
}

TEST(show_sa_keys_only_on_request)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "show", "sa", "keys"), 0);
	ASSERT_TRUE(strstr(r->out, "\n  enckey  a0a1a2a3\n  authkey 0102\n")
	    != NULL);
	ASSERT_TRUE(strstr(r->out, "\n  enckey  -\n  authkey ffeedd\n") != NULL);
	ASSERT_INT_EQ(CTL(r, "-j", "show", "sa", "peer", "beta", "keys"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	ASSERT_TRUE(strstr(r->out, "\"enckey\":\"a0a1a2a3\",\"authkey\":\"0102\"")
	    != NULL);
	ASSERT_TRUE(strstr(r->out, "\"enckey\":\"\",\"authkey\":\"ffeedd\"")
	    != NULL);
	/* "keys" before "peer" works too */
	ASSERT_INT_EQ(CTL(r, "-j", "show", "sa", "k", "peer", "beta"), 0);
	ASSERT_TRUE(strstr(r->out, "a0a1a2a3") != NULL);
	free(r);
}

TEST(show_sa_peer_filter)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "-q", "show", "sa", "peer", "gamma"), 0);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_INT_EQ(CTL(r, "-j", "show", "sa", "peer", "gamma"), 0);
	ASSERT_STR_EQ(r->out, "{\"sa\":[]}\n");
	ASSERT_INT_EQ(CTL(r, "-q", "show", "sa", "peer", "beta"), 0);
	ASSERT_TRUE(strstr(r->out, "0xdeadbeef") != NULL);
	free(r);
}

TEST(show_peers)
{
	struct result *r = malloc(sizeof(*r));
	const char *want;
	char *le;

	ASSERT_INT_EQ(CTL(r, "show", "peers"), 0);
	/* The age of the last error is the clock's: compared up to it. */
	ASSERT_TRUE((le = strstr(r->out, "  last error ")) != NULL);
	ASSERT_STR_EQ(strstr(le, " ago: "),
	    " ago: initiator CREATE: no answer after 5 sends\n");
	*le = '\0';
	/* The round trip only once measured (gamma's 2000 is a backoff). */
	ASSERT_STR_EQ(r->out,
"NAME         STATE     EPOCH      OFFSET  LASTSEEN  SAS  PRINCIPAL                      ADDRESSES\n"
"beta         alive     0x05f5e100 -3      -         2    kink/beta@EXAMPLE.ORG          192.0.2.2,2001:db8::2\n"
"  round trip 450 ms (rttvar 225 ms, 3 samples), first retransmit after 1350 ms\n"
"  learned from range peer site, confirmed by dns ptr+a\n"
"gamma        unknown   -          0       -         0    kink/gamma@EXAMPLE.ORG         -\n");
	ASSERT_INT_EQ(CTL(r, "-j", "show", "peers"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	want = "{\"peers\":[{\"name\":\"beta\","
	    "\"principal\":\"kink/beta@EXAMPLE.ORG\",\"state\":\"alive\","
	    "\"addresses\":[\"192.0.2.2\",\"2001:db8::2\"],\"epoch\":100000000,"
	    "\"clock_offset\":-3,\"last_seen\":0,\"sas\":2,"
	    "\"last_error\":null,\"rto_ms\":1350,\"rtt\":{\"srtt_ms\":450,"
	    "\"rttvar_ms\":225,\"samples\":3},"
	    "\"learned\":{\"range\":\"site\",\"how\":\"dns ptr+a\"}},"
	    "{\"name\":\"gamma\",\"principal\":\"kink/gamma@EXAMPLE.ORG\","
	    "\"state\":\"unknown\",\"addresses\":[],\"epoch\":null,"
	    "\"clock_offset\":0,\"last_seen\":0,\"sas\":0,"
	    "\"last_error\":{\"text\":"
	    "\"initiator CREATE: no answer after 5 sends\",\"time\":";
	ASSERT_TRUE(strncmp(r->out, want, strlen(want)) == 0);
	ASSERT_STR_EQ(r->out + strlen(want) + strspn(r->out + strlen(want),
	    "0123456789"), "},\"rto_ms\":2000,\"rtt\":null,"
	    "\"learned\":null}]}\n");
	free(r);
}

TEST(show_xact)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "show", "xact"), 0);
	ASSERT_STR_EQ(r->out,
"XID        PEER         CMD     ROLE      STATE            TRIES AGE\n"
"0x1a2b3c4d beta         CREATE  initiator I_CREATE         2     1.500s\n");
	ASSERT_INT_EQ(CTL(r, "-j", "show", "xact"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	ASSERT_STR_EQ(r->out, "{\"xact\":[{\"xid\":\"0x1a2b3c4d\","
	    "\"peer\":\"beta\",\"cmd\":\"CREATE\",\"role\":\"initiator\","
	    "\"state\":\"I_CREATE\",\"tries\":2,\"age_ms\":1500}]}\n");
	free(r);
}

TEST(show_stats_multi_record)
{
	struct result *r = malloc(sizeof(*r));
	int lines = 0;

	ASSERT_INT_EQ(CTL(r, "show", "stats"), 0);
	for (char *p = r->out; *p; p++)
		lines += *p == '\n';
	ASSERT_INT_EQ(lines, 5 + CTL_STATS_MAX + 2);
	ASSERT_TRUE(strstr(r->out, "\nc129 ") != NULL);
	ASSERT_TRUE(strstr(r->out, "c000                                                0\n")
	    != NULL);
	ASSERT_INT_EQ(CTL(r, "-j", "show", "stats"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	ASSERT_TRUE(strncmp(r->out, "{\"stats\":{\"handler_calls\":", 26) == 0);
	ASSERT_TRUE(strstr(r->out, "\"c129\":129}}\n") != NULL);
	free(r);
}

/* show stats -o prometheus: counters, gauges and per-peer series. */
TEST(show_stats_prometheus)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "show", "stats", "-o", "prometheus"), 0);
	ASSERT_STR_EQ(r->err, "");
	ASSERT_TRUE(strncmp(r->out, "# TYPE kinkd_handler_calls_total counter\n"
	    "kinkd_handler_calls_total ", 66) == 0);
	ASSERT_TRUE(strstr(r->out, "\n# TYPE kinkd_c129_total counter\n"
	    "kinkd_c129_total 129\n") != NULL);
	ASSERT_TRUE(strstr(r->out, "\n# TYPE kinkd_peer_sas gauge\n"
	    "kinkd_peer_sas{peer=\"beta\"} 2\n"
	    "kinkd_peer_sas{peer=\"gamma\"} 0\n") != NULL);
	ASSERT_TRUE(strstr(r->out, "kinkd_peer_up{peer=\"beta\"} 1\n"
	    "kinkd_peer_up{peer=\"gamma\"} 0\n") != NULL);
	ASSERT_TRUE(strstr(r->out, "kinkd_peer_clock_offset_seconds"
	    "{peer=\"beta\"} -3\n") != NULL);
	/* every line a comment or "name[{labels}] value" */
	for (char *l = r->out; *l != '\0'; l = strchr(l, '\n') + 1) {
		long long v;
		char name[128], end;

		if (*l == '#')
			continue;
		ASSERT_INT_EQ(sscanf(l, "%127[a-zA-Z0-9_:{}=\"] %lld%c", name,
		    &v, &end), 3);
		ASSERT_INT_EQ(end, '\n');
		ASSERT_TRUE(strncmp(name, "kinkd_", 6) == 0);
	}
	ASSERT_INT_EQ(CTL(r, "show", "stats", "-o", "yaml"), 2);
	ASSERT_INT_EQ(CTL(r, "show", "stats", "-o"), 2);
	free(r);
}

TEST(initiate_async_and_errors)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "initiate", "beta"), 0);	/* answered 50 ms later */
	ASSERT_STR_EQ(r->out, "ok\n");
	ASSERT_INT_EQ(CTL(r, "-j", "init", "beta", "web"), 0);
	ASSERT_STR_EQ(r->out, "{\"result\":\"ok\"}\n");
	ASSERT_INT_EQ(CTL(r, "-q", "initiate", "beta"), 0);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_INT_EQ(CTL(r, "initiate", "nosuch"), 1);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_STR_EQ(r->err, "no such peer: nosuch\n");
	ASSERT_INT_EQ(CTL(r, "-j", "initiate", "beta", "fail"), 1);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_STR_EQ(r->err, "initiate beta: CREATE timed out after 5 tries\n");
	free(r);
}

TEST(delete_flush_log)
{
	struct result *r = malloc(sizeof(*r));
	long long flushes = stat_of("flush_calls");

	ASSERT_INT_EQ(CTL(r, "delete", "sa", "0x12345678"), 0);
	ASSERT_STR_EQ(r->out, "ok\n");
	ASSERT_INT_EQ(CTL(r, "delete", "sa", "305419896"), 0);	/* decimal */
	ASSERT_INT_EQ(CTL(r, "delete", "sa", "5"), 1);
	ASSERT_STR_EQ(r->err, "no SA with SPI 0x00000005\n");
	ASSERT_INT_EQ(CTL(r, "flush", "sa"), 0);
	ASSERT_INT_EQ(CTL(r, "-j", "flush", "sa", "peer", "beta"), 0);
	ASSERT_STR_EQ(r->out, "{\"result\":\"ok\"}\n");
	ASSERT_INT_EQ(stat_of("flush_calls"), flushes + 2);
	ASSERT_INT_EQ(CTL(r, "log", "verbose"), 0);
	ASSERT_INT_EQ(stat_of("log_level"), CTL_LOG_VERBOSE);
	ASSERT_INT_EQ(CTL(r, "log", "b"), 0);
	ASSERT_INT_EQ(stat_of("log_level"), CTL_LOG_BRIEF);
	ASSERT_INT_EQ(CTL(r, "log", "debug"), 0);
	ASSERT_INT_EQ(stat_of("log_level"), CTL_LOG_DEBUG);
	ASSERT_INT_EQ(CTL(r, "log", "info"), 0);
	ASSERT_INT_EQ(stat_of("log_level"), CTL_LOG_INFO);
	ASSERT_INT_EQ(CTL(r, "log", "w"), 0);
	ASSERT_INT_EQ(stat_of("log_level"), CTL_LOG_WARNING);
	free(r);
}

TEST(reload_error_text)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "reload"), 0);
	ASSERT_STR_EQ(r->out, "ok\n");
	ASSERT_INT_EQ(CTL(r, "reload", "good.conf"), 0);
	ASSERT_INT_EQ(CTL(r, "reload", "bad.conf"), 1);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_STR_EQ(r->err, "kinkd.conf:14:9: expected \"transport\" or "
	    "\"tunnel\", got \"trasnport\"\n"
	    "kinkd.conf:20:1: unknown keyword \"pear\"\n");
	free(r);
}

TEST(reload_relative_path_made_absolute)
{
	struct result *r = malloc(sizeof(*r));
	char path[160], want[200];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/rel.conf", dir);
	ASSERT_TRUE((f = fopen(path, "w")) != NULL);
	fclose(f);
	run_cwd = dir;
	rc = CTL(r, "reload", "rel.conf");
	run_cwd = NULL;
	ASSERT_INT_EQ(rc, 1);
	snprintf(want, sizeof(want), "file=%s\n", path);
	ASSERT_STR_EQ(r->err, want);
	unlink(path);
	free(r);
}

TEST(usage_exit_2)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "bogus"), 2);
	ASSERT_TRUE(strstr(r->err, "unknown argument: bogus") != NULL);
	ASSERT_TRUE(strstr(r->err, "valid commands/args:\n  show\n  initiate\n")
	    != NULL);
	ASSERT_INT_EQ(CTL(r, "show"), 2);
	ASSERT_TRUE(strstr(r->err, "missing argument") != NULL);
	ASSERT_INT_EQ(CTL(r, "show", "s"), 2);
	ASSERT_TRUE(strstr(r->err, "ambiguous argument: s") != NULL);
	ASSERT_INT_EQ(CTL(r, "show", "sa", "peer"), 2);
	ASSERT_INT_EQ(CTL(r, "show", "peers", "extra"), 2);
	ASSERT_INT_EQ(CTL(r, "delete", "sa", "xyz"), 2);
	ASSERT_INT_EQ(CTL(r, "delete", "sa", "0x100000000"), 2);
	ASSERT_INT_EQ(CTL(r, "delete", "sa"), 2);
	ASSERT_INT_EQ(CTL(r, "initiate"), 2);
	ASSERT_INT_EQ(CTL(r, "initiate", ""), 2);
	ASSERT_INT_EQ(CTL(r, "log", "loud"), 2);
	ASSERT_INT_EQ(CTL(r, "monitor", "-n", "0"), 2);
	ASSERT_INT_EQ(CTL(r, "monitor", "-x", "1"), 2);
	ASSERT_INT_EQ(CTL(r, "flush", "sa", "peer", "a", "b"), 2);
	ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ "-Z", NULL }), 2);
	ASSERT_TRUE(strstr(r->err, "usage: kinkctl") != NULL);
	ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ NULL }), 2);
	/* an over-long name is a usage error, not a daemon one */
	{
		char longname[CTL_NAME_MAX + 2];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		ASSERT_INT_EQ(CTL(r, "initiate", longname), 2);
	}
	ASSERT_STR_EQ(r->out, "");
	free(r);
}

/* -h/--help: usage on stdout, exit 0; -V/--version: ours, no daemon. */
TEST(help_and_version_options)
{
	struct result *r = malloc(sizeof(*r));
	char want[64];

	snprintf(want, sizeof(want), "kinkctl %s\n", kink_version);
	for (int i = 0; i < 2; i++) {
		ASSERT_INT_EQ(run_as(0, r, (const char *const[]){
		    i ? "--help" : "-h", NULL }), 0);
		ASSERT_TRUE(strncmp(r->out, "usage: kinkctl", 14) == 0);
		ASSERT_STR_EQ(r->err, "");
		ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ "-s",
		    "/nonexistent", i ? "--version" : "-V", NULL }), 0);
		ASSERT_STR_EQ(r->out, want);
		ASSERT_STR_EQ(r->err, "");
	}
	free(r);
}

TEST(version_and_show_self)
{
	struct result *r = malloc(sizeof(*r));
	char want[128];

	snprintf(want, sizeof(want), "kinkctl %s\nkinkd 9.8.7\n",
	    kink_version);
	ASSERT_INT_EQ(CTL(r, "version"), 0);
	ASSERT_STR_EQ(r->out, want);
	ASSERT_INT_EQ(CTL(r, "-j", "version"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	snprintf(want, sizeof(want), "{\"kinkctl\":\"%s\",\"kinkd\":"
	    "\"9.8.7\"}\n", kink_version);
	ASSERT_STR_EQ(r->out, want);
	ASSERT_INT_EQ(CTL(r, "show", "self"), 0);
	ASSERT_STR_EQ(r->out,
	    "version    9.8.7\n"
	    "principal  kink/alpha.example@EXAMPLE\n"
	    "pid        42\n"
	    "uptime_s   3600\n"
	    "listen     127.0.0.1 port 910\n"
	    "listen     ::1 port 910\n"
	    "keytab     /k\\x09tab\"x\n"
	    "key        kvno 3 aes256-cts-hmac-sha1-96\n"
	    "key        kvno 2 aes128-cts-hmac-sha1-96\n"
	    "tgt_expires 2026-12-07T10:00:00Z\n");
	ASSERT_INT_EQ(CTL(r, "-j", "sh", "sel"), 0);
	ASSERT_TRUE(json_ok(r->out, 0));
	ASSERT_STR_EQ(r->out, "{\"self\":{\"version\":\"9.8.7\","
	    "\"principal\":\"kink/alpha.example@EXAMPLE\",\"pid\":42,"
	    "\"uptime_s\":3600,\"keytab\":\"/k\\u0009tab\\\"x\","
	    "\"tgt_expires\":\"2026-12-07T10:00:00Z\",\"keys\":[{\"kvno\":3,"
	    "\"enctype\":\"aes256-cts-hmac-sha1-96\"},{\"kvno\":2,"
	    "\"enctype\":\"aes128-cts-hmac-sha1-96\"}],"
	    "\"listen\":[\"127.0.0.1 port 910\",\"::1 port 910\"]}}\n");
	/* a kinkd without the request: kinkctl says so, exit 1 */
	ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ "-s", sock_path2,
	    "version", NULL }), 1);
	ASSERT_STR_EQ(r->err, "show-self: not supported by this kinkd\n");
	free(r);
}

/* monitor -e takes the event types kinkd sends, and no other word. */
TEST(monitor_rejects_unknown_event_type)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(CTL(r, "monitor", "-e", "bogus", "-t", "1"), 2);
	ASSERT_TRUE(strstr(r->err, "unknown event type: bogus\n") != NULL);
	ASSERT_TRUE(strstr(r->err, " sa-add ") != NULL);
	ASSERT_STR_EQ(r->out, "");
	ASSERT_INT_EQ(CTL(r, "monitor", "-e", "sa-update", "-e", "drop",
	    "-t", "1"), 0);
	free(r);
}

TEST(no_daemon_exit_1)
{
	struct result *r = malloc(sizeof(*r));
	char path[160];

	snprintf(path, sizeof(path), "%s/nothing.sock", dir);
	ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ "-s", path, "show",
	    "sa", NULL }), 1);
	ASSERT_TRUE(strstr(r->err, "connect") != NULL);
	free(r);
}

TEST(not_supported)
{
	struct result *r = malloc(sizeof(*r));

	ASSERT_INT_EQ(run_as(0, r, (const char *const[]){ "-s", sock_path2,
	    "show", "xact", NULL }), 1);
	ASSERT_STR_EQ(r->err, "show-xact: not supported by this kinkd\n");
	free(r);
}

TEST(peercred_refuses_nonroot)
{
	struct result *r = malloc(sizeof(*r));
	long long calls = stat_of("handler_calls");
	static const char *const changing[][5] = {
		{ "flush", "sa", NULL },
		{ "delete", "sa", "0x12345678", NULL },
		{ "initiate", "beta", NULL },
		{ "reload", NULL },
		{ "log", "verbose", NULL },
		{ "show", "sa", "keys", NULL },
	};
	static const char *const names[] = { "flush-sa", "delete-sa",
	    "initiate", "reload", "log", "show-sa with keys" };
	char want[128];

	/* read-only commands are open to the (group-permitted) caller */
	ASSERT_INT_EQ(CTL_UID(65534, r, "show", "peers"), 0);
	ASSERT_TRUE(strstr(r->out, "beta") != NULL);
	ASSERT_INT_EQ(CTL_UID(65534, r, "-j", "show", "sa"), 0);
	ASSERT_TRUE(strstr(r->out, "enckey") == NULL);
	for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++) {
		const char *args[8] = { "-s", sock_path };

		for (int k = 0; changing[i][k] != NULL; k++)
			args[2 + k] = changing[i][k];
		ASSERT_INT_EQ(run_as(65534, r, args), 1);
		snprintf(want, sizeof(want), "permission denied: %s requires "
		    "root (caller uid 65534)\n", names[i]);
		ASSERT_STR_EQ(r->err, want);
		ASSERT_STR_EQ(r->out, "");
	}
	/* only the two show calls reached a handler */
	ASSERT_INT_EQ(stat_of("handler_calls"), calls + 2);
	free(r);
}

/* A background `kinkctl monitor`; its stdout is a pipe we read lines from. */
struct bg {
	pid_t	pid;
	int	fd;
	char	buf[8192];
	size_t	len;
};

static int
bg_start(struct bg *b, const char *const *args)
{
	const char *argv[32];
	int p[2], n = 0;

	argv[n++] = kinkctl;
	argv[n++] = "-s";
	argv[n++] = sock_path;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe(p) == -1)
		return -1;
	fflush(stdout);
	if ((b->pid = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(kinkctl, (char *const *)argv);
		_exit(99);
	}
	close(p[1]);
	b->fd = p[0];
	b->len = 0;
	b->buf[0] = '\0';
	return 0;
}

/* Read until `needle` appears in the output (or EOF / 5 s). */
static int
bg_wait_for(struct bg *b, const char *needle)
{
	struct pollfd pfd = { b->fd, POLLIN, 0 };
	ssize_t n;

	while (strstr(b->buf, needle) == NULL) {
		if (poll(&pfd, 1, 5000) != 1)
			return 0;
		n = read(b->fd, b->buf + b->len, sizeof(b->buf) - 1 - b->len);
		if (n <= 0)
			return 0;
		b->len += (size_t)n;
		b->buf[b->len] = '\0';
	}
	return 1;
}

static int
bg_finish(struct bg *b)
{
	int st;

	while (bg_wait_for(b, "\001never\001"))
		;
	close(b->fd);
	waitpid(b->pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(monitor_streams_events)
{
	struct result *r = malloc(sizeof(*r));
	struct bg b, j;

	ASSERT_INT_EQ(bg_start(&b, (const char *const[]){ "monitor", "-n",
	    "2", "-t", "10", NULL }), 0);
	ASSERT_INT_EQ(bg_start(&j, (const char *const[]){ "-j", "monitor",
	    "-n", "1", "-e", "xact-done", "-e", "reload", "-t", "10", NULL }),
	    0);
	ASSERT_TRUE(bg_wait_for(&b, " subscribed\n"));
	ASSERT_TRUE(bg_wait_for(&j, "\"type\":\"subscribed\""));
	ASSERT_INT_EQ(CTL(r, "flush", "sa", "peer", "beta"), 0);
	ASSERT_INT_EQ(CTL(r, "reload"), 0);
	ASSERT_INT_EQ(bg_finish(&b), 0);
	ASSERT_INT_EQ(bg_finish(&j), 0);
	/* two sa-del lines after the subscription line, then it exited */
	ASSERT_TRUE(strstr(b.buf, "Z sa-del peer=beta xid=0x00001234 esp spi "
	    "0xdeadbeef \"quoted\"\\x09tab\n") != NULL);
	ASSERT_TRUE(strstr(b.buf, "Z sa-del peer=beta ah spi 0x0badcafe\n")
	    != NULL);
	ASSERT_TRUE(strstr(b.buf, "reload") == NULL);
	/* JSON: one object per line; -e skipped the sa-del events */
	ASSERT_TRUE(json_ok(j.buf, 1));
	ASSERT_TRUE(strstr(j.buf, "\"type\":\"sa-del\"") == NULL);
	/* no peer, no xid: null, as the page promises */
	ASSERT_TRUE(strstr(j.buf, "\"type\":\"reload\",\"peer\":null,"
	    "\"xid\":null,\"text\":\"ok\"}\n") != NULL);
	free(r);
}

TEST(monitor_json_escapes)
{
	struct result *r = malloc(sizeof(*r));
	struct bg j;

	ASSERT_INT_EQ(bg_start(&j, (const char *const[]){ "-j",
	    "monitor", "-n", "1", "-t", "10", NULL }), 0);
	ASSERT_TRUE(bg_wait_for(&j, "\"subscribed\""));
	ASSERT_INT_EQ(CTL(r, "flush", "sa"), 0);
	ASSERT_INT_EQ(bg_finish(&j), 0);
	ASSERT_TRUE(json_ok(j.buf, 1));
	ASSERT_TRUE(strstr(j.buf, "\"text\":\"esp spi 0xdeadbeef "
	    "\\\"quoted\\\"\\u0009tab\"}\n") != NULL);
	/* the XID as in the tables: a "0x..." string */
	ASSERT_TRUE(strstr(j.buf, "\"peer\":\"beta\",\"xid\":\"0x00001234\","
	    "\"text\":") != NULL);
	free(r);
}

/*
 * On a terminal, a C1 control (U+009B is CSI to some terminals) and an
 * octet outside UTF-8 in a daemon string are shown as \xHH; other UTF-8
 * passes.
 */
TEST(monitor_text_escapes_c1)
{
	struct result *r = malloc(sizeof(*r));
	struct bg b;

	ASSERT_INT_EQ(bg_start(&b, (const char *const[]){ "monitor", "-n",
	    "2", "-t", "10", NULL }), 0);
	ASSERT_TRUE(bg_wait_for(&b, " subscribed\n"));
	ASSERT_INT_EQ(CTL(r, "flush", "sa", "peer",
	    "x\xc2\x9b" "31m\xff\xc3\xa9y"), 0);
	ASSERT_INT_EQ(bg_finish(&b), 0);
	ASSERT_TRUE(strstr(b.buf, " sa-del peer=x\\xc2\\x9b31m\\xff\xc3\xa9y "
	    "xid=0x00001234 ") != NULL);
	ASSERT_TRUE(strchr(b.buf, 0x9b) == NULL);
	free(r);
}

TEST(monitor_timeout)
{
	struct result *r = malloc(sizeof(*r));

	/* a real type this server never sends (an unknown one is refused) */
	ASSERT_INT_EQ(CTL(r, "monitor", "-n", "1", "-t", "1", "-e",
	    "peer-epoch"), 1);
	ASSERT_TRUE(strstr(r->err, "timeout after 1s, 0 of 1 events") != NULL);
	ASSERT_TRUE(strstr(r->out, " subscribed\n") != NULL);
	/* without -n, the timeout is the normal end */
	ASSERT_INT_EQ(CTL(r, "-q", "monitor", "-t", "1"), 0);
	ASSERT_STR_EQ(r->out, "");
	free(r);
}

/* A raw subscriber, to check that other connections are unaffected. */
static int
raw_monitor(void)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	int fd = raw_connect(sock_path), ok;

	ok = fd != -1 && raw_request(fd, CTL_REQ_MONITOR, 42, NULL) == 0 &&
	    raw_recv(fd, m) == 1 && m->m_hdr.ch_type == CTL_REC_EVENT &&
	    strcmp(m->m_event.ce_type, CTL_EV_SUBSCRIBED) == 0;
	free(m);
	if (!ok && fd != -1)
		close(fd);
	return ok ? fd : -1;
}

static int
raw_monitor_sees_event(int fd)
{
	struct result *r = malloc(sizeof(*r));
	struct ctl_msg *m = calloc(1, sizeof(*m));
	int ok;

	ok = CTL(r, "flush", "sa") == 0 && raw_recv(fd, m) == 1 &&
	    m->m_hdr.ch_type == CTL_REC_EVENT &&
	    strcmp(m->m_event.ce_type, CTL_EV_SA_DEL) == 0 &&
	    raw_recv(fd, m) == 1;	/* the second sa-del */
	free(m);
	free(r);
	return ok;
}

TEST(garbage_closes_only_that_connection)
{
	uint8_t h[CTL_HDR_LEN + 4];
	int mon = raw_monitor(), fd;

	ASSERT_TRUE(mon != -1);

	/* wrong version */
	fd = raw_connect(sock_path);
	ASSERT_TRUE(fd != -1);
	memset(h, 0, sizeof(h));
	h[0] = 9; h[1] = CTL_REQ_SHOW_SA; put_be32(h + 8, 0x77);
	ASSERT_INT_EQ(raw_send(fd, h, CTL_HDR_LEN), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_VERSION, 0x77));
	close(fd);

	/* oversize length: refused from the header, before any payload */
	fd = raw_connect(sock_path);
	h[0] = CTL_VERSION; put_be32(h + 4, CTL_MAXMSG + 1);
	ASSERT_INT_EQ(raw_send(fd, h, CTL_HDR_LEN), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_BADREQ, 0x77));
	close(fd);

	/* unknown type */
	fd = raw_connect(sock_path);
	h[1] = 33; put_be32(h + 4, 0);
	ASSERT_INT_EQ(raw_send(fd, h, CTL_HDR_LEN), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_UNKNOWN, 0x77));
	close(fd);

	/* a record sent as a request */
	fd = raw_connect(sock_path);
	h[1] = CTL_END;
	ASSERT_INT_EQ(raw_send(fd, h, CTL_HDR_LEN), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_BADREQ, 0x77));
	close(fd);

	/* undecodable payload: LOG level 7 */
	fd = raw_connect(sock_path);
	h[1] = CTL_REQ_LOG; put_be32(h + 4, 1); h[CTL_HDR_LEN] = 7;
	ASSERT_INT_EQ(raw_send(fd, h, CTL_HDR_LEN + 1), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_BADREQ, 0x77));
	close(fd);

	/* random garbage */
	fd = raw_connect(sock_path);
	ASSERT_INT_EQ(raw_send(fd, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_VERSION,
	    get_be32((const uint8_t *)"GET / HTTP/1.0" + 8)));
	close(fd);

	/* the subscriber never noticed, and the server still answers */
	ASSERT_TRUE(raw_monitor_sees_event(mon));
	close(mon);
}

TEST(max_size_request_then_more)
{
	/* A maximal (but undecodable: trailing) request fills the read cap
	 * exactly; the server must answer it, not stall. */
	uint8_t *p = calloc(1, CTL_HDR_LEN + CTL_MAXMSG);
	int fd = raw_connect(sock_path);

	ASSERT_TRUE(fd != -1);
	p[0] = CTL_VERSION; p[1] = CTL_REQ_SHOW_PEERS;
	put_be32(p + 4, CTL_MAXMSG); put_be32(p + 8, 5);
	ASSERT_INT_EQ(raw_send(fd, p, CTL_HDR_LEN + CTL_MAXMSG), 0);
	ASSERT_TRUE(expect_error_close(fd, CTL_ERR_BADREQ, 5));
	close(fd);
	free(p);
}

TEST(framing_byte_at_a_time_and_pipelining)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	struct ctl_req rq;
	struct buf b;
	int fd = raw_connect(sock_path), n = 0;

	ASSERT_TRUE(fd != -1);
	memset(&rq, 0, sizeof(rq));
	strcpy(rq.cr_peer, "beta");
	/* three requests, one write each octet, then one more in bulk */
	m->m_hdr.ch_type = CTL_REQ_SHOW_SA; m->m_hdr.ch_seq = 100;
	m->m_req = rq;
	buf_init(&b, 0);
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	m->m_hdr.ch_type = CTL_REQ_SHOW_XACT; m->m_hdr.ch_seq = 101;
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	m->m_hdr.ch_type = CTL_REQ_INITIATE; m->m_hdr.ch_seq = 102;
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);	/* async answer */
	m->m_hdr.ch_type = CTL_REQ_SHOW_PEERS; m->m_hdr.ch_seq = 103;
	ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	for (size_t i = 0; i < b.b_len; i++) {
		ASSERT_INT_EQ(raw_send(fd, b.b_data + i, 1), 0);
		if (i % 16 == 0)
			usleep(200);	/* let the server see partial input */
	}
	buf_free(&b);
	/* answers strictly in request order, each closed by END */
	for (uint32_t seq = 100; seq <= 103; seq++) {
		int recs = 0;

		for (;;) {
			ASSERT_INT_EQ(raw_recv(fd, m), 1);
			ASSERT_INT_EQ(m->m_hdr.ch_seq, seq);
			if (m->m_hdr.ch_type == CTL_END)
				break;
			recs++;
			n++;
		}
		ASSERT_INT_EQ(recs, seq == 100 ? 2 : seq == 101 ? 1 :
		    seq == 102 ? 0 : 2);
	}
	ASSERT_INT_EQ(n, 5);
	/* without CTL_F_KEYS the SA records carried no keys */
	close(fd);
	free(m);
}

/*
 * Many pipelined requests written before reading any answer: the server
 * stops taking requests while CONTROL_OUTQ_MAX octets of answers wait and
 * resumes as they drain; every answer arrives, complete and in order.
 */
TEST(pipelined_without_reading)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	struct buf b;
	const uint32_t nreq = 200;	/* ~9 KB of answers each */
	int fd = raw_connect(sock_path), flags;
	uint32_t seq = 1, ends = 0, recs = 0;
	size_t off = 0;

	ASSERT_TRUE(fd != -1);
	buf_init(&b, 0);
	for (uint32_t i = 1; i <= nreq; i++) {
		m->m_hdr.ch_type = CTL_REQ_SHOW_STATS;
		m->m_hdr.ch_seq = i;
		ASSERT_INT_EQ(ctl_msg_encode(&b, m), CTL_E_OK);
	}
	/* write all of it while not reading (non-blocking: as far as it
	 * goes; the rest after the reads below make room) */
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		ssize_t w = write(fd, b.b_data + off, b.b_len - off);

		if (w > 0)
			off += (size_t)w;
		if (w <= 0 || off == b.b_len)
			break;
	}
	usleep(100000);		/* let the server fill its queue */
	fcntl(fd, F_SETFL, flags);
	while (ends < nreq) {
		if (off < b.b_len) {
			ssize_t w;

			fcntl(fd, F_SETFL, flags | O_NONBLOCK);
			w = write(fd, b.b_data + off, b.b_len - off);
			if (w > 0)
				off += (size_t)w;
			fcntl(fd, F_SETFL, flags);
		}
		ASSERT_INT_EQ(raw_recv(fd, m), 1);
		ASSERT_INT_EQ(m->m_hdr.ch_seq, seq);
		if (m->m_hdr.ch_type == CTL_END) {
			ASSERT_INT_EQ(recs, 2);	/* 137 counters: 2 records */
			recs = 0;
			ends++;
			seq++;
		} else {
			ASSERT_INT_EQ(m->m_hdr.ch_type, CTL_REC_STATS);
			recs++;
		}
	}
	ASSERT_INT_EQ(off, b.b_len);
	buf_free(&b);
	close(fd);
	free(m);
}

TEST(keys_not_sent_without_flag)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	int fd = raw_connect(sock_path);

	ASSERT_TRUE(fd != -1);
	ASSERT_INT_EQ(raw_request(fd, CTL_REQ_SHOW_SA, 1, NULL), 0);
	ASSERT_INT_EQ(raw_recv(fd, m), 1);
	ASSERT_INT_EQ(m->m_hdr.ch_type, CTL_REC_SA);
	ASSERT_INT_EQ(m->m_sa.cs_spi, 0xdeadbeef);
	ASSERT_INT_EQ(m->m_sa.cs_enckey_len, 0);
	ASSERT_INT_EQ(m->m_sa.cs_authkey_len, 0);
	close(fd);
	free(m);
}

TEST(async_answer_to_departed_client)
{
	struct result *r = malloc(sizeof(*r));
	struct ctl_req rq;
	int fd = raw_connect(sock_path);

	ASSERT_TRUE(fd != -1);
	memset(&rq, 0, sizeof(rq));
	strcpy(rq.cr_peer, "hold");
	ASSERT_INT_EQ(raw_request(fd, CTL_REQ_INITIATE, 9, &rq), 0);
	/* make sure the server holds it before we leave */
	for (int i = 0; i < 500 && stat_of("held_pending") != 1; i++)
		usleep(10000);
	ASSERT_INT_EQ(stat_of("held_pending"), 1);
	close(fd);
	/* release it: the server sees the client gone, ends it anyway */
	for (int i = 0; i < 50; i++) {
		ASSERT_INT_EQ(CTL(r, "initiate", "release"), 0);
		if (stat_of("held_released") == 1)
			break;
		/* EOF not processed before the release: hold again */
		fd = raw_connect(sock_path);
		ASSERT_INT_EQ(raw_request(fd, CTL_REQ_INITIATE, 9, &rq), 0);
		while (stat_of("held_pending") != 1)
			usleep(10000);
		close(fd);
		usleep(20000);
	}
	ASSERT_INT_EQ(stat_of("held_released"), 1);
	ASSERT_INT_EQ(stat_of("held_pending"), 0);
	ASSERT_INT_EQ(CTL(r, "show", "xact"), 0);	/* still serving */
	free(r);
}

TEST(connection_limit)
{
	int fds[CONTROL_MAX_CONN + 1], ok = 1, busy;

	for (int i = 0; i < CONTROL_MAX_CONN + 1; i++)
		fds[i] = raw_connect(sock_path);
	/*
	 * the last one over the limit is told BUSY, as the answer to its
	 * first request (its sequence), and closed
	 */
	busy = raw_request(fds[CONTROL_MAX_CONN], CTL_REQ_SHOW_PEERS, 4242,
	    NULL) == 0 &&
	    expect_error_close(fds[CONTROL_MAX_CONN], CTL_ERR_BUSY, 4242);
	for (int i = 0; i < CONTROL_MAX_CONN + 1; i++) {
		if (fds[i] == -1)
			ok = 0;
		else
			close(fds[i]);
	}
	ASSERT_TRUE(ok);
	ASSERT_TRUE(busy);
}

/*
 * A holder: a child as `uid` opens `n` connections and keeps them until
 * released; with `extra`, one more that sends a request and must get
 * BUSY to that request's sequence.  Reports '1' (as expected) or '0'.
 */
struct holder {
	pid_t	pid;
	int	release;	/* a byte on it ends the child */
	char	result;
};

static int
hold_as(struct holder *hd, uid_t uid, int n, int extra)
{
	int rp[2], up[2];

	if (pipe(rp) == -1 || pipe(up) == -1)
		return -1;
	fflush(stdout);
	if ((hd->pid = fork()) == 0) {
		int fds[CONTROL_MAX_CONN], ok = 1, fd;
		char c;

		close(rp[0]);
		close(up[1]);
		if (setgroups(0, NULL) == -1 || setuid(uid) == -1)
			_exit(98);
		for (int i = 0; i < n; i++)
			if ((fds[i] = raw_connect(sock_path)) == -1)
				ok = 0;
		if (extra) {
			fd = raw_connect(sock_path);
			ok = ok && fd != -1 &&
			    raw_request(fd, CTL_REQ_SHOW_PEERS, 7, NULL) == 0 &&
			    expect_error_close(fd, CTL_ERR_BUSY, 7);
			close(fd);
		}
		(void)write(rp[1], ok ? "1" : "0", 1);
		(void)read(up[0], &c, 1);
		_exit(0);
	}
	close(rp[1]);
	close(up[0]);
	hd->release = up[1];
	if (read(rp[0], &hd->result, 1) != 1)
		hd->result = '?';
	close(rp[0]);
	return 0;
}

static void
hold_release(struct holder *hd)
{
	/* a byte, not EOF: later children hold copies of this pipe */
	(void)write(hd->release, "x", 1);
	close(hd->release);
	waitpid(hd->pid, NULL, 0);
}

TEST(lockout_caps_and_root_slots)
{
	struct result *r = malloc(sizeof(*r));
	struct holder hd[4];
	/* three uids at their cap and one more fill every non-root slot */
	const int per = CONTROL_MAX_PER_UID;
	const int last = CONTROL_MAX_CONN - CONTROL_ROOT_SLOTS - 3 * per;

	ASSERT_TRUE(last > 0 && last < per);
	/*
	 * Round trips first, so the server has seen the earlier tests'
	 * connections close before these are counted.
	 */
	ASSERT_INT_EQ(CTL(r, "show", "peers"), 0);
	ASSERT_INT_EQ(CTL(r, "show", "peers"), 0);
	/* a uid's connection over its cap is refused */
	ASSERT_INT_EQ(hold_as(&hd[0], 65534, per, 1), 0);
	ASSERT_INT_EQ(hd[0].result, '1');
	ASSERT_INT_EQ(hold_as(&hd[1], 65533, per, 0), 0);
	ASSERT_INT_EQ(hold_as(&hd[2], 65532, per, 0), 0);
	/* past the non-root slots, another uid under its cap is refused */
	ASSERT_INT_EQ(hold_as(&hd[3], 65531, last, 1), 0);
	ASSERT_INT_EQ(hd[3].result, '1');
	/* kinkctl shows BUSY's reason, not a broken pipe */
	ASSERT_INT_EQ(CTL_UID(65530, r, "show", "peers"), 1);
	ASSERT_STR_EQ(r->err, "too many control connections (the rest are "
	    "kept for root)\n");
	/* root still gets in */
	ASSERT_INT_EQ(CTL(r, "show", "peers"), 0);
	ASSERT_TRUE(strstr(r->out, "beta") != NULL);
	for (int i = 0; i < 4; i++)
		hold_release(&hd[i]);
	free(r);
}

TEST(idle_connection_closed)
{
	struct ctl_msg *m = calloc(1, sizeof(*m));
	int fd = raw_connect(sock_path);

	/* nothing sent: closed after the idle limit (1.5 s here) */
	ASSERT_TRUE(fd != -1);
	ASSERT_INT_EQ(raw_recv(fd, m), 0);
	close(fd);
	free(m);
}

TEST(server_shutdown_clean)
{
	struct bg b;
	int st;

	/* a live subscriber at shutdown sees the connection close */
	ASSERT_INT_EQ(bg_start(&b, (const char *const[]){ "monitor", NULL }),
	    0);
	ASSERT_TRUE(bg_wait_for(&b, " subscribed\n"));
	kill(server_pid, SIGTERM);
	ASSERT_INT_EQ(waitpid(server_pid, &st, 0), server_pid);
	server_pid = -1;
	/* exit 0: control_free() unlinked the socket, ASan found nothing */
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	ASSERT_INT_EQ(bg_finish(&b), 1);
}

static int
start_server(void)
{
	int p[2];
	char c;

	if (pipe(p) == -1)
		return -1;
	fflush(stdout);
	if ((server_pid = fork()) == 0) {
		close(p[0]);
		server_main(p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		return -1;
	close(p[0]);
	return 0;
}

int
main(void)
{
	const char *b = getenv("B");
	char path[PATH_MAX];

	if (getuid() != 0) {
		/* The peer-credential cases need to switch uid. */
		printf("FAIL test_control: must run as root (uid %u)\n",
		    (unsigned)getuid());
		return 1;
	}
	snprintf(path, sizeof(path), "%s/kinkctl", b ? b : "build");
	if (realpath(path, kinkctl) == NULL || access(kinkctl, X_OK) != 0) {
		printf("FAIL test_control: %s not built\n", path);
		return 1;
	}
	strcpy(dir, "/tmp/kinkctl-test.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1) {
		printf("FAIL test_control: mkdtemp\n");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/kinkd.sock", dir);
	snprintf(sock_path2, sizeof(sock_path2), "%s/other.sock", dir);
	signal(SIGPIPE, SIG_IGN);
	if (start_server() == -1) {
		printf("FAIL test_control: server did not start\n");
		return 1;
	}
	RUN(socket_created_0660);
	RUN(show_sa_text);
	RUN(show_sa_json);
	RUN(show_sa_keys_only_on_request);
	RUN(show_sa_peer_filter);
	RUN(show_peers);
	RUN(show_xact);
	RUN(show_stats_multi_record);
	RUN(show_stats_prometheus);
	RUN(initiate_async_and_errors);
	RUN(delete_flush_log);
	RUN(reload_error_text);
	RUN(reload_relative_path_made_absolute);
	RUN(usage_exit_2);
	RUN(help_and_version_options);
	RUN(version_and_show_self);
	RUN(monitor_rejects_unknown_event_type);
	RUN(no_daemon_exit_1);
	RUN(not_supported);
	RUN(peercred_refuses_nonroot);
	RUN(monitor_streams_events);
	RUN(monitor_json_escapes);
	RUN(monitor_text_escapes_c1);
	RUN(monitor_timeout);
	RUN(garbage_closes_only_that_connection);
	RUN(max_size_request_then_more);
	RUN(framing_byte_at_a_time_and_pipelining);
	RUN(pipelined_without_reading);
	RUN(keys_not_sent_without_flag);
	RUN(async_answer_to_departed_client);
	RUN(connection_limit);
	RUN(lockout_caps_and_root_slots);
	RUN(idle_connection_closed);
	RUN(server_shutdown_clean);
	if (server_pid != -1) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)system(cmd);
	}
	return test_done();
}
