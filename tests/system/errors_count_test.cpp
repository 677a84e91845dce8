// ext4's error counter where /sys/fs/ext4/<dev>/errors_count is missing
// (older kernels, a hidden /sys): sys::ext4_errors_count reads s_error_count
// from the superblock on the device, through ext4's BlockReader (whose
// buffered fallback the ext4 tests cover). A real image whose counter
// debugfs set; the sysfs node first where it exists.
#include "guardian/sys/kmsg_reader.hpp"
#include "tests/support/ext4_image.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace guardian::sys {
namespace {

namespace fs = std::filesystem;

class ErrorsCount : public ::testing::Test {
protected:
    // An ext4 image whose superblock counts `errors` recorded errors.
    fs::path image_with_errors(const fs::path& dir, unsigned errors) {
        const fs::path image = dir / "fs.img";
        const auto r = test::run_command(
            test::e2fs_env() + " mkfs.ext4 -q -F " + image.string() + " 8M && " + test::e2fs_env() +
            " debugfs -w -R 'ssv error_count " + std::to_string(errors) + "' " + image.string());
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return image;
    }
    void TearDown() override {
        for (const auto& d : m_dirs)
            fs::remove_all(d);
    }
    fs::path temp_dir(const fs::path& under) {
        const fs::path d = under / ("guardian-errors-count-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(m_dirs.size()));
        fs::create_directories(d);
        m_dirs.push_back(d);
        return d;
    }
    std::vector<fs::path> m_dirs;
};

TEST_F(ErrorsCount, WithoutTheSysfsNodeTheSuperblockCountIsRead) {
    const fs::path dir = temp_dir(fs::temp_directory_path());
    const fs::path image = image_with_errors(dir, 7);
    const SystemRoot root((dir / "root").string()); // no /sys/fs/ext4 under it
    const auto c = ext4_errors_count(root, image.string());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->count, 7u);
    EXPECT_EQ(c->source, ErrorsCountSource::superblock);
}

TEST_F(ErrorsCount, TheSysfsNodeComesFirst) {
    const fs::path dir = temp_dir(fs::temp_directory_path());
    const fs::path image = image_with_errors(dir, 7);
    const fs::path node = dir / "root/sys/fs/ext4/fs.img";
    fs::create_directories(node);
    std::ofstream(node / "errors_count") << "2\n";
    const auto c = ext4_errors_count(SystemRoot((dir / "root").string()), image.string());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->count, 2u);
    EXPECT_EQ(c->source, ErrorsCountSource::sysfs);
}

TEST_F(ErrorsCount, AMissingDeviceIsAnError) {
    const fs::path dir = temp_dir(fs::temp_directory_path());
    EXPECT_FALSE(
        ext4_errors_count(SystemRoot((dir / "root").string()), (dir / "absent").string()).ok());
}

} // namespace
} // namespace guardian::sys
