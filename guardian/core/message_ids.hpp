// journald MESSAGE_IDs, one per kind of event guardiand reports. Operators and
// the provider's log pipeline select on these (`journalctl MESSAGE_ID=...`),
// and systemd/guardian.catalog explains each one, so an id never changes once
// shipped: a new meaning gets a new id (`systemd-id128 new`). A test checks
// that every id here has exactly one catalog entry and vice versa.
#pragma once

#include <array>
#include <string_view>

namespace guardian::message_id {

// guardiand came up: baseline taken, watches set, READY=1 sent.
inline constexpr std::string_view daemon_started = "3b1de4d638374a73803578467c0a00f8";
// A baseline (blkfront features, ext4 geometry, fingerprints) was recorded.
inline constexpr std::string_view baseline_taken = "86f46c6abc084378b861ef356ab2c954";
// A Xen restore / migration / ACPI resume was detected; verification starts.
inline constexpr std::string_view restore_detected = "1273564078d54322806c49cd0708b702";
// Verification after a restore ended healthy.
inline constexpr std::string_view verification_healthy = "5651c5db95654c9b80d8ff96e9d3e305";
// Verification found something worth recording but not acting on.
inline constexpr std::string_view verification_warning = "249f18e22fb44d1c9262d3338693eb70";
// Verification found damage or an unsafe feature change: critical.
inline constexpr std::string_view verification_critical = "d35697ecfff347028ffda67f8043cc81";
// A protective step was taken (report, shutdown, fsck mark, reboot).
inline constexpr std::string_view protective_action = "9a5c27f8576f466dab29eb09fb0a8344";
// Coordinated mode: the guarded filesystems were frozen (FIFREEZE).
inline constexpr std::string_view freeze_started = "8031d816c3eb460cb418f3608311dffa";
// The frozen filesystems were thawed after a successful verification.
inline constexpr std::string_view thawed = "cb36aae3796b4d57ab9722e40b2e6e7e";
// A freeze reached its deadline without a restore and was thawed anyway.
inline constexpr std::string_view auto_thaw = "de937b171bca4ed995a65091eb8996ed";
// A hook exited non-zero, was killed by a signal, timed out or could not run.
inline constexpr std::string_view hook_failed = "fe16dde037f64226b10e542b429fbb55";
// guardian-boot.service: what fsck did at the boot after an incident.
inline constexpr std::string_view boot_report = "c8057edbd92540db89b3f69c7e6ef81a";
// The configuration could not be loaded; guardiand refuses to start.
inline constexpr std::string_view config_error = "539fa7c523004953804f8df6f2d7cea5";

// Kernel trouble seen in this boot's kernel log (docs/kernel-trouble.md), one
// id per family of kinds: a crash (oops, BUG, kernel BUG at, panic, bad
// page state, machine check) ...
inline constexpr std::string_view kernel_crash = "e9168ec3483a4cb69705934a1bb91966";
// ... a hang (RCU stall, soft or hard lockup, hung task) ...
inline constexpr std::string_view kernel_hang = "0ac11f7e2b0d46ecaa9f17c9be81bd41";
// ... a WARNING ...
inline constexpr std::string_view kernel_warning = "20f9c8ca532e4c2dbfabac6a6e973694";
// ... memory trouble (page allocation failure, OOM kill) ...
inline constexpr std::string_view kernel_memory = "8a601eee3c4d4a0aa0837a7945b797e6";
// ... or a filesystem / block-device error line.
inline constexpr std::string_view kernel_storage = "e4832189c93a44d2b1cb77ec9720ae71";
// At start: how the previous boot ended and the trouble it is attributed to.
inline constexpr std::string_view previous_boot = "074feb6a6de647e79e542700c6e3efec";
// At start: this kernel is affected by a known kernel bug (kernel-risk.json).
inline constexpr std::string_view known_kernel_bug = "828080553ca747398d0ea3edb211abf8";

struct NamedMessageId {
    std::string_view name;
    std::string_view id;
};

// Every id above, for the catalog test and for `guardiand --list-message-ids`.
inline constexpr std::array<NamedMessageId, 20> all = {{
    {"daemon_started", daemon_started},
    {"baseline_taken", baseline_taken},
    {"restore_detected", restore_detected},
    {"verification_healthy", verification_healthy},
    {"verification_warning", verification_warning},
    {"verification_critical", verification_critical},
    {"protective_action", protective_action},
    {"freeze_started", freeze_started},
    {"thawed", thawed},
    {"auto_thaw", auto_thaw},
    {"hook_failed", hook_failed},
    {"boot_report", boot_report},
    {"config_error", config_error},
    {"kernel_crash", kernel_crash},
    {"kernel_hang", kernel_hang},
    {"kernel_warning", kernel_warning},
    {"kernel_memory", kernel_memory},
    {"kernel_storage", kernel_storage},
    {"previous_boot", previous_boot},
    {"known_kernel_bug", known_kernel_bug},
}};

} // namespace guardian::message_id
