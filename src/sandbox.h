/* The engine's sandbox under privilege separation (docs/arch/privsep.md). */
#ifndef KINK_SANDBOX_H
#define KINK_SANDBOX_H

#include <stddef.h>

/*
 * Drop every capability, set no-new-privileges and load the seccomp
 * allowlist (every thread); 0, or -1 with why set.  Irreversible.
 */
int	sandbox_engine(char *why, size_t len);
/* A sanitizer build only: dumpable again after a credential change. */
void	sandbox_san_dumpable(void);

#endif
