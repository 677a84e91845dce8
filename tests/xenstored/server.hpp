// The connection side of guardian-test-xenstored: unix sockets, the 16-byte
// message framing, request dispatch, watches and the test controls. See
// main.cpp for the command line and the control interface.
#pragma once

#include "tests/xenstored/store.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::test::xenstored {

// xs_wire.h message types (stable protocol numbers).
enum class MsgType : std::uint32_t {
    control = 0,
    directory = 1,
    read = 2,
    get_perms = 3,
    watch = 4,
    unwatch = 5,
    transaction_start = 6,
    transaction_end = 7,
    introduce = 8,
    release = 9,
    get_domain_path = 10,
    write = 11,
    mkdir = 12,
    rm = 13,
    set_perms = 14,
    watch_event = 15,
    error = 16,
    is_domain_introduced = 17,
    resume = 18,
    reset_watches = 21,
    directory_part = 22,
};

inline constexpr std::size_t payload_max = 4096; // XENSTORE_PAYLOAD_MAX
inline constexpr std::size_t header_size = 16;
// dom0 writes below this path are test controls, not nodes (see main.cpp).
inline constexpr std::string_view control_prefix = "/tool/test-xenstored/";

struct Options {
    std::string guest_socket;   // connections here are the guest domain
    std::string control_socket; // connections here are dom0 (may be empty)
    unsigned domid = 7;
    bool verbose = false;
    // Further guest domains, each on its own socket, with homes as xl lays
    // them out (Store::introduce_xl): several guests at once, each under
    // the real guest permissions and quotas.
    struct Guest {
        unsigned domid = 0;
        std::string socket;
    };
    std::vector<Guest> guests;
};

class Server {
public:
    explicit Server(Options options);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    // Serves until SIGTERM/SIGINT; returns the process exit code.
    int run();

private:
    struct Watch {
        std::string path; // as registered (relative or absolute or @special)
        std::string abs;  // resolved against the home at registration/resume
        std::string token;
    };
    struct Connection {
        int fd = -1;
        unsigned domid = 0;
        std::string in;
        std::string out;
        std::vector<Watch> watches;
        bool closing = false;
    };
    struct Header {
        std::uint32_t type = 0;
        std::uint32_t req_id = 0;
        std::uint32_t tx_id = 0;
        std::uint32_t len = 0;
    };

    [[nodiscard]] static std::string home_of(unsigned domid);
    int listen_on(const std::string& path);
    void accept_on(int listen_fd, unsigned domid);
    void on_readable(Connection& c);
    void on_writable(Connection& c);
    void handle(Connection& c, const Header& h, std::string_view payload);
    void reply(Connection& c, const Header& h, std::string_view payload);
    void reply_error(Connection& c, const Header& h, int err);
    static void send(Connection& c, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
                     std::string_view payload);
    void fire(const std::string& abs, bool recursive);
    // @introduceDomain / @releaseDomain to every connection watching it.
    void fire_special(std::string_view name);
    void event(Connection& c, std::string_view path, std::string_view token);
    [[nodiscard]] std::string event_path(const Connection& c, const Watch& w,
                                         const std::string& abs) const;
    // Test control writes under /tool/test-xenstored/ (dom0 only).
    [[nodiscard]] std::optional<int> control(const std::string& abs, std::string_view value);
    void resume(std::optional<unsigned> new_domid);
    void log(const std::string& line) const;

    int do_directory(Connection& c, const Header& h, std::string_view payload);
    int do_directory_part(Connection& c, const Header& h, std::string_view payload);
    int do_read(Connection& c, const Header& h, std::string_view payload);
    int do_write(Connection& c, const Header& h, std::string_view payload);
    int do_mkdir(Connection& c, const Header& h, std::string_view payload);
    int do_rm(Connection& c, const Header& h, std::string_view payload);
    int do_watch(Connection& c, const Header& h, std::string_view payload);
    int do_unwatch(Connection& c, const Header& h, std::string_view payload);

    Options m_options;
    Store m_store;
    unsigned m_guest_domid;
    int m_guest_listen = -1;
    std::map<int, unsigned> m_other_guests; // listening fd -> domid (Options::guests)
    int m_control_listen = -1;
    int m_signal_fd = -1;
    std::uint32_t m_next_tx = 1;
    std::map<int, Connection> m_connections;
};

} // namespace guardian::test::xenstored
