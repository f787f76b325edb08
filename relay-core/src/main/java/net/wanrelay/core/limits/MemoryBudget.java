package net.wanrelay.core.limits;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay-wide budget for session bytes the relay holds in its socket write queues. Above
 * {@code limit} new sessions are refused and reads pause (the queued bytes still drain to their
 * sockets); once usage falls to three quarters of the limit, the paused readers resume. Nothing
 * is dropped: a paused read just waits.
 */
public final class MemoryBudget {
  /** Someone whose read was held back; resumed on its own event loop. */
  public interface Parked {
    void resume();
  }

  private final long limit;
  private final long resumeBelow;
  private final AtomicLong used = new AtomicLong();
  private final ConcurrentLinkedQueue<Parked> parked = new ConcurrentLinkedQueue<>();
  private final Counter pauses;

  public MemoryBudget(long limit, MeterRegistry registry) {
    this.limit = limit;
    this.resumeBelow = limit - limit / 4;
    Gauge.builder("wanrelay.limits.memory.used", used, AtomicLong::get).baseUnit("bytes")
        .description("Session bytes queued for sockets, counted against limits.memory").register(registry);
    Gauge.builder("wanrelay.limits.memory.limit", () -> limit).baseUnit("bytes")
        .description("limits.memory").register(registry);
    pauses = Counter.builder("wanrelay.limits.reads.paused")
        .description("Reads held back because limits.memory was exceeded").register(registry);
  }

  public long limit() {
    return limit;
  }

  public long used() {
    return used.get();
  }

  public boolean exceeded() {
    return used.get() > limit;
  }

  public void add(long bytes) {
    used.addAndGet(bytes);
  }

  public void release(long bytes) {
    long now = used.addAndGet(-bytes);
    if (now <= resumeBelow && !parked.isEmpty()) {
      resumeAll();
    }
  }

  /** Holds a read back until usage falls to the resume mark. */
  public void park(Parked who) {
    pauses.increment();
    parked.add(who);
    // Usage may have fallen between the caller's check and now: never park with no one to wake us.
    if (used.get() <= resumeBelow) {
      resumeAll();
    }
  }

  private void resumeAll() {
    Parked p;
    while ((p = parked.poll()) != null) {
      p.resume();
    }
  }

  public long parkedCount() {
    return parked.size();
  }
}
