package net.wanrelay.fuzz;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.UnpooledByteBufAllocator;

/**
 * Exact per-input leak check for the fuzz targets. With {@code -Dio.netty.allocator.type=unpooled}
 * (set by fuzz/pom.xml and fuzz/long-run.sh) every buffer the targets and the code under test
 * allocate, through {@link ByteBufAllocator#DEFAULT} (EmbeddedChannel, codecs) or {@code Unpooled.*},
 * comes from {@link UnpooledByteBufAllocator#DEFAULT}, which counts the heap and direct bytes of its
 * live buffers exactly and keeps no cache. A target marks the counters before an input and checks
 * them after it: a buffer that was not released shows up at once and names the input, where
 * Netty's leak detector needs PARANOID sampling (a stack trace per buffer touch) and a GC to notice.
 * Buffers that wrap an array ({@code Unpooled.wrappedBuffer}, and {@code Unpooled.copiedBuffer(byte[]...)},
 * which wraps a copy) own no allocator memory and are not counted: the targets check their input
 * buffers, made that way, by reference count.
 */
final class BufferLedger {
  private static final ByteBufAllocatorMetric METRIC = UnpooledByteBufAllocator.DEFAULT.metric();

  static {
    // Without this the channel's buffers would come from a pooled allocator whose counters
    // include its caches: the check would be silently blind, so refuse to run instead.
    if (ByteBufAllocator.DEFAULT != UnpooledByteBufAllocator.DEFAULT) {
      throw new IllegalStateException("the fuzz targets' leak check needs -Dio.netty.allocator.type=unpooled, the"
          + " default allocator is " + ByteBufAllocator.DEFAULT.getClass().getName());
    }
  }

  private BufferLedger() {}

  /** The allocator's live bytes now; call before the input touches any buffer. */
  static Mark mark() {
    return new Mark(METRIC.usedHeapMemory(), METRIC.usedDirectMemory());
  }

  /** Live heap and direct bytes at one point in time. */
  record Mark(long heap, long direct) {
    /** Fails when buffers allocated since this mark are still live, naming how many bytes of each kind. */
    void assertBalanced(String what) {
      long heapNow = METRIC.usedHeapMemory();
      long directNow = METRIC.usedDirectMemory();
      if (heapNow != heap || directNow != direct) {
        throw new AssertionError("buffer leak after " + what + ": heap " + signed(heapNow - heap) + " bytes, direct "
            + signed(directNow - direct) + " bytes still allocated (UnpooledByteBufAllocator counters)");
      }
    }

    private static String signed(long n) {
      return n > 0 ? "+" + n : Long.toString(n);
    }
  }
}
