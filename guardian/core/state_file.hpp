// The schema of guardiand's local files, encoder and decoder side by side:
// /run/guardian/state.json (current state, baseline, last verdict and its
// findings, the incident record) for `guardianctl status` and the guest's
// Prometheus file, and /var/lib/guardian/history.jsonl (one verification per
// line) for `guardianctl history`. guardian/daemon/state_file.cpp only does
// the file I/O.
//
// Compatibility rule (as for data/guardian/, guest_contract.hpp): a file
// from an earlier release decodes (fixtures in tests/fixtures/); keys this
// release does not know are ignored; expected keys that are absent or of the
// wrong type are named in `missing` and decode as empty/unknown. "schema" is
// absent in files written before it was added: that is schema 1.
#pragma once

#include "guardian/core/incident.hpp"
#include "guardian/core/trouble_state.hpp"
#include "guardian/core/verdict.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace guardian {

inline constexpr int k_state_file_schema = 1;

struct VerificationOutcome {
    std::chrono::nanoseconds realtime{0};
    VerdictResult result;
    std::vector<FsEvidence> evidence;
    bool coordinated = false;
};

struct StateSnapshot {
    struct Fs {
        std::string device;
        std::string mount_point;
        std::string uuid;
    };
    std::string state; // contract::to_string(DaemonState)
    std::string kernel;
    std::string suspend_safety;
    std::string suspend_reason;
    std::vector<Fs> filesystems;
    std::string last_restore;
    std::optional<VerificationOutcome> last_verification;
    std::optional<IncidentRecord> incident;
    // Since the kernel trouble watch (absent in older files).
    std::optional<TroubleSnapshot> kernel_trouble;
    std::vector<PartStatus> parts;
};

[[nodiscard]] nlohmann::json verification_to_json(const VerificationOutcome& v);
[[nodiscard]] nlohmann::json incident_to_json(const IncidentRecord& r);
[[nodiscard]] nlohmann::json state_to_json(const StateSnapshot& s);

// ---- decoding -----------------------------------------------------------------

struct DecodedFsVerification {
    std::string device;
    std::string mount_point;
    std::string uuid;
    std::optional<bool> checked;
    std::string error;
    std::optional<std::vector<std::string>> findings; // one line each; absent: not a list
    std::optional<std::vector<std::string>> geometry_changes;
    bool frozen_compared = false;
    std::optional<std::vector<std::string>> frozen_changes;
    std::optional<std::string> errors_count_growth; // as written (a JSON number)
};

struct DecodedVerification {
    std::string time;    // "" when absent
    std::string verdict; // "" when absent
    std::vector<std::string> reasons;
    std::vector<std::string> affected;
    bool coordinated = false;
    std::vector<DecodedFsVerification> filesystems;
    std::vector<std::string> missing;
};

struct DecodedIncident {
    std::string reason;
    struct Step {
        std::string step, outcome, target, method, detail;
    };
    std::vector<Step> steps;
};

struct DecodedState {
    int schema = 1;
    std::string state; // "" when absent
    std::string kernel;
    std::string suspend_safety;
    std::string suspend_reason;
    std::vector<StateSnapshot::Fs> filesystems;
    std::string last_restore;
    std::optional<DecodedVerification> last_verification;
    std::optional<DecodedIncident> incident;
    std::optional<TroubleSnapshot> kernel_trouble; // absent before the trouble watch
    std::vector<PartStatus> parts;
    std::vector<std::string> missing;
};

// A history line or state.json's last_verification; never throws.
[[nodiscard]] DecodedVerification decode_verification(const nlohmann::json& j);
// state.json; a value that is not an object decodes with everything missing.
[[nodiscard]] DecodedState decode_state(const nlohmann::json& j);

} // namespace guardian
