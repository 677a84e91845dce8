# shellcheck shell=bash
# dom0-side helpers for scenarios.sh (sourced by it inside dom0).
# A scenario is a bash function scenario_<name> that runs in its own
# subshell; it calls `fail REASON` on the first broken expectation.

GUEST=guest                 # xl domain name of the domU
DOMU_PRISTINE=/rig/domU.img # the domU's root disk as `run` prepared it (guardian installed)
DOMU_DISK=/rig/work.img     # the copy a scenario runs on (domu_fresh_disk)
CKPT=/var/lib/xen/guest.ckpt
SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-1200} # generous: a loaded host slows TCG 10x

note() { echo "$(cut -d' ' -f1 /proc/uptime) $*"; }
fail() { echo "$*" >/tmp/rig-reason; note "FAIL: $*"; exit 1; }

timeout_guard() { # timeout_guard FN: run FN, give up after SCENARIO_TIMEOUT
	local fn=$1
	"$fn" &
	local pid=$! deadline=$((SECONDS + SCENARIO_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timed out after ${SCENARIO_TIMEOUT}s" >/tmp/rig-reason
			kill "$pid"
			return 124
		fi
	done
	wait "$pid"
}

# A scenario that damages the disk, reconfigures the guest or ends in an
# incident marks it dirty; the next domu_start then starts from the pristine
# disk (copying it costs a minute under TCG, so clean runs reuse theirs).
DIRTY_MARK=/tmp/domU-disk-dirty
domu_disk_dirty() { touch "$DIRTY_MARK"; }
domu_fresh_disk() {
	local dev
	[ -f "$DOMU_DISK" ] && [ ! -f "$DIRTY_MARK" ] && return 0
	for dev in $(losetup -j "$DOMU_DISK" | cut -d: -f1); do losetup -d "$dev"; done
	# `losetup -d` of a device blkback still holds only marks it for
	# autoclear, and it stays bound to this very file: domu_loopdev's
	# `losetup -j` would hand the next guest that dying device, whose
	# backend then fails ("unable to add device with path ...backend/vbd/..").
	wait_for 60 eval '[ -z "$(losetup -j "$DOMU_DISK")" ]' ||
		fail "rig: the old loop device over $DOMU_DISK is still bound 60 s after detaching it: $(losetup -j "$DOMU_DISK")"
	cp --sparse=always "$DOMU_PRISTINE" "$DOMU_DISK" || fail "cannot copy the domU disk"
	rm -f "$DIRTY_MARK"
}

# The loop device backing the domU's phy: disk (what a host with file-backed
# guests has); made on first use after domu_fresh_disk.
domu_loopdev() {
	local dev
	dev=$(losetup -j "$DOMU_DISK" | cut -d: -f1 | head -1)
	[ -n "$dev" ] || dev=$(losetup -f --show "$DOMU_DISK")
	echo "$dev"
}

# The domU's initrd: the stock one, or (DOMU_INITRD=/rig/initrd-VARIANT.img)
# one whose xen-blkfront is a rig build (build-images, kmod/):
# stale-features or grant-reuse.
STOCK_INITRD=/rig/initrd.img

# Kernel parameters for a stock-module guest that a scenario restores from
# phy onto qdisk: blkfront then builds no request of more than 11 segments.
# Without it the stock 6.1 and 5.10 modules can hit BUG() in blkif_queue_rq
# (xen-blkfront.c:762 / :774) after such a restore: requests merged for
# blkback's indirect segments still wait in the block queue when the
# frontend reconnects to a backend without them, and are dispatched as they
# are (seen on this rig in about one such restore in three, under load).
# That is the kernel's own bug, unrelated to stale features or to guardian.
# The rig's stale-features build hits it too (it re-reads the indirect
# segments on resume, as pre-4.2 kernels did): a CI run saw it at :762 in
# stale-frontend-protect-phy-qdisk, where the dead kblockd worker left the
# ring lock held and the one-vCPU guest hung before guardian could act. So
# every scenario restoring a guest onto qdisk boots it with this.
NO_INDIRECT_SEGMENTS=" xen_blkfront.max_indirect_segments=11"

# domu_config phy|qdisk: writes the xl config for that backend, prints its
# path. DOMU_EXTRA: kernel parameters added to the command line.
domu_config() {
	local backend=$1 cfg=/tmp/guest-$1.cfg script=""
	# phy: the rig's lean hotplug script (see xl/block-rig); qdisk needs none.
	[ "$backend" = phy ] && script="script=/rig/xl/block-rig, "
	sed -e "s|@DISK@|$(domu_loopdev)|" -e "s|@BACKEND@|$backend|" -e "s|@SCRIPT@|$script|" \
		-e "s|@RAMDISK@|${DOMU_INITRD:-$STOCK_INITRD}|" -e "s|@EXTRA@|${DOMU_EXTRA:-}|" \
		-e "s|@ON_CRASH@|${DOMU_ON_CRASH:-preserve}|" -e "s|@ON_REBOOT@|${DOMU_ON_REBOOT:-preserve}|" /rig/xl/guest.cfg.in >"$cfg"
	echo "$cfg"
}

domid() { xl domid "$GUEST" 2>/dev/null; }

# xl_logged ARGS...: xl -v, its output kept in /tmp/xl.log and shown on the
# console when it fails (libxl's first error is the one that matters).
xl_logged() {
	local rc=0
	xl -v "$@" >/tmp/xl.log 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		echo "xl $1 exited $rc:"
		cat /tmp/xl.log
	fi
	return "$rc"
}
xl_errors() {
	grep -m3 -iE 'error|fail|timed? ?out' /tmp/xl.log | tr '\n' ' ' | cut -c1-240
	# The hotplug script's last word (xl/block-rig), for a disk that failed.
	tail -2 /var/log/xen/block-rig.log 2>/dev/null | tr '\n' ' '
}
dpath() { echo "/local/domain/$(domid)"; } # guest's xenstore home
xs_read() { xenstore-read "$@" 2>/dev/null; }
gread() { xs_read "$(dpath)/data/guardian/$1"; } # guardian's node, or ""

# wait_for SECONDS CMD...: poll CMD every 0.5 s until it succeeds; 1 on
# timeout. A deadline, not a count: under TCG one poll can take seconds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.5
	done
}

domu_alive() { [ -n "$(xs_read "$(dpath)/data/rig-tick")" ]; }
guardian_installed() { command -v guardian-host >/dev/null; }
guardian_watching() { [ "$(gread state)" = watching ]; }

# domu_start [phy|qdisk]: a fresh domU on a fresh disk, waits for its
# heartbeat (and for guardiand's `watching` when guardian is installed).
# KEEP_DISK=1: boot the disk as it is (the boot after an incident).
domu_start() {
	local backend=${1:-phy}
	domu_stop
	[ "${KEEP_DISK:-0}" = 1 ] || domu_fresh_disk
	local t0=$SECONDS
	# A guest that ran leaves its disk changed and, once destroyed, with a
	# journal to replay: the next scenario must not take it for pristine.
	domu_disk_dirty
	xl_logged create "$(domu_config "$backend")" || fail "xl create failed: $(xl_errors)"
	note "created domid $(domid) ($backend)"
	wait_for 600 eval 'domu_alive || domu_rebooted' || fail "domU did not come up within 600 s"
	if domu_rebooted; then
		# systemd-fsck reboots after repairing the root filesystem (the boot
		# after a guardian incident): boot it once more, as Xen would.
		[ "${KEEP_DISK:-0}" = 1 ] || fail "a fresh domU rebooted while booting"
		note "the guest rebooted while booting (systemd-fsck repaired root): booting it again"
		xl destroy "$GUEST" >/dev/null 2>&1 || true
		xl_logged create "$(domu_config "$backend")" || fail "xl create failed: $(xl_errors)"
		note "created domid $(domid) ($backend)"
		wait_for 600 domu_alive || fail "domU did not come up within 600 s of its second boot"
	fi
	note "domU up after $((SECONDS - t0)) s"
	if guardian_installed && [ "${DOMU_NO_GUARDIAN:-0}" != 1 ]; then
		wait_for 300 guardian_watching ||
			fail "guardiand never reported state=watching (state='$(gread state)')"
		note "guardiand watching after $((SECONDS - t0)) s"
	fi
}

# domu_stop: destroys the guest and waits until dom0 has torn its disk
# down: `xl destroy` returns before blkback/qdisk have closed the device and
# their backend directories are gone, and a guest created meanwhile races
# them for the same disk (seen: `xl create` exit 3, "unable to add device
# with path /local/domain/0/backend/vbd/3/51712", right after the previous
# scenario's domain went away).
domu_stop() {
	local old
	old=$(domid)
	xl destroy "$GUEST" >/dev/null 2>&1 || true
	rm -f "$CKPT"
	[ -n "$old" ] || return 0
	wait_for 60 eval "! xl list $old >/dev/null 2>&1 && [ -z \"\$(backend_dirs_of $old)\" ]" ||
		fail "rig: domain $old's devices still in dom0 60 s after xl destroy: $(backend_dirs_of "$old") $(tail -3 /var/log/xen/block-rig.log 2>/dev/null | tr '\n' ' ')"
}
# backend_dirs_of DOMID: the backend directories dom0 still has for it.
backend_dirs_of() {
	local kind
	for kind in vbd qdisk; do
		xenstore-list "/local/domain/0/backend/$kind/$1" >/dev/null 2>&1 && echo "backend/$kind/$1"
	done
	return 0
}

# domu_save: xl save (the guest stops; its memory goes to $CKPT).
domu_save() {
	local t0
	OLD_DOMID=$(domid)
	t0=$(date +%s.%N)
	xl_logged save "$GUEST" "$CKPT" || fail "xl save failed: $(xl_errors)"
	note "saved domid $OLD_DOMID in $(since "$t0") s"
}

# domu_restore [phy|qdisk]: xl restore onto the given backend; waits until
# the heartbeat shows the guest runs again (NO_WAIT_ALIVE=1: does not wait,
# for a guest expected to stop at once). RESTORED_AT: dom0's clock when xl
# restore returned, i.e. just after the guest was unpaused.
domu_restore() {
	local backend=${1:-phy} t0
	t0=$(date +%s.%N)
	xl_logged restore "$(domu_config "$backend")" "$CKPT" || fail "xl restore failed: $(xl_errors)"
	RESTORED_AT=$(date +%s.%N)
	NEW_DOMID=$(domid)
	note "restored as domid $NEW_DOMID ($backend) in $(since "$t0") s"
	[ "${NO_WAIT_ALIVE:-0}" = 1 ] && return 0
	wait_for 300 domu_alive || fail "domU did not run again within 300 s of restore"
	note "domU running again $(since "$t0") s after xl restore started"
}

# domu_save_restore [phy|qdisk]: both, with a gap between them so the
# guest's BOOTTIME jumps measurably.
domu_save_restore() {
	domu_save
	sleep "${SAVED_PAUSE:-2}"
	domu_restore "$@"
}

# verdict_figures: guardian's own timing of the last verification (from
# the moment it noticed the restore), and dom0's: how long after xl restore
# returned the verdict was there to read (an upper bound: dom0 polls).
# Call it right after the wait for the verdict.
verdict_figures() { # verdict_figures [WHAT]
	note "RIG-FIGURE xl restore returned -> ${1:-verdict readable in dom0}: $(since "$RESTORED_AT") s"
	note "RIG-FIGURE guardian timing: $(gread last-verification-timing)"
}

since() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $1}"; }

