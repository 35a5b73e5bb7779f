#include <stdint.h>

#include "stats.h"

static uint64_t stats[STAT_MAX];

static const char *const stat_names[STAT_MAX] = {
#define STAT_NAME(id, name)	[STAT_##id] = name,
	STATS_LIST(STAT_NAME)
#undef STAT_NAME
};

void
stats_inc(enum stat_id s)
{
	if (s < STAT_MAX)
		stats[s]++;
}

void
stats_add(enum stat_id s, uint64_t n)
{
	if (s < STAT_MAX)
		stats[s] += n;
}

uint64_t
stats_get(enum stat_id s)
{
	return s < STAT_MAX ? stats[s] : 0;
}

const char *
stats_name(enum stat_id s)
{
	return s < STAT_MAX ? stat_names[s] : "?";
}
