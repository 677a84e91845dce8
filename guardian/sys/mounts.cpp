#include "guardian/sys/mounts.hpp"

#include "guardian/util/fd.hpp"

#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <utility>

namespace guardian::sys {

Result<std::vector<MountEntry>> read_mounts(const SystemRoot& root) {
    const std::string path = root.path("/proc/self/mountinfo");
    GUARDIAN_TRY_ASSIGN(std::string text, read_text_file(path, 16u << 20));
    auto parsed = parse_mountinfo(text);
    if (!parsed)
        return Error{path + ": " + parsed.error().message, 0};
    return std::move(parsed).value();
}

std::optional<MountEntry> find_mount_of_device(const std::vector<MountEntry>& mounts,
                                               const std::string& device_path) {
    struct stat st {};
    if (::stat(device_path.c_str(), &st) != 0 || !S_ISBLK(st.st_mode))
        return std::nullopt;
    for (const auto& m : mounts)
        if (m.major == ::major(st.st_rdev) && m.minor == ::minor(st.st_rdev))
            return m;
    return std::nullopt;
}

std::vector<MountEntry> mounted_ext_filesystems(const std::vector<MountEntry>& mounts) {
    std::vector<MountEntry> out;
    std::set<std::pair<unsigned, unsigned>> seen;
    for (const auto& m : mounts) {
        if (!is_ext_family(m.fs_type) || m.source.rfind("/dev/", 0) != 0)
            continue;
        if (seen.insert({m.major, m.minor}).second)
            out.push_back(m);
    }
    return out;
}

} // namespace guardian::sys
