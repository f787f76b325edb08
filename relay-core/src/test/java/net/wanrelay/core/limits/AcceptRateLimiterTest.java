package net.wanrelay.core.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AcceptRateLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000);

  private int acquired(AcceptRateLimiter limiter, int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; i++) {
      if (limiter.tryAcquire()) {
        n++;
      }
    }
    return n;
  }

  @Test
  void aFullBucketAdmitsTheBurstThenRefuses() {
    AcceptRateLimiter limiter = new AcceptRateLimiter(10, 5, now::get);
    assertThat(acquired(limiter, 20)).isEqualTo(5);
  }

  @Test
  void tokensComeBackAtTheRateAndNeverBeyondTheBurst() {
    AcceptRateLimiter limiter = new AcceptRateLimiter(10, 5, now::get);
    acquired(limiter, 5);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(300)); // 3 tokens
    assertThat(acquired(limiter, 10)).isEqualTo(3);
    now.addAndGet(TimeUnit.SECONDS.toNanos(60)); // would be 600, capped at the burst
    assertThat(acquired(limiter, 100)).isEqualTo(5);
  }

  @Test
  void partialTokensAddUp() {
    AcceptRateLimiter limiter = new AcceptRateLimiter(1, 1, now::get);
    assertThat(limiter.tryAcquire()).isTrue();
    for (int i = 0; i < 9; i++) {
      now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
      assertThat(limiter.tryAcquire()).as("after %d00 ms", i + 1).isFalse();
    }
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
    assertThat(limiter.tryAcquire()).isTrue();
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new AcceptRateLimiter(0, 1, now::get)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AcceptRateLimiter(1, 0, now::get)).isInstanceOf(IllegalArgumentException.class);
  }
}
