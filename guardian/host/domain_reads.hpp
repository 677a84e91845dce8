// What guardian-host reads of a domain from xenstore: its name and its
// data/guardian/ subtree (status, preflight), the domain ids, and the few
// frontend keys that bound a guest's kernel from below (preflight).
#pragma once

#include "guardian/core/domain_report.hpp"
#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <map>
#include <string>
#include <vector>

namespace guardian::host {

// A domain whose subtree breaks the node bound is returned with `unreadable`
// set (its row says so; the others go on); other errors are errors.
[[nodiscard]] Result<DomainReport> read_domain(xen::XenStore& xs, const std::string& domid);
// Every domain id, in numeric order.
[[nodiscard]] Result<std::vector<std::string>> all_domids(xen::XenStore& xs);
// device/<dev>/<id>/<key> -> value for the keys core/guest_kernel_evidence
// knows; a domain without them, or whose device tree cannot be read, has none.
[[nodiscard]] std::map<std::string, std::string> frontend_nodes(xen::XenStore& xs,
                                                                const std::string& domid);

} // namespace guardian::host
