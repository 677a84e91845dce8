// Boot history: each boot's identity (boot id, kernel release and `uname -v`,
// distribution), its start, how it ended and the trouble its end is
// attributed to, with the last time it was known alive. Pure: the model,
// the attribution of an unclean end, the heartbeat rule and the file codec;
// reading and writing /var/lib/guardian/ is an adapter's job.
//
// File format (one record per line, appended; compacted by writing the whole
// list to a new file and renaming it over the old one):
//   G1<TAB>boot_id<TAB>release<TAB>version<TAB>distribution<TAB>start_us<TAB>
//   last_alive_us<TAB>uptime_us<TAB>end<TAB>trouble_kind<TAB>trouble_signature<TAB>
//   trouble_function<TAB>known_bug<TAB>trouble_count<TAB><fnv1a64 of all before it, 16 hex>\n
// Fields are %-escaped (%, TAB, CR, LF and other control bytes). A record is
// a whole snapshot of one boot; a later record for the same boot id replaces
// an earlier one. A power cut during an append leaves at worst a last line
// without its newline or checksum (or NUL bytes from a size extended before
// its data): such a line is dropped, so the previous snapshot stands. No
// torn write can produce a wrong record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace guardian {

enum class BootEnd {
    running,          // this boot, or a boot whose end is not judged yet
    orderly,          // shutdown or reboot observed by guardiand
    emergency_reboot, // guardian's own emergency reboot
    crash,            // unclean: an oops, BUG or machine check before it
    panic,            // unclean: a kernel panic
    watchdog,         // unclean: a stall, lockup or hung task before it (reset by a watchdog)
    destroyed,        // unclean: the host destroyed the domain (host-side record)
    no_trace,         // unclean, and nothing says why
};
[[nodiscard]] std::string_view to_string(BootEnd e) noexcept;
[[nodiscard]] std::optional<BootEnd> boot_end_from_string(std::string_view s) noexcept;
[[nodiscard]] bool unclean(BootEnd e) noexcept;
// Trouble that may end a boot by itself (oops, BUG, panic, stall, lockup,
// hung task, bad page, machine check): what an unclean end is attributed to.
[[nodiscard]] bool trouble_is_fatal(std::string_view kind) noexcept;

// PRETTY_NAME of an os-release file ("Debian GNU/Linux 12 (bookworm)"),
// else NAME and VERSION_ID; "" when neither is there.
[[nodiscard]] std::string distribution_from_os_release(std::string_view text);

struct BootEntry {
    std::string boot_id;            // /proc/sys/kernel/random/boot_id
    std::string kernel_release;     // uname -r
    std::string kernel_version;     // uname -v
    std::string distribution;       // os-release PRETTY_NAME
    std::int64_t start_us = 0;      // CLOCK_REALTIME at start
    std::int64_t last_alive_us = 0; // CLOCK_REALTIME of the last heartbeat
    std::int64_t uptime_us = 0;     // CLOCK_BOOTTIME at that heartbeat
    BootEnd end = BootEnd::running;
    // The trouble the end is attributed to (empty when none).
    std::string trouble_kind;
    std::string trouble_signature;
    std::string trouble_function;
    std::string known_bug;
    std::uint32_t trouble_count = 0; // kernel trouble events seen during the boot

    friend bool operator==(const BootEntry&, const BootEntry&) = default;
};

inline constexpr std::size_t k_boot_history_kept = 256;
// Where guardiand keeps it (under the system root); read by guardianctl too.
inline constexpr const char* k_boot_history_path = "/var/lib/guardian/boot-history";

[[nodiscard]] std::string encode_boot_record(const BootEntry& e);

struct DecodedHistory {
    std::vector<BootEntry> boots; // oldest first, newest k_boot_history_kept
    std::size_t records = 0;      // good lines read
    std::size_t rejected = 0;     // complete lines that failed their checksum or shape
    bool torn_tail = false;       // a last line without its newline
};
[[nodiscard]] DecodedHistory decode_boot_history(std::string_view text);

