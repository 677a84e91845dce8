#include "guardian/xen/blkfront_capture.hpp"

#include "guardian/util/fd.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

namespace guardian::xen {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_value = 256; // longer values are cut: nothing we read needs more
constexpr std::size_t k_max_queues = 16; // multi-queue-num-queues is at most the vCPU count

bool all_digits(std::string_view s) {
    return !s.empty() && s.size() <= 10 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Block device names in sysfs: "xvda", "xvdaa1"; no path tricks.
bool plain_name(std::string_view s) {
    return !s.empty() && s.size() <= 32 && s != "." && s != ".." &&
           s.find('/') == std::string_view::npos;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0'))
        s.pop_back();
    return s;
}

// A key that may be absent: nullopt when it is, an error when reading failed.
Result<std::optional<std::string>> read_optional(XenStore& xs, const std::string& path) {
    auto r = xs.read(path);
    if (!r.ok()) {
        if (is_not_found(r.error()))
            return std::optional<std::string>{};
        return std::move(r).error();
    }
    std::string v = std::move(r).value();
    if (v.size() > k_max_value)
        v.resize(k_max_value);
    return std::optional<std::string>{std::move(v)};
}

Result<std::vector<std::string>> list_optional(XenStore& xs, const std::string& path) {
    auto r = xs.directory(path);
    if (!r.ok()) {
        if (is_not_found(r.error()))
            return std::vector<std::string>{};
        return std::move(r).error();
    }
    return std::move(r).value();
}

bool wanted_frontend_key(const std::string& key) {
    const auto& keys = blkfront_frontend_keys();
    return key.starts_with("ring-ref") || key.starts_with("event-channel") ||
           std::find(keys.begin(), keys.end(), key) != keys.end();
}

Status read_frontend_keys(XenStore& xs, VbdCapture& vbd) {
    GUARDIAN_TRY_ASSIGN(const auto names, list_optional(xs, vbd.frontend_path));
    std::size_t queues = 0;
    for (const auto& name : names) {
        if (name.starts_with("queue-") && all_digits(name.substr(6)) && queues < k_max_queues) {
            ++queues;
            GUARDIAN_TRY_ASSIGN(const auto sub, list_optional(xs, vbd.frontend_path + "/" + name));
            for (const auto& key : sub) {
                if (!wanted_frontend_key(key))
                    continue;
                GUARDIAN_TRY_ASSIGN(auto v,
                                    read_optional(xs, vbd.frontend_path + "/" + name + "/" + key));
                vbd.frontend_keys[name + "/" + key] = std::move(v);
            }
            continue;
        }
        if (!wanted_frontend_key(name) || vbd.frontend_keys.size() >= 64)
            continue;
        GUARDIAN_TRY_ASSIGN(auto v, read_optional(xs, vbd.frontend_path + "/" + name));
        vbd.frontend_keys[name] = std::move(v);
    }
    return ok_status();
}

Result<VbdCapture> capture_vbd(XenStore& xs, const std::string& id) {
    VbdCapture vbd;
    vbd.id = id;
    vbd.frontend_path = "device/vbd/" + id;
    GUARDIAN_TRY_ASSIGN(const auto backend, read_optional(xs, vbd.frontend_path + "/backend"));
    GUARDIAN_TRY_ASSIGN(const auto backend_id,
                        read_optional(xs, vbd.frontend_path + "/backend-id"));
    GUARDIAN_TRY_ASSIGN(vbd.frontend_state, read_optional(xs, vbd.frontend_path + "/state"));
    vbd.backend_path = backend.value_or("");
    vbd.backend_id = backend_id.value_or("");
    GUARDIAN_TRY(read_frontend_keys(xs, vbd));
    // A backend path is an absolute xenstore path; anything else is not read.
    const bool usable =
        vbd.backend_path.starts_with("/") && vbd.backend_path.find("..") == std::string::npos;
    for (const auto& key : blkfront_backend_keys()) {
        if (!usable) {
            vbd.backend_features[key] = std::nullopt;
            continue;
        }
        GUARDIAN_TRY_ASSIGN(auto v, read_optional(xs, vbd.backend_path + "/" + key));
        vbd.backend_features[key] = std::move(v);
    }
    if (usable) {
        GUARDIAN_TRY_ASSIGN(vbd.backend_state, read_optional(xs, vbd.backend_path + "/state"));
    }
    return vbd;
}

std::vector<std::string> sorted_entries(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        out.push_back(it->path().filename().string());
        if (out.size() > 256)
            break;
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

void read_vbd_sysfs(const SystemRoot& root, VbdCapture& vbd) {
    std::error_code ec;
    // /sys/bus/xen/devices/vbd-<id>/block/<dev>: the disk the vbd became.
    const fs::path block_dir = root.path("/sys/bus/xen/devices/vbd-" + vbd.id + "/block");
    for (const auto& name : sorted_entries(block_dir)) {
        if (plain_name(name)) {
            vbd.device = name;
            break;
        }
    }
    if (vbd.device.empty())
        return;
    const std::string dev_dir = root.path("/sys/block/" + vbd.device);
    if (auto size = read_text_file(dev_dir + "/size", 64); size.ok()) {
        const std::string s = trim(size.value());
        std::uint64_t sectors = 0;
        const auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), sectors);
        if (e == std::errc() && p == s.data() + s.size())
            vbd.size_sectors = sectors;
    }
    // Partitions are subdirectories "<dev><N>" (or "<dev>p<N>") holding a
    // "partition" attribute.
    for (const auto& name : sorted_entries(dev_dir)) {
        if (name.size() > vbd.device.size() && name.starts_with(vbd.device) && plain_name(name) &&
            fs::exists(fs::path(dev_dir) / name / "partition", ec))
            vbd.partitions.push_back(name);
    }
}

std::vector<LoadedModule> read_blkfront_module(const SystemRoot& root) {
    const std::string dir = root.path("/sys/module/xen_blkfront");
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return {};
    LoadedModule m;
    m.name = "xen_blkfront";
    // Absent files are the normal case (no MODULE_VERSION): empty fields.
    if (auto v = read_text_file(dir + "/version", 256); v.ok())
        m.version = trim(std::move(v).value());
    if (auto v = read_text_file(dir + "/srcversion", 256); v.ok())
        m.srcversion = trim(std::move(v).value());
    return {std::move(m)};
}

Result<BlkfrontCapture> capture_blkfront(XenStore& xs, const SystemRoot& root) {
    BlkfrontCapture cap;
    GUARDIAN_TRY_ASSIGN(cap.domid, read_optional(xs, "domid"));
    GUARDIAN_TRY_ASSIGN(cap.unique_domain_id, read_optional(xs, "unique-domain-id"));
    GUARDIAN_TRY_ASSIGN(auto ids, list_optional(xs, "device/vbd"));
    std::erase_if(ids, [](const std::string& id) { return !all_digits(id); });
    std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b; // numeric order
    });
    if (ids.size() > k_max_vbds)
        ids.resize(k_max_vbds);
    for (const auto& id : ids) {
        GUARDIAN_TRY_ASSIGN(VbdCapture vbd, capture_vbd(xs, id));
        read_vbd_sysfs(root, vbd);
        cap.vbds.push_back(std::move(vbd));
    }
    return cap;
}

} // namespace guardian::xen
