#!/bin/sh
# install.sh [--uninstall] [DESTDIR]: installs guardian from this release
# tarball on a guest that has neither the .deb nor the .rpm. The programs are
# static: any x86_64 Linux >= 2.6.32 with any libc. It installs the files to
# DESTDIR (default /), then, for the running system only (no DESTDIR):
#   systemd (/run/systemd/system): units to /etc/systemd/system, the old-
#     systemd drop-ins (guardian-systemd-compat), enable and start guardiand;
#   otherwise SysV: /etc/init.d/guardiand, enabled with update-rc.d or
#     chkconfig when there is one, and started.
# An existing /etc/guardian/guardian.conf is kept (the new one goes beside it
# as guardian.conf.new). --uninstall removes what the manifest
# (/usr/share/guardian/install.manifest) lists, keeps /etc/guardian and the
# state in /var/lib/guardian.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=install
if [ "${1:-}" = --uninstall ]; then
	mode=uninstall
	shift
fi
DESTDIR=${1:-${DESTDIR:-}}
DESTDIR=${DESTDIR%/}
export DESTDIR # for guardian-systemd-compat
manifest=$DESTDIR/usr/share/guardian/install.manifest
live=no
[ -n "$DESTDIR" ] || live=yes
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	init=systemd
else
	init=sysv
fi

say() { printf 'install.sh: %s\n' "$*"; }

put() { # put MODE SRC DEST: one file, recorded in the manifest
	mkdir -p "$(dirname "$DESTDIR$3")"
	cp "$here/files/$2" "$DESTDIR$3.tmp"
	chmod "$1" "$DESTDIR$3.tmp"
	mv -f "$DESTDIR$3.tmp" "$DESTDIR$3"
	printf '%s\n' "$3" >>"$manifest.tmp"
}

if [ "$mode" = uninstall ]; then
	[ -r "$manifest" ] || { say "no $manifest: nothing installed by install.sh"; exit 1; }
	if [ "$live" = yes ]; then
		if [ "$init" = systemd ]; then
			systemctl disable --now guardiand.service guardian-boot.service >/dev/null 2>&1 || true
		elif [ -x /etc/init.d/guardiand ]; then
			/etc/init.d/guardiand stop || true
			if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f guardiand remove >/dev/null 2>&1 || true; fi
			if command -v chkconfig >/dev/null 2>&1; then chkconfig --del guardiand >/dev/null 2>&1 || true; fi
		fi
	fi
	"$DESTDIR/usr/libexec/guardian/guardian-systemd-compat" remove 2>/dev/null || true
	while IFS= read -r f; do
		rm -f "$DESTDIR$f"
	done <"$manifest"
	rm -f "$manifest"
	rmdir "$DESTDIR/usr/libexec/guardian" "$DESTDIR/usr/share/guardian" 2>/dev/null || true
	[ "$live" = no ] || [ "$init" != systemd ] || systemctl daemon-reload || true
	say "uninstalled (kept /etc/guardian and /var/lib/guardian)"
	exit 0
fi

mkdir -p "$DESTDIR/usr/share/guardian"
: >"$manifest.tmp"
put 755 guardiand /usr/sbin/guardiand
put 755 guardianctl /usr/bin/guardianctl
put 755 guardian-freeze-guard /usr/libexec/guardian/guardian-freeze-guard
put 755 guardian-systemd-compat /usr/libexec/guardian/guardian-systemd-compat
put 644 kernel-risk.json /usr/share/guardian/kernel-risk.json
for page in guardiand.8 guardianctl.1 guardian.conf.5; do
	put 644 "man/$page" "/usr/share/man/man${page##*.}/$page"
done
put 644 guardiand.service /etc/systemd/system/guardiand.service
put 644 guardian-boot.service /etc/systemd/system/guardian-boot.service
put 755 system-sleep-guardian /lib/systemd/system-sleep/guardian
put 755 guardiand.init /etc/init.d/guardiand
mkdir -p "$DESTDIR/etc/guardian/conf.d" "$DESTDIR/etc/guardian/hooks.d"
if [ -e "$DESTDIR/etc/guardian/guardian.conf" ]; then
	cp "$here/files/guardian.conf" "$DESTDIR/etc/guardian/guardian.conf.new"
	say "kept /etc/guardian/guardian.conf; the shipped one is guardian.conf.new"
else
	cp "$here/files/guardian.conf" "$DESTDIR/etc/guardian/guardian.conf"
fi
mv -f "$manifest.tmp" "$manifest"

if [ "$live" = no ]; then
	say "installed to $DESTDIR (nothing enabled or started)"
	exit 0
fi
if [ "$init" = systemd ]; then
	/usr/libexec/guardian/guardian-systemd-compat apply
	systemctl daemon-reload
	systemctl enable guardiand.service guardian-boot.service
	systemctl restart guardiand.service
	say "installed; guardiand.service enabled and started (systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'))"
else
	if command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d guardiand defaults >/dev/null
	elif command -v chkconfig >/dev/null 2>&1; then
		chkconfig --add guardiand
	else
		say "no update-rc.d or chkconfig: link /etc/init.d/guardiand into your runlevels yourself"
	fi
	/etc/init.d/guardiand restart
	say "installed; /etc/init.d/guardiand enabled and started (SysV)"
fi
