// XsClient: the XenStore port over libxenstore, the field's client library.
// In a guest it talks to /dev/xen/xenbus, in dom0 to xenstored's socket, and
// in tests to guardian-test-xenstored through XENSTORED_PATH. libxenstore
// sends paths as given; the daemon resolves relative ones against the
// connection's domain home, so this class never rewrites a path.
#pragma once

#include "guardian/util/paths.hpp"
#include "guardian/xen/xenstore.hpp"

#include <memory>

struct xs_handle;

namespace guardian::xen {

// Largest payload of one xenstore message (XENSTORE_PAYLOAD_MAX): a write's
// path, its NUL and its value must fit together; a read can never return more.
inline constexpr std::size_t xs_payload_max = 4096;
// Bound on one directory listing and one drain of watch events: far above
// anything a guest's tree holds, low enough that junk cannot exhaust memory.
inline constexpr std::size_t xs_max_entries = 65536;

class XsClient final : public XenStore {
public:
    // Connects through libxenstore: XENSTORED_PATH if set, else xenstored's
    // socket (dom0), else /dev/xen/xenbus.
    [[nodiscard]] static Result<std::unique_ptr<XsClient>> open();

    XsClient(const XsClient&) = delete;
    XsClient& operator=(const XsClient&) = delete;
    ~XsClient() override;

    [[nodiscard]] Result<std::string> read(std::string_view path) override;
    [[nodiscard]] Result<std::vector<std::string>> directory(std::string_view path) override;
    [[nodiscard]] Status write(std::string_view path, std::string_view value) override;
    [[nodiscard]] Status remove(std::string_view path) override;
    [[nodiscard]] Status watch(std::string_view path, std::string_view token) override;
    [[nodiscard]] Status unwatch(std::string_view path, std::string_view token) override;
    // libxenstore's watch pipe. With libxenstore 4.17 it is not woken when the
    // connection to xenstored is lost (a guest's /dev/xen/xenbus never is);
    // read_watch_events() then fails, so drain also on a periodic tick.
    [[nodiscard]] int watch_fd() const override { return m_watch_fd; }
    [[nodiscard]] Result<std::vector<WatchEvent>> read_watch_events() override;

private:
    struct HandleCloser {
        void operator()(xs_handle* h) const noexcept;
    };
    using Handle = std::unique_ptr<xs_handle, HandleCloser>;

    XsClient(Handle handle, int watch_fd) noexcept;

    Handle m_handle;
    int m_watch_fd = -1; // owned by the handle (libxenstore's watch pipe)
};

// The XenStore of this machine, or an error. When there is no xenstore at all
// the error says "not a Xen guest" and is_not_xen() is true, so front ends
// can show the non-Xen part instead of failing. `root` is where /dev and /run
// are looked up (tests point it at a fake tree); XENSTORED_PATH wins.
// Under a root other than "/", libxenstore is pointed (XENSTORED_PATH) at the
// endpoint found there, /proc/xen/xenbus included.
[[nodiscard]] Result<std::unique_ptr<XenStore>> open_xenstore(const SystemRoot& root = {});

// The endpoint open_xenstore(root) connects to: XENSTORED_PATH when set, else
// the first of xenstored's socket, /dev/xen/xenbus, /proc/xen/xenbus that
// exists under `root` (named as on the real machine when root is "/").
// What guardiand reports as `xenbus=`.
[[nodiscard]] Result<std::string> xenstore_endpoint(const SystemRoot& root = {});

// True for open_xenstore()'s "there is no xenstore here" error.
[[nodiscard]] bool is_not_xen(const Error& e) noexcept;

} // namespace guardian::xen
