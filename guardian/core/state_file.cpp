#include "guardian/core/state_file.hpp"

#include "guardian/core/findings_json.hpp"
#include "guardian/core/fingerprint.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>

namespace guardian {

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

nlohmann::json state_to_json(const StateSnapshot& s) {
    nlohmann::json fs = nlohmann::json::array();
    for (const auto& f : s.filesystems)
        fs.push_back({{"device", f.device}, {"mount_point", f.mount_point}, {"uuid", f.uuid}});
    nlohmann::json j{{"schema", k_state_file_schema},
                     {"state", s.state},
                     {"kernel", s.kernel},
                     {"suspend_safety", s.suspend_safety},
                     {"suspend_reason", s.suspend_reason},
                     {"filesystems", fs},
                     {"last_restore", s.last_restore}};
    j["last_verification"] =
        s.last_verification ? verification_to_json(*s.last_verification) : nlohmann::json();
    j["incident"] = s.incident ? incident_to_json(*s.incident) : nlohmann::json();
    if (s.kernel_trouble)
        j["kernel_trouble"] = trouble_to_json(*s.kernel_trouble);
    if (!s.parts.empty())
        j["parts"] = parts_to_json(s.parts);
    return j;
}

namespace {

// A member when it exists; a half-written or foreign file must not throw.
const nlohmann::json* member(const nlohmann::json& j, const char* key) {
    if (!j.is_object())
        return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

// A string member; absent or not a string: "" and the key named as missing.
std::string text(const nlohmann::json& j, const char* key, std::vector<std::string>* missing) {
    const auto* m = member(j, key);
    if (m != nullptr && m->is_string())
        return m->get<std::string>();
    if (missing != nullptr)
        missing->emplace_back(key);
    return {};
}

// One line for a finding as state_file writes it (an object), or the line
// itself when an entry is already text (geometry and frozen changes).
std::string line_of(const nlohmann::json& f) {
    if (f.is_string())
        return f.get<std::string>();
    std::string s = text(f, "structure", nullptr);
    // push_back, not `s = "?"`: GCC 12 at -O2 with ASan warns falsely
    // (-Wrestrict) on assigning a literal there, which -Werror makes fatal.
    if (s.empty())
        s.push_back('?');
    for (const char* k : {"group", "inode", "block"})
        if (const auto* v = member(f, k); v != nullptr && v->is_number())
            s += fmt::format(" {} {}", k, v->dump());
    if (auto d = text(f, "detail", nullptr); !d.empty())
        s += ": " + d;
    return s;
}

std::optional<std::vector<std::string>> lines(const nlohmann::json& j, const char* key) {
    const auto* m = member(j, key);
    if (m == nullptr || !m->is_array())
        return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : *m)
        out.push_back(line_of(e));
    return out;
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
    std::vector<std::string> out;
    if (const auto* m = member(j, key); m != nullptr && m->is_array())
        for (const auto& e : *m)
            if (e.is_string())
                out.push_back(e.get<std::string>());
    return out;
}

bool is_true(const nlohmann::json& j, const char* key) {
    const auto* m = member(j, key);
    return m != nullptr && *m == true;
}

} // namespace

DecodedVerification decode_verification(const nlohmann::json& j) {
    DecodedVerification v;
    v.time = text(j, "time", &v.missing);
    v.verdict = text(j, "verdict", &v.missing);
    v.reasons = strings(j, "reasons");
    v.affected = strings(j, "affected");
    v.coordinated = is_true(j, "coordinated");
    const auto* fss = member(j, "filesystems");
    if (fss == nullptr || !fss->is_array()) {
        v.missing.emplace_back("filesystems");
        return v;
    }
    for (const auto& f : *fss) {
        DecodedFsVerification d;
        d.device = text(f, "device", nullptr);
        d.mount_point = text(f, "mount_point", nullptr);
        d.uuid = text(f, "uuid", nullptr);
        if (const auto* c = member(f, "checked"); c != nullptr && c->is_boolean())
            d.checked = c->get<bool>();
        d.error = text(f, "error", nullptr);
        d.findings = lines(f, "findings");
        d.geometry_changes = lines(f, "geometry_changes");
        d.frozen_compared = is_true(f, "frozen_compared");
        d.frozen_changes = lines(f, "frozen_changes");
        if (const auto* g = member(f, "errors_count_growth"); g != nullptr && g->is_number())
            d.errors_count_growth = g->dump();
        v.filesystems.push_back(std::move(d));
    }
    return v;
}

DecodedState decode_state(const nlohmann::json& j) {
    DecodedState s;
    if (const auto* v = member(j, "schema"); v != nullptr && v->is_number_integer())
        s.schema = v->get<int>();
    s.state = text(j, "state", &s.missing);
    s.kernel = text(j, "kernel", &s.missing);
    s.suspend_safety = text(j, "suspend_safety", &s.missing);
    s.suspend_reason = text(j, "suspend_reason", &s.missing);
    s.last_restore = text(j, "last_restore", &s.missing);
    if (const auto* fss = member(j, "filesystems"); fss != nullptr && fss->is_array())
        for (const auto& f : *fss)
            s.filesystems.push_back({text(f, "device", nullptr), text(f, "mount_point", nullptr),
                                     text(f, "uuid", nullptr)});
    else
        s.missing.emplace_back("filesystems");
    if (const auto* v = member(j, "last_verification"); v != nullptr && v->is_object())
        s.last_verification = decode_verification(*v);
    if (const auto* inc = member(j, "incident"); inc != nullptr && inc->is_object()) {
        DecodedIncident d;
        d.reason = text(*inc, "reason", nullptr);
        if (const auto* steps = member(*inc, "steps"); steps != nullptr && steps->is_array())
            for (const auto& st : *steps)
                d.steps.push_back({text(st, "step", nullptr), text(st, "outcome", nullptr),
                                   text(st, "target", nullptr), text(st, "method", nullptr),
                                   text(st, "detail", nullptr)});
        s.incident = std::move(d);
    }
    if (const auto* t = member(j, "kernel_trouble"); t != nullptr && t->is_object())
        s.kernel_trouble = trouble_from_json(*t);
    if (const auto* p = member(j, "parts"))
        s.parts = parts_from_json(*p);
    return s;
}

} // namespace guardian
