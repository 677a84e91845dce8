#include "guardian/cli/status_prometheus.hpp"

#include "guardian/cli/daemon_state.hpp"

#include "guardian/core/guest_metrics.hpp"
#include "guardian/core/state_file.hpp"
#include "guardian/core/trouble_metrics.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/publish_file.hpp"
#include "guardian/xen/subtree.hpp"
#include "guardian/xen/xs_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace guardian::cli {
namespace {

std::string read_or_empty(xen::XenStore& xs, const std::string& path) {
    auto v = xs.read(path);
    return v ? std::move(v).value() : std::string();
}

// What this guest published in its own data/guardian/ (relative paths resolve
// to its home), plus the labels. Read failures leave fields empty: the
// daemon's state file is the primary source here.
GuestStatus from_xenstore(xen::XenStore& xs) {
    DomainReport own;
    own.domid = read_or_empty(xs, "domid");
    own.name = read_or_empty(xs, "name");
    if (auto nodes = xen::read_summary_nodes(xs, ""); nodes)
        own.nodes = std::move(nodes).value();
    GuestStatus g = guest_status_from_report(own);
    g.uuid = uuid_from_vm_node(read_or_empty(xs, "vm"));
    return g;
}

} // namespace

int run_status_prometheus(const StatusArgs& args) {
    const SystemRoot root(args.root);
    GuestStatus guest;
    if (auto xs = xen::open_xenstore(root); xs)
        guest = from_xenstore(**xs);

    const std::string state_path = root.path(k_state_file);
    std::optional<TroubleSnapshot> trouble; // from a guardiand with the trouble watch
    if (auto content = read_text_file(state_path, 16u << 20); content) {
        auto state = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
        if (state.is_object()) {
            // The version of this package, not the one guardiand published:
            // state.json does not carry it and both come from one package.
            if (guest.version.empty())
                guest.version = GUARDIAN_VERSION;
            guest = guest_status_from_state(state, std::move(guest));
            trouble = decode_state(state).kernel_trouble;
        } else {
            fmt::print(stderr, "guardianctl: {} is not a JSON object; ignored\n", state_path);
        }
    }

    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // The boot history is guardiand's file; read here so the textfile shows
    // it also while guardiand is stopped.
    std::vector<BootEntry> boots;
    if (auto history = read_text_file(root.path(k_boot_history_path), 4u << 20); history)
        boots = decode_boot_history(*history).boots;
    std::string text = render_guest_metrics(guest, now);
    // Only where there is something to say: a guest without guardiand's
    // trouble watch and without a boot history exports no zero series.
    if (trouble || !boots.empty()) {
        const TroubleSnapshot t = trouble.value_or(TroubleSnapshot{});
        text += prometheus::render(trouble_metric_families(t.counts, t.known_bugs, boots));
    }
    if (args.output.empty()) {
        fmt::print("{}", text);
        return k_exit_ok;
    }
    if (auto st = publish_file(args.output, text, 0644); !st) {
        fmt::print(stderr, "guardianctl: {}\n", st.error().message);
        return k_exit_cannot_check;
    }
    return k_exit_ok;
}

} // namespace guardian::cli
