#include "guardian/core/guest_kernel_evidence.hpp"

#include "guardian/core/guest_text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace guardian {

std::string_view to_string(VerdictSource s) noexcept {
    switch (s) {
    case VerdictSource::guardian_report:
        return "guardian report";
    case VerdictSource::console_banner:
        return "console banner";
    case VerdictSource::key_evidence:
        return "key evidence";
    case VerdictSource::unknown:
        break;
    }
    return "unknown";
}

const std::vector<FrontendKeyEvidence>& frontend_key_evidence() {
    // docs/fleet-statistics.md, "Guests without guardian": each entry's
    // commit and the source trees read on each side of it; the bound is the
    // first release after the newest tree read without the key (the commit's
    // own release may be later: a lower bound is only ever lowered). Only keys the
    // frontend writes unconditionally once it has the code, or whose absence
    // is never read as anything: an absent key proves nothing.
    static const std::vector<FrontendKeyEvidence> table = {
        {"vbd",
         "feature-persistent",
         {3, 7, 0},
         "0a8704a51f38 xen/blkback: Persistent grant maps for xen blk drivers"},
        {"vbd",
         "multi-queue-num-queues",
         {4, 5, 0},
         "28d949bcc28b xen/blkfront: negotiate number of queues/rings to be used with backend"},
    };
    return table;
}

std::optional<KernelLowerBound>
kernel_lower_bound(const std::map<std::string, std::string>& nodes) {
    std::optional<KernelLowerBound> best;
    for (const auto& [path, value] : nodes) {
        // "<device>/<id>/<key>"
        const std::size_t a = path.find('/');
        const std::size_t b = a == std::string::npos ? a : path.find('/', a + 1);
        if (b == std::string::npos || value.empty()) {
            continue;
        }
        const std::string_view device = std::string_view(path).substr(0, a);
        const std::string_view key = std::string_view(path).substr(b + 1);
        for (const auto& e : frontend_key_evidence()) {
            if (e.device == device && e.key == key && (!best || best->at_least < e.since)) {
                best = KernelLowerBound{e.since, path, std::string(e.commit)};
            }
        }
    }
    return best;
}

namespace {

PreflightVerdict from_guest(const DomainReport& d) {
    const contract::DecodedReport r = d.decoded();
    const PreflightResult p = preflight(d);
    PreflightVerdict v;
    v.ok = p.ok;
    v.source = VerdictSource::guardian_report;
    for (const Safety s : {Safety::safe, Safety::unsafe}) {
        if (r.suspend_safety == to_string(s)) {
            v.safety = s;
        }
    }
    v.kernel = r.kernel;
    v.reason = p.reason;
    return v;
}

} // namespace

PreflightVerdict judge_preflight(const DomainReport& d, const HostKernelEvidence& e,
                                 const RiskTable* table, std::string_view table_error) {
    if (d.unreadable.empty() && d.has_guardian()) {
        return from_guest(d);
    }
    PreflightVerdict v;
    const std::string who = "domain " + d.domid;
    if (!e.kernel.empty()) {
        const bool banner = e.kernel_source == "console banner";
        v.source = banner ? VerdictSource::console_banner : VerdictSource::guardian_report;
        v.kernel = e.kernel;
        const std::string from =
            banner ? "kernel " + e.kernel +
                         " from its console's boot banner (printed by the kernel before "
                         "userspace; the guest's later console output is not trusted)"
                   : "kernel " + e.kernel +
                         " as the guest's guardian reported it for this boot (guardian-hostd's "
                         "ledger; no guardian report in xenstore now)";
        if (table == nullptr) {
            v.reason = who + ": " + from + "; no risk table (" + std::string(table_error) + ")";
            return v;
        }
        const KernelVerdict k =
            judge_kernel(*table, e.kernel, package_version_from_kernel_version(e.kernel_version));
        v.safety = k.safety;
        v.ok = k.safety == Safety::safe;
        v.reason = who + ": " + from + ": " + std::string(to_string(k.safety)) + ": " + k.reason;
        return v;
    }
    if (const auto bound = kernel_lower_bound(e.frontend_nodes)) {
        v.source = VerdictSource::key_evidence;
        v.kernel = "at least " + to_string(bound->at_least);
        v.reason = fmt::format(
            "{}: its frontend writes {} (upstream since {}, {}): Linux {} or newer, or an older "
            "kernel with that code backported; a lower bound does not prove the fixes the risk "
            "table needs (vendors backport them separately): unknown",
            who, bound->node, to_string(bound->at_least), bound->commit,
            to_string(bound->at_least));
        return v;
    }
    std::string why;
    if (!d.unreadable.empty()) {
        why = "its data/guardian/ is unreadable (" + d.unreadable + ")";
    } else if (!e.ledger_error.empty()) {
        why = "no guardian report, and guardian-hostd's ledger: " + e.ledger_error;
    } else if (!e.followed) {
        why = "no guardian report, and guardian-hostd does not record this domain";
    } else if (e.console_note.empty()) {
        why = "no guardian report; guardian-hostd is still looking for its kernel's boot banner";
    } else {
        why = "no guardian report; console: " + e.console_note;
    }
    v.reason = who + ": kernel unknown: " + why;
    return v;
}

std::string render_preflight_table(const std::vector<PreflightRow>& rows) {
    std::vector<std::vector<std::string>> cells;
    cells.push_back({"DOMID", "NAME", "VERDICT", "SOURCE", "KERNEL", "REASON"});
    for (const auto& r : rows) {
        // The kernel and the reason carry guest words (a banner, a report):
        // escaped, one cell one line.
        cells.push_back({for_terminal(r.domain.domid, 16), for_terminal(r.domain.name, 64),
                         r.verdict.ok ? "safe" : "NOT SAFE",
                         std::string(to_string(r.verdict.source)),
                         for_terminal(r.verdict.kernel.empty() ? "?" : r.verdict.kernel, 48),
                         for_terminal(r.verdict.reason, 400)});
    }
    return render_columns(cells);
}

nlohmann::json preflight_to_json(const std::vector<PreflightRow>& rows) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : rows) {
        arr.push_back({{"domid", as_valid_utf8(r.domain.domid)},
                       {"name", as_valid_utf8(r.domain.name)},
                       {"ok", r.verdict.ok},
                       {"safety", std::string(to_string(r.verdict.safety))},
                       {"source", std::string(to_string(r.verdict.source))},
                       {"kernel", as_valid_utf8(r.verdict.kernel)},
                       {"reason", as_valid_utf8(r.verdict.reason)}});
    }
    return nlohmann::json{{"domains", arr}};
}

} // namespace guardian
