#include "guardian/core/blkfront.hpp"

#include <algorithm>
#include <set>

namespace guardian {
namespace {

std::string show(const std::optional<std::string>& v) {
    return v ? *v : "absent";
}
std::string show_compact(const std::optional<std::string>& v) {
    return v ? *v : "-";
}

void compare_values(std::vector<CaptureChange>& out, ChangeKind kind, const std::string& vbd,
                    const KeyValues& a, const KeyValues& b) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a)
        keys.insert(k);
    for (const auto& [k, v] : b)
        keys.insert(k);
    for (const auto& k : keys) {
        const auto ia = a.find(k);
        const auto ib = b.find(k);
        const std::optional<std::string> va = ia == a.end() ? std::nullopt : ia->second;
        const std::optional<std::string> vb = ib == b.end() ? std::nullopt : ib->second;
        if (va != vb)
            out.push_back({kind, vbd, k, va, vb});
    }
}

} // namespace

const std::vector<std::string>& blkfront_backend_keys() {
    static const std::vector<std::string> keys{
        "feature-barrier",
        "feature-flush-cache",
        "feature-discard",
        "discard-granularity",
        "discard-alignment",
        "discard-secure",
        "feature-persistent",
        "feature-max-indirect-segments",
        "max-ring-page-order",
        "multi-queue-max-queues",
        "sectors",
        "info",
        "sector-size",
        "physical-sector-size",
    };
    return keys;
}

const std::vector<std::string>& blkfront_frontend_keys() {
    static const std::vector<std::string> keys{
        "ring-ref", "event-channel",      "multi-queue-num-queues", "ring-page-order",
        "protocol", "feature-persistent", "virtual-device",         "device-type",
    };
    return keys;
}

const VbdCapture* BlkfrontCapture::find(std::string_view id) const {
    for (const auto& v : vbds)
        if (v.id == id)
            return &v;
    return nullptr;
}

std::string_view to_string(ChangeKind k) noexcept {
    switch (k) {
    case ChangeKind::domid:
        return "domid";
    case ChangeKind::unique_domain_id:
        return "unique-domain-id";
    case ChangeKind::vbd_added:
        return "vbd-added";
    case ChangeKind::vbd_removed:
        return "vbd-removed";
    case ChangeKind::backend_path:
        return "backend-path";
    case ChangeKind::frontend_state:
        return "frontend-state";
    case ChangeKind::backend_state:
        return "backend-state";
    case ChangeKind::backend_feature:
        return "backend-feature";
    case ChangeKind::frontend_key:
        return "frontend-key";
    case ChangeKind::device:
        return "device";
    case ChangeKind::size:
        return "size";
    }
    return "unknown";
}

std::string CaptureChange::describe() const {
    const std::string arrow = show(before) + " -> " + show(after);
    switch (kind) {
    case ChangeKind::domid:
        return "domid: " + arrow;
    case ChangeKind::unique_domain_id:
        return "unique-domain-id: " + arrow;
    case ChangeKind::vbd_added:
        return "vbd " + vbd + " added (backend " + show(after) + ")";
    case ChangeKind::vbd_removed:
        return "vbd " + vbd + " removed (backend " + show(before) + ")";
    case ChangeKind::backend_path:
        return "vbd " + vbd + " backend path moved: " + arrow;
    case ChangeKind::frontend_state:
        return "vbd " + vbd + " frontend state: " + arrow;
    case ChangeKind::backend_state:
        return "vbd " + vbd + " backend state: " + arrow;
    case ChangeKind::backend_feature:
        return "vbd " + vbd + " backend " + key + ": " + arrow;
    case ChangeKind::frontend_key:
        return "vbd " + vbd + " frontend " + key + ": " + arrow;
    case ChangeKind::device:
        return "vbd " + vbd + " device: " + arrow;
    case ChangeKind::size:
        return "vbd " + vbd + " size in sectors: " + arrow;
    }
    return "unknown change";
}

