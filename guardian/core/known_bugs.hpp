// Known kernel bugs (the risk table's second kind of entry, data in
// data/kernel-risk.json "known_bugs", evidence in docs/kernel-risk.md):
// before any trouble, which of them this kernel has ("affected by <id>,
// fixed in <version>"); after trouble, which of them an event matches. Pure.
#pragma once

#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/risk_table.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// What is known about the running kernel and the guest around it.
struct KernelFacts {
    std::string release; // uname -r: "6.1.0-26-amd64"
    std::string version; // uname -v: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)"
    std::optional<std::string> package_version; // the distribution's kernel package, where known
    // Conditions that hold ("fs:xfs" while an XFS filesystem is mounted,
    // "xen:blkfront", "xen:netfront", "xen:pv").
    std::vector<std::string> conditions;
    // false when the caller could not tell which conditions hold: a
    // condition then counts as possibly true.
    bool conditions_known = true;
};

// The upstream (stable) version the kernel is built from: the release's own
// version where it carries the stable patch level ("6.1.112", Fedora's
// "6.1.112-200.fc38"), else Debian's "Debian 6.1.112-1" in `uname -v`;
// nullopt when the patch level is not known (Debian's "6.1.0-26-amd64"
// without its version string, Ubuntu's ABI numbers).
[[nodiscard]] std::optional<UpstreamVersion> stable_version(const KernelRelease& k,
                                                            std::string_view uname_version);

enum class BugExposure {
    affected,     // the kernel has the bug and its conditions hold (or may hold)
    latent,       // the kernel has the bug, but a condition does not hold now
    unknown,      // cannot tell: a vendor kernel without a backport record, an unknown patch level
    not_affected, // outside every affected range, or a backport record says fixed
};
[[nodiscard]] std::string_view to_string(BugExposure e) noexcept;

struct BugVerdict {
    std::string bug_id;
    BugExposure exposure = BugExposure::unknown;
    std::string fixed_in; // "6.1.113" on the kernel's stable line, else the mainline fix
    std::vector<std::string> unmet_conditions; // with latent
    std::string reason;                        // one line
};

// One verdict per known bug, in table order.
[[nodiscard]] std::vector<BugVerdict> judge_known_bugs(const RiskTable& table,
                                                       const KernelFacts& facts);

[[nodiscard]] bool pattern_matches(const TroublePattern& p, const TroubleEvent& e);
// The ids of the known bugs one of whose patterns the event matches.
[[nodiscard]] std::vector<std::string> match_known_bugs(const RiskTable& table,
                                                        const TroubleEvent& e);

} // namespace guardian
