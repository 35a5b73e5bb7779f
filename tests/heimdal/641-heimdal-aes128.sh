#!/bin/bash
# Heimdal matrix cell: both kinkd built with Heimdal, aes128-cts-hmac-sha1-96 session keys.
# (tests/heimdal/cell.sh: CREATE optimistic both ways and non-optimistic,
# STATUS, DELETE, KEYMAT compared byte for byte; MIT KDC).
# Both daemons and kinkctl from the Heimdal build.
B=$HEIMDAL_B
. tests/lib/host.sh
. tests/heimdal/cell.sh
host_init 641-heimdal-aes128
cell_run aes128-cts-hmac-sha1-96 heimdal heimdal
