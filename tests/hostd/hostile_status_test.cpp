// guardian-host status with hostile guests beside an honest one, on the
// wire-protocol test xenstored: a guest past the node bound, and one whose
// values carry escape sequences, carriage returns and bytes that are not
// UTF-8. The host report goes on, no raw control byte reaches the terminal,
// the JSON always encodes, and the honest guest's row and JSON are the same
// as without the hostile ones.
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace guardian;
using test::run_command;
using test::TestXenstored;

namespace {

void write(xen::XenStore& xs, const std::string& path, const std::string& value) {
    auto st = xs.write(path, value);
    ASSERT_TRUE(st) << st.error().message;
}

void honest(xen::XenStore& xs) {
    write(xs, "/local/domain/3/name", "web1");
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"version", "0.1.0"},
             {"state", "watching"},
             {"kernel", "6.1.0-13-amd64"},
             {"suspend-safety", "safe"},
             {"last-verification", "2026-12-06T05:00:00Z healthy"}})
        write(xs, "/local/domain/3/data/guardian/" + k, v);
}

void hostile(xen::XenStore& xs) {
    write(xs, "/local/domain/4/name", "stuffed");
    write(xs, "/local/domain/4/data/guardian/version", "0.1.0");
    for (int i = 0; i < 300; ++i)
        write(xs, "/local/domain/4/data/guardian/junk" + std::to_string(i), "x");
    write(xs, "/local/domain/5/name", "liar\x1b[2K");
    write(xs, "/local/domain/5/data/guardian/version", "0.1.0");
    // Tries to redraw web1's row as an incident and hide its own.
    write(xs, "/local/domain/5/data/guardian/state", "watching\r3  web1  incident\x1b[1A");
    write(xs, "/local/domain/5/data/guardian/kernel", "6.1\xff\xfe\xc0\x80");
    write(xs, "/local/domain/5/data/guardian/suspend-safety-reason",
          "\x9b"
          "2J\xe2\x80\xae");
}

std::string status(const TestXenstored& xsd, const std::string& args) {
    const auto r =
        run_command("XENSTORED_PATH=" + xsd.control_socket() + " " GUARDIAN_HOST " status " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
}

std::string line_of(const std::string& table, const std::string& domid) {
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(domid + " ", 0) == 0) {
            // Column widths follow the widest cell: compare the words.
            std::istringstream words(line);
            std::string w, out;
            while (words >> w)
                out += w + " ";
            return out;
        }
    return "";
}

nlohmann::json domain_of(const nlohmann::json& j, const std::string& domid) {
    for (const auto& d : j["domains"])
        if (d["domid"] == domid)
            return d;
    return nullptr;
}

} // namespace

TEST(HostileGuests, StatusGoesOnAndNoGuestReachesTheTerminal) {
    TestXenstored alone;
    honest(*alone.dom0());
    const std::string table_alone = status(alone, "");
    const auto json_alone = nlohmann::json::parse(status(alone, "--json"));

    TestXenstored xsd;
    auto xs = xsd.dom0();
    honest(*xs);
    hostile(*xs);
    const std::string table = status(xsd, "");
    for (const char c : table) {
        const auto u = static_cast<unsigned char>(c);
        EXPECT_FALSE((u < 0x20U && c != '\n') || u == 0x7FU) << "raw control byte " << int(u);
    }
    EXPECT_NE(line_of(table, "4").find("(unreadable:"), std::string::npos) << table;
    EXPECT_NE(line_of(table, "5").find("\\r3"), std::string::npos) << table;
    EXPECT_EQ(line_of(table, "3"), line_of(table_alone, "3"));
    EXPECT_FALSE(line_of(table, "3").empty());

    const std::string json_text = status(xsd, "--json");
    const auto json = nlohmann::json::parse(json_text); // never fails on a guest's bytes
    EXPECT_EQ(domain_of(json, "3"), domain_of(json_alone, "3"));
    EXPECT_TRUE(domain_of(json, "4").contains("unreadable"));
    EXPECT_EQ(domain_of(json, "5")["data"]["kernel"],
              "6.1\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

    // preflight prints the guest's reason escaped, too.
    const auto pre =
        run_command("XENSTORED_PATH=" + xsd.control_socket() + " " GUARDIAN_HOST " preflight 5");
    EXPECT_NE(pre.exit_code, 0);
    for (const char c : pre.out)
        EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20U && c != '\n') << pre.out;
}
