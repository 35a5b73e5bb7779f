#!/bin/sh
# The heimdal tier's host cells (tests/heimdal/64N-*.sh) in a network
# namespace of their own, like the host tier (tests/lib/tier.sh).
# Environment: B (the MIT build), HEIMDAL_B (the Heimdal build),
# HEIMDAL_ONLY="640 642" (run those cells).
set -u
export B HEIMDAL_B
. tests/lib/tier.sh
tier_netns heimdal-netns "$0"
tier_run tests/heimdal "${HEIMDAL_ONLY:-}"
