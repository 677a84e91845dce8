// What the guest's xen-blkfront devices look like at one moment: per vbd the
// xenstore frontend and backend keys, the states and the block device it
// became. Pure data plus the comparison that names what changed across a
// restore. Filled by guardian/xen/blkfront_capture.*.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// Backend keys xen-blkfront reads (Linux 6.1). Absent is not "0": the qdisk
// backend simply does not write feature-persistent.
[[nodiscard]] const std::vector<std::string>& blkfront_backend_keys();
// Frontend keys worth keeping (the ring-ref*/event-channel* families are
// captured by prefix, see blkfront_capture.cpp).
[[nodiscard]] const std::vector<std::string>& blkfront_frontend_keys();

using KeyValues = std::map<std::string, std::optional<std::string>>;

struct VbdCapture {
    std::string id;                            // "51712"
    std::string frontend_path;                 // "device/vbd/51712"
    std::string backend_path;                  // "/local/domain/0/backend/vbd/1/51712"
    std::string backend_id;                    // backend domain, "0"
    std::optional<std::string> frontend_state; // xenbus state number as text, "4"
    std::optional<std::string> backend_state;
    KeyValues backend_features; // every key of blkfront_backend_keys()
    KeyValues frontend_keys;
    std::string device;                        // "xvda", empty when sysfs does not say
    std::vector<std::string> partitions;       // "xvda1", ...
    std::optional<std::uint64_t> size_sectors; // /sys/block/<dev>/size (512-byte units)

    friend bool operator==(const VbdCapture&, const VbdCapture&) = default;
};

struct BlkfrontCapture {
    std::optional<std::string> domid;
    std::optional<std::string> unique_domain_id;
    std::vector<VbdCapture> vbds; // ordered by id

    [[nodiscard]] const VbdCapture* find(std::string_view id) const;
    friend bool operator==(const BlkfrontCapture&, const BlkfrontCapture&) = default;
};

enum class ChangeKind {
    domid,
    unique_domain_id,
    vbd_added,
    vbd_removed,
    backend_path,
    frontend_state,
    backend_state,
    backend_feature,
    frontend_key,
    device,
    size,
};
[[nodiscard]] std::string_view to_string(ChangeKind k) noexcept;

struct CaptureChange {
    ChangeKind kind;
    std::string vbd; // empty for domain-wide changes
    std::string key; // the xenstore key for feature/state changes
    std::optional<std::string> before;
    std::optional<std::string> after;

    // "vbd 51712 backend feature-persistent: 1 -> absent"
    [[nodiscard]] std::string describe() const;
    // Compact form for data/guardian/last-restore-changes: "vbd/51712/feature-persistent 1->-"
    [[nodiscard]] std::string compact() const;
    friend bool operator==(const CaptureChange&, const CaptureChange&) = default;
};

// Every difference from `before` to `after`, in a stable order (domain-wide
// first, then by vbd id, then by key).
[[nodiscard]] std::vector<CaptureChange> compare(const BlkfrontCapture& before,
                                                 const BlkfrontCapture& after);

// The backend feature keys among `changes` (for judge_feature_change).
[[nodiscard]] std::vector<std::string>
changed_feature_keys(const std::vector<CaptureChange>& changes);

// Whether a vbd's backend now offers persistent grants where it did not
// before (absent or "0" -> "1"). A frontend that does not re-read its
// features at resume goes on without them while blkback keeps every grant
// mapped; one older than Linux 5.17 (before the XSA-396 series) then hands
// those still-mapped grants to new requests, so its writes carry other
// pages' contents (docs/design.md, "Writing nothing").
[[nodiscard]] bool persistent_grants_newly_offered(const std::vector<CaptureChange>& changes);

// "feature-barrier=1 feature-flush-cache=1 feature-persistent=- ..." with
// absent keys as "-", in blkfront_backend_keys() order; values are cut to
// keep the string bounded.
[[nodiscard]] std::string feature_summary(const VbdCapture& vbd);

} // namespace guardian
