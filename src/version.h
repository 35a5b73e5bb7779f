/*
 * The release version, from configure (config.h), in one object so that
 * the programs need not include config.h, whose paths kinkd.h defines
 * its own way.
 */
#ifndef KINK_VERSION_H
#define KINK_VERSION_H

extern const char kink_version[];

#endif
