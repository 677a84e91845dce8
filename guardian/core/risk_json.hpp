// The JSON reading shared by the two kinds of risk-table entry (suspend
// safety in risk_table.cpp, known kernel bugs in known_bugs.cpp): fields with
// errors that name the entry and the field. Internal to core.
#pragma once

#include "guardian/core/kernel_version.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/util/result.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::risk_json {

using nlohmann::json;

[[nodiscard]] Error field_error(const std::string& where, std::string_view field,
                                std::string_view what);
[[nodiscard]] Result<std::string> get_string(const json& j, const std::string& where,
                                             std::string_view field, bool required = true);
[[nodiscard]] Result<UpstreamVersion> get_version(const json& j, const std::string& where,
                                                  std::string_view field);
[[nodiscard]] Result<KernelDistro> get_distro(const json& j, const std::string& where,
                                              std::string_view field);
[[nodiscard]] Result<BackportStatus> parse_status(const json& j, const std::string& where);
[[nodiscard]] Result<Backport> parse_backport(const json& j, const std::string& where);
// The first backport entry for this kernel's distribution (and `match`),
// with "fixed" turned into "affected" when the package is older than
// fixed_in; nullopt when none applies.
struct BackportDecision {
    BackportStatus status = BackportStatus::unknown;
    const Backport* entry = nullptr;
    bool older_than_fix = false;
    std::string have; // the version compared: the package version, else the release
};
[[nodiscard]] std::optional<BackportDecision>
decide_backport(const std::vector<Backport>& backports, const KernelRelease& k,
                const std::optional<std::string>& package_version);

// One entry of "known_bugs" (known_bugs.cpp).
[[nodiscard]] Result<KnownBug> parse_known_bug(const json& j, std::size_t index);

} // namespace guardian::risk_json
