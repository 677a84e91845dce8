// BlockReader on a real file: a batch read piece by piece by the threads that
// use it (ensure), a queued run lent to an idle thread (read_one_queued), a
// failed read reported by both, and a batch dropped unread while readers
// still write into it (withdrawn, never a write into freed buffers: the
// sanitized CI build would report one).
#include "guardian/ext4/block_reader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace guardian::ext4 {
namespace {

constexpr std::size_t k_block = 4096;
constexpr std::uint64_t k_blocks = 1024; // 4 MiB: several 256 KiB runs

// A file whose block b holds the byte (b * 7 + 3) & 0xFF everywhere.
class BlockReaderFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/guardian-block-reader-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        ::close(fd);
        m_path = tmpl;
        std::ofstream out(m_path, std::ios::binary);
        std::vector<char> block(k_block);
        for (std::uint64_t b = 0; b < k_blocks; ++b) {
            std::fill(block.begin(), block.end(), static_cast<char>(pattern(b)));
            out.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
        ASSERT_TRUE(out.good());
    }
    void TearDown() override { ::unlink(m_path.c_str()); }
    static std::uint8_t pattern(std::uint64_t b) { return static_cast<std::uint8_t>(b * 7 + 3); }
    static bool holds(const ReadBatch& batch, std::uint64_t b) {
        const auto d = batch.data(b);
        if (d.size() != k_block)
            return false;
        for (const std::byte x : d)
            if (std::to_integer<std::uint8_t>(x) != pattern(b))
                return false;
        return true;
    }
    [[nodiscard]] std::unique_ptr<BlockReader> open_reader() const {
        auto r = BlockReader::open(m_path, false, 4);
        EXPECT_TRUE(r.ok());
        auto reader = std::move(r).value();
        reader->set_block_size(k_block);
        return reader;
    }
    // A new reader treats buffered reads as slow (a first scan is cold) and
    // wakes its reader threads for them; after 64 quick reads in a row it
    // leaves the reading to the threads that use the data, which is what
    // ensure() must then do itself.
    static void warm_up(BlockReader& reader) {
        for (int round = 0; round < 2; ++round) {
            std::vector<std::uint64_t> scattered;
            for (std::uint64_t b = 0; b < k_blocks; b += 12)
                scattered.push_back(b);
            auto batch = reader.submit(scattered);
            ASSERT_TRUE(reader.wait(*batch).ok());
        }
    }
    std::string m_path;
};

TEST_F(BlockReaderFile, EnsureReadsTheBlocksAskedForAndTwoThreadsShareABatch) {
    auto reader = open_reader();
    warm_up(*reader);
    std::vector<std::uint64_t> blocks;
    for (std::uint64_t b = 0; b < k_blocks; ++b)
        blocks.push_back(b);
    auto batch = reader->submit(blocks);
    // Two threads each make their half readable and check it, as the
    // scan's verifying threads do with their pieces of a chunk.
    bool first_half = false;
    std::thread other([&] {
        first_half = reader->ensure(*batch, 0, k_blocks / 2);
        for (std::uint64_t b = 0; first_half && b < k_blocks / 2; ++b)
            first_half = holds(*batch, b);
    });
    bool second_half = reader->ensure(*batch, k_blocks / 2, k_blocks / 2);
    for (std::uint64_t b = k_blocks / 2; second_half && b < k_blocks; ++b)
        second_half = holds(*batch, b);
    other.join();
    EXPECT_TRUE(first_half);
    EXPECT_TRUE(second_half);
    // A range across runs both threads read: nothing left to read.
    EXPECT_TRUE(reader->ensure(*batch, k_blocks / 2 - 10, 20));
    EXPECT_FALSE(reader->read_one_queued());
    EXPECT_TRUE(reader->wait(*batch).ok());
}

TEST_F(BlockReaderFile, AnIdleThreadReadsWhatIsQueuedOldestFirst) {
    auto reader = open_reader();
    auto a = reader->submit({10, 11, 12});
    auto b = reader->submit({500});
    // The helpers drain the queue (a reader woken for the first, cold
    // batches may take some too): afterwards nothing is left to read.
    while (reader->read_one_queued()) {
    }
    EXPECT_FALSE(reader->read_one_queued());
    ASSERT_TRUE(reader->wait(*a).ok());
    ASSERT_TRUE(reader->wait(*b).ok());
    EXPECT_TRUE(holds(*a, 10));
    EXPECT_TRUE(holds(*a, 12));
    EXPECT_TRUE(holds(*b, 500));
}

TEST_F(BlockReaderFile, AFailedReadMakesEnsureFalseAndWaitNamesIt) {
    auto reader = open_reader();
    // Block k_blocks + 8 lies beyond the end of the file.
    auto batch = reader->submit({1, k_blocks + 8});
    EXPECT_TRUE(reader->ensure(*batch, 1, 1));
    EXPECT_TRUE(holds(*batch, 1));
    EXPECT_FALSE(reader->ensure(*batch, k_blocks + 8, 1));
    const Status st = reader->wait(*batch);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("beyond the end"), std::string::npos) << st.error().message;
}

TEST_F(BlockReaderFile, ABatchDroppedUnreadIsWithdrawnAndItsReadsFinishFirst) {
    auto reader = open_reader();
    // A new reader treats buffered reads as slow (a first scan is cold), so
    // these batches wake reader threads that write into their buffers while
    // the batches are dropped at once.
    for (int round = 0; round < 50; ++round) {
        std::vector<std::uint64_t> blocks;
        for (std::uint64_t b = 0; b < k_blocks; b += 3)
            blocks.push_back(b);
        auto dropped = reader->submit(blocks);
        dropped.reset();
    }
    // The queue holds nothing of them: the next batch reads and checks.
    auto batch = reader->submit({7, 8, 900});
    ASSERT_TRUE(reader->wait(*batch).ok());
    EXPECT_TRUE(holds(*batch, 7));
    EXPECT_TRUE(holds(*batch, 900));
    EXPECT_FALSE(reader->read_one_queued());
}

} // namespace
} // namespace guardian::ext4
