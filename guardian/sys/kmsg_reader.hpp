// Reading /dev/kmsg from "now" on: each read(2) returns exactly one record;
// EPIPE means records were overwritten before we read them (we skip ahead:
// lost lines are reported as such, never fatal). Where /dev/kmsg has no
// records (Linux < 3.5: its read fails with EINVAL) the ring is read through
// syslog(2) instead (sys/kernel_ring.hpp), every poll_period.
#pragma once

#include "guardian/sys/kernel_ring.hpp"

#include <chrono>
#include <optional>

#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string_view>
#include <vector>

namespace guardian::sys {

class KmsgReader {
public:
    // Opens <root>/dev/kmsg non-blocking and seeks to its end, so only
    // records logged after this call are seen; with `from_start` the first
    // drain() also gives what the ring still holds of this boot (/dev/kmsg
    // only: the syslog(2) fallback starts from "now" either way).
    [[nodiscard]] static Result<KmsgReader> open(const SystemRoot& root, bool from_start = false);

    // How the kernel log is read, for data/guardian/methods: "dev-kmsg",
    // "syslog" (syslog(2), polled), "file" (a test's plain file or FIFO).
    [[nodiscard]] std::string_view method() const noexcept;
    static constexpr std::chrono::seconds poll_period{1};

    // Readable when there may be something to drain (a timerfd in "syslog").
    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    // Everything readable now (never blocks); records that cannot be parsed
    // are skipped. `lost` counts EPIPE gaps.
    [[nodiscard]] Result<std::vector<KmsgRecord>> drain();
    [[nodiscard]] unsigned lost() const noexcept { return m_lost + (m_ring ? m_ring->lost() : 0); }

private:
    explicit KmsgReader(Fd fd, bool is_kmsg) : m_fd(std::move(fd)), m_is_kmsg(is_kmsg) {}
    [[nodiscard]] static Result<KmsgReader> open_ring();
    Fd m_fd;
    bool m_is_kmsg; // a test's plain file or FIFO has no record semantics: split by lines
    unsigned m_lost = 0;
    std::string m_partial;
    std::optional<KernelRing> m_ring;  // syslog(2): /dev/kmsg without records
    std::optional<KmsgRecord> m_first; // the record the open-time probe read
};

// ext4's error counter of a mounted filesystem, and where it was read.
enum class ErrorsCountSource {
    sysfs,      // /sys/fs/ext4/<dev>/errors_count
    superblock, // no such node (older kernels, a hidden /sys): s_error_count on disk
};
[[nodiscard]] std::string_view to_string(ErrorsCountSource source) noexcept;
struct Ext4ErrorCount {
    unsigned long count = 0;
    ErrorsCountSource source = ErrorsCountSource::sysfs;
};

// `device`: the filesystem's block device (/dev/xvda1); its last name is the
// directory under /sys/fs/ext4/. Without the sysfs node, the superblock's
// s_error_count is read from the device through ext4's BlockReader (O_DIRECT,
// buffered where the device refuses it): ext4 commits the count there when
// it records an error, which is what the sysfs node shows.
[[nodiscard]] Result<Ext4ErrorCount> ext4_errors_count(const SystemRoot& root,
                                                       const std::string& device);

} // namespace guardian::sys
