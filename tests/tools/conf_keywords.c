/*
 * conf_keywords: print every keyword the kinkd.conf parser knows, one per
 * line, from the parser's own table (src/conf_lex.c).  The docs tier checks
 * each is documented in kinkd.conf(5), so a keyword added to the parser
 * without a man page entry fails a test instead of going unnoticed.
 */
#include <stdio.h>

#include "conf.h"

int
main(void)
{
	for (int i = 0; conf_keywords[i] != NULL; i++)
		printf("%s\n", conf_keywords[i]);
	return ferror(stdout) ? 1 : 0;
}
