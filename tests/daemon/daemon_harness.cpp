#include "tests/daemon/daemon_harness.hpp"

#include "guardian/xen/xs_client.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace guardian::test {
namespace {

std::unique_ptr<xen::XenStore> connect(const std::string& socket) {
    ::setenv("XENSTORED_PATH", socket.c_str(), 1);
    auto c = xen::XsClient::open();
    if (!c)
        throw std::runtime_error("connect " + socket + ": " + c.error().message);
    return std::move(c).value();
}

void must(const Status& st, const std::string& what) {
    if (!st)
        throw std::runtime_error(what + ": " + st.error().message);
}

} // namespace

Guardiand::Guardiand(const std::string& root, const std::string& xenstored_socket,
                     const std::vector<std::pair<std::string, std::string>>& env) {
    m_pid = ::fork();
    if (m_pid == 0) {
        if (xenstored_socket.empty())
            ::unsetenv("XENSTORED_PATH");
        else
            ::setenv("XENSTORED_PATH", xenstored_socket.c_str(), 1);
        for (const auto& [k, v] : env)
            ::setenv(k.c_str(), v.c_str(), 1);
        ::execl(GUARDIAND, GUARDIAND, "--foreground", "--no-mlock", "--root", root.c_str(),
                "--freeze-guard", GUARDIAN_FREEZE_GUARD, static_cast<char*>(nullptr));
        ::_exit(127);
    }
}

Guardiand::~Guardiand() {
    if (m_pid > 0) {
        ::kill(m_pid, SIGTERM);
        ::waitpid(m_pid, nullptr, 0);
    }
}

void Guardiand::kill9() {
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = -1;
}

int Guardiand::terminate() {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
    return status;
}

bool Guardiand::running() {
    if (m_pid <= 0)
        return false;
    if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        return false;
    }
    return true;
}

TestXenstored::TestXenstored() {
    m_guest = (m_dir.path() / "guest.sock").string();
    m_control = (m_dir.path() / "control.sock").string();
    m_pid = ::fork();
    if (m_pid == 0) {
        ::execl(GUARDIAN_TEST_XENSTORED, GUARDIAN_TEST_XENSTORED, "--domid", "7", "--control",
                m_control.c_str(), m_guest.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    for (int i = 0;
         i < 200 && !(std::filesystem::exists(m_guest) && std::filesystem::exists(m_control)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m_dom0 = connect(m_control);
    populate(7, "vbd", blkback_features());
}

TestXenstored::~TestXenstored() {
    m_dom0.reset();
    if (m_pid > 0) {
        ::kill(m_pid, SIGTERM);
        ::waitpid(m_pid, nullptr, 0);
    }
}

std::unique_ptr<xen::XenStore> TestXenstored::connect_guest() const {
    return connect(m_guest);
}

std::map<std::string, std::string> TestXenstored::blkback_features() {
    return {{"feature-barrier", "1"},
            {"feature-flush-cache", "1"},
            {"feature-discard", "0"},
            {"feature-persistent", "1"},
            {"feature-max-indirect-segments", "256"},
            {"max-ring-page-order", "4"},
            {"multi-queue-max-queues", "2"},
            {"sectors", "131072"},
            {"info", "0"},
            {"sector-size", "512"},
            {"physical-sector-size", "512"}};
}

std::map<std::string, std::string> TestXenstored::qdisk_features() {
    // What QEMU's qdisk backend advertises: no persistent grants, no indirect
    // segments, no barrier, no multi-queue (docs/design.md "Seen on the real-Xen rig").
    return {{"feature-flush-cache", "1"},
            {"feature-discard", "0"},
            {"max-ring-page-order", "4"},
            {"sectors", "131072"},
            {"info", "0"},
            {"sector-size", "512"},
            {"physical-sector-size", "512"}};
}

void TestXenstored::populate(unsigned domid, const std::string& kind,
                             const std::map<std::string, std::string>& features,
                             const std::string& frontend_state) {
    const std::string d = std::to_string(domid);
    const std::string home = "/local/domain/" + d;
    const std::string backend = "/local/domain/0/backend/" + kind + "/" + d + "/51712";
    must(m_dom0->write("/tool/test-xenstored/introduce", d), "introduce");
    must(m_dom0->write(home + "/domid", d), "domid");
    must(m_dom0->write(home + "/name", "guest"), "name");
    must(m_dom0->write(home + "/device/vbd/51712/backend", backend), "backend");
    must(m_dom0->write(home + "/device/vbd/51712/backend-id", "0"), "backend-id");
    must(m_dom0->write(home + "/device/vbd/51712/state", frontend_state), "state");
    must(m_dom0->write(home + "/device/vbd/51712/virtual-device", "51712"), "vdev");
    must(m_dom0->write(backend + "/state", "4"), "backend state");
    must(m_dom0->write(backend + "/frontend", home + "/device/vbd/51712"), "frontend");
    for (const auto& [k, v] : features)
        must(m_dom0->write(backend + "/" + k, v), "feature " + k);
}

void TestXenstored::restore_as(unsigned domid) {
    must(m_dom0->write("/tool/test-xenstored/resume", std::to_string(domid)), "resume");
}

std::string TestXenstored::read(const std::string& abs_path) {
    auto v = m_dom0->read(abs_path);
    return v ? *v : std::string("<absent: ") + v.error().message + ">";
}

FakeRoot::FakeRoot() {
    for (const char* d : {"proc", "sys", "dev"})
        std::filesystem::create_directory_symlink(std::string("/") + d, m_dir.path() / d);
    std::filesystem::create_directories(m_dir.path() / "etc/guardian/conf.d");
    std::filesystem::create_directories(m_dir.path() / "run");
    std::filesystem::create_directories(m_dir.path() / "var/lib");
}

void FakeRoot::write_config(const std::string& text) {
    std::ofstream(m_dir.path() / "etc/guardian/guardian.conf") << text;
}

bool pump_until(int fd, const std::function<void()>& pump, const std::function<bool()>& done,
                std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0)
            pump();
    }
    return true;
}

} // namespace guardian::test
