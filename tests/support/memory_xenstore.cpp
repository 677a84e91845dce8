#include "tests/support/memory_xenstore.hpp"
#include "tests/support/xs_path_rules.hpp"

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace guardian::test {
namespace {

// True when `path` is `base` or lies below it.
bool at_or_below(std::string_view path, std::string_view base) {
    if (base == "/")
        return true;
    if (path.size() < base.size() || path.substr(0, base.size()) != base)
        return false;
    return path.size() == base.size() || path[base.size()] == '/';
}

Error xs_error(int err, std::string_view op, std::string_view path) {
    return Error::from_errno("xenstore " + std::string(op) + " " + std::string(path), err);
}

} // namespace

MemoryXenStore::MemoryXenStore(unsigned domid) : m_home("/local/domain/" + std::to_string(domid)) {
    m_nodes.emplace("/", "");
    // The toolstack creates the domain's home before the guest runs.
    create_parents(m_home + "/x");
    m_eventfd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!m_eventfd.valid())
        throw std::runtime_error("MemoryXenStore: eventfd failed");
}

MemoryXenStore::~MemoryXenStore() = default;

Result<std::string> MemoryXenStore::resolve(std::string_view path) const {
    if (path.empty() || !xs_valid_chars(path) || path.find("//") != std::string_view::npos ||
        (path.size() > 1 && path.back() == '/') || path.front() == '@')
        return Error{"xenstore: invalid path '" + std::string(path) + "'", EINVAL};
    if (path.front() == '/')
        return std::string(path);
    return m_home + "/" + std::string(path);
}

std::optional<int> MemoryXenStore::injected(const std::string& abs) const {
    if (auto it = m_errors.find(abs); it != m_errors.end())
        return it->second;
    return std::nullopt;
}

Result<std::string> MemoryXenStore::read(std::string_view path) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "read", path);
    auto it = m_nodes.find(abs);
    if (it == m_nodes.end())
        return xs_error(ENOENT, "read", path);
    return it->second;
}

Result<std::vector<std::string>> MemoryXenStore::directory(std::string_view path) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "directory", path);
    if (!m_nodes.contains(abs))
        return xs_error(ENOENT, "directory", path);
    const std::string prefix = abs == "/" ? "/" : abs + "/";
    std::vector<std::string> children;
    for (auto it = m_nodes.lower_bound(prefix); it != m_nodes.end(); ++it) {
        const std::string& p = it->first;
        if (p.compare(0, prefix.size(), prefix) != 0)
            break;
        if (p.size() > prefix.size() && p.find('/', prefix.size()) == std::string::npos)
            children.push_back(p.substr(prefix.size()));
    }
    return children;
}

Status MemoryXenStore::write(std::string_view path, std::string_view value) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "write", path);
    // xenstored refuses a guest's node whose stored record (header, one
    // permission, value, child names) reaches 2048 bytes.
    std::size_t children = 0;
    const std::string prefix = abs + "/";
    for (auto it = m_nodes.lower_bound(prefix);
         it != m_nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        if (it->first.find('/', prefix.size()) == std::string::npos)
            children += it->first.size() - prefix.size() + 1;
    if (node_record_overhead + value.size() + children >= max_node_size)
        return xs_error(ENOSPC, "write", path);
    do_write(abs, value);
    ++m_writes;
    return ok_status();
}

Status MemoryXenStore::remove(std::string_view path) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "remove", path);
    if (abs == "/")
        return xs_error(EINVAL, "remove", path);
    // xenstored: removing a missing node is fine when its parent exists.
    if (!m_nodes.contains(abs))
        return m_nodes.contains(xs_parent_of(abs)) ? ok_status() : xs_error(ENOENT, "remove", path);
    do_remove(abs);
    ++m_writes;
    return ok_status();
}

Status MemoryXenStore::watch(std::string_view path, std::string_view token) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "watch", path);
    for (const Watch& w : m_watches)
        if (w.path == path && w.token == token)
            return xs_error(EEXIST, "watch", path);
    m_watches.push_back(Watch{std::string(path), abs, std::string(token)});
    // xenstored fires a new watch once, with the path as it was given.
    queue_event(xen::WatchEvent{std::string(path), std::string(token)});
    return ok_status();
}

Status MemoryXenStore::unwatch(std::string_view path, std::string_view token) {
    std::lock_guard lock(m_mutex);
    GUARDIAN_TRY_ASSIGN(const std::string abs, resolve(path));
    if (auto err = injected(abs))
        return xs_error(*err, "unwatch", path);
    for (auto it = m_watches.begin(); it != m_watches.end(); ++it) {
        if (it->path == path && it->token == token) {
            m_watches.erase(it);
            // Like libxenstore with XS_UNWATCH_FILTER: queued events of this
            // watch are dropped, so nothing arrives after unwatch returns.
            std::erase_if(m_events, [&](const xen::WatchEvent& ev) {
                return ev.token == token && at_or_below(ev.path, path);
            });
            return ok_status();
        }
    }
    return xs_error(ENOENT, "unwatch", path);
}

