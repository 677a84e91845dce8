# shellcheck shell=bash
# dom0-side helpers for scenarios.sh (sourced by it inside dom0).
# A scenario is a bash function scenario_<name> that runs in its own
# subshell; it calls `fail REASON` on the first broken expectation.

GUEST=guest                 # xl domain name of the domU
DOMU_DISK=/rig/domU.img     # the domU's root disk (a copy with guardian in it)
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

# The loop device backing the domU's phy: disk (what a host with file-backed
# guests has); made once per boot, reused by every scenario.
domu_loopdev() {
	local dev
	dev=$(losetup -j "$DOMU_DISK" | cut -d: -f1 | head -1)
	[ -n "$dev" ] || dev=$(losetup -f --show "$DOMU_DISK")
	echo "$dev"
}

# domu_config phy|qdisk: writes the xl config for that backend, prints its path.
domu_config() {
	local backend=$1 cfg=/tmp/guest-$1.cfg script=""
	# phy: the rig's lean hotplug script (see xl/block-rig); qdisk needs none.
	[ "$backend" = phy ] && script="script=/rig/xl/block-rig, "
	sed -e "s|@DISK@|$(domu_loopdev)|" -e "s|@BACKEND@|$backend|" -e "s|@SCRIPT@|$script|" \
		/rig/xl/guest.cfg.in >"$cfg"
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
xl_errors() { grep -m3 -iE 'error|fail|timed? ?out' /tmp/xl.log | tr '\n' ' ' | cut -c1-240; }
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
guardian_installed() { [ -x /rig/bin/guardian-host ]; }
guardian_watching() { [ "$(gread state)" = watching ]; }

# domu_start [phy|qdisk]: a fresh domU, waits for its init's heartbeat
# (and for guardiand's `watching` when guardian is installed).
domu_start() {
	local backend=${1:-phy}
	domu_stop
	local t0=$SECONDS
	xl_logged create "$(domu_config "$backend")" || fail "xl create failed: $(xl_errors)"
	note "created domid $(domid) ($backend)"
	wait_for 600 domu_alive || fail "domU did not come up within 600 s"
	note "domU up after $((SECONDS - t0)) s"
	if guardian_installed; then
		wait_for 300 guardian_watching ||
			fail "guardiand never reported state=watching (state='$(gread state)')"
		note "guardiand watching after $((SECONDS - t0)) s"
	fi
}

domu_stop() {
	xl destroy "$GUEST" >/dev/null 2>&1 || true
	rm -f "$CKPT"
}

# domu_save_restore [phy|qdisk]: xl save + xl restore (onto the given
# backend), then waits until the domU's heartbeat shows it runs again.
domu_save_restore() {
	local backend=${1:-phy} t0
	OLD_DOMID=$(domid)
	t0=$(date +%s.%N)
	xl_logged save "$GUEST" "$CKPT" || fail "xl save failed: $(xl_errors)"
	note "saved domid $OLD_DOMID in $(since "$t0") s"
	sleep "${SAVED_PAUSE:-2}" # a gap, so the guest's BOOTTIME jumps measurably
	t0=$(date +%s.%N)
	xl_logged restore "$(domu_config "$backend")" "$CKPT" || fail "xl restore failed: $(xl_errors)"
	NEW_DOMID=$(domid)
	note "restored as domid $NEW_DOMID ($backend) in $(since "$t0") s"
	wait_for 300 domu_alive || fail "domU did not run again within 300 s of restore"
	note "domU running again $(since "$t0") s after xl restore started"
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
