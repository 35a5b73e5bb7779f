#!/bin/bash
# Heimdal matrix cell: alpha built with MIT, beta with Heimdal, against a
# Heimdal KDC (tests/lib/realm_heimdal.sh), aes256 and
# aes128-cts-hmac-sha1-96 session keys: tests/lib/kdc_matrix.sh's cell.
. tests/lib/host.sh
HOST_B2=$HEIMDAL_B
. tests/lib/kdc_matrix.sh
. tests/heimdal/cell.sh
host_init 645-mit-heimdal-hkdc
cell_hkdc
