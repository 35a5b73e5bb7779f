#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "ratelim.h"

static void
src_key(const struct sockaddr *sa, uint8_t key[9])
{
	memset(key, 0, 9);
	key[0] = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    8);
}

int
ratelim_ok(struct ratelim *rl, const struct sockaddr *src, uint64_t now_ms,
    int per_src, int total)
{
	uint8_t key[9];
	int i;

	if (now_ms - rl->rl_window_ms >= 1000) {
		rl->rl_window_ms = now_ms;
		rl->rl_total = 0;
		rl->rl_nsrc = 0;
	}
	if (rl->rl_total >= total)
		return 0;
	src_key(src, key);
	for (i = 0; i < rl->rl_nsrc; i++)
		if (memcmp(rl->rl_src[i].key, key, sizeof(key)) == 0)
			break;
	if (i == rl->rl_nsrc && rl->rl_nsrc < RATELIM_SRCS) {
		memcpy(rl->rl_src[i].key, key, sizeof(key));
		rl->rl_src[i].count = 0;
		rl->rl_nsrc++;
	}
	if (i < rl->rl_nsrc) {
		if (rl->rl_src[i].count >= per_src)
			return 0;
		rl->rl_src[i].count++;
	}
	rl->rl_total++;
	return 1;
}
