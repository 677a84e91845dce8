// Kernel release strings (`uname -r`) as distributions ship them, reduced to
// what the risk table needs: the upstream base version and which distribution
// built the kernel. Pure: no system calls.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// An upstream Linux version: "4.2" is {4, 2, 0}; "2.6.32" is {2, 6, 32}. The
// 2.6.x era used the third number as the release, so it takes part in ordering.
struct UpstreamVersion {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned patch = 0;

    friend auto operator<=>(const UpstreamVersion&, const UpstreamVersion&) = default;
    friend bool operator==(const UpstreamVersion&, const UpstreamVersion&) = default;
};

// "4.2", "2.6.32", "5.10.0"; nullopt for anything else (also "4.2-rc7").
[[nodiscard]] std::optional<UpstreamVersion> parse_upstream_version(std::string_view text);
[[nodiscard]] std::string to_string(const UpstreamVersion& v);

// Who built the kernel, recognised from the release string's local part. The
// names are the ones data/kernel-risk.json uses.
enum class KernelDistro { upstream, debian, ubuntu, rhel, oracle_uek, suse, fedora, amazon, other };
[[nodiscard]] std::string_view to_string(KernelDistro d) noexcept;
[[nodiscard]] std::optional<KernelDistro> kernel_distro_from_string(std::string_view name) noexcept;

struct KernelRelease {
    std::string release;  // as given, e.g. "3.10.0-1160.el7.x86_64"
    UpstreamVersion base; // {3, 10, 0}
    std::string local;    // "1160.el7.x86_64" (after the first '-' or '+'), may be empty
    KernelDistro distro = KernelDistro::other;
    std::string distro_tag; // "el7", "el7uek", "amd64", "generic", "aws", ... or empty
};

// nullopt when the string does not start with "<major>.<minor>".
[[nodiscard]] std::optional<KernelRelease> parse_kernel_release(std::string_view release);

// Orders distribution package versions such as "3.10.0-1160.119.1.el7" or
// "3.16.84-1" the way rpm and dpkg mostly agree on: runs of digits compare as
// numbers, runs of letters as text, separators only split. Negative, zero or
// positive like strcmp.
[[nodiscard]] int compare_package_versions(std::string_view a, std::string_view b);

// The distribution's kernel package version where the kernel's own version
// string (`uname -v`, the end of /proc/version and of the boot banner) names
// it: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)" -> "6.1.76-1".
// Debian's release "6.1.0-18-amd64" hides the upstream version; this does not.
// The compiler's version may come earlier ("gcc-12 (Debian 12.2.0-14)"), so
// the kernel package is the last match.
[[nodiscard]] std::optional<std::string> package_version_from_kernel_version(std::string_view text);

} // namespace guardian
