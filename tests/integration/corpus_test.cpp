// e2fsprogs' own corrupted images (../shared/corpus/e2fsprogs/<case>/) through
// `guardianctl check --mode stable --json`: no case may crash or hang (CI runs
// this under ASan/UBSan, so leaks and UB surface too), and every case whose
// expected e2fsck output reports a checksum failure in a structure guardian
// verifies must come back as damage. Plus the inputs that are not ext4 at all.
#include "tests/support/ext4_image.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> corpus_dir() {
    const auto shared = shared_dir();
    if (!shared || !fs::is_directory(*shared / "corpus" / "e2fsprogs"))
        return std::nullopt;
    return *shared / "corpus" / "e2fsprogs";
}

std::vector<std::string> corpus_cases() {
    std::vector<std::string> out;
    if (const auto dir = corpus_dir())
        for (const auto& e : fs::directory_iterator(*dir))
            if (e.is_directory())
                out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// e2fsck's wording for a checksum that does not match, in the structures
// guardian verifies. "directory has no checksum" (a missing tail, not a wrong
// one) is deliberately not here.
const std::vector<std::regex>& checksum_failures() {
    static const std::vector<std::regex> re{
        std::regex(R"(Inode \d+ passes checks, but checksum does not match inode)"),
        std::regex(R"(extent block passes checks, but checksum does not match)"),
        std::regex(R"(extended attribute block \d+ passes checks, but checksum does not match)"),
        std::regex(R"(directory passes checks but fails checksum)"),
        std::regex(R"(Problem in HTREE directory inode \d+: (root|internal) node fails checksum)"),
        std::regex(R"((inode|block) bitmap does not match checksum)"),
        std::regex(R"(Superblock checksum does not match superblock)"),
        std::regex(R"(One or more block group descriptor checksums are invalid)"),
    };
    return re;
}

// Cases without an expect.1 (e2fsprogs drives them from a script) whose own
// name says a jbd2 v3 checksum on disk is wrong.
const std::set<std::string> k_journal_checksum_cases{
    "j_corrupt_commit_csum", "j_corrupt_descr_csum", "j_corrupt_journal_block",
    "j_corrupt_revoke_csum", "j_corrupt_sb_csum",
};

// Judged out of scope, with the reason. Keep this list short and explained.
const std::map<std::string, std::string> k_out_of_scope{
    // The image has no group descriptor checksums; e2fsprogs' script runs
    // `tune2fs -O uninit_bg` first, and the failure in expect.1 is about the
    // descriptors as tune2fs left them, not as shipped.
    {"f_uninit_enable", "expect.1 describes the image after tune2fs -O uninit_bg"},
};

// Images whose metadata_csum flag is off: their group descriptor checksum is
// uninit_bg's crc16, which is not one of the crc32c checksums guardian
// verifies; such cases are reported but not required.
bool has_metadata_csum(const fs::path& image) {
    return run_command("dumpe2fs -h '" + image.string() +
                       "' 2>/dev/null | grep -q '^Filesystem features:.*metadata_csum'")
               .exit_code == 0;
}

bool only_descriptor_failure(const std::string& expect) {
    std::smatch m;
    for (std::size_t i = 0; i + 1 < checksum_failures().size(); ++i)
        if (std::regex_search(expect, m, checksum_failures()[i]))
            return false;
    return true;
}

fs::path guardianctl() {
    return binary_dir() / "guardian" / "guardianctl";
}

// Runs the check bounded in time: a hang fails the case instead of the suite.
CommandResult check_image(const fs::path& image) {
    return run_command("timeout 30 '" + guardianctl().string() + "' check --image '" +
                       image.string() + "' --mode stable --json");
}

void expect_one_line_reason(const CommandResult& r) {
    EXPECT_FALSE(r.err.empty()) << "exit 2 without a reason";
    const auto body = r.err.substr(0, r.err.find_last_not_of('\n') + 1);
    EXPECT_EQ(body.find('\n'), std::string::npos) << "reason is not one line:\n" << r.err;
}

class Corpus : public testing::TestWithParam<std::string> {};

TEST_P(Corpus, StableCheckSurvivesAndSeesChecksumDamage) {
    const fs::path dir = *corpus_dir() / GetParam();
    TempDir tmp;
    const fs::path image = tmp.path() / "image";
    std::string unpack;
    if (fs::exists(dir / "image.gz"))
        unpack = "gzip -dc '" + (dir / "image.gz").string() + "'";
    else if (fs::exists(dir / "image.bz2"))
        unpack = "bzip2 -dc '" + (dir / "image.bz2").string() + "'";
    else if (fs::exists(dir / "image"))
        unpack = "cat '" + (dir / "image").string() + "'";
    else
        GTEST_SKIP() << "no image in " << dir;
    const CommandResult u = run_command(unpack + " > '" + image.string() + "'");
    ASSERT_EQ(u.exit_code, 0) << u.err;

    const CommandResult r = check_image(image);
    SCOPED_TRACE("stdout:\n" + r.out + "stderr:\n" + r.err);
    ASSERT_NE(r.exit_code, 124) << "guardianctl hung (30 s)";
    ASSERT_LE(r.exit_code, 2) << "guardianctl crashed or was killed";
    if (r.exit_code == 2) {
        expect_one_line_reason(r);
    } else {
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "--json output is not JSON";
        ASSERT_TRUE(j.contains("findings") && j["findings"].is_array());
        EXPECT_EQ(r.exit_code == 1, !j["findings"].empty()) << "exit code and findings disagree";
    }

    const std::string expect = fs::exists(dir / "expect.1") ? slurp(dir / "expect.1") : "";
    bool damaged = k_journal_checksum_cases.count(GetParam()) > 0;
    for (const auto& re : checksum_failures())
        damaged = damaged || std::regex_search(expect, re);
    if (!damaged)
        return;
    if (const auto it = k_out_of_scope.find(GetParam()); it != k_out_of_scope.end()) {
        std::cout << "[ info ] " << GetParam() << " out of scope: " << it->second << "\n";
        return;
    }
    if (only_descriptor_failure(expect) && !k_journal_checksum_cases.count(GetParam()) &&
        !has_metadata_csum(image)) {
        std::cout << "[ info ] " << GetParam() << ": crc16 descriptor checksum, exit "
                  << r.exit_code << "\n";
        return;
    }
    EXPECT_NE(r.exit_code, 0) << "e2fsck finds a checksum failure guardian verifies; "
                                 "guardianctl says intact";
}

INSTANTIATE_TEST_SUITE_P(E2fsprogs, Corpus, testing::ValuesIn(corpus_cases()),
                         [](const testing::TestParamInfo<std::string>& p) {
                             std::string n = p.param;
                             for (auto& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c)))
                                     c = '_';
                             return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Corpus);

