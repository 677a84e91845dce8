#include "guardian/core/domain_report.hpp"

#include "guardian/core/guest_text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace guardian {

namespace {
std::string or_else(const std::string& v, const std::string& fallback) {
    return v.empty() ? fallback : v;
}
} // namespace

PreflightResult preflight(const DomainReport& d) {
    if (!d.unreadable.empty())
        return {false, "domain " + d.domid + "'s report is unreadable: " + d.unreadable};
    const contract::DecodedReport r = d.decoded();
    if (!r.present)
        return {false, "domain " + d.domid + " does not run guardian (no " +
                           contract::node_path(contract::node::version) + ")"};
    const std::string safety = or_else(r.suspend_safety, "unknown");
    const std::string reason = or_else(r.suspend_safety_reason, "no reason given");
    if (safety == "safe")
        return {true, "domain " + d.domid + " reports suspend-safety safe: " + reason};
    return {false, "domain " + d.domid + " reports suspend-safety " + safety + ": " + reason};
}

std::string render_status_table(const std::vector<DomainReport>& domains) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back(
        {"DOMID", "NAME", "STATE", "KERNEL", "SUSPEND", "LAST RESTORE", "LAST VERIFICATION"});
    // Guest words, escaped and cut: one cell, one line, no terminal control.
    const auto cell = [](const std::string& s) { return for_terminal(s, 64); };
    for (const auto& d : domains) {
        if (!d.unreadable.empty()) {
            rows.push_back({cell(d.domid), cell(d.name), "-", "-", "-", "-",
                            "(unreadable: " + for_terminal(d.unreadable, 80) + ")"});
            continue;
        }
        const contract::DecodedReport r = d.decoded();
        if (!r.present) {
            rows.push_back({cell(d.domid), cell(d.name), "-", "-", "-", "-", "(no guardian)"});
            continue;
        }
        // The state as the guest wrote it: a newer guardian's word shows.
        const auto raw = d.nodes.find(std::string(contract::node::state));
        rows.push_back({cell(d.domid), cell(d.name),
                        cell(or_else(raw == d.nodes.end() ? "" : raw->second, "?")),
                        cell(or_else(r.kernel, "?")), cell(or_else(r.suspend_safety, "?")),
                        cell(or_else(r.last_restore, "-")),
                        cell(or_else(r.last_verification, "-"))});
    }
    return render_columns(rows);
}

std::string render_columns(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(rows.empty() ? 0 : rows.front().size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i)
            line += fmt::format("{:<{}}", r[i],
                                i + 1 == r.size() || i >= width.size() ? 0 : width[i] + 2);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

namespace {

// The kernel-trouble nodes decoded (core/guest_contract.hpp): the guest
// wrote them, so every string is made valid UTF-8 here; absent nodes leave
// their member out.
nlohmann::json trouble_to_json(const contract::DecodedReport& r) {
    nlohmann::json j = nlohmann::json::object();
    if (!r.trouble_counts.empty()) {
        const auto c = contract::decode_trouble_counts(r.trouble_counts);
        nlohmann::json kinds = nlohmann::json::object();
        for (const auto& [kind, n] : c.kinds)
            kinds[as_valid_utf8(kind)] = n;
        j["counts"] = {{"kinds", kinds},
                       {"suppressed", c.suppressed},
                       {"forged", c.forged},
                       {"valid", c.valid}};
    }
    if (!r.trouble_last.empty()) {
        nlohmann::json last = nlohmann::json::array();
        for (const auto& n : contract::decode_trouble_last(r.trouble_last))
            last.push_back({{"time", n.time},
                            {"kind", as_valid_utf8(n.kind)},
                            {"signature", as_valid_utf8(n.signature)},
                            {"function", as_valid_utf8(n.function)},
                            {"known_bug", as_valid_utf8(n.known_bug)}});
        j["last"] = std::move(last);
    }
    if (!r.previous_boot.empty()) {
        const auto p = contract::decode_previous_boot(r.previous_boot);
        j["previous_boot"] = p ? nlohmann::json{{"end", as_valid_utf8(p->end)},
                                                {"boot_id", as_valid_utf8(p->boot_id)},
                                                {"release", as_valid_utf8(p->release)},
                                                {"last_alive", p->last_alive},
                                                {"uptime", p->uptime},
                                                {"trouble", as_valid_utf8(p->trouble_kind)},
                                                {"signature", as_valid_utf8(p->signature)},
                                                {"function", as_valid_utf8(p->function)},
                                                {"known_bug", as_valid_utf8(p->known_bug)}}
                               : nlohmann::json();
    }
    if (!r.known_bugs.empty()) {
        nlohmann::json bugs = nlohmann::json::array();
        for (const auto& b : contract::decode_known_bugs(r.known_bugs))
            bugs.push_back({{"id", as_valid_utf8(b.id)},
                            {"exposure", as_valid_utf8(b.exposure)},
                            {"fixed_in", as_valid_utf8(b.fixed_in)}});
        j["known_bugs"] = std::move(bugs);
    }
    return j;
}

} // namespace

nlohmann::json status_to_json(const std::vector<DomainReport>& domains) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : domains) {
        nlohmann::json data = nlohmann::json::object();
        for (const auto& [k, v] : d.nodes)
            data[as_valid_utf8(k)] = as_valid_utf8(v);
        nlohmann::json j{{"domid", as_valid_utf8(d.domid)},
                         {"name", as_valid_utf8(d.name)},
                         {"guardian", d.unreadable.empty() && d.has_guardian()},
                         {"data", std::move(data)}};
        if (!d.unreadable.empty())
            j["unreadable"] = as_valid_utf8(d.unreadable);
        if (auto t = trouble_to_json(d.decoded()); !t.empty())
            j["kernel_trouble"] = std::move(t);
        const auto p = preflight(d);
        j["preflight"] = {{"ok", p.ok}, {"reason", as_valid_utf8(p.reason)}};
        arr.push_back(std::move(j));
    }
    return nlohmann::json{{"domains", arr}};
}

} // namespace guardian
