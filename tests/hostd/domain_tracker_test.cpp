#include "guardian/hostd/domain_tracker.hpp"

#include <gtest/gtest.h>

using namespace guardian::hostd;

namespace {
DomainEntry dom(std::int64_t id, std::string uuid) {
    return {id, std::move(uuid), "vm" + std::to_string(id)};
}
} // namespace

TEST(DomainTracker, NewAndVanishedDomainsAreReported) {
    const DomainSet before = {{1, dom(1, "u1")}, {2, dom(2, "u2")}};
    const DomainSet after = {{2, dom(2, "u2")}, {3, dom(3, "u3")}};
    const DomainChanges c = compare_domains(before, after);
    ASSERT_EQ(c.gone.size(), 1u);
    EXPECT_EQ(c.gone[0].uuid, "u1");
    ASSERT_EQ(c.appeared.size(), 1u);
    EXPECT_EQ(c.appeared[0].uuid, "u3");
}

TEST(DomainTracker, AReusedDomidIsOneGoneAndOneNew) {
    const DomainChanges c = compare_domains({{5, dom(5, "old")}}, {{5, dom(5, "new")}});
    ASSERT_EQ(c.gone.size(), 1u);
    EXPECT_EQ(c.gone[0].uuid, "old");
    ASSERT_EQ(c.appeared.size(), 1u);
    EXPECT_EQ(c.appeared[0].uuid, "new");
}

TEST(DomainTracker, ADomainWithoutItsUuidYetWaits) {
    // The toolstack writes "vm" a moment after the introduction.
    EXPECT_TRUE(compare_domains({}, {{4, dom(4, "")}}).appeared.empty());
    const DomainChanges later = compare_domains({{4, dom(4, "")}}, {{4, dom(4, "u4")}});
    ASSERT_EQ(later.appeared.size(), 1u);
    EXPECT_TRUE(later.gone.empty());
    EXPECT_TRUE(compare_domains({{4, dom(4, "")}}, {}).gone.empty());
    // Nor without its name (a look between the toolstack's two writes).
    EXPECT_TRUE(compare_domains({}, {{4, DomainEntry{4, "u4", ""}}}).appeared.empty());
    EXPECT_EQ(compare_domains({{4, DomainEntry{4, "u4", ""}}}, {{4, dom(4, "u4")}}).appeared.size(),
              1u);
}
