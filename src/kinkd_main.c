/*
 * The daemon's body, as a library function so that the production main
 * (src/kinkd.c) and the test build's (tests/lib/kinkd_test.c) share it.
 *
 *	kinkd [-dnSv] [-f file] [-s socket] [-D macro=value]
 *
 * Start-up order (torn down in reverse): config, log, engine tables and
 * EPOCH, (detach), event base, SA backend (and its upcall), suite filter,
 * Kerberos context, UDP sockets, peers, control socket (and the monitor
 * hook), signals, privilege drop, stale-SA cleanup, SPD entries and the
 * dead-peer timers, then the loop.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libutil.h>
#include <systemd/sd-daemon.h>

#include <event2/event.h>

#include "broker.h"
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "kern_msg.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "hostid.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "reconcile.h"
#include "reload.h"
#include "sadb.h"
#include "sadb_broker.h"
#include "sandbox.h"
#include "sarec.h"
#include "upcall.h"
#include "version.h"
#include "stats.h"
#include "timer.h"
#include "xact.h"

#define KINKD_MAX_DEFINES	64
#define KINKD_STOP_MS		2000	/* bound on the shutdown flush */

/* -h asked for it: stdout and success; a bad command line: stderr, 2. */
static void __attribute__((noreturn))
usage(int asked)
{
	fprintf(asked ? stdout : stderr,
	    "usage: kinkd [-dhnPSUvV] [-f file] [-s socket] [-D macro=value]\n"
	    "  -d foreground, log to stderr   -n check the configuration\n"
	    "  -v more verbose (repeatable)   -f file (default " KINKD_CONF ")\n"
	    "  -s control socket              -D macro=value for the file\n"
	    "  -S a failed privilege drop is fatal (set strict-privileges)\n"
	    "  -h, --help this text           -V, --version the version\n"
	    "  -P privilege separation: a sandboxed engine and a broker "
	    "(the default)\n"
	    "  -U, --no-privsep one process, no sandbox (debugging)\n");
	exit(asked ? 0 : 2);
}

static const char *
backend_name(enum conf_backend b)
{
	switch (b) {
	case CONF_BACKEND_NULL:
		return "null";
	case CONF_BACKEND_PFKEY:
		return "pfkey";
	case CONF_BACKEND_XFRM:
		return "xfrm";
	default:
		return "auto";
	}
}

/* ---- SPD ------------------------------------------------------------- */

static void
spd_install(struct kinkd *kd, struct conf_peer *cp)
{
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	int i, j, n;

	for (i = 0; i < cp->p_npolicies; i++) {
		n = conf_policy_spd(cp, &cp->p_policies[i], q,
		    CONF_MAX_PEER_ADDRS);
		for (j = 0; j < n; j++)
			if (sadb_spd_add(kd->kd_eng.en_sadb, &q[j],
			    sadb_done_log, (void *)"add SPD entry") == -1)
				log_warnx("peer %s policy %s: SPD entry not "
				    "installed", cp->p_name, q[j].pol_name);
	}
}

static void
spd_remove(struct kinkd *kd, struct conf_peer *cp)
{
	struct kink_policy q[CONF_MAX_PEER_ADDRS];
	int i, j, n;

	for (i = 0; i < cp->p_npolicies; i++) {
		n = conf_policy_spd(cp, &cp->p_policies[i], q,
		    CONF_MAX_PEER_ADDRS);
		for (j = 0; j < n; j++)
			sadb_spd_del(kd->kd_eng.en_sadb, &q[j], sadb_done_log,
			    (void *)"delete SPD entry");
	}
}

/* SAs a previous run left in the kernel: kinkd owns none of them now. */
static void
stale_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct kinkd *kd = arg;

	if (sa == NULL || err != 0)
		return;
	if (sa->sa_spi == 0) {
		/* An ACQUIRE's placeholder: it would stop ACQUIREs for its
		 * selector until the kernel drops it (30 s on Linux). */
		reconcile_larval_log(sa, "from a previous run");
		if (sadb_del_larval(kd->kd_eng.en_sadb, sa, sadb_done_log,
		    (void *)"delete larval SA") == -1)
			log_warn("larval SA not removed");
		return;
	}
	log_info("removing stale SA spi 0x%08x from a previous run",
	    sa->sa_spi);
	sadb_del(kd->kd_eng.en_sadb, sa, sadb_done_log,
	    (void *)"delete stale SA");
}

/* ---- privileges: open everything as root, then drop ------------------- */

/* The file part of a keytab or rcache name ("FILE:/x" -> "/x"). */
static const char *
krb_path(const char *name)
{
	const char *c;

	if (name == NULL)
		return NULL;
	if ((c = strchr(name, ':')) != NULL && c[1] == '/')
		return c + 1;
	return name;
}

/*
 * What the daemon still opens after the drop, checked in a child that
 * becomes the user first: the keytab (krb5_rd_req reads it for every
 * AP-REQ, the worker for every TGT refresh) and the replay cache directory.
 * A problem found here keeps kinkd running as root, with a warning,
 * instead of failing every exchange later.
 */
