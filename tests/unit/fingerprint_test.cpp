// Fingerprint comparison and its JSON form (untrusted input: every error
// must name the field that is wrong, and nothing may throw).
#include "guardian/core/fingerprint.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace guardian {
namespace {

using Kind = Difference::Kind;

std::string hex(char c) {
    return std::string(32, c);
}

Fingerprint sample() {
    Fingerprint fp;
    fp.identity = {"/dev/xvda1", "ext4", "6a1b7c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "root"};
    fp.mode = CheckMode::stable;
    fp.taken_at = "2026-11-21T17:00:00Z";
    fp.geometry = {{"superblock.s_blocks_per_group", "32768"},
                   {"group_descriptor.0.bg_inode_table", "1065"},
                   {"group_descriptor.1.bg_inode_table", "1577"}};
    fp.regions = {{Structure::superblock, std::nullopt, 1, hex('a')},
                  {Structure::group_descriptor, 0, 1, hex('b')},
                  {Structure::group_descriptor, 1, 1, hex('c')},
                  {Structure::inode, 0, 4, hex('d')},
                  {Structure::inode, 1, 2, hex('e')},
                  {Structure::journal_superblock, std::nullopt, 1, hex('f')}};
    return fp;
}

TEST(Compare, IdenticalFingerprintsHaveNoDifferences) {
    EXPECT_TRUE(compare(sample(), sample()).empty());
    EXPECT_TRUE(compare_geometry(sample(), sample()).empty());
}

TEST(Compare, RegionOrderDoesNotMatter) {
    Fingerprint b = sample();
    std::reverse(b.regions.begin(), b.regions.end());
    EXPECT_TRUE(compare(sample(), b).empty());
}

TEST(Compare, GeometryChangedAddedRemoved) {
    Fingerprint after = sample();
    after.geometry["group_descriptor.1.bg_inode_table"] = "9999";
    after.geometry.erase("superblock.s_blocks_per_group");
    after.geometry["superblock.s_inodes_per_group"] = "8192";
    const auto d = compare_geometry(sample(), after);
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0], (Difference{Kind::changed, Structure::geometry, std::nullopt,
                                "group_descriptor.1.bg_inode_table", "1577", "9999"}));
    EXPECT_EQ(d[1], (Difference{Kind::removed, Structure::geometry, std::nullopt,
                                "superblock.s_blocks_per_group", "32768", ""}));
    EXPECT_EQ(d[2], (Difference{Kind::added, Structure::geometry, std::nullopt,
                                "superblock.s_inodes_per_group", "", "8192"}));
    EXPECT_EQ(compare(sample(), after), d) << "no region changed";
}

TEST(Compare, UuidChangeComesFirst) {
    Fingerprint after = sample();
    after.identity.uuid = "00000000-0000-0000-0000-000000000000";
    after.geometry["superblock.s_blocks_per_group"] = "8192";
    const auto d = compare(sample(), after);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].field, "identity.uuid");
    EXPECT_EQ(d[1].field, "superblock.s_blocks_per_group");
}

TEST(Compare, RegionsChangedAddedRemoved) {
    Fingerprint after = sample();
    after.regions[3].digest = hex('9');                                    // inode group 0 changed
    after.regions[4].blocks = 3;                                           // inode group 1 grew
    after.regions.erase(after.regions.begin() + 2);                        // descriptor 1 gone
    after.regions.push_back({Structure::directory_block, 2, 1, hex('1')}); // new dir region
    const auto d = compare(sample(), after);
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0].kind, Kind::removed);
    EXPECT_EQ(d[0].structure, Structure::group_descriptor);
    EXPECT_EQ(d[0].group, 1u);
    EXPECT_EQ(d[1].kind, Kind::changed);
    EXPECT_EQ(d[1].structure, Structure::inode);
    EXPECT_EQ(d[1].group, 0u);
    EXPECT_EQ(d[2].kind, Kind::changed);
    EXPECT_EQ(d[2].group, 1u);
    EXPECT_EQ(d[3].kind, Kind::added);
    EXPECT_EQ(d[3].structure, Structure::directory_block);
    EXPECT_EQ(d[3].group, 2u);
    for (const auto& x : d)
        EXPECT_TRUE(x.field.empty()) << "regions carry no field name";
}

TEST(Compare, GroupedAndUngroupedRegionsAreDistinct) {
    Fingerprint after = sample();
    after.regions[0].group = 0; // superblock now claims group 0
    const auto d = compare(sample(), after);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].kind, Kind::removed);
    EXPECT_EQ(d[1].kind, Kind::added);
}

TEST(DescribeDifference, Text) {
    EXPECT_EQ(describe(Difference{Kind::changed, Structure::geometry, std::nullopt,
                                  "superblock.s_blocks_per_group", "32768", "8192"}),
              "changed geometry superblock.s_blocks_per_group: 32768 -> 8192");
    EXPECT_EQ(describe(Difference{Kind::added, Structure::directory_block, 2, "", "", "x"}),
              "added directory_block group 2: - -> x");
    EXPECT_EQ(describe(Difference{Kind::removed, Structure::inode, 0, "", "y", ""}),
              "removed inode group 0: y -> -");
}

// --- JSON -------------------------------------------------------------------

