/*
 * The broker's check of one decoded engine request against the broker's
 * configuration (privsep).  Pure: no logging; the caller logs `why`.
 */
#ifndef KINK_BROKER_CHECK_H
#define KINK_BROKER_CHECK_H

#include <stddef.h>

#include "broker_msg.h"
#include "conf.h"

/* 1 allowed; 0 refused with a one-line reason (no wire text) in why. */
int	bk_check(const struct kink_conf *, const struct bmsg *, char *why,
	    size_t len);

#endif
