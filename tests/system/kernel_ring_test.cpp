// The kernel log through syslog(2), for kernels whose /dev/kmsg has no
// records (Linux < 3.5, CentOS 6): the pure line handling, then the real
// ring on this machine. A root whose dev/kmsg is /dev/btrfs-control stands
// for 2.6.32's /dev/kmsg: a character device that seeks but refuses read
// with EINVAL. Needs root (CAP_SYSLOG, writing /dev/kmsg); skips otherwise.
#include "guardian/sys/kernel_ring.hpp"
#include "guardian/sys/kmsg_reader.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <random>
#include <thread>
#include <unistd.h>

namespace guardian::sys {
namespace {

TEST(KernelRing, ParsesLinesWithAndWithoutTimestamps) {
    auto r = parse_ring_line("<3>[   12.345678] EXT4-fs error (device xvda1): bad");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->priority, 3);
    EXPECT_EQ(r->message, "EXT4-fs error (device xvda1): bad");
    r = parse_ring_line("<14>plain text\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->priority, 6);
    EXPECT_EQ(r->message, "plain text");
    EXPECT_FALSE(parse_ring_line("no priority").has_value());
    EXPECT_FALSE(parse_ring_line("<x>text").has_value());
}

TEST(KernelRing, LinesAfterTheMarkAndAWrappedRing) {
    bool found = false;
    const std::string ring = "<6>a\n<6>b\n<6>c\n<6>d";
    auto lines = ring_lines_after(ring, "<6>b\n", found);
    EXPECT_TRUE(found);
    ASSERT_EQ(lines.size(), 1u); // "d" is still being written
    EXPECT_EQ(lines[0], "<6>c");
    // A mark that is only the tail of another line is no mark.
    lines = ring_lines_after("<6>xb\n<6>c\n", "b\n", found);
    EXPECT_FALSE(found);
    EXPECT_EQ(lines.size(), 2u);
    lines = ring_lines_after("<6>e\n", "<6>gone\n", found);
    EXPECT_FALSE(found);
    ASSERT_EQ(lines.size(), 1u);
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

TEST(KernelRing, DevKmsgWithoutRecordsFallsBackToSyslog) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    if (!std::filesystem::exists("/dev/btrfs-control"))
        GTEST_SKIP() << "no /dev/btrfs-control to stand for a record-less /dev/kmsg";
    test::TempDir root;
    std::filesystem::create_directories(root.path() / "dev");
    std::filesystem::create_symlink("/dev/btrfs-control", root.path() / "dev/kmsg");
    auto reader = KmsgReader::open(SystemRoot(root.path().string()));
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ(reader->method(), "syslog");

    const std::string token = "guardian-ring-test-" + std::to_string(std::random_device{}());
    {
        std::ofstream kmsg("/dev/kmsg");
        kmsg << "<3>" << token << ": EXT4-fs error (device xvdz9): emulated\n";
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(readable(reader->fd(), 3000)) << "the syslog(2) poll timer never fired";
        auto records = reader->drain();
        ASSERT_TRUE(records.ok()) << records.error().message;
        for (const auto& r : *records)
            if (r.message.find(token) != std::string::npos) {
                EXPECT_EQ(r.priority, 3);
                seen = true;
            }
    }
    EXPECT_TRUE(seen) << token << " never read through syslog(2)";
    // Read once: the next drain does not repeat it.
    auto again = reader->drain();
    ASSERT_TRUE(again.ok());
    for (const auto& r : *again)
        EXPECT_EQ(r.message.find(token), std::string::npos);
}

// guardiand's trouble watch reads what the boot logged before it started:
// from the start of the ring, the records logged before the open are there;
// opened at the end (the default), they are not.
TEST(KernelRing, DevKmsgFromTheStartHasTheRecordsBeforeTheOpen) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    const std::string token = "guardian-backlog-test-" + std::to_string(std::random_device{}());
    {
        std::ofstream kmsg("/dev/kmsg");
        kmsg << "<6>" << token << "\n";
    }
    const auto has_token = [&](bool from_start) {
        auto reader = KmsgReader::open(SystemRoot("/"), from_start);
        EXPECT_TRUE(reader.ok());
        if (!reader.ok())
            return false;
        auto records = reader->drain();
        EXPECT_TRUE(records.ok());
        for (const auto& r : records.ok() ? *records : std::vector<KmsgRecord>{})
            if (r.message == token)
                return r.facility != 0; // a process wrote it: never the kernel's
        return false;
    };
    EXPECT_TRUE(has_token(true));
    EXPECT_FALSE(has_token(false));
}

TEST(KernelRing, RealDevKmsgIsReadAsRecords) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    auto reader = KmsgReader::open(SystemRoot("/"));
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ(reader->method(), "dev-kmsg");
}

} // namespace
} // namespace guardian::sys
