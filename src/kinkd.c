/*
 * kinkd: the KINK (RFC 4430) key management daemon.
 *
 *	kinkd [-dnv] [-f file] [-s socket] [-D macro=value]
 *
 * Start-up order (torn down in reverse): config, log, event base, SA
 * backend, Kerberos context, UDP sockets, peers, control socket, signals,
 * SPD entries and stale-SA cleanup, then the loop.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
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

#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "kink.h"
#include "kinkd.h"
#include "krb.h"
#include "log.h"
#include "net.h"
#include "peer.h"
#include "sadb.h"
#include "stats.h"
#include "xact.h"

#define KINKD_MAX_DEFINES	64
#define KINKD_STOP_MS		2000	/* bound on the shutdown flush */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kinkd [-dnv] [-f file] [-s socket] "
	    "[-D macro=value]\n");
	exit(2);
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
	int i;

	for (i = 0; i < cp->p_npolicies; i++)
		if (sadb_spd_add(kd->kd_sadb, &cp->p_policies[i],
		    kinkd_sadb_done, (void *)"add SPD entry") == -1)
			log_warnx("peer %s policy %s: SPD entry not installed",
			    cp->p_name, cp->p_policies[i].pol_name);
}

static void
spd_remove(struct kinkd *kd, struct conf_peer *cp)
{
	int i;

	for (i = 0; i < cp->p_npolicies; i++)
		sadb_spd_del(kd->kd_sadb, &cp->p_policies[i], kinkd_sadb_done,
		    (void *)"delete SPD entry");
}

/* SAs a previous run left in the kernel: kinkd owns none of them now. */
static void
stale_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct kinkd *kd = arg;

	if (sa == NULL || err != 0)
		return;
	log_info("removing stale SA spi 0x%08x from a previous run",
	    sa->sa_spi);
	sadb_del(kd->kd_sadb, sa, kinkd_sadb_done, (void *)"delete stale SA");
}

/* ---- privileges (STYLE 6.10, v1: open as root, then drop) ------------ */

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
	const char *kt = krb_path(kd->kd_conf->c_keytab);
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
	const char *user = kd->kd_conf->c_user;
	struct passwd *pw;
	char why[1200];
	/*
	 * XFRM checks CAP_NET_ADMIN on every netlink message, PF_KEY only
	 * when the socket is created (docs/arch/kernel.md, measured in the
	 * VM): only the xfrm backend keeps the capability.
	 */
	int keep_admin = strcmp(sadb_backend(kd->kd_sadb), "xfrm") == 0;

	if (getuid() != 0 || user == NULL || user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL) {
		log_info("user %s does not exist: kinkd keeps running as root",
		    user);
		return;
	}
	if (pw->pw_uid == 0)
		return;
	if (!drop_would_work(kd, pw, why, sizeof(why))) {
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

static void
stop_dump_cb(int err, const struct kink_sa *sa, void *arg)
{
	struct kinkd *kd = arg;

	/* The backend answers in order: everything before this is done. */
	if (sa == NULL)
		event_base_loopexit(kd->kd_base, NULL);
}

static void
kinkd_stop(struct kinkd *kd)
{
	struct kink_sarec *sr;
	struct kink_peer *pe;
	struct timeval tv = { KINKD_STOP_MS / 1000, (KINKD_STOP_MS % 1000) *
	    1000 };

	if (kd->kd_stopping)
		return;
	kd->kd_stopping = 1;
	sd_notify(0, "STOPPING=1");
	log_info("shutting down (SAs: %s)",
	    kd->kd_conf->c_shutdown == CONF_SHUTDOWN_KEEP ? "kept" :
	    "flushed");
	xact_abort_peer(kd, NULL, "shutting down");
	if (kd->kd_conf->c_shutdown == CONF_SHUTDOWN_KEEP) {
		while ((sr = TAILQ_FIRST(&kd->kd_sas)) != NULL) {
			sr->sr_installed = 0;
			peer_sa_forget(sr);
		}
	} else {
		peer_sa_flush(kd, NULL, "shutdown");
		TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry)
			if (pe->pe_conf != NULL)
				spd_remove(kd, pe->pe_conf);
	}
	if (sadb_dump(kd->kd_sadb, stop_dump_cb, kd) == -1)
		event_base_loopexit(kd->kd_base, NULL);
	else
		event_base_loopexit(kd->kd_base, &tv);
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
		if (kinkd_reload(kd, NULL, err, sizeof(err)) == 0)
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
		kinkd_inject(kd);
		break;
	}
}

