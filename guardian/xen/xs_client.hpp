// XsClient: the XenStore port, guardian's own client of the xenstore wire
// protocol (xs_wire.hpp). In a guest it talks to /dev/xen/xenbus (or
// /proc/xen/xenbus), in dom0 to xenstored's socket, and in tests to
// guardian-test-xenstored through XENSTORED_PATH. It replaces libxenstore,
// whose static archive is built without its reader thread and then fails a
// request when a watch event arrives first (issue 9). Paths are sent as
// given; the server (or the guest kernel) resolves relative ones against the
// domain home, so this class never rewrites a path.
//
// No threads: requests are synchronous, and watch events read while waiting
// for a reply are queued. watch_fd() is an epoll fd over the connection and
// an eventfd that is signalled while that queue is not empty, so an event
// loop wakes for both.
#pragma once

#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/xen/xenstore.hpp"
#include "guardian/xen/xs_wire.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace guardian::xen {

// Largest payload of one xenstore message (XENSTORE_PAYLOAD_MAX): a write's
// path, its NUL and its value must fit together; a read can never return more.
inline constexpr std::size_t xs_payload_max = wire::payload_max;
// Bound on one directory listing and one drain of watch events: far above
// anything a guest's tree holds, low enough that junk cannot exhaust memory.
inline constexpr std::size_t xs_max_entries = 65536;

class XsClient final : public XenStore {
public:
    // Connects to XENSTORED_PATH if set, else to the first endpoint of the
    // real machine (see xenstore_endpoint).
    [[nodiscard]] static Result<std::unique_ptr<XsClient>> open();
    // Connects to `endpoint`: a unix socket (AF_UNIX stream) or a device
    // (opened read-write), told apart by stat; symlinks are followed.
    [[nodiscard]] static Result<std::unique_ptr<XsClient>> connect(const std::string& endpoint);

    XsClient(const XsClient&) = delete;
    XsClient& operator=(const XsClient&) = delete;
    ~XsClient() override;

    [[nodiscard]] Result<std::string> read(std::string_view path) override;
    [[nodiscard]] Result<std::vector<std::string>> directory(std::string_view path) override;
    [[nodiscard]] Status write(std::string_view path, std::string_view value) override;
    [[nodiscard]] Status remove(std::string_view path) override;
    [[nodiscard]] Status watch(std::string_view path, std::string_view token) override;
    // XS_UNWATCH_FILTER's promise: once this returns, no event of that
    // (path, token) already queued is delivered.
    [[nodiscard]] Status unwatch(std::string_view path, std::string_view token) override;
    // Readable while events wait in the connection or in the queue, and once
    // more after the connection was lost (read_watch_events() then says so;
    // after that the fd stays quiet and every call fails).
    [[nodiscard]] int watch_fd() const override { return m_epoll.get(); }
    [[nodiscard]] Result<std::vector<WatchEvent>> read_watch_events() override;

private:
    XsClient(Fd conn, bool is_socket, Fd epoll, Fd event) noexcept;

    // One request: send, then read until its reply; an XS_ERROR reply is an
    // Error with the errno it names. `op` and `path` name it in errors.
    [[nodiscard]] Result<std::string> request(std::uint32_t type, std::string_view payload,
                                              std::string_view op, std::string_view path);
    [[nodiscard]] Status send_all(std::string_view bytes);
    // Reads what the connection has into m_in; false when it has nothing
    // now. EOF and read errors break the connection.
    [[nodiscard]] Result<bool> read_some();
    [[nodiscard]] Status wait_readable();
    // Takes complete messages from m_in: watch events into the queue, the
    // first other message out (the reply), nullopt when none is complete.
    [[nodiscard]] Result<std::optional<wire::Message>> take_messages(bool want_reply);
    void queue_event(wire::Message&& m);
    Error broken(Error e);
    void update_signal();
    [[nodiscard]] Error op_error(std::string_view op, std::string_view path, const Error& e) const;

    Fd m_conn;
    bool m_is_socket = false;
    Fd m_epoll;
    Fd m_event; // eventfd: signalled while m_queue (or an error) waits
    bool m_signalled = false;
    wire::MessageBuffer m_in;
    std::deque<WatchEvent> m_queue;
    std::optional<Error> m_event_error;       // a malformed event, reported once
    std::optional<Error> m_broken;            // the connection is unusable
    bool m_broken_reported = false;           // read_watch_events() said so
    std::map<std::string, unsigned> m_tokens; // watches held per token
    std::uint32_t m_next_req_id = 1;
};

// The XenStore of this machine, or an error. When there is no xenstore at all
// the error says "not a Xen guest" and is_not_xen() is true, so front ends
// can show the non-Xen part instead of failing. `root` is where /dev, /proc
// and /run are looked up (tests point it at a fake tree); XENSTORED_PATH
// wins. The environment is never changed.
[[nodiscard]] Result<std::unique_ptr<XenStore>> open_xenstore(const SystemRoot& root = {});

// The endpoint open_xenstore(root) connects to: XENSTORED_PATH when set, else
// the first of xenstored's socket (/run/xenstored/socket,
// /var/run/xenstored/socket), /dev/xen/xenbus, /proc/xen/xenbus (Linux
// before 3.14 has only the last) that exists under `root` (named as on the
// real machine when root is "/"). What guardiand reports as `xenbus=`.
[[nodiscard]] Result<std::string> xenstore_endpoint(const SystemRoot& root = {});

// True for open_xenstore()'s "there is no xenstore here" error.
[[nodiscard]] bool is_not_xen(const Error& e) noexcept;

} // namespace guardian::xen
