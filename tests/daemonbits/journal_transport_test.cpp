// JournalLogger's transports against real sockets under a temp SystemRoot:
// journald's native framing (a value with a newline in the binary form),
// then the fallback order when the journal socket is absent: syslog's
// /dev/log, then /dev/kmsg (a plain file here), then stderr.
#include "guardian/core/message_ids.hpp"
#include "guardian/journal/journal_logger.hpp"
#include "guardian/journal/wire_format.hpp"
#include "tests/daemonbits/datagram_socket.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace guardian::journal {
namespace {

namespace fs = std::filesystem;
using test::DatagramSocket;
using test::TempDir;

// Parses a native-protocol datagram back into fields, as journald does;
// a malformed datagram yields a "!error" field.
std::multimap<std::string, std::string> parse_native(const std::string& d) {
    std::multimap<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < d.size()) {
        const std::size_t nl = d.find('\n', pos);
        if (nl == std::string::npos)
            return {{"!error", "unterminated line"}};
        const std::string line = d.substr(pos, nl - pos);
        if (const auto eq = line.find('='); eq != std::string::npos) {
            out.emplace(line.substr(0, eq), line.substr(eq + 1));
            pos = nl + 1;
            continue;
        }
        if (nl + 9 > d.size())
            return {{"!error", "short length"}};
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | static_cast<unsigned char>(d[nl + 1 + static_cast<std::size_t>(i)]);
        const std::size_t start = nl + 9;
        if (start + n + 1 > d.size() || d[start + n] != '\n')
            return {{"!error", "bad binary value"}};
        out.emplace(line, d.substr(start, n));
        pos = start + n + 1;
    }
    return out;
}

TEST(NativeProtocol, PlainAndBinaryForms) {
    std::string d;
    append_native_field(d, "MESSAGE", "hello");
    append_native_field(d, "GUARDIAN_HOOK_OUTPUT", "line one\nline two");
    EXPECT_EQ(d, std::string("MESSAGE=hello\nGUARDIAN_HOOK_OUTPUT\n\x11\0\0\0\0\0\0\0"
                             "line one\nline two\n",
                             14 + 21 + 8 + 18));
    const auto fields = parse_native(d);
    EXPECT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields.find("GUARDIAN_HOOK_OUTPUT")->second, "line one\nline two");
}

TEST(WireFormat, SyslogAndKmsgLines) {
    std::tm tm{};
    tm.tm_mon = 11;
    tm.tm_mday = 3;
    tm.tm_hour = 9;
    tm.tm_min = 5;
    tm.tm_sec = 7;
    const LogFields fields{{"MESSAGE_ID", "abc"}, {"GUARDIAN_HOOK_OUTPUT", "a\nb"}};
    // daemon facility (3): 3*8 + crit (2) = 26; multi-line fields stay out.
    EXPECT_EQ(syslog_line(Priority::crit, "guardiand", 12, tm, "two\nlines", fields),
              "<26>Dec  3 09:05:07 guardiand[12]: two lines MESSAGE_ID=abc");
    EXPECT_EQ(kmsg_line(Priority::warning, "guardiand", 12, "hi", fields),
              "<4>guardiand[12]: hi MESSAGE_ID=abc\n");
    EXPECT_LE(kmsg_line(Priority::info, "g", 1, std::string(5000, 'x'), {}).size(), 1000u);
}

const LogFields k_fields{
    {"MESSAGE_ID", std::string(message_id::verification_critical)},
    {"GUARDIAN_DEVICE", "/dev/xvda1"},
    {"GUARDIAN_FS_UUID", "0b3c8f1e-6c1a-4d1e-9a57-0d2f9c1d2e3f"},
    {"GUARDIAN_HOOK_OUTPUT", "line one\nline two"},
    {"guardian-test-run", "7"},
    {"PRIORITY", "7"}, // ignored: log() sets PRIORITY itself
};

TEST(JournalLogger, SendsStructuredEntryToTheJournalSocket) {
    TempDir root;
    fs::create_directories(root.path() / "run/systemd/journal");
    DatagramSocket journald((root.path() / "run/systemd/journal/socket").string());
    ASSERT_TRUE(journald.ok());
    JournalLogger log(Priority::info, "guardiand", SystemRoot(root.path().string()));
    log.log(Priority::crit, "verification critical on /dev/xvda1", k_fields);
    EXPECT_EQ(log.last_transport(), Transport::journald);
    const auto d = journald.receive();
    ASSERT_TRUE(d.has_value());
    const auto f = parse_native(*d);
    EXPECT_EQ(f.count("!error"), 0u) << f.begin()->second;
    EXPECT_EQ(f.find("MESSAGE")->second, "verification critical on /dev/xvda1");
    ASSERT_EQ(f.count("PRIORITY"), 1u);
    EXPECT_EQ(f.find("PRIORITY")->second, "2");
    EXPECT_EQ(f.find("SYSLOG_IDENTIFIER")->second, "guardiand");
    EXPECT_EQ(f.find("MESSAGE_ID")->second, std::string(message_id::verification_critical));
    EXPECT_EQ(f.find("GUARDIAN_DEVICE")->second, "/dev/xvda1");
    EXPECT_EQ(f.find("GUARDIAN_FS_UUID")->second, "0b3c8f1e-6c1a-4d1e-9a57-0d2f9c1d2e3f");
    EXPECT_EQ(f.find("GUARDIAN_HOOK_OUTPUT")->second, "line one\nline two");
    EXPECT_EQ(f.find("GUARDIAN_TEST_RUN")->second, "7");

    log.debug("below the threshold");
    EXPECT_FALSE(journald.receive(100).has_value());
}

