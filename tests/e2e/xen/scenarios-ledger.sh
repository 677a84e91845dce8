# shellcheck shell=bash
# The provider's memory on the rig (guardian-hostd, README "The provider's
# ledger"), sourced by scenarios.sh. dom0 runs guardian-hostd.service under
# systemd; scenarios that restart the guest the way xl does by default
# (on_reboot = "restart": a new domain, the old one's data/guardian/ gone
# seconds after guardian wrote it) read what happened from the ledger with
# `guardian-host history`, as a provider would.

# history_lines KIND: the guest's ledger events of KIND, one line each
# ("<time>  <kind>  dom N  [boot B]  [guest: ]<text>").
history_lines() {
	guardian-host history "$GUEST" 2>/dev/null | grep -a -E "^[^ ]+  $1 "
}
# ledger_fail REASON: fails with REASON after printing what guardian-hostd
# and its ledger say (the service's journal, its state, the whole timeline).
ledger_fail() {
	note "guardian-hostd.service: $(systemctl is-active guardian-hostd.service 2>&1); its journal:"
	journalctl -u guardian-hostd.service --no-pager -n 150 2>&1 | sed 's/^/hostd| /'
	note "the guest's report nodes now: $(xenstore-ls "$(dpath)/data/guardian" 2>&1 | cut -c1-100 | head -20 | tr '\n' ';')"
	guardian-host history "$GUEST" 2>&1 | sed 's/^/ledger| /'
	fail "$1"
}

# restore_ends_in_incident_restarted BACKEND: like restore_ends_in_incident,
# with xl's on_reboot = "restart": the guest's reboot after its critical
# verdict makes a new domain at once, so the verdict and the incident are
# read from the ledger, and the old domain's end must carry the reason the
# hypervisor gave (reboot).
restore_ends_in_incident_restarted() {
	local old
	NO_WAIT_ALIVE=1 domu_restore "$1"
	old=$NEW_DOMID
	wait_for 300 eval '[ -n "$(domid)" ] && [ "$(domid)" != "'"$old"'" ]' ||
		fail "xl did not restart the guest within 300 s of the restore (state was '$(gread state)'; xl: $(xl_log | tail -2 | tr '\n' ' '))"
	verdict_figures "guest's restart seen in dom0"
	note "xl restarted the guest as domid $(domid)"
	ledger_ended_by_reboot "$old"
	ledger_incident_of "$old"
}

# ledger_ended_by_reboot DOMID: the ledger has that domain's end, with the
# reason the hypervisor gave: reboot.
ledger_ended_by_reboot() {
	# A named local, not $1: the eval runs inside wait_for, where $1 is
	# wait_for's own first argument.
	local dom=$1
	wait_for 60 eval 'history_lines domain-end | grep -q "dom $dom "' ||
		fail "the ledger has no end of domain $dom: $(guardian-host history "$GUEST" 2>&1 | tail -5)"
	note "ledger: $(history_lines domain-end | grep "dom $dom " | tail -1)"
	history_lines domain-end | grep "dom $dom " | grep -q reboot ||
		fail "domain $dom's end is not recorded as the hypervisor's reboot: $(history_lines domain-end | grep "dom $dom ")"
}

# ledger_incident_of DOMID: VERDICT and INCIDENT as the ledger recorded
# them for that domain; the verdict must be critical.
ledger_incident_of() {
	INCIDENT_DOMID=$1
	VERDICT=$(history_lines verdict | grep "dom $1 " | tail -1 | sed 's/^.*  guest: //')
	INCIDENT=$(history_lines incident | grep "dom $1 " | tail -1 | sed 's/^.*  guest: //')
	note "verdict (ledger): $VERDICT"
	note "incident (ledger): $INCIDENT"
	# "<time> critical: <reason>"
	[ "$(sed -n 's/^[^ ]* \([a-z]*\).*/\1/p' <<<"$VERDICT")" = critical ] ||
		fail "the ledger's verdict for domain $1 is '$VERDICT', expected critical"
	[ -n "$INCIDENT" ] || fail "the ledger has no incident of domain $1"
	# The ledger's incident as guardian's own (scenarios.sh).
	check_write_nothing_claim
}

# ledger_kept_incident DOMID: after a scenario that kept the rebooted
# domain for dom0 to read (on_reboot = "preserve") and then started the
# guest again: the ledger holds that domain's verdict, incident and end
# (the reason the hypervisor gave: reboot) and the next boot's report.
ledger_kept_incident() {
	local live_incident=$INCIDENT
	ledger_ended_by_reboot "$1"
	ledger_incident_of "$1"
	[ "$INCIDENT" = "$live_incident" ] ||
		fail "the ledger's incident differs from what the domain published: '$INCIDENT' vs '$live_incident'"
	ledger_boot_report
}

