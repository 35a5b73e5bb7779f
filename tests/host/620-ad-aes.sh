#!/bin/bash
# Samba AD DC as the KDC (tests/lib/realm_ad.sh), session keys
# aes256-cts-hmac-sha1-96: alpha and beta are computer accounts as a
# Windows join makes them (msDS-SupportedEncryptionTypes 0x1C), each with
# the SPN kink/<name>.test.  CREATE optimistic and non-optimistic, STATUS,
# DELETE; the KEYMAT both sides derived compared byte for byte.  Tickets
# carry the DC's PAC.
. tests/lib/host.sh
. tests/lib/host_ad.sh
host_init 620-ad-aes
host_ad_realm alpha beta || exit 1
ad_cells aes256 aes256-cts-hmac-sha1-96
