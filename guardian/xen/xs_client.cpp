// The connection side of guardian's xenstore client: the only file in
// guardian that talks to xenstored or the xenbus device. Every failure
// becomes an Error naming the operation and the path. Only calls Linux
// 2.6.32 has (epoll_create1, eventfd2: 2.6.27; poll), every fd O_CLOEXEC.
#include "guardian/xen/xs_client.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace guardian::xen {
namespace {

// ENODEV marks "no xenstore at all" (see is_not_xen); xenstored never
// answers with it (it is not in xsd_errors), so it cannot be confused with
// a failed operation.
constexpr int not_xen_code = ENODEV;
static_assert(xs_payload_max == XENSTORE_PAYLOAD_MAX);

// Retries of a directory listing whose generation changed between parts.
constexpr int directory_part_retries = 16;

std::string what(std::string_view op, std::string_view path) {
    std::string w = "xenstore " + std::string(op);
    if (!path.empty())
        w += " " + std::string(path.substr(0, path.find('\0')));
    return w;
}

Result<Fd> connect_socket(const std::string& path) {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("xenstore socket " + path);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return Error{"xenstore connect " + path + ": path too long for a unix socket",
                     ENAMETOOLONG};
    path.copy(addr.sun_path, path.size());
    for (;;) {
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            break;
        if (errno != EINTR)
            return Error::from_errno("xenstore connect " + path);
    }
    return fd;
}

Status set_nonblocking(int fd, const std::string& path) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return Error::from_errno("xenstore fcntl " + path);
    return ok_status();
}

} // namespace

XsClient::XsClient(Fd conn, bool is_socket, Fd epoll, Fd event) noexcept
    : m_conn(std::move(conn)), m_is_socket(is_socket), m_epoll(std::move(epoll)),
      m_event(std::move(event)) {}

XsClient::~XsClient() = default;

Result<std::unique_ptr<XsClient>> XsClient::open() {
    GUARDIAN_TRY_ASSIGN(const std::string endpoint, xenstore_endpoint(SystemRoot{}));
    return connect(endpoint);
}

Result<std::unique_ptr<XsClient>> XsClient::connect(const std::string& endpoint) {
    struct stat st {};
    if (::stat(endpoint.c_str(), &st) != 0)
        return Error::from_errno("xenstore open " + endpoint);
    const bool is_socket = S_ISSOCK(st.st_mode);
    Fd conn;
    if (is_socket) {
        GUARDIAN_TRY_ASSIGN(conn, connect_socket(endpoint));
        GUARDIAN_TRY(set_nonblocking(conn.get(), endpoint));
    } else {
        // The xenbus device honours O_NONBLOCK for read(2) and supports poll.
        conn.reset(::open(endpoint.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK));
        if (!conn.valid())
            return Error::from_errno("xenstore open " + endpoint);
    }
    Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll.valid())
        return Error::from_errno("xenstore epoll_create1");
    Fd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!event.valid())
        return Error::from_errno("xenstore eventfd");
    for (int fd : {conn.get(), event.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
            return Error::from_errno("xenstore epoll_ctl " + endpoint);
    }
    return std::unique_ptr<XsClient>(
        new XsClient(std::move(conn), is_socket, std::move(epoll), std::move(event)));
}

Error XsClient::op_error(std::string_view op, std::string_view path, const Error& e) const {
    return Error{what(op, path) + ": " + e.message, e.code};
}

Error XsClient::broken(Error e) {
    if (!m_broken) {
        m_broken = e;
        // A dead socket stays readable (EOF) forever: take it out of the
        // set, and wake the caller once through the eventfd instead.
        (void)::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, m_conn.get(), nullptr);
        update_signal();
    }
    return e;
}

void XsClient::update_signal() {
    // m_in may hold complete messages when a drain stopped at the queue's
    // bound: the connection need not show readable for them any more.
    const bool want = !m_queue.empty() || m_event_error.has_value() ||
                      (m_broken && !m_broken_reported) || (!m_broken && m_in.has_complete());
    if (want == m_signalled)
        return;
    if (want) {
        const std::uint64_t one = 1;
        if (::write(m_event.get(), &one, sizeof one) == static_cast<ssize_t>(sizeof one))
            m_signalled = true;
    } else {
        std::uint64_t count = 0;
        (void)!::read(m_event.get(), &count, sizeof count); // EAGAIN: already clear
        m_signalled = false;
    }
}

