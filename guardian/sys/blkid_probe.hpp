// libblkid adapter: what kind of filesystem a device or image holds.
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/util/result.hpp"

#include <string>

namespace guardian::sys {

// type is empty when libblkid recognises nothing. Errors: cannot open/read.
[[nodiscard]] Result<FsIdentity> probe_filesystem(const std::string& path);

} // namespace guardian::sys