/* ---- main -------------------------------------------------------------- */

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

int
main(int argc, char *argv[])
{
	static struct conf_macro defs[KINKD_MAX_DEFINES + 1];
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct kinkd kd_store, *kd = &kd_store;
	struct conf_errors errs;
	struct krb_ctx_opts ko;
	struct sockaddr_storage la[CONF_MAX_LISTEN];
	struct kink_peer *pe;
	struct pidfh *pfh = NULL;
	int ch, check = 0, ndefs = 0, i;
	const char *conffile = KINKD_CONF, *sockpath = NULL;

	memset(kd, 0, sizeof(*kd));
	while ((ch = getopt(argc, argv, "dnvf:s:D:")) != -1) {
		switch (ch) {
		case 'd':
			kd->kd_foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			kd->kd_verbose++;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 'D':
			add_define(defs, &ndefs, optarg);
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	log_init("kinkd", kd->kd_foreground || check, kd->kd_verbose);

	memset(&errs, 0, sizeof(errs));
	kd->kd_defines = ndefs ? defs : NULL;
	if ((kd->kd_conf = conf_load(conffile, kd->kd_defines, &errs)) ==
	    NULL) {
		conf_errors_report(&errs);
		conf_errors_free(&errs);
		exit(1);
	}
	conf_errors_free(&errs);
	if (check) {
		if (kd->kd_verbose)
			conf_dump(kd->kd_conf, stdout);
		else
			fprintf(stderr, "configuration OK\n");
		conf_free(kd->kd_conf);
		exit(0);
	}
	log_setverbose(kd->kd_verbose + kd->kd_conf->c_verbose);
	if ((kd->kd_conf_path = realpath(conffile, NULL)) == NULL)
		kd->kd_conf_path = strdup(conffile);
	kd->kd_sockpath = strdup(sockpath ? sockpath :
	    kd->kd_conf->c_socket ? kd->kd_conf->c_socket : CTL_SOCKET);
	if (kd->kd_conf_path == NULL || kd->kd_sockpath == NULL)
		fatal("strdup");
	TAILQ_INIT(&kd->kd_peers);
	TAILQ_INIT(&kd->kd_sas);
	TAILQ_INIT(&kd->kd_xacts);
	/*
	 * EPOCH (RFC 4430 3.7): random rather than the start time, so a
	 * restart within the same second is still seen as one.  XIDs start
	 * at random too, so a restarted kinkd does not hit the peer's reply
	 * cache with an old XID.
	 */
	do {
		kd->kd_epoch = arc4random();
	} while (kd->kd_epoch == 0);
	kd->kd_next_xid = arc4random();
	kd->kd_start_ms = timer_now_ms();

	if (kd->kd_conf->c_principal != NULL)
		strlcpy(kd->kd_principal, kd->kd_conf->c_principal,
		    sizeof(kd->kd_principal));
	else {
		char host[256];

		if (gethostname(host, sizeof(host)) == -1)
			fatal("gethostname");
		if (krb_host_principal(host, NULL, kd->kd_principal,
		    sizeof(kd->kd_principal)) == -1)
			fatalx("cannot derive our principal from %s", host);
	}
	/*
	 * Detach before anything starts a thread (the krb worker) or opens
	 * descriptors libevent watches: fork keeps neither working.
	 */
	if (!kd->kd_foreground) {
		pid_t other;

		if ((pfh = pidfile_open(KINKD_PIDFILE, 0644, &other)) ==
		    NULL) {
			if (errno == EEXIST)
				fatalx("already running, pid %d", (int)other);
			log_warn("pidfile %s", KINKD_PIDFILE);
		}
		if (daemon(0, 0) == -1)
			fatal("daemon");
		if (pfh != NULL)
			pidfile_write(pfh);
	}
	signal(SIGPIPE, SIG_IGN);

	if ((kd->kd_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((kd->kd_sadb = sadb_new(kd->kd_base,
	    backend_name(kd->kd_conf->c_backend), kinkd_upcall, kd)) == NULL)
		fatal("SA backend %s", backend_name(kd->kd_conf->c_backend));
	if (kinkd_conf_filter(kd, kd->kd_conf, NULL, 0) == -1)
		fatalx("%s: a policy has no suite the %s backend can install",
		    kd->kd_conf_path, sadb_backend(kd->kd_sadb));
	memset(&ko, 0, sizeof(ko));
	if ((kd->kd_krb = krb_ctx_new(kd->kd_base, kd->kd_principal,
	    kd->kd_conf->c_keytab, &ko)) == NULL)
		fatalx("Kerberos context for %s failed", kd->kd_principal);
	for (i = 0; i < kd->kd_conf->c_nlisten && i < CONF_MAX_LISTEN; i++)
		la[i] = kd->kd_conf->c_listen[i].l_addr;
	if ((kd->kd_net = net_new(kd->kd_base, la, i, xact_input, kd)) == NULL)
		fatalx("cannot open the KINK sockets");
	for (i = 0; i < kd->kd_conf->c_npeers; i++)
		if (peer_new(kd, &kd->kd_conf->c_peers[i]) == NULL)
			fatalx("out of memory");
	if ((kd->kd_ctl = control_new(kd->kd_base, kd->kd_sockpath,
	    &kinkd_ctl_handlers, kd)) == NULL)
		fatalx("cannot create the control socket %s", kd->kd_sockpath);
	/*
	 * The "set user" account's group may run the read-only commands.
	 * kinkd itself keeps running as it was started: see docs/arch.
	 */
	if (kd->kd_conf->c_user != NULL && getuid() == 0) {
		struct passwd *pw = getpwnam(kd->kd_conf->c_user);

		if (pw != NULL)
			control_set_group(kd->kd_ctl, pw->pw_gid);
		else
			log_debug("user %s does not exist; control socket "
			    "stays root's", kd->kd_conf->c_user);
	}
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		kd->kd_ev_sig[i] = evsignal_new(kd->kd_base, sigs[i],
		    kinkd_signal, kd);
		if (kd->kd_ev_sig[i] == NULL ||
		    evsignal_add(kd->kd_ev_sig[i], NULL) == -1)
			fatalx("signal setup failed");
	}
	kinkd_drop_privileges(kd);
	/* Stale SAs first: the dump answers before the SPD adds complete. */
	if (sadb_dump(kd->kd_sadb, stale_cb, kd) == -1)
		log_debug("sadb backend cannot dump SAs");
	TAILQ_FOREACH(pe, &kd->kd_peers, pe_entry) {
		spd_install(kd, pe->pe_conf);
		peer_dpd_arm(pe);
	}
	log_info("kinkd started: principal %s, port %u, backend %s, "
	    "epoch 0x%08x, %d peers", kd->kd_principal, kd->kd_conf->c_port,
	    sadb_backend(kd->kd_sadb), kd->kd_epoch, kd->kd_conf->c_npeers);
	/*
	 * Type=notify: "systemctl start" returns now, with the KINK sockets,
	 * the kernel interface and the control socket up.
	 */
	sd_notifyf(0, "READY=1\nSTATUS=principal %s, %d peers",
	    kd->kd_principal, kd->kd_conf->c_npeers);

	event_base_dispatch(kd->kd_base);

	/* Teardown, reverse order. */
	kd->kd_stopping = 1;
	xact_abort_peer(kd, NULL, "shutting down");
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (kd->kd_ev_sig[i] != NULL)
			event_free(kd->kd_ev_sig[i]);
	control_free(kd->kd_ctl);
	kd->kd_ctl = NULL;
	while ((pe = TAILQ_FIRST(&kd->kd_peers)) != NULL) {
		struct kink_sarec *sr;

		/* Shutdown already flushed or kept them; forget the rest. */
		while ((sr = TAILQ_FIRST(&kd->kd_sas)) != NULL) {
			sr->sr_installed = 0;
			peer_sa_forget(sr);
		}
		peer_free(pe);
	}
	net_free(kd->kd_net);
	krb_ctx_free(kd->kd_krb);
	sadb_free(kd->kd_sadb);
	conf_free(kd->kd_conf);
	event_base_free(kd->kd_base);
	if (pfh != NULL)
		pidfile_remove(pfh);
	log_info("kinkd stopped");
	free(kd->kd_conf_path);
	free(kd->kd_sockpath);
	return 0;
}
