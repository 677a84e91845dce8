#include "guardian/core/domain_report.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace guardian {

std::string DomainReport::get(const std::string& node, const std::string& fallback) const {
    const auto it = nodes.find(node);
    return it == nodes.end() || it->second.empty() ? fallback : it->second;
}

PreflightResult preflight(const DomainReport& d) {
    if (!d.has_guardian())
        return {false, "domain " + d.domid + " does not run guardian (no data/guardian/version)"};
    const std::string safety = d.get("suspend-safety", "unknown");
    const std::string reason = d.get("suspend-safety-reason", "no reason given");
    if (safety == "safe")
        return {true, "domain " + d.domid + " reports suspend-safety safe: " + reason};
    return {false, "domain " + d.domid + " reports suspend-safety " + safety + ": " + reason};
}

std::string render_status_table(const std::vector<DomainReport>& domains) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back(
        {"DOMID", "NAME", "STATE", "KERNEL", "SUSPEND", "LAST RESTORE", "LAST VERIFICATION"});
    for (const auto& d : domains) {
        if (!d.has_guardian()) {
            rows.push_back({d.domid, d.name, "-", "-", "-", "-", "(no guardian)"});
            continue;
        }
        rows.push_back({d.domid, d.name, d.get("state", "?"), d.get("kernel", "?"),
                        d.get("suspend-safety", "?"), d.get("last-restore", "-"),
                        d.get("last-verification", "-")});
    }
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i)
            line += fmt::format("{:<{}}", r[i], i + 1 == r.size() ? 0 : width[i] + 2);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

nlohmann::json status_to_json(const std::vector<DomainReport>& domains) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : domains) {
        nlohmann::json j{{"domid", d.domid},
                         {"name", d.name},
                         {"guardian", d.has_guardian()},
                         {"data", d.nodes}};
        const auto p = preflight(d);
        j["preflight"] = {{"ok", p.ok}, {"reason", p.reason}};
        arr.push_back(std::move(j));
    }
    return nlohmann::json{{"domains", arr}};
}

} // namespace guardian
