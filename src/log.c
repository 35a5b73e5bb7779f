#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS	/* the historical strnvis; only vis() is used */
#include <vis.h>

#include "log.h"

/* Escapes log_esc() applies: every control octet, tab and newline too. */
#define LOG_VIS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_NOLOCALE)

static int	 log_fg = 1;
static int	 log_journal;	/* stderr is a systemd journal stream */
static int	 log_verbose;

/*
 * systemd names the stream it connected to stderr in JOURNAL_STREAM
 * ("device:inode"); a stderr that is something else (a terminal, a file
 * the unit's output was redirected to) gets the plain format.
 */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(const char *ident, int foreground, int verbose)
{
	log_fg = foreground;
	log_verbose = verbose;
	log_journal = foreground && stderr_is_journal();
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_to_journal(void)
{
	return log_journal;
}

/*
 * Lines of one record joined in place: "; " between them, or a space
 * after a colon ("errors:\nfile:1: ..." reads "errors: file:1: ...").
 */
static void
join_lines(char *line, size_t size)
{
	char tmp[2048];
	size_t i, o = 0;

	if (strchr(line, '\n') == NULL)
		return;
	for (i = 0; line[i] != '\0' && o + 3 < sizeof(tmp); i++) {
		if (line[i] != '\n')
			tmp[o++] = line[i];
		else if (o > 0 && tmp[o - 1] == ':')
			tmp[o++] = ' ';
		else {
			tmp[o++] = ';';
			tmp[o++] = ' ';
		}
	}
	tmp[o] = '\0';
	strlcpy(line, tmp, size);
}

/*
 * The journal makes one entry of each line it reads from the stream, and
 * takes the priority from a leading "<N>" (sd-daemon's SD_ERR... are
 * these), and stamps the time itself; the line is already one line
 * (join_lines).
 */
static void
journal_line(int pri, const char *line)
{
	fprintf(stderr, "<%d>%s\n", pri, line);
	fflush(stderr);
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
	 * A record of several lines (a reload's errors) is one line, one
	 * journal entry; then lines carry names and texts a sender chose
	 * (principals, MIT's error messages naming a ticket's server): one
	 * escape here covers every caller, so no \r or terminal escape
	 * reaches the log.
	 */
	join_lines(line, sizeof(line));
	log_esc(safe, sizeof(safe), line, strlen(line));
	if (log_journal)
		journal_line(pri, safe);
	else if (log_fg) {
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

	if (log_verbose < 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

/* Whether log_debugv(level, ...) would print: skip costly formatting. */
int
log_enabled(int level)
{
	return log_verbose >= level;
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
