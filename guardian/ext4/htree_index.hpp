// The htree of each indexed directory as a stable-mode scan reads it (e2fsck
// pass 2's htree checks): the root's depth, each index node's entries (hash,
// child), each leaf's lowest and highest name hash under the directory's hash
// version and seed. Judged once every block of the directory was read:
// index hashes in order, every entry pointing inside the directory at a
// block of the right kind for its level (an index block read where a leaf
// belongs says indirect_levels is wrong), each leaf's names inside the range
// its index entry gives it, every leaf referenced exactly once.
//
// A mounted filesystem splits a leaf and updates its index in one
// transaction, but a live scan reads them at different moments: stable mode
// only. Pure bookkeeping: no I/O.
#pragma once

#include "guardian/ext4/scan_context.hpp"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace guardian::ext4 {

class HtreeIndex {
public:
    struct Entry {
        std::uint32_t hash;  // 0 for the first entry (it has none)
        std::uint32_t child; // logical block
    };
    void root(std::uint32_t dir, std::uint64_t size_blocks, std::uint8_t levels,
              std::uint8_t hash_version);
    // The dx_root's hash version, if its root was read (leaves need it).
    [[nodiscard]] std::optional<std::uint8_t> hash_version(std::uint32_t dir) const;
    void node(std::uint32_t dir, std::uint64_t logical, std::uint64_t block,
              std::vector<Entry> entries);
    // A leaf's names' hashes: [min, max]; `names` 0 when it holds none.
    void leaf(std::uint32_t dir, std::uint64_t logical, std::uint64_t block, std::uint32_t min,
              std::uint32_t max, std::uint32_t names);
    // A directory some of whose blocks were not read whole (a finding of its
    // own): its index is not judged.
    void incomplete(std::uint32_t dir);

    [[nodiscard]] std::vector<Suspect> judge() const;

private:
    struct Node {
        std::uint64_t block;
        std::vector<Entry> entries;
    };
    struct Leaf {
        std::uint64_t block;
        std::uint32_t min;
        std::uint32_t max;
        std::uint32_t names;
    };
    struct Dir {
        std::uint64_t size_blocks = 0;
        std::uint8_t levels = 0;
        std::uint8_t version = 0;
        bool rooted = false;
        bool incomplete = false;
        std::unordered_map<std::uint64_t, Node> nodes;
        std::unordered_map<std::uint64_t, Leaf> leaves;
    };
    // The first problem under `logical` (a node at `level`), hashes in [lo, hi].
    [[nodiscard]] std::string walk(const Dir& d, std::uint64_t logical, std::uint8_t level,
                                   std::uint32_t lo, std::uint32_t hi,
                                   std::unordered_map<std::uint64_t, int>& refs,
                                   std::uint64_t& at) const;
    std::unordered_map<std::uint32_t, Dir> m_dirs;
};

} // namespace guardian::ext4
