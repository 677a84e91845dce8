// What a filesystem check found. Pure data: produced by the ext4 adapter,
// judged by the daemon's policy, printed by guardianctl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// The metadata structure a finding or a fingerprint region is about. The
// spelling of each name is part of guardianctl's --json contract.
enum class Structure {
    superblock,
    geometry,
    group_descriptor,
    block_bitmap,
    inode_bitmap,
    inode,
    extent_block,
    indirect_block, // ext2/ext3 block maps: single, double, triple indirect blocks
    directory_block,
    htree_block,
    xattr_block,
    journal_superblock,
    journal_block,
};

[[nodiscard]] std::string_view to_string(Structure s) noexcept;
[[nodiscard]] std::optional<Structure> structure_from_string(std::string_view name) noexcept;
[[nodiscard]] const std::vector<Structure>& all_structures();

// live: a mounted, journaled filesystem; only self-contained checksums are
// trusted (bitmap checksums in the group descriptors lag until the journal is
// checkpointed). stable: unmounted or frozen; everything is checked.
enum class CheckMode { live, stable };
[[nodiscard]] std::string_view to_string(CheckMode m) noexcept;
[[nodiscard]] std::optional<CheckMode> check_mode_from_string(std::string_view name) noexcept;

struct Finding {
    Structure structure;
    std::optional<std::uint32_t> group;
    std::optional<std::uint32_t> inode;
    std::optional<std::uint64_t> block;
    std::string detail;

    friend bool operator==(const Finding&, const Finding&) = default;
};

// Identity of the filesystem checked (from the superblock / libblkid).
struct FsIdentity {
    std::string source; // device or image path as given
    std::string type;   // "ext4", "ext3", "ext2"
    std::string uuid;
    std::string label;
};

struct CheckStats {
    std::uint64_t blocks_read = 0;
    std::uint64_t bytes_read = 0;
    std::uint64_t inodes_checked = 0;
    std::uint64_t seconds_x1e6 = 0; // wall time in microseconds
};

struct CheckReport {
    FsIdentity identity;
    CheckMode mode = CheckMode::live;
    bool metadata_csum = false;
    std::vector<Finding> findings;
    // What could not be verified and why, e.g. "inode: no metadata_csum".
    std::vector<std::string> not_verified;
    CheckStats stats;

    [[nodiscard]] bool intact() const noexcept { return findings.empty(); }
};

// One line per finding for humans: "inode 12 (group 0, block 1065): checksum mismatch".
[[nodiscard]] std::string describe(const Finding& f);

} // namespace guardian
