/*
 * Logging: syslog, or stderr when running in the foreground (-d); on a
 * stderr that systemd connected to the journal, one entry per message
 * with its syslog priority.
 * Levels separate audiences, so an admin's log is not drowned in traces:
 * log_info/log_warn* are for admins; log_debug lines appear with -v
 * (verbosity >= 1), log_debug2 with -vv, and so on; a verbosity below 0
 * (kinkctl log warning) leaves only warnings and errors.
 * Keys are never logged at any level.
 */
#ifndef KINK_LOG_H
#define KINK_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A per-second budget for lines a sender can cause: once `rate` lines
 * went out in the current second the rest are counted, and the count is
 * logged as one summary line when the next second opens.
 */
struct log_rate {
	uint64_t	 lr_window_ms;
	int		 lr_count;
	uint64_t	 lr_suppressed;
};

void	log_init(const char *ident, int foreground, int verbose);
void	log_setverbose(int);
/* stderr goes to the systemd journal: lines carry "<priority>" prefixes. */
int	log_to_journal(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
int	log_enabled(int level);
void	log_debugv(int level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* 1: log the line; 0: over budget (counted).  `what` names the summary. */
int	log_rate_ok(struct log_rate *, int rate, uint64_t now_ms,
	    const char *what);
/* The same, on the monotonic clock. */
int	log_rate_now(struct log_rate *, int rate, const char *what);
/*
 * `src` (len octets) made safe for a log line or a terminal: control
 * octets, non-ASCII and backslash as C-style or octal escapes (vis(3)).
 * Always NUL-terminated, truncated to fit; returns dst.  dstlen >= 4 *
 * len + 1 never truncates.
 */
char	*log_esc(char *dst, size_t dstlen, const char *src, size_t len);

#define log_debug(...)	log_debugv(1, __VA_ARGS__)
#define log_debug2(...)	log_debugv(2, __VA_ARGS__)
#define log_debug3(...)	log_debugv(3, __VA_ARGS__)

#endif