Status XsClient::send_all(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n =
            m_is_socket
                ? ::send(m_conn.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL)
                : ::write(m_conn.get(), bytes.data() + done, bytes.size() - done);
        if (n >= 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd p{m_conn.get(), POLLOUT, 0};
            if (::poll(&p, 1, -1) < 0 && errno != EINTR)
                return broken(Error::from_errno("poll"));
            continue;
        }
        const int err = errno;
        // The xenbus device answers some requests (a guest kernel's own
        // watch bookkeeping) by failing the write(2) and forgets the message:
        // that is this request's error, and the connection stays usable.
        if (!m_is_socket && done == 0)
            return Error::from_errno("write", err);
        return broken(Error::from_errno("connection lost (write)", err));
    }
    return ok_status();
}

Result<bool> XsClient::read_some() {
    std::array<char, wire::header_size + wire::payload_max> buf{};
    for (;;) {
        const ssize_t n = ::read(m_conn.get(), buf.data(), buf.size());
        if (n > 0) {
            m_in.append(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            return true;
        }
        if (n == 0)
            return broken(Error{"connection lost (end of file)", ECONNRESET});
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        return broken(Error::from_errno("connection lost (read)"));
    }
}

Status XsClient::wait_readable() {
    for (;;) {
        // No deadline, as with libxenstore: xenstored answers every request,
        // and a dead connection shows as readable (EOF) or an error.
        pollfd p{m_conn.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, -1);
        if (r > 0)
            return ok_status();
        if (r < 0 && errno != EINTR)
            return broken(Error::from_errno("poll"));
    }
}

void XsClient::queue_event(wire::Message&& m) {
    auto ev = wire::parse_watch_event(m.body);
    if (!ev) {
        if (!m_event_error)
            m_event_error = Error{"xenstore watch event: " + ev.error().message, ev.error().code};
        return;
    }
    // An event for a token no watch holds any more belongs to a watch that
    // unwatch() already dropped (XS_UNWATCH_FILTER).
    if (!m_tokens.contains(ev->token))
        return;
    if (m_queue.size() >= xs_max_entries)
        return; // bounded: drop the excess rather than grow
    m_queue.push_back(std::move(*ev));
}

Result<std::optional<wire::Message>> XsClient::take_messages(bool want_reply) {
    for (;;) {
        auto next = m_in.next();
        if (!next)
            return broken(std::move(next).error());
        if (!next->has_value())
            return std::optional<wire::Message>{};
        wire::Message m = std::move(**next);
        if (m.type == XS_WATCH_EVENT) {
            queue_event(std::move(m));
            continue;
        }
        if (!want_reply)
            return broken(Error{"unexpected reply (type " + std::to_string(m.type) +
                                    ") with no request outstanding",
                                EPROTO});
        return std::optional<wire::Message>(std::move(m));
    }
}

Result<std::string> XsClient::request(std::uint32_t type, std::string_view payload,
                                      std::string_view op, std::string_view path) {
    if (m_broken)
        return op_error(op, path, *m_broken);
    if (payload.size() > wire::payload_max)
        return Error{what(op, path) + ": request of " + std::to_string(payload.size()) +
                         " bytes exceeds the " + std::to_string(wire::payload_max) +
                         "-byte xenstore message limit",
                     E2BIG};
    const std::uint32_t req_id = m_next_req_id++;
    if (m_next_req_id == 0)
        m_next_req_id = 1; // 0 is what old kernels put in replies they make up
    if (auto sent = send_all(wire::encode(type, req_id, payload)); !sent)
        return op_error(op, path, sent.error());

    std::optional<wire::Message> reply;
    while (!reply) {
        auto taken = take_messages(true);
        if (!taken)
            return op_error(op, path, taken.error());
        reply = std::move(*taken);
        if (reply)
            break;
        auto got = read_some();
        if (!got)
            return op_error(op, path, got.error());
        if (!*got)
            if (auto waited = wait_readable(); !waited)
                return op_error(op, path, waited.error());
    }
    // Events that came after the reply in the same read are queued now: the
    // connection may have nothing more to show, so only the eventfd wakes
    // the caller for them.
    if (auto rest = take_messages(false); !rest) {
        update_signal();
        return op_error(op, path, rest.error());
    }
    update_signal();

    // Linux before 4.x makes up the reply to XS_WATCH/XS_UNWATCH on the
    // xenbus device with req_id 0; any other mismatch means lost sync.
    if (reply->req_id != req_id && reply->req_id != 0)
        return op_error(op, path,
                        broken(Error{"reply to request " + std::to_string(reply->req_id) +
                                         " while waiting for " + std::to_string(req_id),
                                     EPROTO}));
    if (reply->type == XS_ERROR) {
        const int code = wire::error_code(reply->body);
        return Error::from_errno(what(op, path), code);
    }
    if (reply->type != type)
        return op_error(op, path,
                        broken(Error{"reply of type " + std::to_string(reply->type) +
                                         " to a request of type " + std::to_string(type),
                                     EPROTO}));
    return std::move(reply->body);
}

Result<std::string> XsClient::read(std::string_view path) {
    auto payload = wire::strings_payload({path});
    if (!payload)
        return op_error("read", path, payload.error());
    return request(XS_READ, *payload, "read", path); // bytes as stored, NULs included
}

Result<std::vector<std::string>> XsClient::directory(std::string_view path) {
    auto payload = wire::strings_payload({path});
    if (!payload)
        return op_error("directory", path, payload.error());
    auto whole = request(XS_DIRECTORY, *payload, "directory", path);
    if (whole) {
        auto list = wire::parse_directory(*whole, xs_max_entries);
        if (!list)
            return op_error("directory", path, list.error());
        return list;
    }
    if (whole.error().code != E2BIG)
        return std::move(whole).error();

    // Too long for one message: page with XS_DIRECTORY_PART, starting over
    // when the directory changed between parts (its generation differs).
    for (int attempt = 0; attempt < directory_part_retries; ++attempt) {
        std::string names;
        std::string generation;
        std::size_t entries = 0;
        bool restart = false;
        for (;;) {
            GUARDIAN_TRY_ASSIGN(const std::string part_payload,
                                wire::strings_payload({path, std::to_string(names.size())}));
            auto body = request(XS_DIRECTORY_PART, part_payload, "directory", path);
            if (!body) {
                if (body.error().code == ENOSYS) // a xenstored without DIRECTORY_PART
                    return Error{what("directory", path) + ": listing too long", E2BIG};
                return std::move(body).error();
            }
            auto part = wire::parse_directory_part(*body);
            if (!part)
                return op_error("directory", path, part.error());
            if (names.empty() && generation.empty()) {
                generation = part->generation;
            } else if (part->generation != generation) {
                restart = true;
                break;
            }
            if (part->names.empty() && !part->last)
                return Error{what("directory", path) + ": empty directory part", EPROTO};
            for (char c : part->names)
                entries += c == '\0' ? 1 : 0;
            if (entries > xs_max_entries)
                return Error{what("directory", path) + ": more than " +
                                 std::to_string(xs_max_entries) + " entries",
                             E2BIG};
            names += part->names;
            if (part->last)
                break;
        }
        if (restart)
            continue;
        auto list = wire::parse_directory(names, xs_max_entries);
        if (!list)
            return op_error("directory", path, list.error());
        return list;
    }
    return Error{what("directory", path) + ": kept changing while being listed", EAGAIN};
}

Status XsClient::write(std::string_view path, std::string_view value) {
    auto payload = wire::strings_payload({path}, value);
    if (!payload)
        return op_error("write", path, payload.error());
    // Say what the limit is rather than let xenstored answer E2BIG.
    if (payload->size() > xs_payload_max)
        return Error{what("write", path) + ": value of " + std::to_string(value.size()) +
                         " bytes exceeds the " + std::to_string(xs_payload_max) +
                         "-byte xenstore message limit",
                     E2BIG};
    GUARDIAN_TRY(request(XS_WRITE, *payload, "write", path));
    return ok_status();
}

Status XsClient::remove(std::string_view path) {
    auto payload = wire::strings_payload({path});
    if (!payload)
        return op_error("remove", path, payload.error());
    GUARDIAN_TRY(request(XS_RM, *payload, "remove", path));
    return ok_status();
}

Status XsClient::watch(std::string_view path, std::string_view token) {
    auto payload = wire::strings_payload({path, token});
    if (!payload)
        return op_error("watch", path, payload.error());
    // The registration firing may arrive before the reply: count the token
    // as held first, and give it back if the watch was refused.
    const std::string tok(token);
    ++m_tokens[tok];
    auto r = request(XS_WATCH, *payload, "watch", path);
    if (!r) {
        if (--m_tokens[tok] == 0)
            m_tokens.erase(tok);
        return std::move(r).error();
    }
    return ok_status();
}

Status XsClient::unwatch(std::string_view path, std::string_view token) {
    auto payload = wire::strings_payload({path, token});
    if (!payload)
        return op_error("unwatch", path, payload.error());
    GUARDIAN_TRY(request(XS_UNWATCH, *payload, "unwatch", path));
    const std::string tok(token);
    if (auto it = m_tokens.find(tok); it != m_tokens.end() && --it->second == 0)
        m_tokens.erase(it);
    // Drop what is queued for this watch, as libxenstore's XS_UNWATCH_FILTER.
    std::erase_if(m_queue, [&](const WatchEvent& e) {
        return e.token == token && wire::at_or_below(e.path, path);
    });
    update_signal();
    return ok_status();
}

Result<std::vector<WatchEvent>> XsClient::read_watch_events() {
    if (m_event_error) {
        Error e = std::move(*m_event_error);
        m_event_error.reset();
        update_signal();
        return e;
    }
    // Read what the connection has now, bounded by the queue's size; a
    // partial message stays buffered for the next call.
    while (!m_broken && m_queue.size() < xs_max_entries) {
        auto taken = take_messages(false);
        if (!taken)
            break;
        auto got = read_some();
        if (!got || !*got)
            break;
    }
    if (m_queue.empty() && (m_broken || m_event_error)) {
        Error e = m_broken
                      ? Error{"xenstore read watch events: " + m_broken->message, m_broken->code}
                      : std::move(*m_event_error);
        m_event_error.reset();
        m_broken_reported = m_broken.has_value();
        update_signal();
        return e;
    }
    std::vector<WatchEvent> out(std::make_move_iterator(m_queue.begin()),
                                std::make_move_iterator(m_queue.end()));
    m_queue.clear();
    update_signal();
    return out;
}

namespace {

// Where to connect, in libxenstore's order of preference: xenstored's
// socket (dom0), then the guest device. Linux before 3.14 (xenfs only) has
// /proc/xen/xenbus and no /dev/xen/xenbus.
constexpr const char* k_endpoints[] = {"/run/xenstored/socket", "/var/run/xenstored/socket",
                                       "/dev/xen/xenbus", "/proc/xen/xenbus"};

} // namespace

Result<std::string> xenstore_endpoint(const SystemRoot& root) {
    if (const char* env = std::getenv("XENSTORED_PATH"); env && *env)
        return std::string(env);
    std::error_code ec;
    for (const char* p : k_endpoints)
        if (std::filesystem::exists(root.path(p), ec))
            return root.is_real() ? std::string(p) : root.path(p);
    return Error{"not a Xen guest: no /dev/xen/xenbus and no XENSTORED_PATH", not_xen_code};
}

Result<std::unique_ptr<XenStore>> open_xenstore(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(const std::string endpoint, xenstore_endpoint(root));
    GUARDIAN_TRY_ASSIGN(auto client, XsClient::connect(endpoint));
    return std::unique_ptr<XenStore>(std::move(client));
}

bool is_not_xen(const Error& e) noexcept {
    return e.code == not_xen_code;
}

} // namespace guardian::xen
