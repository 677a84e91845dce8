// A guest's kernel from its console log: the right release or "unknown",
// never a wrong one (console logs of several eras in tests/fleet/console/).
#include "guardian/core/console_banner.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace guardian;

namespace {

std::string console_log(const std::string& name) {
    const auto path = guardian::test::source_dir() / "tests/fleet/console" / name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("missing fixture " + path.string());
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST(ConsoleBanner, FindsEachErasBanner) {
    struct Case {
        const char* file;
        const char* release;
        const char* package_version; // "" where the banner names none
        bool stamped_zero;
    };
    for (const Case& c : {
             Case{"debian8-3.16-pvgrub.log", "3.16.0-4-amd64", "3.16.7-ckt25-2", true},
             Case{"centos6-2.6.32-direct.log", "2.6.32-754.35.1.el6.x86_64", "", false},
             Case{"debian9-4.9.log", "4.9.0-13-amd64", "4.9.228-1", true},
             Case{"debian11-5.10-timestamps.log", "5.10.0-28-amd64", "5.10.209-2", true},
         }) {
        const BannerSearch found = find_boot_banner(console_log(c.file), 0);
        ASSERT_TRUE(found.banner) << c.file << ": " << found.why;
        EXPECT_EQ(found.banner->release, c.release) << c.file;
        EXPECT_EQ(found.banner->package_version, c.package_version) << c.file;
        EXPECT_EQ(found.banner->printk_time_zero, c.stamped_zero) << c.file;
        ASSERT_TRUE(found.banner->parsed) << c.file;
        EXPECT_TRUE(found.banner->build.starts_with("#1 SMP"))
            << c.file << ": " << found.banner->build;
        // One boot in the file: the start offset is not needed.
        const BannerSearch anywhere = find_boot_banner(console_log(c.file), std::nullopt);
        ASSERT_TRUE(anywhere.banner) << c.file << ": " << anywhere.why;
        EXPECT_EQ(anywhere.banner->release, c.release);
    }
}

TEST(ConsoleBanner, TheCentOS6BannerReadsAsARhelKernel) {
    const BannerSearch found = find_boot_banner(console_log("centos6-2.6.32-direct.log"), 0);
    ASSERT_TRUE(found.banner && found.banner->parsed);
    EXPECT_EQ(found.banner->parsed->distro, KernelDistro::rhel);
    EXPECT_EQ(to_string(found.banner->parsed->base), "2.6.32");
    EXPECT_NE(found.why.find("Command line"), std::string::npos) << found.why;
}

TEST(ConsoleBanner, SeveralBootsNeedTheDomainsStart) {
    const std::string log = console_log("debian12-two-boots.log");
    const std::size_t second = std::stoul(console_log("debian12-two-boots.second-boot-offset"));
    const BannerSearch first = find_boot_banner(log, 0);
    ASSERT_TRUE(first.banner);
    EXPECT_EQ(first.banner->release, "6.1.0-13-amd64");
    EXPECT_EQ(first.banner->package_version, "6.1.55-1");
    const BannerSearch now = find_boot_banner(log, second);
    ASSERT_TRUE(now.banner) << now.why;
    EXPECT_EQ(now.banner->release, "6.1.0-27-amd64");
    EXPECT_EQ(now.banner->package_version, "6.1.115-1");
    EXPECT_EQ(now.banner->offset, second);
    // A start recorded in the middle of a line belongs to that line's boot.
    const BannerSearch mid = find_boot_banner(log, second - 3);
    ASSERT_TRUE(mid.banner);
    EXPECT_EQ(mid.banner->release, "6.1.0-27-amd64");
    // Without it: two banners, no way to tell which boot is the current one.
    const BannerSearch unknown = find_boot_banner(log, std::nullopt);
    EXPECT_FALSE(unknown.banner);
    EXPECT_NE(unknown.why.find("2 'Linux version' lines"), std::string::npos) << unknown.why;
}

TEST(ConsoleBanner, AQuietKernelGivesUnknownNotUserspacesWord) {
    const std::string log = console_log("debian12-quiet-userspace-only.log");
    const BannerSearch from_start = find_boot_banner(log, 0);
    EXPECT_FALSE(from_start.banner) << from_start.banner->release;
    EXPECT_NE(from_start.why.find("userspace ran"), std::string::npos) << from_start.why;
    EXPECT_TRUE(from_start.conclusive); // no kernel banner comes after userspace
    const BannerSearch anywhere = find_boot_banner(log, std::nullopt);
    EXPECT_FALSE(anywhere.banner) << anywhere.banner->release;
    EXPECT_NE(anywhere.why.find("Command line"), std::string::npos) << anywhere.why;
}

// The start recorded after this boot's banner (its kernel already ran):
// what userspace prints later, even shaped like a banner with its
// "Command line:", is never taken.
TEST(ConsoleBanner, UserspacesBannerAfterTheStartIsNotTheKernels) {
    const std::string log = console_log("debian12-userspace-after-offset.log");
    const std::size_t start = std::stoul(console_log("debian12-userspace-after-offset.offset"));
    const BannerSearch found = find_boot_banner(log, start);
    EXPECT_FALSE(found.banner) << found.banner->release;
    EXPECT_TRUE(found.conclusive);
    // From the boot's real start it is the kernel's own.
    const BannerSearch real = find_boot_banner(log, 0);
    ASSERT_TRUE(real.banner) << real.why;
    EXPECT_EQ(real.banner->release, "6.1.0-18-amd64");
    EXPECT_EQ(real.banner->package_version, "6.1.76-1");
    // Only the tail read (the caller's window), offsets still the log's.
    const BannerSearch tail =
        find_boot_banner(std::string_view(log).substr(start - 1), start, start - 1);
    EXPECT_FALSE(tail.banner);
    const std::string two = console_log("debian12-two-boots.log");
    const std::size_t second = std::stoul(console_log("debian12-two-boots.second-boot-offset"));
    const BannerSearch part =
        find_boot_banner(std::string_view(two).substr(second - 1), second, second - 1);
    ASSERT_TRUE(part.banner) << part.why;
    EXPECT_EQ(part.banner->release, "6.1.0-27-amd64");
    EXPECT_EQ(part.banner->offset, second);
    EXPECT_FALSE(find_boot_banner("", second, second + 5).banner); // shorter than the start
}

// Before its banner a boot shows only its loader's output: a domain whose
// kernel has not printed yet is still open, not unknown.
TEST(ConsoleBanner, NoBannerYetIsNotConclusive) {
    const BannerSearch pvgrub = find_boot_banner("    Booting 'Debian GNU/Linux'\n\n", 0);
    EXPECT_FALSE(pvgrub.banner);
    EXPECT_FALSE(pvgrub.conclusive);
}

TEST(ConsoleBanner, ALaterBannerNeverOverridesTheKernels) {
    // Userspace prints a banner stamped at time zero, as a cunning forger
    // would: the first banner since the domain's start still wins, and
    // without the start the log is ambiguous.
    const std::string log = console_log("debian12-forged-later.log");
    const BannerSearch from_start = find_boot_banner(log, 0);
    ASSERT_TRUE(from_start.banner);
    EXPECT_EQ(from_start.banner->release, "6.1.0-13-amd64");
    EXPECT_FALSE(find_boot_banner(log, std::nullopt).banner);
}

TEST(ConsoleBanner, AFirstBannerStampedAfterBootIsRefused) {
    const std::string log = "[   35.000001] random: crng init done\n"
                            "[   36.120000] Linux version 4.2.0-1-amd64 (x) (gcc) #1 SMP\n"
                            "[   36.120001] Command line: root=/dev/xvda\n";
    const BannerSearch found = find_boot_banner(log, 0);
    EXPECT_FALSE(found.banner) << found.banner->release;
    EXPECT_NE(found.why.find("time zero"), std::string::npos) << found.why;
}

TEST(ConsoleBanner, NoBannerAndATruncatedLogAreUnknown) {
    EXPECT_FALSE(find_boot_banner("", 0).banner);
    EXPECT_FALSE(find_boot_banner("", std::nullopt).banner);
    const BannerSearch rotated = find_boot_banner("short\n", 4096);
    EXPECT_FALSE(rotated.banner);
    EXPECT_NE(rotated.why.find("rotated"), std::string::npos);
    // Quoted inside other text, or with a release that is not one.
    EXPECT_FALSE(find_boot_banner("echo Linux version 6.1.0\nCommand line: x\n", 0).banner);
    EXPECT_FALSE(find_boot_banner("[    0.000000] Linux version \x1b[2J6.1 (x)\n", 0).banner);
}
