// crc32c as ext4's metadata_csum and jbd2 v2/v3 use it.
#pragma once

#include "guardian/ondisk/bytes.hpp"

#include <cstdint>

namespace guardian::ondisk {

// Raw crc32c update (no inversion), as the kernel's crc32c_le: hardware
// (SSE4.2) where the CPU has it, else crc32c_portable (a table).
[[nodiscard]] std::uint32_t crc32c(std::uint32_t crc, Bytes data);
[[nodiscard]] std::uint32_t crc32c_portable(std::uint32_t crc, Bytes data);
[[nodiscard]] bool crc32c_hardware() noexcept; // crc32c() uses the CPU's instruction

} // namespace guardian::ondisk
