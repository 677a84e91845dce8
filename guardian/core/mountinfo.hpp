// /proc/self/mountinfo parsing (pure: text in, entries out).
#pragma once

#include "guardian/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace guardian {

struct MountEntry {
    unsigned major = 0;
    unsigned minor = 0;
    std::string root;        // root of the mount within the filesystem
    std::string mount_point; // unescaped
    std::string mount_options;
    std::string fs_type;
    std::string source; // unescaped, e.g. /dev/xvda1
    std::string super_options;

    [[nodiscard]] bool read_only() const;
};

// Errors name the line number. Octal escapes (\040 for space) are decoded.
[[nodiscard]] Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text);

[[nodiscard]] bool is_ext_family(std::string_view fs_type) noexcept; // ext2, ext3, ext4

} // namespace guardian
