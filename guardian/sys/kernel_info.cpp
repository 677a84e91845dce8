#include "guardian/sys/kernel_info.hpp"

#include "guardian/core/kernel_version.hpp"
#include "guardian/util/fd.hpp"

namespace guardian::sys {

std::optional<std::string> package_version_from_proc_version(const std::string& text) {
    return package_version_from_kernel_version(text);
}

Result<KernelInfo> read_kernel_info(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(std::string release,
                        read_text_file(root.path("/proc/sys/kernel/osrelease"), 4096));
    while (!release.empty() && (release.back() == '\n' || release.back() == ' '))
        release.pop_back();
    KernelInfo info{release, std::nullopt};
    if (auto version = read_text_file(root.path("/proc/version"), 4096); version)
        info.package_version = package_version_from_proc_version(*version);
    return info;
}

} // namespace guardian::sys
