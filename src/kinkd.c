/*
 * kinkd: the KINK (RFC 4430) key management daemon.
 *
 *	kinkd [-dnv] [-f file] [-s socket] [-D macro=value]
 *
 * The body is kinkd_main() (src/kinkd_main.c); the production daemon
 * runs it with no test hooks.
 */
#include <stddef.h>

#include "kinkd.h"

int
main(int argc, char *argv[])
{
	return kinkd_main(argc, argv, NULL);
}
