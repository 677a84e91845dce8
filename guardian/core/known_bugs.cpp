#include "guardian/core/known_bugs.hpp"

#include "guardian/core/risk_json.hpp"

#include <algorithm>

namespace guardian {
namespace risk_json {
namespace {

Result<std::vector<std::string>> get_strings(const json& j, const std::string& where,
                                             std::string_view field) {
    std::vector<std::string> out;
    const auto it = j.find(field);
    if (it == j.end())
        return out;
    if (!it->is_array())
        return field_error(where, field, "not an array");
    for (const auto& v : *it) {
        if (!v.is_string() || v.get<std::string>().empty())
            return field_error(where, field, "holds something that is not a non-empty string");
        out.push_back(v.get<std::string>());
    }
    return out;
}

Result<VersionRange> parse_range(const json& j, const std::string& where) {
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    VersionRange r;
    GUARDIAN_TRY_ASSIGN(r.from, get_version(j, where, "from"));
    if (j.contains("to")) {
        GUARDIAN_TRY_ASSIGN(const UpstreamVersion to, get_version(j, where, "to"));
        if (!(r.from < to))
            return field_error(where, "to", "not after from");
        r.to = to;
    }
    return r;
}

Result<TroublePattern> parse_pattern(const json& j, const std::string& where) {
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    TroublePattern p;
    GUARDIAN_TRY_ASSIGN(p.kinds, get_strings(j, where, "kinds"));
    for (const auto& k : p.kinds)
        if (!trouble_kind_from_string(k))
            return field_error(where, "kinds", "unknown kind \"" + k + "\"");
    GUARDIAN_TRY_ASSIGN(p.functions, get_strings(j, where, "functions"));
    if (const auto f = j.find("frames"); f != j.end()) {
        if (!f->is_array())
            return field_error(where, "frames", "not an array of arrays");
        for (std::size_t i = 0; i < f->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(
                auto group,
                get_strings((*f)[i], where + ".frames[" + std::to_string(i) + "]", "any_of"));
            if (group.empty())
                return field_error(where, "frames", "a group without any_of names");
            p.frames.push_back(std::move(group));
        }
    }
    GUARDIAN_TRY_ASSIGN(p.location, get_string(j, where, "location", false));
    GUARDIAN_TRY_ASSIGN(p.text, get_string(j, where, "text", false));
    if (p.kinds.empty() && p.functions.empty() && p.frames.empty() && p.location.empty() &&
        p.text.empty())
        return Error{where + ": matches everything", 0};
    return p;
}

} // namespace

Result<KnownBug> parse_known_bug(const json& j, std::size_t index) {
    std::string where = "known_bugs[" + std::to_string(index) + "]";
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    KnownBug b;
    GUARDIAN_TRY_ASSIGN(b.id, get_string(j, where, "id"));
    if (b.id.empty() || b.id.find_first_of(" \t,;") != std::string::npos)
        return field_error(where, "id", "empty or contains a separator");
    where += " (" + b.id + ")";
    GUARDIAN_TRY_ASSIGN(b.title, get_string(j, where, "title"));
    GUARDIAN_TRY_ASSIGN(b.component, get_string(j, where, "component"));
    GUARDIAN_TRY_ASSIGN(b.effect, get_string(j, where, "effect"));
    GUARDIAN_TRY_ASSIGN(b.description, get_string(j, where, "description"));
    GUARDIAN_TRY_ASSIGN(b.cves, get_strings(j, where, "cves"));
    const auto ranges = j.find("affected");
    if (ranges == j.end() || !ranges->is_array() || ranges->empty())
        return field_error(where, "affected", "missing, empty or not an array");
    for (std::size_t i = 0; i < ranges->size(); ++i) {
        GUARDIAN_TRY_ASSIGN(VersionRange r, parse_range((*ranges)[i], where + ".affected[" +
                                                                          std::to_string(i) + "]"));
        b.affected.push_back(r);
    }
    if (j.contains("fixed")) {
        GUARDIAN_TRY_ASSIGN(const UpstreamVersion fixed, get_version(j, where, "fixed"));
        b.fixed = fixed;
    }
    GUARDIAN_TRY_ASSIGN(b.fix_commits, get_strings(j, where, "fix_commits"));
    GUARDIAN_TRY_ASSIGN(b.conditions, get_strings(j, where, "conditions"));
    if (const auto bps = j.find("backports"); bps != j.end()) {
        if (!bps->is_array())
            return field_error(where, "backports", "not an array");
        for (std::size_t i = 0; i < bps->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(
                Backport bp,
                parse_backport((*bps)[i], where + ".backports[" + std::to_string(i) + "]"));
            b.backports.push_back(std::move(bp));
        }
    }
    if (const auto pats = j.find("patterns"); pats != j.end()) {
        if (!pats->is_array())
            return field_error(where, "patterns", "not an array");
        for (std::size_t i = 0; i < pats->size(); ++i) {
            GUARDIAN_TRY_ASSIGN(
                TroublePattern p,
                parse_pattern((*pats)[i], where + ".patterns[" + std::to_string(i) + "]"));
            b.patterns.push_back(std::move(p));
        }
    }
    GUARDIAN_TRY_ASSIGN(b.evidence, get_strings(j, where, "evidence"));
    if (b.evidence.empty())
        return field_error(where, "evidence", "missing or empty: say why");
    return b;
}

} // namespace risk_json

namespace {

enum class InRange { yes, no, depends_on_patch };

InRange in_range(const VersionRange& r, const UpstreamVersion& v, bool patch_known) {
    auto inside = [&](const UpstreamVersion& x) { return !(x < r.from) && (!r.to || x < *r.to); };
    if (patch_known)
        return inside(v) ? InRange::yes : InRange::no;
    // Patch level unknown: the answer holds only if it is the same for every
    // patch level of this major.minor.
    UpstreamVersion lo = v;
    lo.patch = 0;
    UpstreamVersion hi = v;
    hi.patch = 100000;
    const bool a = inside(lo);
    const bool b = inside(hi);
    if (a == b)
        return a ? InRange::yes : InRange::no;
    return InRange::depends_on_patch;
}

// The fix on the kernel's own stable line, else the mainline fix (a range
// may span several lines, e.g. 2.6.24 up to 4.19.269: 4.9 got no fix).
std::string fix_for(const KnownBug& bug, const VersionRange* range, const UpstreamVersion& v) {
    if (range && range->to && range->to->major == v.major && range->to->minor == v.minor)
        return to_string(*range->to);
    if (!bug.fixed)
        return "no fix known";
    std::string out = to_string(*bug.fixed);
    if (range && range->to)
        out +=
            " (none on the " + std::to_string(v.major) + "." + std::to_string(v.minor) + " line)";
    return out;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

std::optional<UpstreamVersion> stable_version(const KernelRelease& k,
                                              std::string_view uname_version) {
    if (k.base.patch != 0)
        return k.base;
    if (k.distro == KernelDistro::debian) {
        // "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)"
        const auto at = uname_version.find("Debian ");
        if (at != std::string_view::npos) {
            std::string_view v = uname_version.substr(at + 7);
            v = v.substr(0, v.find_first_of("-+ ~"));
            if (auto parsed = parse_upstream_version(v))
                return parsed;
        }
        return std::nullopt;
    }
    // An upstream build of x.y.0 says so itself ("6.1.0" has no local part).
    if (k.distro == KernelDistro::upstream && k.local.empty())
        return k.base;
    return std::nullopt;
}

std::string_view to_string(BugExposure e) noexcept {
    switch (e) {
    case BugExposure::affected:
        return "affected";
    case BugExposure::latent:
        return "latent";
    case BugExposure::unknown:
        return "unknown";
    case BugExposure::not_affected:
        return "not-affected";
    }
    return "unknown";
}

namespace {

BugVerdict judge_bug(const RiskTable& table, const KnownBug& bug, const KernelRelease& k,
                     const KernelFacts& facts) {
    BugVerdict v;
    v.bug_id = bug.id;
    const auto stable = stable_version(k, facts.version);
    const UpstreamVersion version = stable.value_or(k.base);
    const VersionRange* hit = nullptr;
    bool depends = false;
    for (const auto& r : bug.affected) {
        const InRange in = in_range(r, version, stable.has_value());
        if (in == InRange::yes) {
            hit = &r;
            break;
        }
        if (in == InRange::depends_on_patch) {
            depends = true;
            hit = &r;
        }
    }
    v.fixed_in = fix_for(bug, hit, version);
    const bool tracks = std::find(table.tracks_upstream.begin(), table.tracks_upstream.end(),
                                  k.distro) != table.tracks_upstream.end();
    const std::string distro(to_string(k.distro));
    // A record about this distribution's builds outranks the base version,
    // inside the ranges or not: vendors backport features (and their bugs)
    // as well as fixes.
    const auto d = risk_json::decide_backport(bug.backports, k, facts.package_version);
    if (d && d->status == BackportStatus::fixed) {
        v.exposure = BugExposure::not_affected;
        v.reason = bug.id + ": " + distro + " kernel " + d->have + " carries the fix (" +
                   d->entry->evidence + ")";
        return v;
    }
    if (d && d->status == BackportStatus::unknown) {
        v.exposure = BugExposure::unknown;
        v.reason = bug.id + ": whether " + distro + " kernel " + k.release +
                   " has the bug is not known (" + d->entry->evidence + ")";
        return v;
    }
    if (d && d->entry->fixed_in)
        v.fixed_in = *d->entry->fixed_in;
    if (!d && !hit) {
        v.exposure = BugExposure::not_affected;
        v.reason = bug.id + ": Linux " + to_string(version) + " is outside the affected ranges";
        return v;
    }
    if (!d && !tracks) {
        v.exposure = BugExposure::unknown;
        v.reason = bug.id + ": " + distro + " kernel " + k.release + " is based on Linux " +
                   to_string(k.base) + ", in the affected range; no backport record";
        return v;
    }
    if (!d && depends) {
        v.exposure = BugExposure::unknown;
        v.reason = bug.id + ": the stable patch level of " + k.release +
                   " is not known (uname -v does not name it); fixed in " + v.fixed_in;
        return v;
    }
    for (const auto& c : bug.conditions)
        if (facts.conditions_known && !has(facts.conditions, c))
            v.unmet_conditions.push_back(c);
    const std::string what = "Linux " + (stable ? to_string(*stable) : k.release);
    if (!v.unmet_conditions.empty()) {
        v.exposure = BugExposure::latent;
        std::string missing;
        for (const auto& c : v.unmet_conditions)
            missing += (missing.empty() ? "" : ", ") + c;
        v.reason = bug.id + ": " + what + " has the bug (fixed in " + v.fixed_in + "), but not " +
                   missing + " here";
        return v;
    }
    v.exposure = BugExposure::affected;
    v.reason = bug.id + ": " + what + " is affected by " + bug.title + ", fixed in " + v.fixed_in;
    return v;
}

} // namespace

std::vector<BugVerdict> judge_known_bugs(const RiskTable& table, const KernelFacts& facts) {
    std::vector<BugVerdict> out;
    const auto k = parse_kernel_release(facts.release);
    for (const auto& bug : table.known_bugs) {
        if (!k) {
            out.push_back({bug.id,
                           BugExposure::unknown,
                           "",
                           {},
                           bug.id + ": kernel release \"" + facts.release.substr(0, 64) +
                               "\" not understood"});
            continue;
        }
        out.push_back(judge_bug(table, bug, *k, facts));
    }
    return out;
}

bool pattern_matches(const TroublePattern& p, const TroubleEvent& e) {
    if (!p.kinds.empty() && !has(p.kinds, to_string(e.kind)))
        return false;
    if (!p.functions.empty() && !has(p.functions, e.function))
        return false;
    for (const auto& group : p.frames) {
        const bool any = std::any_of(group.begin(), group.end(), [&](const std::string& name) {
            return name == e.function || has(e.frames, name);
        });
        if (!any)
            return false;
    }
    if (!p.location.empty() && e.location.find(p.location) == std::string::npos)
        return false;
    if (!p.text.empty() && e.head.find(p.text) == std::string::npos)
        return false;
    return true;
}

std::vector<std::string> match_known_bugs(const RiskTable& table, const TroubleEvent& e) {
    std::vector<std::string> out;
    for (const auto& bug : table.known_bugs)
        if (std::any_of(bug.patterns.begin(), bug.patterns.end(),
                        [&](const TroublePattern& p) { return pattern_matches(p, e); }))
            out.push_back(bug.id);
    return out;
}

} // namespace guardian
