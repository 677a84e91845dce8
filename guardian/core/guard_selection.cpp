#include "guardian/core/guard_selection.hpp"

#include <algorithm>

namespace guardian {
namespace {

bool named(const TargetList& list, const MountEntry& m) {
    return std::any_of(list.paths.begin(), list.paths.end(),
                       [&](const std::string& p) { return p == m.mount_point || p == m.source; });
}

bool is_xvd(const MountEntry& m) {
    return m.source.rfind("/dev/xvd", 0) == 0;
}

} // namespace

std::vector<MountEntry> select_guarded(const std::vector<MountEntry>& ext_mounts,
                                       const TargetList& guard, const TargetList& skip,
                                       bool on_xen) {
    std::vector<MountEntry> out;
    for (const auto& m : ext_mounts) {
        const bool chosen = named(guard, m) || (guard.automatic && (!on_xen || is_xvd(m)));
        const bool skipped = named(skip, m) || (skip.automatic && (!on_xen || is_xvd(m)));
        if (chosen && !skipped)
            out.push_back(m);
    }
    return out;
}

} // namespace guardian
