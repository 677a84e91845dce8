// Linked into the static guest programs only (cmake/static.cmake; not in
// the util library, which globs util/*.cpp only): glibc
// 2.36's fstat() is newfstatat(fd, "", buf, AT_EMPTY_PATH), and a kernel
// before 2.6.39 (CentOS 6's 2.6.32) refuses that flag with EINVAL, which
// broke every fstat() and, through it, opendir() (glibc's opendir checks
// the directory with fstat). These definitions take the place of libc.a's
// member that defines the same four symbols (fstat64.o), so glibc's own
// callers get them too, and make the fstat(2) system call that every
// x86_64 kernel has, as glibc did before 2.33. The struct is the same:
// on x86_64 glibc's struct stat is the kernel's.
// docs/old-kernels.md lists this with the other old-kernel fallbacks.
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {

// glibc declares these two in no public header.
int __fstat64(int fd, struct stat64* buf) noexcept;
int __fstat(int fd, struct stat* buf) noexcept;

int fstat(int fd, struct stat* buf) noexcept {
    return static_cast<int>(::syscall(SYS_fstat, fd, buf));
}

int fstat64(int fd, struct stat64* buf) noexcept {
    static_assert(sizeof(struct stat64) == sizeof(struct stat));
    return static_cast<int>(::syscall(SYS_fstat, fd, buf));
}

// glibc's internal names for the same function (opendir, stdio, ttyname).
int __fstat64(int fd, struct stat64* buf) noexcept {
    return fstat64(fd, buf);
}

int __fstat(int fd, struct stat* buf) noexcept {
    return fstat(fd, buf);
}

} // extern "C"
