#include "guardian/sys/kmsg_reader.hpp"

#include "guardian/ext4/block_reader.hpp"
#include "guardian/ondisk/bytes.hpp"
#include "guardian/ondisk/superblock_format.hpp"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace guardian::sys {

Result<KmsgReader> KmsgReader::open(const SystemRoot& root, bool from_start) {
    const std::string path = root.path("/dev/kmsg");
    GUARDIAN_TRY_ASSIGN(Fd fd, open_fd(path, O_RDONLY | O_NONBLOCK));
    struct stat st {};
    const bool is_kmsg = ::fstat(fd.get(), &st) == 0 && S_ISCHR(st.st_mode);
    // A fresh open of /dev/kmsg reads from the oldest record in the ring.
    if (is_kmsg && !from_start && ::lseek(fd.get(), 0, SEEK_END) < 0)
        return Error::from_errno("seek to the end of " + path);
    if (!is_kmsg)
        return KmsgReader(std::move(fd), false);
    // Probe: a kernel before 3.5 has a write-only /dev/kmsg (read: EINVAL).
    // A record logged since the seek is kept for the first drain().
    char buf[8192];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINVAL)
        return open_ring();
    KmsgReader reader(std::move(fd), true);
    if (n > 0)
        reader.m_first = parse_kmsg_record(std::string_view(buf, static_cast<std::size_t>(n)));
    else if (n < 0 && errno == EPIPE)
        ++reader.m_lost;
    return reader;
}

Result<KmsgReader> KmsgReader::open_ring() {
    GUARDIAN_TRY_ASSIGN(KernelRing ring, KernelRing::open());
    Fd tick(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (tick.get() < 0)
        return Error::from_errno("timerfd_create for the syslog(2) kernel log");
    itimerspec every{};
    every.it_value.tv_sec = poll_period.count();
    every.it_interval.tv_sec = poll_period.count();
    if (::timerfd_settime(tick.get(), 0, &every, nullptr) != 0)
        return Error::from_errno("timerfd_settime for the syslog(2) kernel log");
    KmsgReader reader(std::move(tick), false);
    reader.m_ring.emplace(std::move(ring));
    return reader;
}

std::string_view KmsgReader::method() const noexcept {
    if (m_ring)
        return "syslog";
    return m_is_kmsg ? "dev-kmsg" : "file";
}

Result<std::vector<KmsgRecord>> KmsgReader::drain() {
    std::vector<KmsgRecord> out;
    if (m_ring) {
        std::uint64_t ticks = 0;
        (void)!::read(m_fd.get(), &ticks, sizeof ticks); // EAGAIN is fine: read the ring anyway
        return m_ring->read();
    }
    if (m_first) {
        out.push_back(std::move(*m_first));
        m_first.reset();
    }
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

namespace {

// Read as the scan reads (ext4's BlockReader: O_DIRECT, buffered with the
// clean cached pages dropped where the device refuses it), at the offsets of
// guardian/ondisk: one block-reading path, one superblock format.
Result<unsigned long> superblock_error_count(const std::string& device) {
    GUARDIAN_TRY_ASSIGN(const auto reader, ext4::BlockReader::open(device, true, 1));
    GUARDIAN_TRY_ASSIGN(const auto sb,
                        reader->read_bytes(ondisk::sb::k_offset, ondisk::sb::k_size));
    return ondisk::le32(sb, ondisk::sb::k_error_count);
}

} // namespace

std::string_view to_string(ErrorsCountSource source) noexcept {
    return source == ErrorsCountSource::sysfs ? "sysfs" : "superblock";
}

Result<Ext4ErrorCount> ext4_errors_count(const SystemRoot& root, const std::string& device) {
    const std::string name = device.substr(device.rfind('/') + 1);
    const std::string node = "/sys/fs/ext4/" + name + "/errors_count";
    auto text = read_text_file(root.path(node), 64);
    if (!text) {
        if (text.error().code != ENOENT)
            return std::move(text).error();
        GUARDIAN_TRY_ASSIGN(const unsigned long n, superblock_error_count(device));
        return Ext4ErrorCount{n, ErrorsCountSource::superblock};
    }
    unsigned long v = 0;
    const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
    if (r.ec != std::errc{})
        return Error{node + ": not a number", 0};
    return Ext4ErrorCount{v, ErrorsCountSource::sysfs};
}

} // namespace guardian::sys
