// Reading the recorded kernel log text of tests/unit/data/kmsg/ through the
// trouble assembler, for the unit tests.
#pragma once

#include "guardian/core/kernel_trouble.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace guardian {

inline std::vector<std::string> read_lines(const std::string& name) {
    std::ifstream in(test::source_dir() / "tests/unit/data/kmsg" / name);
    EXPECT_TRUE(in.good()) << name;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

inline std::vector<TroubleEvent> assemble(const std::vector<std::string>& lines,
                                          TroubleAssembler& a) {
    std::vector<TroubleEvent> out;
    for (const auto& l : lines) {
        const auto r = parse_syslog_line(l);
        EXPECT_TRUE(r.has_value()) << l;
        if (!r)
            continue;
        for (auto& e : a.feed(*r))
            out.push_back(std::move(e));
    }
    for (auto& e : a.flush())
        out.push_back(std::move(e));
    return out;
}

inline std::vector<TroubleEvent> assemble(const std::string& file) {
    TroubleAssembler a;
    return assemble(read_lines(file), a);
}

} // namespace guardian
