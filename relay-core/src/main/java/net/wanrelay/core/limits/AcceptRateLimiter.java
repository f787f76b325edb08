package net.wanrelay.core.limits;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket for new connections on one listener: {@code ratePerSecond} tokens a second, at
 * most {@code burst} saved up. A connection that finds the bucket empty is refused at once, so a
 * connect flood costs the relay one accept and one close per attempt, nothing more.
 */
public final class AcceptRateLimiter {
  // Tokens are kept in billionths (one token = 1e9 units), so a token per second is one unit per
  // nanosecond and refills add up exactly (no floating-point drift).
  private static final long UNIT = TimeUnit.SECONDS.toNanos(1);
  private final long rate;
  private final long capacity;
  private final long fullAfterNanos;
  private final LongSupplier nanoClock;
  private long units;
  private long lastNanos;

  public AcceptRateLimiter(int ratePerSecond, int burst, LongSupplier nanoClock) {
    if (ratePerSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("rate and burst must be >= 1");
    }
    this.rate = ratePerSecond;
    this.capacity = burst * UNIT;
    this.fullAfterNanos = capacity / rate + 1;
    this.nanoClock = nanoClock;
    this.units = capacity;
    this.lastNanos = nanoClock.getAsLong();
  }

  public AcceptRateLimiter(int ratePerSecond, int burst) {
    this(ratePerSecond, burst, System::nanoTime);
  }

  /** Takes one token if there is one. Child channels of a listener run on several loops: synchronized. */
  public synchronized boolean tryAcquire() {
    long now = nanoClock.getAsLong();
    long elapsed = now - lastNanos;
    if (elapsed > 0) {
      units = Math.min(capacity, units + Math.min(elapsed, fullAfterNanos) * rate);
      lastNanos = now;
    }
    if (units >= UNIT) {
      units -= UNIT;
      return true;
    }
    return false;
  }
}
