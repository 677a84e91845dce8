#include "guardian/core/findings_json.hpp"

#include <nlohmann/json.hpp>

namespace guardian {

nlohmann::json finding_to_json(const Finding& f) {
    nlohmann::json j{{"structure", to_string(f.structure)}};
    if (f.group)
        j["group"] = *f.group;
    if (f.inode)
        j["inode"] = *f.inode;
    if (f.block)
        j["block"] = *f.block;
    if (!f.detail.empty())
        j["detail"] = f.detail;
    return j;
}

nlohmann::json check_report_to_json(const CheckReport& r) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : r.findings)
        findings.push_back(finding_to_json(f));
    return {
        {"source", r.identity.source},
        {"type", r.identity.type},
        {"uuid", r.identity.uuid},
        {"label", r.identity.label},
        {"mode", to_string(r.mode)},
        {"metadata_csum", r.metadata_csum},
        {"intact", r.intact()},
        {"findings", findings},
        {"not_verified", r.not_verified},
        {"stats",
         {{"blocks_read", r.stats.blocks_read},
          {"bytes_read", r.stats.bytes_read},
          {"inodes_checked", r.stats.inodes_checked},
          {"seconds", static_cast<double>(r.stats.seconds_x1e6) / 1e6}}},
    };
}

} // namespace guardian
