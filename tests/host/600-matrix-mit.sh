#!/bin/bash
# KDC matrix, MIT kinkd x MIT KDC (issue 15): one cell per session-key
# enctype the KDC issues (tests/lib/kdc_matrix.sh says what a cell checks):
# aes256/aes128-cts-hmac-sha1-96, the RFC 8009 pair
# aes256-cts-hmac-sha384-192 / aes128-cts-hmac-sha256-128, and des3-cbc-sha1,
# which Debian 12's MIT KDC (1.20) still issues when krb5.conf allows it
# (allow_des3, as tests/lib/realm.sh sets; its DEFAULT lists omit it).
# The aes-sha1 cells run once more with `prf mit`, the PRF kind where the
# two kinds differ.
. tests/lib/host.sh
. tests/lib/kdc_matrix.sh
host_init 600-matrix-mit
host_realm alpha beta || exit 1

for et in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 \
    aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 des3-cbc-sha1; do
	matrix_cell "$et" "$et"
done
matrix_cell aes256-cts-hmac-sha1-96-prf-mit aes256-cts-hmac-sha1-96 mit
matrix_cell aes128-cts-hmac-sha1-96-prf-mit aes128-cts-hmac-sha1-96 mit
