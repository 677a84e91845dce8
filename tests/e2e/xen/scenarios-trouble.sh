# shellcheck shell=bash
# The kernel-trouble scenarios (issue 16 in docs: tests/e2e/xen/README.md,
# "Kernel trouble"), sourced by scenarios.sh. The domU loads the rig's
# guardian-rig-trouble module (kmod/) and does what dom0 writes into its
# `data/rig-trouble-cmd` (domU/rig-trouble); dom0 then reads what guardiand
# made of it in data/guardian/ through the guest contract's keys.

# The contract's keys for kernel trouble and the boot history (guardian's
# core/guest_contract): one place here too.
TROUBLE_COUNTS_KEY=trouble-counts # "<kind>=<n> ..."
TROUBLE_LAST_KEY=trouble-last     # "<time> <kind> <signature> <function> <known bug>; ..."
PREVIOUS_BOOT_KEY=previous-boot   # "end=<how> boot=... [trouble=<kind> signature=<sig> ...]"

trouble_seq=0
# trouble_cmd WHAT: asks the domU for WHAT and waits for its acknowledgement.
# A panic can end the domain (and xl start another) before dom0 reads the
# acknowledgement: a new domain counts as taken.
trouble_cmd() {
	trouble_seq=$((trouble_seq + 1))
	local cmd="$trouble_seq $*" d0
	d0=$(domid)
	xenstore-write "$(dpath)/data/rig-trouble-cmd" "$cmd" || fail "cannot write data/rig-trouble-cmd"
	wait_for 60 eval '[ "$(xs_read "$(dpath)/data/rig-trouble-done")" = "$cmd" ] || [ "$(domid)" != "$d0" ]' ||
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
	# The newest entry of this kind in trouble-last ("<time> <kind>
	# <signature> <function> <known bug>"): the detectors report a lockup or
	# a hung task again while it lasts, so later steps push earlier entries
	# out of the newest few; each step's entry is taken now.
	local entry
	entry=$(gread "$TROUBLE_LAST_KEY" | sed 's/; /\n/g' | awk -v k="$kind" '$2 == k' | tail -1)
	[ -n "$entry" ] || fail "no $kind entry in $TROUBLE_LAST_KEY: $(gread "$TROUBLE_LAST_KEY")"
	note "$kind entry: $entry"
	TROUBLE_ENTRIES+=("$entry")
}
TROUBLE_ENTRIES=()