# The domU's blkfront backend directory and its feature keys, read in dom0.
BACKEND_KEYS="feature-barrier feature-flush-cache feature-discard discard-granularity
discard-alignment discard-secure feature-persistent feature-max-indirect-segments
max-ring-page-order multi-queue-max-queues sectors info sector-size physical-sector-size"
vbd_ids() { xenstore-list "$(dpath)/device/vbd" 2>/dev/null; }
vbd_backend() { xs_read "$(dpath)/device/vbd/$1/backend"; }
backend_features() { # backend_features VBD: "key=value ..." with absent keys as key=-
	local be k v out=""
	be=$(vbd_backend "$1")
	for k in $BACKEND_KEYS; do
		v=$(xs_read "$be/$k") || v=-
		out+="$k=${v:--} "
	done
	echo "${out% }"
}

# This scenario's part of the domU console: the log holds every boot of the
# rig's guest; dump_domu_console marks where the previous scenario's ended.
scenario_console() {
	local f=/var/log/xen/console/guest-"$GUEST".log off
	off=$(cat "$f.shown" 2>/dev/null || echo 0)
	tail -c +$((off + 1)) "$f" 2>/dev/null
}

dump_domu_console() { # after each scenario: the new part of the domU console
	local f off size
	for f in /var/log/xen/console/guest-"$GUEST"*.log; do
		[ -f "$f" ] || continue
		off=$(cat "$f.shown" 2>/dev/null || echo 0)
		size=$(stat -c %s "$f")
		echo "RIG-DOMU-CONSOLE $1 $f"
		tail -c +$((off + 1)) "$f" | sed "s/^/domU| /"
		echo "$size" >"$f.shown"
	done
}

