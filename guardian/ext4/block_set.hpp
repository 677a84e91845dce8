// A set of block numbers for the inode walk's "read once" guards: a bitmap
// in 32768-block pages, each allocated when a block in it is first added.
// A hash set cost the 16 GiB benchmark a node allocation per extent,
// directory and xattr block (and its rehashes); a flat bitmap of a 16 TiB
// filesystem would cost 512 MiB. Pages follow what the walk touches: the
// metadata of a filesystem clusters in its groups' first blocks.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

namespace guardian::ext4 {

class BlockSet {
public:
    // Blocks at or past `blocks_count` (damaged pointers the rules let
    // through) go to a plain hash set: they are rare.
    explicit BlockSet(std::uint64_t blocks_count)
        : m_blocks_count(blocks_count), m_pages((blocks_count + k_page_bits - 1) / k_page_bits) {}

    // True when `block` was not in the set (and now is).
    [[nodiscard]] bool insert(std::uint64_t block) {
        const std::uint64_t index = block / k_page_bits;
        if (block >= m_blocks_count || index >= m_pages.size())
            return m_beyond.insert(block).second;
        auto& page = m_pages[index];
        if (!page)
            page = std::make_unique<Page>(); // value-initialised: all zero
        const std::uint64_t bit = block % k_page_bits;
        std::uint64_t& word = (*page)[bit / 64];
        const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
        if (word & mask)
            return false;
        word |= mask;
        return true;
    }

    [[nodiscard]] bool contains(std::uint64_t block) const {
        const std::uint64_t index = block / k_page_bits;
        if (block >= m_blocks_count || index >= m_pages.size())
            return m_beyond.count(block) != 0;
        const auto& page = m_pages[index];
        const std::uint64_t bit = block % k_page_bits;
        return page && ((*page)[bit / 64] >> (bit % 64) & 1) != 0;
    }

private:
    static constexpr std::uint64_t k_page_bits = 32768; // 4 KiB of bits
    using Page = std::array<std::uint64_t, k_page_bits / 64>;
    std::uint64_t m_blocks_count;
    std::vector<std::unique_ptr<Page>> m_pages;
    std::unordered_set<std::uint64_t> m_beyond;
};

} // namespace guardian::ext4
