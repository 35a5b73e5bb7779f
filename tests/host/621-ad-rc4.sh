#!/bin/bash
# Samba AD DC, session keys arcfour-hmac (RC4, etype 23): beta's account
# set to RC4 only (msDS-SupportedEncryptionTypes 4), as AD domains still
# have them.  The cells of 620 (CREATE optimistic and non-optimistic,
# STATUS, DELETE, KEYMAT byte for byte), once with both sides on the
# default PRF and once with alpha on "prf mit" and beta on "prf rfc3961":
# for RC4 the two are the same function (RFC 4757's HMAC-SHA1), so the
# mixed pair must agree too.
. tests/lib/host.sh
. tests/lib/host_ad.sh
host_init 621-ad-rc4
host_ad_realm alpha beta || exit 1
require rc4-account ad_set beta msDS-SupportedEncryptionTypes=4
ad_cells rc4 arcfour-hmac
PRF_A=mit PRF_B=rfc3961 ad_cells rc4-prf-mixed arcfour-hmac
