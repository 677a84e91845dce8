// The pure xenstore wire encoder/decoder (guardian/xen/xs_wire.hpp) fed
// well-formed messages and junk: short headers, lengths past the protocol
// limit, missing NULs, unknown error names.
#include "guardian/xen/xs_wire.hpp"
#include "tests/xen/xs_raw_header.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace guardian::test {
namespace {

using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace wire = xen::wire;

TEST(XsWire, EncodesHeaderAndPayload) {
    const std::string m = wire::encode(XS_READ, 42, "data/x\0"s);
    ASSERT_EQ(m.size(), wire::header_size + 7);
    EXPECT_EQ(m, raw_header(XS_READ, 42, 7) + "data/x\0"s);
    EXPECT_EQ(wire::header_size, 16u);
    EXPECT_EQ(wire::payload_max, 4096u);
}

TEST(XsWire, StringsPayloadTerminatesEachArgumentAndAppendsTheTail) {
    EXPECT_EQ(wire::strings_payload({"a/b", "tok"}).value(), "a/b\0tok\0"s);
    EXPECT_EQ(wire::strings_payload({"a/b"}, "v\0w"s).value(), "a/b\0v\0w"s);
    for (std::string_view bad : {std::string_view(""), std::string_view("a\0b", 3)}) {
        auto r = wire::strings_payload({bad});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, EINVAL);
    }
}

TEST(XsWire, BufferYieldsMessagesOnlyWhenComplete) {
    const std::string stream = wire::encode(XS_WATCH_EVENT, 0, "a\0t\0"s) +
                               wire::encode(XS_READ, 7, "value") + wire::encode(XS_WRITE, 8, "");
    wire::MessageBuffer buf;
    std::vector<wire::Message> got;
    // Byte by byte: a device or socket may cut anywhere.
    for (char c : stream) {
        buf.append(std::string_view(&c, 1));
        for (;;) {
            auto m = buf.next();
            ASSERT_TRUE(m.ok());
            if (!m->has_value())
                break;
            got.push_back(std::move(**m));
        }
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].type, XS_WATCH_EVENT);
    EXPECT_EQ(got[0].body, "a\0t\0"s);
    EXPECT_EQ(got[1].req_id, 7u);
    EXPECT_EQ(got[1].body, "value");
    EXPECT_EQ(got[2].type, XS_WRITE);
    EXPECT_EQ(got[2].body, "");
    EXPECT_EQ(buf.buffered(), 0u);
}

TEST(XsWire, ShortHeaderWaitsForMore) {
    wire::MessageBuffer buf;
    buf.append(raw_header(XS_READ, 1, 3).substr(0, 15));
    EXPECT_FALSE(buf.has_complete());
    EXPECT_FALSE(buf.next().value().has_value());
    EXPECT_EQ(buf.buffered(), 15u);
}

TEST(XsWire, LengthPastThePayloadLimitIsAProtocolError) {
    wire::MessageBuffer buf;
    buf.append(raw_header(XS_READ, 1, 4097));
    EXPECT_TRUE(buf.has_complete()); // an error is ready without more bytes
    auto m = buf.next();
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, EPROTO);
    EXPECT_THAT(m.error().message, HasSubstr("4097 bytes exceeds the 4096-byte"));
    wire::MessageBuffer huge;
    huge.append(raw_header(XS_READ, 1, 0xffffffffu));
    EXPECT_EQ(huge.next().error().code, EPROTO);
    // Exactly the limit is fine.
    wire::MessageBuffer max;
    max.append(raw_header(XS_READ, 1, 4096) + std::string(4096, 'x'));
    EXPECT_EQ(max.next().value()->body.size(), 4096u);
}

TEST(XsWire, BufferStaysBoundedOverALongStream) {
    wire::MessageBuffer buf;
    const std::string m = wire::encode(XS_WATCH_EVENT, 0, "p\0t\0"s);
    for (int i = 0; i < 10000; ++i) {
        buf.append(m);
        ASSERT_TRUE(buf.next().value().has_value());
    }
    EXPECT_EQ(buf.buffered(), 0u);
}

