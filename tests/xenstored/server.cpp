#include "tests/xenstored/server.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace guardian::test::xenstored {
namespace {

// A client that stops reading must not make the server grow without bound.
constexpr std::size_t out_limit = 1 << 20;

// The error names the wire protocol carries (xsd_errors in xs_wire.h).
const char* errno_name(int err) {
    switch (err) {
    case EINVAL:
        return "EINVAL";
    case EACCES:
        return "EACCES";
    case EEXIST:
        return "EEXIST";
    case EISDIR:
        return "EISDIR";
    case ENOENT:
        return "ENOENT";
    case ENOMEM:
        return "ENOMEM";
    case ENOSPC:
        return "ENOSPC";
    case EIO:
        return "EIO";
    case ENOTEMPTY:
        return "ENOTEMPTY";
    case ENOSYS:
        return "ENOSYS";
    case EROFS:
        return "EROFS";
    case EBUSY:
        return "EBUSY";
    case EAGAIN:
        return "EAGAIN";
    case EISCONN:
        return "EISCONN";
    case E2BIG:
        return "E2BIG";
    case EPERM:
        return "EPERM";
    default:
        return "EINVAL";
    }
}

std::uint32_t get_u32(const char* p) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof v); // native byte order, as the wire protocol is
    return v;
}

} // namespace

Server::Server(Options options) : m_options(std::move(options)), m_guest_domid(m_options.domid) {
    m_store.introduce(0);
    m_store.introduce(m_guest_domid);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
        throw std::runtime_error("sigprocmask failed");
    m_signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (m_signal_fd < 0)
        throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    std::signal(SIGPIPE, SIG_IGN);
    m_guest_listen = listen_on(m_options.guest_socket);
    for (const Options::Guest& g : m_options.guests) {
        m_store.introduce_xl(g.domid);
        m_other_guests.emplace(listen_on(g.socket), g.domid);
    }
    if (!m_options.control_socket.empty())
        m_control_listen = listen_on(m_options.control_socket);
}

Server::~Server() {
    for (auto& [fd, c] : m_connections)
        ::close(fd);
    for (int fd : {m_guest_listen, m_control_listen, m_signal_fd})
        if (fd >= 0)
            ::close(fd);
    for (const auto& [fd, domid] : m_other_guests)
        ::close(fd);
    ::unlink(m_options.guest_socket.c_str());
    for (const Options::Guest& g : m_options.guests)
        ::unlink(g.socket.c_str());
    if (!m_options.control_socket.empty())
        ::unlink(m_options.control_socket.c_str());
}

std::string Server::home_of(unsigned domid) {
    return "/local/domain/" + std::to_string(domid);
}

void Server::log(const std::string& line) const {
    std::fprintf(stderr, "guardian-test-xenstored: %s\n", line.c_str());
}

int Server::listen_on(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // Bound under a temporary name and renamed (over any old socket file)
    // once listening: the harnesses wait for the path to exist, and a socket
    // file that exists before listen() refuses connections (seen under load:
    // ECONNREFUSED in SetUp).
    const std::string bound = path + ".binding";
    if (bound.size() >= sizeof addr.sun_path)
        throw std::runtime_error("socket path too long: " + bound);
    std::memcpy(addr.sun_path, bound.c_str(), bound.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    ::unlink(bound.c_str());
    // The sockaddr API needs the cast; nothing else in this file does.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 16) != 0 || ::rename(bound.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(bound.c_str());
        throw std::runtime_error("bind/listen " + path + ": " + std::strerror(err));
    }
    return fd;
}

void Server::accept_on(int listen_fd, unsigned domid) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    Connection c;
    c.fd = fd;
    c.domid = domid;
    m_connections.emplace(fd, std::move(c));
    if (m_options.verbose)
        log("connection " + std::to_string(fd) + " as domain " + std::to_string(domid));
}

int Server::run() {
    log("listening on " + m_options.guest_socket + " (domain " + std::to_string(m_guest_domid) +
        ")" + (m_options.control_socket.empty() ? "" : ", control " + m_options.control_socket));
    for (;;) {
        std::vector<pollfd> fds;
        fds.push_back({m_signal_fd, POLLIN, 0});
        fds.push_back({m_guest_listen, POLLIN, 0});
        if (m_control_listen >= 0)
            fds.push_back({m_control_listen, POLLIN, 0});
        for (const auto& [fd, domid] : m_other_guests)
            fds.push_back({fd, POLLIN, 0});
        for (auto& [fd, c] : m_connections) {
            const short ev = static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT));
            fds.push_back({fd, ev, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            log(std::string("poll: ") + std::strerror(errno));
            return 1;
        }
        for (const pollfd& p : fds) {
            if (p.revents == 0)
                continue;
            if (p.fd == m_signal_fd) {
                signalfd_siginfo si{};
                while (::read(m_signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                    if (si.ssi_signo == SIGUSR1) {
                        log("SIGUSR1: resume, re-firing all watches");
                        resume(std::nullopt);
                    } else {
                        log("terminating");
                        return 0;
                    }
                }
            } else if (p.fd == m_guest_listen) {
                accept_on(m_guest_listen, m_guest_domid);
            } else if (p.fd == m_control_listen) {
                accept_on(m_control_listen, 0);
            } else if (auto g = m_other_guests.find(p.fd); g != m_other_guests.end()) {
                accept_on(g->first, g->second);
            } else if (auto it = m_connections.find(p.fd); it != m_connections.end()) {
                if (p.revents & (POLLIN | POLLHUP | POLLERR))
                    on_readable(it->second);
                if (!it->second.closing && (p.revents & POLLOUT))
                    on_writable(it->second);
            }
        }
        // Flush what handlers queued (events for other connections too).
        for (auto& [fd, c] : m_connections)
            if (!c.closing && !c.out.empty())
                on_writable(c);
        for (auto it = m_connections.begin(); it != m_connections.end();) {
            if (it->second.closing) {
                if (m_options.verbose)
                    log("closing connection " + std::to_string(it->first));
                ::close(it->first);
                it = m_connections.erase(it);
            } else {
                ++it;
            }
        }
    }
}

void Server::on_readable(Connection& c) {
    char buf[65536];
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        c.closing = true;
        return;
    }
    if (n < 0)
        return;
    c.in.append(buf, static_cast<std::size_t>(n));
    while (!c.closing && c.in.size() >= header_size) {
        Header h{get_u32(c.in.data()), get_u32(c.in.data() + 4), get_u32(c.in.data() + 8),
                 get_u32(c.in.data() + 12)};
        // xenstored drops a client that announces more than the protocol
        // allows: the stream cannot be resynchronised after a bad length.
        if (h.len > payload_max) {
            log("connection " + std::to_string(c.fd) + ": payload length " + std::to_string(h.len) +
                " > 4096, closing");
            c.closing = true;
            return;
        }
        if (c.in.size() < header_size + h.len)
            return;
        const std::string msg = c.in.substr(header_size, h.len);
        c.in.erase(0, header_size + h.len);
        handle(c, h, msg);
    }
}

