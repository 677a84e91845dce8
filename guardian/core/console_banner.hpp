// Which kernel a guest without guardian runs, from what dom0 already has: the
// guest's console log (xenconsoled --log=guest). The kernel prints its banner,
// "Linux version <release> (<builder>) (<compiler>) #<build> ...", as one of
// its first lines, before any userspace exists. The console is guest-written
// too: once userspace runs, anything can print "Linux version 9.9". So only
// the kernel's own banner counts: the first "Linux version" line after the
// domain was created (its byte offset in the log, which the dom0 service
// records when the domain appears). Where that cannot be established the
// answer is "unknown", never a guess (docs/design.md, the provider's view).
// Pure: the caller reads the log.
#pragma once

#include "guardian/core/kernel_version.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace guardian {

struct ConsoleBanner {
    std::string release; // "6.1.0-13-amd64"
    std::string build;   // what follows the compiler part: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1
                         // (2023-09-29)"
    std::string line;    // the whole banner line as found (guest-written: escape before printing)
    std::size_t offset = 0;        // byte offset of the line in the log
    bool printk_stamped = false;   // it carried a printk time stamp ("[   12.345678]")
    bool printk_time_zero = false; // ... and that stamp was the boot's first: "[    0.000000]"
    std::optional<KernelRelease> parsed; // the release as the risk table reads it
    // The distribution's own package version where the build string names it
    // ("Debian 6.1.55-1" -> "6.1.55-1"): Debian's release "6.1.0-13" hides
    // the real upstream version, the banner does not.
    std::string package_version;
};

struct BannerSearch {
    std::optional<ConsoleBanner> banner;
    std::string why; // how it was found, or why it is unknown
};

// Finds the banner of the boot that began at `since` (byte offset of the log
// when the domain was created). Without `since` (nothing recorded the
// domain's start) a banner is taken only when the whole log holds exactly one:
// several boots in one file and no start offset give "unknown". Either way a
// banner is the kernel's only when stamped at printk time zero or, where the
// kernel prints no stamps, followed by its "Command line:" line. A guest whose
// own boot loader or initramfs prints a fake banner first can still mislead
// about itself, and only about itself.
[[nodiscard]] BannerSearch find_boot_banner(std::string_view log, std::optional<std::size_t> since);

} // namespace guardian
