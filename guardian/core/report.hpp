// The node set guardian publishes under the guest's data/guardian/ for the
// provider (schema: docs/xenstore-schema.md). Pure: builds names and values;
// guardian/xen/publisher.* writes them. Bounded: a fixed number of nodes per
// vbd, at most k_max_report_vbds vbds, every value at most
// k_max_report_value bytes of printable ASCII, so a hostile or broken input
// can never push the guest over its xenstore quota (1000 nodes, 2048 bytes).
#pragma once

#include "guardian/core/blkfront.hpp"
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/util/time_format.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace guardian {

inline constexpr std::size_t k_max_report_value = 1024;
inline constexpr std::size_t k_max_report_vbds = 32;

struct RestoreRecord {
    std::chrono::nanoseconds realtime{0}; // when it was detected (CLOCK_REALTIME)
    std::string signals;                  // RestoreDecision::signal_list()
    std::vector<CaptureChange> changes;   // blkfront changes across it
};

struct VerificationRecord {
    std::chrono::nanoseconds realtime{0};
    std::string result; // "healthy", "warning", "critical"
    std::string reason; // one line
    std::string timing; // VerificationTiming::describe(), or empty
};

// How fast a verification went, from the moment the restore was detected:
// what the provider (and the rig) read to know how long a restored guest
// ran before its disk was checked. Durations are CLOCK_MONOTONIC.
struct VerificationTiming {
    std::chrono::nanoseconds detected_realtime{0};
    std::chrono::nanoseconds features{0};               // block-protocol verdict
    std::optional<std::chrono::nanoseconds> first_read; // first disk read began
    std::chrono::nanoseconds verdict{0};                // full verdict
    // "detected 2026-11-21T17:00:00.123Z; features +0.1 ms; first disk read
    // +0.4 ms; verdict +412.0 ms" ("no disk read" when none was made).
    [[nodiscard]] std::string describe() const;
};

// This boot's kernel trouble, the previous boot's end and the known bugs
// that apply (core/guest_contract.hpp's trouble values; empty parts: "none").
// Absent from ReportInput (a report builder without the trouble watch, as
// before it existed): the four nodes are not written.
struct TroubleReport {
    contract::TroubleCountsNode counts;
    std::vector<contract::TroubleNote> last;
    std::optional<contract::PreviousBootNode> previous;
    std::vector<contract::KnownBugNote> known_bugs;
};

struct ReportInput {
    std::string version;
    contract::DaemonState state = contract::DaemonState::starting;
    std::string kernel;
    std::string distribution; // os-release PRETTY_NAME; "": unknown, the node is not written
    KernelVerdict verdict;
    std::vector<VbdCapture> vbds;
    std::optional<RestoreRecord> last_restore;
    std::optional<VerificationRecord> last_verification;
    std::optional<TroubleReport> trouble;
    std::chrono::nanoseconds updated{0}; // CLOCK_REALTIME
};

// Node name relative to data/guardian/ ("vbd/51712/features") -> value.
using ReportNodes = std::map<std::string, std::string>;

[[nodiscard]] ReportNodes build_report(const ReportInput& input);

// Printable ASCII only (others become '?'), newlines folded, cut to `limit`
// bytes; a cut is marked with a trailing "...".
[[nodiscard]] std::string bounded_value(std::string_view text,
                                        std::size_t limit = k_max_report_value);

// The most nodes build_report can produce for `vbds` vbds, counting the
// directories xenstore creates on the way (data/guardian, vbd, vbd/<id>).
[[nodiscard]] std::size_t max_report_nodes(std::size_t vbds);

} // namespace guardian
