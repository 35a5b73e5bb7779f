#include <sys/time.h>

#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "timer.h"

struct timer_thunk {
	timer_cb	*tt_cb;
	void		*tt_arg;
};

static void
timer_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct timer_thunk *tt = arg;

	tt->tt_cb(tt->tt_arg);
}

int
timer_init(struct timer *t, struct event_base *base, timer_cb *cb, void *arg)
{
	struct timer_thunk *tt;

	t->t_ev = NULL;
	if ((tt = malloc(sizeof(*tt))) == NULL) {
		log_warn("timer_init");
		return -1;
	}
	tt->tt_cb = cb;
	tt->tt_arg = arg;
	/*
	 * The thunk lives as long as the event: the callback argument of an
	 * evtimer cannot be read back portably, so it is freed through
	 * event_get_callback_arg in timer_fini.
	 */
	if ((t->t_ev = evtimer_new(base, timer_fire, tt)) == NULL) {
		log_warnx("timer_init: evtimer_new failed");
		free(tt);
		return -1;
	}
	return 0;
}

void
timer_add_ms(struct timer *t, uint32_t ms)
{
	struct timeval tv;

	if (t->t_ev == NULL)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(t->t_ev, &tv);
}

void
timer_del(struct timer *t)
{
	if (t->t_ev != NULL)
		evtimer_del(t->t_ev);
}

int
timer_pending(const struct timer *t)
{
	return t->t_ev != NULL && evtimer_pending(t->t_ev, NULL);
}

void
timer_fini(struct timer *t)
{
	void *tt;

	if (t->t_ev == NULL)
		return;
	evtimer_del(t->t_ev);
	tt = event_get_callback_arg(t->t_ev);
	event_free(t->t_ev);
	free(tt);
	t->t_ev = NULL;
}

uint64_t
timer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
