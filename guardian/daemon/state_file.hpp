// What guardiand tells the rest of the machine about itself through files:
// /run/guardian/state.json (current state, baseline, last verdict and its
// findings, the incident record; rewritten atomically) for `guardianctl
// status`, and /var/lib/guardian/history.jsonl (one line per verification)
// for `guardianctl history`.
#pragma once

#include "guardian/core/incident.hpp"
#include "guardian/daemon/daemon.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace guardian::daemon {

struct StateSnapshot {
    struct Fs {
        std::string device;
        std::string mount_point;
        std::string uuid;
    };
    std::string state;
    std::string kernel;
    std::string suspend_safety;
    std::string suspend_reason;
    std::vector<Fs> filesystems;
    std::string last_restore;
    std::optional<VerificationOutcome> last_verification;
    std::optional<IncidentRecord> incident;
};

[[nodiscard]] nlohmann::json verification_to_json(const VerificationOutcome& v);
[[nodiscard]] nlohmann::json incident_to_json(const IncidentRecord& r);
[[nodiscard]] Status write_state_file(const std::string& path, const StateSnapshot& s);
// One JSON line appended (O_APPEND) and fsync'd; the directory is created.
[[nodiscard]] Status append_history(const std::string& path, const VerificationOutcome& v);

} // namespace guardian::daemon
