package net.wanrelay.it.wan;

import java.util.ArrayDeque;
import java.util.random.RandomGenerator;

/**
 * The timing model of one direction, with no I/O so it can be tested with made-up clocks.
 * For each arriving packet it decides: dropped (link cut, random loss, or queue full), or the
 * time it leaves the far end. A packet waits in a FIFO queue until the rate limiter has
 * serialised everything before it (size * 8 / rate), then travels for the one-way delay plus a
 * jitter sample; delivery times never go backwards, so packets are not reordered.
 * Not thread-safe: one reader thread per direction owns it.
 */
public final class LinkShaper {
  /** Why a packet was dropped, or that it passed. */
  public enum Verdict { PASS, LOST, QUEUE_FULL, CUT }

  private final RandomGenerator random;
  private final ArrayDeque<long[]> queued = new ArrayDeque<>(); // {departureNanos, size}
  private long queuedBytes;
  private long lastDeparture = Long.MIN_VALUE;
  private long lastDelivery = Long.MIN_VALUE;
  private long cutUntil = Long.MIN_VALUE;
  private long deliveryTime;

  public LinkShaper(RandomGenerator random) {
    this.random = random;
  }

  /** Drops everything that arrives before {@code untilNanos} (a link outage); Long.MIN_VALUE: no cut. */
  public void cutUntil(long untilNanos) {
    cutUntil = untilNanos;
  }

  /**
   * Decides the fate of a packet of {@code size} bytes arriving at {@code now}. On PASS,
   * {@link #deliveryTime()} tells when to write it out.
   */
  public Verdict admit(long now, int size, LinkSettings s) {
    if (cutUntil != Long.MIN_VALUE && now - cutUntil < 0) {
      return Verdict.CUT;
    }
    if (s.loss() > 0 && random.nextDouble() < s.loss()) {
      return Verdict.LOST;
    }
    long start = now;
    if (s.rateBitsPerSecond() > 0) {
      while (!queued.isEmpty() && queued.peekFirst()[0] - now <= 0) {
        queuedBytes -= queued.pollFirst()[1];
      }
      if ((s.queuePackets() > 0 && queued.size() >= s.queuePackets())
          || (s.queueBytes() > 0 && queuedBytes + size > s.queueBytes())) {
        return Verdict.QUEUE_FULL;
      }
      if (lastDeparture != Long.MIN_VALUE && lastDeparture - now > 0) {
        start = lastDeparture;
      }
      long departure = start + size * 8L * 1_000_000_000L / s.rateBitsPerSecond();
      queued.addLast(new long[] {departure, size});
      queuedBytes += size;
      lastDeparture = departure;
      start = departure;
    } else {
      queued.clear();
      queuedBytes = 0;
      lastDeparture = Long.MIN_VALUE;
    }
    long delivery = start + s.delayNanos();
    if (s.jitterNanos() > 0) {
      delivery += random.nextLong(-s.jitterNanos(), s.jitterNanos() + 1);
    }
    if (lastDelivery != Long.MIN_VALUE && delivery - lastDelivery < 0) {
      delivery = lastDelivery;
    }
    if (delivery - now < 0) {
      delivery = now;
    }
    lastDelivery = delivery;
    deliveryTime = delivery;
    return Verdict.PASS;
  }

  /** When the last packet that passed leaves the far end. */
  public long deliveryTime() {
    return deliveryTime;
  }

  /** Packets waiting for the rate limiter as of the last admitted packet. */
  public int queuedPackets() {
    return queued.size();
  }
}
