// Reading a whole (small) xenstore subtree, e.g. another domain's
// data/guardian/ from dom0. Bounded: a guest controls what is in its own
// data/, so its size and depth are capped rather than trusted.
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::xen {

// Relative node name ("vbd/51712/features") -> value. A missing base gives
// an empty map (no guardian in that domain), not an error.
[[nodiscard]] Result<std::map<std::string, std::string>> read_subtree(XenStore& xs,
                                                                      const std::string& base,
                                                                      std::size_t max_nodes = 256,
                                                                      unsigned max_depth = 4);

// The given report nodes (contract::summary_nodes() by default), one read
// each, of domain `domid` (dom0's view), or of the caller's own domain when
// `domid` is empty. Absent nodes are left out; any other failure (xenstored
// gone) is an error. Cheaper and safer than the whole subtree when a fleet
// has thousands of domains and any guest may stuff its data/guardian/.
[[nodiscard]] Result<std::map<std::string, std::string>>
read_summary_nodes(XenStore& xs, std::string_view domid,
                   const std::vector<std::string_view>& nodes = contract::summary_nodes());

} // namespace guardian::xen
