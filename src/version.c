#include "config.h"
#include "version.h"

const char kink_version[] = KINKD_VERSION;
