// The running kernel as the risk table needs it: the release string and,
// where the distribution records it, the kernel package version (Debian puts
// "Debian 6.1.76-1" into /proc/version; RHEL's release string is its package
// version already). Read from /proc under the system root so tests fake it.
#pragma once

#include "guardian/core/trouble_sources.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <optional>
#include <string>

namespace guardian::sys {

struct KernelInfo {
    std::string release;                        // uname -r
    std::optional<std::string> package_version; // distro kernel package version, if known
};

[[nodiscard]] Result<KernelInfo> read_kernel_info(const SystemRoot& root);

// The distribution as os-release(5) names it (PRETTY_NAME, else NAME and
// VERSION_ID: core/boot_history's distribution_from_os_release), from
// /etc/os-release, else /usr/lib/os-release; "" when neither says.
[[nodiscard]] std::string read_distribution(const SystemRoot& root);

// The Xen frontends and guest type known bugs are conditional on
// (core/trouble_sources.hpp): /sys/bus/xen/devices/vbd-* and vif-*, and
// /sys/hypervisor/guest_type "PV" (Linux >= 4.15; older PV kernels: a
// hypervisor type "xen" without /sys/firmware/acpi counts as PV). All false
// off Xen.
[[nodiscard]] GuestShape read_guest_shape(const SystemRoot& root);

// Pure part, exposed for tests: "... (Debian 6.1.76-1) ..." -> "6.1.76-1".
[[nodiscard]] std::optional<std::string> package_version_from_proc_version(const std::string& text);

} // namespace guardian::sys
