// The scaffolding of the oracle tests (ownership_test, tree_shapes_test):
// images built with mke2fs and damaged with debugfs or byte writes, then
// `e2fsck -fn` decides what must be found. Every case it flags (exit 4) must
// come back from a stable scan with one of the expected structures named;
// clean images give no finding in either mode.
#pragma once

#include "tests/integration/damage_matrix.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace guardian::test {

inline std::string sh(const std::string& cmd) {
    const CommandResult r = run_command(cmd);
    if (r.exit_code != 0)
        throw std::runtime_error(cmd + ": " + r.err);
    return r.out;
}

inline std::string debugfs(const std::filesystem::path& image, const std::string& req,
                           bool write = false) {
    // -n: the checksums debugfs would verify on open are what the damage breaks.
    return run_command("debugfs -n " + std::string(write ? "-w " : "") + "-R '" + req + "' '" +
                       image.string() + "' 2>/dev/null")
        .out;
}

inline std::uint64_t number_after(const std::string& text, const std::string& key) {
    const auto p = text.find(key);
    if (p == std::string::npos)
        throw std::runtime_error("no '" + key + "' in: " + text);
    return std::stoull(text.substr(p + key.size()));
}

// The physical block of `file`'s logical block (0: a hole).
inline std::uint64_t block_of(const std::filesystem::path& image, const std::string& file,
                              std::uint64_t logical) {
    return std::stoull(debugfs(image, "bmap " + file + " " + std::to_string(logical)));
}

inline void zap(const std::filesystem::path& image, std::uint64_t block, int offset, int length,
                int pattern) {
    debugfs(image,
            "zap_block -o " + std::to_string(offset) + " -l " + std::to_string(length) + " -p " +
                std::to_string(pattern) + " " + std::to_string(block),
            true);
}

inline std::uint32_t block_size_of(const std::filesystem::path& image) {
    return static_cast<std::uint32_t>(
        number_after(sh("dumpe2fs -h '" + image.string() + "' 2>/dev/null"), "Block size:"));
}

inline std::string read_bytes(const std::filesystem::path& image, std::uint64_t offset,
                              std::size_t size) {
    std::ifstream in(image, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::string out(size, '\0');
    in.read(out.data(), static_cast<std::streamsize>(size));
    if (!in)
        throw std::runtime_error("read " + image.string() + " at " + std::to_string(offset));
    return out;
}

inline void write_bytes(const std::filesystem::path& image, std::uint64_t offset,
                        const std::string& bytes) {
    std::fstream out(image, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(offset));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("write " + image.string() + " at " + std::to_string(offset));
}

// Gives one live entry of directory block `block` the name of another of
// the same length (checksums, if any, are not recomputed): e2fsck's
// "Duplicate entry". False when the block holds no two such entries.
inline bool duplicate_a_name(const std::filesystem::path& image, std::uint64_t block,
                             std::mt19937& rng) {
    const std::uint32_t bs = block_size_of(image);
    std::string b = read_bytes(image, block * bs, bs);
    auto le = [&](std::size_t off, int n) {
        std::uint32_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<std::size_t>(i)]);
        return v;
    };
    struct Entry {
        std::size_t off;
        std::size_t len;
    };
    std::vector<Entry> entries;
    for (std::size_t off = 0; off + 8 <= bs;) {
        const std::size_t rec_len = le(off + 4, 2);
        const std::size_t len = le(off + 6, 1);
        const std::string name = b.substr(off + 8, len);
        if (le(off, 4) != 0 && name != "." && name != "..")
            entries.push_back({off, len});
        if (rec_len < 12)
            break;
        off += rec_len;
    }
    std::vector<std::pair<Entry, Entry>> pairs;
    for (std::size_t i = 0; i < entries.size(); ++i)
        for (std::size_t j = i + 1; j < entries.size(); ++j)
            if (entries[i].len == entries[j].len)
                pairs.emplace_back(entries[i], entries[j]);
    if (pairs.empty())
        return false;
    const auto& [from, to] =
        pairs[std::uniform_int_distribution<std::size_t>(0, pairs.size() - 1)(rng)];
    b.replace(to.off + 8, to.len, b.substr(from.off + 8, from.len));
    write_bytes(image, block * bs, b);
    return true;
}

