// The boot record file (/var/lib/guardian/boots, format and reasons in
// core/boot_report.hpp): guardiand adds this boot when it starts, the boot
// report reads it when the journal lost the previous boot.
#pragma once

#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <cstdint>
#include <string>

namespace guardian::boot {

// Under the system root.
inline constexpr const char* k_boot_record_file = "/var/lib/guardian/boots";

// The record's text; "" when there is no file yet.
[[nodiscard]] Result<std::string> read_boot_record(const SystemRoot& root);

// Adds this boot (its id from /proc, started `now_us`) unless the record
// already has it: true when it wrote. Only the first start in a boot writes,
// so a guardiand restarted in the same boot - possibly while a filesystem is
// frozen - never blocks on a write.
[[nodiscard]] Result<bool> record_boot_start(const SystemRoot& root, std::int64_t now_us);

} // namespace guardian::boot
