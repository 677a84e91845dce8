// Restore detection, one signal at a time and in the combinations seen on
// real Xen: clocks are injected, captures and watch firings are invented.
#include "guardian/core/restore_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace guardian {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A tiny fake clock: advance() runs the guest, sleep() suspends it (BOOTTIME
// and REALTIME move, MONOTONIC does not), step() is an NTP/date step.
struct FakeClock {
    ClockSample s{seconds(1'700'000'000), seconds(100), seconds(100)};
    ClockSample advance(std::chrono::nanoseconds d) {
        s.realtime += d;
        s.monotonic += d;
        s.boottime += d;
        return s;
    }
    ClockSample sleep(std::chrono::nanoseconds d) {
        s.realtime += d;
        s.boottime += d;
        return s;
    }
    ClockSample step(std::chrono::nanoseconds d) {
        s.realtime += d;
        return s;
    }
};

BlkfrontCapture capture(const std::string& domid, const std::string& backend,
                        const std::string& state = "4") {
    BlkfrontCapture c;
    c.domid = domid;
    VbdCapture v;
    v.id = "51712";
    v.backend_path = backend;
    v.frontend_state = state;
    c.vbds.push_back(v);
    return c;
}

bool has(const RestoreDecision& d, RestoreSignal s) {
    return std::find(d.signals.begin(), d.signals.end(), s) != d.signals.end();
}

const std::string k_backend = "/local/domain/0/backend/vbd/1/51712";

TEST(RestoreDetector, NothingHappenedIsNotARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_capture(capture("1", k_backend), clock.s);
    det.observe_clock(clock.advance(seconds(60)));
    det.observe_capture(capture("1", k_backend), clock.s);
    const auto d = det.decide(clock.s);
    EXPECT_FALSE(d.restored);
    EXPECT_TRUE(d.signals.empty());
}

TEST(RestoreDetector, SuspendSeenInTheClocksIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    clock.advance(seconds(5));
    clock.sleep(seconds(42));         // saved for 42 s
    clock.advance(milliseconds(900)); // restore itself: MONOTONIC moves ~1 s
    det.observe_clock(clock.s);
    const auto d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_EQ(d.signal_list(), "clock-jump");
    ASSERT_TRUE(d.suspended_for);
    EXPECT_EQ(*d.suspended_for, seconds(42));
    ASSERT_EQ(d.evidence.size(), 1u);
    EXPECT_NE(d.evidence[0].find("42.000 s"), std::string::npos) << d.evidence[0];
    // Consumed: the next decision starts from zero.
    EXPECT_FALSE(det.decide(clock.advance(seconds(1))).restored);
}

TEST(RestoreDetector, NtpStepIsNotARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_clock(clock.step(seconds(-37))); // the CANCEL_ON_SET timer fires for this too
    const auto d = det.decide(clock.advance(milliseconds(10)));
    EXPECT_FALSE(d.restored);
    EXPECT_TRUE(d.signals.empty());
    ASSERT_EQ(d.notes.size(), 1u);
    EXPECT_NE(d.notes[0].find("clock step"), std::string::npos) << d.notes[0];
    // Reported once.
    EXPECT_TRUE(det.decide(clock.s).notes.empty());
}

TEST(RestoreDetector, SmallSuspendBelowThresholdIsIgnored) {
    FakeClock clock;
    RestoreDetector det(RestoreDetectorConfig{.min_suspend_gap = seconds(2)});
    det.observe_clock(clock.s);
    det.observe_clock(clock.sleep(milliseconds(1500)));
    EXPECT_FALSE(det.decide(clock.s).restored);
    det.observe_clock(clock.sleep(milliseconds(2500)));
    EXPECT_TRUE(det.decide(clock.s).restored);
}

TEST(RestoreDetector, WatchRefireAloneIsNotARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_capture(capture("1", k_backend), clock.s);
    det.observe_watch_refire("device/vbd", clock.advance(milliseconds(5)));
    det.observe_watch_refire("control/shutdown", clock.s);
    det.observe_capture(capture("1", k_backend), clock.s);
    const auto d = det.decide(clock.s);
    EXPECT_FALSE(d.restored);
    EXPECT_EQ(d.signals, std::vector<RestoreSignal>{RestoreSignal::watch_refire});
    EXPECT_TRUE(d.evidence.empty());
    EXPECT_FALSE(d.notes.empty());
}

TEST(RestoreDetector, WatchRefireWithStateChangeIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_capture(capture("1", k_backend, "4"), clock.s);
    det.observe_watch_refire("device/vbd", clock.advance(milliseconds(5)));
    det.observe_capture(capture("1", k_backend, "3"), clock.advance(milliseconds(5)));
    const auto d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_TRUE(has(d, RestoreSignal::watch_refire));
    EXPECT_TRUE(has(d, RestoreSignal::vbd_state_changed));
}

TEST(RestoreDetector, WeakSignalsFarApartDoNotAddUp) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_capture(capture("1", k_backend, "4"), clock.s);
    det.observe_watch_refire("device/vbd", clock.s);
    EXPECT_FALSE(det.decide(clock.s).restored);
    det.observe_capture(capture("1", k_backend, "3"), clock.advance(seconds(120)));
    const auto d = det.decide(clock.s);
    EXPECT_FALSE(d.restored);
    EXPECT_EQ(d.signals, std::vector<RestoreSignal>{RestoreSignal::vbd_state_changed});
}

// Linux < 2.6.39 (CentOS 6): no CLOCK_BOOTTIME, so boottime reads as
// monotonic and a suspend shows only as a REALTIME-MONOTONIC step. That is
// weak: an NTP step alone is no restore, a step beside re-fired watches or
// a domid change is.
ClockSample without_boottime(ClockSample s) {
    s.boottime = s.monotonic;
    s.boottime_known = false;
    return s;
}

TEST(RestoreDetector, WithoutBoottimeAWallStepAloneIsNotARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(without_boottime(clock.s));
    det.observe_clock(without_boottime(clock.step(seconds(90))));
    const auto d = det.decide(without_boottime(clock.s));
    EXPECT_FALSE(d.restored);
    EXPECT_EQ(d.signals, std::vector<RestoreSignal>{RestoreSignal::wall_clock_step});
    EXPECT_FALSE(d.suspended_for.has_value());
}

TEST(RestoreDetector, WithoutBoottimeAWallStepAndReFiredWatchesAreARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(without_boottime(clock.s));
    det.observe_capture(capture("1", k_backend), without_boottime(clock.s));
    det.observe_clock(without_boottime(clock.sleep(seconds(600))));
    det.observe_watch_refire("device/vbd", without_boottime(clock.advance(milliseconds(5))));
    const auto d = det.decide(without_boottime(clock.s));
    EXPECT_TRUE(d.restored);
    EXPECT_TRUE(has(d, RestoreSignal::wall_clock_step));
    EXPECT_TRUE(has(d, RestoreSignal::watch_refire));
    EXPECT_FALSE(has(d, RestoreSignal::clock_jump));
}

TEST(RestoreDetector, WithoutBoottimeADomidChangeStillDecides) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(without_boottime(clock.s));
    det.observe_capture(capture("1", k_backend), without_boottime(clock.s));
    det.observe_capture(capture("2", k_backend), without_boottime(clock.advance(seconds(1))));
    const auto d = det.decide(without_boottime(clock.s));
    EXPECT_TRUE(d.restored);
    EXPECT_TRUE(has(d, RestoreSignal::domid_changed));
}

