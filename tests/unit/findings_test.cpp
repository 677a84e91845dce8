// The names in guardianctl's --json contract and the one-line descriptions.
#include "guardian/core/findings.hpp"

#include <gtest/gtest.h>

#include <set>

namespace guardian {
namespace {

TEST(Structures, EveryNameRoundTrips) {
    const std::vector<std::string> contract{
        "superblock",  "geometry",           "group_descriptor", "block_bitmap",    "inode_bitmap",
        "inode",       "extent_block",       "indirect_block",   "directory_block", "htree_block",
        "xattr_block", "journal_superblock", "journal_block"};
    ASSERT_EQ(all_structures().size(), contract.size());
    std::set<std::string> seen;
    for (const Structure s : all_structures()) {
        const std::string name{to_string(s)};
        seen.insert(name);
        const auto back = structure_from_string(name);
        ASSERT_TRUE(back.has_value()) << name;
        EXPECT_EQ(*back, s) << name;
    }
    EXPECT_EQ(seen, std::set<std::string>(contract.begin(), contract.end()));
}

TEST(Structures, UnknownNamesAreRejected) {
    for (const char* bad : {"", "Inode", "inode ", "extent", "unknown", "journal"})
        EXPECT_FALSE(structure_from_string(bad).has_value()) << "'" << bad << "'";
}

TEST(CheckModes, RoundTripAndReject) {
    for (const CheckMode m : {CheckMode::live, CheckMode::stable})
        EXPECT_EQ(check_mode_from_string(to_string(m)), m);
    EXPECT_EQ(to_string(CheckMode::live), "live");
    EXPECT_EQ(to_string(CheckMode::stable), "stable");
    EXPECT_FALSE(check_mode_from_string("frozen").has_value());
    EXPECT_FALSE(check_mode_from_string("LIVE").has_value());
}

TEST(DescribeFinding, NamesEveryLocationField) {
    const Finding f{Structure::inode, 0, 12, 1065, "checksum mismatch"};
    EXPECT_EQ(describe(f), "inode (inode 12, group 0, block 1065): checksum mismatch");
}

TEST(DescribeFinding, OmitsAbsentFields) {
    EXPECT_EQ(describe(Finding{Structure::group_descriptor, 3, {}, {}, "bad"}),
              "group_descriptor (group 3): bad");
    EXPECT_EQ(describe(Finding{Structure::superblock, {}, {}, {}, "checksum mismatch"}),
              "superblock: checksum mismatch");
    EXPECT_EQ(describe(Finding{Structure::journal_block, {}, {}, 4711, ""}),
              "journal_block (block 4711)");
    EXPECT_EQ(describe(Finding{Structure::geometry, {}, {}, {}, ""}), "geometry");
}

TEST(CheckReport, IntactMeansNoFindings) {
    CheckReport r;
    EXPECT_TRUE(r.intact());
    r.not_verified.push_back("inode: no metadata_csum");
    EXPECT_TRUE(r.intact()) << "what could not be verified is not damage";
    r.findings.push_back({Structure::xattr_block, {}, 15, 3396, "checksum mismatch"});
    EXPECT_FALSE(r.intact());
}

} // namespace
} // namespace guardian
