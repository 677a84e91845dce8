// guardiand's state machine (guardian/core/daemon_machine.*), table-driven:
// every (state, event) pair with ordinary facts, ignored ones included, then
// the pairs whose answer depends on the facts (frozen, window open, incident,
// policy observe, nothing guarded) or on the verdict.
#include "guardian/core/daemon_machine.hpp"

#include <gtest/gtest.h>

#include <set>

namespace guardian::machine {
namespace {

using S = DaemonState;
using E = EventKind;
using A = Action;

struct Row {
    S state;
    E event;
    S next;
    std::vector<A> actions;
    bool ignored = false;
    Facts facts{};
    Verdict verdict = Verdict::healthy;
    bool coordinated = false;
};

std::string names(const std::vector<A>& actions) {
    std::string out;
    for (const A a : actions)
        out += (out.empty() ? "" : ",") + std::string(to_string(a));
    return out;
}

void check(const Row& r) {
    const Transition t = step(r.state, r.facts, Event{r.event, r.verdict, r.coordinated});
    const std::string where =
        std::string(contract::to_string(r.state)) + " x " + std::string(to_string(r.event));
    EXPECT_EQ(t.ignored, r.ignored) << where;
    EXPECT_EQ(t.next, r.state == S::stopped || r.ignored ? r.state : r.next) << where;
    EXPECT_EQ(names(t.actions), names(r.actions)) << where;
}

const std::vector<A> k_restore{A::forget_published, A::publish, A::persist, A::verify};
const std::vector<A> k_calm_verdict{A::publish, A::persist, A::append_history, A::restore_hooks,
                                    A::open_window};
const std::vector<A> k_stop{A::close_window, A::publish, A::persist};

// Ordinary facts: nothing frozen, no window, no incident, policy protect,
// something guarded; a healthy verdict of an uncoordinated restore.
std::vector<Row> ordinary_table() {
    std::vector<Row> rows;
    const auto ignored = [&](S s, E e) { rows.push_back({s, e, s, {}, true}); };
    // starting: only the start and the stop count.
    rows.push_back(
        {S::starting, E::started, S::watching, {A::publish, A::persist, A::arm_baseline}});
    for (E e : {E::restore_detected, E::verified, E::kmsg_signature, E::window_end,
                E::freeze_request, E::freeze_taken, E::freeze_deadline, E::thaw_request,
                E::sleep_pre, E::baseline_due, E::config_reload})
        ignored(S::starting, e);
    rows.push_back({S::starting, E::stop_signal, S::stopped, k_stop});
    // The running states.
    for (S s : {S::watching, S::verifying, S::frozen, S::incident}) {
        ignored(s, E::started);
        rows.push_back({s, E::restore_detected, S::verifying, k_restore});
        rows.push_back({s, E::verified, S::watching, k_calm_verdict});
        ignored(s, E::kmsg_signature); // no window open
        ignored(s, E::window_end);
        rows.push_back({s, E::freeze_request, s, {A::begin_freeze}});
        rows.push_back({s, E::freeze_taken, S::frozen, {A::arm_deadline, A::publish, A::persist}});
        ignored(s, E::freeze_deadline); // nothing frozen
        ignored(s, E::thaw_request);
        const std::vector<A> refresh = s == S::watching
                                           ? std::vector<A>{A::refresh_baseline, A::arm_baseline}
                                           : std::vector<A>{A::arm_baseline};
        rows.push_back({s, E::sleep_pre, s, refresh});
        rows.push_back({s, E::baseline_due, s, refresh});
        ignored(s, E::config_reload);
        rows.push_back({s, E::stop_signal, S::stopped, k_stop});
    }
    // Nothing runs after the stop.
    for (std::size_t e = 0; e < k_event_kinds; ++e)
        ignored(S::stopped, static_cast<E>(e));
    return rows;
}

TEST(DaemonMachine, TheOrdinaryTableCoversEveryStateAndEventOnce) {
    const auto rows = ordinary_table();
    std::set<std::pair<S, E>> seen;
    for (const auto& r : rows)
        EXPECT_TRUE(seen.insert({r.state, r.event}).second)
            << contract::to_string(r.state) << " x " << to_string(r.event);
    EXPECT_EQ(seen.size(), contract::daemon_states().size() * k_event_kinds);
}

TEST(DaemonMachine, EveryStateAndEventWithOrdinaryFacts) {
    for (const auto& r : ordinary_table())
        check(r);
}

TEST(DaemonMachine, WhatDependsOnTheFacts) {
    Facts frozen;
    frozen.frozen = true;
    Facts window;
    window.window_open = true;
    Facts incident;
    incident.incident = true;
    Facts nothing;
    nothing.filesystems = false;
    Facts observe;
    observe.observe_only = true;
    Facts observe_frozen = observe;
    observe_frozen.frozen = true;
    const std::vector<Row> rows{
        // A freeze: the deadline and dom0's thaw end it; a second is refused.
        {S::frozen, E::freeze_deadline, S::watching, {A::thaw}, false, frozen},
        {S::frozen, E::thaw_request, S::watching, {A::thaw}, false, frozen},
        {S::frozen, E::freeze_request, S::frozen, {A::refuse_freeze}, false, frozen},
        {S::frozen,
         E::stop_signal,
         S::stopped,
         {A::thaw, A::close_window, A::publish, A::persist},
         false,
         frozen},
        {S::frozen, E::sleep_pre, S::frozen, {A::arm_baseline}, false, frozen},
        {S::watching, E::baseline_due, S::watching, {A::arm_baseline}, false, frozen},
        // An incident stands through a thaw.
        {S::incident, E::thaw_request, S::incident, {A::thaw}, false, frozen},
        {S::incident, E::freeze_deadline, S::incident, {A::thaw}, false, frozen},
        {S::watching, E::baseline_due, S::watching, {A::arm_baseline}, false, incident},
        // The kmsg window.
        {S::watching, E::kmsg_signature, S::watching, {A::judge_window}, false, window},
        {S::watching, E::window_end, S::watching, {A::close_window}, false, window},
        {S::watching, E::sleep_pre, S::watching, {A::arm_baseline}, false, window},
        {S::frozen, E::kmsg_signature, S::frozen, {A::judge_window}, false, window},
        // Nothing guarded: nothing to freeze.
        {S::watching, E::freeze_request, S::watching, {A::refuse_freeze}, false, nothing},
        // Verdicts.
        {S::verifying,
         E::verified,
         S::watching,
         {A::thaw, A::append_history, A::restore_hooks, A::open_window},
         false,
         frozen,
         Verdict::healthy,
         true},
        {S::verifying,
         E::verified,
         S::watching,
         {A::thaw, A::append_history, A::restore_hooks, A::open_window},
         false,
         frozen,
         Verdict::warning,
         true},
        {S::verifying, E::verified, S::watching, k_calm_verdict, false, {}, Verdict::warning},
        {S::watching, E::verified, S::watching, k_calm_verdict, false, frozen, Verdict::warning,
         false},
        {S::verifying,
         E::verified,
         S::incident,
         {A::publish, A::protect, A::publish, A::persist},
         false,
         {},
         Verdict::critical},
        {S::verifying,
         E::verified,
         S::incident,
         {A::publish, A::protect, A::thaw, A::publish, A::persist},
         false,
         frozen,
         Verdict::critical,
         true},
        {S::watching,
         E::verified,
         S::incident,
         {A::publish, A::protect, A::publish, A::persist},
         false,
         window,
         Verdict::critical},
        {S::verifying,
         E::verified,
         S::watching,
         {A::report_only, A::publish, A::persist, A::incident_hooks},
         false,
         observe,
         Verdict::critical},
        {S::verifying,
         E::verified,
         S::watching,
         {A::report_only, A::thaw, A::publish, A::persist, A::incident_hooks},
         false,
         observe_frozen,
         Verdict::critical,
         true},
        {S::stopped, E::verified, S::stopped, {}, true, frozen, Verdict::critical, true},
    };
    for (const auto& r : rows)
        check(r);
}

// A restore after which the block path writes wrong data: every other
// process stops first, before the publish and the verification log anything,
// but only when an emergency that reboots follows.
TEST(DaemonMachine, ARestoreThatGarblesWritesHaltsProcessesFirstOnlyWhenARebootFollows) {
    Event unsafe{E::restore_detected, Verdict::healthy, false};
    unsafe.writes_unsafe = true;
    for (S s : {S::watching, S::verifying, S::frozen, S::incident}) {
        const Transition t = step(s, Facts{}, unsafe);
        EXPECT_EQ(t.next, S::verifying);
        EXPECT_EQ(names(t.actions), "halt-processes,forget-published,publish,persist,verify")
            << contract::to_string(s);
    }
    Facts observe;
    observe.observe_only = true;
    Facts no_reboot;
    no_reboot.may_reboot = false;
    for (const Facts& f : {observe, no_reboot})
        EXPECT_EQ(names(step(S::watching, f, unsafe).actions), names(k_restore));
    EXPECT_TRUE(step(S::starting, Facts{}, unsafe).ignored);
    EXPECT_TRUE(step(S::stopped, Facts{}, unsafe).ignored);
}

TEST(DaemonMachine, CalmOnlyWhenWatchingWithNothingPending) {
    EXPECT_TRUE(calm(S::watching, {}));
    for (S s : {S::starting, S::verifying, S::frozen, S::incident, S::stopped})
        EXPECT_FALSE(calm(s, {})) << contract::to_string(s);
    Facts f;
    f.window_open = true;
    EXPECT_FALSE(calm(S::watching, f));
}

TEST(DaemonMachine, EveryEventAndActionHasAName) {
    std::set<std::string_view> events;
    for (std::size_t e = 0; e < k_event_kinds; ++e)
        events.insert(to_string(static_cast<E>(e)));
    EXPECT_EQ(events.size(), k_event_kinds);
    EXPECT_FALSE(events.contains("?"));
}

} // namespace
} // namespace guardian::machine
