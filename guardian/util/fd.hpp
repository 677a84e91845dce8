// RAII owner of a file descriptor, and the few fd-level calls guardian makes.
#pragma once

#include "guardian/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace guardian {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : m_fd(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : m_fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    ~Fd();

    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }
    int release() noexcept;
    void reset(int fd = -1) noexcept;

private:
    int m_fd = -1;
};

// open(2) with O_CLOEXEC added; the error names the path.
[[nodiscard]] Result<Fd> open_fd(const std::string& path, int flags, unsigned mode = 0);

// pread(2) until `buf` is full, retrying EINTR and short reads; a read that
// ends early at end-of-file is an error naming the offset.
[[nodiscard]] Status pread_full(int fd, std::span<std::byte> buf, std::uint64_t offset,
                                const std::string& what);

// Whole small file (sysfs attribute, /proc file) as text, bounded in size.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path,
                                                 std::size_t limit = 1 << 20);

// Write a file atomically: temp file in the same directory, fsync, rename.
// Writes all of `content` to `fd` (retrying short writes and EINTR); an
// error names `what`.
[[nodiscard]] Status write_all(int fd, std::string_view content, const std::string& what);

[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view content,
                                       unsigned mode = 0644);

// fsync a directory, so a rename in it is on disk too (write_file_atomic
// leaves that to the filesystem's next commit).
[[nodiscard]] Status fsync_directory(const std::string& dir);

} // namespace guardian