static int
drop_would_work(struct kinkd *kd, const struct passwd *pw, char *why,
    size_t len)
{
	const char *kt = krb_path(kd->kd_eng.en_conf->c_keytab);
	const char *rcname = getenv("KRB5RCACHENAME");
	char rcdir[1024];
	pid_t pid;
	int st;

	if (rcname != NULL && (rcname = krb_path(rcname)) != NULL &&
	    strrchr(rcname, '/') != NULL) {
		strlcpy(rcdir, rcname, sizeof(rcdir));
		*strrchr(rcdir, '/') = '\0';
	} else
		strlcpy(rcdir, getenv("KRB5RCACHEDIR") ?
		    getenv("KRB5RCACHEDIR") : "/var/tmp", sizeof(rcdir));
	if ((pid = fork()) == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			_exit(3);
		if (kt != NULL && access(kt, R_OK) == -1)
			_exit(1);
		if (access(rcdir, W_OK | X_OK) == -1)
			_exit(2);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	switch (WIFEXITED(st) ? WEXITSTATUS(st) : -1) {
	case 1:
		snprintf(why, len, "keytab %s is not readable by %s", kt,
		    pw->pw_name);
		break;
	case 2:
		snprintf(why, len, "replay cache directory %s is not "
		    "writable by %s", rcdir, pw->pw_name);
		break;
	default:
		snprintf(why, len, "cannot become %s", pw->pw_name);
		break;
	}
	return 0;
}

static void
kinkd_drop_privileges(struct kinkd *kd)
{
	struct __user_cap_header_struct ch;
	struct __user_cap_data_struct cd[_LINUX_CAPABILITY_U32S_3];
	const char *user = kd->kd_eng.en_conf->c_user;
	struct passwd *pw;
	char why[1200];
	/*
	 * XFRM checks CAP_NET_ADMIN on every netlink message, PF_KEY only
	 * when the socket is created (docs/arch/kernel.md, measured in the
	 * VM): only the xfrm backend keeps the capability.
	 */
	int keep_admin = kd->kd_privsep_fd == -1 &&
	    strcmp(sadb_backend(kd->kd_eng.en_sadb), "xfrm") == 0;

	if (getuid() != 0 || user == NULL || user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL) {
		if (kd->kd_eng.en_conf->c_strict_priv)
			fatalx("user %s does not exist; strict-privileges: "
			    "not running as root", user);
		log_info("user %s does not exist: kinkd keeps running as root",
		    user);
		return;
	}
	if (pw->pw_uid == 0)
		return;
	if (!drop_would_work(kd, pw, why, sizeof(why))) {
		if (kd->kd_eng.en_conf->c_strict_priv)
			fatalx("cannot drop privileges to %s: %s; "
			    "strict-privileges: not running as root", user, why);
		log_warnx("not dropping privileges to %s: %s", user, why);
		return;
	}
	/*
	 * (ship) The bounding set down to the capability kept, and no new
	 * privileges through execve: kinkd executes nothing, so this only
	 * closes doors.  Dropping needs CAP_SETPCAP, which a unit's
	 * CapabilityBoundingSet= may have taken away already; then the
	 * unit's bounding set stands.
	 */
	{
		int cap;

		for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
			if (!(keep_admin && cap == CAP_NET_ADMIN) &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
				log_debug("capability bounding set kept: %s",
				    strerror(errno));
				break;
			}
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	}
	if (keep_admin && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_KEEPCAPS)");
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
	if (keep_admin) {
		memset(&ch, 0, sizeof(ch));
		memset(cd, 0, sizeof(cd));
		ch.version = _LINUX_CAPABILITY_VERSION_3;
		cd[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
		    cd[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
		    CAP_TO_MASK(CAP_NET_ADMIN);
		if (syscall(SYS_capset, &ch, cd) == -1)
			fatal("capset");
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	/* There is no way back. */
	if (setuid(0) != -1)
		fatalx("privileges not dropped");
	log_info("running as %s (uid %u)%s", user, (unsigned)pw->pw_uid,
	    keep_admin ? ", keeping CAP_NET_ADMIN for xfrm" : "");
}

/* ---- signals and shutdown ---------------------------------------------- */

/*
 * A DELETE on shutdown waits for its REPLY at most one retransmission
 * cycle and never longer than this: stopping must not hang on a peer that
 * is gone (it removes the SAs itself by dead-peer detection or expiry).
 */
#define KINKD_STOP_DELETE_MS	5000

/* How long a DELETE retransmits under `set retransmit`, capped. */
static uint64_t
stop_bound_ms(const struct kink_conf *c)
{
	uint64_t total = 0, iv = c->c_retrans_ms;
	uint32_t i;

	for (i = 0; i < c->c_retrans_tries && total < KINKD_STOP_DELETE_MS;
	    i++) {
		total += iv;
		iv = iv * 2 > c->c_retrans_max_ms ? c->c_retrans_max_ms :
		    iv * 2;
	}
	if (total > KINKD_STOP_DELETE_MS)
		total = KINKD_STOP_DELETE_MS;
	return total > KINKD_STOP_MS ? total : KINKD_STOP_MS;
}

/*
 * Polled while stopping: the loop ends once the backend has answered and
 * every DELETE is answered or given up, or at the bound.
 */
static void
stop_check(evutil_socket_t fd, short ev, void *arg)
{
	struct kinkd *kd = arg;
	struct kink_engine *en = &kd->kd_eng;
	struct timeval tv = { 0, 50 * 1000 };
	struct kink_xact *x;
	int left = 0;

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(x, &en->en_xacts, xa_entry)
		if (x->xa_role == XR_INIT &&
		    x->xa_cmd == KINK_MSGTYPE_DELETE &&
		    x->xa_state != XS_DONE && x->xa_state != XS_FAILED)
			left++;
	if (kd->kd_stop_sadb && left == 0) {
		if (kd->kd_stop_deletes > 0)
			log_info("shutdown: every DELETE answered");
		event_base_loopexit(en->en_base, NULL);
		return;
	}
	if (timer_now_ms() >= kd->kd_stop_end_ms) {
		log_warnx("shutdown: %d DELETE%s unanswered%s; stopping anyway",
		    left, left == 1 ? "" : "s", kd->kd_stop_sadb ? "" :
		    ", backend did not answer");
		event_base_loopexit(en->en_base, NULL);
		return;
	}
	evtimer_add(kd->kd_ev_stop, &tv);
}

static void
stop_dump_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct kinkd *kd = arg;

	(void)err;
	/* The backend answers in order: everything before this is done. */
	if (sa == NULL)
		kd->kd_stop_sadb = 1;
}

static void
kinkd_stop(struct kinkd *kd)
{
	struct kink_engine *en = &kd->kd_eng;
	struct kink_peer *pe;
	int n = 0;

	if (en->en_stopping)
		return;
	en->en_stopping = 1;
	sd_notify(0, "STOPPING=1");
	log_info("shutting down (SAs: %s)",
	    en->en_conf->c_shutdown == CONF_SHUTDOWN_KEEP ? "kept" :
	    "flushed");
	xact_abort_peer(en, NULL, "shutting down");
	reconcile_arm(kd);	/* stopping: the periodic run is off */
	if (en->en_conf->c_shutdown == CONF_SHUTDOWN_KEEP)
		sarec_forget_all(en);
	else {
		uint64_t t0 = timer_now_ms();

		/* Removed on purpose: the peers must stop sending into them. */
		n = xact_delete_tell(en, NULL, NULL, NULL, "shutdown",
		    &kd->kd_stop_deletes);
		TAILQ_FOREACH(pe, &en->en_peers, pe_entry)
			if (pe->pe_conf != NULL)
				spd_remove(kd, pe->pe_conf);
		/* Range peers are no engine peers: their kernel policies
		 * (one per range) are the configuration's. */
		for (int i = 0; i < en->en_conf->c_npeers; i++)
			if (en->en_conf->c_peers[i].p_nranges > 0)
				spd_remove(kd, &en->en_conf->c_peers[i]);
		/* The time is the benchmark's (tests/bench/scale.sh). */
		if (kd->kd_stop_deletes > 0)
			log_info("shutdown: %d SAs removed, %d DELETEs to "
			    "peers in %llu ms", n, kd->kd_stop_deletes,
			    (unsigned long long)(timer_now_ms() - t0));
	}
	kd->kd_stop_end_ms = timer_now_ms() + (kd->kd_stop_deletes > 0 ?
	    stop_bound_ms(en->en_conf) : KINKD_STOP_MS);
	if (sadb_dump(en->en_sadb, stop_dump_cb, kd) == -1)
		kd->kd_stop_sadb = 1;
	if ((kd->kd_ev_stop = evtimer_new(en->en_base, stop_check, kd)) ==
	    NULL)
		event_base_loopexit(en->en_base, NULL);
	else
		stop_check(-1, 0, kd);
}

static void
kinkd_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct kinkd *kd = arg;
	char err[CTL_ERRTEXT_MAX];

	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", kd->kd_conf_path);
		/* systemd shows "reloading" until READY=1 and STATUS=. */
		sd_notify(0, "RELOADING=1");
		if (reload_config(kd, NULL, err, sizeof(err)) == 0)
			sd_notify(0, "READY=1\nSTATUS=configuration reloaded");
		else
			sd_notify(0, "READY=1\nSTATUS=reload failed, old "
			    "configuration kept");
		break;
	case SIGTERM:
	case SIGINT:
		kinkd_stop(kd);
		break;
	case SIGUSR1:
		/* Only a test build does something with it. */
		if (kd->kd_hooks != NULL && kd->kd_hooks->kh_sigusr1 != NULL)
			kd->kd_hooks->kh_sigusr1(kd);
		break;
	}
}

static void
add_define(struct conf_macro *defs, int *n, char *arg)
{
	char *eq;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg) {
		fprintf(stderr, "kinkd: -D %s: expected macro=value\n", arg);
		exit(2);
	}
	if (*n >= KINKD_MAX_DEFINES) {
		fprintf(stderr, "kinkd: too many -D\n");
		exit(2);
	}
	*eq = '\0';
	defs[*n].cm_name = arg;
	defs[*n].cm_value = eq + 1;
	(*n)++;
}

