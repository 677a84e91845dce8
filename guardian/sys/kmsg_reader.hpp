// Reading /dev/kmsg from "now" on: each read(2) returns exactly one record;
// EPIPE means records were overwritten before we read them (we skip ahead:
// lost lines are reported as such, never fatal).
#pragma once

#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <vector>

namespace guardian::sys {

class KmsgReader {
public:
    // Opens <root>/dev/kmsg non-blocking and seeks to its end, so only
    // records logged after this call are seen.
    [[nodiscard]] static Result<KmsgReader> open(const SystemRoot& root);

    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    // Everything readable now (never blocks); records that cannot be parsed
    // are skipped. `lost` counts EPIPE gaps.
    [[nodiscard]] Result<std::vector<KmsgRecord>> drain();
    [[nodiscard]] unsigned lost() const noexcept { return m_lost; }

private:
    explicit KmsgReader(Fd fd, bool is_kmsg) : m_fd(std::move(fd)), m_is_kmsg(is_kmsg) {}
    Fd m_fd;
    bool m_is_kmsg; // a test's plain file or FIFO has no record semantics: split by lines
    unsigned m_lost = 0;
    std::string m_partial;
};

// /sys/fs/ext4/<dev>/errors_count: the ext4 error counter of a mounted fs
// (0 when the file is absent: older kernels, or not ext4).
[[nodiscard]] Result<unsigned long> ext4_errors_count(const SystemRoot& root,
                                                      const std::string& device_name);

} // namespace guardian::sys