std::string CaptureChange::compact() const {
    const std::string arrow = show_compact(before) + "->" + show_compact(after);
    if (vbd.empty())
        return std::string(to_string(kind)) + " " + arrow;
    switch (kind) {
    case ChangeKind::vbd_added:
    case ChangeKind::vbd_removed:
        return "vbd/" + vbd + " " + std::string(to_string(kind));
    case ChangeKind::backend_feature:
    case ChangeKind::frontend_key:
        return "vbd/" + vbd + "/" + key + " " + arrow;
    default:
        return "vbd/" + vbd + "/" + std::string(to_string(kind)) + " " + arrow;
    }
}

std::vector<CaptureChange> compare(const BlkfrontCapture& before, const BlkfrontCapture& after) {
    std::vector<CaptureChange> out;
    if (before.domid != after.domid)
        out.push_back({ChangeKind::domid, "", "domid", before.domid, after.domid});
    if (before.unique_domain_id != after.unique_domain_id)
        out.push_back({ChangeKind::unique_domain_id, "", "unique-domain-id",
                       before.unique_domain_id, after.unique_domain_id});
    std::set<std::string> ids;
    for (const auto& v : before.vbds)
        ids.insert(v.id);
    for (const auto& v : after.vbds)
        ids.insert(v.id);
    for (const auto& id : ids) {
        const VbdCapture* a = before.find(id);
        const VbdCapture* b = after.find(id);
        if (!a) {
            out.push_back({ChangeKind::vbd_added, id, "", std::nullopt, b->backend_path});
            continue;
        }
        if (!b) {
            out.push_back({ChangeKind::vbd_removed, id, "", a->backend_path, std::nullopt});
            continue;
        }
        if (a->backend_path != b->backend_path)
            out.push_back(
                {ChangeKind::backend_path, id, "backend", a->backend_path, b->backend_path});
        if (a->frontend_state != b->frontend_state)
            out.push_back(
                {ChangeKind::frontend_state, id, "state", a->frontend_state, b->frontend_state});
        if (a->backend_state != b->backend_state)
            out.push_back(
                {ChangeKind::backend_state, id, "state", a->backend_state, b->backend_state});
        compare_values(out, ChangeKind::backend_feature, id, a->backend_features,
                       b->backend_features);
        compare_values(out, ChangeKind::frontend_key, id, a->frontend_keys, b->frontend_keys);
        if (a->device != b->device)
            out.push_back({ChangeKind::device, id, "device", a->device, b->device});
        if (a->size_sectors != b->size_sectors) {
            const auto s = [](const std::optional<std::uint64_t>& v) {
                return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
            };
            out.push_back({ChangeKind::size, id, "size", s(a->size_sectors), s(b->size_sectors)});
        }
    }
    return out;
}

std::vector<std::string> changed_feature_keys(const std::vector<CaptureChange>& changes) {
    std::vector<std::string> keys;
    for (const auto& c : changes)
        if (c.kind == ChangeKind::backend_feature &&
            std::find(keys.begin(), keys.end(), c.key) == keys.end())
            keys.push_back(c.key);
    return keys;
}

bool persistent_grants_newly_offered(const std::vector<CaptureChange>& changes) {
    const auto on = [](const std::optional<std::string>& v) { return v && *v == "1"; };
    return std::any_of(changes.begin(), changes.end(), [&](const CaptureChange& c) {
        return c.kind == ChangeKind::backend_feature && c.key == "feature-persistent" &&
               !on(c.before) && on(c.after);
    });
}

std::string feature_summary(const VbdCapture& vbd) {
    // Values from xenstore are untrusted: cut each one, and replace anything
    // that would break the space-separated format.
    constexpr std::size_t max_value = 40;
    std::string out;
    for (const auto& key : blkfront_backend_keys()) {
        const auto it = vbd.backend_features.find(key);
        std::string value = "-";
        if (it != vbd.backend_features.end() && it->second) {
            value = it->second->substr(0, max_value);
            for (char& c : value)
                if (c == ' ' || c == '=' || static_cast<unsigned char>(c) < 0x20 ||
                    static_cast<unsigned char>(c) > 0x7e)
                    c = '_';
            if (value.empty())
                value = "\"\"";
        }
        if (!out.empty())
            out += ' ';
        out += key + "=" + value;
    }
    return out;
}

} // namespace guardian
