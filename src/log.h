/*
 * Logging: syslog, or stderr when running in the foreground (-d).
 * Levels separate audiences, so an admin's log is not drowned in traces:
 * log_info/log_warn* are for admins; log_debug lines appear with -v
 * (verbosity >= 1), log_debug2 with -vv, and so on; a verbosity below 0
 * (kinkctl log warning) leaves only warnings and errors.
 * Keys are never logged at any level.
 */
#ifndef KINK_LOG_H
#define KINK_LOG_H

#include <stdarg.h>

void	log_init(const char *ident, int foreground, int verbose);
void	log_setverbose(int);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debugv(int level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...)	log_debugv(1, __VA_ARGS__)
#define log_debug2(...)	log_debugv(2, __VA_ARGS__)
#define log_debug3(...)	log_debugv(3, __VA_ARGS__)

#endif
