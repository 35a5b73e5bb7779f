#!/bin/bash
# Heimdal matrix cell against Samba's AD DC (tests/lib/realm_ad.sh): both
# kinkd built with Heimdal, session keys aes256-cts-hmac-sha1-96; host
# 620's cells (CREATE optimistic and non-optimistic, STATUS, DELETE, KEYMAT
# byte for byte), tickets with the DC's PAC.
B=$HEIMDAL_B
. tests/lib/host.sh
. tests/lib/host_ad.sh
host_init 646-heimdal-ad-aes
host_ad_realm alpha beta || exit 1
ad_cells aes256 aes256-cts-hmac-sha1-96
