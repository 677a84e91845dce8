// xl's own per-domain log (/var/log/xen/xl-<name>.log): where the toolstack
// has destroyed a domain before guardian-hostd could ask the hypervisor why
// it stopped, xl has written the hypervisor's reason there:
// "Domain 8 has shut down, reason code 1 0x1". Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace guardian::hostd {

// The reason code (Xen's SHUTDOWN_*) of the last shutdown of `domid` the log
// records, or nullopt.
[[nodiscard]] std::optional<unsigned> shutdown_code_in_xl_log(std::string_view log,
                                                              std::int64_t domid);

} // namespace guardian::hostd
