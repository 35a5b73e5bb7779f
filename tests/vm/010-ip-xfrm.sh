# Harness self-test: a manual ESP transport SA pair with policies, set
# with iproute2 alone, carries ping between the two namespaces and the
# ESP counters move.  Proves modules, crypto autoload, netns and veth.
. /tests/guest.sh

KE=0x00112233445566778899aabbccddeeff
KA=0x0123456789abcdef0123456789abcdef01234567

manual_pair() {	# $1 $2: addresses of A and B
	for ns in A B; do
		ip -n $ns xfrm state add src $1 dst $2 proto esp spi 0x1001 \
		    reqid 7 mode transport enc 'cbc(aes)' $KE auth 'hmac(sha1)' $KA &&
		ip -n $ns xfrm state add src $2 dst $1 proto esp spi 0x2002 \
		    reqid 7 mode transport enc 'cbc(aes)' $KE auth 'hmac(sha1)' $KA ||
		    return 1
	done
	ip -n A xfrm policy add src $1 dst $2 dir out tmpl src $1 dst $2 proto esp reqid 7 mode transport &&
	ip -n A xfrm policy add src $2 dst $1 dir in tmpl src $2 dst $1 proto esp reqid 7 mode transport &&
	ip -n B xfrm policy add src $2 dst $1 dir out tmpl src $2 dst $1 proto esp reqid 7 mode transport &&
	ip -n B xfrm policy add src $1 dst $2 dir in tmpl src $1 dst $2 proto esp reqid 7 mode transport
}

for fam in 4 6; do
	t=ip-xfrm-esp-ping-v$fam
	hosts_up || { fail $t "netns/veth setup"; continue; }
	eval a=\$A$fam b=\$B$fam
	if ! manual_pair $a $b; then
		fail $t "ip xfrm state/policy add failed"
		hosts_down; continue
	fi
	before=$(esp_packets A)
	if ! ip netns exec A ping -c 3 -i 0.2 -W 2 $b > /tmp/ping.out 2>&1; then
		cat /tmp/ping.out
		fail $t "ping A->B through ESP failed"
	else
		after=$(esp_packets A)
		bafter=$(esp_packets B)
		echo "  esp packets: A $before->$after, B $bafter"
		# 3 echo requests out + 3 replies in on A, the mirror on B.
		if [ "$after" -ge $((before + 6)) ] && [ "$bafter" -ge 6 ]; then
			pass $t
		else
			ip -n A -s xfrm state
			fail $t "ESP counters did not move (A $before->$after, B $bafter)"
		fi
	fi
	hosts_down
done
exit $FAILED
