#include "guardian/util/fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace guardian {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other)
        reset(other.release());
    return *this;
}

Fd::~Fd() {
    reset();
}

int Fd::release() noexcept {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

void Fd::reset(int fd) noexcept {
    if (m_fd >= 0)
        ::close(m_fd); // close errors on a read-only or already-synced fd carry no information
    m_fd = fd;
}

Result<Fd> open_fd(const std::string& path, int flags, unsigned mode) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0)
        return Error::from_errno("open " + path);
    return Fd(fd);
}

Status pread_full(int fd, std::span<std::byte> buf, std::uint64_t offset, const std::string& what) {
    std::size_t done = 0;
    while (done < buf.size()) {
        const ssize_t n =
            ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("read " + what + " at byte " + std::to_string(offset + done));
        }
        if (n == 0)
            return Error{"read " + what + ": unexpected end of file at byte " +
                             std::to_string(offset + done),
                         0};
        done += static_cast<std::size_t>(n);
    }
    return ok_status();
}

Result<std::string> read_text_file(const std::string& path, std::size_t limit) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_RDONLY));
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("read " + path);
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit)
            return Error{"read " + path + ": larger than " + std::to_string(limit) + " bytes", 0};
    }
    return out;
}

Status write_all(int fd, std::string_view content, const std::string& what) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("write " + what);
        }
        done += static_cast<std::size_t>(n);
    }
    return ok_status();
}

Status write_file_atomic(const std::string& path, std::string_view content, unsigned mode) {
    const std::string tmp = path + ".tmp";
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    GUARDIAN_TRY(write_all(fd.get(), content, tmp));
    if (::fsync(fd.get()) != 0)
        return Error::from_errno("fsync " + tmp);
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return Error::from_errno("rename " + tmp + " to " + path);
    return ok_status();
}

Status fsync_directory(const std::string& dir) {
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(dir, O_RDONLY | O_DIRECTORY));
    if (::fsync(fd.get()) != 0)
        return Error::from_errno("fsync " + dir);
    return ok_status();
}

} // namespace guardian
