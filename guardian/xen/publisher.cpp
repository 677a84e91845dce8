#include "guardian/xen/publisher.hpp"

#include <set>

namespace guardian::xen {
namespace {

// "vbd/51712/features" -> "vbd/51712"; empty for nodes not under vbd/.
std::string vbd_dir(const std::string& node) {
    const std::string prefix = std::string(contract::node::vbd_dir) + "/";
    if (!node.starts_with(prefix))
        return {};
    const auto slash = node.find('/', prefix.size());
    return slash == std::string::npos ? std::string{} : node.substr(0, slash);
}

} // namespace

Result<ReportPublisher::Stats> ReportPublisher::publish(const ReportNodes& nodes) {
    Stats stats;
    // Stale first: a vbd that went away takes its directory with it.
    std::set<std::string> live_vbds;
    for (const auto& [name, value] : nodes)
        if (auto d = vbd_dir(name); !d.empty())
            live_vbds.insert(d);
    std::set<std::string> gone_vbds;
    for (auto it = m_written.begin(); it != m_written.end();) {
        if (nodes.contains(it->first)) {
            ++it;
            continue;
        }
        const std::string d = vbd_dir(it->first);
        if (!d.empty() && !live_vbds.contains(d)) {
            gone_vbds.insert(d);
        } else {
            auto r = m_xs.remove(path(it->first));
            if (!r.ok() && !is_not_found(r.error()))
                return std::move(r).error();
            ++stats.removed;
        }
        it = m_written.erase(it);
    }
    for (const auto& d : gone_vbds) {
        auto r = m_xs.remove(path(d));
        if (!r.ok() && !is_not_found(r.error()))
            return std::move(r).error();
        ++stats.removed;
    }
    // "updated" last, so a reader that sees the new timestamp sees the rest.
    const auto write = [&](const std::string& name, const std::string& value) -> Status {
        const auto it = m_written.find(name);
        if (it != m_written.end() && it->second == value)
            return ok_status();
        GUARDIAN_TRY(m_xs.write(path(name), value));
        m_written[name] = value;
        ++stats.written;
        return ok_status();
    };
    const std::string updated(contract::node::updated);
    for (const auto& [name, value] : nodes)
        if (name != updated)
            GUARDIAN_TRY(write(name, value));
    if (const auto it = nodes.find(updated); it != nodes.end())
        GUARDIAN_TRY(write(it->first, it->second));
    return stats;
}

Status ReportPublisher::publish_freeze_answer(const contract::FreezeAnswer& answer) {
    return publish_freeze_answer(contract::encode(answer));
}

Status ReportPublisher::publish_freeze_answer(const std::string& encoded) {
    return m_xs.write(path(contract::node::freeze), encoded);
}

Status ReportPublisher::publish_incident(const IncidentRecord& record) {
    const std::string state(contract::to_string(contract::DaemonState::incident));
    GUARDIAN_TRY(m_xs.write(path(contract::node::state), state));
    if (auto it = m_written.find(std::string(contract::node::state)); it != m_written.end())
        it->second = state;
    return m_xs.write(path(contract::node::incident), contract::encode_incident(record));
}

Status ReportPublisher::publish_methods(const std::string& methods) {
    if (methods.empty() || methods == m_methods)
        return ok_status();
    GUARDIAN_TRY(m_xs.write(path(contract::node::methods), methods));
    m_methods = methods;
    return ok_status();
}

Status ReportPublisher::publish_boot_report(const std::string& line) {
    // Bounded by its builder (summary_line), as it always was.
    return m_xs.write(path(contract::node::boot_report), line);
}

Result<bool> ReportPublisher::vanished() {
    if (m_written.empty())
        return false;
    // "version" is written first and never removed while we run.
    const std::string version(contract::node::version);
    const std::string probe = m_written.contains(version) ? version : m_written.begin()->first;
    auto r = m_xs.read(path(probe));
    if (r.ok())
        return false;
    if (is_not_found(r.error()))
        return true;
    return std::move(r).error();
}

} // namespace guardian::xen
