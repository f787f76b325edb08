package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One address of a pool: its health state (rise/fall counting), open sessions and an EWMA of
 * observed latencies. Probe results arrive on one event loop, session connect results on others,
 * so the state machine is synchronized; the hot read ({@link #usable()}) is a volatile read.
 */
final class Member {
  enum State { UNKNOWN, UP, DOWN }

  /** What a check did to the member's place in the rotation. */
  enum Transition { NONE, CAME_UP, WENT_DOWN }

  /** Weight of a new latency sample in the moving average. */
  static final double EWMA_ALPHA = 0.3;

  final InetSocketAddress address;
  final String text;
  final AtomicInteger sessions = new AtomicInteger();
  private final int rise;
  private final int fall;
  private volatile State state = State.UNKNOWN;
  private volatile double probeEwma = Double.NaN;
  private volatile double connectEwma = Double.NaN;
  private volatile String lastResult = "none";
  private int passes;
  private int failures;

  Member(InetSocketAddress address, String text, int rise, int fall) {
    this.address = address;
    this.text = text;
    this.rise = rise;
    this.fall = fall;
  }

  boolean usable() {
    return state == State.UP;
  }

  State state() {
    return state;
  }

  /**
   * The member's RTT for lowest-rtt: the larger of the probe EWMA (connect plus data exchange) and
   * the session-connect EWMA, so a member that answers connects fast but data slowly is not made
   * to look fast by its own sessions; NaN before any sample.
   */
  double ewmaRttSeconds() {
    double p = probeEwma;
    double c = connectEwma;
    if (Double.isNaN(p)) {
      return c;
    }
    return Double.isNaN(c) ? p : Math.max(p, c);
  }

  String lastResult() {
    return lastResult;
  }

  synchronized int consecutiveFailures() {
    return failures;
  }

  synchronized int consecutivePasses() {
    return passes;
  }

  /** A latency sample from a passed probe. */
  synchronized void probeSample(long nanos) {
    probeEwma = ewma(probeEwma, nanos);
  }

  /** A latency sample from a session's connect. */
  synchronized void connectSample(long nanos) {
    connectEwma = ewma(connectEwma, nanos);
  }

  private static double ewma(double old, long nanos) {
    double s = nanos / 1e9;
    return Double.isNaN(old) ? s : old + EWMA_ALPHA * (s - old);
  }

  /**
   * Counts one check. The first result after start decides at once (a pool is usable as soon as
   * its first probes pass); later an UP member leaves after {@code fall} failures in a row and a
   * DOWN one returns after {@code rise} passes in a row.
   */
  synchronized Transition record(boolean ok, String detail) {
    lastResult = detail;
    if (ok) {
      failures = 0;
      passes++;
      if (state == State.UNKNOWN || (state == State.DOWN && passes >= rise)) {
        state = State.UP;
        return Transition.CAME_UP;
      }
    } else {
      passes = 0;
      failures++;
      if (state == State.UNKNOWN) {
        state = State.DOWN;
        return Transition.NONE;
      }
      if (state == State.UP && failures >= fall) {
        state = State.DOWN;
        return Transition.WENT_DOWN;
      }
    }
    return Transition.NONE;
  }
}
