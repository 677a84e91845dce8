// What changed in a guest's data/guardian/ report since guardian-hostd last
// read it, as the ledger records it: a verdict, an incident, a restore, a
// boot report, new kernel trouble, the previous boot's end, and the kernel
// and distribution the guest runs. Pure; the values are the
// guest's (the ledger bounds them, every output escapes them).
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "guardian/ledger/ledger.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace guardian::hostd {

struct ReportChanges {
    std::optional<std::string> kernel;       // first seen, or changed
    std::optional<std::string> distribution; // the same
    std::vector<std::pair<ledger::EventKind, std::string>> events;
};

[[nodiscard]] ReportChanges report_changes(const contract::DecodedReport& before,
                                           const contract::DecodedReport& after);

} // namespace guardian::hostd
