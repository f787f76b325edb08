package net.wanrelay.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

/**
 * What "nothing leaked" means after a fault case, per relay process: open file descriptors back
 * within {@link #FD_MARGIN} of the count before the case, direct memory (Netty's buffers are JDK
 * direct buffers here, so {@code jvm_buffer_memory_used_bytes{id="direct"}} covers them, pooled
 * chunks included) within {@link #DIRECT_MARGIN}, and no session or trunk stream left open.
 */
final class LeakCheck {
  /** A few fds come and go on their own (a reconnecting trunk socket, the admin connection). */
  static final int FD_MARGIN = 6;
  /** Netty's pool may keep one more chunk cached after a burst; a leak of streams' buffers is far more. */
  static final long DIRECT_MARGIN = 12L << 20;
  static final Duration SETTLE = Duration.ofSeconds(15);

  /** A relay's counts at one moment. */
  record Baseline(RelayNode relay, int fds, double directBytes) {
    static Baseline of(RelayNode relay) {
      return new Baseline(relay, relay.openFds(), relay.metric("jvm_buffer_memory_used_bytes", "id=\"direct\""));
    }
  }

  private LeakCheck() {}

  /** Waits (up to {@link #SETTLE}) for sessions and streams to drain, then compares with {@code before}. */
  static String assertBackTo(Baseline before) {
    RelayNode r = before.relay();
    r.awaitMetric(SETTLE, "wanrelay_sessions_active", v -> v == 0);
    r.awaitMetric(SETTLE, "wanrelay_trunk_streams_active", v -> v == 0);
    int fds = r.awaitFdsAtMost(before.fds() + FD_MARGIN, SETTLE);
    assertThat(fds).as("%s open fds (before the case: %d)", r, before.fds()).isLessThanOrEqualTo(before.fds() + FD_MARGIN);
    double direct = r.metric("jvm_buffer_memory_used_bytes", "id=\"direct\"");
    assertThat(direct).as("%s direct memory in bytes (before the case: %.0f)", r, before.directBytes())
        .isLessThanOrEqualTo(before.directBytes() + DIRECT_MARGIN);
    // Netty reports a leaked buffer when it was collected and the next buffer is allocated.
    r.gc();
    r.metric("jvm_buffer_memory_used_bytes");
    assertThat(r.output()).as("%s output", r).doesNotContain("LEAK:");
    return String.format("%s: fds %d -> %d, direct %.1f -> %.1f MiB", r.node(), before.fds(), fds,
        before.directBytes() / (1 << 20), direct / (1 << 20));
  }
}
