#include "tests/protect/fs_fixture.hpp"

#include "guardian/protect/fs_control.hpp"

#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace guardian::test {

LoopFs::LoopFs(const std::string& mkfs, unsigned size_mb) : m_mnt(m_dir.path() / "mnt") {
    std::filesystem::create_directory(m_mnt);
    const std::string image = (m_dir.path() / "fs.img").string();
    CommandResult r = run_command("truncate -s " + std::to_string(size_mb) + "M '" + image +
                                  "' && " + mkfs + " '" + image + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("mkfs: " + r.err);
    r = run_command("losetup -f --show '" + image + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("losetup: " + r.err);
    m_device = r.out.substr(0, r.out.find('\n'));
}

LoopFs::~LoopFs() {
    if (m_mounted) {
        (void)protect::thaw(m_mnt.string());
        if (run_command("umount '" + m_mnt.string() + "'").exit_code != 0)
            (void)run_command("umount -l '" + m_mnt.string() + "'");
    }
    if (!m_device.empty())
        (void)run_command("losetup -d '" + m_device + "'");
}

void LoopFs::mount(const std::string& options) {
    const std::string o = options.empty() ? "" : " -o " + options;
    const CommandResult r =
        run_command("mount -t ext4" + o + " '" + m_device + "' '" + m_mnt.string() + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("mount: " + r.err);
    m_mounted = true;
}

void LoopFs::umount() {
    const CommandResult r = run_command("umount '" + m_mnt.string() + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("umount: " + r.err);
    m_mounted = false;
}

void LoopFs::remount_cold() {
    umount();
    (void)run_command("echo 3 > /proc/sys/vm/drop_caches; blockdev --flushbufs '" + m_device + "'");
    mount();
}

void write_file_synced(const std::string& path, const std::string& content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::runtime_error("open " + path);
    const bool ok =
        ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!ok)
        throw std::runtime_error("write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace guardian::test
