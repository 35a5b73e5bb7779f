#!/bin/bash
# Heimdal matrix cell: both kinkd built with Heimdal, against a Heimdal KDC
# (tests/lib/realm_heimdal.sh), aes256 and aes128-cts-hmac-sha1-96 session
# keys: tests/lib/kdc_matrix.sh's cell (CREATE optimistic and not, STATUS,
# DELETE, KEYMAT compared byte for byte, the session key's enctype proved).
# Both daemons and kinkctl from the Heimdal build.
B=$HEIMDAL_B
. tests/lib/host.sh
. tests/lib/kdc_matrix.sh
. tests/heimdal/cell.sh
host_init 644-heimdal-hkdc
cell_hkdc
