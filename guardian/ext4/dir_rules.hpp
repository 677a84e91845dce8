// Structural rules on directory and xattr blocks that need no checksum: the
// dx_root header of an htree, the names in a directory entry, and the entry
// table of an xattr block. Pure functions of one block's bytes (and the
// superblock's features), so they hold in live mode too: the kernel builds
// each of these blocks whole under the buffer lock. Each returns the first
// problem found, empty when sound; the limits are those of e2fsck's pass 1
// (handle_htree, check_ext_attr) and pass 2 (check_name).
#pragma once

#include "guardian/ext4/bytes.hpp"
#include "guardian/ext4/superblock.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace guardian::ext4 {

// dx_root_info of an htree's logical block 0 whose '.'/'..' shape was found
// sound: reserved fields, hash version, indirect levels. `hash_in_dirent`:
// the directory is both encrypted and casefolded (the only place siphash is used).
[[nodiscard]] std::string dx_root_problem(Bytes block, const SuperInfo& sb, bool hash_in_dirent);

// A name as a directory entry stores it: no '/' and no NUL (not judged in
// encrypted directories, whose names are ciphertext).
[[nodiscard]] bool illegal_name(Bytes name);

// Directory entry file types (the filetype feature): 1..7 from an inode's
// mode, 0 for none. An inode as a scan saw it is recorded as its type, as
// k_inode_unused (read, not in use) or k_inode_unknown (not read, or damaged).
inline constexpr std::uint8_t k_inode_unknown = 0;
inline constexpr std::uint8_t k_inode_unused = 8;
[[nodiscard]] std::uint8_t dirent_type_of_mode(std::uint16_t mode);

// An entry of file type `entry_type` naming inode `target` that the scan saw
// as `seen` (stable mode only: a live inode can be freed and reused between
// reading the entry and reading the inode). Empty when they agree or `seen`
// is unknown.
[[nodiscard]] std::string entry_target_problem(std::uint8_t entry_type, std::uint32_t target,
                                               std::uint8_t seen);

// A directory block's live entries as (name, offset): two with the same
// name are e2fsck pass 2's "Duplicate entry", which it looks for within
// each block. Stable mode only: a block read while the kernel rewrites it
// can tear between an unlink and a create of the same name. Not judged in
// casefolded directories (names equal once folded count there). Sorts
// `names`; the problem names the two offsets (the name itself is the
// guest's text), empty when every name is unique.
using NamedEntry = std::pair<std::string_view, std::size_t>;
[[nodiscard]] std::string duplicate_name_problem(std::vector<NamedEntry>& names);

// The entries of an xattr block whose header is sound: each inside the
// block, the list ending with four zero bytes, each value inside the block
// and above the entry table, e_value_inum only with ea_inode.
[[nodiscard]] std::string xattr_entries_problem(Bytes block, const SuperInfo& sb);

} // namespace guardian::ext4
