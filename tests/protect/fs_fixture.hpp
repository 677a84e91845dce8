// A real filesystem on a loop device, mounted in a temp dir, for the system
// tests. Everything is undone on every path out, in the safe order: thaw
// (a frozen fs blocks sync(2) for the whole machine), unmount, detach.
#pragma once

#include "tests/support/test_env.hpp"

#include <string>

namespace guardian::test {

class LoopFs {
public:
    // `mkfs` is the full mkfs command without the device, e.g.
    // "mkfs.ext4 -q -F" or "mkfs.ext4 -q -F -O ^has_journal".
    LoopFs(const std::string& mkfs, unsigned size_mb = 64);
    LoopFs(const LoopFs&) = delete;
    LoopFs& operator=(const LoopFs&) = delete;
    ~LoopFs();

    void mount(const std::string& options = "");
    void umount();
    void remount_cold(); // umount, drop caches, mount: later reads come from disk

    [[nodiscard]] const std::string& device() const { return m_device; }
    [[nodiscard]] std::string mount_point() const { return m_mnt.string(); }
    [[nodiscard]] std::string path(const std::string& name) const {
        return (m_mnt / name).string();
    }

private:
    TempDir m_dir;
    std::filesystem::path m_mnt;
    std::string m_device;
    bool m_mounted = false;
};

// An ext4 filesystem whose disk can stop answering: a loop device over a
// file served by guardian-test-stallfs (FUSE). stall() makes every I/O to
// the device wait (the kernel's callers sit in D state), resume() lets it go
// on. Mounted on construction; everything is undone in the destructor,
// resuming first so that nothing stays hung.
class StallableFs {
public:
    // Why the fixture cannot run here ("" when it can).
    [[nodiscard]] static std::string why_unavailable();
    explicit StallableFs(unsigned size_mb = 64);
    StallableFs(const StallableFs&) = delete;
    StallableFs& operator=(const StallableFs&) = delete;
    ~StallableFs();

    void stall();
    void resume();
    void umount();

    [[nodiscard]] const std::string& device() const { return m_device; }
    [[nodiscard]] std::string mount_point() const { return m_mnt.string(); }
    [[nodiscard]] std::string path(const std::string& name) const {
        return (m_mnt / name).string();
    }

private:
    void signal_server(int sig);

    TempDir m_dir;
    std::filesystem::path m_fuse;
    std::filesystem::path m_mnt;
    int m_server = -1; // pid of guardian-test-stallfs
    std::string m_device;
    bool m_fuse_mounted = false;
    bool m_mounted = false;
};

// Writes `content` to `path` and fsyncs; throws on failure.
void write_file_synced(const std::string& path, const std::string& content);
[[nodiscard]] std::string read_file(const std::string& path);

} // namespace guardian::test
