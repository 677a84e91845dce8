# shellcheck shell=bash
# The rig's scenarios, run inside dom0 by dom0/run-dom0, all in one boot.
# Adding one: write `scenario_<name_with_underscores>() { ...; }` here using
# the helpers in dom0/rig-lib.sh (domu_start, domu_save_restore, gread,
# wait_for, fail, ...), and add the name to ALL_SCENARIOS in ./run if
# `run all` should run it (and to CI_SCENARIOS if CI should). Each scenario starts its own domU and leaves
# nothing behind (the domU is destroyed after it, pass or fail).
source /rig/rig-lib.sh
# The kernel-trouble and provider-ledger scenarios (files of their own).
source /rig/scenarios-trouble.sh
source /rig/scenarios-ledger.sh

need_guardian() {
	guardian_installed || fail "guardian binaries were not installed (build them first; see README)"
}

# Not guardian: proves the rig itself (boot, phy: disk, save/restore, a
# restore onto qdisk changes the backend keys). Run it explicitly.
scenario_rig_selftest() {
	DOMU_EXTRA=$NO_INDIRECT_SEGMENTS domu_start phy
	local vbd before after
	vbd=$(vbd_ids | head -1)
	[ -n "$vbd" ] || fail "domU has no device/vbd"
	case $(vbd_backend "$vbd") in backend/vbd/* | /local/domain/0/backend/vbd/*) ;;
	*) fail "phy disk not on blkback: $(vbd_backend "$vbd")" ;; esac
	before=$(backend_features "$vbd")
	note "phy features: $before"
	domu_save_restore phy
	[ "$NEW_DOMID" != "$OLD_DOMID" ] || fail "domid did not change across restore"
	domu_save_restore qdisk
	after=$(backend_features "$vbd")
	note "qdisk backend $(vbd_backend "$vbd") features: $after"
	case $(vbd_backend "$vbd") in */backend/qdisk/*) ;;
	*) fail "restored disk not on qdisk: $(vbd_backend "$vbd")" ;; esac
	[ "$before" != "$after" ] || fail "backend features did not change on qdisk"
	case $after in *feature-persistent=-*) ;; *) fail "qdisk still advertises feature-persistent" ;; esac
}

# 1. guardiand notices xl save + xl restore and says so in data/guardian/,
#    which dom0 reads back with guardian-host status. (Also part of
#    clean-restore, which runs by default: a domU boot costs minutes.)
scenario_restore_detected() {
	need_guardian
	domu_start phy
	[ -z "$(gread last-restore)" ] || fail "last-restore set before any restore: $(gread last-restore)"
	domu_save_restore phy
	check_restore_detected
}

check_restore_detected() {
	[ "$NEW_DOMID" != "$OLD_DOMID" ] || fail "domid did not change across restore"
	# A restore drops data/: guardiand must notice and publish again.
	wait_for 300 eval '[ -n "$(gread last-restore)" ]' ||
		fail "no last-restore in data/guardian within 300 s of restore"
	local lr status json
	lr=$(gread last-restore)
	note "last-restore: $lr"
	[[ $lr =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z?\ [a-z] ]] ||
		fail "last-restore not '<ISO time> <signals>': '$lr'"
	wait_for 120 guardian_watching || fail "state not back to watching after restore: '$(gread state)'"
	status=$(guardian-host status "$NEW_DOMID" 2>&1) || fail "guardian-host status failed: $status"
	echo "$status"
	grep -qF -- "${lr%% *}" <<<"$status" || fail "guardian-host status does not show last-restore '$lr'"
	json=$(guardian-host status "$NEW_DOMID" --json 2>&1) || fail "guardian-host status --json failed: $json"
	echo "$json"
	grep -qF -- "${lr%% *}" <<<"$json" || fail "guardian-host status --json does not show last-restore"
}

# 2. Restored onto the qdisk backend: guardiand names exactly the backend
#    feature keys that changed, checked against what dom0 sees itself.
#    (Also part of unsafe-feature-change, which runs by default.)
scenario_feature_change() {
	need_guardian
	DOMU_EXTRA=$NO_INDIRECT_SEGMENTS domu_start phy
	feature_change_before
	domu_save_restore qdisk
	check_feature_changes
}

# Before the qdisk restore: dom0's view of the backend (VBD, BEFORE) and
# guardian's phy features.
feature_change_before() {
	VBD=$(vbd_ids | head -1)
	BEFORE=$(backend_features "$VBD")
	local vbd=$VBD
	wait_for 120 eval '[ -n "$(gread "vbd/$vbd/features")" ]' || fail "no data/guardian/vbd/$vbd/features"
	note "guardian features before: $(gread "vbd/$vbd/features")"
	case " $(gread "vbd/$vbd/features") " in *" feature-persistent=1 "*) ;;
	*) fail "guardian's phy features lack feature-persistent=1: $(gread "vbd/$vbd/features")" ;; esac
}

# After it: guardian names exactly the backend keys dom0 sees changing.
check_feature_changes() {
	local vbd=$VBD before=$BEFORE after expected reported k ob nb
	after=$(backend_features "$vbd")
	note "dom0 sees: before [$before] after [$after]"
	# What dom0 itself sees changing, as guardian's "vbd/<id>/<key> old->new".
	expected=$(for k in $BACKEND_KEYS; do
		ob=$(tr ' ' '\n' <<<"$before" | sed -n "s/^$k=//p")
		nb=$(tr ' ' '\n' <<<"$after" | sed -n "s/^$k=//p")
		[ "$ob" = "$nb" ] || echo "vbd/$vbd/$k $ob->$nb"
	done | sort)
	[ -n "$expected" ] || fail "rig problem: qdisk restore changed no backend key"
	wait_for 300 eval '[ -n "$(gread last-restore-changes)" ]' ||
		fail "no last-restore-changes within 300 s of the qdisk restore"
	# guardian also lists frontend keys (ring-ref, event-channel, ...), the
	# backend path and states; compare the backend feature keys only.
	reported=$(gread last-restore-changes | sed 's/; /\n/g' | while read -r key change; do
		for k in $BACKEND_KEYS; do [ "$key" = "vbd/$vbd/$k" ] && echo "$key $change"; done
	done | sort)
	note "expected changes:"; echo "$expected"
	note "guardian reported: $(gread last-restore-changes)"
	[ "$reported" = "$expected" ] || fail "reported changes differ from dom0's view; reported [$(echo $reported)] expected [$(echo $expected)]"
	case $(gread "vbd/$vbd/backend") in *backend/qdisk/*) ;;
	*) fail "vbd/$vbd/backend not the qdisk path: $(gread "vbd/$vbd/backend")" ;; esac
	case " $(gread "vbd/$vbd/features") " in *" feature-persistent=- "*) ;;
	*) fail "features after restore do not show feature-persistent=-: $(gread "vbd/$vbd/features")" ;; esac
}

# 3. preflight: the domU runs Debian 12's 6.1 kernel (has the blkfront fix),
#    so it is safe; an `unsafe` written over the guest's verdict, and a domain
#    without guardian, must both be refused. (Also part of clean-restore.)
scenario_preflight() {
	need_guardian
	domu_start phy
	check_preflight
}

check_preflight() {
	local d out rc
	d=$(domid)
	wait_for 120 eval '[ -n "$(gread suspend-safety)" ]' || fail "no suspend-safety published"
	note "guest says suspend-safety=$(gread suspend-safety) ($(gread suspend-safety-reason)) kernel=$(gread kernel)"
	[ "$(gread suspend-safety)" = safe ] || fail "guest on $(gread kernel) reports '$(gread suspend-safety)', expected safe"
	out=$(guardian-host preflight "$d" 2>&1) || fail "preflight refused a safe guest: $out"
	echo "$out"
	xenstore-write "$(dpath)/data/guardian/suspend-safety" unsafe
	rc=0
	out=$(guardian-host preflight "$d" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$(gread suspend-safety)" = unsafe ] || note "note: guardiand rewrote the verdict meanwhile"
	[ "$rc" != 0 ] || fail "preflight accepted a guest reporting unsafe"
	rc=0
	out=$(guardian-host preflight 0 2>&1) || rc=$?
	echo "dom0 (no guardian): $out (exit $rc)"
	[ "$rc" != 0 ] || fail "preflight accepted domain 0, which runs no guardian"
}

# The issue-4 scenarios: guardiand installed by dpkg, running under the
# domU's systemd, against real xl save / xl restore.

# restore_ends_in_incident BACKEND: after domu_save, xl restore onto
# BACKEND; guardian must judge critical, report the incident and reboot the
# guest (kept by on_reboot=preserve). Sets VERDICT and INCIDENT.
restore_ends_in_incident() {
	NO_WAIT_ALIVE=1 domu_restore "$1"
	domu_wait_reboot 300 ||
		fail "no reboot within 300 s (state '$(gread state)', verdict '$(gread last-verification)')$(scenario_console | grep -a -m1 'kernel BUG at' | sed 's/^/; the guest kernel: /')"
	verdict_figures "guest's reboot seen in dom0"
	VERDICT=$(gread last-verification)
	INCIDENT=$(gread incident)
	note "verdict: $VERDICT"
	note "incident: $INCIDENT"
	[ "${VERDICT##* }" = critical ] || fail "verdict '$VERDICT', expected critical"
	[ "$(gread state)" = incident ] || fail "state '$(gread state)', expected incident"
}

# boot_after_incident: the guest's next boot on the same disk: the forced
# fsck ran (systemd-fsck-root) and guardian-boot's report reached dom0.
# When the incident says a step timed out, the guest's disk stopped
# answering during the emergency (seen on this rig: the stock 6.1
# xen-blkfront hit BUG() in blkif_queue_rq reconnecting to a backend without
# indirect segments; the stale build's disk is disabled by the XSA-396
# checks): nothing can be written to it, so no fsck mark either, and guardian
# rebooted without sync after telling the provider. dom0, the provider here,
# then does what the incident asks of it: a full fsck of the disk before the
# next boot.
# Which case it is comes from the rig's own evidence (the guest kernel's
# console says its disk died), never from guardian's text alone: an incident
# claiming a timeout on a disk that kept working fails, so the product's
# output cannot switch off the forced-fsck check. Every boot after an
# incident runs without the writer load (rig.nowriter): files fsck removed
# must stay missing for stale_disk_check, not be written again.
boot_after_incident() {
	local report dead
	dead=$(scenario_console | grep -a -m1 -E "kernel BUG at|disabled for further use" || true)
	check_write_nothing_claim
	if wrote_nothing; then
		note "RIG-FIGURE guardian wrote nothing through the block path: $(grep -oE 'nothing written to [^;]*' <<<"$INCIDENT" | head -1)"
		if scenario_console | grep -aqE "shut down requested|Aborting journal"; then
			fail "the incident says nothing was written, but ext4 was shut down (its journal abort writes): $(scenario_console | grep -aE -m1 'shut down requested|Aborting journal')"
		fi
		provider_fsck_then_boot
		return 0
	fi
	if [ -z "$dead" ] && grep -q "timed out (device not answering)" <<<"$INCIDENT"; then
		fail "guardian says a step timed out ($(timed_out_of "$INCIDENT")), but the guest's console shows its disk working (no 'kernel BUG at', no 'disabled for further use')"
	fi
	if [ -n "$dead" ] && grep -q "timed out (device not answering)" <<<"$INCIDENT"; then
		note "RIG-FIGURE the guest's disk stopped answering during the emergency: $(timed_out_of "$INCIDENT")"
		scenario_console | grep -aE "kernel BUG at|disabled for further use|backed has not unmapped grant" |
			head -3 | sed 's/^/domU console: /'
		provider_fsck_then_boot
		return 0
	fi
	DOMU_EXTRA="${DOMU_EXTRA:-} rig.nowriter" KEEP_DISK=1 domu_start phy
	wait_for 300 eval '[ -n "$(gread boot-report)" ]' || fail "no boot-report after the reboot"
	report=$(gread boot-report)
	note "boot report: $report"
	# Either systemd-fsck's own lines ("check forced"), or, when it repaired
	# root and rebooted before its journal reached the disk, the superblock's
	# last-check time between the two boots ("fully checked at ...").
	grep -qE "check forced|fully checked at" <<<"$report" ||
		fail "boot report shows no forced fsck: $report"
	# The record of the incident is journald's crit entry of that boot: it
	# is there only if journald synced it before the filesystem was shut down.
	grep -q "incident at the previous boot" <<<"$report" ||
		note "the boot report carries no incident record (journald did not sync it before the shutdown)"
}

# wrote_nothing: guardian's INCIDENT says it wrote nothing through the block
# path: it writes wrong data (docs/design.md, "Writing nothing"), so guardian
# skipped its write stop and fsck mark, rebooted at once and asks the
# provider for the full check.
wrote_nothing() { grep -q "nothing written to" <<<"$INCIDENT"; }

# check_write_nothing_claim: INCIDENT may say "nothing written" only where
# the rig knows the block path is broken (RIG_WRITE_NOTHING, set by
# stale_setup), and there it must: the rule comes from the rig's own
# evidence, never from guardian's text.
check_write_nothing_claim() {
	if wrote_nothing && [ "${RIG_WRITE_NOTHING:-0}" != 1 ]; then
		fail "guardian wrote nothing (block path unsafe) after a restore whose block path the rig keeps sound: $INCIDENT"
	fi
	if ! wrote_nothing && [ "${RIG_WRITE_NOTHING:-0}" = 1 ]; then
		fail "a non-re-reading frontend restored onto blkback, and guardian wrote through its block path (incident: $INCIDENT)"
	fi
	# reboot(2) alone leaves the guest's writers running while the kernel's
	# device shutdown waits for the backends: they must be stopped first.
	if wrote_nothing && ! grep -q "every other process stopped at the restore" <<<"$INCIDENT"; then
		fail "guardian wrote nothing but left the guest's processes running into the reboot (incident: $INCIDENT)"
	fi
}

# provider_fsck_then_boot: what the incident asks of the provider when the
# guest could not mark its disk: a full e2fsck -fy from dom0 before the next
# boot (exit below 4: repaired or clean), then that boot and its report.
provider_fsck_then_boot() {
	local rc=0
	domu_stop
	e2fsck -fy "$DOMU_DISK" >/tmp/provider-fsck.log 2>&1 || rc=$?
	note "RIG-FIGURE the provider's e2fsck -fy before the next boot: exit $rc ($(tail -2 /tmp/provider-fsck.log | tr '\n' ' '))"
	[ "$rc" -lt 4 ] || fail "e2fsck could not repair the disk (exit $rc)"
	DOMU_EXTRA="${DOMU_EXTRA:-} rig.nowriter" KEEP_DISK=1 domu_start phy
	wait_for 300 eval '[ -n "$(gread boot-report)" ]' || fail "no boot-report after the reboot"
	note "boot report: $(gread boot-report)"
}

# timed_out_of INCIDENT: the "timed out" part of an incident line.
timed_out_of() { grep -oE "timed out \(device not answering\): [^;]*" <<<"$1" | head -1; }

# rig_stat KEY: one field of the domU heartbeat's data/rig-guardiand.
rig_stat() { xs_read "$(dpath)/data/rig-guardiand" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# 4. A clean xl save / xl restore ends healthy with no action: no incident,
#    no reboot, the root filesystem still takes writes; preflight before it
#    and restore-detected's checks after it. Also the figures: verdict
#    timing, idle wakeups per minute, peak RSS.
scenario_clean_restore() {
	need_guardian
	domu_start phy
	[ -z "$(gread last-restore)" ] || fail "last-restore set before any restore: $(gread last-restore)"
	check_preflight # before the save: the provider's first step
	domu_save_restore phy
	check_restore_detected
	wait_for 300 eval '[ -n "$(gread last-verification)" ]' ||
		fail "no verdict in data/guardian within 300 s of the restore"
	verdict_figures
	local v t1 t2 u1 c1 u2 c2 out
	v=$(gread last-verification)
	note "verdict: $v ($(gread last-verdict-reason))"
	[ "${v##* }" = healthy ] || fail "clean restore judged '${v##* }': $(gread last-verdict-reason)"
	[ -z "$(gread incident)" ] || fail "incident after a clean restore: $(gread incident)"
	wait_for 60 guardian_watching || fail "state '$(gread state)' after a clean restore, expected watching"
	out=$(guardian-host verify "$NEW_DOMID" 2>&1) || fail "guardian-host verify refused a healthy guest: $out"
	note "guardian-host verify: $out"
	# Still running and writing: data/rig-wrote moves only after the
	# heartbeat's file write on the root filesystem succeeded (data/rig-tick
	# moves even when that write fails).
	t1=$(xs_read "$(dpath)/data/rig-wrote")
	wait_for 30 eval '[ "$(xs_read "$(dpath)/data/rig-wrote")" != "$t1" ]' ||
		fail "the root filesystem took no write after the restore (data/rig-wrote stuck at '$t1'; heartbeat '$(xs_read "$(dpath)/data/rig-tick")')"
	if xl_log | grep -q "shut down, reason code"; then
		fail "the guest shut down: $(xl_log | grep 'shut down' | tail -1)"
	fi
	# Idle: guardiand's context switches over a quiet minute.
	wait_for 30 eval '[ -n "$(rig_stat ctxt)" ]' || fail "no data/rig-guardiand from the heartbeat"
	u1=$(rig_stat uptime) c1=$(rig_stat ctxt)
	sleep 60
	u2=$(rig_stat uptime) c2=$(rig_stat ctxt)
	# One restore, one verification: the watches firing again later
	# (xs_resume) must not count as a second restore.
	[ "$(gread last-verification)" = "$v" ] ||
		fail "verified again without a restore: '$v' then '$(gread last-verification)'"
	note "RIG-FIGURE guardiand idle wakeups: $(awk "BEGIN{printf \"%.1f\", ($c2 - $c1) * 60 / ($u2 - $u1)}") per minute ($((c2 - c1)) context switches in $(awk "BEGIN{print $u2 - $u1}") s)"
	note "RIG-FIGURE guardiand peak RSS: $(rig_stat hwm_kb) kB"
}

# 5. Metadata changed on disk from dom0 while the guest is saved: a byte
#    of a directory block the guest never rewrites (a changed name, still
#    well-formed, so only its checksum tells). Ends critical: the guest
#    reboots; at the next boot fsck runs and the boot report reaches dom0.
scenario_disk_changed_while_saved() {
	need_guardian
	export DOMU_ON_REBOOT=restart # xl's default: the ledger keeps the incident
	domu_start phy
	local blk bs off ino was
	read -r blk bs <<<"$(domu_fs_block /usr/share/rig-static)"
	ino=$(pristine_debugfs -R "stat /usr/share/rig-static" | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
	domu_save
	domu_disk_dirty
	# Byte 32 of the block: the third entry's name ("f00" -> "Z00").
	off=$((blk * bs + 32))
	was=$(dd if="$DOMU_DISK" bs=1 skip="$off" count=1 2>/dev/null)
	[ "$was" = f ] || fail "rig problem: byte '$was' at the rig-static entry (block $blk)"
	printf Z | dd of="$DOMU_DISK" bs=1 seek="$off" conv=notrunc,fsync 2>/dev/null
	note "damaged directory block $blk of inode $ino while saved"
	sleep "${SAVED_PAUSE:-2}"
	restore_ends_in_incident_restarted phy
	grep -q "directory_block" <<<"$INCIDENT" && grep -q "inode $ino" <<<"$INCIDENT" &&
		grep -q "block $blk" <<<"$INCIDENT" ||
		fail "incident does not name directory_block $blk of inode $ino: $INCIDENT"
	boot_after_incident_restarted
}

# 6. Restored onto the qdisk backend with a risk table that marks the
#    domU's kernel unsafe: the feature change alone is critical (no disk is
#    read through the suspect protocol); reboot, fsck, boot report.
scenario_unsafe_feature_change() {
	need_guardian
	# The shipped table with the fix moved past any kernel.
	sed 's/"fixed": "4.2"/"fixed": "99.0"/' /rig/kernel-risk.json >/tmp/rig-risk.json
	grep -q '"fixed": "99.0"' /tmp/rig-risk.json || fail "rig problem: could not rewrite the risk table"
	printf '# rig: a risk table that calls every kernel unsafe\nrisk_table = /etc/guardian/rig-risk.json\n' >/tmp/50-rig.conf
	domu_fresh_disk
	domu_disk_dirty
	printf 'write /tmp/rig-risk.json /etc/guardian/rig-risk.json\nwrite /tmp/50-rig.conf /etc/guardian/conf.d/50-rig.conf\n' |
		domu_debugfs -w -f - >/dev/null
	domu_debugfs -R "stat /etc/guardian/conf.d/50-rig.conf" | grep -q "Size: " || fail "rig problem: conf.d file not written"
	DOMU_EXTRA=$NO_INDIRECT_SEGMENTS KEEP_DISK=1 domu_start phy
	wait_for 60 eval '[ -n "$(gread suspend-safety)" ]' || fail "no suspend-safety published"
	[ "$(gread suspend-safety)" = unsafe ] ||
		fail "guest says '$(gread suspend-safety)' with the rig's risk table: $(gread suspend-safety-reason)"
	feature_change_before
	domu_save
	sleep "${SAVED_PAUSE:-2}"
	restore_ends_in_incident qdisk
	check_feature_changes
	grep -q "feature-persistent" <<<"$INCIDENT" || fail "incident does not name feature-persistent: $INCIDENT"
	grep -q "no disk read" <<<"$(gread last-verification-timing)" ||
		fail "read the disk through the suspect protocol: $(gread last-verification-timing)"
	local incident_domid=$NEW_DOMID
	boot_after_incident
	ledger_kept_incident "$incident_domid"
}

# 7. Coordinated: guardian-host freeze / xl save / xl restore /
#    guardian-host verify ends healthy and thawed; the same with a
#    checksum-valid edit made from dom0 with debugfs while saved is caught
#    by the byte-exact comparison and ends critical.
scenario_coordinated_freeze() {
	need_guardian
	local out v rc ino
	domu_start phy
	out=$(guardian-host freeze "$(domid)" --timeout 600 2>&1) || fail "guardian-host freeze: $out"
	note "freeze: $out"
	[ "$(gread state)" = frozen ] || fail "state '$(gread state)' after freeze, expected frozen"
	# The rig's pre-freeze hook quiets the heartbeat's file writes: a writer
	# blocked on the frozen filesystem would keep the guest from suspending.
	domu_save_restore phy
	out=$(guardian-host verify "$NEW_DOMID" 2>&1) || fail "guardian-host verify: $out"
	note "verify: $out"
	verdict_figures
	case $(gread freeze) in "thawed "*" healthy") ;; *) fail "freeze node '$(gread freeze)', expected thawed ... healthy" ;; esac
	wait_for 60 guardian_watching || fail "state '$(gread state)' after the coordinated restore"
	# Thawed: the heartbeat writes the root filesystem again (post-thaw hook).
	local wrote
	wrote=$(xs_read "$(dpath)/data/rig-wrote")
	wait_for 60 eval '[ "$(xs_read "$(dpath)/data/rig-wrote")" != "$wrote" ]' ||
		fail "the root filesystem took no write after the thaw (data/rig-wrote stuck at '$wrote')"

	note "part 2: a checksum-valid edit while saved"
	domu_start phy
	ino=$(pristine_debugfs -R "stat /usr/share/rig-static/f10" | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
	out=$(guardian-host freeze "$(domid)" --timeout 600 2>&1) || fail "guardian-host freeze: $out"
	domu_save
	domu_disk_dirty
	domu_debugfs -w -R "set_inode_field /usr/share/rig-static/f10 mtime 20200101000000" >/dev/null
	domu_debugfs -R "stat /usr/share/rig-static/f10" | grep -q "mtime:.*2020" ||
		fail "rig problem: debugfs did not change the inode"
	note "changed inode $ino's mtime with debugfs -w (checksum recomputed) while saved"
	NO_WAIT_ALIVE=1 domu_restore phy
	rc=0
	out=$(guardian-host verify "$NEW_DOMID" 2>&1) || rc=$?
	note "verify: $out (exit $rc)"
	[ "$rc" != 0 ] || fail "guardian-host verify accepted a changed disk"
	v=$(gread last-verification)
	note "verdict: $v; incident: $(gread incident)"
	[ "${v##* }" = critical ] || fail "verdict '$v', expected critical"
	grep -q "inode" <<<"$(gread incident)" || fail "incident does not name the inode table: $(gread incident)"
	domu_wait_reboot 300 || fail "no reboot within 300 s of the critical verdict"
}

# The issue-11 scenarios: the 2021 incident for real. The guest boots on
# qdisk (no persistent grants) and is restored onto blkback (phy: persistent
# grants), with the rig's writer load running across xl save / xl restore.
# MODULE (stale-features or grant-reuse, else stock): the initrd's
# xen-blkfront is that rig build (kmod/: Debian's 6.1 source with the 4.2
# fix reverted; grant-reuse also with the pre-5.17 completion path) and a
# conf.d risk table names that build (by /sys/module/xen_blkfront/version)
# as affected.

# stale_setup POLICY MODULE: a fresh disk with the writer enabled, the
# policy and (a rig build) the risk table naming it; boots it on
# $STALE_FROM.
stale_setup() {
	local policy=$1 module=$2 stale=1
	[ "$module" = stock ] && stale=0
	need_guardian
	{
		echo "# rig: issue-11 scenario"
		echo "policy = $policy"
		[ "$stale" = 1 ] && echo "risk_table = /etc/guardian/rig-risk.json"
	} >/tmp/50-rig.conf
	sed 's|^\( *\)"backports": \[|\1"modules": [{"module": "xen_blkfront", "version": "guardian-rig-'"$module"'", "status": "affected", "evidence": "the rig'"'"'s '"$module"' rebuild of Debian'"'"'s 6.1 xen-blkfront (tests/e2e/xen/kmod)"}],\n\1"backports": [|' \
		/rig/kernel-risk.json >/tmp/rig-risk.json
	grep -q "guardian-rig-$module" /tmp/rig-risk.json || fail "rig problem: could not add the module evidence"
	echo on >/tmp/rig-writer
	domu_fresh_disk
	domu_disk_dirty
	printf 'write /tmp/rig-risk.json /etc/guardian/rig-risk.json\nwrite /tmp/50-rig.conf /etc/guardian/conf.d/50-rig.conf\nwrite /tmp/rig-writer /etc/rig-writer\n' |
		domu_debugfs -w -f - >/dev/null
	# Restored onto qdisk, either module (the stale build re-reads
	# feature-max-indirect-segments on resume, as pre-4.2 kernels did) can
	# hit blkfront's own BUG() with requests merged for blkback's indirect
	# segments; the guest then hangs with a ring lock held, before guardian
	# can act (see NO_INDIRECT_SEGMENTS in rig-lib.sh). What these
	# scenarios test is the feature-persistent view, so they go without.
	# The grant-reuse scenarios go without too: requests of at most 11
	# segments, so no indirect page is kept mapped (the frontend would run
	# out of them: BUG_ON in get_indirect_grant), and the damage comes from
	# the data grants alone, the same in every run.
	local extra=""
	[ "$STALE_TO" = qdisk ] || [ "$module" = grant-reuse ] && extra=$NO_INDIRECT_SEGMENTS
	# grant-reuse: every file of the root filesystem nothing writes, hashed
	# before the guest ever runs (grant_disk_check compares).
	if [ "$module" = grant-reuse ]; then
		root_hashes >/tmp/root-hashes || fail "rig problem: cannot hash the root filesystem"
		note "hashed $(wc -l </tmp/root-hashes) files of the root filesystem outside /var and /tmp"
	fi
	if [ "$stale" = 1 ]; then
		note "$module module: $(modinfo -F version "/rig/xen-blkfront-$module.ko" 2>/dev/null) srcversion $(modinfo -F srcversion "/rig/xen-blkfront-$module.ko" 2>/dev/null)"
		DOMU_INITRD=/rig/initrd-$module.img DOMU_EXTRA=$extra KEEP_DISK=1 domu_start "$STALE_FROM"
	else
		DOMU_EXTRA=$extra KEEP_DISK=1 domu_start "$STALE_FROM"
	fi
	# The rig's own knowledge, never guardian's text: a non-re-reading build
	# restored from qdisk onto blkback runs without the persistent grants
	# blkback now maps, and its writes can carry other pages (grant-reuse)
	# or meet its XSA-396 check (stale-features): guardian must write
	# nothing through it (boot_after_incident checks both ways).
	RIG_WRITE_NOTHING=0
	[ "$stale" = 1 ] && [ "$STALE_FROM" = qdisk ] && [ "$STALE_TO" = phy ] && RIG_WRITE_NOTHING=1
	wait_for 60 eval '[ -n "$(gread suspend-safety)" ]' || fail "no suspend-safety published"
	note "suspend-safety: $(gread suspend-safety) ($(gread suspend-safety-reason))"
	if [ "$stale" = 1 ]; then
		[ "$(gread suspend-safety)" = unsafe ] && grep -q "guardian-rig-$module" <<<"$(gread suspend-safety-reason)" ||
			fail "the $module build is not judged unsafe by its module evidence: $(gread suspend-safety) ($(gread suspend-safety-reason))"
	fi
	wait_for 300 eval '[ "$(xs_read "$(dpath)/data/rig-writer")" -ge 5 ] 2>/dev/null' ||
		fail "the writer load did not start (data/rig-writer '$(xs_read "$(dpath)/data/rig-writer")')"
	VBD=$(vbd_ids | head -1)
	note "$STALE_FROM features: $(backend_features "$VBD")"
}

# stale_save_restore: xl save with the writer running, restore onto the
# other backend ($STALE_TO).
# WRITTEN: the last file whose write completed before the save.
stale_save_restore() {
	WRITTEN=$(xs_read "$(dpath)/data/rig-writer")
	domu_save
	DISK_SAVED=$(disk_writes)
	note "files completed before the save: 1..$WRITTEN"
	NO_WAIT_ALIVE=1 domu_restore "$STALE_TO"
	note "$STALE_TO features: $(backend_features "$VBD")"
}

# blkback's request counters for the restored vbd (dom0 sysfs).
blkback_stats() {
	local d
	d=$(ls -d /sys/bus/xen-backend/devices/vbd-"$(domid)"-* 2>/dev/null | head -1)
	[ -n "$d" ] || { echo "no blkback device"; return; }
	echo "rd_req=$(cat "$d/statistics/rd_req") wr_req=$(cat "$d/statistics/wr_req") f_req=$(cat "$d/statistics/f_req")"
}

# stale_watch SECS: polls until a verdict is there, records blkback's
# counters at that moment and the guest's blkfront alerts.
stale_watch() {
	wait_for "$1" eval '[ -n "$(gread last-verification)" ]' || note "no verdict within $1 s of the restore"
	note "RIG-FIGURE xl restore returned -> verdict readable in dom0: $(since "$RESTORED_AT") s"
	note "RIG-FIGURE blkback requests when the verdict was read: $(blkback_stats)"
	note "RIG-FIGURE guardian timing: $(gread last-verification-timing)"
	note "verdict: $(gread last-verification)"
	note "incident: $(gread incident)"
	note "last-restore-changes: $(gread last-restore-changes)"
	dmesg | grep -E "xen-blkback|blkback" | tail -5 | sed 's/^/dom0 dmesg: /'
}

stale_console_findings() {
	scenario_console | grep -aE "backed has not unmapped grant|disabled for further use|I/O error|EXT4-fs (error|warning)|guardian|critical verdict|kernel BUG at" |
		tail -20 | sed 's/^/domU console: /'
}

# stale_disk_check: after the guest is stopped: e2fsck -fn as left, then a
# journal replay (what the next mount would do) and e2fsck -fn again, and
# the content of every file completed before the save.
stale_disk_check() {
	local rc out n bad=0 missing=0 f
	rc=0; out=$(e2fsck -fn "$DOMU_DISK" 2>&1) || rc=$?
	note "e2fsck -fn as left (exit $rc): $(tail -3 <<<"$out" | tr '\n' ' ')"
	e2fsck -E journal_only -y "$DOMU_DISK" >/dev/null 2>&1 || true
	rc=0; out=$(e2fsck -fn "$DOMU_DISK" 2>&1) || rc=$?
	note "e2fsck -fn after journal replay (exit $rc): $(tail -3 <<<"$out" | tr '\n' ' ')"
	FSCK_RC=$rc
	rm -rf /tmp/wcheck && mkdir -p /tmp/wcheck
	domu_debugfs -R "rdump /var/lib/rig-writer /tmp/wcheck" >/dev/null
	for n in $(seq 1 "$WRITTEN"); do
		f=$(printf '/tmp/wcheck/rig-writer/f%06d' "$n")
		if [ ! -f "$f" ]; then missing=$((missing + 1)); continue; fi
		yes "rig-writer file $n" | head -c 65536 | cmp -s - "$f" || bad=$((bad + 1))
	done
	CONTENT_BAD=$((bad + missing))
	note "RIG-FIGURE content check: files 1..$WRITTEN: $missing missing, $bad damaged; $(find /tmp/wcheck/rig-writer -name 'f*' | wc -l) files on disk"
}

# 8. Observe: the stale frontend across qdisk -> phy, writes going on; what
#    the kernel, guardian, e2fsck and the content check see.
run_stale_frontend_observe() {
	stale_setup observe stale-features
	stale_save_restore
	stale_watch 300
	# Give the writer and the kernel a minute on the stale path.
	sleep 60
	note "writer after a minute: data/rig-writer='$(xs_read "$(dpath)/data/rig-writer")' (was $WRITTEN at the save); blkback $(blkback_stats)"
	stale_console_findings
	note "RIG-FIGURE stale-path alerts in the guest: $(scenario_console | grep -ac 'backed has not unmapped grant')"
	[ "$(gread last-verification | awk '{print $NF}')" = critical ] ||
		fail "verdict '$(gread last-verification)', expected critical (observe reports only)"
	# Observe reports only: no reboot, no shutdown of the guest.
	if domu_rebooted || xl_log | grep -q "shut down, reason code"; then
		fail "policy observe acted: $(xl_log | grep 'shut down' | tail -1)"
	fi
	xl list "$(domid)" >/dev/null 2>&1 || fail "policy observe: the guest is gone"
	observe_took_no_action
	stale_fault_happened
	domu_stop
	stale_disk_check
	# What the 6.1 frontend does with stale features in this direction: its
	# XSA-396 check disables the disk at the first still-mapped grant
	# (qdisk -> phy), or it only bounces (phy -> qdisk): no damage either
	# way. A change there shows here (grant-reuse-observe is the damage).
	[ "$FSCK_RC" = 0 ] || fail "e2fsck -fn finds damage after the stale-features restore (exit $FSCK_RC)"
	[ "$CONTENT_BAD" = 0 ] || fail "$CONTENT_BAD of the files completed before the save are damaged or missing"
}

# stale_fault_happened [DISK_AT_REBOOT]: restored onto blkback, the stale
# frontend must have met a grant blkback still maps (its XSA-396 line): the
# critical verdict alone comes from the risk-table entry the rig itself
# installs. Under protect (DISK_AT_REBOOT given) one more outcome counts:
# no write at all reached the disk between the save and the reboot, because
# guardian stopped the writers before their first write after the resume,
# and the fault had no write to act on.
stale_fault_happened() {
	[ "$STALE_TO" = phy ] || return 0
	scenario_console | grep -aq "backed has not unmapped grant" && return 0
	if [ -n "${1:-}" ] && [ "$1" -eq "$DISK_SAVED" ]; then
		note "RIG-FIGURE no write reached the disk between the save and the reboot: guardian stopped the writers before the fault had a write to act on"
		return 0
	fi
	fail "the fault did not happen: no 'backed has not unmapped grant' in the guest's log${1:+, yet $(($1 - DISK_SAVED)) writes reached the disk}"
}

# observe_took_no_action: the guest's console has no line of guardian's
# emergency (its kmsg line, ext4's shutdown).
observe_took_no_action() {
	if scenario_console | grep -aqE "critical verdict, protecting|shut down requested"; then
		fail "policy observe acted: $(scenario_console | grep -aE -m1 'critical verdict, protecting|shut down requested')"
	fi
}

# 9. Protect: the same; the feature verdict is critical, writes stop, the
#    guest reboots, fsck is forced, the boot report arrives, and every file
#    completed before the save is intact.
run_stale_frontend_protect() {
	stale_setup protect stale-features
	stale_save_restore
	stale_watch 300
	domu_wait_reboot 300 || { stale_console_findings; fail "no reboot within 300 s of the restore (state '$(gread state)')"; }
	local disk_reboot
	disk_reboot=$(disk_writes)
	note "RIG-FIGURE xl restore returned -> guest's reboot seen in dom0: $(since "$RESTORED_AT") s; the disk's loop device completed $((disk_reboot - DISK_SAVED)) writes from the save to the reboot"
	# The incident as the guest left it: rewritten before the reboot when
	# a step timed out (the stale build's disk disabled by its XSA-396
	# checks), which tells boot_after_incident what the provider must do.
	INCIDENT=$(gread incident)
	note "incident at the reboot: $INCIDENT"
	stale_console_findings
	[ "$(gread last-verification | awk '{print $NF}')" = critical ] || fail "verdict '$(gread last-verification)', expected critical"
	grep -q "no disk read" <<<"$(gread last-verification-timing)" || fail "read the disk first: $(gread last-verification-timing)"
	# Writes stopped: ext4's shutdown (guardian's write stop), the disk
	# itself dead before it (the 6.1 frontend's XSA-396 check, its BUG), or,
	# with nothing written through a broken block path, the reboot(2) at
	# once that guardian's incident names (boot_after_incident checks the
	# rig's own evidence for it).
	scenario_console | grep -aqE "shut down requested|disabled for further use|kernel BUG at" ||
		wrote_nothing ||
		fail "writes were not stopped: neither ext4's shutdown, nor a dead disk in the guest's log, nor guardian's reboot(2) at once"
	stale_fault_happened "$disk_reboot"
	boot_after_incident
	domu_stop
	stale_disk_check
	[ "$FSCK_RC" = 0 ] || fail "e2fsck -fn finds damage after the forced fsck and a clean boot (exit $FSCK_RC)"
	[ "$CONTENT_BAD" = 0 ] || fail "$CONTENT_BAD of the files completed before the save are damaged or missing"
}

# 10. The stock module across the same restore: it re-reads the features;
#     guardian records the change (not critical), nothing is damaged.
run_fixed_frontend() {
	stale_setup protect stock
	[ "$(gread suspend-safety)" = safe ] || fail "stock 6.1 judged '$(gread suspend-safety)'"
	stale_save_restore
	stale_watch 300
	local v
	v=$(gread last-verification | awk '{print $NF}')
	[ -n "$v" ] || fail "stock module: no verdict published after the restore"
	[ "$v" != critical ] || fail "stock module: verdict critical: $(gread last-verification)"
	grep -q "feature-persistent" <<<"$(gread last-restore-changes)" || fail "feature-persistent change not recorded: $(gread last-restore-changes)"
	local w=$WRITTEN
	wait_for 120 eval '[ "$(xs_read "$(dpath)/data/rig-writer")" -gt '"$w"' ] 2>/dev/null' ||
		fail "the writer made no progress after the restore"
	note "writer after the restore: $(xs_read "$(dpath)/data/rig-writer")"
	stale_console_findings
	if scenario_console | grep -aq "backed has not unmapped grant"; then fail "stock module logged a stale grant"; fi
	if scenario_console | grep -aq "kernel BUG at"; then fail "stock module hit a kernel BUG: $(scenario_console | grep -a -m1 'kernel BUG at')"; fi
	domu_stop
	stale_disk_check
	[ "$FSCK_RC" = 0 ] || fail "e2fsck found damage with the stock module"
	[ "$CONTENT_BAD" = 0 ] || fail "$CONTENT_BAD files damaged with the stock module"
}

# The directions. qdisk -> phy: blkback starts offering persistent grants
# (and indirect segments) the frontend never negotiated; phy -> qdisk: they
# disappear under requests built for them.
STALE_FROM=qdisk
STALE_TO=phy
scenario_stale_frontend_observe() { run_stale_frontend_observe; }
scenario_stale_frontend_protect() { run_stale_frontend_protect; }
scenario_fixed_frontend() { run_fixed_frontend; }
scenario_stale_frontend_observe_phy_qdisk() { STALE_FROM=phy STALE_TO=qdisk run_stale_frontend_observe; }
scenario_stale_frontend_protect_phy_qdisk() { STALE_FROM=phy STALE_TO=qdisk run_stale_frontend_protect; }
scenario_fixed_frontend_phy_qdisk() { STALE_FROM=phy STALE_TO=qdisk run_fixed_frontend; }

# The grant-reuse scenarios (issue 19): the 2021 damage itself. The guest
# boots on qdisk with the rig's grant-reusing xen-blkfront (kmod/: the
# stale-features build plus the pre-5.17 completion path) and the writer
# load, is saved and restored onto phy (blkback maps grants persistently;
# the frontend, believing it runs without persistent grants, keeps the
# still-mapped grants and reuses them for new pages: blkback writes the old
# pages' contents). Figures per run: files damaged, blkback's wr_req at the
# save, the verdict and the reboot, e2fsck -fn, restore-to-verdict time,
# the number of `backed has not unmapped grant` lines.

# blkback_count FIELD: a statistics counter of the current domain's vbd in
# dom0's sysfs, 0 when the guest has no blkback device (qdisk).
blkback_count() {
	local d
	d=$(ls -d /sys/bus/xen-backend/devices/vbd-"$(domid)"-* 2>/dev/null | head -1)
	if [ -n "$d" ]; then cat "$d/statistics/$1"; else echo 0; fi
}

# blkback's statistics are the sum over the vbd's rings, and the rings go
# when the frontend disconnects: a guest guardian reboots a second after the
# restore reads 0 by the time dom0 looks (seen). So a sampler records every
# change of wr_req with dom0's clock from the restore on. Under load dom0
# reads the verdict tens of seconds late (seen: 44.7 s), so "at the
# verdict" is taken by the guest's own clock: guardian's
# last-verification-timing (detected <UTC>, verdict +N ms); both clocks are
# Xen's wallclock. WR_VERDICT: the first sample after that moment (an upper
# bound: it may hold the emergency's own writes), WR_DOM0: when dom0 first
# read the verdict, WR_LAST: the last before the disconnect (the reboot).
# disk_writes is the never-reset cross-check: writes completed by the
# disk's loop device (every backend writes through it), field 5 of
# /sys/block/loopN/stat. The sampler records it beside wr_req, and both as
# they were when dom0 first read the verdict (DISK_DOM0): dom0's own clock,
# so a guest clock that lags cannot move writes before the verdict; late
# (dom0 reads it seconds after the guest decided), so what it bounds is
# "nothing from then to the reboot".
wr_sampler_start() {
	rm -f /tmp/wr-samples /tmp/wr-dom0
	local loop
	loop=$(disk_loop)
	(
		local w d prev="" line prev_line=""
		# At most ten minutes: a failing scenario leaves none running.
		for _ in $(seq 3000); do
			w=$(cat /sys/bus/xen-backend/devices/vbd-"$(domid)"-*/statistics/wr_req 2>/dev/null | head -1)
			[ -z "$w" ] || [ "$w" = 0 ] || prev=$w
			d=$(loop_writes "$loop")
			line="${prev:-0} $d"
			if [ "$line" != "$prev_line" ]; then
				echo "$(date +%s.%N) $line" >>/tmp/wr-samples
				prev_line=$line
			fi
			[ -e /tmp/wr-dom0 ] || [ -z "$(gread last-verification)" ] || echo "$line" >/tmp/wr-dom0
			sleep 0.2
		done
	) &
	WR_SAMPLER=$!
}
wr_sampler_stop() {
	local t
	kill "$WR_SAMPLER" 2>/dev/null
	wait "$WR_SAMPLER" 2>/dev/null
	touch /tmp/wr-samples
	WR_DOM0=$(awk '{print $1}' /tmp/wr-dom0 2>/dev/null)
	DISK_DOM0=$(awk '{print $2}' /tmp/wr-dom0 2>/dev/null)
	WR_DOM0=${WR_DOM0:-?}
	DISK_DOM0=${DISK_DOM0:-?}
	WR_LAST=$(awk 'END {print $2 + 0}' /tmp/wr-samples)
	WR_VERDICT="?"
	t=$(verdict_epoch) || return 0
	WR_VERDICT=$(awk -v t="$t" -v last="$WR_LAST" '$1 > t {print $2; found = 1; exit} END {if (!found) print last}' /tmp/wr-samples)
	WR_BEFORE=$(awk -v t="$t" '$1 <= t {w = $2} END {print w + 0}' /tmp/wr-samples)
}
# disk_loop: the loop device under DOMU_DISK; loop_writes DEV: its
# completed writes (0 without one).
disk_loop() { losetup -j "$DOMU_DISK" | cut -d: -f1 | head -1; }
loop_writes() {
	local n=""
	[ -z "$1" ] || n=$(awk '{print $5}' "/sys/block/${1#/dev/}/stat" 2>/dev/null)
	echo "${n:-0}"
}
disk_writes() { loop_writes "$(disk_loop)"; }

