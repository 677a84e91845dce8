// The provider's side of data/guardian/: what one guest reported, read back
// from its node set (the inverse of report.hpp), and the decisions dom0
// tooling takes from it (preflight before a save or migration).
#pragma once

#include "guardian/core/guest_contract.hpp"

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace guardian {

struct DomainReport {
    std::string domid;
    std::string name;                         // /local/domain/<id>/name, may be empty
    std::map<std::string, std::string> nodes; // data/guardian/ as read
    // Why this domain's data/guardian/ could not be read (it broke a bound:
    // more nodes than any guardian writes); its row says so and the report
    // on every other domain goes on.
    std::string unreadable;

    [[nodiscard]] bool has_guardian() const { return decoded().present; }
    [[nodiscard]] contract::DecodedReport decoded() const { return contract::decode_report(nodes); }
};

struct PreflightResult {
    bool ok = false;
    std::string reason; // one line, always set
};

// Only a guest that runs guardian and reports suspend-safety "safe" passes:
// unknown is not safe (the provider could not tell which kernels its
// customers run: docs/design.md, the first incident).
[[nodiscard]] PreflightResult preflight(const DomainReport& d);

// Guest-written cells are escaped for the terminal (core/guest_text): no
// control byte of a guest's can redraw another domain's row.
[[nodiscard]] std::string render_status_table(const std::vector<DomainReport>& domains);
// Columns padded to their widest cell, two spaces apart; the first row is
// the header. Cells must already be escaped (one line each).
[[nodiscard]] std::string render_columns(const std::vector<std::vector<std::string>>& rows);
// Every guest-written string is valid UTF-8 (U+FFFD where it was not), so
// one guest can never make the encoder fail for the whole host.
[[nodiscard]] nlohmann::json status_to_json(const std::vector<DomainReport>& domains);

} // namespace guardian
