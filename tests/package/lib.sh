# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this
# Shared by the installed-package tests (tests/package/*-installed): logging,
# skipping, a clean Debian 12 root from a cached debootstrap, and chroot
# mounts that are always undone. Sourced, never executed.

PKG_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$PKG_TEST_DIR/../.." && pwd)
CACHE_ROOT=${GUARDIAN_PKG_CACHE:-/var/tmp/guardian-pkg-cache}
MIRROR=${GUARDIAN_PKG_MIRROR:-http://deb.debian.org/debian}
SUITE=${PKG_SUITE:-bookworm} # PKG_SUITE: set by a test for another release
# What a guest has besides minbase: its init (the units are verified and
# enabled against it) and man-db (systemd-analyze verify resolves the units'
# Documentation=man: entries with `man -w`).
BASE_INCLUDE=systemd,man-db
# Bump when the recipe of the base root changes, so old caches are not used.
BASE_RECIPE=1

# ctest's SKIP_RETURN_CODE (tests/package/CMakeLists.txt).
SKIP_RC=77

T0=$SECONDS
log() { printf '[pkg-test %(%H:%M:%S)T +%3ss] %s\n' -1 $((SECONDS - T0)) "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit "$SKIP_RC"; }

# Prints the cache key of the pristine root: it depends on what makes the
# root (debootstrap's version, suite, mirror, variant, extra packages, the
# recipe) and not on the date, so a cached root is reused until one of those
# changes. Packages inside it are updated per run by `apt-get update`.
base_cache_key() {
	{
		dpkg-query -W -f='${Version}\n' debootstrap
		printf '%s\n' "$SUITE" "$MIRROR" minbase "$BASE_INCLUDE" "$BASE_RECIPE" "$(dpkg --print-architecture)"
	} | sha256sum | cut -c1-16
}

# ensure_base_tarball: prints the path of the cached pristine root, making
# it with debootstrap when absent. Skips the test when that is impossible
# (no network and no cache).
ensure_base_tarball() {
	local dir tarball tmp
	dir="$CACHE_ROOT/$(base_cache_key)"
	tarball="$dir/base.tar.zst"
	if [[ -f "$tarball" ]]; then
		printf '%s\n' "$tarball"
		return
	fi
	log "no cached $SUITE root in $dir: running debootstrap (a few minutes)"
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/build.XXXXXX")
	if ! debootstrap --variant=minbase --include="$BASE_INCLUDE" "$SUITE" "$tmp/root" "$MIRROR" \
		>"$tmp/debootstrap.log" 2>&1; then
		tail -5 "$tmp/debootstrap.log" >&2
		rm -rf --one-file-system "$tmp"
		rmdir "$dir" 2>/dev/null || true
		skip "debootstrap of $SUITE from $MIRROR failed and no cached root exists (no network?)"
	fi
	# The downloaded .debs are not part of a clean root.
	rm -f "$tmp"/root/var/cache/apt/archives/*.deb
	tar -C "$tmp/root" --zstd --numeric-owner --xattrs -cf "$tmp/base.tar.zst" . ||
		die "could not archive the new root"
	mv "$tmp/base.tar.zst" "$tarball"
	rm -rf --one-file-system "$tmp"
	log "cached $tarball ($(du -h "$tarball" | cut -f1))"
	printf '%s\n' "$tarball"
}

# Mounts made for the chroot, undone by unmount_all (also from the EXIT trap).
CHROOT_MOUNTS=()
chroot_mount() { # chroot_mount ARGS... TARGET
	mount "$@" && CHROOT_MOUNTS+=("${!#}")
}
unmount_all() {
	local i
	for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${CHROOT_MOUNTS[i]}" 2>/dev/null || umount -l "${CHROOT_MOUNTS[i]}" || true
	done
	CHROOT_MOUNTS=()
}
# mounted_under DIR: true when anything is still mounted at or below DIR.
mounted_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

# mount_chroot ROOT: /proc, /sys and /dev for maintainer scripts and apt.
mount_chroot() {
	local root=$1
	chroot_mount -t proc proc "$root/proc"
	chroot_mount -t sysfs sysfs "$root/sys"
	chroot_mount --bind /dev "$root/dev"
	chroot_mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
}

# in_root CMD...: runs CMD in the chroot, non-interactively.
# in_root uses ROOT, set by the test script.
# shellcheck disable=SC2153
in_root() {
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		chroot "$ROOT" "$@"
}

# deb_dir WORKDIR: sets debs to the directory holding the guardian .debs:
# GUARDIAN_DEB_DIR when set, else WORKDIR/debs built by tools/build-deb.
deb_dir() {
	if [[ -n "${GUARDIAN_DEB_DIR:-}" ]]; then
		debs=$(cd "$GUARDIAN_DEB_DIR" && pwd)
		log "using the .debs in $debs (GUARDIAN_DEB_DIR)"
	else
		debs="$1/debs"
		rm -rf "$debs"
		log "building the .debs with tools/build-deb (lintian included)"
		"$REPO_DIR/tools/build-deb" "$debs" >"$1/build-deb.log" 2>&1 ||
			{ tail -40 "$1/build-deb.log" >&2; die "tools/build-deb failed (log: $1/build-deb.log)"; }
	fi
}