struct kinkd_args {
	const char	*ka_conffile;
	const char	*ka_sockpath;
	int		 ka_check;	/* -n */
	int		 ka_strict;	/* -S */
	int		 ka_privsep;	/* on unless -U */
};

static void
parse_args(struct kinkd *kd, int argc, char *argv[], struct kinkd_args *ka)
{
	static struct conf_macro defs[KINKD_MAX_DEFINES + 1];
	int ch, ndefs = 0;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "no-privsep", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 }
	};

	ka->ka_conffile = KINKD_CONF;
	ka->ka_privsep = 1;
	while ((ch = getopt_long(argc, argv, "dhnPSUvVf:s:D:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(1);
		case 'V':
			printf("kinkd %s\n", kink_version);
			exit(0);
		case 'd':
			kd->kd_foreground = 1;
			break;
		case 'n':
			ka->ka_check = 1;
			break;
		case 'S':
			ka->ka_strict = 1;
			break;
		case 'P':
			ka->ka_privsep = 1;
			break;
		case 'U':
			ka->ka_privsep = 0;
			break;
		case 'v':
			kd->kd_verbose++;
			break;
		case 'f':
			ka->ka_conffile = optarg;
			break;
		case 's':
			ka->ka_sockpath = optarg;
			break;
		case 'D':
			add_define(defs, &ndefs, optarg);
			break;
		default:
			usage(0);
		}
	}
	if (argc != optind)
		usage(0);
	kd->kd_defines = ndefs ? defs : NULL;
}

