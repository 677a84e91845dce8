// The field's client library behind the XenStore port, for tests only (see
// libxenstore_client.hpp): every NULL/false return with errno becomes an
// Error naming the operation and the path.
#include "tests/support/libxenstore_client.hpp"

#include "guardian/xen/xs_client.hpp" // xs_payload_max, xs_max_entries

// xenstore.h (4.17) has no extern "C" guard of its own.
extern "C" {
#include <xenstore.h>
}

#include <cerrno>
#include <cstdlib>

namespace guardian::test {
namespace {

using xen::WatchEvent;
using xen::xs_max_entries;
using xen::xs_payload_max;

// Owner of one malloc'd result of libxenstore (xs_read, xs_directory,
// xs_check_watch): freed on every path out, including errors.
template <class T> struct MallocFree {
    void operator()(T* p) const noexcept { std::free(p); }
};
template <class T> using MallocPtr = std::unique_ptr<T, MallocFree<T>>;

// libxenstore takes C strings: a path or token with an embedded NUL would be
// cut silently, so it is refused instead.
Result<std::string> c_string(std::string_view s, std::string_view op, std::string_view path) {
    if (s.find('\0') != std::string_view::npos || s.empty())
        return Error{"xenstore " + std::string(op) + ": invalid path or token '" +
                         std::string(path.substr(0, path.find('\0'))) + "'",
                     EINVAL};
    return std::string(s);
}

Error xs_error(std::string_view op, const std::string& path, int err) {
    return Error::from_errno("xenstore " + std::string(op) + " " + path, err);
}

} // namespace

void LibXenstoreClient::HandleCloser::operator()(xs_handle* h) const noexcept {
    xs_close(h);
}

LibXenstoreClient::LibXenstoreClient(Handle handle, int watch_fd) noexcept
    : m_handle(std::move(handle)), m_watch_fd(watch_fd) {}

LibXenstoreClient::~LibXenstoreClient() = default;

Result<std::unique_ptr<LibXenstoreClient>> LibXenstoreClient::open() {
    const char* env = std::getenv("XENSTORED_PATH");
    const std::string where = env ? std::string("XENSTORED_PATH=") + env : "xenstore";
    // XS_UNWATCH_FILTER: after unwatch() returns, no queued event of that
    // watch is delivered, so callers never see events for a dropped watch.
    Handle handle(xs_open(XS_UNWATCH_FILTER));
    if (!handle)
        return Error::from_errno("xenstore open " + where);
    const int fd = xs_fileno(handle.get());
    if (fd < 0)
        return Error::from_errno("xenstore watch pipe");
    return std::unique_ptr<LibXenstoreClient>(new LibXenstoreClient(std::move(handle), fd));
}

Result<std::string> LibXenstoreClient::read(std::string_view path) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "read", path));
    unsigned int len = 0;
    MallocPtr<char> data(static_cast<char*>(xs_read(m_handle.get(), XBT_NULL, p.c_str(), &len)));
    if (!data)
        return xs_error("read", p, errno);
    // The protocol cannot carry more; a larger length means a broken peer.
    if (len > xs_payload_max)
        return Error{"xenstore read " + p + ": reply of " + std::to_string(len) +
                         " bytes exceeds the protocol limit",
                     EPROTO};
    return std::string(data.get(), len); // bytes as stored, NULs included
}

Result<std::vector<std::string>> LibXenstoreClient::directory(std::string_view path) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "directory", path));
    unsigned int num = 0;
    errno = 0;
    MallocPtr<char*> list(xs_directory(m_handle.get(), XBT_NULL, p.c_str(), &num));
    if (!list) {
        // An empty listing may come back as NULL without an error when
        // malloc(0) returns NULL: that is an empty directory, not a failure.
        if (errno == 0)
            return std::vector<std::string>{};
        return xs_error("directory", p, errno);
    }
    if (num > xs_max_entries)
        return Error{"xenstore directory " + p + ": " + std::to_string(num) + " entries", E2BIG};
    std::vector<std::string> out;
    out.reserve(num);
    for (unsigned int i = 0; i < num; ++i)
        out.emplace_back(list.get()[i]);
    return out;
}

Status LibXenstoreClient::write(std::string_view path, std::string_view value) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "write", path));
    // libxenstore would answer E2BIG; say what the limit is instead.
    if (p.size() + 1 + value.size() > xs_payload_max)
        return Error{"xenstore write " + p + ": value of " + std::to_string(value.size()) +
                         " bytes exceeds the 4096-byte xenstore message limit",
                     E2BIG};
    if (!xs_write(m_handle.get(), XBT_NULL, p.c_str(), value.data(),
                  static_cast<unsigned int>(value.size())))
        return xs_error("write", p, errno);
    return ok_status();
}

Status LibXenstoreClient::remove(std::string_view path) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "remove", path));
    if (!xs_rm(m_handle.get(), XBT_NULL, p.c_str()))
        return xs_error("remove", p, errno);
    return ok_status();
}

Status LibXenstoreClient::watch(std::string_view path, std::string_view token) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "watch", path));
    GUARDIAN_TRY_ASSIGN(const std::string t, c_string(token, "watch", path));
    if (!xs_watch(m_handle.get(), p.c_str(), t.c_str()))
        return xs_error("watch", p, errno);
    return ok_status();
}

Status LibXenstoreClient::unwatch(std::string_view path, std::string_view token) {
    GUARDIAN_TRY_ASSIGN(const std::string p, c_string(path, "unwatch", path));
    GUARDIAN_TRY_ASSIGN(const std::string t, c_string(token, "unwatch", path));
    if (!xs_unwatch(m_handle.get(), p.c_str(), t.c_str()))
        return xs_error("unwatch", p, errno);
    return ok_status();
}

Result<std::vector<WatchEvent>> LibXenstoreClient::read_watch_events() {
    std::vector<WatchEvent> events;
    // libxenstore asks callers to drain until EAGAIN; otherwise the watch
    // pipe may stop showing readable while events are still queued.
    for (;;) {
        errno = 0;
        MallocPtr<char*> ev(xs_check_watch(m_handle.get()));
        if (!ev) {
            if (errno == EAGAIN)
                return events;
            return Error::from_errno("xenstore read watch events", errno == 0 ? EIO : errno);
        }
        if (events.size() >= xs_max_entries)
            continue; // keep draining, drop the excess rather than grow
        events.push_back(WatchEvent{ev.get()[XS_WATCH_PATH], ev.get()[XS_WATCH_TOKEN]});
    }
}

} // namespace guardian::test
