#!/bin/sh
# Host tier: two (or three) real kinkd processes with a real MIT KDC on
# loopback, v4 and v6, null SA backend, driven by kinkctl; the network
# between them impaired by tests/tools/udprelay.  Each scenario is
# tests/host/NNN-name.sh and prints PASS/FAIL lines (tests/lib/host.sh).
#
# The tier runs in a network namespace of its own (tests/lib/tier.sh:
# unshare -n, a user namespace too when not root): fixed addresses and
# ports collide with nothing else on the machine, and the extra v6
# loopback addresses the scenarios need exist only there.
#
# Environment: B (build dir), HOST_ONLY="010 020" (run those scenarios),
# HOST_KEEP=1 (keep work dirs), HOST_TIMEOUT (seconds per scenario).
set -u
: "${B:=build}"
export B
. tests/lib/tier.sh

# The Heimdal KDC's packages are fetched before the namespace cuts the
# network off (once: they are cached; scenarios that need them fail if not).
[ -n "${KINK_HOST_NETNS:-}" ] || sh tests/lib/realm_heimdal.sh fetch ||
    echo "# Heimdal KDC not available: the Heimdal scenarios will fail"
tier_netns host-netns "$0"
tier_run tests/host "${HOST_ONLY:-}"
