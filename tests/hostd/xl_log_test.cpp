#include "guardian/hostd/xl_log.hpp"

#include <gtest/gtest.h>

using guardian::hostd::shutdown_code_in_xl_log;

// As xl writes /var/log/xen/xl-<name>.log (tools/xl/xl_vmcontrol.c).
constexpr std::string_view log = "Waiting for domain web1 (domid 8) to die [pid 3113]\n"
                                 "Domain 8 has shut down, reason code 1 0x1\n"
                                 "Action for shutdown reason code 1 is restart\n"
                                 "Domain 8 needs to be cleaned up: destroying the domain\n"
                                 "Done. Rebooting now\n"
                                 "Waiting for domain web1 (domid 9) to die [pid 3113]\n"
                                 "Domain 9 has shut down, reason code 3 0x3\n"
                                 "Action for shutdown reason code 3 is destroy\n";

TEST(XlLog, TheReasonOfThatDomid) {
    EXPECT_EQ(shutdown_code_in_xl_log(log, 8), 1u);
    EXPECT_EQ(shutdown_code_in_xl_log(log, 9), 3u);
    EXPECT_FALSE(shutdown_code_in_xl_log(log, 10));
    EXPECT_FALSE(shutdown_code_in_xl_log(log, 1)); // not "Domain 1" inside "Domain 19"
}

TEST(XlLog, OnlyWholeLinesAndTheLastOneCount) {
    EXPECT_FALSE(shutdown_code_in_xl_log("note: Domain 4 has shut down, reason code 3 0x3\n", 4));
    EXPECT_EQ(shutdown_code_in_xl_log("Domain 4 has shut down, reason code 2 0x2\n"
                                      "Domain 4 has shut down, reason code 0 0x0\n",
                                      4),
              0u);
    EXPECT_FALSE(shutdown_code_in_xl_log("Domain 4 has shut down, reason code x\n", 4));
}