void Server::on_writable(Connection& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                c.closing = true;
            return;
        }
        c.out.erase(0, static_cast<std::size_t>(n));
    }
}

void Server::send(Connection& c, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
                  std::string_view payload) {
    if (c.out.size() > out_limit) {
        c.closing = true;
        return;
    }
    const std::uint32_t words[4] = {type, req_id, tx_id,
                                    static_cast<std::uint32_t>(payload.size())};
    char header[header_size];
    std::memcpy(header, words, sizeof header);
    c.out.append(header, sizeof header);
    c.out.append(payload);
}

void Server::reply(Connection& c, const Header& h, std::string_view payload) {
    if (payload.size() > payload_max) {
        reply_error(c, h, E2BIG);
        return;
    }
    send(c, h.type, h.req_id, h.tx_id, payload);
}

void Server::reply_error(Connection& c, const Header& h, int err) {
    const char* name = errno_name(err);
    send(c, static_cast<std::uint32_t>(MsgType::error), h.req_id, h.tx_id,
         std::string_view(name, std::strlen(name) + 1));
}

void Server::event(Connection& c, std::string_view path, std::string_view token) {
    std::string payload(path);
    payload.push_back('\0');
    payload.append(token);
    payload.push_back('\0');
    send(c, static_cast<std::uint32_t>(MsgType::watch_event), 0, 0, payload);
}

std::string Server::event_path(const Connection& c, const Watch& w, const std::string& abs) const {
    if (w.path.empty() || w.path.front() == '/' || w.path.front() == '@')
        return abs;
    const std::string home = home_of(c.domid) + "/";
    return abs.compare(0, home.size(), home) == 0 ? abs.substr(home.size()) : abs;
}

void Server::fire(const std::string& abs, bool recursive) {
    for (auto& [fd, c] : m_connections) {
        for (const Watch& w : c.watches) {
            if (w.abs.front() == '@')
                continue;
            if (at_or_below(abs, w.abs))
                event(c, event_path(c, w, abs), w.token);
            else if (recursive && at_or_below(w.abs, abs))
                event(c, w.path, w.token); // a watch inside a removed subtree
        }
    }
}

void Server::fire_special(std::string_view name) {
    for (auto& [fd, c] : m_connections)
        for (const Watch& w : c.watches)
            if (w.abs == name)
                event(c, name, w.token);
}

void Server::resume(std::optional<unsigned> new_domid) {
    if (new_domid && *new_domid != m_guest_domid) {
        // The old domain is destroyed with its tree; the restored one gets a
        // fresh home that the test filled in through the control socket.
        bool removed = false;
        (void)m_store.remove(0, home_of(m_guest_domid), removed);
        m_store.introduce(*new_domid);
        for (auto& [fd, c] : m_connections)
            if (c.domid == m_guest_domid)
                c.domid = *new_domid;
        m_guest_domid = *new_domid;
    }
    // The guest kernel re-registers every watch (xs_resume); relative ones
    // now resolve under the new home, and each fires once.
    for (auto& [fd, c] : m_connections) {
        if (c.domid != m_guest_domid)
            continue; // dom0, and the other guests (Options::guests), go on
        for (Watch& w : c.watches) {
            if (w.path.front() != '/' && w.path.front() != '@')
                w.abs = home_of(c.domid) + "/" + w.path;
            event(c, w.path, w.token);
        }
    }
}

std::optional<int> Server::control(const std::string& abs, std::string_view value) {
    const std::string cmd = abs.substr(control_prefix.size());
    unsigned domid = 0;
    const bool have_domid = !value.empty();
    if (have_domid) {
        const std::string v(value);
        char* end = nullptr;
        const unsigned long parsed = std::strtoul(v.c_str(), &end, 10);
        if (end == v.c_str() || *end != '\0' || parsed == 0 || parsed > 0x7fef)
            return EINVAL;
        domid = static_cast<unsigned>(parsed);
    }
    if (cmd == "resume") {
        log("control: resume" + (have_domid ? " as domain " + std::to_string(domid) : ""));
        resume(have_domid ? std::optional<unsigned>(domid) : std::nullopt);
        return 0;
    }
    if (cmd == "introduce" && have_domid) {
        m_store.introduce(domid);
        return 0;
    }
    return EINVAL;
}

} // namespace guardian::test::xenstored
