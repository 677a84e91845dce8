// "Which of my guests can I suspend?" for every guest, including the many
// that run no guardian: the preflight verdict with where it comes from.
// A guest's guardian reports its own verdict; for a guest without it, dom0
// knows the kernel only from what guardian-hostd found on the guest's
// console (the kernel's own boot banner, core/console_banner) and, as a
// lower bound only, from keys its block frontend writes into xenstore
// (docs/fleet-statistics.md, "Guests without guardian", has the source
// history behind each key). Nothing here ever names a release it was not
// shown: no evidence is "unknown". Pure.
#pragma once

#include "guardian/core/domain_report.hpp"
#include "guardian/core/kernel_version.hpp"
#include "guardian/core/risk_table.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace guardian {

// Where a preflight verdict comes from.
enum class VerdictSource { guardian_report, console_banner, key_evidence, unknown };
[[nodiscard]] std::string_view to_string(VerdictSource s) noexcept;

// A frontend-written xenstore key whose first upstream appearance is known
// from the kernel's source history.
struct FrontendKeyEvidence {
    std::string_view device; // "vbd"
    std::string_view key;    // "multi-queue-num-queues"
    UpstreamVersion since;   // the first release whose frontend writes it
    std::string_view commit; // the upstream commit that made it write it
};
[[nodiscard]] const std::vector<FrontendKeyEvidence>& frontend_key_evidence();

// The newest lower bound that the frontend's keys prove, or nullopt. `nodes`
// maps "vbd/51712/multi-queue-num-queues" (relative to the domain's
// device/) to the value the guest wrote.
struct KernelLowerBound {
    UpstreamVersion at_least;
    std::string node; // the key that shows it
    std::string commit;
};
[[nodiscard]] std::optional<KernelLowerBound>
kernel_lower_bound(const std::map<std::string, std::string>& nodes);

// What dom0 knows of a guest's kernel besides the guest's own report.
struct HostKernelEvidence {
    std::string ledger_error;   // the ledger could not be read ("" when it was)
    bool followed = false;      // guardian-hostd records this domain
    std::string kernel;         // the running boot's kernel in the ledger, "" if none
    std::string kernel_version; // its build string (`uname -v`, the banner's)
    std::string kernel_source;  // "console banner" or "guardian report"
    std::string console_note;   // how the banner search ended, "" while it looks
    std::map<std::string, std::string> frontend_nodes; // device/<dev>/<id>/<key>
};

struct PreflightVerdict {
    bool ok = false;
    Safety safety = Safety::unknown;
    VerdictSource source = VerdictSource::unknown;
    std::string kernel; // as the source names it; "at least 4.6" for key evidence
    std::string reason; // one line; guest-written parts escaped by each output
};

// The guest's own report when it runs guardian; else the ledger's kernel of
// the running boot (the console banner guardian-hostd found, or what the
// guest's guardian reported for this boot before its data/ went), judged by
// `table` (null: it could not be read, named in `table_error`); else key
// evidence (never safe: a lower bound does not prove a fix that vendors
// backport independently); else unknown.
[[nodiscard]] PreflightVerdict judge_preflight(const DomainReport& d, const HostKernelEvidence& e,
                                               const RiskTable* table,
                                               std::string_view table_error = {});

// Every guest-written part escaped (table) or made valid UTF-8 (JSON).
struct PreflightRow {
    DomainReport domain;
    PreflightVerdict verdict;
};
[[nodiscard]] std::string render_preflight_table(const std::vector<PreflightRow>& rows);
[[nodiscard]] nlohmann::json preflight_to_json(const std::vector<PreflightRow>& rows);

} // namespace guardian
