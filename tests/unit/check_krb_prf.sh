#!/bin/sh
# Recompute the RFC 3961/3962 PRF for AES keys with nothing but openssl(1)
# and awk, straight from the RFC definitions, and compare it with
# src/krb_prf.c and with krb_prf() of src/krb.c, both kinds (through the
# krbprf tool); then the RFC 8009 PRF (openssl kdf KBKDF, and the RFC's
# vectors) and RC4-HMAC's (openssl mac HMAC) the same way:
#   DK  = K1 | K2 (aes256) or K1 (aes128), K1 = AES(key, n-fold("prf", 128)),
#         K2 = AES(key, K1)
#   PRF = AES-CTS(DK, SHA-1(input), iv 0): CBC of P1|P2|0^12, last two blocks
#         swapped, the final one cut to 4 octets.
set -u
: "${B:=build}"
tool=$B/tests/tools/krbprf
if [ ! -x "$tool" ]; then
	echo "FAIL check_krb_prf: $tool not built"
	exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# n-fold of a hex string to OUT octets, bit by bit as RFC 3961 5.1 says.
nfold() {
	awk -v in_hex="$1" -v outlen="$2" '
	function hexval(c) { return index("0123456789abcdef", c) - 1 }
	BEGIN {
		n = length(in_hex) / 2; nb = n * 8
		for (i = 0; i < n; i++) {
			v = hexval(substr(in_hex, 2*i+1, 1)) * 16 + hexval(substr(in_hex, 2*i+2, 1))
			for (k = 7; k >= 0; k--) { bit[i*8 + (7-k)] = int(v / 2^k) % 2 }
		}
		a = n; b = outlen; while (b) { t = a % b; a = b; b = t }
		lcm = n / a * outlen
		for (i = 0; i < outlen; i++) acc[i] = 0
		for (c = 0; c < lcm / outlen; c++) {
			for (i = 0; i < outlen; i++) {
				v = 0
				for (k = 0; k < 8; k++) {
					p = (c*outlen + i) * 8 + k
					cp = int(p / nb); j = p % nb
					rot = (13 * cp) % nb
					v = v * 2 + bit[(j + nb - rot) % nb]
				}
				acc[i] += v
			}
			carry = 0
			for (i = outlen - 1; i >= 0; i--) { acc[i] += carry; carry = int(acc[i] / 256); acc[i] %= 256 }
			while (carry) { for (i = outlen - 1; i >= 0; i--) { acc[i] += carry; carry = int(acc[i] / 256); acc[i] %= 256 } }
		}
		for (i = 0; i < outlen; i++) printf "%02x", acc[i]
		printf "\n"
	}'
}

