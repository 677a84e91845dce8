// Old-kernel emulation for tests: a seccomp filter that makes the system
// calls, flags and ioctls a Linux 2.6.32 .. 4.9 kernel lacks fail the way such
// a kernel fails them (ENOSYS for a missing call, EINVAL for an unknown
// flag, ENOTTY for an unknown ioctl), so guardian's fallbacks run on this
// machine's kernel. The whole profile is one table (old_kernel_profile.cpp).
//
// What seccomp cannot emulate is stated there too: missing sysfs nodes and
// /proc/xen/xenbus are emulated with a test root instead (SystemRoot).
#pragma once

#include <string>
#include <vector>

namespace guardian::test {

struct OldKernel {
    unsigned major = 3;
    unsigned minor = 2;
    unsigned patch = 0;
    // AT_EMPTY_PATH refused below 2.6.39. A dynamically linked test binary
    // turns this off: its libc.so's fstat()/opendir() use the flag and
    // cannot be replaced (the static programs carry a replacement).
    bool at_empty_path = true;
    // System calls left alone although the kernel lacks them: a sanitizer
    // build's runtime calls getrlimit (prlimit64) at every child's start and
    // aborts without it; no real old kernel runs a sanitizer build.
    std::vector<std::string> keep;
    // Not a kernel version but a device property: O_DIRECT refused (EINVAL)
    // at open, as by a block driver or filesystem without it.
    bool no_direct_io = false;
};

// "2.6.32", "3.2", "4.9" (anything from 2.6.32 to 4.9); false otherwise.
[[nodiscard]] bool parse_old_kernel(const std::string& text, OldKernel& out);

// One line per emulated absence, for logs: "statx (4.11) -> ENOSYS".
[[nodiscard]] std::vector<std::string> describe_profile(const OldKernel& kernel);

// Installs the filter on every thread of the process (SCMP_FLTATR_CTL_TSYNC)
// with no_new_privs; children inherit it. Returns an error text, or empty.
[[nodiscard]] std::string install_old_kernel_filter(const OldKernel& kernel);

} // namespace guardian::test
