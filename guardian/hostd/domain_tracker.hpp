// Which domains came and went between two looks at xenstore. dom0's
// xenstored fires @introduceDomain and @releaseDomain without saying which
// domain (xenstored_domain.c), so guardian-hostd looks again at
// /local/domain and compares. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace guardian::hostd {

struct DomainEntry {
    std::int64_t domid = 0;
    std::string uuid; // the toolstack's VM UUID ("vm" node), empty until written
    std::string name;
};

using DomainSet = std::map<std::int64_t, DomainEntry>;

[[nodiscard]] inline bool ready(const DomainEntry& d) {
    return !d.uuid.empty() && !d.name.empty();
}

struct DomainChanges {
    std::vector<DomainEntry> appeared; // new domids, or a domid now another VM
    std::vector<DomainEntry> gone;     // as they were last seen
};

// `before` and `after` are two scans. A domid whose UUID changed between
// them is one domain gone and another appeared (domids are reused). A
// domain is reported only once it has both its UUID and its name: a scan
// may fall between two of the toolstack's writes.
[[nodiscard]] DomainChanges compare_domains(const DomainSet& before, const DomainSet& after);

} // namespace guardian::hostd
