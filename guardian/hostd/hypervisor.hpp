// What the hypervisor says of a domain that is stopping: dying, shut down,
// and why (Xen's SHUTDOWN_* code). The libxenctrl adapter is the only place
// its calls and error codes exist; tests substitute the port.
#pragma once

#include "guardian/util/result.hpp"

#include <cstdint>
#include <map>
#include <memory>

namespace guardian::hostd {

struct DomainState {
    bool dying = false;
    bool shutdown = false;
    unsigned shutdown_reason = 0; // meaningful when shutdown
};

class Hypervisor {
public:
    virtual ~Hypervisor() = default;
    // Every domain the hypervisor still has, by domid.
    [[nodiscard]] virtual Result<std::map<std::int64_t, DomainState>> domains() = 0;
};

// libxenctrl (xc_domain_getinfolist); fails on a machine without Xen.
[[nodiscard]] Result<std::unique_ptr<Hypervisor>> open_hypervisor();

} // namespace guardian::hostd
