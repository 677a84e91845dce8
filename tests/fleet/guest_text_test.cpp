// Guest-written text made safe per output: nothing a guest writes reaches a
// terminal as a control, and nothing breaks a UTF-8-only encoder.
#include "guardian/core/guest_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace guardian;

TEST(GuestText, TerminalSeesNoControlByte) {
    // A row-redrawing attack: carriage return, clear line, cursor up, colour.
    const std::string attack = "healthy\r\x1b[2K\x1b[1A\x1b[31mincident critical\x1b[0m\n\x7f\x01";
    const std::string shown = for_terminal(attack);
    EXPECT_EQ(shown, "healthy\\r\\x1b[2K\\x1b[1A\\x1b[31mincident critical\\x1b[0m\\n\\x7f\\x01");
    for (const char c : shown) {
        const auto u = static_cast<unsigned char>(c);
        EXPECT_TRUE(u >= 0x20U && u != 0x7FU) << "control byte " << int(u);
    }
}

TEST(GuestText, TerminalEscapesC1ControlsBidiOverridesAndBadBytes) {
    // U+009B is a one-character CSI on some terminals; U+202E reverses text.
    EXPECT_EQ(for_terminal("a\xc2\x9b"
                           "2Jb"),
              "a\\u009b2Jb");
    EXPECT_EQ(for_terminal("user\xe2\x80\xaelanigiro"), "user\\u202elanigiro");
    EXPECT_EQ(for_terminal("\xff\xfe ok"), "\\xff\\xfe ok");
    EXPECT_EQ(for_terminal("back\\slash"), "back\\\\slash"); // unambiguous
    // Ordinary UTF-8 stays readable.
    EXPECT_EQ(for_terminal("Grüße, 東京"), "Grüße, 東京");
}

TEST(GuestText, TerminalOutputIsBounded) {
    const std::string huge(100000, '\x1b');
    const std::string shown = for_terminal(huge, 64);
    EXPECT_LE(shown.size(), 64u);
    EXPECT_TRUE(shown.ends_with("..."));
    EXPECT_EQ(for_terminal("short", 64), "short");
}

TEST(GuestText, JsonEncodesAnyGuestBytes) {
    const std::string raw = std::string("ok \xff\xc0\x80 ") + '\0' + "\xed\xa0\x80 end";
    EXPECT_FALSE(is_valid_utf8(raw));
    const std::string fixed = as_valid_utf8(raw);
    EXPECT_TRUE(is_valid_utf8(fixed));
    // The strict encoder would throw on the raw bytes; never on these.
    EXPECT_THROW((void)nlohmann::json(raw).dump(), nlohmann::json::type_error);
    EXPECT_NO_THROW((void)nlohmann::json(fixed).dump());
    EXPECT_EQ(fixed.substr(0, 3), "ok ");
    EXPECT_TRUE(fixed.ends_with(" end"));
}

TEST(GuestText, Utf8ReaderRejectsOverlongsSurrogatesAndTooLarge) {
    EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));     // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe2\x82"));         // truncated
}
