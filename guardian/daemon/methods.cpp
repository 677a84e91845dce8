// Which method each step uses on this kernel and device, chosen at baseline
// time and reported as one journal line and xenstore data/guardian/methods
// (docs/xenstore-schema.md), so the provider sees where a guest runs on a
// fallback: an old kernel without EXT4_IOC_SHUTDOWN, MCL_ONFAULT or the ext4
// sysfs nodes, a device without O_DIRECT, a guest with /proc/xen/xenbus only,
// a kernel without CLOCK_BOOTTIME or TFD_TIMER_CANCEL_ON_SET (sys/clocks) or
// without records in /dev/kmsg (sys/kernel_ring).
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/report.hpp"
#include "guardian/ext4/block_reader.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/util/memory_lock.hpp"
#include "guardian/xen/xs_client.hpp"

namespace guardian::daemon {
namespace {

std::string device_name(const std::string& source) {
    return source.substr(source.rfind('/') + 1);
}

// One value when every guarded filesystem agrees, else "<dev>:<value>,...".
std::string per_fs(const std::vector<GuardedFs>& fss, std::string FsMethods::*field) {
    if (fss.empty())
        return "-";
    bool same = true;
    for (const auto& fs : fss)
        same = same && fs.methods.*field == fss.front().methods.*field;
    if (same)
        return fss.front().methods.*field;
    std::string out;
    for (const auto& fs : fss)
        out += (out.empty() ? "" : ",") + device_name(fs.mount.source) + ":" + fs.methods.*field;
    return out;
}

} // namespace

void Daemon::prepare_protection(GuardedFs& fs) {
    Logger& log = *m_ports.log;
    // The fsck mark: probed now (device writable, journal layout, method).
    // Without one the emergency still stops writes; its mark step records
    // why it could not mark.
    fs.protection.fsck_mark = protect::FsckMarkPlan{};
    fs.protection.fsck_mark.device = fs.mount.source;
    fs.protection.fsck_mark.mount_point = fs.mount.mount_point;
    fs.fsck_prepared = false;
    if (m_settings.config.force_fsck) {
        protect::PlanOptions po;
        po.force_kernel_error_path = m_settings.force_kernel_error_path;
        auto plan =
            protect::plan_fsck_mark(fs.mount.source, fs.mount.mount_point, m_ports.root, po);
        if (plan && !plan->note.empty())
            log.notice("fsck mark for " + fs.mount.source + ": " + plan->note);
        if (plan) {
            fs.protection.fsck_mark = std::move(plan).value();
            fs.fsck_prepared = true;
        } else {
            log.warning("fsck mark for " + fs.mount.source +
                        " cannot be prepared: " + plan.error().message);
        }
    }

    if (!m_settings.config.stop_writes) {
        fs.protection.write_stop.reset();
        fs.methods.shutdown = "off";
    } else if (auto plan = protect::plan_write_stop(fs.mount.source, fs.mount.mount_point,
                                                    fs.mount.super_options, m_ports.root);
               plan) {
        fs.methods.shutdown = std::string(to_string(plan->method));
        if (plan->method == protect::WriteStopMethod::none)
            log.warning("writes to " + fs.mount.mount_point +
                        " cannot be stopped in an emergency: " + plan->why +
                        "; a critical verdict reboots at once (reboot(2), no sync)");
        fs.protection.write_stop.emplace(std::move(plan).value());
    } else {
        // Unknown until the emergency tries: it then attempts the ioctl.
        fs.protection.write_stop.reset();
        fs.methods.shutdown = "unknown";
        log.warning("how to stop writes to " + fs.mount.mount_point +
                    " is unknown: " + plan.error().message);
    }

    if (!m_settings.config.force_fsck)
        fs.methods.fsck_mark = "off";
    else if (fs.fsck_prepared)
        fs.methods.fsck_mark = std::string(to_string(fs.protection.fsck_mark.method));
    else
        fs.methods.fsck_mark = "unavailable";

    if (auto direct = ext4::BlockReader::direct_io_works(fs.mount.source); direct)
        fs.methods.io = *direct ? "direct" : "buffered";
    else
        fs.methods.io = "unknown";
}

unsigned long Daemon::read_errors_count(GuardedFs& fs) {
    auto c = sys::ext4_errors_count(m_ports.root, fs.mount.source);
    if (!c) {
        fs.methods.errors = "unavailable";
        return 0;
    }
    fs.methods.errors = std::string(to_string(c->source));
    return c->count;
}

std::string Daemon::describe_methods() const {
    std::string out = "shutdown=" + per_fs(m_fs, &FsMethods::shutdown);
    out += ";fsck-mark=" + per_fs(m_fs, &FsMethods::fsck_mark);
    out += ";mlock=" + std::string(to_string(memory_lock_method()));
    out += ";io=" + per_fs(m_fs, &FsMethods::io);
    out += ";errors=" + per_fs(m_fs, &FsMethods::errors);
    out += ";clock=" + clock_methods();
    out += ";kmsg=" + std::string(m_kmsg ? m_kmsg->method() : "none");
    if (m_ports.xs) {
        auto endpoint = xen::xenstore_endpoint(m_ports.root);
        out += ";xenbus=" + (endpoint ? *endpoint : std::string("unknown"));
    }
    return bounded_value(out);
}

void Daemon::report_methods() {
    std::string now = describe_methods();
    if (now == m_methods)
        return;
    m_methods = std::move(now);
    m_ports.log->log(Priority::notice, "methods: " + m_methods, {{"GUARDIAN_METHODS", m_methods}});
}

void Daemon::publish_methods() {
    if (!m_publisher)
        return;
    if (auto st = m_publisher->publish_methods(m_methods); !st)
        m_ports.log->warning("publishing " + contract::node_path(contract::node::methods) + ": " +
                             st.error().message);
}

} // namespace guardian::daemon
