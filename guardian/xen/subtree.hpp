// Reading a whole (small) xenstore subtree, e.g. another domain's
// data/guardian/ from dom0. Bounded: a guest controls what is in its own
// data/, so its size and depth are capped rather than trusted.
#pragma once

#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <map>
#include <string>

namespace guardian::xen {

// Relative node name ("vbd/51712/features") -> value. A missing base gives
// an empty map (no guardian in that domain), not an error.
[[nodiscard]] Result<std::map<std::string, std::string>> read_subtree(XenStore& xs,
                                                                      const std::string& base,
                                                                      std::size_t max_nodes = 256,
                                                                      unsigned max_depth = 4);

} // namespace guardian::xen