/*
 * Under systemd each configuration error is one journal entry at
 * priority "err", so "journalctl -p err" shows why the start failed.
 */
static void
conf_errors_report(const struct conf_errors *e)
{
	int i;

	if (!log_to_journal()) {
		conf_errors_print(e, stderr);
		return;
	}
	for (i = 0; i < e->ce_count; i++)
		fprintf(stderr, "<%d>%s\n", LOG_ERR, e->ce_msgs[i]);
	if (e->ce_truncated)
		fprintf(stderr, "<%d>too many errors, stopped after %d\n",
		    LOG_ERR, CONF_MAX_ERRORS);
}

/*
 * A policy the kernel can never pick: another one matches all its traffic
 * at the same or a better priority (with the same selectors, the one
 * installed later replaces it).  Names are safe to print: the lexer
 * refuses control characters in strings.
 */
/* The policy that shadows policy number `k` (counted over all peers). */
static const struct kink_policy *
shadowed_by(const struct kink_conf *c, const struct kink_policy *b, int k,
    const char **peer)
{
	int pj, j, ka = 0;

	for (pj = 0; pj < c->c_npeers; pj++)
		for (j = 0; j < c->c_peers[pj].p_npolicies; j++, ka++) {
			const struct kink_policy *a =
			    &c->c_peers[pj].p_policies[j];

			if (ka == k || !kern_pol_shadows(a, b) ||
			    (kern_pol_shadows(b, a) && ka < k))
				continue;
			*peer = c->c_peers[pj].p_name;
			return a;
		}
	return NULL;
}

static void
warn_shadowed(const struct kink_conf *c)
{
	const struct kink_policy *a, *b;
	const char *peer;
	int pi, i, k = 0;

	for (pi = 0; pi < c->c_npeers; pi++)
		for (i = 0; i < c->c_peers[pi].p_npolicies; i++, k++) {
			b = &c->c_peers[pi].p_policies[i];
			if ((a = shadowed_by(c, b, k, &peer)) != NULL)
				log_warnx("peer \"%s\" policy \"%s\" can never "
				    "match: peer \"%s\" policy \"%s\" covers "
				    "its traffic", c->c_peers[pi].p_name,
				    b->pol_name, peer, a->pol_name);
		}
}

/*
 * The host's canonical name, as krb5_sname_to_principal would take it
 * (the resolver's canonical name, not the short gethostname()): the
 * keytab of a host is made for kink/host.domain@REALM.
 */
