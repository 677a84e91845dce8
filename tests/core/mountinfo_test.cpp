#include "guardian/core/mountinfo.hpp"
#include "guardian/sys/mounts.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

constexpr const char* k_sample =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 202:1 / / rw,relatime shared:1 - ext4 /dev/xvda1 rw,errors=remount-ro\n"
    "28 27 202:17 / /srv/my\\040data ro,relatime - ext4 /dev/xvdb1 ro\n"
    "29 27 202:1 /var/lib/x /mnt/bind rw,relatime - ext4 /dev/xvda1 rw\n"
    "30 27 0:40 / /tmp rw - tmpfs tmpfs rw\n"
    "31 27 7:0 / /mnt/img rw - ext2 /dev/loop0 rw\n";

TEST(Mountinfo, ParsesFieldsAndUnescapesOctal) {
    auto r = parse_mountinfo(k_sample);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 6u);
    const MountEntry& root = (*r)[1];
    EXPECT_EQ(root.major, 202u);
    EXPECT_EQ(root.minor, 1u);
    EXPECT_EQ(root.mount_point, "/");
    EXPECT_EQ(root.fs_type, "ext4");
    EXPECT_EQ(root.source, "/dev/xvda1");
    EXPECT_EQ(root.super_options, "rw,errors=remount-ro");
    EXPECT_FALSE(root.read_only());
    EXPECT_EQ((*r)[2].mount_point, "/srv/my data");
    EXPECT_TRUE((*r)[2].read_only());
}

TEST(Mountinfo, MalformedLineNamesTheLine) {
    auto r = parse_mountinfo("22 27 0:21 / /proc rw - proc proc rw\n27 1 garbage\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "mountinfo line 2: malformed");
    auto bad_dev = parse_mountinfo("1 2 x:y / / rw - ext4 /dev/a rw\n");
    ASSERT_FALSE(bad_dev.ok());
    EXPECT_NE(bad_dev.error().message.find("line 1: bad device number 'x:y'"), std::string::npos);
}

TEST(Mountinfo, ExtFilesystemsOnBlockDevicesOncePerDevice) {
    auto r = parse_mountinfo(k_sample);
    ASSERT_TRUE(r.ok());
    const auto ext = sys::mounted_ext_filesystems(*r);
    ASSERT_EQ(ext.size(), 3u); // xvda1 once (bind mount folded), xvdb1, loop0
    EXPECT_EQ(ext[0].source, "/dev/xvda1");
    EXPECT_EQ(ext[0].mount_point, "/");
    EXPECT_EQ(ext[1].source, "/dev/xvdb1");
    EXPECT_EQ(ext[2].fs_type, "ext2");
}

} // namespace
} // namespace guardian
