#!/bin/bash
# Heimdal matrix cell against Samba's AD DC: both kinkd built with
# Heimdal, beta's account RC4 only (msDS-SupportedEncryptionTypes 4), so
# the session key is etype 23, which Heimdal names arcfour-hmac-md5; host
# 621's cells, with the default PRF and with "prf mit" on one side (for
# RC4 both are RFC 4757's HMAC-SHA1, in Heimdal's krb5_crypto_prf too).
B=$HEIMDAL_B
. tests/lib/host.sh
. tests/lib/host_ad.sh
host_init 647-heimdal-ad-rc4
host_ad_realm alpha beta || exit 1
require rc4-account ad_set beta msDS-SupportedEncryptionTypes=4
ad_cells rc4 arcfour-hmac-md5
PRF_A=mit PRF_B=rfc3961 ad_cells rc4-prf-mixed arcfour-hmac-md5
