/*
 * The engine's few services every engine module uses: monitor events,
 * sending through the environment's hooks, and the rate limits on what
 * unauthenticated peers can make us send or log.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "log.h"
#include "timer.h"

/* At most this many answers to unauthenticated input per second. */
#define ENGINE_ERR_RATE	20
/* Of those, at most this many to one source (an address, a v6 /64). */
#define ENGINE_ERR_SRC_RATE	5
#define ENGINE_LOG_RATE	10

void
engine_event(struct kink_engine *en, const char *type, const char *peer,
    uint32_t xid, const char *fmt, ...)
{
	char text[CTL_TEXT_MAX + 1], safe[CTL_TEXT_MAX + 1];
	char name[CTL_NAME_MAX + 1];
	va_list ap;

	if (en->en_event == NULL || (en->en_listening != NULL &&
	    !en->en_listening(en->en_event_arg)))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/*
	 * Event texts carry what senders chose (principals, MIT's error
	 * texts): escaped here, as log lines are, for every monitor.
	 */
	log_esc(safe, sizeof(safe), text, strlen(text));
	log_esc(name, sizeof(name), peer ? peer : "", peer ? strlen(peer) : 0);
	en->en_event(en->en_event_arg, type, name, xid, safe);
}

int
engine_send(struct kink_engine *en, const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote, const uint8_t *p, size_t len)
{
	return en->en_send(en->en_net, local, remote, p, len);
}

int
engine_local_for(struct kink_engine *en,
    const struct sockaddr_storage *remote, struct sockaddr_storage *local)
{
	if (en->en_local_for == NULL)
		return -1;
	return en->en_local_for(en->en_net, remote, local);
}

int
engine_log_ok(struct kink_engine *en)
{
	uint64_t now = timer_now_ms();

	if (now - en->en_log_window_ms >= 1000) {
		if (en->en_log_suppressed > 0)
			log_warnx("%llu log lines about peer input suppressed",
			    (unsigned long long)en->en_log_suppressed);
		en->en_log_window_ms = now;
		en->en_log_count = 0;
		en->en_log_suppressed = 0;
	}
	if (en->en_log_count++ < ENGINE_LOG_RATE)
		return 1;
	en->en_log_suppressed++;
	return 0;
}

int
engine_ratelimit(struct kink_engine *en, const struct sockaddr_storage *from)
{
	return !ratelim_ok(&en->en_err_rl, (const struct sockaddr *)from,
	    timer_now_ms(), ENGINE_ERR_SRC_RATE, ENGINE_ERR_RATE);
}

int
engine_u2u_allowed(const struct kink_engine *en)
{
	int i;

	for (i = 0; i < en->en_conf->c_npeers; i++)
		if (en->en_conf->c_peers[i].p_u2u)
			return 1;
	return 0;
}
