# Run by sysd-test.service in the guest once systemd reached
# multi-user.target: loads the modules the scenarios need, runs
# /tests/NNN-*.sh in order between VM-BEGIN/VM-END markers (the VM tier's
# console protocol), powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo
echo "sysd: systemd reached multi-user.target after $(cut -d' ' -f1 /proc/uptime)s"
for m in veth af_key xfrm_user esp4; do
	modprobe "$m" || echo "sysd-guest: modprobe $m failed"
done
only=$(sed -n 's/.*vm_only=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
cd /tests
for s in /tests/[0-9][0-9][0-9]-*.sh; do
	name=$(basename "$s" .sh)
	if [ -n "$only" ]; then
		case " $only " in *" ${name%%-*} "*) ;; *) continue ;; esac
	fi
	echo "VM-BEGIN $name"
	start=$(date +%s)
	sh "$s" 2>&1
	rc=$?
	echo "VM-END $name $rc $(( $(date +%s) - start ))s"
	# The package and the realm: every later scenario needs them.
	case $name in
	010-*|020-*)
		if [ $rc -ne 0 ]; then
			echo "sysd-guest: $name failed, the scenarios after it need it"
			break
		fi ;;
	esac
done
echo VM-DONE
systemctl poweroff --force --force
