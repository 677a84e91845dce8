#include "guardian/ext4/region_digests.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <tuple>

namespace guardian::ext4 {
namespace {

std::string hex128(XXH128_hash_t h) {
    char b[40];
    std::snprintf(b, sizeof b, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return b;
}

void put_le64(std::array<unsigned char, 24>& out, std::size_t at, std::uint64_t v) {
    for (std::size_t i = 0; i < 8; ++i)
        out[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

} // namespace

struct StreamDigest::State {
    XXH3_state_t* state = XXH3_createState();
    ~State() { XXH3_freeState(state); }
};

StreamDigest::StreamDigest() : m_state(std::make_unique<State>()) {
    if (!m_state->state)
        throw std::bad_alloc();
    XXH3_128bits_reset(m_state->state);
}
StreamDigest::~StreamDigest() = default;

void StreamDigest::update(Bytes data) {
    XXH3_128bits_update(m_state->state, data.data(), data.size());
}

std::string StreamDigest::hex() const {
    return hex128(XXH3_128bits_digest(m_state->state));
}

BlockDigest digest_block(std::uint64_t block, Bytes data) {
    const XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
    return {block, h.high64, h.low64};
}

void RegionDigests::add_region(Structure s, std::optional<std::uint32_t> group,
                               std::uint64_t blocks, std::string digest) {
    if (blocks > 0)
        m_regions.push_back({s, group, blocks, std::move(digest)});
}

void RegionDigests::add_block(Structure s, std::optional<std::uint32_t> group,
                              const BlockDigest& d) {
    m_records.push_back({s, group ? static_cast<std::int64_t>(*group) : -1, d});
}

std::vector<Region> RegionDigests::finish() {
    auto key = [](const Record& r) {
        return std::tuple(static_cast<int>(r.structure), r.group, r.digest.block);
    };
    std::sort(m_records.begin(), m_records.end(),
              [&](const Record& a, const Record& b) { return key(a) < key(b); });
    // A block reached twice (shared xattr block, cross-linked damage) counts once.
    m_records.erase(std::unique(m_records.begin(), m_records.end(),
                                [&](const Record& a, const Record& b) { return key(a) == key(b); }),
                    m_records.end());
    for (std::size_t i = 0; i < m_records.size();) {
        std::size_t j = i;
        StreamDigest d;
        while (j < m_records.size() && m_records[j].structure == m_records[i].structure &&
               m_records[j].group == m_records[i].group) {
            std::array<unsigned char, 24> rec{};
            put_le64(rec, 0, m_records[j].digest.block);
            put_le64(rec, 8, m_records[j].digest.high);
            put_le64(rec, 16, m_records[j].digest.low);
            d.update(std::as_bytes(std::span(rec)));
            ++j;
        }
        const auto& r = m_records[i];
        m_regions.push_back(
            {r.structure,
             r.group < 0 ? std::nullopt : std::optional(static_cast<std::uint32_t>(r.group)), j - i,
             d.hex()});
        i = j;
    }
    m_records.clear();
    std::sort(m_regions.begin(), m_regions.end(), [](const Region& a, const Region& b) {
        return std::tuple(static_cast<int>(a.structure), a.group ? std::int64_t(*a.group) : -1) <
               std::tuple(static_cast<int>(b.structure), b.group ? std::int64_t(*b.group) : -1);
    });
    return std::move(m_regions);
}

} // namespace guardian::ext4
