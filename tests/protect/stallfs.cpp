// guardian-test-stallfs: a disk that stops answering, for the emergency
// sequence's deadline tests. This machine has no device-mapper (no
// `dmsetup suspend`) and no Xen blkfront to break, so the block device is a
// loop device over a file served by this FUSE filesystem: on SIGUSR1 every
// read, write and fsync of the file waits (the loop worker, and with it any
// ext4 I/O, sits in D state, as behind a xen-blkfront that hit a BUG during
// its reconnect); SIGUSR2 lets them go on. If this process dies, the kernel
// fails the waiting requests instead of leaving them hung.
//
//   guardian-test-stallfs BACKING_FILE MOUNTPOINT
// serves BACKING_FILE as MOUNTPOINT/disk (foreground, until unmounted).
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace {

int g_backing = -1;
std::mutex g_mutex;
std::condition_variable g_cv;
bool g_stalled = false;

constexpr const char* k_name = "/disk";

void wait_while_stalled() {
    std::unique_lock lock(g_mutex);
    g_cv.wait(lock, [] { return !g_stalled; });
}

int fs_getattr(const char* path, struct stat* st, fuse_file_info*) {
    std::memset(st, 0, sizeof *st);
    if (std::strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (std::strcmp(path, k_name) != 0)
        return -ENOENT;
    struct stat b {};
    if (::fstat(g_backing, &b) != 0)
        return -errno;
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    st->st_size = b.st_size;
    st->st_blocks = b.st_blocks;
    return 0;
}

int fs_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
               fuse_readdir_flags) {
    if (std::strcmp(path, "/") != 0)
        return -ENOENT;
    fill(buf, ".", nullptr, 0, fuse_fill_dir_flags{});
    fill(buf, "..", nullptr, 0, fuse_fill_dir_flags{});
    fill(buf, k_name + 1, nullptr, 0, fuse_fill_dir_flags{});
    return 0;
}

int fs_open(const char* path, fuse_file_info* fi) {
    if (std::strcmp(path, k_name) != 0)
        return -ENOENT;
    fi->direct_io = 1; // every loop I/O reaches this process: nothing is answered from a cache
    return 0;
}

int fs_read(const char*, char* buf, size_t size, off_t off, fuse_file_info*) {
    wait_while_stalled();
    const ssize_t n = ::pread(g_backing, buf, size, off);
    return n < 0 ? -errno : static_cast<int>(n);
}

int fs_write(const char*, const char* buf, size_t size, off_t off, fuse_file_info*) {
    wait_while_stalled();
    const ssize_t n = ::pwrite(g_backing, buf, size, off);
    return n < 0 ? -errno : static_cast<int>(n);
}

int fs_fsync(const char*, int, fuse_file_info*) {
    wait_while_stalled();
    return ::fdatasync(g_backing) == 0 ? 0 : -errno;
}

void* fs_init(fuse_conn_info*, fuse_config* cfg) {
    cfg->direct_io = 1;
    cfg->kernel_cache = 0;
    // SIGUSR1/SIGUSR2 are blocked in every thread (main blocks them before
    // fuse starts its threads); this one takes them with sigwait, so the
    // state changes under the mutex, never in a signal handler.
    std::thread([] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0)
                continue;
            {
                std::lock_guard lock(g_mutex);
                g_stalled = sig == SIGUSR1;
            }
            g_cv.notify_all();
            std::fprintf(stderr, "stallfs: %s\n", sig == SIGUSR1 ? "stalled" : "resumed");
        }
    }).detach();
    return nullptr;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr,
                     "usage: %s BACKING_FILE MOUNTPOINT\n"
                     "  serves BACKING_FILE as MOUNTPOINT/disk; SIGUSR1 stalls every\n"
                     "  read/write/fsync of it, SIGUSR2 resumes them\n",
                     argv[0]);
        return 2;
    }
    g_backing = ::open(argv[1], O_RDWR | O_CLOEXEC);
    if (g_backing < 0) {
        std::perror(argv[1]);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);

    fuse_operations ops{};
    ops.getattr = fs_getattr;
    ops.readdir = fs_readdir;
    ops.open = fs_open;
    ops.read = fs_read;
    ops.write = fs_write;
    ops.fsync = fs_fsync;
    ops.init = fs_init;
    // Foreground, multi-threaded (a stalled request must not block the
    // others' answers after the resume), no default permission games.
    char* fuse_argv[] = {argv[0],
                         argv[2],
                         const_cast<char*>("-f"),
                         const_cast<char*>("-o"),
                         const_cast<char*>("allow_other,max_threads=16"),
                         nullptr};
    return fuse_main(5, fuse_argv, &ops, nullptr);
}