# verdict_epoch: the guest's verdict moment (seconds since the epoch).
verdict_epoch() {
	local timing det ms
	timing=$(gread last-verification-timing)
	det=$(sed -n 's/^detected \([^;]*\);.*/\1/p' <<<"$timing")
	ms=$(sed -n 's/.* verdict +\([0-9.]*\) ms.*/\1/p' <<<"$timing")
	[ -n "$det" ] && [ -n "$ms" ] || return 1
	awk -v d="$(date -d "$det" +%s.%N)" -v m="$ms" 'BEGIN {printf "%.3f\n", d + m / 1000}'
}

# grant_lines: the guest kernel's `backed has not unmapped grant` lines
# (rate-limited: each line one or more grants kept and reused).
grant_lines() { scenario_console | grep -ac 'backed has not unmapped grant'; }

# resubmitted: what the frontend's recovery sent again after the restore
# (the grant-reuse build logs it): requests + bios, each at most one write.
resubmitted() {
	scenario_console | sed -n 's/.*guardian-rig: recovery resubmitted \([0-9]*\) requests and \([0-9]*\) bios.*/\1 \2/p' |
		tail -1 | awk '{print $1 + $2}'
}

# grant_setup POLICY: the grant-reuse build on qdisk, writer running;
# restored onto phy.
grant_setup() {
	STALE_FROM=qdisk STALE_TO=phy
	stale_setup "$1" grant-reuse
}