TEST(XsWire, ErrorNamesMapThroughTheDistributionsTable) {
    EXPECT_EQ(wire::error_code("ENOENT\0"s), ENOENT);
    EXPECT_EQ(wire::error_code("EACCES\0"s), EACCES);
    EXPECT_EQ(wire::error_code("E2BIG\0"s), E2BIG);
    EXPECT_EQ(wire::error_code("ENOSPC"), ENOSPC); // a missing NUL is tolerated
    EXPECT_EQ(wire::error_code("EQUOTA\0"s), EIO); // unknown name
    EXPECT_EQ(wire::error_code(""), EIO);
    EXPECT_EQ(wire::error_code("ENOENTX\0"s), EIO);
    EXPECT_EQ(wire::error_code("\xff\xfe"), EIO);
}

TEST(XsWire, WatchEventNeedsPathAndTokenEachTerminated) {
    auto ev = wire::parse_watch_event("device/vbd/51712\0vbd\0"s);
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(ev->path, "device/vbd/51712");
    EXPECT_EQ(ev->token, "vbd");
    EXPECT_EQ(wire::parse_watch_event("p\0\0"s).value().token, ""); // an empty token is legal
    EXPECT_EQ(wire::parse_watch_event("p\0t\0extra\0"s).value().token, "t");
    for (const std::string& junk :
         {""s, "p"s, "p\0"s, "p\0t"s, "\0t\0"s, "p\0t\0extra"s, std::string(40, '\0')}) {
        auto r = wire::parse_watch_event(junk);
        ASSERT_FALSE(r.ok()) << junk.size();
        EXPECT_EQ(r.error().code, EPROTO);
    }
}

TEST(XsWire, DirectoryListing) {
    EXPECT_THAT(wire::parse_directory("a\0bb\0"s, 10).value(), ElementsAre("a", "bb"));
    EXPECT_TRUE(wire::parse_directory("", 10).value().empty());
    EXPECT_EQ(wire::parse_directory("a\0b"s, 10).error().code, EPROTO);
    EXPECT_EQ(wire::parse_directory("a\0\0"s, 10).error().code, EPROTO);
    EXPECT_EQ(wire::parse_directory("a\0b\0c\0"s, 2).error().code, E2BIG);
    EXPECT_EQ(wire::parse_directory("a\0b\0c"s, 2).error().code, EPROTO);
}

TEST(XsWire, DirectoryParts) {
    auto more = wire::parse_directory_part("17\0a\0b\0"s).value();
    EXPECT_EQ(more.generation, "17");
    EXPECT_EQ(more.names, "a\0b\0"s);
    EXPECT_FALSE(more.last);
    auto last = wire::parse_directory_part("17\0c\0\0"s).value();
    EXPECT_EQ(last.names, "c\0"s);
    EXPECT_TRUE(last.last);
    auto empty = wire::parse_directory_part("3\0\0"s).value();
    EXPECT_EQ(empty.names, "");
    EXPECT_TRUE(empty.last);
    for (const std::string& junk :
         {""s, "17"s, "\0a\0"s, "17\0"s, "17\0a"s, "17\0\0\0"s, "17\0a\0\0b\0"s, "17\0a\0\0\0"s}) {
        auto r = wire::parse_directory_part(junk);
        ASSERT_FALSE(r.ok()) << junk.size();
        EXPECT_EQ(r.error().code, EPROTO);
    }
}

TEST(XsWire, RandomJunkNeverCrashesTheDecoders) {
    std::mt19937 rng(20261203); // fixed seed: a failure is reproducible
    for (int round = 0; round < 2000; ++round) {
        std::string bytes(static_cast<std::size_t>(rng() % 64), '\0');
        for (char& b : bytes)
            b = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
        (void)wire::parse_watch_event(bytes);
        (void)wire::parse_directory(bytes, 8);
        (void)wire::parse_directory_part(bytes);
        (void)wire::error_code(bytes);
        wire::MessageBuffer buf;
        buf.append(bytes);
        for (int i = 0; i < 8; ++i) {
            auto m = buf.next();
            if (!m || !m->has_value())
                break;
        }
    }
}

TEST(XsWire, AtOrBelow) {
    EXPECT_TRUE(wire::at_or_below("data", "data"));
    EXPECT_TRUE(wire::at_or_below("data/x", "data"));
    EXPECT_TRUE(wire::at_or_below("/local/domain/7", "/"));
    EXPECT_FALSE(wire::at_or_below("datax", "data"));
    EXPECT_FALSE(wire::at_or_below("dat", "data"));
    EXPECT_FALSE(wire::at_or_below("data", ""));
}

} // namespace
} // namespace guardian::test
