#include "guardian/core/domain_report.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace guardian {
namespace {

DomainReport guest(const std::string& safety) {
    DomainReport d;
    d.domid = "3";
    d.name = "web1";
    d.nodes = {{"version", "0.1.0"},
               {"state", "watching"},
               {"kernel", "6.1.0-18-amd64"},
               {"suspend-safety", safety},
               {"suspend-safety-reason", "because"}};
    return d;
}

TEST(Preflight, OnlySafePasses) {
    EXPECT_TRUE(preflight(guest("safe")).ok);
    EXPECT_FALSE(preflight(guest("unsafe")).ok);
    EXPECT_FALSE(preflight(guest("unknown")).ok);
    EXPECT_EQ(preflight(guest("unsafe")).reason, "domain 3 reports suspend-safety unsafe: because");
    DomainReport none;
    none.domid = "5";
    EXPECT_FALSE(preflight(none).ok);
    EXPECT_EQ(preflight(none).reason, "domain 5 does not run guardian (no data/guardian/version)");
}

TEST(StatusTable, AlignsColumnsAndMarksDomainsWithoutGuardian) {
    DomainReport dom0;
    dom0.domid = "0";
    dom0.name = "Domain-0";
    const std::string t = render_status_table({dom0, guest("safe")});
    EXPECT_EQ(
        t, "DOMID  NAME      STATE     KERNEL          SUSPEND  LAST RESTORE  LAST VERIFICATION\n"
           "0      Domain-0  -         -               -        -             (no guardian)\n"
           "3      web1      watching  6.1.0-18-amd64  safe     -             -\n");
    const auto j = status_to_json({guest("unsafe")});
    EXPECT_EQ(j["domains"][0]["preflight"]["ok"], false);
    EXPECT_EQ(j["domains"][0]["data"]["kernel"], "6.1.0-18-amd64");
}

TEST(StatusJson, DecodesTheKernelTroubleNodesAndKeepsHostileBytesValid) {
    DomainReport d = guest("safe");
    EXPECT_FALSE(status_to_json({d})["domains"][0].contains("kernel_trouble"));
    d.nodes["trouble-counts"] = "rcu_stall=3 hung_task=1 forged=1";
    d.nodes["trouble-last"] = "2026-12-06T09:21:13Z rcu_stall e9365ca189a16277 xas_descend "
                              "mm-large-folio-pagecache-livelock";
    d.nodes["previous-boot"] = "end=panic boot=ab release=6.1.0-26-amd64 uptime=60 trouble=\xff";
    d.nodes["known-bugs"] = "mm-large-folio-pagecache-livelock=latent@6.1.113";
    const auto t = status_to_json({d})["domains"][0]["kernel_trouble"];
    EXPECT_EQ(t["counts"]["kinds"]["rcu_stall"], 3);
    EXPECT_EQ(t["counts"]["forged"], 1);
    EXPECT_EQ(t["last"][0]["function"], "xas_descend");
    EXPECT_EQ(t["last"][0]["known_bug"], "mm-large-folio-pagecache-livelock");
    EXPECT_EQ(t["previous_boot"]["end"], "panic");
    EXPECT_EQ(t["previous_boot"]["uptime"], 60);
    EXPECT_NO_THROW((void)t.dump()); // the guest's \xff is valid UTF-8 by now
    EXPECT_EQ(t["known_bugs"][0]["fixed_in"], "6.1.113");
}

TEST(KernelInfo, DebianPackageVersionFromProcVersion) {
    EXPECT_EQ(sys::package_version_from_proc_version(
                  "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
                  "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP "
                  "PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"),
              "6.1.76-1");
    EXPECT_EQ(sys::package_version_from_proc_version(
                  "Linux version 3.16.0-4-amd64 (debian-kernel@lists.debian.org) (gcc version "
                  "4.8.4 (Debian 4.8.4-1) ) #1 SMP Debian 3.16.43-2+deb8u5 (2017-09-19)"),
              "3.16.43-2+deb8u5"); // not gcc's "Debian 4.8.4-1", which comes first
    EXPECT_FALSE(
        sys::package_version_from_proc_version("Linux version 6.18.44 #1 SMP").has_value());
}

// The data/guardian/distribution node's source (docs/xenstore-schema.md):
// /etc/os-release under the system root, else /usr/lib/os-release.
TEST(KernelInfo, DistributionFromOsReleaseUnderTheRoot) {
    test::TempDir dir;
    const SystemRoot root(dir.path().string());
    EXPECT_EQ(sys::read_distribution(root), "");
    std::filesystem::create_directories(dir.path() / "usr/lib");
    std::ofstream(dir.path() / "usr/lib/os-release") << "NAME=\"AlmaLinux\"\nVERSION_ID=\"9.4\"\n";
    EXPECT_EQ(sys::read_distribution(root), "AlmaLinux 9.4");
    std::filesystem::create_directories(dir.path() / "etc");
    std::ofstream(dir.path() / "etc/os-release")
        << "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n";
    EXPECT_EQ(sys::read_distribution(root), "Debian GNU/Linux 12 (bookworm)");
}

} // namespace
} // namespace guardian
