// The scaffolding both damage matrices share: every case runs in live and
// stable mode, the undamaged images likewise, and a scan of an image file
// with the engine's defaults. Each matrix keeps its own cases and checks.
#pragma once

#include "guardian/ext4/scan.hpp"
#include "tests/support/ext4_image.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace guardian::test {

inline Result<ext4::ScanResult> scan_image(const std::filesystem::path& image, CheckMode mode) {
    ext4::ScanOptions o;
    o.path = image.string();
    o.mode = mode;
    return ext4::scan(o);
}

// One damage case in one mode. `Case` has a `name`.
template <class Case> struct MatrixParam {
    const Case* c;
    CheckMode mode;
};

template <class Case> void PrintTo(const MatrixParam<Case>& p, std::ostream* os) {
    *os << p.c->name << " (" << to_string(p.mode) << ")";
}

template <class Case> std::vector<MatrixParam<Case>> matrix(const std::vector<Case>& cases) {
    std::vector<MatrixParam<Case>> out;
    for (const auto& c : cases)
        for (const CheckMode m : {CheckMode::live, CheckMode::stable})
            out.push_back({&c, m});
    return out;
}

template <class Case> std::string matrix_name(const testing::TestParamInfo<MatrixParam<Case>>& p) {
    return p.param.c->name + "_" + std::string(to_string(p.param.mode));
}

// An undamaged image in one mode.
struct CleanParam {
    ImageKind image;
    CheckMode mode;
};

inline void PrintTo(const CleanParam& p, std::ostream* os) {
    *os << to_string(p.image) << " (" << to_string(p.mode) << ")";
}

inline std::vector<CleanParam> clean_matrix(std::initializer_list<ImageKind> kinds) {
    std::vector<CleanParam> out;
    for (const ImageKind k : kinds)
        for (const CheckMode m : {CheckMode::live, CheckMode::stable})
            out.push_back({k, m});
    return out;
}

inline std::string clean_name(const testing::TestParamInfo<CleanParam>& p) {
    return to_string(p.param.image) + "_" + std::string(to_string(p.param.mode));
}

} // namespace guardian::test
