#include "guardian/hostd/domain_tracker.hpp"

namespace guardian::hostd {

DomainChanges compare_domains(const DomainSet& before, const DomainSet& after) {
    DomainChanges out;
    for (const auto& [domid, was] : before) {
        if (!ready(was)) {
            continue; // never reported, so never gone
        }
        const auto now = after.find(domid);
        if (now == after.end() || (ready(now->second) && now->second.uuid != was.uuid)) {
            out.gone.push_back(was);
        }
    }
    for (const auto& [domid, now] : after) {
        if (!ready(now)) {
            continue;
        }
        const auto was = before.find(domid);
        if (was == before.end() || !ready(was->second) || was->second.uuid != now.uuid) {
            out.appeared.push_back(now);
        }
    }
    return out;
}

} // namespace guardian::hostd
