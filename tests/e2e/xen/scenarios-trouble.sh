# shellcheck shell=bash
# The kernel-trouble scenarios (issue 16 in docs: tests/e2e/xen/README.md,
# "Kernel trouble"), sourced by scenarios.sh. The domU loads the rig's
# guardian-rig-trouble module (kmod/) and does what dom0 writes into its
# `data/rig-trouble-cmd` (domU/rig-trouble); dom0 then reads what guardiand
# made of it in data/guardian/ through the guest contract's keys.

# The contract's keys for kernel trouble and the boot history (guardian's
# core/guest_contract): one place here too.
TROUBLE_COUNTS_KEY=kernel-trouble
TROUBLE_LAST_KEY=kernel-trouble-last
PREVIOUS_BOOT_KEY=previous-boot

trouble_seq=0
# trouble_cmd WHAT: asks the domU for WHAT and waits for its acknowledgement.
trouble_cmd() {
	trouble_seq=$((trouble_seq + 1))
	local cmd="$trouble_seq $*"
	xenstore-write "$(dpath)/data/rig-trouble-cmd" "$cmd" || fail "cannot write data/rig-trouble-cmd"
	wait_for 60 eval '[ "$(xs_read "$(dpath)/data/rig-trouble-done")" = "$cmd" ]' ||
		fail "the domU did not take trouble command '$*' within 60 s"
	note "asked the domU for: $*"
}

# count_of KIND: this boot's count of KIND in guardian's report ("kind=N ...").
count_of() {
	gread "$TROUBLE_COUNTS_KEY" | tr ' ,' '\n\n' | sed -n "s/^$1=\([0-9]*\)$/\1/p" | head -1
}

# expect_trouble KIND CONSOLE_PATTERN SECONDS: guardian counts one more KIND
# than before, and the kernel's own report is in the console (so the event
# is the kernel's, not something guardian made up).
expect_trouble() {
	local kind=$1 pattern=$2 secs=$3 before
	before=$(count_of "$kind")
	before=${before:-0}
	shift 3
	trouble_cmd "$@"
	wait_for "$secs" eval '[ "$(count_of '"$kind"')" -gt '"$before"' ] 2>/dev/null' ||
		fail "guardian did not count a $kind within $secs s of '$*' (counts: '$(gread "$TROUBLE_COUNTS_KEY")'; console: $(scenario_console | grep -a -m1 -E "$pattern" || echo none))"
	scenario_console | grep -aq -E "$pattern" ||
		fail "guardian counted a $kind but the domU console has no '$pattern'"
	note "RIG-FIGURE $kind recorded: counts '$(gread "$TROUBLE_COUNTS_KEY")'"
	note "last signatures: $(gread "$TROUBLE_LAST_KEY" | tr '\n' '|')"
}

# previous_boot_is END: the boot report's view of how the previous boot ended.
previous_boot_is() {
	wait_for 120 eval '[ -n "$(gread "$PREVIOUS_BOOT_KEY")" ]' ||
		fail "no $PREVIOUS_BOOT_KEY in data/guardian after the boot"
	local prev
	prev=$(gread "$PREVIOUS_BOOT_KEY")
	note "previous boot: $prev"
	grep -qE "(^|[ ;])(end=)?$1([ ;]|$)" <<<"$prev" ||
		fail "previous boot should have ended '$1': $prev"
	PREVIOUS_BOOT=$prev
}

scenario_kernel_trouble() {
	need_guardian
	echo on >/tmp/rig-trouble
	domu_fresh_disk
	domu_disk_dirty
	printf 'write /tmp/rig-trouble /etc/rig-trouble\n' | domu_debugfs -w -f - >/dev/null
	# A panicking PV guest asks Xen to crash the domain; xl then starts it
	# again, as a provider's on_crash = "restart" would.
	export DOMU_ON_CRASH=restart
	KEEP_DISK=1 domu_start phy
	wait_for 60 eval '[ -n "$(gread "$TROUBLE_COUNTS_KEY")" ]' ||
		fail "guardiand publishes no $TROUBLE_COUNTS_KEY"
	expect_trouble warning "WARNING: .*rig_trouble_warn" 120 warn
	expect_trouble oops "BUG: kernel NULL pointer dereference|Oops:" 120 oops
	expect_trouble soft_lockup "soft lockup - CPU#" 180 softlockup 14
	expect_trouble hung_task "INFO: task .* blocked for more than" 180 hungtask 40
	# One signature per event, each naming its trigger function.
	local last
	last=$(gread "$TROUBLE_LAST_KEY")
	for f in rig_trouble_warn rig_trouble_oops rig_trouble_softlockup rig_trouble_hungtask; do
		grep -q "$f" <<<"$last" || fail "$TROUBLE_LAST_KEY does not name $f: $last"
	done
	guardian-host status "$(domid)" || fail "guardian-host status failed"

	# An orderly reboot: recorded as such at the next boot.
	trouble_cmd reboot
	domu_wait_reboot 300 || fail "the guest did not reboot within 300 s of systemctl reboot"
	KEEP_DISK=1 domu_start phy
	previous_boot_is orderly

	# A panic: the domain crashes, xl starts it again (a new domid).
	local before
	before=$(domid)
	trouble_cmd panic
	wait_for 300 eval '[ -n "$(domid)" ] && [ "$(domid)" != "'"$before"'" ] && domu_alive' ||
		fail "the guest was not restarted within 300 s of its panic (xl log: $(xl_log | tail -3 | tr '\n' ' '))"
	xl_log | grep -a "crashed\|reason code 3\|restart" | tail -3 | sed 's/^/xl: /'
	scenario_console | grep -aq "Kernel panic - not syncing: guardian rig: deliberate panic" ||
		fail "the domU console has no panic line"
	wait_for 300 guardian_watching || fail "guardiand not watching after the restart"
	previous_boot_is unclean
	note "RIG-FIGURE after a panic the previous boot reads: $PREVIOUS_BOOT"

	# xl destroy: unclean too, and nothing in the guest could say why.
	xl destroy "$GUEST"
	KEEP_DISK=1 domu_start phy
	previous_boot_is unclean
	note "RIG-FIGURE after xl destroy the previous boot reads: $PREVIOUS_BOOT"
}
