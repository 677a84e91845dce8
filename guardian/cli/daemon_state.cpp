#include "guardian/cli/daemon_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace guardian::cli {
namespace {

// A string member, or `fallback` when absent or not a string.
std::string str(const nlohmann::json& j, const char* key, const std::string& fallback = "") {
    if (!j.is_object())
        return fallback;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
        return fallback;
    return it->get<std::string>();
}

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
    static const nlohmann::json null_json;
    if (!j.is_object())
        return null_json;
    auto it = j.find(key);
    return it == j.end() ? null_json : *it;
}

std::string describe_finding(const nlohmann::json& f) {
    std::string s = str(f, "structure", "?");
    for (const char* k : {"group", "inode", "block"})
        if (const auto& v = member(f, k); v.is_number())
            s += fmt::format(" {} {}", k, v.dump());
    if (auto d = str(f, "detail"); !d.empty())
        s += ": " + d;
    return s;
}

void render_verification(const nlohmann::json& v, std::string& out) {
    out += "  last verification: " + history_row(v) + "\n";
    for (const auto& r : member(v, "reasons"))
        if (r.is_string())
            out += "    reason: " + r.get<std::string>() + "\n";
    for (const auto& fs : member(v, "filesystems")) {
        const auto& findings = member(fs, "findings");
        const auto& geometry = member(fs, "geometry_changes");
        const auto& frozen = member(fs, "frozen_changes");
        std::string line =
            fmt::format("    {} ({}): ", str(fs, "device", "?"), str(fs, "mount_point", "?"));
        if (auto e = str(fs, "error"); !e.empty())
            line += "not checked: " + e;
        else
            line += fmt::format("{} finding(s)", findings.is_array() ? findings.size() : 0);
        if (geometry.is_array() && !geometry.empty())
            line += fmt::format(", {} geometry change(s)", geometry.size());
        if (member(fs, "frozen_compared") == true)
            line += fmt::format(", frozen comparison: {} change(s)",
                                frozen.is_array() ? frozen.size() : 0);
        if (const auto& g = member(fs, "errors_count_growth"); g.is_number() && g != 0)
            line += ", ext4 errors_count grew by " + g.dump();
        out += line + "\n";
        for (const auto* list : {&findings, &geometry, &frozen})
            for (const auto& f : *list)
                out +=
                    "      " + (f.is_string() ? f.get<std::string>() : describe_finding(f)) + "\n";
    }
}

} // namespace

std::string history_row(const nlohmann::json& v) {
    const auto& reasons = member(v, "reasons");
    std::string reason = "-";
    if (reasons.is_array() && !reasons.empty() && reasons[0].is_string())
        reason = reasons[0].get<std::string>();
    return fmt::format("{}  {:<8}  {:<11}  {}", str(v, "time", "?"), str(v, "verdict", "?"),
                       member(v, "coordinated") == true ? "coordinated" : "restore", reason);
}

std::string render_state(const nlohmann::json& state) {
    std::string out = fmt::format("guardiand: {}\n", str(state, "state", "?"));
    if (auto k = str(state, "kernel"); !k.empty())
        out += fmt::format("  kernel {}: suspend {} ({})\n", k, str(state, "suspend_safety", "?"),
                           str(state, "suspend_reason", "-"));
    const auto& fs = member(state, "filesystems");
    if (!fs.is_array() || fs.empty())
        out += "  guarding: nothing\n";
    for (const auto& f : fs)
        out += fmt::format("  guarding {} on {} (uuid {})\n", str(f, "device", "?"),
                           str(f, "mount_point", "?"), str(f, "uuid", "?"));
    out += "  last restore: " + str(state, "last_restore", "none") + "\n";
    if (const auto& v = member(state, "last_verification"); v.is_object())
        render_verification(v, out);
    else
        out += "  last verification: none\n";
    if (const auto& inc = member(state, "incident"); inc.is_object()) {
        out += "  INCIDENT: " + str(inc, "reason", "?") + "\n";
        for (const auto& s : member(inc, "steps")) {
            std::string line = fmt::format("    {} {}: {}", str(s, "step", "?"),
                                           str(s, "target", "(system)"), str(s, "outcome", "?"));
            if (auto m = str(s, "method"); !m.empty())
                line += " (" + m + ")";
            if (auto d = str(s, "detail"); !d.empty())
                line += ": " + d;
            out += line + "\n";
        }
    }
    return out;
}

std::vector<HistoryLine> parse_history(const std::string& text, std::size_t limit) {
    std::vector<HistoryLine> out;
    std::istringstream in(text);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        HistoryLine h;
        h.line_number = number;
        h.entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (h.entry.is_discarded())
            h.error = "not valid JSON";
        else if (!h.entry.is_object())
            h.error = "not a JSON object";
        else if (!member(h.entry, "verdict").is_string())
            h.error = "no verdict";
        if (!h.error.empty())
            h.entry = nullptr;
        out.push_back(std::move(h));
    }
    if (limit == 0)
        return out;
    // Keep the newest `limit` valid entries and every malformed line.
    std::size_t valid = 0;
    std::vector<HistoryLine> kept;
    for (auto it = out.rbegin(); it != out.rend(); ++it) {
        if (it->error.empty() && valid++ >= limit)
            continue;
        kept.push_back(std::move(*it));
    }
    std::reverse(kept.begin(), kept.end());
    return kept;
}

} // namespace guardian::cli
