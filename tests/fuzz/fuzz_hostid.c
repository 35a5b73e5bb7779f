/*
 * libFuzzer harness for hostid's pure parts (src/hostid_name.c), which
 * read what others write: mapping-file lines (a file an administrator may
 * generate from anything), principals from tickets, host names from PTR
 * answers, host patterns.  The first octet picks the function; besides
 * "no crash, no sanitizer report" it traps when a promise breaks: an
 * accepted line gives a plain "name@REALM" and an IPv4/IPv6 address, an
 * accepted principal's host is a host name that makes the same principal
 * again, and every host made from a pattern is a host name.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "hostid.h"
#include "hostid_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)
#define PAT	"kink/%{host}@KINK.TEST"

static void
line(const char *s, size_t n)
{
	struct sockaddr_storage ss;
	char princ[HOSTID_PRINC_MAX];
	const char *why, *p;
	int rc;

	rc = hostid_file_line(s, n, &ss, princ, sizeof(princ), &why);
	CHECK(rc >= -1 && rc <= 1);
	CHECK((rc == -1) == (why != NULL));
	if (rc != 1)
		return;
	CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	CHECK(strchr(princ, '@') != NULL);
	for (p = princ; *p != '\0'; p++)
		CHECK(*p > ' ' && *p < 0x7f && *p != '#');
}

static void
principal(const char *s)
{
	char host[HOSTID_NAME_MAX], again[HOSTID_PRINC_MAX];

	if (hostid_principal_host(PAT, s, host, sizeof(host)) != 0)
		return;
	CHECK(hostid_name_ok(host));
	CHECK(hostid_host_principal(PAT, host, again, sizeof(again)) == 0);
	CHECK(strcmp(again, s) == 0);
}

static void
name(const char *s)
{
	char p[HOSTID_PRINC_MAX], host[HOSTID_NAME_MAX];

	if (!hostid_name_ok(s)) {
		CHECK(hostid_host_principal(PAT, s, p, sizeof(p)) == -1);
		return;
	}
	CHECK(hostid_host_principal(PAT, s, p, sizeof(p)) == 0);
	CHECK(hostid_principal_host(PAT, p, host, sizeof(host)) == 0);
	CHECK(strcmp(host, s) == 0);
}

static void
pattern(const char *s)
{
	static const char *addrs[] = { "10.1.2.3", "2001:db8::1" };
	struct sockaddr_storage ss;
	char host[HOSTID_NAME_MAX];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (addr_parse(addrs[i], &ss) != 0)
			abort();
		if (hostid_pattern_host(s, addr_sa(&ss), host,
		    sizeof(host)) == 0)
			CHECK(hostid_name_ok(host));
	}
	/* as a principal pattern too */
	if (hostid_host_principal(s, "h.test", host, sizeof(host)) == 0)
		CHECK(strstr(host, "h.test") != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] & 3) {
	case 0: line(s, size - 1); break;	/* NULs and all */
	case 1: principal(s); break;
	case 2: name(s); break;
	case 3: pattern(s); break;
	}
	free(s);
	return 0;
}