# boot_after_incident_restarted: the boot xl started after the incident:
# fsck forced (the boot report, read from data/guardian/ and the ledger).
boot_after_incident_restarted() {
	local report
	wait_for 600 eval 'domu_alive && [ -n "$(gread boot-report)" ]' ||
		fail "no boot-report from the restarted guest within 600 s"
	report=$(gread boot-report)
	note "boot report: $report"
	grep -qE "check forced|fully checked at" <<<"$report" ||
		fail "boot report shows no forced fsck: $report"
	# guardian's boot history: the incident's boot ended in its own
	# emergency reboot. guardiand writes no file on a filesystem it has just
	# found damaged (here /var/lib/guardian is on it), so the next boot
	# learns it from that boot's journal: journald's entry of the critical
	# verdict, there when journald synced it before the write stop. Either
	# that, or no trace; never a wrong end. The provider's record does not
	# depend on it: the ledger checks below.
	local prev
	wait_for 60 eval '[ -n "$(gread previous-boot)" ]' || fail "no previous-boot after the incident"
	prev=$(gread previous-boot)
	note "previous boot: $prev"
	case $prev in
	*end=emergency-reboot*) note "RIG-FIGURE the incident's boot is recorded as guardian's emergency reboot" ;;
	*end=no-trace*) note "RIG-FIGURE the incident's boot left no trace in the guest (journald did not sync the verdict before the write stop)" ;;
	*) fail "previous-boot gives the incident's boot a wrong end: $prev" ;;
	esac
	guardian-host history "$GUEST" | tail -12
	ledger_boot_report
}

# ledger_boot_report: the boot after the incident is in the ledger: its
# kernel (a `boot` event), its boot report and how the previous boot ended,
# in the guest's words. guardian-boot writes the last two before guardiand
# writes `version`; guardian-hostd once took such a report as already seen
# and recorded none of them (found here; hostd test
# NodesWrittenBeforeTheVersionAreRecordedOnceGuardiandSpeaks).
# Only events of a later domain than the incident's (INCIDENT_DOMID, set by
# ledger_incident_of) count: the first boot has its own.
ledger_boot_report() {
	local kind
	for kind in boot boot-report previous-boot; do
		wait_for 60 later_event "$kind" "$INCIDENT_DOMID" ||
			ledger_fail "the ledger has no $kind event of a domain after the incident's (domain $INCIDENT_DOMID)"
		note "ledger: $(history_lines "$kind" | tail -1 | cut -c1-300)"
	done
}

# later_event KIND DOMID: the ledger has a KIND event of a domain above DOMID.
later_event() {
	history_lines "$1" | awk -v d="$2" '{ for (i = 1; i < NF; i++) if ($i == "dom" && $(i + 1) + 0 > d) found = 1 } END { exit !found }'
}

# A guest that does not run guardian (its units masked on the disk, as if
# never installed): guardian-hostd finds its kernel in the console log
# xenconsoled keeps, from the kernel's own `Linux version` banner printed
# after the domain appeared, and `guardian-host preflight` judges it by
# the risk table, saying the verdict comes from the console banner. The
# banner is a notice-level line: a kernel booted with `quiet` does not
# print it on the console (then the answer is "unknown", never a guess;
# tests/fleet/ covers that with recorded logs), so this guest boots with
# loglevel=6.
scenario_agentless_guest() {
	need_guardian
	domu_fresh_disk
	domu_disk_dirty
	printf 'symlink /etc/systemd/system/guardiand.service /dev/null\nsymlink /etc/systemd/system/guardian-boot.service /dev/null\n' |
		domu_debugfs -w -f - >/dev/null
	domu_debugfs -R "stat /etc/systemd/system/guardiand.service" | grep -q "Type: symlink" ||
		fail "rig problem: could not mask guardiand.service on the disk"
	DOMU_NO_GUARDIAN=1 DOMU_EXTRA=" loglevel=6" KEEP_DISK=1 domu_start phy
	sleep 10
	[ -z "$(gread state)" ] || fail "guardiand runs in the guest that should have none: state '$(gread state)'"
	local release out json
	release=$(uname -r) # dom0 boots the same Debian 12 kernel image as the domU
	scenario_console | grep -a -m1 "Linux version" | sed 's/^/domU console: /'
	wait_for 120 eval 'guardian-host preflight "$(domid)" 2>&1 | grep -q "console banner"' ||
		fail "preflight does not judge the agentless guest by its console banner: $(guardian-host preflight "$(domid)" 2>&1 | tail -3)"
	out=$(guardian-host preflight "$(domid)" 2>&1) || true
	echo "$out"
	grep -q -- "$release" <<<"$out" || fail "preflight does not name the guest's kernel $release: $out"
	json=$(guardian-host preflight --json "$(domid)" 2>&1) || true
	note "preflight --json: $(tr -d '\n' <<<"$json" | cut -c1-400)"
	grep -q '"console banner"' <<<"$json" || fail "preflight --json gives no source 'console banner': $json"
	wait_for 60 eval 'guardian-host history "$GUEST" 2>/dev/null | grep -q -- "$release"' ||
		fail "the ledger does not hold the banner's kernel: $(guardian-host history "$GUEST" 2>&1 | tail -3)"
	guardian-host fleet || fail "guardian-host fleet failed"
}
