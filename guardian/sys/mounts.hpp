// What is mounted where: /proc/self/mountinfo under the system root.
#pragma once

#include "guardian/core/mountinfo.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <optional>
#include <vector>

namespace guardian::sys {

[[nodiscard]] Result<std::vector<MountEntry>> read_mounts(const SystemRoot& root);

// The mount of a block device (by its device number), if mounted.
[[nodiscard]] std::optional<MountEntry> find_mount_of_device(const std::vector<MountEntry>& mounts,
                                                             const std::string& device_path);

// ext2/3/4 filesystems on block devices, one entry per device (bind mounts
// and second mounts of the same device are folded into the first).
[[nodiscard]] std::vector<MountEntry>
mounted_ext_filesystems(const std::vector<MountEntry>& mounts);

} // namespace guardian::sys