# grant_save_restore: stale_save_restore with the wr_req sampler running
# from the moment xl restore returns.
grant_save_restore() {
	WRITTEN=$(xs_read "$(dpath)/data/rig-writer")
	domu_save
	# The guest is stopped: from here on every write is the restored one's.
	DISK_SAVED=$(disk_writes)
	note "files completed before the save: 1..$WRITTEN"
	NO_WAIT_ALIVE=1 domu_restore "$STALE_TO"
	wr_sampler_start
	note "$STALE_TO features: $(backend_features "$VBD")"
}

# grant_disk_check: after the guest is stopped: stale_disk_check (e2fsck
# as left and after a replay, files 1..WRITTEN), then the files the writer
# completed after the restore (WRITTEN+1..WRITTEN_AFTER: acknowledged by
# fsync, so wrong content there is silent damage too) and the hashes of
# every root file nothing writes. Sets DAMAGED_BEFORE, DAMAGED_AFTER,
# ROOT_CHANGED.
grant_disk_check() {
	local n f bad=0 out
	stale_disk_check
	DAMAGED_BEFORE=$CONTENT_BAD
	for n in $(seq $((WRITTEN + 1)) "${WRITTEN_AFTER:-$WRITTEN}"); do
		f=$(printf '/tmp/wcheck/rig-writer/f%06d' "$n")
		[ -f "$f" ] && yes "rig-writer file $n" | head -c 65536 | cmp -s - "$f" || bad=$((bad + 1))
	done
	DAMAGED_AFTER=$bad
	if root_hashes >/tmp/root-hashes.after; then
		# Changed or gone ('<'); files e2fsck put in lost+found are new
		# ('>' only) and shown, not counted.
		out=$(diff /tmp/root-hashes /tmp/root-hashes.after | grep -c '^<')
		ROOT_CHANGED=$out
		diff /tmp/root-hashes /tmp/root-hashes.after | grep '^[<>]' | head -10 | sed 's/^/root files: /'
	else
		ROOT_CHANGED="unmountable"
	fi
	note "RIG-FIGURE damage: files completed before the save: $DAMAGED_BEFORE of $WRITTEN damaged or missing; completed after the restore: $DAMAGED_AFTER of $((${WRITTEN_AFTER:-$WRITTEN} - WRITTEN)) damaged or missing; root files outside /var and /tmp changed: $ROOT_CHANGED of $(wc -l </tmp/root-hashes); e2fsck -fn after replay exit $FSCK_RC"
}

