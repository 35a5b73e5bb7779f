#!/bin/bash
# Heimdal's replay behaviour: its krb5_rd_req keeps no replay cache of its
# own (the caller's, MIT's file cache by default, has no Heimdal
# counterpart), so what refuses a replayed AP-REQ in the Heimdal build is
# kinkd's replay cache (src/krb_rcache.c), as in the MIT build.  Host 520's
# scenario, run with both daemons built with Heimdal: a captured CREATE
# replayed after beta was killed and restarted, then after a clean stop,
# is refused as a replay and makes no SA.
# Leak checking off here only: with Heimdal's suppressions LeakSanitizer
# needs whole stacks, and that slow exit of a killed-and-restarted daemon's
# engine is what this cell would time; the other cells check leaks.
B=$HEIMDAL_B
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
. tests/lib/host.sh
eval "$(sed -e 's/^host_init 520-replay-restart$/host_init 648-heimdal-replay/' \
    -e '/^\. tests\/lib\/host\.sh$/d' tests/host/520-replay-restart.sh)"
