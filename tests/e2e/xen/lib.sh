# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this
# Shared by run and build-images: where things live and what the image
# cache key is made of. Sourced, never executed.

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$RIG_DIR/../../.." && pwd)
CACHE_ROOT=${GUARDIAN_XEN_CACHE:-/var/tmp/guardian-xen-cache}
MIRROR=${GUARDIAN_XEN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

# Everything the images are built from. The runtime scripts (dom0/run-dom0,
# scenarios.sh, domU/rig-init, xl/*) are deliberately NOT here: they are
# copied in at run time, so editing a scenario never rebuilds an image.
IMAGE_INPUTS=(build-images lib.sh dom0/rig-stub kmod/xen-blkfront-stale-features.patch
	kmod/xen-blkfront-grant-reuse.patch kmod/guardian-rig-trouble.c)

# Packages whose versions go into the cache key (the rest follow from them
# or are irrelevant to what the rig proves).
KEY_PACKAGES=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
	qemu-system-xen linux-image-amd64 initramfs-tools e2fsprogs
	libext2fs2 libblkid1 libxenstore4 libsystemd0 libfmt9 libxxhash0
	libstdc++6 libc6 systemd udev
	linux-source-6.1 gcc-12) # the stale-features xen-blkfront's source and compiler

log() { printf '[xen-rig %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

# Prints the cache key: sha256 over the image inputs and the candidate
# versions apt would install now. A mirror update therefore rebuilds.
cache_key() {
	{
		local f
		for f in "${IMAGE_INPUTS[@]}"; do
			printf '== %s\n' "$f"
			cat "$RIG_DIR/$f"
		done
		printf '== versions\n'
		apt-cache policy "${KEY_PACKAGES[@]}" 2>/dev/null |
			awk '/^[^ ]/ {p=$1} /Candidate:/ {print p, $2}'
	} | sha256sum | cut -c1-16
}

cache_dir() { printf '%s/%s\n' "$CACHE_ROOT" "$(cache_key)"; }