TEST(RestoreDetector, DomidChangeIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_capture(capture("1", k_backend), clock.s);
    // Same backend path on purpose: the domid alone must be enough.
    det.observe_capture(capture("2", k_backend), clock.advance(seconds(1)));
    const auto d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_EQ(d.signal_list(), "domid-changed");
    EXPECT_EQ(d.evidence, std::vector<std::string>{"domid: 1 -> 2"});
}

TEST(RestoreDetector, UniqueDomainIdChangeIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    auto a = capture("1", k_backend);
    a.unique_domain_id = "aaaa";
    auto b = a;
    b.unique_domain_id = "bbbb";
    det.observe_capture(a, clock.s);
    det.observe_capture(b, clock.s);
    EXPECT_EQ(det.decide(clock.s).signal_list(), "unique-domain-id-changed");
}

TEST(RestoreDetector, BackendPathChangeIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_capture(capture("1", k_backend), clock.s);
    det.observe_capture(capture("1", "/local/domain/0/backend/qdisk/1/51712"), clock.s);
    const auto d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_EQ(d.signal_list(), "backend-path-changed");
}

TEST(RestoreDetector, DataVanishedIsARestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_data_vanished(clock.s);
    EXPECT_EQ(det.decide(clock.s).signal_list(), "data-vanished");
}

