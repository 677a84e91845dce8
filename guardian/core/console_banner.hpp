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
    // Whether more of the log could change the answer: false only while no
    // 'Linux version' line has come since the start (the kernel may not have
    // printed it yet); a found or refused first line, or a log shorter than
    // the start, is final.
    bool conclusive = false;
};

// Finds the banner of the boot that began at `since` (byte offset of the log
// when the domain was created). Without `since` (nothing recorded the
// domain's start) a banner is taken only when the whole log holds exactly one:
// several boots in one file and no start offset give "unknown". Either way a
// banner is the kernel's only when stamped at printk time zero or, where the
// kernel prints no stamps, followed by its "Command line:" line. A guest whose
// own boot loader or initramfs prints a fake banner first can still mislead
// about itself, and only about itself.
//
// `log` may be the log's tail only: the bytes from `log_base` on (a guest's
// console log grows without bound; the caller reads from the start it
// recorded). Pass the byte before `since` too (log_base = since - 1) so that
// a start in the middle of a line is recognised. Offsets in the result are
// the whole log's.
[[nodiscard]] BannerSearch find_boot_banner(std::string_view log, std::optional<std::size_t> since,
                                            std::size_t log_base = 0);

} // namespace guardian
