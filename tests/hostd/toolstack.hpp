// What the toolstack (xl/libxl) does to xenstore when a domain comes and
// goes, against the wire-protocol test xenstored: writes the domain's nodes
// (vm, name), then XS_INTRODUCE (xenstored fires @introduceDomain); at the
// end XS_RELEASE (@releaseDomain) and `rm /local/domain/N`. Also xl's own
// per-domain log and xenconsoled's console log, in a directory of its own.
#pragma once

#include "tests/xen/xenstore_server_fixture.hpp"

#include <cstdint>
#include <fstream>
#include <string>

namespace guardian::test {

class Toolstack {
public:
    Toolstack(TestXenstored& xsd, std::filesystem::path log_dir)
        : m_xs(xsd.dom0()), m_raw(connect_unix(xsd.control_socket())), m_logs(std::move(log_dir)) {
        std::filesystem::create_directories(m_logs / "console");
    }
    ~Toolstack() { ::close(m_raw); }
    Toolstack(const Toolstack&) = delete;
    Toolstack& operator=(const Toolstack&) = delete;

    static std::string uuid_of(int n) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "3f1a2b4c-0000-4000-8000-%012d", n);
        return buf;
    }

    void create(std::int64_t domid, const std::string& uuid, const std::string& name) {
        const std::string home = "/local/domain/" + std::to_string(domid);
        must(m_xs->write(home + "/vm", "/vm/" + uuid));
        must(m_xs->write(home + "/name", name));
        request(8, std::to_string(domid) + '\0' + "1234" + '\0' + "5" + '\0');
    }
    // The domain shut down (xenstored notices and fires @releaseDomain);
    // xl logs the reason; the tree stays until destroy().
    void shutdown(std::int64_t domid, const std::string& name, unsigned reason) {
        std::ofstream(m_logs / ("xl-" + name + ".log"), std::ios::app)
            << "Domain " << domid << " has shut down, reason code " << reason << " 0x" << reason
            << "\n";
        request(9, std::to_string(domid) + '\0');
    }
    void destroy(std::int64_t domid) {
        must(m_xs->remove("/local/domain/" + std::to_string(domid)));
        request(9, std::to_string(domid) + '\0');
    }
    void console(const std::string& name, const std::string& text) {
        std::ofstream(m_logs / "console" / ("guest-" + name + ".log"), std::ios::app) << text;
    }
    [[nodiscard]] const std::filesystem::path& log_dir() const { return m_logs; }

private:
    static void must(const Status& st) {
        if (!st)
            throw std::runtime_error(st.error().message);
    }
    // One raw request on the dom0 socket; throws unless the reply is OK.
    void request(std::uint32_t type, const std::string& payload) {
        const std::uint32_t header[4] = {type, ++m_req, 0,
                                         static_cast<std::uint32_t>(payload.size())};
        std::string msg(reinterpret_cast<const char*>(header), sizeof header);
        msg += payload;
        if (::write(m_raw, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size()))
            throw std::runtime_error("toolstack: short write");
        std::uint32_t reply[4];
        if (::recv(m_raw, reply, sizeof reply, MSG_WAITALL) != static_cast<ssize_t>(sizeof reply))
            throw std::runtime_error("toolstack: no reply");
        std::string body(reply[3], '\0');
        if (reply[3] > 0 && ::recv(m_raw, body.data(), body.size(), MSG_WAITALL) !=
                                static_cast<ssize_t>(body.size()))
            throw std::runtime_error("toolstack: short reply");
        if (reply[0] != type)
            throw std::runtime_error("toolstack: request " + std::to_string(type) +
                                     " failed: " + body);
    }

    std::unique_ptr<xen::XsClient> m_xs;
    int m_raw;
    std::filesystem::path m_logs;
    std::uint32_t m_req = 0;
};

} // namespace guardian::test
