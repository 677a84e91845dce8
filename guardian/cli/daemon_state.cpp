#include "guardian/cli/daemon_state.hpp"

#include "guardian/core/state_file.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace guardian::cli {
namespace {

// The file's text, or `fallback` when the decoder found it empty or absent.
std::string or_else(const std::string& v, const std::string& fallback) {
    return v.empty() ? fallback : v;
}

std::string row(const DecodedVerification& v) {
    return fmt::format("{}  {:<8}  {:<11}  {}", or_else(v.time, "?"), or_else(v.verdict, "?"),
                       v.coordinated ? "coordinated" : "restore",
                       v.reasons.empty() ? std::string("-") : v.reasons.front());
}

void render_verification(const DecodedVerification& v, std::string& out) {
    out += "  last verification: " + row(v) + "\n";
    for (const auto& r : v.reasons)
        out += "    reason: " + r + "\n";
    for (const auto& fs : v.filesystems) {
        std::string line =
            fmt::format("    {} ({}): ", or_else(fs.device, "?"), or_else(fs.mount_point, "?"));
        if (!fs.error.empty())
            line += "not checked: " + fs.error;
        else
            line += fmt::format("{} finding(s)", fs.findings ? fs.findings->size() : 0);
        if (fs.geometry_changes && !fs.geometry_changes->empty())
            line += fmt::format(", {} geometry change(s)", fs.geometry_changes->size());
        if (fs.frozen_compared)
            line += fmt::format(", frozen comparison: {} change(s)",
                                fs.frozen_changes ? fs.frozen_changes->size() : 0);
        if (fs.errors_count_growth && *fs.errors_count_growth != "0")
            line += ", ext4 errors_count grew by " + *fs.errors_count_growth;
        out += line + "\n";
        for (const auto* list : {&fs.findings, &fs.geometry_changes, &fs.frozen_changes})
            if (*list)
                for (const auto& f : **list)
                    out += "      " + f + "\n";
    }
}

// Each part of guardiand, active or idle and why; then this boot's kernel
// trouble, the previous boot and the known bugs (state.json since the
// kernel trouble watch; older files have neither).
void render_trouble(const DecodedState& state, std::string& out) {
    for (const auto& p : state.parts)
        out += fmt::format("  {}: {}{}\n", p.part, p.active ? "active" : "idle",
                           p.detail.empty() ? "" : " (" + p.detail + ")");
    if (!state.kernel_trouble)
        return;
    const TroubleSnapshot& t = *state.kernel_trouble;
    std::string counts;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < t.counts.seen.size(); ++i)
        if (t.counts.seen[i] > 0) {
            counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", t.counts.seen[i],
                                  to_string(static_cast<TroubleKind>(i)));
            total += t.counts.seen[i];
        }
    out += "  kernel trouble this boot: " + (total == 0 ? std::string("none") : counts);
    if (t.counts.forged > 0)
        out += fmt::format(" ({} forged line(s) from processes ignored)", t.counts.forged);
    out += "\n";
    for (const auto& n : t.last)
        out +=
            fmt::format("    {} {} in {} (signature {}){}\n",
                        iso8601_utc(std::chrono::seconds(n.time)), n.kind, or_else(n.function, "?"),
                        n.signature, n.known_bug.empty() ? "" : ", known bug " + n.known_bug);
    if (t.previous_boot)
        out += "  previous boot: " + describe_end(*t.previous_boot) + "\n";
    for (const auto& b : t.known_bugs)
        if (b.exposure != BugExposure::not_affected)
            out +=
                fmt::format("  known kernel bug {}: {}{} ({})\n", b.bug_id, to_string(b.exposure),
                            b.fixed_in.empty() ? ""
                            : (b.fixed_in.front() >= '0' && b.fixed_in.front() <= '9')
                                ? ", fixed in " + b.fixed_in
                                : ", " + b.fixed_in,
                            b.reason);
}

} // namespace

std::string history_row(const nlohmann::json& v) {
    return row(decode_verification(v));
}

std::string render_state(const nlohmann::json& json) {
    const DecodedState state = decode_state(json);
    std::string out = fmt::format("guardiand: {}\n", or_else(state.state, "?"));
    if (!state.kernel.empty())
        out += fmt::format("  kernel {}: suspend {} ({})\n", state.kernel,
                           or_else(state.suspend_safety, "?"), or_else(state.suspend_reason, "-"));
    if (state.filesystems.empty())
        out += "  guarding: nothing\n";
    for (const auto& f : state.filesystems)
        out += fmt::format("  guarding {} on {} (uuid {})\n", or_else(f.device, "?"),
                           or_else(f.mount_point, "?"), or_else(f.uuid, "?"));
    out += "  last restore: " + or_else(state.last_restore, "none") + "\n";
    if (state.last_verification)
        render_verification(*state.last_verification, out);
    else
        out += "  last verification: none\n";
    if (state.incident) {
        out += "  INCIDENT: " + or_else(state.incident->reason, "?") + "\n";
        for (const auto& s : state.incident->steps) {
            std::string line = fmt::format("    {} {}: {}", or_else(s.step, "?"),
                                           or_else(s.target, "(system)"), or_else(s.outcome, "?"));
            if (!s.method.empty())
                line += " (" + s.method + ")";
            if (!s.detail.empty())
                line += ": " + s.detail;
            out += line + "\n";
        }
    }
    render_trouble(state, out);
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
        else if (const auto m = decode_verification(h.entry).missing;
                 std::find(m.begin(), m.end(), "verdict") != m.end())
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
