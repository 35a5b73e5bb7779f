#!/bin/sh
# Recompute the RFC 3961/3962 PRF for AES keys (and RFC 4757's for RC4)
# with nothing but openssl(1) and awk, straight from the RFC definitions,
# and compare it with
# src/krb_prf.c (through the krbprf tool):
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

rc=0
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

# arcfour-hmac (23), RFC 4757's PRF: HMAC-SHA1 keyed with the 16-octet
# session key, all 20 octets.
check_rc4() {	# NAME KEYHEX INPUT
	want=$(printf '%s' "$3" | openssl dgst -sha1 -mac HMAC \
	    -macopt "hexkey:$2" -binary | tohex)
	got=$("$tool" 23 "$2" "$3")
	if [ ${#want} -ne 40 ]; then
		echo "FAIL $1: openssl HMAC-SHA1 gave '$want'"
		rc=1
	elif [ "$got" != "$want" ]; then
		echo "FAIL $1: krb_prf_rfc3961 $got != openssl $want"
		rc=1
	else
		echo "PASS $1"
	fi
}
check_rc4 check_prf_rc4 "8846f7eaee8fb117ad06bdd830b7586c" "hello KINK"
check_rc4 check_prf_rc4_keymat "00112233445566778899aabbccddeeff" \
    "KEYMAT seed: protocol 3, SPI, Ni_b"
check_rc4 check_prf_rc4_empty "f0e1d2c3b4a5968778695a4b3c2d1e0f" ""
exit $rc
