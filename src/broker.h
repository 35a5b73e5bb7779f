/*
 * The privileged half of kinkd under privilege separation: holds the
 * kernel SA interface, answers the engine's checked requests
 * (docs/arch/privsep.md).
 */
#ifndef KINK_BROKER_H
#define KINK_BROKER_H

#include <sys/types.h>

#include "conf.h"

struct bmsg;
struct sadb;

struct broker_args {
	int			 ba_fd;		/* our end of the socketpair */
	pid_t			 ba_engine;	/* the engine's pid */
	const char		*ba_conf_path;	/* re-read by the broker itself */
	const struct conf_macro	*ba_defines;
	const char		*ba_backend;	/* "null", "pfkey", "xfrm", "auto" */
	/*
	 * The test build's: apply a BM_TEST or BM_TEST_EVENT knob to the
	 * backend, 0 or an errno value.  NULL (kinkd): knobs are refused.
	 */
	int		       (*ba_test)(struct sadb *, const struct bmsg *);
};

/*
 * Runs until the engine is gone; returns the exit status: 0 when the
 * engine exited 0, 1 when it failed or was killed (logged with why).
 */
int	broker_main(const struct broker_args *);

#endif