static int
host_fqdn(char *out, size_t len)
{
	struct addrinfo hints, *ai = NULL;

	if (gethostname(out, len) == -1)
		return -1;
	out[len - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(out, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL)
		strlcpy(out, ai->ai_canonname, len);
	if (ai != NULL)
		freeaddrinfo(ai);
	return 0;
}

/* Our principal: "set principal", else kink/FQDN@default realm. */
static int
kinkd_principal(const struct kink_conf *c, char *out, size_t len)
{
	char host[256];

	if (c->c_principal != NULL)
		return strlcpy(out, c->c_principal, len) < len ? 0 : -1;
	if (host_fqdn(host, sizeof(host)) == -1)
		return -1;
	return krb_host_principal(host, NULL, out, len);
}

/*
 * A -n finding on stderr; under systemd (ExecStartPre) with its journal
 * priority, as the file's errors: "journalctl -p err" shows why the start
 * failed.
 */
static void __attribute__((format(printf, 2, 3)))
check_say(int prio, const char *fmt, ...)
{
	va_list ap;

	if (log_to_journal())
		fprintf(stderr, "<%d>", prio);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * -n: the keytab holds our principal.  Its entries are listed as klist -k
 * shows them (kvno, enctype), on stderr: stdout of -nv stays a valid
 * configuration file.  0 if usable.
 */
static int
check_keytab(const struct kink_conf *c, const char *princ)
{
	struct krb_kt_entry e[KRB_KT_MAX];
	char why[512];
	int i, n;

	n = krb_keytab_keys(c->c_keytab, princ, e, KRB_KT_MAX, why,
	    sizeof(why));
	if (n == -1) {
		check_say(LOG_ERR, "kinkd: keytab %s: %s\n", c->c_keytab, why);
		return -1;
	}
	if (n == 0) {
		check_say(LOG_ERR, "kinkd: keytab %s holds no key for %s (set "
		    "principal, or add its key: kadmin ktadd)\n", c->c_keytab,
		    princ);
		return -1;
	}
	for (i = 0; i < n && i < KRB_KT_MAX; i++)
		fprintf(stderr, "keytab %s: %s kvno %d %s\n", c->c_keytab,
		    princ, e[i].kte_kvno, e[i].kte_etype);
	return 0;
}

/*
 * -n: what the privilege drop will find, by the same test the daemon
 * runs (a child that becomes the user tries the files: the kernel's
 * answer, ACLs included, rather than a guess from modes).  Only root can
 * become the user; run by anyone else, kinkd will not drop either.
 * A problem is an error under strict-privileges, else a warning.
 */
static int
check_user(struct kinkd *kd)
{
	const struct kink_conf *c = kd->kd_eng.en_conf;
	const char *what = c->c_strict_priv ? "error" : "warning";
	int prio = c->c_strict_priv ? LOG_ERR : LOG_WARNING;
	const char *then = c->c_strict_priv ? "strict-privileges: kinkd "
	    "would not start" : "kinkd would keep running as root";
	struct passwd *pw;
	char why[1200];

	if (c->c_user == NULL || c->c_user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->c_user)) == NULL) {
		check_say(prio, "kinkd: %s: user %s does not exist: %s\n",
		    what, c->c_user, then);
		return c->c_strict_priv ? -1 : 0;
	}
	if (getuid() != 0 || pw->pw_uid == 0) {
		if (kd->kd_verbose)
			fprintf(stderr, "kinkd: user %s: privilege drop not "
			    "checked (%s)\n", c->c_user, pw->pw_uid == 0 ?
			    "it is root" : "kinkd -n is not run as root");
		return 0;
	}
	if (!drop_would_work(kd, pw, why, sizeof(why))) {
		check_say(prio, "kinkd: %s: %s: %s\n", what, why, then);
		return c->c_strict_priv ? -1 : 0;
	}
	return 0;
}

/*
 * -n on the host: a transform the configuration asks for that this
 * kernel cannot install is a warning (the daemon would skip that suite
 * at start).  The crypto API is asked without a backend, which would need
 * root: the names XFRM installs, through AF_ALG, which PF_KEY's supported
 * lists come from too.
 */
static void
check_kernel_algs(const struct kink_conf *c)
{
	struct sadb_caps caps;
	char why[160];

	if (c->c_backend == CONF_BACKEND_NULL || sadb_caps_probe(&caps) == -1)
		return;
	for (int i = 0; i < c->c_npeers; i++)
		for (int j = 0; j < c->c_peers[i].p_npolicies; j++) {
			const struct kink_policy *pol =
			    &c->c_peers[i].p_policies[j];

			for (int k = 0; k < pol->pol_nsuites; k++) {
				const struct kink_suite *s =
				    &pol->pol_suites[k];

				if ((!s->s_esp.x_present ||
				    sadb_caps_xform(&caps, IPPROTO_ESP,
				    &s->s_esp, why, sizeof(why))) &&
				    (!s->s_ah.x_present ||
				    sadb_caps_xform(&caps, IPPROTO_AH,
				    &s->s_ah, why, sizeof(why))) &&
				    (!s->s_ipcomp.x_present ||
				    sadb_caps_xform(&caps, IPPROTO_COMP,
				    &s->s_ipcomp, why, sizeof(why))))
					continue;
				check_say(LOG_WARNING, "kinkd: warning: peer "
				    "%s policy %s suite %d: %s: kinkd would "
				    "skip it\n", c->c_peers[i].p_name,
				    pol->pol_name, k + 1, why);
			}
		}
}

/* At start: what the backend learnt the kernel can install. */
static void
log_kernel_algs(struct sadb *sd)
{
	struct sadb_caps caps;
	char enc[256], auth[256], comp[64];

	if (sadb_caps(sd, &caps) == -1)
		return;
	sadb_caps_names(&caps, 1, enc, sizeof(enc));
	sadb_caps_names(&caps, 0, auth, sizeof(auth));
	sadb_caps_names(&caps, 2, comp, sizeof(comp));
	log_info("kernel algorithms (%s): encryption %s; integrity %s; "
	    "compression %s", caps.kc_source, enc[0] ? enc : "none",
	    auth[0] ? auth : "none", !caps.kc_comp_known ? "unknown" :
	    comp[0] ? comp : "none");
}