TEST(FingerprintJson, RoundTrip) {
    const Fingerprint fp = sample();
    const auto back = fingerprint_from_json(fingerprint_to_json(fp));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->schema, fp.schema);
    EXPECT_EQ(back->identity.source, fp.identity.source);
    EXPECT_EQ(back->identity.type, fp.identity.type);
    EXPECT_EQ(back->identity.uuid, fp.identity.uuid);
    EXPECT_EQ(back->identity.label, fp.identity.label);
    EXPECT_EQ(back->mode, fp.mode);
    EXPECT_EQ(back->taken_at, fp.taken_at);
    EXPECT_EQ(back->geometry, fp.geometry);
    EXPECT_EQ(back->regions, fp.regions);
}

TEST(FingerprintJson, CompactAndIndentedParseAlike) {
    const auto a = fingerprint_from_json(fingerprint_to_json(sample(), -1));
    const auto b = fingerprint_from_json(fingerprint_to_json(sample(), 4));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(compare(*a, *b).empty());
}

// Each case mutates a valid document; the error must start with the field path.
struct ParseErrorCase {
    const char* name;
    std::function<void(nlohmann::json&)> mutate;
    const char* field;
};

void PrintTo(const ParseErrorCase& c, std::ostream* os) {
    *os << c.name;
}

class FingerprintJsonErrors : public testing::TestWithParam<ParseErrorCase> {};

TEST_P(FingerprintJsonErrors, NameTheField) {
    auto j = nlohmann::json::parse(fingerprint_to_json(sample()));
    GetParam().mutate(j);
    Result<Fingerprint> r = Error{"not run", 0};
    ASSERT_NO_THROW(r = fingerprint_from_json(j.dump())) << "untrusted input must not throw";
    ASSERT_FALSE(r.ok()) << "accepted: " << j.dump();
    EXPECT_EQ(r.error().message.rfind(GetParam().field, 0), 0u)
        << "error '" << r.error().message << "' does not start with '" << GetParam().field << "'";
}

using J = nlohmann::json;
const ParseErrorCase k_parse_errors[] = {
    {"schema_missing", [](J& j) { j.erase("schema"); }, "schema"},
    {"schema_wrong", [](J& j) { j["schema"] = "something-else"; }, "schema"},
    {"schema_not_string", [](J& j) { j["schema"] = 7; }, "schema"},
    {"version_missing", [](J& j) { j.erase("version"); }, "version"},
    {"version_string", [](J& j) { j["version"] = "1"; }, "version"},
    {"version_future", [](J& j) { j["version"] = 99; }, "version"},
    {"identity_missing", [](J& j) { j.erase("identity"); }, "identity"},
    {"identity_uuid_missing", [](J& j) { j["identity"].erase("uuid"); }, "identity.uuid"},
    {"identity_label_number", [](J& j) { j["identity"]["label"] = 3; }, "identity.label"},
    {"mode_unknown", [](J& j) { j["mode"] = "frozen"; }, "mode"},
    {"mode_number", [](J& j) { j["mode"] = 1; }, "mode"},
    {"taken_at_number", [](J& j) { j["taken_at"] = 5; }, "taken_at"},
    {"geometry_missing", [](J& j) { j.erase("geometry"); }, "geometry"},
    {"geometry_value_number", [](J& j) { j["geometry"]["superblock.s_blocks_per_group"] = 32768; },
     "geometry.superblock.s_blocks_per_group"},
    {"regions_missing", [](J& j) { j.erase("regions"); }, "regions"},
    {"regions_object", [](J& j) { j["regions"] = J::object(); }, "regions"},
    {"region_not_object", [](J& j) { j["regions"][2] = 5; }, "regions[2]"},
    {"region_structure_unknown", [](J& j) { j["regions"][1]["structure"] = "bogus"; },
     "regions[1].structure"},
    {"region_structure_missing", [](J& j) { j["regions"][1].erase("structure"); },
     "regions[1].structure"},
    {"region_group_negative", [](J& j) { j["regions"][1]["group"] = -1; }, "regions[1].group"},
    {"region_group_huge", [](J& j) { j["regions"][1]["group"] = 1ull << 40; }, "regions[1].group"},
    {"region_blocks_missing", [](J& j) { j["regions"][0].erase("blocks"); }, "regions[0].blocks"},
    {"region_blocks_negative", [](J& j) { j["regions"][0]["blocks"] = -3; }, "regions[0].blocks"},
    {"region_digest_short", [](J& j) { j["regions"][3]["digest"] = "abc"; }, "regions[3].digest"},
    {"region_digest_upper", [](J& j) { j["regions"][3]["digest"] = std::string(32, 'A'); },
     "regions[3].digest"},
};

INSTANTIATE_TEST_SUITE_P(Fields, FingerprintJsonErrors, testing::ValuesIn(k_parse_errors),
                         [](const testing::TestParamInfo<ParseErrorCase>& p) {
                             return std::string(p.param.name);
                         });

TEST(FingerprintJson, NotJsonAtAll) {
    for (const std::string text : {"", "{", "not json", "[1,2", "null", "[]"}) {
        Result<Fingerprint> r = Error{"not run", 0};
        ASSERT_NO_THROW(r = fingerprint_from_json(text)) << text;
        EXPECT_FALSE(r.ok()) << "accepted: '" << text << "'";
    }
}

TEST(FingerprintJson, TruncatedDocumentIsRejected) {
    const std::string text = fingerprint_to_json(sample());
    for (std::size_t cut = 0; cut < text.size(); cut += 7) {
        Result<Fingerprint> r = Error{"not run", 0};
        ASSERT_NO_THROW(r = fingerprint_from_json(text.substr(0, cut))) << cut;
        EXPECT_FALSE(r.ok()) << "accepted a document cut at " << cut;
    }
}

} // namespace
} // namespace guardian
