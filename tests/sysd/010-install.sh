# The package built from the tree, installed as an admin installs a .deb:
# apt resolves its dependencies (present in the guest: no network), the
# postinst creates _kinkd, the unit is installed, Type=notify, not enabled.
. /tests/common.sh

start=$(date +%s)
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q /srv/kinkd.deb \
    > /tmp/apt.log 2>&1 && dpkg-query -W -f='${Status}\n' kinkd | grep -q 'ok installed'; then
	pass sysd-apt-install
	echo "  # apt-get install -y /srv/kinkd.deb ($(( $(date +%s) - start ))s)"
	sed 's/^/  /' /tmp/apt.log
else
	fail sysd-apt-install "apt-get install /srv/kinkd.deb"
	sed 's/^/  /' /tmp/apt.log | tail -n 20
	exit 1
fi
if getent passwd _kinkd > /dev/null; then
	pass sysd-user
else
	fail sysd-user "no _kinkd after install"
fi
st=$(systemctl is-enabled kinkd.service 2>&1)
type=$(systemctl show -p Type --value kinkd.service)
if [ "$st" = disabled ] && [ "$type" = notify ]; then
	pass sysd-unit-installed
else
	fail sysd-unit-installed "is-enabled $st, Type=$type"
fi
exit $FAILED
