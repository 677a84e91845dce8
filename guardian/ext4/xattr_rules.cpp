#include "guardian/ext4/xattr_rules.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace guardian::ext4 {
namespace {

constexpr std::uint32_t k_xattr_magic = 0xEA020000;
constexpr std::size_t k_entry = 16; // before the name

std::size_t round4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

std::uint32_t rotl(std::uint32_t v, unsigned n) {
    return (v << n) | (v >> (32 - n));
}

} // namespace

std::uint32_t xattr_entry_hash(Bytes name, Bytes value, bool signed_chars) {
    std::uint32_t h = 0;
    for (const std::byte c : name) {
        const auto u = std::to_integer<std::uint8_t>(c);
        const std::uint32_t v =
            signed_chars
                ? static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(u)))
                : u;
        h = rotl(h, 5) ^ v;
    }
    for (std::size_t i = 0; i < (value.size() + 3) / 4; ++i) {
        std::uint32_t w = 0; // the last word padded with zeros
        for (std::size_t k = 0; k < 4 && 4 * i + k < value.size(); ++k)
            w |= std::uint32_t{std::to_integer<std::uint8_t>(value[4 * i + k])} << (8 * k);
        h = rotl(h, 16) ^ w;
    }
    return h;
}

bool entry_hash_ok(std::uint32_t stored, Bytes name, Bytes value) {
    return stored == xattr_entry_hash(name, value, false) ||
           stored == xattr_entry_hash(name, value, true);
}

std::string inode_xattr_problem(Bytes inode, const SuperInfo& sb) {
    if (inode.size() <= 128)
        return {};
    const std::size_t extra = le16(inode, 0x80);
    const std::size_t header = 128 + extra;
    if (extra == 0 || header + 4 > inode.size() || le32(inode, header) != k_xattr_magic)
        return {};
    // Offsets below are from the first entry, as e_value_offs counts them.
    const std::size_t start = header + 4;
    const std::size_t storage = inode.size() - start;
    const Bytes area = inode.subspan(start);
    const bool ea_inode = sb.feature_incompat & k_incompat_ea_inode;
    std::vector<std::pair<std::size_t, std::size_t>> used; // [begin, end) in `area`
    std::size_t remain = storage;
    std::size_t off = 0;
    for (std::size_t k = 0; off + 4 <= storage && le32(area, off) != 0; ++k) {
        auto at = [k] { return "in-inode xattr entry " + std::to_string(k) + ": "; };
        if (remain < k_entry || off + k_entry > storage)
            return at() + "runs past the inode";
        remain -= k_entry;
        const std::size_t name_len = u8(area, off);
        if (round4(name_len) > remain)
            return at() + "name length " + std::to_string(name_len) + " exceeds the " +
                   std::to_string(remain) + " bytes left";
        remain -= round4(name_len);
        used.emplace_back(off, off + k_entry + round4(name_len));
        const std::size_t voff = le16(area, off + 2);
        const std::uint32_t inum = le32(area, off + 4);
        const std::size_t vsize = le32(area, off + 8);
        if (inum != 0 && !ea_inode)
            return at() + "e_value_inum " + std::to_string(inum) +
                   " set without the ea_inode feature";
        if (inum == 0) {
            if (vsize > remain)
                return at() + "value size " + std::to_string(vsize) + " exceeds the " +
                       std::to_string(remain) + " bytes left";
            if (vsize != 0) {
                if (voff + round4(vsize) > storage)
                    return at() + "value [" + std::to_string(voff) + ", " +
                           std::to_string(voff + vsize) + ") outside the inode";
                used.emplace_back(voff, voff + round4(vsize));
                const std::uint32_t stored = le32(area, off + 12);
                // In-inode entries written by old kernels carry no hash.
                if (stored != 0 && !entry_hash_ok(stored, area.subspan(off + k_entry, name_len),
                                                  area.subspan(voff, vsize)))
                    return at() + "e_hash " + std::to_string(stored) +
                           " does not match its name and value";
            }
            remain -= vsize;
        }
        off += k_entry + round4(name_len);
    }
    if (off + 4 > storage)
        return "in-inode xattrs: no end of entries (no four zero bytes before the inode's end)";
    used.emplace_back(off, off + 4);
    std::sort(used.begin(), used.end());
    for (std::size_t i = 1; i < used.size(); ++i)
        if (used[i].first < used[i - 1].second)
            return "in-inode xattrs: bytes " + std::to_string(used[i].first) + ".." +
                   std::to_string(used[i - 1].second - 1) +
                   " are claimed twice (entry table and values collide)";
    return {};
}

} // namespace guardian::ext4