cleanup_scenario() { domu_stop; }

# xl's own log of the domain's life (written by the xl process that
# monitors it): how the guest last shut down.
xl_log() { cat /var/log/xen/xl-"$GUEST".log 2>/dev/null; }
# domu_wait_reboot SECONDS: the guest asked for a reboot (the xl config
# preserves the domain instead, so dom0 reads its xenstore before the
# restart). 0 when it did, 1 on timeout.
domu_wait_reboot() {
	wait_for "$1" domu_rebooted
}
domu_rebooted() { xl_log | grep -q "shut down, reason code 1"; }

# The domU image as dom0 sees it: debugfs over the working copy (the guest
# must not be running, or it is read-only use).
# debugfs does not replay the journal: a -w edit of a disk whose journal
# still needs recovery is overwritten by the replay at the next mount and
# leaves bitmaps and inodes with bad checksums (what made
# unsafe-feature-change fail right after clean-restore), so that is refused.
domu_debugfs() {
	case " $* " in
	*" -w "*)
		! dumpe2fs -h "$DOMU_DISK" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery' ||
			fail "rig problem: debugfs -w on a domU disk whose journal needs recovery"
		;;
	esac
	debugfs "$@" "$DOMU_DISK" 2>/dev/null
}
# pristine_debugfs ARGS...: read-only debugfs on the disk as `run` prepared
# it. Where static files lie is asked of it, never of the running guest's
# disk: debugfs reading a mounted filesystem sees a journal not yet
# checkpointed and blocks half written, and a lookup can fail at random.
pristine_debugfs() {
	debugfs "$@" "$DOMU_PRISTINE" 2>/dev/null
}
# domu_fs_block PATH: the filesystem block holding PATH's first data block,
# and the block size: "<block> <size>" (PATH must be static: never rewritten
# by the guest, so the pristine disk's answer holds for the running one).
domu_fs_block() {
	local blk bs
	blk=$(pristine_debugfs -R "bmap $1 0" | tr -dc 0-9)
	bs=$(dumpe2fs -h "$DOMU_PRISTINE" 2>/dev/null | awk '/^Block size:/ {print $3}')
	[ -n "$blk" ] && [ -n "$bs" ] || fail "cannot locate $1 in the domU disk"
	echo "$blk $bs"
}

# root_hashes: sha256 of every regular file of the domU disk outside /var
# and /tmp (what no scenario's guest writes), sorted by path; the guest
# must not be running. Mounted read-only without a journal replay
# (noload), through a read-only loop device of its own that is gone again
# before it returns (domu_loopdev must never hand that one to a guest).
root_hashes() {
	local mnt=/tmp/rootmnt rc=0 dev
	mkdir -p "$mnt"
	dev=$(losetup -r -f --show "$DOMU_DISK") || return 1
	if mount -o ro,noload "$dev" "$mnt"; then
		(cd "$mnt" && find . -xdev \( -path ./var -o -path ./tmp \) -prune -o -type f -print0 |
			sort -z | xargs -0 sha256sum) || rc=$?
		umount "$mnt"
	else
		rc=1
	fi
	losetup -d "$dev"
	wait_for 60 eval "! losetup -j '$DOMU_DISK' | grep -q '^$dev:'" ||
		fail "rig: the hashing loop device $dev is still bound 60 s after detaching it"
	return "$rc"
}
