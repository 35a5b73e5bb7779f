#!/bin/bash
# Heimdal matrix cell: alpha built with MIT, beta with Heimdal, one realm, aes256-cts-hmac-sha1-96.
# (tests/heimdal/cell.sh: CREATE optimistic both ways and non-optimistic,
# STATUS, DELETE, KEYMAT compared byte for byte; MIT KDC).
. tests/lib/host.sh
HOST_B2=$HEIMDAL_B
. tests/heimdal/cell.sh
host_init 642-mit-heimdal-aes256
cell_run aes256-cts-hmac-sha1-96 mit heimdal
