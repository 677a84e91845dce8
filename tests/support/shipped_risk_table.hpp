// The kernel risk table guardian ships (data/kernel-risk.json), parsed: the
// table the tests judge kernels by. A test that links guardian_core only.
#pragma once

#include "guardian/core/risk_table.hpp"
#include "guardian/util/fd.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

namespace guardian::test {

inline RiskTable shipped_risk_table() {
    const auto text = read_text_file((source_dir() / "data" / "kernel-risk.json").string());
    EXPECT_TRUE(text.ok()) << text.error().message;
    auto table = parse_risk_table(text.value_or(""));
    EXPECT_TRUE(table.ok()) << (table ? "" : table.error().message);
    return table ? std::move(table).value() : RiskTable{};
}

} // namespace guardian::test
