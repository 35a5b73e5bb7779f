#include <ctype.h>
#include <stdarg.h>

#include "test.h"

int test_failed_cur, test_npass, test_nfail;
const char *test_cur = "?";

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: %s:%d: ", test_cur, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	test_failed_cur = 1;
}

int
test_done(void)
{
	fprintf(stderr, "# %d passed, %d failed\n", test_npass, test_nfail);
	return test_nfail ? 1 : 0;
}

int
test_hex_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		if (*s == '#') {
			while (*s && *s != '\n')
				s++;
			if (!*s)
				break;
			continue;
		}
		if (isspace((unsigned char)*s))
			continue;
		if (!isxdigit((unsigned char)*s))
			return -1;
		int v = isdigit((unsigned char)*s) ? *s - '0' :
		    (tolower((unsigned char)*s) - 'a' + 10);
		if (hi < 0)
			hi = v;
		else {
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		return -1;
	*len = n;
	return 0;
}

int
test_hex_file(const char *name, uint8_t *out, size_t max, size_t *len)
{
	const char *dir = getenv("TEST_DATA");
	char path[1024], *text;
	FILE *f;
	long sz;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/data",
	    name);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < 0 || (text = calloc(1, (size_t)sz + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(text, 1, (size_t)sz, f) != (size_t)sz) {
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	r = test_hex_decode(text, out, max, len);
	free(text);
	return r;
}

void
test_hexdump(const char *label, const void *p, size_t len)
{
	const uint8_t *b = p;

	printf("# %s:", label);
	for (size_t i = 0; i < len; i++)
		printf("%s%02x", i % 32 == 0 ? "\n#   " : " ", b[i]);
	printf("\n");
}
