#include "guardian/core/kmsg_signatures.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

TEST(KmsgRecord, ParsesPrefixAndDropsContinuation) {
    auto r =
        parse_kmsg_record("3,1234,5678901,-;EXT4-fs error (device xvda1): bad\n SUBSYSTEM=block\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->priority, 3);
    EXPECT_EQ(r->sequence, 1234u);
    EXPECT_EQ(r->message, "EXT4-fs error (device xvda1): bad");
    // Facility bits are stripped: 30 = daemon.info -> 6.
    EXPECT_EQ(parse_kmsg_record("30,1,2,-;x")->priority, 6);
    EXPECT_FALSE(parse_kmsg_record("no semicolon").has_value());
    EXPECT_FALSE(parse_kmsg_record("x,1,2;msg").has_value());
}

struct Case {
    const char* line;
    std::optional<KmsgSignature> sig;
    const char* device;
};

class Classify : public ::testing::TestWithParam<Case> {};

TEST_P(Classify, Line) {
    const auto m = classify_kmsg(GetParam().line);
    ASSERT_EQ(m.has_value(), GetParam().sig.has_value()) << GetParam().line;
    if (m) {
        EXPECT_EQ(m->signature, *GetParam().sig);
        EXPECT_EQ(m->device, GetParam().device);
    }
}

INSTANTIATE_TEST_SUITE_P(
    RealLines, Classify,
    ::testing::Values(
        Case{"xen:grant_table: WARNING: e.g. backed has not unmapped grant: 123",
             KmsgSignature::grant_not_unmapped, ""},
        Case{"EXT4-fs error (device xvda1): ext4_lookup:1855: inode #2: comm ls: deleted inode "
             "referenced: 12",
             KmsgSignature::ext4_error, "xvda1"},
        Case{"Aborting journal on device xvda1-8.", KmsgSignature::jbd2_error, "xvda1-8"},
        Case{"JBD2: Invalid checksum recovering block 1090 in log", KmsgSignature::jbd2_error, ""},
        Case{"I/O error, dev xvda, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2",
             KmsgSignature::io_error_xvd, "xvda"},
        Case{"Buffer I/O error on dev xvdb1, logical block 0, lost async page write",
             KmsgSignature::io_error_xvd, "xvdb1"},
        // Not ours: other devices, routine messages.
        Case{"I/O error, dev sda, sector 2048", std::nullopt, ""},
        Case{"EXT4-fs (xvda1): mounted filesystem with ordered data mode", std::nullopt, ""},
        Case{"xen-blkfront: Setting capacity to 8388608", std::nullopt, ""},
        Case{"JBD2: journal transaction 42 on xvda1-8 is corrupt.", KmsgSignature::jbd2_error,
             ""}));

} // namespace
} // namespace guardian
