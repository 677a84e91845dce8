// The one writer of the guest's data/guardian/ (the contract:
// guardian/core/guest_contract.hpp). The report built by
// guardian/core/report.* is kept equal to what xenstore holds: only nodes
// whose value changed are written, nodes no longer in the report are removed
// (a vbd that went away), and everything is written again after a restore (a
// restore does not carry data/ over). The nodes outside the report (the
// freeze answer, the incident, the methods, the boot report) are written
// here too, each from its typed value.
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "guardian/core/incident.hpp"
#include "guardian/core/report.hpp"
#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <string>

namespace guardian::xen {

class ReportPublisher {
public:
    // base: where the report lives, relative to the domain's home.
    explicit ReportPublisher(XenStore& xs, std::string base = std::string(contract::node::base))
        : m_xs(xs), m_base(std::move(base)) {}

    struct Stats {
        std::size_t written = 0;
        std::size_t removed = 0;
    };
    [[nodiscard]] Result<Stats> publish(const ReportNodes& nodes);
    [[nodiscard]] Result<Stats> publish(const ReportInput& report) {
        return publish(build_report(report));
    }

    // The coordinated-freeze answer (data/guardian/freeze).
    [[nodiscard]] Status publish_freeze_answer(const contract::FreezeAnswer& answer);
    [[nodiscard]] Status publish_freeze_answer(const std::string& encoded);
    // The critical verdict: state "incident" and its reason, written whether
    // or not they were written before (called again when steps timed out).
    [[nodiscard]] Status publish_incident(const IncidentRecord& record);
    // data/guardian/methods, when it changed since the last write.
    [[nodiscard]] Status publish_methods(const std::string& methods);
    // One bounded line per boot (guardiand --boot-report).
    [[nodiscard]] Status publish_boot_report(const std::string& line);

    // Forget what was written: the next publish() writes every node.
    void invalidate() {
        m_written.clear();
        m_methods.clear();
    }

    // True when a node this publisher wrote is gone from xenstore (the
    // restore signal "data/guardian/ vanished"). False before the first publish.
    [[nodiscard]] Result<bool> vanished();

    [[nodiscard]] const std::string& base() const { return m_base; }

private:
    [[nodiscard]] std::string path(std::string_view name) const {
        return m_base + "/" + std::string(name);
    }

    XenStore& m_xs;
    std::string m_base;
    ReportNodes m_written; // what xenstore holds, as far as we know
    std::string m_methods; // last methods value written
};

} // namespace guardian::xen
