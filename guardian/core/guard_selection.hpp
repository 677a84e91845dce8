// Which mounted filesystems guardiand guards (pure). The default, "auto":
// every ext2/3/4 filesystem on a Xen virtual block device (xvd*); off a Xen
// guest, every ext2/3/4 filesystem on a local block device. `guard` and
// `skip` lists name mount points or /dev/ paths; skip wins.
#pragma once

#include "guardian/core/config.hpp"
#include "guardian/core/mountinfo.hpp"

#include <vector>

namespace guardian {

[[nodiscard]] std::vector<MountEntry> select_guarded(const std::vector<MountEntry>& ext_mounts,
                                                     const TargetList& guard,
                                                     const TargetList& skip, bool on_xen);

} // namespace guardian