// The whole list as a fresh file (newest k_boot_history_kept, one record each).
[[nodiscard]] std::string encode_boot_history(const std::vector<BootEntry>& boots);
// Whether the file is worth rewriting: superseded records pile up, or a bad
// line should not stay.
[[nodiscard]] bool boot_history_needs_compaction(const DecodedHistory& h) noexcept;

// The current boot after an append: its snapshot replaces the old one.
void upsert_boot(std::vector<BootEntry>& boots, const BootEntry& e);

// One kernel trouble event as the previous boot left it (guardian's records,
// pstore, its persistent journal).
struct TroubleSeen {
    std::string kind; // to_string(TroubleKind)
    std::string signature;
    std::string function;
    std::string known_bug;
    std::int64_t at_us = 0; // CLOCK_REALTIME
};

// A crash cuts the journal's (or pstore's) copy of the last report short:
// journald syncs right after a crit-or-higher line (an oops' first line) and
// the call trace after it is lost with the page cache, so that copy hashes to
// another signature. guardiand assembled the whole report live and recorded it
// (`previous`'s trouble fields) before the boot ended. The last event of
// `seen` of the same kind and faulting function is that report: it takes the
// recorded signature, function and known bug. True when one was replaced.
[[nodiscard]] bool complete_from_own_record(std::vector<TroubleSeen>& seen,
                                            const BootEntry& previous);

struct EndEvidence {
    bool orderly_shutdown = false; // guardiand recorded a shutdown/reboot
    bool emergency_reboot = false; // guardian recorded its emergency reboot
    bool host_destroyed = false;   // the host says `xl destroy` (host-side record)
    std::vector<TroubleSeen> trouble;
};

struct Attribution {
    BootEnd end = BootEnd::no_trace;
    std::optional<TroubleSeen> trouble;
    std::string reason;
};

// How the previous boot ended: an end it recorded itself stands; otherwise
// it was unclean, attributed to the last trouble seen before it (a panic
// names the trouble that led to it when one came within a minute before), or
// to "no trace".
[[nodiscard]] Attribution attribute_end(const BootEntry& previous, const EndEvidence& evidence);
// The entry with the attribution written into it.
[[nodiscard]] BootEntry with_attribution(BootEntry e, const Attribution& a);

// How a boot ended, in one line: "orderly", "unclean (watchdog) after
// rcu_stall in xas_descend (signature ...; known bug ...)", "unclean (no
// trace)".
[[nodiscard]] std::string describe_end(const BootEntry& e);

// The history per kernel release (the question of incident 2: does this
// release end boots uncleanly more often than that one?). Releases in order
// of their newest boot, newest first; uptime sums the last known uptime of
// each boot (its exposure).
struct ReleaseSummary {
    std::string release;
    std::size_t boots = 0;
    std::size_t unclean = 0;
    std::vector<std::size_t> by_end; // indexed by BootEnd
    std::int64_t uptime_us = 0;
    // Attributed trouble signatures, most frequent first (at most 8).
    std::vector<std::pair<std::string, std::size_t>> signatures;
    std::vector<std::string> known_bugs; // attributed, distinct
};
[[nodiscard]] std::vector<ReleaseSummary> summarize_by_release(const std::vector<BootEntry>& boots);
// Unclean ends per 1000 hours of uptime; nullopt without any uptime.
[[nodiscard]] std::optional<double> unclean_per_1000_hours(const ReleaseSummary& s) noexcept;

// The heartbeat that bounds "last alive": one small write every `interval`,
// never while a filesystem is frozen or after a critical verdict (the disk
// must not be touched then).
[[nodiscard]] bool heartbeat_due(std::int64_t now_us, std::int64_t last_written_us,
                                 std::int64_t interval_us, bool frozen,
                                 bool critical_verdict) noexcept;

} // namespace guardian