TEST(RestoreDetector, SuspendHintIsRecordedButNeverDecides) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_suspend_hint(clock.advance(seconds(1)));
    const auto hint_time = clock.s.realtime;
    auto d = det.decide(clock.s);
    EXPECT_FALSE(d.restored);
    ASSERT_TRUE(d.suspend_hint_realtime);
    EXPECT_EQ(*d.suspend_hint_realtime, hint_time);
    // 23 ms later the guest freezes; after the restore the hint is attached.
    clock.advance(milliseconds(23));
    clock.sleep(seconds(300));
    det.observe_clock(clock.advance(seconds(1)));
    d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    ASSERT_TRUE(d.suspend_hint_realtime);
    EXPECT_EQ(*d.suspend_hint_realtime, hint_time);
}

TEST(RestoreDetector, RealRestoreShowsEverySignal) {
    // What the rig sees: clock jump, domid 1 -> 2 with the backend path, re-fires.
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_capture(capture("1", k_backend), clock.s);
    clock.sleep(seconds(95));
    det.observe_clock(clock.advance(seconds(1)));
    det.observe_watch_refire("device/vbd", clock.s);
    det.observe_capture(capture("2", "/local/domain/0/backend/vbd/2/51712"), clock.s);
    const auto d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_EQ(d.signal_list(), "clock-jump,watch-refire,domid-changed,backend-path-changed");
    EXPECT_EQ(det.last_capture()->domid, "2");
}

// Seen on the rig: the clock jump decided, the restore was verified, and
// 20 s later the domid/backend watches fired (xs_resume). Those are the same
// restore, not a second one.
TEST(RestoreDetector, EchoesOfAConcludedRestoreAreNotASecondRestore) {
    FakeClock clock;
    RestoreDetector det;
    det.observe_clock(clock.s);
    det.observe_capture(capture("1", k_backend), clock.s);
    clock.sleep(seconds(30));
    det.observe_clock(clock.advance(milliseconds(900)));
    ASSERT_TRUE(det.decide(clock.s).restored);
    const std::string moved = "/local/domain/0/backend/vbd/2/51712";
    det.rebase(capture("2", moved), clock.s);
    // The late watch firings: nothing changed against the new normal.
    clock.advance(seconds(20));
    det.observe_capture(capture("2", moved), clock.s);
    det.observe_watch_refire("domid", clock.s);
    det.observe_capture(capture("2", moved, "3"), clock.s); // a state blip
    auto d = det.decide(clock.s);
    EXPECT_FALSE(d.restored) << d.signal_list();
    // A real second save/restore still counts.
    det.observe_capture(capture("3", "/local/domain/0/backend/vbd/3/51712"),
                        clock.advance(seconds(1)));
    d = det.decide(clock.s);
    EXPECT_TRUE(d.restored);
    EXPECT_TRUE(has(d, RestoreSignal::domid_changed));
}

} // namespace
} // namespace guardian
