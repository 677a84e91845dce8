#include "guardian/sys/kernel_info.hpp"

#include "guardian/core/boot_history.hpp"
#include "guardian/core/kernel_version.hpp"
#include "guardian/util/fd.hpp"

#include <filesystem>

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

std::string read_distribution(const SystemRoot& root) {
    for (const char* path : {"/etc/os-release", "/usr/lib/os-release"})
        if (auto text = read_text_file(root.path(path), 64 * 1024); text)
            return distribution_from_os_release(*text);
    return {};
}

GuestShape read_guest_shape(const SystemRoot& root) {
    GuestShape shape;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root.path("/sys/bus/xen/devices"), ec), end;
         !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        shape.blkfront = shape.blkfront || name.starts_with("vbd-");
        shape.netfront = shape.netfront || name.starts_with("vif-");
    }
    auto trimmed = [](Result<std::string> r) {
        std::string t = r ? std::move(r).value() : std::string();
        while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
            t.pop_back();
        return t;
    };
    const std::string guest_type =
        trimmed(read_text_file(root.path("/sys/hypervisor/guest_type"), 64));
    if (!guest_type.empty())
        shape.xen_pv = guest_type == "PV";
    else
        shape.xen_pv = trimmed(read_text_file(root.path("/sys/hypervisor/type"), 64)) == "xen" &&
                       !std::filesystem::exists(root.path("/sys/firmware/acpi"), ec);
    return shape;
}

} // namespace guardian::sys