/*
 * -n: the file is valid, the keytab holds our principal, the user can
 * take over; -nv prints every effective setting first.
 */
static void __attribute__((noreturn))
kinkd_check(struct kinkd *kd)
{
	struct kink_conf *c = kd->kd_eng.en_conf;
	char princ[KRB_PRINC_MAX + 1];
	int bad = 0;

	/* The derived principal is a setting too: show it, as a setting. */
	if (c->c_principal == NULL) {
		if (kinkd_principal(c, princ, sizeof(princ)) == 0)
			c->c_principal = strdup(princ);
		else
			check_say(LOG_ERR, "kinkd: cannot derive the default "
			    "principal (no default realm in krb5.conf?)\n");
	}
	/* So is the number of workers "auto" comes to on this host. */
	c->c_krb_workers = conf_krb_workers(c);
	if (kd->kd_verbose) {
		conf_dump(c, stdout);
		fflush(stdout);
	}
	if (c->c_principal == NULL || check_keytab(c, c->c_principal) == -1)
		bad = 1;
	if (check_user(kd) == -1)
		bad = 1;
	check_kernel_algs(c);
	if (!bad && !kd->kd_verbose)
		fprintf(stderr, "configuration OK\n");
	conf_free(c);
	exit(bad);
}

/* The configuration (-n ends here), the paths, our principal. */
static void
kinkd_load(struct kinkd *kd, const struct kinkd_args *ka)
{
	struct kink_engine *en = &kd->kd_eng;
	struct conf_errors errs;

	memset(&errs, 0, sizeof(errs));
	if ((en->en_conf = conf_load(ka->ka_conffile, kd->kd_defines,
	    &errs)) == NULL) {
		conf_errors_report(&errs);
		conf_errors_free(&errs);
		exit(1);
	}
	conf_errors_free(&errs);
	if (ka->ka_strict)
		en->en_conf->c_strict_priv = 1;
	warn_shadowed(en->en_conf);
	if (ka->ka_check)
		kinkd_check(kd);
	log_setverbose(kd->kd_verbose + en->en_conf->c_verbose);
	if ((kd->kd_conf_path = realpath(ka->ka_conffile, NULL)) == NULL)
		kd->kd_conf_path = strdup(ka->ka_conffile);
	kd->kd_sockpath = strdup(ka->ka_sockpath ? ka->ka_sockpath :
	    en->en_conf->c_socket ? en->en_conf->c_socket : CTL_SOCKET);
	if (kd->kd_conf_path == NULL || kd->kd_sockpath == NULL)
		fatal("strdup");
	kd->kd_start_ms = timer_now_ms();
	if (kinkd_principal(en->en_conf, en->en_principal,
	    sizeof(en->en_principal)) == -1)
		fatalx("cannot derive our principal from the host name "
		    "(set principal, or a default realm in krb5.conf)");
}

/*
 * One kinkd per control socket, and one per network namespace that talks
 * to the kernel: a second one would answer part of the peers' traffic,
 * remove the first one's SAs as stale and, on exit, its socket and
 * policies.  flock, not the pidfile: it holds whatever the flags, a
 * crashed kinkd releases it, and it survives the fork of daemon(3).
 * Lock files are never removed (removing one races with a starting
 * kinkd that has it open).  Returns the descriptor, kept open for life.
 */
static int
kinkd_lock_one(const char *path, const char *what)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		fprintf(stderr, "kinkd: cannot open lock file %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr, "kinkd: another kinkd is running with "
			    "%s (lock %s is held); not starting\n", what, path);
		else
			fprintf(stderr, "kinkd: cannot lock %s: %s\n", path,
			    strerror(errno));
		exit(1);
	}
	return fd;
}

