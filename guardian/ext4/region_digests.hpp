// Region digests for the fingerprint: one XXH3-128 per (structure, group).
// Contiguous regions (superblock, a group descriptor, a bitmap, the used part
// of an inode table) are digested over their bytes as read, in block order.
// Scattered regions (extent, directory, htree, xattr and journal blocks) are
// collected while blocks arrive in whatever order the I/O completes; to stay
// deterministic and memory-bounded they are digested in two levels: each
// block's own XXH3-128, then per region the sequence of (block number, block
// digest) in ascending block order. docs/fingerprint-schema.md states this.
#pragma once

#include "guardian/core/fingerprint.hpp"
#include "guardian/ext4/bytes.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace guardian::ext4 {

struct BlockDigest {
    std::uint64_t block = 0;
    std::uint64_t high = 0;
    std::uint64_t low = 0;
};

[[nodiscard]] BlockDigest digest_block(std::uint64_t block, Bytes data);

// Streaming digest of one contiguous region.
class StreamDigest {
public:
    StreamDigest();
    ~StreamDigest();
    StreamDigest(const StreamDigest&) = delete;
    StreamDigest& operator=(const StreamDigest&) = delete;
    void update(Bytes data);
    [[nodiscard]] std::string hex() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

class RegionDigests {
public:
    // A contiguous region, complete.
    void add_region(Structure s, std::optional<std::uint32_t> group, std::uint64_t blocks,
                    std::string digest);
    // One block of a scattered region.
    void add_block(Structure s, std::optional<std::uint32_t> group, const BlockDigest& d);
    // All regions, sorted by (structure, group); empty ones omitted.
    [[nodiscard]] std::vector<Region> finish();

private:
    struct Record {
        Structure structure;
        std::int64_t group;
        BlockDigest digest;
    };
    std::vector<Region> m_regions;
    std::vector<Record> m_records;
};

} // namespace guardian::ext4
