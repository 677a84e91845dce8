// BlockSet: the inode walk's "read once" guard. Pages appear as blocks in
// them are added; blocks past the filesystem's end are kept apart.
#include "guardian/ext4/block_set.hpp"

#include <gtest/gtest.h>

namespace guardian::ext4 {
namespace {

TEST(BlockSet, FirstInsertSaysNewThenSeen) {
    BlockSet set(100000);
    EXPECT_FALSE(set.contains(40000));
    EXPECT_TRUE(set.insert(40000));
    EXPECT_FALSE(set.insert(40000));
    EXPECT_TRUE(set.contains(40000));
    // Its neighbours, in the same 64-bit word and page, are not in it.
    EXPECT_FALSE(set.contains(39999));
    EXPECT_FALSE(set.contains(40001));
    EXPECT_TRUE(set.insert(40001));
}

TEST(BlockSet, EdgesOfPagesAndOfTheFilesystem) {
    BlockSet set(65537); // three pages, the last holding one block
    for (std::uint64_t b : {0ull, 63ull, 64ull, 32767ull, 32768ull, 65535ull, 65536ull})
        EXPECT_TRUE(set.insert(b)) << b;
    for (std::uint64_t b : {0ull, 63ull, 64ull, 32767ull, 32768ull, 65535ull, 65536ull})
        EXPECT_FALSE(set.insert(b)) << b;
    EXPECT_FALSE(set.contains(1));
    EXPECT_FALSE(set.contains(32766));
}

TEST(BlockSet, BlocksPastTheEndAreRememberedToo) {
    // A damaged pointer the rules let through must still be visited once.
    BlockSet set(1000);
    EXPECT_FALSE(set.contains(5000000000ull));
    EXPECT_TRUE(set.insert(5000000000ull));
    EXPECT_FALSE(set.insert(5000000000ull));
    EXPECT_TRUE(set.contains(5000000000ull));
    EXPECT_TRUE(set.insert(1000)); // the first block past the end
    EXPECT_FALSE(set.insert(1000));
}

} // namespace
} // namespace guardian::ext4