static void
kinkd_lock(struct kinkd *kd, int fds[2])
{
	char path[1100], what[1100];
	struct stat st;

	snprintf(path, sizeof(path), "%s.lock", kd->kd_sockpath);
	snprintf(what, sizeof(what), "control socket %s", kd->kd_sockpath);
	fds[0] = kinkd_lock_one(path, what);
	fds[1] = -1;
	if (kd->kd_eng.en_conf->c_backend == CONF_BACKEND_NULL)
		return;
	if (stat("/proc/self/ns/net", &st) == -1) {
		fprintf(stderr, "kinkd: /proc/self/ns/net: %s\n",
		    strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/kinkd-net%llu.lock", KINKD_RUNDIR,
	    (unsigned long long)st.st_ino);
	fds[1] = kinkd_lock_one(path, "the kernel's SAs and policies in this "
	    "network namespace");
}

/*
 * Detach before anything starts a thread (the krb worker) or opens
 * descriptors libevent watches: fork keeps neither working.
 */
static struct pidfh *
kinkd_detach(struct kinkd *kd)
{
	struct pidfh *pfh;
	pid_t other;

	if (kd->kd_foreground)
		return NULL;
	if ((pfh = pidfile_open(KINKD_PIDFILE, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fatalx("already running, pid %d", (int)other);
		log_warn("pidfile %s", KINKD_PIDFILE);
	}
	if (daemon(0, 0) == -1)
		fatal("daemon");
	if (pfh != NULL)
		pidfile_write(pfh);
	return pfh;
}

static int
kinkd_net_send(void *net, const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote, const uint8_t *p, size_t len)
{
	return net_send(net, local, remote, p, len);
}

static int
kinkd_net_local(void *net, const struct sockaddr_storage *remote,
    struct sockaddr_storage *local)
{
	return net_local_for(net, remote, local);
}

static int
kinkd_net_rx_more(void *net, int (*want)(const uint8_t *, size_t))
{
	return net_rx_more(net, want);
}

/*
 * -P: fork the engine.  The parent becomes the broker (it keeps the pid
 * init knows, the pidfile and the kernel interface) and returns its exit
 * status once the engine is gone; the child returns -1 and goes on as the
 * engine, its SA backend a proxy to the broker.
 */
static int
kinkd_privsep(struct kinkd *kd, struct pidfh **pfh)
{
	struct broker_args ba;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("privsep: socketpair");
	if ((pid = fork()) == -1)
		fatal("privsep: fork");
	if (pid == 0) {
		close(sv[0]);
		kd->kd_privsep_fd = sv[1];
		*pfh = NULL;	/* the broker's */
		return -1;
	}
	close(sv[1]);
	memset(&ba, 0, sizeof(ba));
	ba.ba_fd = sv[0];
	ba.ba_engine = pid;
	ba.ba_conf_path = kd->kd_conf_path;
	ba.ba_defines = kd->kd_defines;
	ba.ba_backend = backend_name(kd->kd_eng.en_conf->c_backend);
	if (kd->kd_hooks != NULL)
		ba.ba_test = kd->kd_hooks->kh_broker_test;
	return broker_main(&ba);
}

/* -P: the engine gives up every capability and system call it needs not. */
static void
kinkd_sandbox(struct kinkd *kd)
{
	char why[256];

	if (sandbox_engine(why, sizeof(why)) == -1)
		fatalx("privsep: the engine's sandbox failed: %s", why);
	log_info("privsep: engine sandboxed (no capabilities, seccomp)");
	if (kd->kd_hooks != NULL && kd->kd_hooks->kh_sandboxed != NULL)
		kd->kd_hooks->kh_sandboxed(kd);
}

static const int kinkd_sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
#define KINKD_NSIGS	(int)(sizeof(kinkd_sigs) / sizeof(kinkd_sigs[0]))

/* Event base, backend, krb, sockets, peers, control socket, signals. */
static void
kinkd_open(struct kinkd *kd)
{
	struct kink_engine *en = &kd->kd_eng;
	struct kink_conf *c = en->en_conf;
	struct sockaddr_storage la[CONF_MAX_LISTEN];
	struct krb_ctx_opts ko;
	int i;

	if ((en->en_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (kd->kd_privsep_fd != -1) {
		if ((en->en_sadb = sadb_broker_new(en->en_base,
		    kd->kd_privsep_fd, upcall_sadb, en)) == NULL)
			fatalx("privsep: the broker could not open SA backend "
			    "%s", backend_name(c->c_backend));
	} else if ((en->en_sadb = sadb_new(en->en_base,
	    backend_name(c->c_backend), upcall_sadb, en)) == NULL)
		fatal("SA backend %s", backend_name(c->c_backend));
	if (kd->kd_hooks != NULL && kd->kd_hooks->kh_backend != NULL)
		kd->kd_hooks->kh_backend(kd);
	log_kernel_algs(en->en_sadb);
	if (reload_filter(en->en_sadb, c, NULL, 0) == -1)
		fatalx("%s: a policy has no suite the %s backend can install",
		    kd->kd_conf_path, sadb_backend(en->en_sadb));
	memset(&ko, 0, sizeof(ko));
	ko.ko_workers = conf_krb_workers(c);
	if ((en->en_krb = krb_ctx_new(en->en_base, en->en_principal,
	    c->c_keytab, &ko)) == NULL)
		fatalx("Kerberos context for %s failed", en->en_principal);
	for (i = 0; i < c->c_nlisten && i < CONF_MAX_LISTEN; i++)
		la[i] = c->c_listen[i].l_addr;
	if ((kd->kd_net = net_new(en->en_base, la, i, xact_input, en)) ==
	    NULL)
		fatalx("cannot open the KINK sockets");
	net_set_icmp(kd->kd_net, xact_status_icmp);
	en->en_send = kinkd_net_send;
	en->en_local_for = kinkd_net_local;
	en->en_rx_more = kinkd_net_rx_more;
	en->en_net = kd->kd_net;
	/* Range peers are templates: their hosts become learned peers. */
	for (i = 0; i < c->c_npeers; i++)
		if (c->c_peers[i].p_nranges == 0 &&
		    xact_peer_add(en, &c->c_peers[i]) == NULL)
			fatalx("out of memory");
	if (reload_hostid(en, c) == -1)
		fatalx("cannot set up host name lookups");
	if ((kd->kd_ctl = control_new(en->en_base, kd->kd_sockpath,
	    &kinkd_ctl_handlers, kd)) == NULL)
		fatalx("cannot create the control socket %s", kd->kd_sockpath);
	en->en_event = control_monitor_event;
	en->en_listening = control_monitor_listening;
	en->en_event_arg = kd->kd_ctl;
	/*
	 * The "set user" account's group may run the read-only commands.
	 * kinkd itself keeps running as it was started: see docs/arch.
	 */
	if (c->c_user != NULL && getuid() == 0) {
		struct passwd *pw = getpwnam(c->c_user);

		if (pw != NULL)
			control_set_group(kd->kd_ctl, pw->pw_gid);
		else
			log_debug("user %s does not exist; control socket "
			    "stays root's", c->c_user);
	}
	for (i = 0; i < KINKD_NSIGS; i++) {
		kd->kd_ev_sig[i] = evsignal_new(en->en_base, kinkd_sigs[i],
		    kinkd_signal, kd);
		if (kd->kd_ev_sig[i] == NULL ||
		    evsignal_add(kd->kd_ev_sig[i], NULL) == -1)
			fatalx("signal setup failed");
	}
}

/* Teardown, the reverse of kinkd_open. */
static void
kinkd_close(struct kinkd *kd)
{
	struct kink_engine *en = &kd->kd_eng;
	int i;

	en->en_stopping = 1;
	xact_abort_peer(en, NULL, "shutting down");
	if (kd->kd_ev_stop != NULL)
		event_free(kd->kd_ev_stop);
	reconcile_fini(kd);
	for (i = 0; i < KINKD_NSIGS; i++)
		if (kd->kd_ev_sig[i] != NULL)
			event_free(kd->kd_ev_sig[i]);
	daemon_ctl_fini(kd);
	control_free(kd->kd_ctl);
	kd->kd_ctl = NULL;
	en->en_event_arg = NULL;
	engine_fini(en);
	hostid_free(en->en_hostid);
	en->en_hostid = NULL;
	net_free(kd->kd_net);
	krb_ctx_free(en->en_krb);
	sadb_free(en->en_sadb);
	conf_free(en->en_conf);
	event_base_free(en->en_base);
}

int
kinkd_main(int argc, char *argv[], const struct kinkd_hooks *hooks)
{
	struct kinkd kd_store, *kd = &kd_store;
	struct kink_engine *en = &kd->kd_eng;
	struct kinkd_args ka;
	struct kink_peer *pe;
	struct pidfh *pfh;
	int locks[2], st;

	memset(kd, 0, sizeof(*kd));
	memset(&ka, 0, sizeof(ka));
	kd->kd_hooks = hooks;
	kd->kd_privsep_fd = -1;
	parse_args(kd, argc, argv, &ka);
	log_init("kinkd", kd->kd_foreground || ka.ka_check, kd->kd_verbose);
	kinkd_load(kd, &ka);
	engine_init(en);
	en->en_hooks = hooks != NULL ? hooks->kh_engine : NULL;
	/* Before anything is touched: socket, port or kernel. */
	kinkd_lock(kd, locks);
	pfh = kinkd_detach(kd);
	signal(SIGPIPE, SIG_IGN);
	if (ka.ka_privsep && (st = kinkd_privsep(kd, &pfh)) != -1) {
		/* The broker's end: the engine has stopped or died. */
		if (pfh != NULL)
			pidfile_remove(pfh);
		close(locks[0]);
		if (locks[1] != -1)
			close(locks[1]);
		conf_free(en->en_conf);
		free(kd->kd_conf_path);
		free(kd->kd_sockpath);
		return st;
	}
	kinkd_open(kd);
	kinkd_drop_privileges(kd);
	if (kd->kd_privsep_fd != -1)
		kinkd_sandbox(kd);
	/* Stale SAs first: the dump answers before the SPD adds complete. */
	if (sadb_dump(en->en_sadb, stale_cb, kd) == -1)
		log_debug("sadb backend cannot dump SAs");
	TAILQ_FOREACH(pe, &en->en_peers, pe_entry) {
		spd_install(kd, pe->pe_conf);
		xact_status_dpd_arm(pe);
	}
	/* A range's policies raise the ACQUIREs that find its hosts. */
	for (int i = 0; i < en->en_conf->c_npeers; i++)
		if (en->en_conf->c_peers[i].p_nranges > 0)
			spd_install(kd, &en->en_conf->c_peers[i]);
	reconcile_arm(kd);
	log_info("kinkd started: principal %s, port %u, backend %s, "
	    "epoch 0x%08x, %d peers", en->en_principal, en->en_conf->c_port,
	    sadb_backend(en->en_sadb), en->en_epoch, en->en_conf->c_npeers);
	/*
	 * Type=notify: "systemctl start" returns now, with the KINK sockets,
	 * the kernel interface and the control socket up.
	 */
	sd_notifyf(0, "READY=1\nSTATUS=principal %s, %d peers",
	    en->en_principal, en->en_conf->c_npeers);

	event_base_dispatch(en->en_base);

	kinkd_close(kd);
	if (pfh != NULL)
		pidfile_remove(pfh);
	log_info("kinkd stopped");
	close(locks[0]);
	if (locks[1] != -1)
		close(locks[1]);
	free(kd->kd_conf_path);
	free(kd->kd_sockpath);
	return 0;
}
