#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#define LIBBSD_OPENBSD_VIS	/* the historical strnvis; only vis() is used */
#include <vis.h>

#include "log.h"

/* Escapes log_esc() applies: every control octet, tab and newline too. */
#define LOG_VIS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_NOLOCALE)

static int	 log_fg = 1;
static int	 log_verbose;

void
log_init(const char *ident, int foreground, int verbose)
{
	log_fg = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char line[2048], safe[4 * sizeof(line) + 1];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (err != NULL)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    ": %s", err);
	/*
	 * Lines carry names and texts a sender chose (principals, MIT's
	 * error messages naming a ticket's server): one escape here covers
	 * every caller, so no \r or terminal escape reaches the log.
	 */
	log_esc(safe, sizeof(safe), line, strlen(line));
	if (log_fg) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, safe);
		fflush(stderr);
	} else
		syslog(pri, "%s", safe);
}

char *
log_esc(char *dst, size_t dstlen, const char *src, size_t len)
{
	char one[5];
	size_t i, o = 0, n;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < len; i++) {
		vis(one, (unsigned char)src[i], LOG_VIS,
		    i + 1 < len ? (unsigned char)src[i + 1] : 0);
		n = strlen(one);
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, one, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

int
log_rate_ok(struct log_rate *lr, int rate, uint64_t now_ms, const char *what)
{
	if (now_ms - lr->lr_window_ms >= 1000) {
		if (lr->lr_suppressed > 0)
			log_warnx("%llu log lines about %s suppressed",
			    (unsigned long long)lr->lr_suppressed, what);
		lr->lr_window_ms = now_ms;
		lr->lr_count = 0;
		lr->lr_suppressed = 0;
	}
	if (lr->lr_count < rate) {
		lr->lr_count++;
		return 1;
	}
	lr->lr_suppressed++;
	return 0;
}

int
log_rate_now(struct log_rate *lr, int rate, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return log_rate_ok(lr, rate, (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000, what);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debugv(int level, const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < level)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
