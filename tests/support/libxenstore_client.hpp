// LibXenstoreClient: the XenStore port over libxenstore (the shared object),
// the client library the field runs. Tests only: guardian itself speaks the
// wire protocol with its own client (guardian/xen/xs_client.*), because
// Debian's static libxenstore.a lacks the reader thread (issue 9). The client
// suites run against both, so guardian-test-xenstored stays proven against
// the field's library and guardian's client against the same server.
#pragma once

#include "guardian/xen/xenstore.hpp"

#include <memory>

struct xs_handle;

namespace guardian::test {

class LibXenstoreClient final : public xen::XenStore {
public:
    // Connects through libxenstore: XENSTORED_PATH if set, else xenstored's
    // socket (dom0), else /dev/xen/xenbus. XS_UNWATCH_FILTER is on.
    [[nodiscard]] static Result<std::unique_ptr<LibXenstoreClient>> open();

    LibXenstoreClient(const LibXenstoreClient&) = delete;
    LibXenstoreClient& operator=(const LibXenstoreClient&) = delete;
    ~LibXenstoreClient() override;

    [[nodiscard]] Result<std::string> read(std::string_view path) override;
    [[nodiscard]] Result<std::vector<std::string>> directory(std::string_view path) override;
    [[nodiscard]] Status write(std::string_view path, std::string_view value) override;
    [[nodiscard]] Status remove(std::string_view path) override;
    [[nodiscard]] Status watch(std::string_view path, std::string_view token) override;
    [[nodiscard]] Status unwatch(std::string_view path, std::string_view token) override;
    // libxenstore's watch pipe. With libxenstore 4.17 it is not woken when the
    // connection to xenstored is lost; read_watch_events() then fails.
    [[nodiscard]] int watch_fd() const override { return m_watch_fd; }
    [[nodiscard]] Result<std::vector<xen::WatchEvent>> read_watch_events() override;

private:
    struct HandleCloser {
        void operator()(xs_handle* h) const noexcept;
    };
    using Handle = std::unique_ptr<xs_handle, HandleCloser>;

    LibXenstoreClient(Handle handle, int watch_fd) noexcept;

    Handle m_handle;
    int m_watch_fd = -1; // owned by the handle (libxenstore's watch pipe)
};

} // namespace guardian::test
