package net.wanrelay.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Turns every Netty leak report into a test failure. Registered for all tests through JUnit's
 * extension auto-detection (see META-INF/services), with leak detection at PARANOID from the
 * surefire argLine. Netty reports a leak only after the leaked buffer was collected and another
 * buffer was allocated, so after each test we collect and allocate a few times before checking.
 */
public final class LeakGuard implements AfterEachCallback {
  private static final List<String> LEAKS = new ArrayList<>();

  static {
    ByteBufUtil.setLeakListener((resourceType, records) -> {
      synchronized (LEAKS) {
        LEAKS.add(resourceType + "\n" + records);
      }
    });
  }

  @Override
  public void afterEach(ExtensionContext context) {
    String report = collectLeaks();
    if (report != null) {
      throw new AssertionError("Netty ByteBuf leak detected during " + context.getDisplayName() + ":\n" + report);
    }
  }

  /** Forces pending leak reports out and returns them, or null when there were none. */
  public static String collectLeaks() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      System.runFinalization();
      for (int j = 0; j < 64; j++) {
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        pooled.release();
        ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
        unpooled.release();
      }
    }
    synchronized (LEAKS) {
      if (LEAKS.isEmpty()) {
        return null;
      }
      String all = String.join("\n----\n", LEAKS);
      LEAKS.clear();
      return all;
    }
  }
}
