#include "guardian/hostd/report_changes.hpp"

#include <algorithm>

namespace guardian::hostd {

ReportChanges report_changes(const contract::DecodedReport& before,
                             const contract::DecodedReport& after) {
    ReportChanges out;
    if (!after.present) {
        return out; // a restore dropped data/guardian/, or no guardian: nothing said
    }
    const auto changed = [](const std::string& was, const std::string& now) {
        return !now.empty() && now != was;
    };
    if (changed(before.kernel, after.kernel)) {
        out.kernel = after.kernel;
    }
    if (changed(before.distribution, after.distribution)) {
        out.distribution = after.distribution;
    }
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
    // Kernel trouble: each entry of trouble-last not there before, as the
    // contract encodes one entry (time, kind, signature, function, known bug).
    // The guest keeps its newest few: one read sees those it added since.
    if (changed(before.trouble_last, after.trouble_last)) {
        const auto was = contract::decode_trouble_last(before.trouble_last);
        for (const auto& note : contract::decode_trouble_last(after.trouble_last)) {
            if (std::find(was.begin(), was.end(), note) == was.end()) {
                out.events.emplace_back(ledger::EventKind::trouble,
                                        contract::encode_trouble_last({note}));
            }
        }
    }
    // How the previous boot ended, in the guest's words ("none" says nothing).
    if (changed(before.previous_boot, after.previous_boot) &&
        contract::decode_previous_boot(after.previous_boot)) {
        out.events.emplace_back(ledger::EventKind::previous_boot, after.previous_boot);
    }
    return out;
}

} // namespace guardian::hostd
