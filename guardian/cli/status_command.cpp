// guardianctl status: what guardian sees on this machine right now. On a Xen
// guest: the vbds and their backend features, the kernel's suspend-safety
// verdict, and what guardiand last published; elsewhere it says so and shows
// the filesystem part.
#include "guardian/cli/commands.hpp"
#include "guardian/cli/daemon_state.hpp"
#include "guardian/cli/status_prometheus.hpp"

#include "guardian/core/domain_report.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "guardian/sys/mounts.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/xen/blkfront_capture.hpp"
#include "guardian/xen/subtree.hpp"
#include "guardian/xen/xs_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace guardian::cli {
namespace {

KernelVerdict verdict_for(const StatusArgs& args, const SystemRoot& root,
                          const sys::KernelInfo& k) {
    auto text = read_text_file(args.risk_table, 4u << 20);
    if (!text)
        return {Safety::unknown, "", "no kernel risk table: " + text.error().message, {}};
    auto table = parse_risk_table(*text);
    if (!table)
        return {Safety::unknown, "", args.risk_table + ": " + table.error().message, {}};
    return judge_kernel(*table, k.release, k.package_version, xen::read_blkfront_module(root));
}

// guardiand's own view from /run/guardian/state.json: into j["guardiand"] and text.
void add_daemon_state(const SystemRoot& root, nlohmann::json& j, std::string& text) {
    const std::string path = root.path(k_state_file);
    auto content = read_text_file(path, 16u << 20);
    if (!content) {
        j["guardiand"] = {{"state_file_present", false}, {"reason", content.error().message}};
        text += fmt::format("guardiand is not running (no {})\n", k_state_file);
        return;
    }
    auto state = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
    if (state.is_discarded() || !state.is_object()) {
        j["guardiand"] = {{"state_file_present", true},
                          {"reason", "state file is not a JSON object"}};
        text += fmt::format("guardiand: {} is unreadable (not a JSON object)\n", k_state_file);
        return;
    }
    j["guardiand"] = {{"state_file_present", true}, {"state", state}};
    text += render_state(state);
}

} // namespace

int run_status(const StatusArgs& args) {
    if (args.prometheus)
        return run_status_prometheus(args);
    const SystemRoot root(args.root);
    nlohmann::json j;
    auto kernel = sys::read_kernel_info(root);
    if (!kernel) {
        fmt::print(stderr, "guardianctl: {}\n", kernel.error().message);
        return k_exit_cannot_check;
    }
    const KernelVerdict v = verdict_for(args, root, *kernel);
    j["version"] = GUARDIAN_VERSION;
    j["kernel"] = {{"release", kernel->release},
                   {"package_version", kernel->package_version.value_or("")},
                   {"suspend_safety", to_string(v.safety)},
                   {"reason", v.reason}};

    std::string text = fmt::format("guardian {}\nkernel {}: suspend {} ({})\n", GUARDIAN_VERSION,
                                   kernel->release, to_string(v.safety), v.reason);
    auto xs = xen::open_xenstore(root);
    if (!xs) {
        j["xen"] = {{"guest", false}, {"reason", xs.error().message}};
        text += fmt::format("xen: not a Xen guest ({})\n", xs.error().message);
    } else {
        nlohmann::json xj{{"guest", true}};
        auto cap = xen::capture_blkfront(**xs, root);
        if (!cap) {
            xj["error"] = cap.error().message;
            text += fmt::format("xen: blkfront capture failed: {}\n", cap.error().message);
        } else {
            xj["domid"] = cap->domid.value_or("");
            text += fmt::format("xen: domid {}, {} vbd(s)\n", cap->domid.value_or("?"),
                                cap->vbds.size());
            nlohmann::json vbds = nlohmann::json::array();
            for (const auto& vbd : cap->vbds) {
                vbds.push_back({{"id", vbd.id},
                                {"device", vbd.device},
                                {"backend", vbd.backend_path},
                                {"state", vbd.frontend_state.value_or("")},
                                {"features", feature_summary(vbd)}});
                text += fmt::format("  vbd {} -> {} backend {} state {}\n    {}\n", vbd.id,
                                    vbd.device.empty() ? "?" : vbd.device, vbd.backend_path,
                                    vbd.frontend_state.value_or("?"), feature_summary(vbd));
            }
            xj["vbds"] = vbds;
        }
        DomainReport own;
        if (auto nodes = xen::read_subtree(**xs, std::string(contract::node::base)); nodes)
            own.nodes = std::move(nodes).value();
        xj["published"] = own.nodes;
        const contract::DecodedReport r = own.decoded();
        const auto or_else = [](const std::string& value, const char* fallback) {
            return value.empty() ? std::string(fallback) : value;
        };
        if (r.present)
            text +=
                fmt::format("guardiand: state {}; last restore: {}; last verification: {}\n",
                            or_else(own.nodes[std::string(contract::node::state)], "?"),
                            or_else(r.last_restore, "none"), or_else(r.last_verification, "none"));
        else
            text += "guardiand: nothing published in " + std::string(contract::node::base) +
                    "/ (not running?)\n";
        j["xen"] = xj;
    }

    add_daemon_state(root, j, text);

    nlohmann::json fs = nlohmann::json::array();
    if (auto mounts = sys::read_mounts(root); mounts) {
        text += "filesystems:\n";
        for (const auto& m : sys::mounted_ext_filesystems(*mounts)) {
            fs.push_back(
                {{"source", m.source}, {"mount_point", m.mount_point}, {"type", m.fs_type}});
            text += fmt::format("  {} on {} ({})\n", m.source, m.mount_point, m.fs_type);
        }
    }
    j["filesystems"] = fs;
    if (args.json)
        fmt::print("{}\n", j.dump(1));
    else
        fmt::print("{}", text);
    return k_exit_ok;
}

} // namespace guardian::cli
