#include "guardian/hostd/report_changes.hpp"

namespace guardian::hostd {

ReportChanges report_changes(const contract::DecodedReport& before,
                             const contract::DecodedReport& after) {
    ReportChanges out;
    if (!after.present) {
        return out; // a restore dropped data/guardian/, or no guardian: nothing said
    }
    if (!after.kernel.empty() && after.kernel != before.kernel) {
        out.kernel = after.kernel;
    }
    const auto changed = [](const std::string& was, const std::string& now) {
        return !now.empty() && now != was;
    };
    if (changed(before.last_verification, after.last_verification)) {
        out.events.emplace_back(ledger::EventKind::verdict,
                                after.last_verdict_reason.empty()
                                    ? after.last_verification
                                    : after.last_verification + ": " + after.last_verdict_reason);
    }
    if (changed(before.incident, after.incident)) {
        out.events.emplace_back(ledger::EventKind::incident, after.incident);
    }
    if (changed(before.last_restore, after.last_restore)) {
        out.events.emplace_back(ledger::EventKind::restore,
                                after.last_restore_changes.empty()
                                    ? after.last_restore
                                    : after.last_restore + "; " + after.last_restore_changes);
    }
    if (changed(before.boot_report, after.boot_report)) {
        out.events.emplace_back(ledger::EventKind::boot_report, after.boot_report);
    }
    return out;
}

} // namespace guardian::hostd
