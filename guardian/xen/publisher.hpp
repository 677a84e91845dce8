// Keeps data/guardian/ in xenstore equal to the report built by
// guardian/core/report.*: writes only nodes whose value changed, removes
// nodes that are no longer in the report (a vbd that went away), and writes
// everything again after a restore (a restore does not carry data/ over).
#pragma once

#include "guardian/core/report.hpp"
#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <string>

namespace guardian::xen {

class ReportPublisher {
public:
    // base: where the report lives, relative to the domain's home.
    explicit ReportPublisher(XenStore& xs, std::string base = "data/guardian")
        : m_xs(xs), m_base(std::move(base)) {}

    struct Stats {
        std::size_t written = 0;
        std::size_t removed = 0;
    };
    [[nodiscard]] Result<Stats> publish(const ReportNodes& nodes);

    // Forget what was written: the next publish() writes every node.
    void invalidate() { m_written.clear(); }

    // True when a node this publisher wrote is gone from xenstore (the
    // restore signal "data/guardian/ vanished"). False before the first publish.
    [[nodiscard]] Result<bool> vanished();

    [[nodiscard]] const std::string& base() const { return m_base; }

private:
    XenStore& m_xs;
    std::string m_base;
    ReportNodes m_written; // what xenstore holds, as far as we know
};

} // namespace guardian::xen
