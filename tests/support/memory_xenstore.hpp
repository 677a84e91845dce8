// An in-memory xenstore for unit tests: a tree of nodes with the same path
// rules, parent creation, subtree removal and watch semantics as xenstored,
// plus controls a test uses to play dom0 and the toolstack: change the
// domain's home (a restore gives the guest a new domid), re-fire every watch
// (what xs_resume makes xenstored do after a restore) and inject errors.
#pragma once

#include "guardian/util/fd.hpp"
#include "guardian/xen/xenstore.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::test {

class MemoryXenStore final : public xen::XenStore {
public:
    // The guest's home, where relative paths resolve: /local/domain/<domid>.
    explicit MemoryXenStore(unsigned domid = 7);
    MemoryXenStore(const MemoryXenStore&) = delete;
    MemoryXenStore& operator=(const MemoryXenStore&) = delete;
    ~MemoryXenStore() override;

    [[nodiscard]] Result<std::string> read(std::string_view path) override;
    [[nodiscard]] Result<std::vector<std::string>> directory(std::string_view path) override;
    [[nodiscard]] Status write(std::string_view path, std::string_view value) override;
    [[nodiscard]] Status remove(std::string_view path) override;
    [[nodiscard]] Status watch(std::string_view path, std::string_view token) override;
    [[nodiscard]] Status unwatch(std::string_view path, std::string_view token) override;
    [[nodiscard]] int watch_fd() const override;
    [[nodiscard]] Result<std::vector<xen::WatchEvent>> read_watch_events() override;

    // --- test controls -------------------------------------------------------
    // Moves relative paths to /local/domain/<domid> (a restore changes the
    // domid), creating that home node if missing. The rest of the tree is
    // kept: tests decide what the "new" home holds and erase() the old one.
    void set_home(unsigned domid);
    void set_home(std::string absolute_home);
    [[nodiscard]] std::string home() const;
    // Queues one event per registered watch carrying the watched path, as
    // xenstored does when the guest re-registers its watches after a restore.
    void fire_all_watches();
    // Every later operation on exactly this path (absolute or relative, as
    // resolved now) fails with `err` until clear_errors(); no state changes.
    void inject_error(std::string_view path, int err);
    void clear_errors();
    // Writes/removes as dom0 would: same effects and watch events as a guest
    // write, but never subject to injected errors or the value limit.
    void set(std::string_view path, std::string_view value);
    void erase(std::string_view path);
    [[nodiscard]] bool exists(std::string_view path) const;
    [[nodiscard]] std::optional<std::string> value(std::string_view path) const;
    [[nodiscard]] std::size_t pending_events() const;
    [[nodiscard]] std::size_t node_count() const;
    // Number of successful write()/remove() calls made through the port.
    [[nodiscard]] std::size_t write_count() const;

    // xenstored 4.17's quota on one stored node: a 28-byte record header
    // (with one permission) + value + child names must stay below 2048, so a
    // leaf holds at most max_value_size bytes. Larger writes fail ENOSPC.
    static constexpr std::size_t max_node_size = 2048;
    static constexpr std::size_t node_record_overhead = 28;
    static constexpr std::size_t max_value_size = max_node_size - node_record_overhead - 1;

private:
    struct Watch {
        std::string path;     // as given (relative or absolute)
        std::string abs_path; // resolved at registration
        std::string token;
    };

    [[nodiscard]] Result<std::string> resolve(std::string_view path) const;
    [[nodiscard]] std::optional<int> injected(const std::string& abs) const;
    void create_parents(const std::string& abs);
    void do_write(const std::string& abs, std::string_view value);
    void do_remove(const std::string& abs);
    void fire(const std::string& abs, bool recursive);
    void queue_event(xen::WatchEvent ev);
    [[nodiscard]] std::string event_path(const Watch& w, const std::string& abs) const;

    mutable std::mutex m_mutex;
    std::string m_home;
    std::map<std::string, std::string> m_nodes; // absolute path -> value
    std::vector<Watch> m_watches;
    std::deque<xen::WatchEvent> m_events;
    std::map<std::string, int> m_errors;
    std::size_t m_writes = 0;
    Fd m_eventfd;
};

} // namespace guardian::test