unhex() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b'; }
tohex() { od -An -v -tx1 | tr -d ' \n'; }
aes_ecb() {	# KEYHEX DATAHEX
	bits=$(( ${#1} * 4 ))
	unhex "$2" | openssl enc "-aes-$bits-ecb" -nopad -K "$1" | tohex
}
aes_cbc0() {
	bits=$(( ${#1} * 4 ))
	unhex "$2" | openssl enc "-aes-$bits-cbc" -nopad -K "$1" \
	    -iv 00000000000000000000000000000000 | tohex
}

prf_openssl() {	# KEYHEX INPUT
	c=$(nfold 707266 16)
	k1=$(aes_ecb "$1" "$c")
	if [ ${#1} -eq 64 ]; then dk=$k1$(aes_ecb "$1" "$k1"); else dk=$k1; fi
	h=$(printf '%s' "$2" | openssl dgst -sha1 -binary | tohex)
	ct=$(aes_cbc0 "$dk" "${h}000000000000000000000000")
	echo "$(printf '%s' "$ct" | cut -c33-64)$(printf '%s' "$ct" | cut -c1-8)"
}

# MIT's krb5_c_prf for AES-SHA1: SHA-1 cut to one block, one AES-CBC
# block with DK (16 octets: RFC 3961's "m" taken as the block size).
prf_openssl_mit() {	# KEYHEX INPUT
	c=$(nfold 707266 16)
	k1=$(aes_ecb "$1" "$c")
	if [ ${#1} -eq 64 ]; then dk=$k1$(aes_ecb "$1" "$k1"); else dk=$k1; fi
	h=$(printf '%s' "$2" | openssl dgst -sha1 -binary | tohex | cut -c1-32)
	aes_cbc0 "$dk" "$h"
}

# RFC 8009 section 5: PRF = KDF-HMAC-SHA2(key, "prf", input, 256 | 384),
# the SP 800-108 counter-mode KDF that openssl 3 calls KBKDF (32-bit
# counter, label, 0x00, context, 32-bit L: its defaults).
prf_openssl_sha2() {	# ETYPE KEYHEX INPUT
	case $1 in 19) d=SHA256 l=32 ;; 20) d=SHA384 l=48 ;; esac
	openssl kdf -keylen "$l" -kdfopt mac:HMAC -kdfopt "digest:$d" \
	    -kdfopt "hexkey:$2" -kdfopt salt:prf \
	    -kdfopt "hexinfo:$(printf '%s' "$3" | tohex)" KBKDF |
	    tr -d ':\n' | tr 'A-F' 'a-f'
}

# RC4-HMAC: RFC 4757 defines no PRF (its IESG note says it lacks RFC 3961
# operations); MIT and Heimdal both compute HMAC-SHA1(key, input).
prf_openssl_rc4() {	# KEYHEX INPUT
	printf '%s' "$2" | openssl mac -digest SHA1 -macopt "hexkey:$1" HMAC |
	    tr 'A-F' 'a-f'
}

# des3-cbc-sha1-kd (RFC 3961 6.3): DK = random-to-key(DR), DR the first
# 168 bits of E(key, n-fold(C, 64)), E(key, that), ... (3DES, one block
# each); random-to-key makes each 7 octets 8: the eighth from the low bits
# of the seven, odd parity in all.  PRF = 3DES-CBC(DK, SHA-1(in) cut to
# 16 octets, iv 0).
des3_ecb() { unhex "$2" | openssl enc -des-ede3 -nopad -K "$1" | tohex; }
des3_r2k() {
	awk -v h="$1" '
	function hv(c) { return index("0123456789abcdef", c) - 1 }
	function par(v,  n, b) {
		v -= v % 2; n = 0
		for (b = v; b > 0; b = int(b / 2)) n += b % 2
		return n % 2 == 0 ? v + 1 : v
	}
	BEGIN {
		for (c = 0; c < 3; c++) {
			e = 0
			for (i = 0; i < 7; i++) {
				o = 2 * (7 * c + i)
				v = hv(substr(h, o + 1, 1)) * 16 + hv(substr(h, o + 2, 1))
				e += (v % 2) * 2 ^ (i + 1)
				printf "%02x", par(v)
			}
			printf "%02x", par(e)
		}
		printf "\n"
	}'
}
des3_dk() {	# KEYHEX CONSTHEX
	b1=$(des3_ecb "$1" "$(nfold "$2" 8)")
	b2=$(des3_ecb "$1" "$b1")
	b3=$(des3_ecb "$1" "$b2")
	des3_r2k "$(printf '%s' "$b1$b2$b3" | cut -c1-42)"
}
prf_openssl_des3() {	# KEYHEX INPUT
	dk=$(des3_dk "$1" 707266)
	h=$(printf '%s' "$2" | openssl dgst -sha1 -binary | tohex | cut -c1-32)
	unhex "$h" | openssl enc -des-ede3-cbc -nopad -K "$dk" \
	    -iv 0000000000000000 | tohex
}

rc=0
# check_kind NAME KIND ETYPE KEYHEX INPUT WANT [PUBLISHED]: krb_prf of that
# kind (src/krb.c, the function kinkd's KEYMAT uses) gives WANT, the value
# recomputed with openssl; WANT is also the RFC's published one if given.
check_kind() {
	if [ -n "${7:-}" ] && [ "$6" != "$7" ]; then
		echo "FAIL $1: openssl recomputation $6 != published $7"
		rc=1
		return
	fi
	got=$("$tool" -k "$2" "$3" "$4" "$5")
	if [ -n "$6" ] && [ "$got" = "$6" ]; then
		echo "PASS $1"
	else
		echo "FAIL $1: krb_prf($2) $got != openssl ${6:-(nothing)}"
		rc=1
	fi
}

check() {	# NAME ETYPE KEYHEX INPUT [EXPECTED]
	want=$(prf_openssl "$3" "$4")
	got=$("$tool" "$2" "$3" "$4")
	if [ -n "${5:-}" ] && [ "$want" != "$5" ]; then
		echo "FAIL $1: openssl recomputation $want != published $5"
		rc=1
	elif [ "$got" != "$want" ]; then
		echo "FAIL $1: krb_prf_rfc3961 $got != openssl $want"
		rc=1
	else
		echo "PASS $1"
	fi
}

# n-fold itself against RFC 3961 appendix A.1 first.
for v in "6b65726265726f73:16:6b65726265726f737b9b5b2b93132b93" \
	 "303132333435:8:be072631276b1955" \
	 "70617373776f7264:21:59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"; do
	got=$(nfold "${v%%:*}" "$(echo "$v" | cut -d: -f2)")
	[ "$got" = "${v##*:}" ] || { echo "FAIL check_nfold_awk: $v got $got"; rc=1; }
done
[ $rc -eq 0 ] && echo "PASS check_nfold_awk"

k256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
check check_prf_aes256_notes_h7 18 "$k256" "hello KINK" \
    c03c29332e2a8739fcb1245d39ce3e7da7c29f99
check check_prf_aes256_other 18 \
    "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff" \
    "KEYMAT seed: protocol 3, SPI, Ni_b"
check check_prf_aes128 17 "636869636b656e207465726979616b69" "hello KINK"
check check_prf_aes128_empty 17 "00112233445566778899aabbccddeeff" ""

# The des3 recomputation against RFC 3961 A.3 first (usage 0000000155).
got=$(des3_dk dce06b1f64c857a11c3db57c51899b2cc1791008ce973b92 0000000155)
if [ "$got" = 925179d04591a79b5d3192c4a7e9c289b049c71f6ee604cd ]; then
	echo "PASS check_des3_dk_openssl_rfc3961_a3"
else
	echo "FAIL check_des3_dk_openssl_rfc3961_a3: got $got"
	rc=1
fi

# krb_prf, both kinds, per enctype.  aes-sha1: the kinds differ (20 vs 16
# octets); the SHA-2 and RC4 enctypes have one PRF each, which both kinds
# give (their RFC's; RFC 3961's simplified profile does not apply).
for et in 18 17; do
	case $et in 18) k=$k256 ;; 17) k=636869636b656e207465726979616b69 ;; esac
	check_kind "check_krb_prf_${et}_rfc3961" rfc3961 "$et" "$k" "KEYMAT" \
	    "$(prf_openssl "$k" KEYMAT)"
	check_kind "check_krb_prf_${et}_mit" mit "$et" "$k" "KEYMAT" \
	    "$(prf_openssl_mit "$k" KEYMAT)"
done
# RFC 8009 appendix A's PRF vectors (input "test"), then another input.
k19=3705d96080c17728a0e800eab6e0d23c
k20=6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52
for kind in rfc3961 mit; do
	check_kind "check_krb_prf_19_rfc8009_${kind}" "$kind" 19 "$k19" test \
	    "$(prf_openssl_sha2 19 "$k19" test)" \
	    9d188616f63852fe86915bb840b4a886ff3e6bb0f819b49b893393d393854295
	check_kind "check_krb_prf_20_rfc8009_${kind}" "$kind" 20 "$k20" test \
	    "$(prf_openssl_sha2 20 "$k20" test)" \
	    9801f69a368c2bf675e59521e177d9a07f67efe1cfde8d3c8d6f6a0256e3b17db3c1b62ad1b8553360d17367eb1514d2
	check_kind "check_krb_prf_19_${kind}" "$kind" 19 "$k19" "KEYMAT seed" \
	    "$(prf_openssl_sha2 19 "$k19" "KEYMAT seed")"
	check_kind "check_krb_prf_20_${kind}" "$kind" 20 "$k20" "KEYMAT seed" \
	    "$(prf_openssl_sha2 20 "$k20" "KEYMAT seed")"
	check_kind "check_krb_prf_23_${kind}" "$kind" 23 \
	    00112233445566778899aabbccddeeff "KEYMAT seed" \
	    "$(prf_openssl_rc4 00112233445566778899aabbccddeeff "KEYMAT seed")"
done
# des3: the kinds agree (RFC 3961's m = 8 cut is a block multiple)
k3=dce06b1f64c857a11c3db57c51899b2cc1791008ce973b92
for kind in rfc3961 mit; do
	check_kind "check_krb_prf_16_${kind}" "$kind" 16 "$k3" "KEYMAT seed" \
	    "$(prf_openssl_des3 "$k3" "KEYMAT seed")"
done
exit $rc