# 11. Observe: the grant-reusing frontend across qdisk -> phy with the
#     writer going on. The fault must have happened (grant lines), guardian
#     must say critical and take no action (no reboot, writes go on), and
#     the disk must show the damage.
scenario_grant_reuse_observe() {
	grant_setup observe
	grant_save_restore
	stale_watch 300
	local v
	v=$(gread last-verification)
	[ "${v##* }" = critical ] || fail "verdict '$v', expected critical (observe reports only)"
	# A minute of the writer's load through the reused grants. Whether it
	# completes files is the kernel's matter: seen here, a read landing in
	# an old page fails a directory block's checksum within seconds, ext4
	# aborts its journal and remounts read-only (errors=remount-ro), so no
	# writes go on; guardian's no-action is checked on its own lines below.
	sleep 60
	wr_sampler_stop
	WRITTEN_AFTER=$(xs_read "$(dpath)/data/rig-writer")
	[ -n "$WRITTEN_AFTER" ] || WRITTEN_AFTER=$WRITTEN
	note "RIG-FIGURE blkback wr_req at the save 0 (qdisk), at the verdict $WR_VERDICT (when dom0 read it $WR_DOM0), a minute later $WR_LAST"
	note "RIG-FIGURE blkback a minute later: $(blkback_stats); writer at $WRITTEN_AFTER (was $WRITTEN at the save)"
	if domu_rebooted || xl_log | grep -q "shut down, reason code"; then
		fail "policy observe acted: $(xl_log | grep 'shut down' | tail -1)"
	fi
	xl list "$(domid)" >/dev/null 2>&1 || fail "policy observe: the guest is gone"
	stale_console_findings
	scenario_console | grep -aq "policy observe: reporting only, no action" ||
		fail "guardiand did not log that policy observe reports only"
	observe_took_no_action
	local lines
	lines=$(grant_lines)
	note "RIG-FIGURE backed has not unmapped grant lines: $lines; recovery resubmitted: $(resubmitted)"
	[ "$lines" -gt 0 ] || fail "the fault did not happen: no 'backed has not unmapped grant' in the guest's log"
	if scenario_console | grep -aq "disabled for further use"; then fail "the frontend disabled the disk (not the grant-reuse build?)"; fi
	domu_stop
	grant_disk_check
	[ "$DAMAGED_BEFORE" -gt 0 ] || [ "$DAMAGED_AFTER" -gt 0 ] || [ "$FSCK_RC" != 0 ] ||
		fail "grant reuse left no damage: every file intact and e2fsck -fn clean"
}

