/*
 * A thin libevent2 timer: the object owning the timer embeds a
 * struct timer; the event itself is heap-allocated with evtimer_new so the
 * binary does not depend on libevent's struct layout.  Intervals are
 * milliseconds.  timer_fini() (or the owner's X_free) must run before the
 * owner's memory goes away.
 */
#ifndef KINK_TIMER_H
#define KINK_TIMER_H

#include <stdint.h>

struct event;
struct event_base;

struct timer {
	struct event	*t_ev;
};

typedef void timer_cb(void *arg);

/* 0, or -1 when libevent cannot allocate (logged). */
int	timer_init(struct timer *, struct event_base *, timer_cb *, void *);
/* (Re)arm to fire once after `ms` milliseconds. */
void	timer_add_ms(struct timer *, uint32_t ms);
void	timer_del(struct timer *);
int	timer_pending(const struct timer *);
void	timer_fini(struct timer *);	/* NULL-safe on a zeroed timer */

/* Monotonic milliseconds, for ages and latencies. */
uint64_t timer_now_ms(void);

#endif
