package net.wanrelay.core.tcp;

import java.util.concurrent.atomic.AtomicInteger;

/** A global cap on open sessions; a session that cannot acquire a slot is refused at once. */
public final class SessionLimiter {
  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  public SessionLimiter(int max) {
    this.max = max;
  }

  public boolean tryAcquire() {
    while (true) {
      int current = open.get();
      if (current >= max) {
        return false;
      }
      if (open.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  public void release() {
    open.decrementAndGet();
  }

  public int open() {
    return open.get();
  }
}