# The emergency's own writes seen by blkback: none. On this restore the
# block path writes other pages' contents, so guardian writes nothing through
# it (no ext4 shutdown, whose journal abort writes the journal superblock; no
# fsck mark) and reboots with reboot(2) at once (docs/design.md, "Writing
# nothing"). Before that, the writes the kernel's recovery resubmitted and,
# under protect, whatever the guest wrote between the resume and guardian's
# verdict: the kernel thaws every task at once after the resume, and no
# guest agent hears of the restore before its writers run again. Only the
# coordinated freeze (grant-reuse-coordinated) closes that window.
EMERGENCY_WRITES=0

# 12. Protect: the same under protect: the verdict ends the writes (nothing
#     after it, not even guardian's own); nothing completed before the save
#     is damaged; after the provider's e2fsck -fy (the incident asks for it)
#     and a clean boot, e2fsck -fn is clean and every untouched root file
#     unchanged. The writes between the resume and the verdict are a figure.
scenario_grant_reuse_protect() {
	grant_setup protect
	local wr_save disk_reboot resub
	# On qdisk there is no blkback: 0 at the save.
	wr_save=$(blkback_count wr_req)
	grant_save_restore
	stale_watch 300
	domu_wait_reboot 300 || { stale_console_findings; fail "no reboot within 300 s of the restore (state '$(gread state)')"; }
	sleep 1
	wr_sampler_stop
	disk_reboot=$(disk_writes)
	note "RIG-FIGURE xl restore returned -> guest's reboot seen in dom0: $(since "$RESTORED_AT") s"
	INCIDENT=$(gread incident)
	note "incident at the reboot: $INCIDENT"
	stale_console_findings
	resub=$(resubmitted)
	note "RIG-FIGURE blkback wr_req at the save $wr_save, at the verdict $WR_VERDICT (last sample before it $WR_BEFORE; when dom0 read it $WR_DOM0), at the reboot $WR_LAST; recovery resubmitted ${resub:-?}; the disk's loop device completed $((disk_reboot - DISK_SAVED)) writes from the save to the reboot (when dom0 read the verdict: $([ "$DISK_DOM0" = "?" ] && echo "?" || echo $((DISK_DOM0 - DISK_SAVED)))); backed has not unmapped grant lines: $(grant_lines)"
	[ "$(gread last-verification | awk '{print $NF}')" = critical ] || fail "verdict '$(gread last-verification)', expected critical"
	[ -n "$resub" ] || fail "the grant-reuse build logged no recovery (not that build?)"
	# The fault acts on writes: one went through a reused grant, or none
	# reached the disk at all.
	stale_fault_happened "$disk_reboot"
	[ "$WR_VERDICT" != "?" ] || fail "rig: no verdict time in last-verification-timing ($(gread last-verification-timing))"
	note "RIG-FIGURE writes between the resume and the verdict beyond the recovery's: $((WR_VERDICT - wr_save - resub))"
	[ "$WR_LAST" -le $((WR_VERDICT + EMERGENCY_WRITES)) ] ||
		fail "blkback took writes after the verdict: wr_req $WR_VERDICT -> $WR_LAST at the reboot"
	[ "$DISK_DOM0" != "?" ] || fail "rig: the sampler never saw the verdict in dom0"
	[ "$disk_reboot" -le $((DISK_DOM0 + EMERGENCY_WRITES)) ] ||
		fail "the disk took writes after dom0 read the verdict: loop device $DISK_DOM0 -> $disk_reboot at the reboot"
	grant_no_damage_after_incident
}

