/*
 * libFuzzer harness for the kinkd.conf parser.  Any input must either
 * fail with at least one error, or load; a loaded config must print to a
 * fixed point (print -> parse -> print), the property kinkd -nv and the
 * unit tests rely on.  Relative includes resolve under a directory that
 * does not exist, so runs do not depend on the current directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
dump_str(const struct kink_conf *c, size_t *len)
{
	char *s = NULL;
	FILE *fp = open_memstream(&s, len);

	if (fp == NULL)
		abort();
	conf_dump(c, fp);
	fclose(fp);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conf_macro defs[] = {
		{ "me", "192.0.2.1" }, { "realm", "EXAMPLE.ORG" },
		{ NULL, NULL }
	};
	struct conf_errors e, e2;
	struct kink_conf *c, *c2;
	char *d1, *d2;
	size_t l1, l2;

	c = conf_parse_buf("/nonexistent/fuzz.conf", (const char *)data, size,
	    defs, &e);
	if ((c == NULL) != (e.ce_count > 0 || e.ce_truncated))
		abort();	/* a result and errors, or neither */
	conf_errors_free(&e);
	if (c == NULL)
		return 0;
	d1 = dump_str(c, &l1);
	c2 = conf_parse_buf("dump", d1, l1, NULL, &e2);
	if (c2 == NULL) {
		conf_errors_print(&e2, stderr);
		abort();	/* the printer wrote something unparsable */
	}
	d2 = dump_str(c2, &l2);
	if (l1 != l2 || memcmp(d1, d2, l1) != 0)
		abort();	/* not a fixed point */
	for (int i = 0; i < c->c_npeers; i++)
		for (int j = 0; j < c->c_peers[i].p_npolicies; j++)
			if (!conf_policy_same(&c->c_peers[i].p_policies[j],
			    &c2->c_peers[i].p_policies[j]))
				abort();
	free(d1);
	free(d2);
	conf_errors_free(&e2);
	conf_free(c2);
	conf_free(c);
	return 0;
}
