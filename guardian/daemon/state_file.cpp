#include "guardian/daemon/state_file.hpp"

#include "guardian/core/findings_json.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/time_format.hpp"

#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace guardian::daemon {
nlohmann::json verification_to_json(const VerificationOutcome& v) {
    nlohmann::json fs = nlohmann::json::array();
    for (const auto& e : v.evidence) {
        nlohmann::json findings = nlohmann::json::array();
        for (const auto& f : e.findings)
            findings.push_back(finding_to_json(f));
        nlohmann::json geometry = nlohmann::json::array();
        for (const auto& d : e.geometry)
            geometry.push_back(describe(d));
        nlohmann::json frozen = nlohmann::json::array();
        for (const auto& d : e.frozen_diff)
            frozen.push_back(describe(d));
        fs.push_back({{"device", e.device},
                      {"mount_point", e.mount_point},
                      {"uuid", e.uuid},
                      {"checked", e.checked},
                      {"error", e.scan_error},
                      {"findings", findings},
                      {"geometry_changes", geometry},
                      {"frozen_compared", e.frozen_compared},
                      {"frozen_changes", frozen},
                      {"errors_count_growth", e.errors_count_growth}});
    }
    return {{"time", iso8601_utc(v.realtime)}, {"verdict", to_string(v.result.verdict)},
            {"reasons", v.result.reasons},     {"affected", v.result.affected_devices},
            {"coordinated", v.coordinated},    {"filesystems", fs}};
}

nlohmann::json incident_to_json(const IncidentRecord& r) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : r.steps)
        steps.push_back({{"step", to_string(s.step)},
                         {"outcome", to_string(s.outcome)},
                         {"target", s.target},
                         {"method", s.method},
                         {"detail", s.detail}});
    return {{"reason", r.reason}, {"steps", steps}};
}

Status write_state_file(const std::string& path, const StateSnapshot& s) {
    nlohmann::json fs = nlohmann::json::array();
    for (const auto& f : s.filesystems)
        fs.push_back({{"device", f.device}, {"mount_point", f.mount_point}, {"uuid", f.uuid}});
    nlohmann::json j{{"state", s.state},
                     {"kernel", s.kernel},
                     {"suspend_safety", s.suspend_safety},
                     {"suspend_reason", s.suspend_reason},
                     {"filesystems", fs},
                     {"last_restore", s.last_restore}};
    j["last_verification"] =
        s.last_verification ? verification_to_json(*s.last_verification) : nlohmann::json();
    j["incident"] = s.incident ? incident_to_json(*s.incident) : nlohmann::json();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    return write_file_atomic(path, j.dump(1) + "\n");
}

Status append_history(const std::string& path, const VerificationOutcome& v) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0640));
    const std::string line = verification_to_json(v).dump() + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return Error::from_errno("append " + path);
    if (::fsync(fd.get()) != 0)
        return Error::from_errno("fsync " + path);
    return ok_status();
}

} // namespace guardian::daemon
