#!/bin/sh
# Daemon tier: scenarios written with the kinkd daemon itself (kernel
# events through the null backend, User-to-User, wildcard listening,
# detaching), on the host tier's helpers (tests/lib/host.sh) and in a
# network namespace set up like the host tier's (tests/lib/tier.sh).  Each
# scenario is tests/daemon/NNN-name.sh and prints PASS/FAIL lines.
# Environment: B (build dir), DAEMON_ONLY="010 020", HOST_KEEP=1,
# HOST_TIMEOUT (seconds per scenario).
set -u
: "${B:=build}"
export B
. tests/lib/tier.sh

tier_netns daemon-netns "$0"
tier_run tests/daemon "${DAEMON_ONLY:-}"