TEST(JournalLogger, FallsBackToSyslogThenKmsgThenStderr) {
    TempDir root;
    fs::create_directories(root.path() / "dev");
    const SystemRoot sysroot(root.path().string());
    JournalLogger log(Priority::info, "guardiand", sysroot);
    {
        // No journald socket: /dev/log gets an RFC 3164 line.
        DatagramSocket syslogd((root.path() / "dev/log").string());
        ASSERT_TRUE(syslogd.ok());
        log.log(Priority::err, "no journald here", k_fields);
        EXPECT_EQ(log.last_transport(), Transport::syslog);
        const auto line = syslogd.receive();
        ASSERT_TRUE(line.has_value());
        EXPECT_TRUE(line->starts_with("<27>")) << *line; // daemon.err
        EXPECT_NE(line->find(" guardiand[" + std::to_string(::getpid()) + "]: no journald here"),
                  std::string::npos)
            << *line;
        EXPECT_NE(line->find("MESSAGE_ID=" + std::string(message_id::verification_critical)),
                  std::string::npos)
            << *line;
    }
    // The socket file is left behind by nobody listening: ECONNREFUSED.
    fs::remove(root.path() / "dev/log");
    std::ofstream(root.path() / "dev/kmsg").close();
    log.log(Priority::warning, "no syslog either", k_fields);
    EXPECT_EQ(log.last_transport(), Transport::kmsg);
    std::ifstream in(root.path() / "dev/kmsg");
    std::stringstream kmsg;
    kmsg << in.rdbuf();
    EXPECT_EQ(kmsg.str().rfind("<4>guardiand[", 0), 0u) << kmsg.str();
    EXPECT_NE(kmsg.str().find("]: no syslog either MESSAGE_ID="), std::string::npos) << kmsg.str();

    fs::remove(root.path() / "dev/kmsg");
    testing::internal::CaptureStderr();
    log.warning("nothing but stderr");
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(log.last_transport(), Transport::stderr_text);
    EXPECT_NE(err.find("nothing but stderr"), std::string::npos) << err;
}

TEST(JournalLogger, ListeningNobodyOnAStaleJournalSocketFallsBack) {
    TempDir root;
    fs::create_directories(root.path() / "run/systemd/journal");
    fs::create_directories(root.path() / "dev");
    {
        DatagramSocket gone((root.path() / "run/systemd/journal/socket").string());
    } // closed: the socket file stays, connecting to it is refused
    std::ofstream(root.path() / "dev/kmsg").close();
    JournalLogger log(Priority::info, "guardiand", SystemRoot(root.path().string()));
    log.info("journald died");
    EXPECT_EQ(log.last_transport(), Transport::kmsg);
}

// journald stuck (on a disk that stopped answering) stops reading; its
// queue fills. Logging must not wait for it: the entry goes to /dev/kmsg.
TEST(JournalLogger, AJournaldThatStoppedReadingDoesNotBlock) {
    TempDir root;
    fs::create_directories(root.path() / "run/systemd/journal");
    fs::create_directories(root.path() / "dev");
    DatagramSocket journald((root.path() / "run/systemd/journal/socket").string());
    ASSERT_TRUE(journald.ok());
    std::ofstream(root.path() / "dev/kmsg").close();
    JournalLogger log(Priority::info, "guardiand", SystemRoot(root.path().string()));
    const auto t0 = std::chrono::steady_clock::now();
    bool fell_back = false;
    // The receive queue holds /proc/sys/net/unix/max_dgram_qlen datagrams
    // (512 by default) or its buffer's worth; far fewer than this.
    for (int i = 0; i < 20000 && !fell_back; ++i) {
        log.info("entry " + std::to_string(i) + std::string(1000, 'x'));
        fell_back = log.last_transport() == Transport::kmsg;
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(fell_back) << "the journal socket never filled up";
    EXPECT_LT(took, std::chrono::seconds(10));
    std::ifstream in(root.path() / "dev/kmsg");
    std::stringstream kmsg;
    kmsg << in.rdbuf();
    EXPECT_NE(kmsg.str().find("]: entry "), std::string::npos);
    // Once journald reads again, entries go back to it.
    while (journald.receive(0).has_value()) {
    }
    log.info("journald is back");
    EXPECT_EQ(log.last_transport(), Transport::journald);
}

} // namespace
} // namespace guardian::journal
