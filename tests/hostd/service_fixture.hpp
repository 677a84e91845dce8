// The fixture of guardian-hostd's service tests: the wire-protocol test
// xenstored, a toolstack that introduces and releases domains as xl does
// (toolstack.hpp), a hypervisor port that says what Xen would, a ledger
// file and a clock the test moves.
#pragma once

#include "guardian/hostd/service.hpp"
#include "tests/hostd/toolstack.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <vector>

namespace guardian::test {

class FakeHypervisor final : public hostd::Hypervisor {
public:
    std::map<std::int64_t, hostd::DomainState> states;
    Result<std::map<std::int64_t, hostd::DomainState>> domains() override { return states; }
};

struct HostdService : ::testing::Test {
    TestXenstored xsd;
    test::TempDir dir;
    Toolstack toolstack{xsd, dir.path() / "xen"};
    CapturingLogger log;
    FakeHypervisor hv;
    double clock = 1000;

    hostd::ServiceOptions options() const {
        hostd::ServiceOptions o;
        o.xen_log_dir = toolstack.log_dir().string();
        o.console_excerpt_bytes = 256;
        return o;
    }
    ledger::Ledger open_ledger() {
        auto l = ledger::Ledger::open((dir.path() / "ledger.sqlite").string());
        if (!l)
            throw std::runtime_error(l.error().message);
        return std::move(l).value();
    }
    // Delivers watch events to the service until none came for a while.
    static void pump(xen::XenStore& xs, hostd::Service& s) {
        for (;;) {
            pollfd p{xs.watch_fd(), POLLIN, 0};
            if (::poll(&p, 1, 150) <= 0)
                return;
            auto st = s.on_watch_events();
            ASSERT_TRUE(st) << st.error().message;
        }
    }
    // The toolstack makes domain `d` of VM `uuid_n` (Toolstack::uuid_of)
    // named `name`, the hypervisor runs it, and the service looks.
    void appear(xen::XenStore& xs, hostd::Service& s, std::int64_t d, int uuid_n,
                const std::string& name) {
        hv.states[d] = {};
        toolstack.create(d, Toolstack::uuid_of(uuid_n), name);
        pump(xs, s);
    }
    // Domain `d` of guest `name` shuts down for `reason` (a SHUTDOWN_*
    // code) as the hypervisor and xl report it, then the toolstack
    // destroys it.
    void end_domain(xen::XenStore& xs, hostd::Service& s, std::int64_t d, const std::string& name,
                    unsigned reason) {
        hv.states[d] = {false, true, reason};
        toolstack.shutdown(d, name, reason);
        pump(xs, s);
        toolstack.destroy(d);
        hv.states.erase(d);
    }
    std::vector<std::string> kinds(ledger::Ledger& l, const std::string& guest) {
        auto t = l.timeline(guest);
        EXPECT_TRUE(t);
        std::vector<std::string> out;
        for (const auto& e : t.value_or(std::vector<ledger::TimelineEntry>{}))
            out.push_back(e.kind + (e.kind == "domain-end" ? ":" + e.text : ""));
        return out;
    }
};

} // namespace guardian::test
