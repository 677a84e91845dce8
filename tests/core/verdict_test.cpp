#include "guardian/core/verdict.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

FsEvidence clean_fs(const std::string& dev) {
    FsEvidence fs;
    fs.device = dev;
    fs.checked = true;
    return fs;
}

TEST(Verdict, NothingFoundIsHealthy) {
    VerdictInput in;
    in.filesystems = {clean_fs("/dev/xvda1"), clean_fs("/dev/xvdb1")};
    const auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::healthy);
    EXPECT_TRUE(r.reasons.empty());
    EXPECT_TRUE(r.affected_devices.empty());
    EXPECT_EQ(r.summary(), "no change found");
}

TEST(Verdict, FeatureChangeOnFixedKernelIsOnlyAWarning) {
    VerdictInput in;
    in.features.severity = FeatureChangeSeverity::warning;
    in.features.reason = "feature-persistent changed; kernel has the fix";
    in.filesystems = {clean_fs("/dev/xvda1")};
    const auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::warning);
    EXPECT_TRUE(r.affected_devices.empty());
}

TEST(Verdict, CriticalFeatureChangeAffectsEveryFilesystem) {
    VerdictInput in;
    in.features.severity = FeatureChangeSeverity::critical;
    in.features.reason = "feature-persistent changed on an unsafe kernel";
    in.filesystems = {clean_fs("/dev/xvda1"), clean_fs("/dev/xvdb1")};
    const auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::critical);
    EXPECT_EQ(r.affected_devices, (std::vector<std::string>{"/dev/xvda1", "/dev/xvdb1"}));
}

TEST(Verdict, OnlyACriticalChangeThatGarblesWritesMakesTheBlockPathUnsafe) {
    VerdictInput in;
    in.features.severity = FeatureChangeSeverity::critical;
    in.features.reason = "feature-persistent newly offered on an unsafe kernel";
    in.features.writes_unsafe = true;
    in.filesystems = {clean_fs("/dev/xvda1")};
    EXPECT_TRUE(judge(in).block_path_writes_unsafe);
    in.features.writes_unsafe = false;
    EXPECT_FALSE(judge(in).block_path_writes_unsafe);
    // A checksum finding alone: the disk changed, the path is sound.
    VerdictInput found;
    found.filesystems = {clean_fs("/dev/xvda1")};
    found.filesystems[0].findings.push_back({Structure::inode, 0, 12, 1065, "checksum mismatch"});
    EXPECT_FALSE(judge(found).block_path_writes_unsafe);
}

TEST(Verdict, FindingOnOneFilesystemAffectsOnlyIt) {
    VerdictInput in;
    in.filesystems = {clean_fs("/dev/xvda1"), clean_fs("/dev/xvdb1")};
    in.filesystems[1].findings.push_back({Structure::inode, 0, 12, 1065, "checksum mismatch"});
    const auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::critical);
    EXPECT_EQ(r.affected_devices, std::vector<std::string>{"/dev/xvdb1"});
    ASSERT_EQ(r.reasons.size(), 1u);
    EXPECT_NE(r.reasons[0].find("inode (inode 12, group 0, block 1065)"), std::string::npos);
}

TEST(Verdict, FrozenDifferenceAndErrorsCountAreCritical) {
    VerdictInput in;
    in.filesystems = {clean_fs("/dev/xvda1")};
    in.filesystems[0].frozen_compared = true;
    in.filesystems[0].frozen_diff.push_back(
        {Difference::Kind::changed, Structure::directory_block, 3, "", "a", "b"});
    EXPECT_EQ(judge(in).verdict, Verdict::critical);
    in.filesystems[0].frozen_diff.clear();
    EXPECT_EQ(judge(in).verdict, Verdict::healthy);
    in.filesystems[0].errors_count_growth = 2;
    EXPECT_EQ(judge(in).verdict, Verdict::critical);
}

TEST(Verdict, KmsgSignatureMapsToItsDevice) {
    VerdictInput in;
    in.filesystems = {clean_fs("/dev/xvda1"), clean_fs("/dev/xvdb1")};
    in.kmsg.push_back({KmsgSignature::ext4_error, "xvdb1"});
    auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::critical);
    EXPECT_EQ(r.affected_devices, std::vector<std::string>{"/dev/xvdb1"});
    in.kmsg = {{KmsgSignature::grant_not_unmapped, ""}};
    r = judge(in);
    EXPECT_EQ(r.affected_devices.size(), 2u); // unnamed: all of them
}

TEST(Verdict, ScanErrorIsAWarningNotAnAction) {
    VerdictInput in;
    in.filesystems = {clean_fs("/dev/xvda1")};
    in.filesystems[0].scan_error = "device gone";
    const auto r = judge(in);
    EXPECT_EQ(r.verdict, Verdict::warning);
    EXPECT_TRUE(r.affected_devices.empty());
}

} // namespace
} // namespace guardian