TEST(CorpusPresence, SharedCorpusIsThere) {
    if (!corpus_dir())
        GTEST_SKIP() << "../shared/corpus/e2fsprogs is absent (set GUARDIAN_SHARED_DIR); "
                        "the corpus cases were not run";
    EXPECT_GT(corpus_cases().size(), 100u);
}

// --- inputs that are not a readable ext4 -----------------------------------

class NotExt4 : public testing::Test {
protected:
    void expect_unusable(const fs::path& file) {
        ASSERT_TRUE(fs::exists(guardianctl())) << guardianctl();
        const CommandResult r = check_image(file);
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        expect_one_line_reason(r);
    }
    TempDir m_dir;
};

TEST_F(NotExt4, TruncatedImage) {
    const fs::path full = m_dir.path() / "full";
    copy_image(ImageKind::full, full);
    fs::resize_file(full, 100 * 1024);
    expect_unusable(full);
}

TEST_F(NotExt4, ZeroFilledFile) {
    const fs::path f = m_dir.path() / "zeros";
    std::ofstream(f, std::ios::binary) << std::string(16u << 20, '\0');
    expect_unusable(f);
}

TEST_F(NotExt4, SwapArea) {
    const fs::path f = m_dir.path() / "swap";
    std::ofstream(f, std::ios::binary) << std::string(16u << 20, '\0');
    ASSERT_EQ(run_command("mkswap '" + f.string() + "'").exit_code, 0);
    expect_unusable(f);
}

TEST_F(NotExt4, RandomBytes) {
    const fs::path f = m_dir.path() / "random";
    ASSERT_EQ(run_command("head -c 8388608 /dev/urandom > '" + f.string() + "'").exit_code, 0);
    expect_unusable(f);
}

TEST_F(NotExt4, MissingFile) {
    expect_unusable(m_dir.path() / "does-not-exist");
}

} // namespace
} // namespace guardian::test
