// Rules on extended attributes that need no checksum (e2fsck pass 1's
// check_ext_attr and check_ea_in_inode): each entry's hash over its name and
// value, and the geometry of the entries kept in an inode's i_extra_isize
// area (names, values and the entry table inside it, none overlapping).
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/superblock.hpp"

#include <cstdint>
#include <string>

namespace guardian::ext4 {

// e_hash of an entry whose value lives beside it: the name's bytes, then
// the value's little-endian words. Older kernels hashed the name as signed
// chars; e2fsck accepts either, and so does entry_hash_ok().
[[nodiscard]] std::uint32_t xattr_entry_hash(Bytes name, Bytes value, bool signed_chars);
[[nodiscard]] bool entry_hash_ok(std::uint32_t stored, Bytes name, Bytes value);

// The xattrs in an in-use inode's extra space (after i_extra_isize, when
// the 0xEA020000 magic is there); empty when sound or absent.
[[nodiscard]] std::string inode_xattr_problem(Bytes inode, const SuperInfo& sb);

} // namespace guardian::ext4
