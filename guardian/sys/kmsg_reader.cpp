#include "guardian/sys/kmsg_reader.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace guardian::sys {

Result<KmsgReader> KmsgReader::open(const SystemRoot& root) {
    const std::string path = root.path("/dev/kmsg");
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_RDONLY | O_NONBLOCK));
    struct stat st {};
    const bool is_kmsg = ::fstat(fd.get(), &st) == 0 && S_ISCHR(st.st_mode);
    if (is_kmsg && ::lseek(fd.get(), 0, SEEK_END) < 0)
        return Error::from_errno("seek to the end of " + path);
    return KmsgReader(std::move(fd), is_kmsg);
}

Result<std::vector<KmsgRecord>> KmsgReader::drain() {
    std::vector<KmsgRecord> out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(m_fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            if (errno == EPIPE) { // overwritten records: the next read continues after them
                ++m_lost;
                continue;
            }
            return Error::from_errno("read /dev/kmsg");
        }
        if (n == 0)
            break;
        if (m_is_kmsg) {
            if (auto r = parse_kmsg_record(std::string_view(buf, static_cast<std::size_t>(n))))
                out.push_back(std::move(*r));
            continue;
        }
        m_partial.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = m_partial.find('\n')) != std::string::npos) {
            if (auto r = parse_kmsg_record(std::string_view(m_partial).substr(0, nl)))
                out.push_back(std::move(*r));
            m_partial.erase(0, nl + 1);
        }
    }
    return out;
}

Result<unsigned long> ext4_errors_count(const SystemRoot& root, const std::string& device_name) {
    auto text = read_text_file(root.path("/sys/fs/ext4/" + device_name + "/errors_count"), 64);
    if (!text)
        return text.error().code == ENOENT ? Result<unsigned long>(0UL)
                                           : Result<unsigned long>(std::move(text).error());
    unsigned long v = 0;
    const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
    if (r.ec != std::errc{})
        return Error{"/sys/fs/ext4/" + device_name + "/errors_count: not a number", 0};
    return v;
}

} // namespace guardian::sys
