/* PF_KEY v2 backend: placeholder while being written. */
#include <errno.h>
#include "sadb.h"

static int
pfkey_open(struct sadb *sd)
{
	errno = ENOSYS;
	return -1;
}

const struct sadb_ops sadb_pfkey_ops = {
	.name = "pfkey",
	.open = pfkey_open,
};
