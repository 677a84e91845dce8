#include "guardian/core/risk_table.hpp"

#include "guardian/core/risk_json.hpp"
#include <algorithm>

#include <nlohmann/json.hpp>

namespace guardian {
namespace {

using namespace risk_json;

Result<ModuleEvidence> parse_module_evidence(const json& j, const std::string& where) {
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    ModuleEvidence m;
    GUARDIAN_TRY_ASSIGN(m.module, get_string(j, where, "module"));
    if (m.module.empty() || m.module.find('/') != std::string::npos)
        return field_error(where, "module", "empty or not a module name");
    GUARDIAN_TRY_ASSIGN(m.version, get_string(j, where, "version", false));
    GUARDIAN_TRY_ASSIGN(m.srcversion, get_string(j, where, "srcversion", false));
    if (m.version.empty() && m.srcversion.empty())
        return field_error(where, "version", "neither version nor srcversion names the build");
    GUARDIAN_TRY_ASSIGN(m.status, parse_status(j, where));
    GUARDIAN_TRY_ASSIGN(m.evidence, get_string(j, where, "evidence"));
    if (m.evidence.empty())
        return field_error(where, "evidence", "empty: say why");
    return m;
}

Result<KernelIssue> parse_issue(const json& j, std::size_t index) {
    std::string where = "issues[" + std::to_string(index) + "]";
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    KernelIssue issue;
    GUARDIAN_TRY_ASSIGN(issue.id, get_string(j, where, "id"));
    if (issue.id.empty() || issue.id.find_first_of(" \t,;") != std::string::npos)
        return field_error(where, "id", "empty or contains a separator");
    where += " (" + issue.id + ")";
    GUARDIAN_TRY_ASSIGN(issue.title, get_string(j, where, "title"));
    GUARDIAN_TRY_ASSIGN(issue.component, get_string(j, where, "component"));
    GUARDIAN_TRY_ASSIGN(issue.description, get_string(j, where, "description"));
    GUARDIAN_TRY_ASSIGN(issue.fix_commit, get_string(j, where, "fix_commit", false));
    const auto up = j.find("upstream");
    if (up == j.end() || !up->is_object())
        return field_error(where, "upstream", "missing or not an object");
    GUARDIAN_TRY_ASSIGN(issue.introduced, get_version(*up, where + ".upstream", "introduced"));
    GUARDIAN_TRY_ASSIGN(issue.fixed, get_version(*up, where + ".upstream", "fixed"));
    if (!(issue.introduced < issue.fixed))
        return field_error(where, "upstream", "introduced is not before fixed");
    const auto keys = j.find("feature_keys");
    if (keys == j.end() || !keys->is_array())
        return field_error(where, "feature_keys", "missing or not an array");
    for (const auto& k : *keys) {
        if (!k.is_string() || k.get<std::string>().empty())
            return field_error(where, "feature_keys", "holds something that is not a key name");
        issue.feature_keys.push_back(k.get<std::string>());
    }
    if (const auto bps = j.find("backports"); bps != j.end()) {
        if (!bps->is_array())
            return field_error(where, "backports", "not an array");
        for (std::size_t i = 0; i < bps->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(Backport b, parse_backport((*bps)[i], where + ".backports[" +
                                                                          std::to_string(i) + "]"));
            issue.backports.push_back(std::move(b));
        }
    }
    if (const auto mods = j.find("modules"); mods != j.end()) {
        if (!mods->is_array())
            return field_error(where, "modules", "not an array");
        for (std::size_t i = 0; i < mods->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(
                ModuleEvidence m,
                parse_module_evidence((*mods)[i], where + ".modules[" + std::to_string(i) + "]"));
            issue.modules.push_back(std::move(m));
        }
    }
    return issue;
}

void add_keys(std::vector<std::string>& into, const std::vector<std::string>& keys) {
    for (const auto& k : keys)
        if (std::find(into.begin(), into.end(), k) == into.end())
            into.push_back(k);
}

// One issue against one kernel.
struct IssueOutcome {
    Safety safety;
    std::string reason;
};

// The first loaded module that an evidence entry names by its exact version
// or srcversion, as "xen_blkfront version X".
std::optional<std::string> matching_build(const ModuleEvidence& m,
                                          const std::vector<LoadedModule>& modules) {
    for (const auto& l : modules) {
        if (l.name != m.module)
            continue;
        if (!m.version.empty() && l.version == m.version)
            return l.name + " version " + l.version;
        if (!m.srcversion.empty() && l.srcversion == m.srcversion)
            return l.name + " srcversion " + l.srcversion;
    }
    return std::nullopt;
}

// What module evidence says, when an entry names a loaded build.
std::optional<IssueOutcome> judge_modules(const KernelIssue& issue,
                                          const std::vector<LoadedModule>& modules) {
    for (const auto& m : issue.modules) {
        const auto build = matching_build(m, modules);
        if (!build)
            continue;
        switch (m.status) {
        case BackportStatus::affected:
            return IssueOutcome{Safety::unsafe, issue.id + ": the loaded module " + *build +
                                                    " lacks the fix (" + m.evidence + ")"};
        case BackportStatus::unknown:
            return IssueOutcome{Safety::unknown, issue.id + ": whether the loaded module " +
                                                     *build + " carries the fix is not known (" +
                                                     m.evidence + ")"};
        case BackportStatus::fixed:
            return IssueOutcome{Safety::safe, ""};
        }
    }
    return std::nullopt;
}

IssueOutcome judge_issue(const RiskTable& table, const KernelIssue& issue, const KernelRelease& k,
                         const std::optional<std::string>& package_version,
                         const std::vector<LoadedModule>& modules) {
    // A named build is evidence about the code that runs, whatever the
    // kernel's version says.
    if (auto by_module = judge_modules(issue, modules))
        return std::move(*by_module);
    const std::string base = to_string(k.base);
    if (k.base < issue.introduced)
        return {Safety::safe, ""};
    if (!(k.base < issue.fixed))
        return {Safety::safe, ""};
    if (const auto d = decide_backport(issue.backports, k, package_version)) {
        const std::string distro(to_string(k.distro));
        switch (d->status) {
        case BackportStatus::affected:
            if (d->older_than_fix)
                return {Safety::unsafe, issue.id + ": " + distro + " kernel " + d->have +
                                            " is older than the backport in " +
                                            *d->entry->fixed_in};
            return {Safety::unsafe, issue.id + ": " + distro + " kernel " + k.release +
                                        " lacks the fix (" + d->entry->evidence + ")"};
        case BackportStatus::unknown:
            return {Safety::unknown, issue.id + ": whether " + distro + " kernel " + k.release +
                                         " carries the fix is not known (" + d->entry->evidence +
                                         ")"};
        case BackportStatus::fixed:
            return {Safety::safe, ""};
        }
    }
    const bool tracks = std::find(table.tracks_upstream.begin(), table.tracks_upstream.end(),
                                  k.distro) != table.tracks_upstream.end();
    if (tracks)
        return {Safety::unsafe, issue.id + ": Linux " + base + " is before the fix in " +
                                    to_string(issue.fixed) + " (" + issue.title + ")"};
    return {Safety::unknown, issue.id + ": " + std::string(to_string(k.distro)) + " kernel " +
                                 k.release + " is based on Linux " + base + ", before the fix in " +
                                 to_string(issue.fixed) + "; no known backport record"};
}

} // namespace

namespace risk_json {

std::optional<BackportDecision> decide_backport(const std::vector<Backport>& backports,
                                                const KernelRelease& k,
                                                const std::optional<std::string>& package_version) {
    for (const auto& b : backports) {
        if (b.distro != k.distro)
            continue;
        if (!b.match.empty() && k.release.find(b.match) == std::string::npos)
            continue;
        BackportDecision d{b.status, &b, false, package_version ? *package_version : k.release};
        // Without fixed_in, the match itself names the fixed builds.
        if (b.status == BackportStatus::fixed && b.fixed_in &&
            compare_package_versions(d.have, *b.fixed_in) < 0) {
            d.status = BackportStatus::affected;
            d.older_than_fix = true;
        }
        return d;
    }
    return std::nullopt;
}

} // namespace risk_json

const KnownBug* RiskTable::find_bug(std::string_view id) const {
    for (const auto& b : known_bugs)
        if (b.id == id)
            return &b;
    return nullptr;
}

const KernelIssue* RiskTable::find(std::string_view id) const {
    for (const auto& i : issues)
        if (i.id == id)
            return &i;
    return nullptr;
}

std::string_view to_string(BackportStatus s) noexcept {
    switch (s) {
    case BackportStatus::affected:
        return "affected";
    case BackportStatus::fixed:
        return "fixed";
    case BackportStatus::unknown:
        return "unknown";
    }
    return "unknown";
}

std::string_view to_string(Safety s) noexcept {
    switch (s) {
    case Safety::safe:
        return "safe";
    case Safety::unsafe:
        return "unsafe";
    case Safety::unknown:
        return "unknown";
    }
    return "unknown";
}

std::string_view to_string(FeatureChangeSeverity s) noexcept {
    switch (s) {
    case FeatureChangeSeverity::none:
        return "none";
    case FeatureChangeSeverity::warning:
        return "warning";
    case FeatureChangeSeverity::critical:
        return "critical";
    }
    return "none";
}

Result<RiskTable> parse_risk_table(std::string_view json_text) {
    const json j = json::parse(json_text, nullptr, false);
    if (j.is_discarded())
        return Error{"kernel risk table: not valid JSON", 0};
    if (!j.is_object())
        return Error{"kernel risk table: top level is not an object", 0};
    RiskTable table;
    const auto schema = j.find("schema");
    if (schema == j.end() || !schema->is_number_integer() || schema->get<int>() != 1)
        return Error{"kernel risk table: schema: missing or not 1", 0};
    const auto tracks = j.find("tracks_upstream");
    if (tracks == j.end() || !tracks->is_array())
        return Error{"kernel risk table: tracks_upstream: missing or not an array", 0};
    for (const auto& t : *tracks) {
        const auto d = t.is_string() ? kernel_distro_from_string(t.get<std::string>())
                                     : std::optional<KernelDistro>{};
        if (!d)
            return Error{"kernel risk table: tracks_upstream: unknown distribution " + t.dump(), 0};
        table.tracks_upstream.push_back(*d);
    }
    const auto issues = j.find("issues");
    if (issues == j.end() || !issues->is_array())
        return Error{"kernel risk table: issues: missing or not an array", 0};
    for (std::size_t i = 0; i < issues->size(); ++i) {
        GUARDIAN_TRY_ASSIGN(KernelIssue issue, parse_issue((*issues)[i], i));
        if (table.find(issue.id))
            return Error{"issues[" + std::to_string(i) + "] (" + issue.id + ").id: duplicate", 0};
        table.issues.push_back(std::move(issue));
    }
    if (const auto bugs = j.find("known_bugs"); bugs != j.end()) {
        if (!bugs->is_array())
            return Error{"kernel risk table: known_bugs: not an array", 0};
        for (std::size_t i = 0; i < bugs->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(KnownBug bug, parse_known_bug((*bugs)[i], i));
            if (table.find_bug(bug.id) || table.find(bug.id))
                return Error{"known_bugs[" + std::to_string(i) + "] (" + bug.id + ").id: duplicate",
                             0};
            table.known_bugs.push_back(std::move(bug));
        }
    }
    return table;
}

KernelVerdict judge_kernel(const RiskTable& table, std::string_view release,
                           const std::optional<std::string>& package_version,
                           const std::vector<LoadedModule>& modules) {
    KernelVerdict v;
    const auto k = parse_kernel_release(release);
    if (!k) {
        v.safety = Safety::unknown;
        v.reason = "kernel release \"" + std::string(release.substr(0, 64)) + "\" not understood";
        for (const auto& issue : table.issues)
            add_keys(v.risky_keys, issue.feature_keys);
        return v;
    }
    std::optional<IssueOutcome> first_unknown;
    const KernelIssue* unknown_issue = nullptr;
    for (const auto& issue : table.issues) {
        IssueOutcome o = judge_issue(table, issue, *k, package_version, modules);
        if (o.safety == Safety::unsafe) {
            v.safety = Safety::unsafe;
            v.issue_id = issue.id;
            v.reason = std::move(o.reason);
            v.risky_keys = issue.feature_keys;
            return v;
        }
        if (o.safety == Safety::unknown) {
            add_keys(v.risky_keys, issue.feature_keys);
            if (!first_unknown) {
                first_unknown = std::move(o);
                unknown_issue = &issue;
            }
        }
    }
    if (first_unknown) {
        v.safety = Safety::unknown;
        v.issue_id = unknown_issue->id;
        v.reason = std::move(first_unknown->reason);
        return v;
    }
    v.safety = Safety::safe;
    v.reason = "Linux " + to_string(k->base) + " (" + std::string(to_string(k->distro)) +
               ") is not affected by any of the " + std::to_string(table.issues.size()) +
               " known issues";
    return v;
}

FeatureChangeJudgement judge_feature_change(const KernelVerdict& verdict,
                                            const std::vector<std::string>& changed_keys) {
    FeatureChangeJudgement j;
    if (changed_keys.empty())
        return j;
    if (verdict.safety != Safety::safe) {
        for (const auto& k : changed_keys)
            if (std::find(verdict.risky_keys.begin(), verdict.risky_keys.end(), k) !=
                    verdict.risky_keys.end() &&
                std::find(j.critical_keys.begin(), j.critical_keys.end(), k) ==
                    j.critical_keys.end())
                j.critical_keys.push_back(k);
    }
    std::string keys;
    for (const auto& k : (j.critical_keys.empty() ? changed_keys : j.critical_keys))
        keys += (keys.empty() ? "" : ", ") + k;
    if (!j.critical_keys.empty()) {
        j.severity = FeatureChangeSeverity::critical;
        // An unknown kernel counts as one without the fix: a wrong "critical"
        // costs a reboot, a wrong "warning" costs the filesystem.
        j.reason = "backend features changed (" + keys + ") on a kernel that " +
                   (verdict.safety == Safety::unsafe ? "lacks" : "may lack") + " the fix (" +
                   verdict.issue_id + ")";
    } else {
        j.severity = FeatureChangeSeverity::warning;
        j.reason = "backend features changed (" + keys + "); the kernel re-reads them on resume";
        if (verdict.safety != Safety::safe)
            j.reason = "backend features changed (" + keys + "); none of them is named by " +
                       verdict.issue_id;
    }
    return j;
}

} // namespace guardian
