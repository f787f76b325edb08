package net.wanrelay.core.limits;

import java.time.Duration;

/**
 * What a TCP listener checks besides the session cap: its accept rate ({@code acceptRate} per
 * second, bucket of {@code acceptBurst}; 0 = unlimited), the relay-wide memory budget (null =
 * none) and the silent-session timeout (ZERO = never).
 */
public record AdmissionLimits(int acceptRate, int acceptBurst, MemoryBudget memory, Duration silentTimeout) {
  public static final AdmissionLimits NONE = new AdmissionLimits(0, 1, null, Duration.ZERO);

  /** A fresh bucket for one listener, or null when the rate is unlimited. */
  public AcceptRateLimiter newAcceptRateLimiter() {
    return acceptRate <= 0 ? null : new AcceptRateLimiter(acceptRate, acceptBurst);
  }
}
