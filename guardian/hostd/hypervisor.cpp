#include "guardian/hostd/hypervisor.hpp"

#include "guardian/hostd/xc_shim.h"

#include <array>

namespace guardian::hostd {

namespace {

class XcHypervisor final : public Hypervisor {
public:
    explicit XcHypervisor(guardian_xc* xc) : m_xc(xc) {}
    XcHypervisor(const XcHypervisor&) = delete;
    XcHypervisor& operator=(const XcHypervisor&) = delete;
    ~XcHypervisor() override { guardian_xc_close(m_xc); }

    Result<std::map<std::int64_t, DomainState>> domains() override {
        // Domain ids run to DOMID_FIRST_RESERVED (0x7FF0); ask in batches.
        std::array<guardian_xc_domain, 256> batch{};
        std::map<std::int64_t, DomainState> out;
        std::uint32_t next = 0;
        for (;;) {
            const int n =
                guardian_xc_domains(m_xc, next, batch.data(), static_cast<unsigned>(batch.size()));
            if (n < 0) {
                return Error::from_errno("xc_domain_getinfolist");
            }
            for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
                out[batch[i].domid] = DomainState{batch[i].dying != 0, batch[i].shutdown != 0,
                                                  batch[i].shutdown_reason};
                next = batch[i].domid + 1;
            }
            if (static_cast<std::size_t>(n) < batch.size()) {
                return out;
            }
        }
    }

private:
    guardian_xc* m_xc;
};

} // namespace

Result<std::unique_ptr<Hypervisor>> open_hypervisor() {
    guardian_xc* xc = guardian_xc_open();
    if (xc == nullptr) {
        return Error::from_errno("xc_interface_open (is this dom0 of a Xen host?)");
    }
    return std::unique_ptr<Hypervisor>(std::make_unique<XcHypervisor>(xc));
}

} // namespace guardian::hostd
