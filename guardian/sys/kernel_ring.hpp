// The kernel log through syslog(2) (klogctl), for kernels whose /dev/kmsg
// has no records to read: before Linux 3.5 /dev/kmsg only takes writes and
// a read fails with EINVAL (CentOS 6's 2.6.32). SYSLOG_ACTION_READ_ALL
// copies the whole ring without consuming it. /proc/kmsg is not used: its
// reads consume, and the system's syslogd (rsyslog on CentOS 6) reads it,
// so every line guardian took would be missing from the system log.
#pragma once

#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::sys {

// One line of the ring as syslog(2) gives it: "<3>[  12.345678] text" (or
// without the timestamp, printk.time=0). nullopt for anything else.
[[nodiscard]] std::optional<KmsgRecord> parse_ring_line(std::string_view line);

// The complete lines of `ring` that follow the last occurrence of `mark`
// (the last line seen before). `found` is false when `mark` is no longer in
// the ring (overwritten): every line is returned then.
[[nodiscard]] std::vector<std::string_view> ring_lines_after(std::string_view ring,
                                                             std::string_view mark, bool& found);

// Reads the ring from "now" on: each read() gives the lines logged since the
// last one (records, with a sequence counted here).
class KernelRing {
public:
    [[nodiscard]] static Result<KernelRing> open();
    [[nodiscard]] Result<std::vector<KmsgRecord>> read();
    [[nodiscard]] unsigned lost() const noexcept { return m_lost; }

private:
    KernelRing() = default;
    [[nodiscard]] Status read_all(std::string& out) const;

    std::string m_mark; // the last complete line seen
    unsigned long long m_sequence = 0;
    unsigned m_lost = 0;
};

} // namespace guardian::sys
