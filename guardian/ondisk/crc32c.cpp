// crc32c (Castagnoli), the checksum of metadata_csum and jbd2 v2/v3. It is
// most of the CPU time of a scan (every in-use inode, directory block and
// bitmap goes through it), so on x86-64 it uses the SSE4.2 crc32 instruction
// when the CPU has it (checked at run time: the package is built for the
// baseline ISA), and a table-driven loop otherwise. Both compute the same raw
// update (no pre/post inversion), so the callers' seeds work unchanged;
// tests/unit/ext4_crc32c_test.cpp compares them with libext2fs's.
#include "guardian/ondisk/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace guardian::ondisk {
namespace {

#if defined(__x86_64__)
// One crc32 instruction over the next sizeof(W) bytes (x86 is little-endian,
// the byte order the reflected crc consumes them in).
template <class W>
__attribute__((target("sse4.2"))) std::uint32_t crc_step(std::uint32_t c, const unsigned char* p) {
    W v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (sizeof v == 8)
        return static_cast<std::uint32_t>(_mm_crc32_u64(c, v));
    else if constexpr (sizeof v == 4)
        return _mm_crc32_u32(c, v);
    else if constexpr (sizeof v == 2)
        return _mm_crc32_u16(c, v);
    else
        return _mm_crc32_u8(c, v);
}

__attribute__((target("sse4.2"))) std::uint32_t
crc32c_serial(std::uint32_t c, const unsigned char* p, std::size_t n) {
    for (; n >= 8; p += 8, n -= 8)
        c = crc_step<std::uint64_t>(c, p);
    // The tail in at most three steps: the 4-byte pieces (inode numbers,
    // generations, block numbers) a checksum seed is made of are one.
    if (n >= 4) {
        c = crc_step<std::uint32_t>(c, p);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        c = crc_step<std::uint16_t>(c, p);
        p += 2;
        n -= 2;
    }
    return n > 0 ? crc_step<std::uint8_t>(c, p) : c;
}

// One crc32 instruction has a latency of three cycles and a throughput of
// one, so a single chain runs at a third of the speed the CPU allows. Blocks
// (directory, extent, bitmap: 4 KiB each) are cut into three lanes computed
// side by side, then joined: for the raw update, crc(c, A B) equals
// crc(c advanced over |B| zero bytes, nothing) xor crc(0, B), and "advance
// over k_lane zero bytes" is linear in c, hence four 256-entry tables.
constexpr std::size_t k_lane = 336; // bytes per lane: 42 words

struct LaneShift {
    std::uint32_t t[4][256];
    [[nodiscard]] std::uint32_t operator()(std::uint32_t c) const noexcept {
        return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
    }
};

const LaneShift& lane_shift() {
    static const LaneShift table = [] {
        LaneShift s{};
        static const unsigned char zeros[k_lane] = {};
        for (unsigned k = 0; k < 4; ++k)
            for (std::uint32_t b = 0; b < 256; ++b)
                s.t[k][b] = crc32c_serial(b << (8 * k), zeros, k_lane);
        return s;
    }();
    return table;
}

__attribute__((target("sse4.2"))) std::uint32_t
crc32c_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    if (n >= 3 * k_lane) {
        const LaneShift& shift = lane_shift();
        while (n >= 3 * k_lane) {
            std::uint32_t a = crc, b = 0, c = 0;
            for (std::size_t i = 0; i < k_lane; i += 8) {
                a = crc_step<std::uint64_t>(a, p + i);
                b = crc_step<std::uint64_t>(b, p + k_lane + i);
                c = crc_step<std::uint64_t>(c, p + 2 * k_lane + i);
            }
            crc = shift(shift(a) ^ b) ^ c;
            p += 3 * k_lane;
            n -= 3 * k_lane;
        }
    }
    return crc32c_serial(crc, p, n);
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
    // The reflected Castagnoli polynomial, one byte at a time.
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    for (const std::byte b : data)
        crc = table[(crc ^ std::to_integer<std::uint32_t>(b)) & 0xFFu] ^ (crc >> 8);
    return crc;
}

} // namespace guardian::ondisk