inline std::string describe(const std::vector<Finding>& findings) {
    std::ostringstream o;
    for (const auto& f : findings)
        o << "  " << to_string(f.structure) << ": " << f.detail << "\n";
    return o.str();
}

// e2fsck -fn passes it, and so do both modes.
inline void expect_clean(const std::filesystem::path& image) {
    const CommandResult fsck = run_command("e2fsck -fn '" + image.string() + "'");
    ASSERT_EQ(fsck.exit_code, 0) << fsck.out;
    for (const CheckMode m : {CheckMode::live, CheckMode::stable}) {
        const auto r = scan_image(image, m);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_TRUE(r->report.findings.empty()) << to_string(m) << ":\n"
                                                << describe(r->report.findings);
    }
}

// One damaged image against the oracle: when e2fsck -fn flags it (exit 4), the stable
// scan names one of `structures` (and live mode scans it without failing).
// Returns the stable findings when e2fsck flagged the image, nothing when it
// did not (then there is nothing to find).
inline std::optional<std::vector<Finding>>
expect_found_if_flagged(const std::filesystem::path& image, const std::string& label,
                        const std::vector<std::string>& structures) {
    const CommandResult oracle = run_command("e2fsck -fn '" + image.string() + "'");
    std::cout << "[ case ] " << label << ": e2fsck -fn exit " << oracle.exit_code << "\n";
    // 4: errors left uncorrected (-n); with 8 too when e2fsck gave up on
    // what it found (an illegal triple-indirect block aborts pass 1).
    if ((oracle.exit_code & 4) == 0)
        return std::nullopt;
    const auto r = scan_image(image, CheckMode::stable);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok())
        return std::vector<Finding>{};
    const auto& f = r->report.findings;
    const bool named = std::any_of(f.begin(), f.end(), [&](const Finding& x) {
        return std::find(structures.begin(), structures.end(),
                         std::string(to_string(x.structure))) != structures.end();
    });
    EXPECT_TRUE(named) << "e2fsck -fn:\n" << oracle.out << "guardian:\n" << describe(f);
    EXPECT_TRUE(scan_image(image, CheckMode::live).ok());
    return f;
}

// One kind of seeded damage and the structures a finding may name.
template <class Kind> struct OracleCase {
    Kind kind;
    std::string name;
    std::vector<std::string> structures;
};

// Each case with seeds 1 and 2, each on a fresh copy of `pristine`:
// `damage(image, kind, rng)` applies it (false: this shape has nothing to
// damage that way), then the oracle judges it. `also` sees the stable
// findings of each case e2fsck flagged. Returns how many it flagged.
template <class Kind>
int expect_flagged_cases_found(
    const std::filesystem::path& pristine, const std::string& shape,
    const std::vector<OracleCase<Kind>>& cases,
    const std::function<bool(const std::filesystem::path&, Kind, std::mt19937&)>& damage,
    const std::function<void(Kind, const std::vector<Finding>&)>& also = {}) {
    const std::filesystem::path image = pristine.parent_path() / "damaged.img";
    int flagged = 0;
    for (const auto& c : cases) {
        for (unsigned seed = 1; seed <= 2; ++seed) {
            const std::string label = shape + " " + c.name + " seed " + std::to_string(seed);
            SCOPED_TRACE(label);
            std::filesystem::copy_file(pristine, image,
                                       std::filesystem::copy_options::overwrite_existing);
            std::mt19937 rng(seed * 7919u + static_cast<unsigned>(c.kind));
            if (!damage(image, c.kind, rng))
                continue;
            const auto f = expect_found_if_flagged(image, label, c.structures);
            if (!f)
                continue; // e2fsck sees nothing wrong: nothing to find
            ++flagged;
            if (also)
                also(c.kind, *f);
        }
    }
    std::cout << "[ oracle ] " << shape << ": " << flagged << " cases flagged by e2fsck\n";
    return flagged;
}

} // namespace guardian::test
