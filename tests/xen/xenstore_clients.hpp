// The clients the xenstore suites run against, as a gtest parameter:
// guardian's own (XsClient) and, where installed, the field's libxenstore
// (tests/support/libxenstore_client.hpp). Both connect through
// XENSTORED_PATH, as the daemon's tests and the field's tools do.
#pragma once

#include "guardian/xen/xs_client.hpp"
#if GUARDIAN_HAVE_LIBXENSTORE
#include "tests/support/libxenstore_client.hpp"
#endif

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace guardian::test {

enum class ClientKind { guardian, libxenstore };

inline std::vector<ClientKind> all_clients() {
#if GUARDIAN_HAVE_LIBXENSTORE
    return {ClientKind::guardian, ClientKind::libxenstore};
#else
    return {ClientKind::guardian};
#endif
}

inline std::string client_name(const ::testing::TestParamInfo<ClientKind>& info) {
    return info.param == ClientKind::guardian ? "Guardian" : "Libxenstore";
}

inline std::unique_ptr<xen::XenStore> open_client(ClientKind kind, const std::string& socket) {
    ::setenv("XENSTORED_PATH", socket.c_str(), 1);
    Result<std::unique_ptr<xen::XenStore>> client = Error{"no client", 0};
    if (kind == ClientKind::guardian) {
        auto c = xen::XsClient::open();
        if (c)
            client = std::unique_ptr<xen::XenStore>(std::move(c).value());
        else
            client = std::move(c).error();
    }
#if GUARDIAN_HAVE_LIBXENSTORE
    if (kind == ClientKind::libxenstore) {
        auto c = LibXenstoreClient::open();
        if (c)
            client = std::unique_ptr<xen::XenStore>(std::move(c).value());
        else
            client = std::move(c).error();
    }
#endif
    ::unsetenv("XENSTORED_PATH");
    if (!client)
        throw std::runtime_error(client.error().message);
    return std::move(client).value();
}

} // namespace guardian::test
