#!/bin/sh
# The heimdal tier's host cells (tests/heimdal/64N-*.sh) in a network
# namespace of their own, like the host tier (tests/lib/tier.sh).
# Environment: B (the MIT build), HEIMDAL_B (the Heimdal build),
# HEIMDAL_ONLY="640 642" (run those cells).
set -u
export B HEIMDAL_B
. tests/lib/tier.sh
# The Heimdal KDC's packages are fetched before the namespace cuts the
# network off (once: cached; the Heimdal KDC cells fail if not).
[ -n "${KINK_HOST_NETNS:-}" ] || sh tests/lib/realm_heimdal.sh fetch ||
    echo "# Heimdal KDC not available: the Heimdal KDC cells will fail"
tier_netns heimdal-netns "$0"
tier_run tests/heimdal "${HEIMDAL_ONLY:-}"
