// guardiand's kernel-trouble state as /run/guardian/state.json carries it
// (the "kernel_trouble" and "parts" members, core/state_file.hpp): this
// boot's counts by kind and signature, the last few events, the known bugs
// judged for this kernel, the previous boot as attributed at start, and which
// part of guardiand is active or idle and why. `guardianctl status` shows it
// and `guardianctl status --prometheus` turns it into the trouble metric
// families (core/trouble_metrics.hpp). Encoder and decoder side by side; the
// decoder never throws and takes what it can of a foreign file. Pure.
#pragma once

#include "guardian/core/boot_history.hpp"
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/known_bugs.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace guardian {

struct TroubleSnapshot {
    TroubleCounts counts;
    std::vector<contract::TroubleNote> last; // oldest first, at most k_trouble_notes_kept
    std::vector<BugVerdict> known_bugs;
    std::optional<BootEntry> previous_boot; // with its attributed end
    std::string kmsg_method;                // sys::KmsgReader::method(), "none"
};
inline constexpr std::size_t k_trouble_notes_kept = 8;

// One part of guardiand and whether it runs here: "restore watch: idle (not
// a Xen guest: ...)".
struct PartStatus {
    std::string part;
    bool active = false;
    std::string detail; // what it does, or why it is idle
    friend bool operator==(const PartStatus&, const PartStatus&) = default;
};

[[nodiscard]] nlohmann::json trouble_to_json(const TroubleSnapshot& s);
[[nodiscard]] TroubleSnapshot trouble_from_json(const nlohmann::json& j);
[[nodiscard]] nlohmann::json parts_to_json(const std::vector<PartStatus>& parts);
[[nodiscard]] std::vector<PartStatus> parts_from_json(const nlohmann::json& j);

[[nodiscard]] nlohmann::json boot_entry_to_json(const BootEntry& e);
[[nodiscard]] std::optional<BootEntry> boot_entry_from_json(const nlohmann::json& j);

// The report's view of the same (core/report.hpp's TroubleReport).
[[nodiscard]] std::vector<contract::KnownBugNote>
known_bug_notes(const std::vector<BugVerdict>& verdicts);
[[nodiscard]] std::optional<contract::PreviousBootNode>
previous_boot_node(const std::optional<BootEntry>& previous);
[[nodiscard]] contract::TroubleCountsNode counts_node(const TroubleCounts& counts);

} // namespace guardian