# grant_no_damage_after_incident: the disk as guardian's emergency left
# it (e2fsck -fn, the guest stopped), the boot after the incident (forced
# fsck, boot report), then with the guest stopped again: e2fsck -fn clean,
# every file completed before the save intact, every untouched root file
# too.
grant_no_damage_after_incident() {
	local out rc=0
	WRITTEN_AFTER=$WRITTEN
	domu_stop
	out=$(e2fsck -fn "$DOMU_DISK" 2>&1) || rc=$?
	note "RIG-FIGURE e2fsck -fn on the disk as guardian's emergency left it (exit $rc): $(grep -v '^e2fsck [0-9]' <<<"$out" | head -4 | tr '\n' ' ')"
	# Seen on this rig: the journal superblock zeroed. Only jbd2 (the
	# shutdown's errno, a log-tail update) and guardian's journal-errno
	# fsck mark write it; through a reused grant that write carries an old
	# page. The guest's next mount of root then fails (initramfs shell).
	if grep -qE "journal superblock is corrupt|invalid journal" <<<"$out"; then
		fail "the disk as guardian left it has an invalid journal superblock (the guest cannot mount root): $(grep -m2 -E 'journal superblock|invalid journal' <<<"$out" | tr '\n' ' ')"
	fi
	boot_after_incident
	domu_stop
	grant_disk_check
	[ "$FSCK_RC" = 0 ] || fail "e2fsck -fn finds damage after the forced fsck and a clean boot (exit $FSCK_RC)"
	[ "$DAMAGED_BEFORE" = 0 ] || fail "$DAMAGED_BEFORE of the files completed before the save are damaged or missing"
	[ "$ROOT_CHANGED" = 0 ] || fail "root files nothing writes changed: $ROOT_CHANGED"
}