# previous_boot_is END_REGEX: guardian's view of how the previous boot ended
# (previous-boot's end=: orderly, emergency-reboot, or an unclean end: the
# trouble it is attributed to (panic, crash, watchdog, ...) or no-trace).
previous_boot_is() {
	wait_for 120 eval '[ -n "$(gread "$PREVIOUS_BOOT_KEY")" ]' ||
		fail "no $PREVIOUS_BOOT_KEY in data/guardian after the boot"
	local prev
	prev=$(gread "$PREVIOUS_BOOT_KEY")
	note "previous boot: $prev"
	grep -qE "(^| )end=($1)( |$)" <<<"$prev" ||
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
	# The oops last: it taints the kernel 'D', after which the hung task
	# detector reports nothing more (kernel/hung_task.c: "If the system
	# crashed already then all bets are off").
	expect_trouble warning "WARNING: .*rig_trouble_warn" 120 warn
	expect_trouble hung_task "INFO: task .* blocked for more than" 180 hungtask 40
	expect_trouble soft_lockup "soft lockup - CPU#" 180 softlockup 14
	expect_trouble oops "BUG: kernel NULL pointer dereference|Oops:" 120 oops
	# The four events, each with a signature of its own; the WARNING and the
	# oops name the module's trigger function, the lockup and the hung task
	# where the CPU or the task was caught.
	local last sigs
	last=$(printf '%s\n' "${TROUBLE_ENTRIES[@]}")
	# (grep -E for the interval: dom0's awk is mawk, which has none)
	sigs=$(awk '{print $3}' <<<"$last" | grep -E '^[0-9a-f]{16}$' | sort -u | wc -l)
	[ "$sigs" = 4 ] || fail "expected 4 distinct 16-hex-digit signatures: $last"
	awk '$2 == "warning" {print $4}' <<<"$last" | grep -qx rig_trouble_warn ||
		fail "the WARNING's function is not rig_trouble_warn: $last"
	awk '$2 == "oops" {print $4}' <<<"$last" | grep -qx rig_trouble_oops ||
		fail "the oops' function is not rig_trouble_oops: $last"
	# guardian-hostd's ledger has each of them (the guest's kernel trouble,
	# read through the contract), once.
	local e
	for e in "${TROUBLE_ENTRIES[@]}"; do
		wait_for 60 eval 'history_lines trouble | grep -qF -- "$e"' ||
			ledger_fail "the ledger lacks the guest's trouble '$e'"
	done
	note "ledger: $(history_lines trouble | wc -l) trouble events for this guest"
	guardian-host status "$(domid)" || fail "guardian-host status failed"

	# The host destroys the domain: unclean, and guardian's own record of
	# this boot's trouble says what it is attributed to (the last trouble
	# that can end a boot: the oops, a crash-kind end).
	xl destroy "$GUEST"
	KEEP_DISK=1 domu_start phy
	previous_boot_is crash
	grep -q "trouble=oops" <<<"$PREVIOUS_BOOT" ||
		fail "the destroyed boot is not attributed to its oops: $PREVIOUS_BOOT"
	# With the signature guardiand gave the oops live: the journal's copy of
	# the report lost its call trace with the domain (journald synced after
	# the oops' first line only), guardian's own record has it whole.
	local oops_sig
	oops_sig=$(awk '$2 == "oops" {print $3}' <<<"$last" | tail -1)
	grep -q "signature=$oops_sig" <<<"$PREVIOUS_BOOT" ||
		fail "the destroyed boot's oops has another signature than the live one ($oops_sig): $PREVIOUS_BOOT"

	# An orderly reboot: recorded as such at the next boot.
	trouble_cmd reboot
	domu_wait_reboot 300 || fail "the guest did not reboot within 300 s of systemctl reboot"
	KEEP_DISK=1 domu_start phy
	previous_boot_is orderly

	# A panic in a boot without other trouble: the domain crashes, xl starts
	# it again (a new domid). A Xen PV guest keeps no pstore (no backend)
	# and its journal rarely gets the panic's lines to disk: the next boot
	# says `panic` where it did, `no-trace` otherwise. The host keeps the
	# console's text (guardian-hostd: the crash in the ledger).
	local before
	before=$(domid)
	trouble_cmd panic
	wait_for 300 eval '[ -n "$(domid)" ] && [ "$(domid)" != "'"$before"'" ] && domu_alive' ||
		fail "the guest was not restarted within 300 s of its panic (xl log: $(xl_log | tail -3 | tr '\n' ' '))"
	scenario_console | grep -aq "Kernel panic - not syncing: guardian rig: deliberate panic" ||
		fail "the domU console has no panic line"
	wait_for 300 guardian_watching || fail "guardiand not watching after the restart"
	previous_boot_is "panic|no-trace"
	note "RIG-FIGURE after a panic the previous boot reads: $PREVIOUS_BOOT"
	wait_for 60 eval 'history_lines domain-end | grep "dom $before " | grep -q crash' ||
		fail "the ledger has no crash for domain $before: $(history_lines domain-end | tail -3)"
	note "ledger: $(history_lines domain-end | grep "dom $before " | cut -c1-300)"
	# The console's last 2 KiB, the guest's words, whole in the JSON (the
	# table shows 400 characters; the panic's reason is in its first line
	# and in the `---[ end Kernel panic ...` line that closes the report).
	guardian-host history --json "$GUEST" | tr -d '\n' |
		grep -o '"domid": *'"$before"',[^}]*"kind": *"crash"[^}]*' | grep -aq "guardian rig: deliberate panic" ||
		fail "the ledger's crash of domain $before has no console text with the panic: $(guardian-host history "$GUEST" | grep -a "dom $before " | cut -c1-300)"

	# The fleet view over the rig's ledger: this kernel, its boots, and the
	# unclean ends just made (the destroy and the panic). JSON keys come
	# sorted, so the first unclean_ends after this kernel's name is its own.
	local fleet unclean
	guardian-host fleet --unclean | sed 's/^/fleet| /'
	fleet=$(guardian-host fleet --unclean --json) || fail "guardian-host fleet --json failed"
	unclean=$(tr -d ' \n' <<<"$fleet" | grep -o '"kernel":"'"$(uname -r)"'".*' | grep -o '"unclean_ends":[0-9]*' | head -1 | cut -d: -f2)
	note "RIG-FIGURE fleet: $(uname -r) unclean ends ${unclean:-?}"
	[ "${unclean:-0}" -ge 2 ] ||
		fail "guardian-host fleet does not count the destroy and the panic as unclean ends of $(uname -r): $(tr -d '\n' <<<"$fleet" | cut -c1-400)"
	# The guest's distribution, as its guardian published it (os-release).
	tr -d '\n' <<<"$fleet" | grep -q '"distribution": *"Debian GNU/Linux 12' ||
		fail "guardian-host fleet has no Debian 12 distribution for the guest: $(tr -d '\n' <<<"$fleet" | cut -c1-400)"
}
