/*
 * hostid's pure parts: names, patterns and mapping-file lines.  Everything
 * here reads untrusted text (principals from tickets, names from DNS,
 * lines from a file): lengths are checked before every copy and nothing
 * but the documented ASCII subset gets through.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "hostid.h"
#include "hostid_int.h"

#define HOST_TAG	"%{host}"

int
hostid_name_ok(const char *s)
{
	size_t n = strlen(s), lab = 0, i;

	if (n == 0 || n > HOSTID_NAME_MAX - 1)
		return 0;
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			/* empty label, or one ending with '-' */
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && lab == 0)
			return 0;
		if (++lab > 63)
			return 0;
	}
	return 1;
}

/* The parts of a principal pattern around its one %{host}. */
static int
split_pattern(const char *pattern, size_t *pre, size_t *suf)
{
	const char *t;

	if (pattern == NULL || (t = strstr(pattern, HOST_TAG)) == NULL ||
	    strstr(t + 1, HOST_TAG) != NULL)
		return -1;
	/* no other placeholder: it could never match literally */
	if (strchr(pattern, '%') != t || strchr(t + 1, '%') != NULL)
		return -1;
	*pre = (size_t)(t - pattern);
	*suf = strlen(t + strlen(HOST_TAG));
	return 0;
}

int
hostid_principal_host(const char *pattern, const char *principal, char *host,
    size_t hostlen)
{
	size_t pre, suf, n, hn;

	if (split_pattern(pattern, &pre, &suf) != 0 || principal == NULL) {
		errno = EINVAL;
		return -1;
	}
	n = strnlen(principal, HOSTID_PRINC_MAX);
	if (n >= HOSTID_PRINC_MAX || n <= pre + suf ||
	    memcmp(principal, pattern, pre) != 0 ||
	    memcmp(principal + n - suf, pattern + pre + strlen(HOST_TAG),
	    suf) != 0) {
		errno = EINVAL;
		return -1;
	}
	hn = n - pre - suf;
	if (hn >= HOSTID_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (hn >= hostlen) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(host, principal + pre, hn);
	host[hn] = '\0';
	if (!hostid_name_ok(host)) {
		host[0] = '\0';
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
hostid_host_principal(const char *pattern, const char *host, char *out,
    size_t outlen)
{
	size_t pre, suf;
	int n;

	if (split_pattern(pattern, &pre, &suf) != 0 || host == NULL ||
	    !hostid_name_ok(host)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, outlen, "%.*s%s%s", (int)pre, pattern, host,
	    pattern + pre + strlen(HOST_TAG));
	if (n < 0 || (size_t)n >= outlen || n >= HOSTID_PRINC_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* The text of one placeholder of a host pattern for `addr`. */
static int
placeholder(const char *name, size_t len, const struct sockaddr *addr,
    char *buf, size_t buflen)
{
	const uint8_t *b;
	size_t n, i;
	char *p;

	b = addr_bytes(addr, &n);
	if (len == 1 && name[0] >= 'a' && name[0] <= 'd') {
		if (addr->sa_family != AF_INET)
			return -1;
		snprintf(buf, buflen, "%u", b[name[0] - 'a']);
		return 0;
	}
	if (len == 4 && memcmp(name, "addr", 4) == 0) {
		addr_ntop(addr, buf, buflen);
		for (p = buf; *p != '\0'; p++)
			if (*p == '.' || *p == ':')
				*p = '-';
		return 0;
	}
	if (len == 3 && memcmp(name, "hex", 3) == 0 && buflen > 2 * n) {
		for (i = 0; i < n; i++)
			snprintf(buf + 2 * i, 3, "%02x", b[i]);
		return 0;
	}
	return -1;
}

int
hostid_pattern_host(const char *pattern, const struct sockaddr *addr,
    char *host, size_t hostlen)
{
	char val[ADDR_STRLEN], out[HOSTID_NAME_MAX];
	const char *p, *end;
	size_t o = 0, vl;

	if (pattern == NULL || (addr->sa_family != AF_INET &&
	    addr->sa_family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	for (p = pattern; *p != '\0'; p++) {
		if (*p != '%') {
			val[0] = *p;
			val[1] = '\0';
		} else if (p[1] == '%') {
			snprintf(val, sizeof(val), "%%");
			p++;
		} else if (p[1] == '{' && (end = strchr(p + 2, '}')) != NULL &&
		    placeholder(p + 2, (size_t)(end - p - 2), addr, val,
		    sizeof(val)) == 0) {
			p = end;
		} else {
			errno = EINVAL;
			return -1;
		}
		vl = strlen(val);
		if (o + vl >= sizeof(out)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(out + o, val, vl);
		o += vl;
	}
	out[o] = '\0';
	if (!hostid_name_ok(out)) {
		errno = EINVAL;
		return -1;
	}
	if (o >= hostlen) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(host, out, o + 1);
	return 0;
}

/* A principal as a mapping file may give it: "name@REALM", printable
   ASCII without blanks, one '@' with something on both sides, no '#'
   (which reads as a comment to anyone editing the file). */
static int
princ_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);

	return at != NULL && memchr(s, '#', n) == NULL && at != s && at != s + n - 1 &&
	    memchr(at + 1, '@', (size_t)(s + n - at - 1)) == NULL;
}

int
hostid_file_line(const char *line, size_t len, struct sockaddr_storage *addr,
    char *princ, size_t princlen, const char **why)
{
	const char *f[3];
	size_t fl[3], i, nf = 0;
	char abuf[ADDR_STRLEN];

	*why = NULL;
	if (len > HOSTID_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')	/* written on another system */
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			*why = "NUL octet";
			return -1;
		}
		if (c >= 0x7f || (c < 0x20 && c != '\t')) {
			*why = "non-ASCII or control octet";
			return -1;
		}
	}
	for (i = 0; i < len;) {
		if (line[i] == ' ' || line[i] == '\t') {
			i++;
			continue;
		}
		if (line[i] == '#')		/* a comment to the end */
			break;
		if (nf == 3)
			break;
		f[nf] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		fl[nf] = (size_t)(line + i - f[nf]);
		nf++;
	}
	if (nf == 0)
		return 0;
	if (nf == 1) {
		*why = "no principal after the address";
		return -1;
	}
	if (nf == 3) {
		*why = "more than two fields";
		return -1;
	}
	if (fl[0] >= sizeof(abuf)) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(abuf, f[0], fl[0]);
	abuf[fl[0]] = '\0';
	if (addr_parse(abuf, addr) != 0) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	if (fl[1] >= princlen || fl[1] >= HOSTID_PRINC_MAX) {
		*why = "principal too long";
		return -1;
	}
	if (!princ_ok(f[1], fl[1])) {
		*why = "not a principal (name@REALM)";
		return -1;
	}
	memcpy(princ, f[1], fl[1]);
	princ[fl[1]] = '\0';
	return 1;
}
