/*
 * ctl_commands: print every kinkctl command as the sequence of keywords
 * that reaches it through kinkctl's own token tables, one command per line
 * ("show sa", "show sa peer", "show sa keys", ...; optional words in
 * every order they are accepted, so a line may repeat: sort -u).  The docs
 * tier checks each against kinkctl(8).
 *
 * It walks kinkctl_commands (src/kinkctl_cmd.c), the same tables the real
 * parser uses.
 */
#include <stdio.h>
#include <string.h>

#include "kinkctl.h"

#define WALK_DEPTH	16

static void
walk(const struct token *table, const char **path, int depth)
{
	for (int k = 0; table[k].t_type != T_END; k++) {
		const struct token *t = &table[k];
		int seen = 0;

		if (t->t_type == T_MONITOR_OPTS)
			continue;
		if (t->t_type == T_OPTEND) {
			if (depth > 0) {
				for (int i = 0; i < depth; i++)
					printf("%s%s", i ? " " : "", path[i]);
				printf("\n");
			}
			continue;
		}
		if (t->t_type != T_KEYWORD) {
			/* An argument: its successors complete the command. */
			if (t->t_next != NULL && t->t_next != table &&
			    depth < WALK_DEPTH)
				walk(t->t_next, path, depth);
			continue;
		}
		for (int i = 0; i < depth; i++)
			if (strcmp(path[i], t->t_word) == 0)
				seen = 1;
		/* The "show sa" tables loop back to themselves. */
		if (seen || depth >= WALK_DEPTH)
			continue;
		path[depth] = t->t_word;
		if (t->t_next == NULL || t->t_next[0].t_type == T_END ||
		    t->t_next[0].t_type == T_MONITOR_OPTS) {
			for (int i = 0; i <= depth; i++)
				printf("%s%s", i ? " " : "", path[i]);
			printf("\n");
		}
		if (t->t_next != NULL)
			walk(t->t_next, path, depth + 1);
	}
}

int
main(void)
{
	const char *path[WALK_DEPTH + 1];

	walk(kinkctl_commands, path, 0);
	return ferror(stdout) ? 1 : 0;
}
