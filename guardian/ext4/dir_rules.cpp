#include "guardian/ext4/dir_rules.hpp"

#include "guardian/ext4/xattr_rules.hpp"

#include <algorithm>
#include <cstring>

namespace guardian::ext4 {
namespace {

constexpr std::uint8_t k_hash_tea = 2;
constexpr std::uint8_t k_hash_siphash = 6;
constexpr std::uint8_t k_hash_flag_incompat = 0x1;
constexpr std::size_t k_xattr_header = 32;
constexpr std::size_t k_xattr_entry = 16; // before the name

std::size_t round4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

} // namespace

std::string duplicate_name_problem(std::vector<NamedEntry>& names) {
    std::sort(names.begin(), names.end());
    const auto dup =
        std::adjacent_find(names.begin(), names.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; });
    if (dup == names.end())
        return {};
    return "entries at offsets " + std::to_string(dup->second) + " and " +
           std::to_string(std::next(dup)->second) + " have the same name (" +
           std::to_string(dup->first.size()) + " bytes)";
}

std::string dx_root_problem(Bytes b, const SuperInfo& sb, bool hash_in_dirent) {
    // dx_root_info follows '.' (12 bytes) and '..''s header and name (12).
    if (le32(b, 0x18) != 0 || (u8(b, 0x1F) & k_hash_flag_incompat))
        return "bad dx_root: reserved/unused fields set";
    const std::uint8_t hash = u8(b, 0x1C);
    if (hash > k_hash_tea && hash != k_hash_siphash)
        return "bad dx_root: hash version " + std::to_string(hash) + " unknown";
    if (hash == k_hash_siphash && !hash_in_dirent)
        return "bad dx_root: hash version 6 (siphash) outside an encrypted, casefolded directory";
    if (hash != k_hash_siphash && hash_in_dirent)
        return "bad dx_root: hash version " + std::to_string(hash) +
               " in an encrypted, casefolded directory (needs siphash)";
    // indirect_levels counts the index levels below the root: the kernel
    // and e2fsck allow 2 levels in all (3 with largedir).
    const bool largedir = sb.feature_incompat & k_incompat_largedir;
    const std::uint8_t levels = u8(b, 0x1E);
    if (levels >= (largedir ? 3 : 2))
        return "bad dx_root: indirect levels " + std::to_string(levels) + " (at most " +
               (largedir ? "2 with" : "1 without") + " largedir)";
    return {};
}

bool illegal_name(Bytes name) {
    // Called for every entry of every directory block: eight bytes at a time
    // (a word has a zero byte iff (v - 0x01..) & ~v & 0x80.. is non-zero).
    constexpr std::uint64_t k_ones = 0x0101010101010101;
    constexpr std::uint64_t k_highs = 0x8080808080808080;
    auto zero_byte = [](std::uint64_t v) { return (v - k_ones) & ~v & k_highs; };
    std::size_t i = 0;
    for (; i + 8 <= name.size(); i += 8) {
        std::uint64_t v;
        std::memcpy(&v, name.data() + i, 8);
        if (zero_byte(v) | zero_byte(v ^ (k_ones * '/')))
            return true;
    }
    for (; i < name.size(); ++i)
        if (name[i] == std::byte{'/'} || name[i] == std::byte{0})
            return true;
    return false;
}

std::uint8_t dirent_type_of_mode(std::uint16_t mode) {
    switch (mode & 0xF000) {
    case 0x8000:
        return 1;
    case 0x4000:
        return 2;
    case 0x2000:
        return 3;
    case 0x6000:
        return 4;
    case 0x1000:
        return 5;
    case 0xC000:
        return 6;
    case 0xA000:
        return 7;
    default:
        return 0;
    }
}

std::string entry_target_problem(std::uint8_t entry_type, std::uint32_t target, std::uint8_t seen) {
    static constexpr const char* k_names[] = {
        "",       "a regular file", "a directory", "a character device", "a block device",
        "a FIFO", "a socket",       "a symlink"};
    if (seen == k_inode_unknown || seen == entry_type)
        return {};
    if (seen == k_inode_unused)
        return "inode " + std::to_string(target) + " is not in use";
    return "file type " + std::to_string(entry_type) + " but inode " + std::to_string(target) +
           " is " + k_names[seen & 7];
}

std::string xattr_entries_problem(Bytes b, const SuperInfo& sb) {
    const std::size_t bs = b.size();
    // First pass: the entry table, up to and including its four zero bytes.
    std::size_t off = k_xattr_header;
    std::size_t k = 0;
    for (;; ++k) {
        if (off + 4 > bs)
            return "no end of entries (no four zero bytes before the end of the block)";
        if (le32(b, off) == 0)
            break;
        const std::size_t len = round4(k_xattr_entry + u8(b, off));
        if (off + len > bs)
            return "entry " + std::to_string(k) + ": runs past the end of the block";
        off += len;
    }
    const std::size_t table_end = off + 4;
    const bool ea_inode = sb.feature_incompat & k_incompat_ea_inode;
    // Second pass: each entry's value.
    off = k_xattr_header;
    for (std::size_t i = 0; i < k; ++i) {
        auto at = [i] { return "entry " + std::to_string(i) + ": "; };
        const std::size_t len = round4(k_xattr_entry + u8(b, off));
        if (u8(b, off + 1) == 0)
            return at() + "name index 0";
        const std::uint32_t inum = le32(b, off + 4);
        const std::size_t voff = le16(b, off + 2);
        const std::size_t vsize = le32(b, off + 8);
        if (inum != 0 && !ea_inode)
            return at() + "e_value_inum " + std::to_string(inum) +
                   " set without the ea_inode feature";
        if (inum == 0) {
            if (voff + vsize > bs)
                return at() + "value [" + std::to_string(voff) + ", " +
                       std::to_string(voff + vsize) + ") outside the block";
            if (vsize != 0 && voff < table_end)
                return at() + "value [" + std::to_string(voff) + ", " +
                       std::to_string(voff + vsize) + ") overlaps the entry table (ending at " +
                       std::to_string(table_end) + ")";
            const std::uint32_t stored = le32(b, off + 12);
            if (vsize != 0 && stored != 0 &&
                !entry_hash_ok(stored, b.subspan(off + k_xattr_entry, u8(b, off)),
                               b.subspan(voff, vsize)))
                return at() + "e_hash " + std::to_string(stored) +
                       " does not match its name and value";
        }
        off += len;
    }
    return {};
}

} // namespace guardian::ext4
