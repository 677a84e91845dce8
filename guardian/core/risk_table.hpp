// The kernel risk table: known kernel bugs that make a suspend/restore or a
// migration dangerous, with the upstream versions that have them and what is
// known about distribution backports. The table is data
// (data/kernel-risk.json, installed to /usr/share/guardian/); this is the pure
// parser and the verdict drawn from it for one running kernel.
#pragma once

#include "guardian/core/kernel_version.hpp"
#include "guardian/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// What is known about one distribution's kernels for one issue.
enum class BackportStatus { affected, fixed, unknown };
[[nodiscard]] std::string_view to_string(BackportStatus s) noexcept;

struct Backport {
    KernelDistro distro = KernelDistro::other;
    std::string match; // substring of the release string ("" = every kernel of distro)
    BackportStatus status = BackportStatus::unknown;
    std::optional<std::string> fixed_in; // with status fixed: first package version with the fix
    std::string evidence;                // why we believe it
};

// A claim about particular builds of a module, recognised by what the loaded
// module says about itself in sysfs: evidence about that build, which
// outranks the kernel's version (an out-of-tree or vendor build replaces the
// in-tree module). At least one of version / srcversion is set.
struct ModuleEvidence {
    std::string module;     // sysfs spelling: "xen_blkfront"
    std::string version;    // exact MODULE_VERSION ("" = not compared)
    std::string srcversion; // exact modpost source hash ("" = not compared)
    BackportStatus status = BackportStatus::unknown; // affected / fixed / unknown
    std::string evidence;
};

// A loaded module as /sys/module/<name>/{version,srcversion} show it; a
// module without MODULE_VERSION has neither (both empty).
struct LoadedModule {
    std::string name; // "xen_blkfront"
    std::string version;
    std::string srcversion;
};

struct KernelIssue {
    std::string id; // "xen-blkfront-feature-reread"
    std::string title;
    std::string component;
    std::string description;
    UpstreamVersion introduced;
    UpstreamVersion fixed;
    std::string fix_commit; // upstream subject or hash, for humans
    // Backend xenstore keys whose change across a restore the bug mishandles.
    std::vector<std::string> feature_keys;
    std::vector<Backport> backports;
    std::vector<ModuleEvidence> modules; // checked first: a matching build decides
};

// The second kind of entry: a known crash, hang or corruption bug of the
// kernel itself (not a suspend hazard). Judged before any trouble ("this
// kernel is affected, fixed in X": core/known_bugs.hpp) and matched against
// kernel trouble events after it ("this event matches <id>").

// Upstream versions [from, to): "6.6" to "6.6.54" is 6.6.0 up to 6.6.53. No
// `to`: no fix on that line.
struct VersionRange {
    UpstreamVersion from;
    std::optional<UpstreamVersion> to;
};

// What a kernel trouble event of this bug looks like. Every given part must
// hold; `frames` is a list of groups, each satisfied by any one of its names
// appearing as the faulting function or among the event's frames.
struct TroublePattern {
    std::vector<std::string> kinds;     // to_string(TroubleKind); empty = any kind
    std::vector<std::string> functions; // the faulting function is one of these; empty = any
    std::vector<std::vector<std::string>> frames;
    std::string location; // substring of the BUG/WARNING location
    std::string text;     // substring of the report's first line
};

struct KnownBug {
    std::string id; // "mm-large-folio-pagecache-livelock"
    std::string title;
    std::string component;
    std::string effect; // livelock, crash, hang, disk-disabled, corruption
    std::string description;
    std::vector<std::string> cves;
    std::vector<VersionRange> affected;   // upstream and stable lines
    std::optional<UpstreamVersion> fixed; // first mainline release with the fix
    std::vector<std::string> fix_commits; // "a4864671ca0b lib/xarray: ..."
    std::vector<std::string> conditions;  // "fs:xfs", "xen:blkfront", "xen:netfront", "xen:pv"
    std::vector<Backport> backports;      // distributions that do not track upstream
    std::vector<TroublePattern> patterns;
    std::vector<std::string> evidence; // sources; docs/kernel-risk.md explains them
};

struct RiskTable {
    int schema = 1;
    // Distributions whose kernels take fixes only through upstream stable
    // branches: a base version before the fix means the fix is missing. Any
    // other distribution may have backported it: "unknown" unless a backport
    // entry says otherwise.
    std::vector<KernelDistro> tracks_upstream;
    std::vector<KernelIssue> issues;
    std::vector<KnownBug> known_bugs;

    [[nodiscard]] const KernelIssue* find(std::string_view id) const;
    [[nodiscard]] const KnownBug* find_bug(std::string_view id) const;
};

// Parses the JSON text; errors name the entry and the field
// ("issues[0] (xen-blkfront-feature-reread).fixed: not a version like \"4.2\"").
[[nodiscard]] Result<RiskTable> parse_risk_table(std::string_view json_text);

enum class Safety { safe, unsafe, unknown };
[[nodiscard]] std::string_view to_string(Safety s) noexcept;

struct KernelVerdict {
    Safety safety = Safety::unknown;
    std::string issue_id; // with unsafe (and with unknown when one issue made it so)
    std::string reason;   // one line, for data/guardian/suspend-safety-reason
    // Backend keys that matter for this kernel: the union of feature_keys of
    // every issue that affects it or may affect it (unsafe / unknown).
    std::vector<std::string> risky_keys;
};

// release: `uname -r`; package_version: the distribution kernel package's
// version where known ("3.10.0-1160.119.1.el7", "3.16.84-1"), else nullopt;
// modules: the loaded modules an issue's `modules` evidence may name.
[[nodiscard]] KernelVerdict judge_kernel(const RiskTable& table, std::string_view release,
                                         const std::optional<std::string>& package_version = {},
                                         const std::vector<LoadedModule>& modules = {});

// How bad a change of backend feature keys across a restore is for this
// kernel: critical when the kernel is (or may be) without the fix and a key
// that the issue names changed; warning for any other change (recorded);
// none when nothing changed.
enum class FeatureChangeSeverity { none, warning, critical };
[[nodiscard]] std::string_view to_string(FeatureChangeSeverity s) noexcept;

struct FeatureChangeJudgement {
    FeatureChangeSeverity severity = FeatureChangeSeverity::none;
    std::vector<std::string> critical_keys; // changed keys the issue names
    std::string reason;
    // Critical, and the change makes the frontend's writes carry wrong data
    // (persistent_grants_newly_offered, blkfront.hpp): nothing more may be
    // written through it. Set by the caller, which has the changes.
    bool writes_unsafe = false;
};

[[nodiscard]] FeatureChangeJudgement
judge_feature_change(const KernelVerdict& verdict, const std::vector<std::string>& changed_keys);

} // namespace guardian
