#!/bin/bash
# KDC matrix, MIT KDC set up as sites set it up (issue 15, item 5): the
# cell of tests/lib/kdc_matrix.sh (aes256-cts-hmac-sha1-96) with
#  - the KDC: pre-authentication required of every principal
#    (default_principal_flags = +preauth), an aes256 master key,
#    reject_bad_transit, 10 h / 7 d ticket limits;
#  - the clients' krb5.conf (kinkd's): kdc_req_checksum_type and
#    ap_req_checksum_type / safe_checksum_type left over from old guides
#    (MIT uses them only with DES keys, so they must change nothing),
#    TCP only to the KDC (udp_preference_limit = 1, as sites with large
#    tickets do), forwardable and renewable TGTs of 24 h / 7 d, no
#    hostname canonicalisation.
# Checks, besides the cell's: the principals really require preauth (the
# KDC asked kinkd for it).  MIT's KDC does not log the transport, so TCP
# is a setting here, not a check.
. tests/lib/host.sh
. tests/lib/kdc_matrix.sh
host_init 602-matrix-mit-site

REALM_KDC_EXTRA=" master_key_type = aes256-cts-hmac-sha1-96
  default_principal_flags = +preauth
  reject_bad_transit = true
  max_renewable_life = 7d"
REALM_KRB5_EXTRA=" kdc_req_checksum_type = 2
 ap_req_checksum_type = 2
 safe_checksum_type = 3
 udp_preference_limit = 1
 forwardable = true
 ticket_lifetime = 24h
 renew_lifetime = 7d
 dns_canonicalize_hostname = false"
export REALM_KDC_EXTRA REALM_KRB5_EXTRA
host_realm alpha beta || exit 1

kadmin.local -r "$HOST_REALM" -q "getprinc kink/beta.test@$HOST_REALM" \
    > "$T/getprinc.out" 2>&1
check principal-requires-preauth grep -q 'REQUIRES_PRE_AUTH' "$T/getprinc.out"
matrix_cell site-aes256-cts-hmac-sha1-96 aes256-cts-hmac-sha1-96
check kdc-asked-for-preauth grep -q 'NEEDED_PREAUTH: kink/alpha.test@' "$T/realm/kdc.log"
