// The boot report (pure): what `guardiand --boot-report` makes of systemd-fsck's
// journal lines at this boot, the previous boot's incident entries and each
// guarded filesystem's superblock. The adapters (guardian/boot) only collect;
// everything that reads or words the evidence is here so it is unit-tested on
// real systemd-fsck / e2fsck message texts.
#pragma once

#include "guardian/util/log.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// One journal entry as the boot report sees it.
struct JournalLine {
    std::string unit;    // _SYSTEMD_UNIT
    std::string message; // MESSAGE
    std::string message_id;
    std::int64_t realtime_us = 0; // __REALTIME_TIMESTAMP
};

// What one fsck unit did at this boot.
struct FsckResult {
    std::string unit;                  // systemd-fsck@dev-xvda1.service
    std::string device;                // /dev/xvda1; "/" for systemd-fsck-root.service
    bool journal_recovered = false;    // "recovering journal"
    bool check_forced = false;         // "check forced" (error state, mount count, interval)
    bool modified = false;             // "FILE SYSTEM WAS MODIFIED"
    bool clean = false;                // "clean, N/M files": nothing checked beyond the flag
    bool errors_left = false;          // "UNEXPECTED INCONSISTENCY", "fsck failed", ...
    std::vector<std::string> messages; // at most k_fsck_messages_kept, in order
};

inline constexpr std::size_t k_fsck_messages_kept = 40;

// "systemd-fsck@dev-disk-by\x2duuid-12.service" -> "/dev/disk/by-uuid/12"
// (systemd's path unescaping); "systemd-fsck-root.service" -> "/"; anything
// else -> "".
[[nodiscard]] std::string fsck_unit_device(std::string_view unit);

// Groups the lines by unit (first appearance order) and classifies them.
[[nodiscard]] std::vector<FsckResult> summarize_fsck(const std::vector<JournalLine>& lines);

// Anything beyond a plain "clean": a replay, a forced check, a change or errors.
[[nodiscard]] bool eventful(const FsckResult& r) noexcept;

// "recovered journal, check forced, modified" or "clean"; "no output" if none.
[[nodiscard]] std::string describe(const FsckResult& r);

// A guarded-looking filesystem's superblock after fsck.
struct FsHealth {
    std::string device;
    std::string mount_point;
    std::string error; // could not read it; the fields below are then unset
    bool error_flag = false;
    std::uint32_t error_count = 0;
    std::int64_t lastcheck = 0;     // seconds since the epoch
    bool checked_this_boot = false; // lastcheck at or after this boot's start
    // lastcheck after the previous journaled boot ended and before this one
    // began: a full check ran in a boot that left no journal - systemd-fsck
    // repaired the root filesystem (mounted read-only, so the journal was
    // still in /run) and rebooted at once. The only trace it leaves.
    bool checked_between_boots = false;
};

// The previous boot's incident, from its journal (protective_action entries,
// else the verification_critical one that caused them).
struct PreviousIncident {
    std::int64_t realtime_us = 0;
    std::string message_id;
    std::string message;
};

// Picks the incident record from the previous boot's entries: the newest
// protective_action entry, else the newest verification_critical one.
[[nodiscard]] std::optional<PreviousIncident>
pick_incident(const std::vector<JournalLine>& previous_boot_entries);

// How a boot before this one bears on this boot's report, from its
// protective_action, verification_critical and boot_report entries: it had
// the incident; or guardian-boot already reported there (nothing older is
// news); or neither - e.g. the boot in which systemd-fsck repaired the root
// filesystem and rebooted at once, before guardian-boot could run, whose
// fsck output therefore belongs to this boot's report.
enum class EarlierBoot { incident, reported, unreported };
[[nodiscard]] EarlierBoot classify_earlier_boot(const std::vector<JournalLine>& entries);
// How many boots back the report looks for an unreported incident.
inline constexpr int k_max_boots_back = 4;

// guardian's own record of the boots guardiand started in
// (/var/lib/guardian/boots): one "BOOT_ID START_US" line per boot, oldest
// first, written and fsynced once per boot when guardiand starts. A boot's
// journal can be lost whole: journald keeps its files mmapped and syncs them
// only every few minutes or on a crit entry, so an incident in the first
// minute of a boot shuts the filesystem down before any of that boot's
// journal reached the disk. Then this line is the only sign that the boot
// existed, and when.
inline constexpr std::size_t k_boot_record_kept = 16;
// Whether `record` already has a line for `boot_id`.
[[nodiscard]] bool boot_recorded(std::string_view record, std::string_view boot_id);
// `record` with a line for `boot_id` started at `start_us` appended (one
// for that id replaced), cut to the newest k_boot_record_kept lines;
// malformed lines are dropped.
[[nodiscard]] std::string add_boot(std::string_view record, std::string_view boot_id,
                                   std::int64_t start_us);
// The start of the newest recorded boot other than `boot_id`; none if there is
// no such line.
[[nodiscard]] std::optional<std::int64_t> previous_boot_start_us(std::string_view record,
                                                                 std::string_view boot_id);

struct BootReport {
    std::vector<FsckResult> fsck;
    std::optional<PreviousIncident> incident;
    std::vector<FsHealth> filesystems;
    std::vector<std::string> notes;         // what could not be collected, and why
    std::int64_t previous_boot_last_us = 0; // the previous journaled boot's last entry; 0: none
    // When guardiand started in the previous boot it recorded (boot record);
    // 0: none.
    std::int64_t previous_boot_start_us = 0;
};

// The time after which a full check cannot have been logged by a boot this
// report knows of: the later of the previous journaled boot's last entry and
// guardian's record of the previous boot's start; 0 when neither is known.
[[nodiscard]] std::int64_t previous_boot_bound_us(const BootReport& r) noexcept;

// No incident, no eventful fsck, no filesystem in error state.
[[nodiscard]] bool uneventful(const BootReport& r) noexcept;

// One line, at most `max_len` bytes (cut at a boundary with "..."), for
// xenstore data/guardian/boot-report and the journal MESSAGE.
[[nodiscard]] std::string summary_line(const BootReport& r, std::size_t max_len = 1024);

// Multi-line detail: every fsck unit with its messages, the incident text,
// every filesystem's superblock state, the notes.
[[nodiscard]] std::string details(const BootReport& r);

// Structured journal fields (MESSAGE_ID boot_report, GUARDIAN_INCIDENT=yes|no,
// GUARDIAN_FSCK_EVENTFUL=..., GUARDIAN_FSCK_UNITS=..., GUARDIAN_FS_ERRORS=...).
[[nodiscard]] LogFields journal_fields(const BootReport& r);

} // namespace guardian
