/*
 * The engine's sandbox under privilege separation (docs/arch/privsep.md):
 * no capabilities (effective, permitted, inheritable, bounding), no new
 * privileges, and a seccomp allowlist; any other system call kills the
 * process (SIGSYS), which the broker sees and logs.  The list was taken
 * from strace of the daemon and host tiers (libkrb5 reaching the KDC and
 * reading krb5.conf and the keytab, libevent, the control socket, syslog
 * and the journal's stderr, the krb worker thread) plus, in a sanitizer
 * build, what the ASan/UBSan runtime needs to report and to check leaks.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getdents64), SCMP_SYS(fcntl),
	SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe),
	SCMP_SYS(pipe2), SCMP_SYS(flock), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(umask), SCMP_SYS(getcwd),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mincore),
	/* the loop, sockets, the KDC, the control socket, syslog */
	SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(shutdown), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(socketpair),
	SCMP_SYS(ioctl), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	/* time, threads, signals, identity */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getgroups),
	SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrandom),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(getrusage),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(tgkill), SCMP_SYS(kill),
	SCMP_SYS(set_tid_address), SCMP_SYS(arch_prctl), SCMP_SYS(prctl),
	/* the control socket's removal at exit */
	SCMP_SYS(unlink),
};

/*
 * No writable filesystem: open and openat only read (krb5.conf, the
 * keytab, /etc/hosts...).  The replay cache's file is opened (and mapped)
 * before the sandbox; any later open for writing, creating, truncating or
 * appending fails with EROFS, as on a read-only mount, rather than
 * killing the engine (a library probing a file it may write is not an
 * attack).  Every other call that changes the filesystem (creat, mkdir,
 * rename, link, chmod, truncate...) is outside the list and kills.
 */
#define SB_WRITE_FLAGS	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

static int
open_rules(scmp_filter_ctx ctx)
{
	static const int bits[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC,
	    O_APPEND };
	size_t i;
	int rc;

	/* open(path, flags, mode): flags is argument 1; openat's is 2. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, SB_WRITE_FLAGS, 0))) < 0 &&
	    rc != -EDOM && rc != -EFAULT)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, SB_WRITE_FLAGS, 0))) < 0)
		return rc;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EROFS),
		    SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ,
		    (scmp_datum_t)bits[i], (scmp_datum_t)bits[i]))) < 0 &&
		    rc != -EDOM && rc != -EFAULT)
			return rc;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EROFS),
		    SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ,
		    (scmp_datum_t)bits[i], (scmp_datum_t)bits[i]))) < 0)
			return rc;
	}
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define KINK_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KINK_SANITIZED	1
#endif
#endif

#ifdef KINK_SANITIZED
/* LeakSanitizer stops the world with a traced thread at exit. */
static const int allowed_san[] = {
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(getdents),
	SCMP_SYS(sched_getparam), SCMP_SYS(getpriority),
};
#endif

static int
caps_none(char *why, size_t len)
{
	struct __user_cap_header_struct ch;
	struct __user_cap_data_struct cd[_LINUX_CAPABILITY_U32S_3];
	int cap;

	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	memset(&ch, 0, sizeof(ch));
	memset(cd, 0, sizeof(cd));
	ch.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &ch, cd) == -1) {
		snprintf(why, len, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(why, len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Changing credentials clears the dumpable flag, and LeakSanitizer's
 * tracer cannot attach to a process that is not dumpable: it would spin
 * at exit forever.  Only a sanitizer build sets it back.
 */
void
sandbox_san_dumpable(void)
{
#ifdef KINK_SANITIZED
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}

int
sandbox_engine(char *why, size_t len)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	if (caps_none(why, len) == -1)
		return -1;
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(why, len, "seccomp_init failed");
		return -1;
	}
	/* The krb worker thread runs already: it gets the filter too. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0))
		    < 0 && rc != -EDOM && rc != -EFAULT)
			goto fail;
	if ((rc = open_rules(ctx)) < 0)
		goto fail;
#ifdef KINK_SANITIZED
	for (i = 0; i < sizeof(allowed_san) / sizeof(allowed_san[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_san[i],
		    0)) < 0)
			goto fail;
#endif
	sandbox_san_dumpable();
	if ((rc = seccomp_load(ctx)) < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(why, len, "seccomp: %s", strerror(-rc));
	seccomp_release(ctx);
	return -1;
}
