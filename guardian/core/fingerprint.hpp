// The fingerprint of a filesystem's metadata: static geometry as named fields
// plus digests of every metadata region, per block group, so a difference
// names where it is. Schema: docs/fingerprint-schema.md.
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/util/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace guardian {

inline constexpr int k_fingerprint_schema = 1;

struct Region {
    Structure structure;
    // Owning group for per-group structures (descriptor, bitmaps, inode table);
    // the group the blocks lie in for extent, directory, htree and xattr
    // blocks; none for filesystem-wide ones (superblock, journal).
    std::optional<std::uint32_t> group;
    std::uint64_t blocks = 0; // number of blocks (or inodes) digested
    std::string digest;       // hex XXH3-128 over the region's bytes in block order

    friend bool operator==(const Region&, const Region&) = default;
};

struct Fingerprint {
    int schema = k_fingerprint_schema;
    FsIdentity identity;
    CheckMode mode = CheckMode::stable;
    std::string taken_at; // ISO 8601 UTC
    // Fields that never change while mounted, e.g.
    // "superblock.s_blocks_per_group" -> "32768", "group_descriptor.3.bg_inode_table" -> "1091".
    std::map<std::string, std::string> geometry;
    std::vector<Region> regions; // sorted by (structure, group)
};

struct Difference {
    enum class Kind { changed, added, removed };
    Kind kind = Kind::changed;
    Structure structure = Structure::geometry;
    std::optional<std::uint32_t> group;
    std::string field; // geometry field name, empty for regions
    std::string before;
    std::string after;

    friend bool operator==(const Difference&, const Difference&) = default;
};

// Every difference between two fingerprints of the same filesystem: geometry
// fields one by one, then regions. Identity (UUID) differences come first as
// a geometry difference on "identity.uuid".
[[nodiscard]] std::vector<Difference> compare(const Fingerprint& before, const Fingerprint& after);
[[nodiscard]] std::string describe(const Difference& d);

// Only the geometry part (what a live baseline can compare safely).
[[nodiscard]] std::vector<Difference> compare_geometry(const Fingerprint& before,
                                                       const Fingerprint& after);

[[nodiscard]] std::string fingerprint_to_json(const Fingerprint& fp, int indent = 1);
// Parses and validates; errors name the field that is wrong.
[[nodiscard]] Result<Fingerprint> fingerprint_from_json(const std::string& text);

} // namespace guardian