# 13. Coordinated: guardian-host freeze before the save. The restore onto
#     blkback with the grant-reusing build ends critical: no write request
#     between the restore and the verdict, never thawed, the guest reboots;
#     no damage.
scenario_grant_reuse_coordinated() {
	grant_setup protect
	local out rc
	out=$(guardian-host freeze "$(domid)" --timeout 600 2>&1) || fail "guardian-host freeze: $out"
	note "freeze: $out"
	[ "$(gread state)" = frozen ] || fail "state '$(gread state)' after freeze, expected frozen"
	grant_save_restore
	rc=0
	out=$(guardian-host verify "$NEW_DOMID" 2>&1) || rc=$?
	verdict_figures
	note "verify: $out (exit $rc)"
	[ "$rc" != 0 ] || fail "guardian-host verify accepted the grant-reusing guest after a restore onto blkback"
	[ "$(gread last-verification | awk '{print $NF}')" = critical ] || fail "verdict '$(gread last-verification)', expected critical"
	case $(gread freeze) in "thawed "*) fail "thawed on a critical verdict: '$(gread freeze)'" ;; esac
	domu_wait_reboot 300 || fail "no reboot within 300 s of the critical verdict (state '$(gread state)', freeze '$(gread freeze)')"
	sleep 1
	wr_sampler_stop
	note "RIG-FIGURE blkback wr_req at the save 0 (qdisk), at the verdict $WR_VERDICT (last sample before it $WR_BEFORE; when dom0 read it $WR_DOM0), at the reboot $WR_LAST; recovery resubmitted $(resubmitted); the disk's loop device completed $(($(disk_writes) - DISK_SAVED)) writes from the save to the reboot; backed has not unmapped grant lines: $(grant_lines)"
	[ "$WR_VERDICT" != "?" ] || fail "rig: no verdict time in last-verification-timing ($(gread last-verification-timing))"
	[ "$WR_VERDICT" -le "$EMERGENCY_WRITES" ] || fail "blkback took $WR_VERDICT writes between the restore and the verdict of a frozen guest"
	INCIDENT=$(gread incident)
	note "incident: $INCIDENT"
	stale_console_findings
	grant_no_damage_after_incident
}
