#include "tests/protect/fs_fixture.hpp"

#include "guardian/protect/fs_control.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace guardian::test {
namespace {

// Unmounts `dir`; throws with umount's message when it refuses.
void umount_or_throw(const std::filesystem::path& dir) {
    const CommandResult r = run_command("umount '" + dir.string() + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("umount: " + r.err);
}

// For destructors: unmounts `dir`, lazily if it is busy; never throws.
void umount_quietly(const std::filesystem::path& dir) {
    if (run_command("umount '" + dir.string() + "'").exit_code != 0)
        (void)run_command("umount -l '" + dir.string() + "'");
}

} // namespace

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
        umount_quietly(m_mnt);
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
    umount_or_throw(m_mnt);
    m_mounted = false;
}

void LoopFs::remount_cold() {
    umount();
    (void)run_command("echo 3 > /proc/sys/vm/drop_caches; blockdev --flushbufs '" + m_device + "'");
    mount();
}

std::string StallableFs::why_unavailable() {
#ifndef GUARDIAN_TEST_STALLFS
    return "built without libfuse3 (tools/install-deps --test): no guardian-test-stallfs";
#else
    if (::access("/dev/fuse", R_OK | W_OK) != 0)
        return "no usable /dev/fuse";
    return why_no_loop_devices();
#endif
}

StallableFs::StallableFs(unsigned size_mb)
    : m_fuse(m_dir.path() / "fuse"), m_mnt(m_dir.path() / "mnt") {
#ifndef GUARDIAN_TEST_STALLFS
    (void)size_mb;
    throw std::runtime_error(why_unavailable());
#else
    std::filesystem::create_directory(m_fuse);
    std::filesystem::create_directory(m_mnt);
    const std::string image = (m_dir.path() / "backing.img").string();
    CommandResult r = run_command("truncate -s " + std::to_string(size_mb) + "M '" + image +
                                  "' && mkfs.ext4 -q -F '" + image + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("mkfs: " + r.err);
    m_server = ::fork();
    if (m_server == 0) {
        ::execl(GUARDIAN_TEST_STALLFS, GUARDIAN_TEST_STALLFS, image.c_str(), m_fuse.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (m_server < 0)
        throw std::runtime_error("fork");
    m_fuse_mounted = true;
    std::error_code ec;
    for (int i = 0; i < 500 && !std::filesystem::exists(m_fuse / "disk", ec); ++i)
        ::usleep(10'000);
    if (!std::filesystem::exists(m_fuse / "disk", ec))
        throw std::runtime_error("guardian-test-stallfs did not come up");
    r = run_command("losetup -f --show '" + (m_fuse / "disk").string() + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("losetup: " + r.err);
    m_device = r.out.substr(0, r.out.find('\n'));
    r = run_command("mount -t ext4 '" + m_device + "' '" + m_mnt.string() + "'");
    if (r.exit_code != 0)
        throw std::runtime_error("mount: " + r.err);
    m_mounted = true;
#endif
}

void StallableFs::signal_server(int sig) {
    if (m_server > 0)
        ::kill(m_server, sig);
    // The server changes state on its signal thread: give it the moment.
    ::usleep(50'000);
}

void StallableFs::stall() {
    signal_server(SIGUSR1);
}

void StallableFs::resume() {
    signal_server(SIGUSR2);
}

void StallableFs::umount() {
    umount_or_throw(m_mnt);
    m_mounted = false;
}

StallableFs::~StallableFs() {
    resume();
    if (m_mounted)
        umount_quietly(m_mnt);
    if (!m_device.empty())
        (void)run_command("losetup -d '" + m_device + "'");
    if (m_fuse_mounted)
        umount_quietly(m_fuse);
    if (m_server > 0) {
        ::kill(m_server, SIGTERM);
        (void)::waitpid(m_server, nullptr, 0);
    }
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
