// The xenstore port: the one interface through which guardian talks to
// xenstore. Implementations: XsClient (guardian's own wire-protocol client,
// guardian/xen/xs_client.*), and for tests an in-memory fake
// (tests/support/memory_xenstore.*) and libxenstore
// (tests/support/libxenstore_client.*), both also run against the
// wire-protocol test server (tests/xenstored/). Values read from xenstore are
// untrusted input: implementations bound their sizes and never crash on junk.
#pragma once

#include "guardian/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace guardian::xen {

struct WatchEvent {
    std::string path;  // the node that changed (or the watched path on the first firing)
    std::string token; // the token given to watch()
};

class XenStore {
public:
    virtual ~XenStore() = default;

    // Paths are absolute ("/local/domain/3/device/vbd") or relative to the
    // domain's home ("device/vbd"), as with the wire protocol.
    [[nodiscard]] virtual Result<std::string> read(std::string_view path) = 0;
    [[nodiscard]] virtual Result<std::vector<std::string>> directory(std::string_view path) = 0;
    [[nodiscard]] virtual Status write(std::string_view path, std::string_view value) = 0;
    [[nodiscard]] virtual Status remove(std::string_view path) = 0;

    // A watch fires once on registration, then on every change at or below path.
    [[nodiscard]] virtual Status watch(std::string_view path, std::string_view token) = 0;
    [[nodiscard]] virtual Status unwatch(std::string_view path, std::string_view token) = 0;
    // Becomes readable when watch events are pending (for sd-event / poll).
    [[nodiscard]] virtual int watch_fd() const = 0;
    // Drains pending events without blocking (empty when none).
    [[nodiscard]] virtual Result<std::vector<WatchEvent>> read_watch_events() = 0;
};

// Errors for a node that does not exist carry this code (ENOENT), so callers
// can tell "absent" from "failed" (blkfront feature keys are often absent).
[[nodiscard]] bool is_not_found(const Error& e) noexcept;

} // namespace guardian::xen
