/*
 * hostid's pure parts (src/hostid_name.c): host name and principal
 * patterns, names from addresses, lines of a mapping file.  No log, no
 * libevent, no clock: unit-tested and fuzzable alone.  src/hostid.c is the
 * only user besides the tests.
 */
#ifndef KINK_HOSTID_INT_H
#define KINK_HOSTID_INT_H

#include <sys/socket.h>

#include <stddef.h>

#define HOSTID_NAME_MAX		254	/* a host name and its NUL */
#define HOSTID_PRINC_MAX	512	/* a principal and its NUL */
#define HOSTID_LINE_MAX		1024	/* a mapping file line, without "\n" */

/* 1 when `s` is a host name kinkd accepts: 1 to 253 octets, labels of 1 to
   63 ASCII letters, digits and inner '-', separated by single dots. */
int	hostid_name_ok(const char *s);
/* The host name `pattern` makes of `addr`: %{a} %{b} %{c} %{d} (the IPv4
   octets, decimal), %{addr} (the address text, '.' and ':' as '-'),
   %{hex} (the octets in hex), %% (a '%').  0, or -1 with errno EINVAL (bad
   pattern, a placeholder the family lacks, not a host name) or ENOSPC. */
int	hostid_pattern_host(const char *pattern, const struct sockaddr *addr,
	    char *host, size_t);
/*
 * One line of a mapping file (`len` octets, no newline; NUL octets count):
 * "ADDRESS PRINCIPAL", blanks and '#' comments allowed.  1 and the entry,
 * 0 for a blank or comment line, -1 with *why (static text) for a bad one.
 */
int	hostid_file_line(const char *line, size_t len,
	    struct sockaddr_storage *addr, char *princ, size_t princlen,
	    const char **why);

#endif
