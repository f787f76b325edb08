package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The fuzz targets' leak check must see a leaked buffer, wherever it was allocated, and nothing else. */
class BufferLedgerTest {

  @Test
  void balancedWorkPasses() {
    BufferLedger.Mark mark = BufferLedger.mark();
    ByteBuf heap = Unpooled.buffer(100).writeZero(100);
    ByteBuf direct = ByteBufAllocator.DEFAULT.directBuffer(64);
    ByteBuf slice = heap.retainedSlice(); // a derived buffer: its memory is the parent's
    direct.writeBytes(slice);
    slice.release();
    heap.release();
    direct.release();
    assertThatCode(() -> mark.assertBalanced("balanced work")).doesNotThrowAnyException();
  }

  @Test
  void leakedHeapBufferIsReported() {
    BufferLedger.Mark mark = BufferLedger.mark();
    ByteBuf leaked = Unpooled.buffer(37).writeZero(37);
    try {
      assertThatThrownBy(() -> mark.assertBalanced("a leaky input"))
          .hasMessageContaining("a leaky input").hasMessageContaining("heap +37 bytes");
    } finally {
      leaked.release();
    }
  }

  @Test
  void bufferLeakedByAHandlerInAnEmbeddedChannelIsReported() {
    BufferLedger.Mark mark = BufferLedger.mark();
    ByteBuf[] kept = new ByteBuf[1];
    // A handler that swallows its input and keeps a buffer of its own from the channel's allocator.
    EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        kept[0] = ctx.alloc().directBuffer(10).writeZero(10);
      }
    });
    ch.writeInbound(Unpooled.buffer(5).writeZero(5));
    ch.finishAndReleaseAll();
    try {
      assertThatThrownBy(() -> mark.assertBalanced("the channel"))
          .hasMessageContaining("heap +5 bytes").hasMessageContaining("direct +10 bytes");
    } finally {
      kept[0].release();
    }
  }

  @Test
  void wrappedArraysAreNotCounted() {
    // Unpooled.copiedBuffer(byte[]) wraps a copy: no allocator memory, so the targets check such
    // input buffers by reference count instead.
    BufferLedger.Mark mark = BufferLedger.mark();
    ByteBuf wrapped = Unpooled.copiedBuffer(new byte[12]);
    assertThatCode(() -> mark.assertBalanced("wrapping")).doesNotThrowAnyException();
    wrapped.release();
  }

  @Test
  void aBufferReleasedTwiceShowsAsANegativeBalance() {
    ByteBuf before = Unpooled.buffer(8);
    BufferLedger.Mark mark = BufferLedger.mark();
    before.release(); // memory allocated before the mark, freed inside it
    assertThatThrownBy(() -> mark.assertBalanced("the input")).hasMessageContaining("heap -8 bytes");
  }
}
