// crc32c (Castagnoli), the checksum of metadata_csum and jbd2 v2/v3. It is
// most of the CPU time of a scan (every in-use inode, directory block and
// bitmap goes through it), so on x86-64 it uses the SSE4.2 crc32 instruction
// when the CPU has it (checked at run time: the package is built for the
// baseline ISA), and libext2fs's table-driven ext2fs_crc32c_le otherwise.
// Both compute the same raw update (no pre/post inversion), so the callers'
// seeds work unchanged; tests/unit/ext4_crc32c_test.cpp compares them.
#include "guardian/ext4/checksums.hpp"

#include <ext2fs/ext2fs.h>

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace guardian::ext4 {
namespace {

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t
crc32c_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    std::uint64_t c = crc;
    while (n >= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<std::uint32_t>(c);
    while (n > 0) {
        c32 = _mm_crc32_u8(c32, *p);
        ++p;
        --n;
    }
    return c32;
}

bool have_sse42() {
    static const bool yes = __builtin_cpu_supports("sse4.2");
    return yes;
}
#endif

} // namespace

std::uint32_t crc32c(std::uint32_t crc, Bytes data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
    if (have_sse42())
        return crc32c_sse42(crc, p, data.size());
#endif
    return crc32c_portable(crc, data);
}

bool crc32c_hardware() noexcept {
#if defined(__x86_64__)
    return have_sse42();
#else
    return false;
#endif
}

std::uint32_t crc32c_portable(std::uint32_t crc, Bytes data) {
    // libext2fs's table-driven crc32c (the same code e2fsck uses).
    return ext2fs_crc32c_le(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

} // namespace guardian::ext4