int MemoryXenStore::watch_fd() const {
    return m_eventfd.get();
}

Result<std::vector<xen::WatchEvent>> MemoryXenStore::read_watch_events() {
    std::lock_guard lock(m_mutex);
    std::vector<xen::WatchEvent> out(std::make_move_iterator(m_events.begin()),
                                     std::make_move_iterator(m_events.end()));
    m_events.clear();
    std::uint64_t count = 0;
    // Resets the eventfd counter; EAGAIN (already zero) is fine.
    [[maybe_unused]] auto n = ::read(m_eventfd.get(), &count, sizeof count);
    return out;
}

// Missing parents are created empty; like xenstored, only the written node
// fires watches (a watch on a new parent sees that path, being above it).
void MemoryXenStore::create_parents(const std::string& abs) {
    for (std::string p = xs_parent_of(abs); !m_nodes.contains(p); p = xs_parent_of(p))
        m_nodes.emplace(p, "");
}

void MemoryXenStore::do_write(const std::string& abs, std::string_view value) {
    create_parents(abs);
    m_nodes[abs] = std::string(value);
    fire(abs, false);
}

void MemoryXenStore::do_remove(const std::string& abs) {
    const std::string prefix = abs + "/";
    m_nodes.erase(abs);
    for (auto it = m_nodes.lower_bound(prefix);
         it != m_nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
        it = m_nodes.erase(it);
    fire(abs, true);
}

std::string MemoryXenStore::event_path(const Watch& w, const std::string& abs) const {
    // A watch registered with a relative path gets relative event paths.
    if (!w.path.empty() && w.path.front() != '/' && abs.size() > m_home.size() + 1 &&
        abs.compare(0, m_home.size() + 1, m_home + "/") == 0)
        return abs.substr(m_home.size() + 1);
    return abs;
}

void MemoryXenStore::fire(const std::string& abs, bool recursive) {
    for (const Watch& w : m_watches) {
        if (at_or_below(abs, w.abs_path))
            queue_event(xen::WatchEvent{event_path(w, abs), w.token});
        else if (recursive && at_or_below(w.abs_path, abs))
            // Removing a subtree fires watches set inside it (xenstored does).
            queue_event(xen::WatchEvent{w.path, w.token});
    }
}

void MemoryXenStore::queue_event(xen::WatchEvent ev) {
    m_events.push_back(std::move(ev));
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_eventfd.get(), &one, sizeof one);
}

void MemoryXenStore::set_home(unsigned domid) {
    set_home("/local/domain/" + std::to_string(domid));
}

void MemoryXenStore::set_home(std::string absolute_home) {
    std::lock_guard lock(m_mutex);
    m_home = std::move(absolute_home);
    create_parents(m_home + "/x"); // a restored domain's home exists too
}

std::string MemoryXenStore::home() const {
    std::lock_guard lock(m_mutex);
    return m_home;
}

void MemoryXenStore::fire_all_watches() {
    std::lock_guard lock(m_mutex);
    for (const Watch& w : m_watches)
        queue_event(xen::WatchEvent{w.path, w.token});
}

void MemoryXenStore::inject_error(std::string_view path, int err) {
    std::lock_guard lock(m_mutex);
    auto abs = resolve(path);
    if (!abs)
        throw std::invalid_argument("inject_error: " + abs.error().message);
    m_errors[*abs] = err;
}

void MemoryXenStore::clear_errors() {
    std::lock_guard lock(m_mutex);
    m_errors.clear();
}

void MemoryXenStore::set(std::string_view path, std::string_view value) {
    std::lock_guard lock(m_mutex);
    auto abs = resolve(path);
    if (!abs)
        throw std::invalid_argument("MemoryXenStore::set: " + abs.error().message);
    do_write(*abs, value);
}

void MemoryXenStore::erase(std::string_view path) {
    std::lock_guard lock(m_mutex);
    auto abs = resolve(path);
    if (!abs)
        throw std::invalid_argument("MemoryXenStore::erase: " + abs.error().message);
    if (m_nodes.contains(*abs) && *abs != "/")
        do_remove(*abs);
}

bool MemoryXenStore::exists(std::string_view path) const {
    std::lock_guard lock(m_mutex);
    auto abs = resolve(path);
    return abs && m_nodes.contains(*abs);
}

std::optional<std::string> MemoryXenStore::value(std::string_view path) const {
    std::lock_guard lock(m_mutex);
    auto abs = resolve(path);
    if (!abs)
        return std::nullopt;
    auto it = m_nodes.find(*abs);
    if (it == m_nodes.end())
        return std::nullopt;
    return it->second;
}

std::size_t MemoryXenStore::pending_events() const {
    std::lock_guard lock(m_mutex);
    return m_events.size();
}

std::size_t MemoryXenStore::node_count() const {
    std::lock_guard lock(m_mutex);
    return m_nodes.size();
}

std::size_t MemoryXenStore::write_count() const {
    std::lock_guard lock(m_mutex);
    return m_writes;
}

} // namespace guardian::test
