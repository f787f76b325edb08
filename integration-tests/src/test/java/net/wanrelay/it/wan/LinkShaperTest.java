package net.wanrelay.it.wan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timing model with a made-up clock: every number here is exact. */
class LinkShaperTest {
  private static final long MS = 1_000_000L;

  @Test
  void delayAloneShiftsEveryPacketByTheOneWayDelay() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(1));
    LinkSettings s = LinkSettings.PASS_THROUGH.with("delay=25ms");
    for (long t = 0; t < 10; t++) {
      assertThat(shaper.admit(t * MS, 1500, s)).isEqualTo(LinkShaper.Verdict.PASS);
      assertThat(shaper.deliveryTime()).isEqualTo(t * MS + 25 * MS);
    }
  }

  @Test
  void rateLimitSerialisesBackToBackPacketsAtTheSetRate() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(1));
    // 1500 bytes at 12 Mbit/s take exactly 1 ms on the wire.
    LinkSettings s = LinkSettings.PASS_THROUGH.with("rate=12mbit delay=10ms queue=100");
    for (int i = 1; i <= 50; i++) {
      assertThat(shaper.admit(0, 1500, s)).isEqualTo(LinkShaper.Verdict.PASS);
      assertThat(shaper.deliveryTime()).isEqualTo(i * MS + 10 * MS);
    }
    assertThat(shaper.queuedPackets()).isEqualTo(50);
    // 20 ms later the first 20 have left the queue; the next one waits behind the other 30.
    assertThat(shaper.admit(20 * MS, 1500, s)).isEqualTo(LinkShaper.Verdict.PASS);
    assertThat(shaper.deliveryTime()).isEqualTo(51 * MS + 10 * MS);
    assertThat(shaper.queuedPackets()).isEqualTo(31);
  }

  @Test
  void fullQueueDropsTheTail() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(1));
    LinkSettings s = LinkSettings.PASS_THROUGH.with("rate=12mbit queue=10");
    int passed = 0;
    int dropped = 0;
    for (int i = 0; i < 25; i++) {
      if (shaper.admit(0, 1500, s) == LinkShaper.Verdict.PASS) {
        passed++;
      } else {
        dropped++;
      }
    }
    assertThat(passed).isEqualTo(10);
    assertThat(dropped).isEqualTo(15);
    LinkSettings bytes = LinkSettings.PASS_THROUGH.with("rate=12mbit queue=3000b");
    LinkShaper byBytes = new LinkShaper(new SplittableRandom(1));
    assertThat(byBytes.admit(0, 1500, bytes)).isEqualTo(LinkShaper.Verdict.PASS);
    assertThat(byBytes.admit(0, 1500, bytes)).isEqualTo(LinkShaper.Verdict.PASS);
    assertThat(byBytes.admit(0, 100, bytes)).isEqualTo(LinkShaper.Verdict.QUEUE_FULL);
  }

  @Test
  void lossDropsTheConfiguredFraction() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(99));
    LinkSettings s = LinkSettings.PASS_THROUGH.with("loss=1%");
    int n = 100_000;
    int lost = 0;
    for (int i = 0; i < n; i++) {
      if (shaper.admit(i, 100, s) == LinkShaper.Verdict.LOST) {
        lost++;
      }
    }
    double sigma = Math.sqrt(n * 0.01 * 0.99);
    assertThat((double) lost).isBetween(n * 0.01 - 4 * sigma, n * 0.01 + 4 * sigma);
  }

  @Test
  void jitterNeverReordersPackets() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(5));
    LinkSettings s = LinkSettings.PASS_THROUGH.with("delay=20ms jitter=5ms");
    long last = Long.MIN_VALUE;
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (int i = 0; i < 10_000; i++) {
      long now = i * 100_000L; // a packet every 0.1 ms, far closer than the jitter
      shaper.admit(now, 100, s);
      long d = shaper.deliveryTime();
      assertThat(d).isGreaterThanOrEqualTo(last);
      last = d;
      min = Math.min(min, d - now);
      max = Math.max(max, d - now);
    }
    assertThat(min).isGreaterThanOrEqualTo(15 * MS);
    assertThat(max).isLessThanOrEqualTo(25 * MS + 5 * MS);
  }

  @Test
  void cutDropsUntilItEnds() {
    LinkShaper shaper = new LinkShaper(new SplittableRandom(1));
    shaper.cutUntil(100 * MS);
    assertThat(shaper.admit(99 * MS, 100, LinkSettings.PASS_THROUGH)).isEqualTo(LinkShaper.Verdict.CUT);
    assertThat(shaper.admit(100 * MS, 100, LinkSettings.PASS_THROUGH)).isEqualTo(LinkShaper.Verdict.PASS);
    shaper.cutUntil(Long.MIN_VALUE);
    assertThat(shaper.admit(150 * MS, 100, LinkSettings.PASS_THROUGH)).isEqualTo(LinkShaper.Verdict.PASS);
  }
}
