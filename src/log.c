#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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
 * The journal makes one entry of each line it reads from the stream, and
 * takes the priority from a leading "<N>" (sd-daemon's SD_ERR... are
 * these), and stamps the time itself.  A message of several lines (a
 * failed reload's errors) must stay one entry at its priority: the
 * line breaks become "; " (or a space after a colon).
 */
static void
journal_line(int pri, const char *line)
{
	char out[4096];
	size_t o;

	o = (size_t)snprintf(out, sizeof(out), "<%d>", pri);
	for (; *line != '\0' && o < sizeof(out) - 3; line++) {
		if (*line != '\n')
			out[o++] = *line;
		else if (o > 0 && out[o - 1] == ':')
			out[o++] = ' ';
		else {
			out[o++] = ';';
			out[o++] = ' ';
		}
	}
	out[o++] = '\n';
	fwrite(out, 1, o, stderr);
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
	char line[2048];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (err != NULL)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    ": %s", err);
	if (log_journal)
		journal_line(pri, line);
	else if (log_fg) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);
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
