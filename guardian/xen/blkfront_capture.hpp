// Reads the guest's view of its Xen block devices: xenstore device/vbd/*
// (frontend keys, backend path, state), each backend directory's feature keys
// (the guest may read its backends' directories), and sysfs for the block
// device each vbd became. Produces the pure model in guardian/core/blkfront.hpp.
#pragma once

#include "guardian/core/blkfront.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

namespace guardian::xen {

// At most this many vbds are captured (a guest with more is broken or hostile).
inline constexpr std::size_t k_max_vbds = 64;

// No device/vbd directory (not a PV-disk guest) gives an empty vbd list, not
// an error. A vbd whose xenstore keys cannot be read for another reason than
// "absent" makes the whole capture fail: a partial capture would later read
// as "features changed".
[[nodiscard]] Result<BlkfrontCapture> capture_blkfront(XenStore& xs, const SystemRoot& root);

// The sysfs half for one vbd: device name, partitions, size. Missing sysfs
// entries leave the fields empty (the disk may not be attached yet).
void read_vbd_sysfs(const SystemRoot& root, VbdCapture& vbd);

// The loaded xen-blkfront build as sysfs names it
// (/sys/module/xen_blkfront/version and srcversion; the stock module has
// neither): what the risk table's module evidence matches. Empty when the
// driver is not a loaded module (built in, or not a PV guest).
[[nodiscard]] std::vector<LoadedModule> read_blkfront_module(const SystemRoot& root);

} // namespace guardian::xen
