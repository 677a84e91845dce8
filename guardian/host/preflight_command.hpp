// `guardian-host preflight`: may these domains be saved and restored (or
// migrated) now? Every domain gets a verdict and its source: the guest's own
// guardian report; for guests without guardian the kernel guardian-hostd
// found on the console (its boot banner) judged by the same risk table; key
// evidence (a lower bound only); or unknown (core/guest_kernel_evidence).
#pragma once

#include "guardian/xen/xenstore.hpp"

#include <string>
#include <vector>

namespace guardian::host {

// The risk table guardian-host ships (a copy of guardian's own).
inline constexpr const char* default_risk_table = "/usr/share/guardian-host/kernel-risk.json";

struct PreflightArgs {
    std::vector<std::string> domids; // empty: every guest (every domain but dom0)
    std::string ledger;
    std::string risk_table;
    bool json = false;
};

// Exit codes: 0 every domain safe, 1 any not, 2 xenstore could not be read.
[[nodiscard]] int run_preflight(xen::XenStore& xs, const PreflightArgs& args);

} // namespace guardian::host
