// CheckReport -> JSON: the `guardianctl check --json` contract (README) and
// the daemon's incident records use the same shape.
#pragma once

#include "guardian/core/findings.hpp"

#include <nlohmann/json_fwd.hpp>

namespace guardian {

[[nodiscard]] nlohmann::json finding_to_json(const Finding& f);
[[nodiscard]] nlohmann::json check_report_to_json(const CheckReport& r);

} // namespace guardian
