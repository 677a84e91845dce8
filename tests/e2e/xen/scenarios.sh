# shellcheck shell=bash
# The rig's scenarios, run inside dom0 by dom0/run-dom0, all in one boot.
# Adding one: write `scenario_<name_with_underscores>() { ...; }` here using
# the helpers in dom0/rig-lib.sh (domu_start, domu_save_restore, gread,
# wait_for, fail, ...), and add the name to ALL_SCENARIOS in ./run if it
# belongs in the default set. Each scenario starts its own domU and leaves
# nothing behind (the domU is destroyed after it, pass or fail).
source /rig/rig-lib.sh

need_guardian() {
	guardian_installed || fail "guardian binaries were not installed (build them first; see README)"
}

# Not guardian: proves the rig itself (boot, phy: disk, save/restore, a
# restore onto qdisk changes the backend keys). Run it explicitly.
scenario_rig_selftest() {
	domu_start phy
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
#    which dom0 reads back with guardian-host status.
scenario_restore_detected() {
	need_guardian
	domu_start phy
	[ -z "$(gread last-restore)" ] || fail "last-restore set before any restore: $(gread last-restore)"
	domu_save_restore phy
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
scenario_feature_change() {
	need_guardian
	domu_start phy
	local vbd before after expected reported k ob nb
	vbd=$(vbd_ids | head -1)
	before=$(backend_features "$vbd")
	wait_for 120 eval '[ -n "$(gread "vbd/$vbd/features")" ]' || fail "no data/guardian/vbd/$vbd/features"
	note "guardian features before: $(gread "vbd/$vbd/features")"
	case " $(gread "vbd/$vbd/features") " in *" feature-persistent=1 "*) ;;
	*) fail "guardian's phy features lack feature-persistent=1: $(gread "vbd/$vbd/features")" ;; esac
	domu_save_restore qdisk
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
#    without guardian, must both be refused.
scenario_preflight() {
	need_guardian
	domu_start phy
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
