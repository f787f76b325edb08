package net.wanrelay.core.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryBudgetHandlerTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final MemoryBudget budget = new MemoryBudget(1000, registry);
  private final AtomicInteger readsPassed = new AtomicInteger();
  private final EmbeddedChannel channel = new EmbeddedChannel();

  MemoryBudgetHandlerTest() {
    // Head side of the budget handler: counts the read requests that get through it.
    channel.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
      @Override
      public void read(ChannelHandlerContext ctx) {
        readsPassed.incrementAndGet();
        ctx.read();
      }
    });
    channel.pipeline().addLast(new MemoryBudgetHandler(budget));
  }

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
  }

  private double pauses() {
    return registry.get("wanrelay.limits.reads.paused").counter().count();
  }

  private static ByteBuf bytes(int n) {
    return Unpooled.buffer(n).writeZero(n);
  }

  @Test
  void queuedBytesCountUntilTheWriteCompletes() {
    channel.write(bytes(600));
    channel.write(bytes(300), channel.voidPromise());
    assertThat(budget.used()).isEqualTo(900);
    channel.flush();
    assertThat(budget.used()).isZero();
    ByteBuf out;
    long written = 0;
    while ((out = channel.readOutbound()) != null) {
      written += out.readableBytes();
      out.release();
    }
    assertThat(written).isEqualTo(900);
  }

  @Test
  void readsPauseAboveTheBudgetAndResumeWhenItDrains() {
    channel.read();
    assertThat(readsPassed.get()).isEqualTo(1);

    channel.write(bytes(1200));
    assertThat(budget.exceeded()).isTrue();
    channel.read();
    channel.read();
    assertThat(readsPassed.get()).as("held while over budget").isEqualTo(1);
    assertThat(pauses()).as("one pause per held reader, not per request").isEqualTo(1.0);
    assertThat(budget.parkedCount()).isEqualTo(1);

    channel.flush();
    channel.runPendingTasks();
    assertThat(budget.used()).isZero();
    assertThat(readsPassed.get()).as("the held read went through").isEqualTo(2);
    assertThat(budget.parkedCount()).isZero();
    ByteBuf out = channel.readOutbound();
    assertThat(out.readableBytes()).isEqualTo(1200);
    out.release();
  }

  @Test
  void aFailedVoidWriteStillReachesExceptionCaughtAndReleasesItsBytes() {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        seen.set(cause);
      }
    });
    channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
        io.netty.util.ReferenceCountUtil.release(msg);
        promise.setFailure(new IOException("socket gone"));
      }
    });
    channel.writeAndFlush(bytes(500), channel.voidPromise());
    assertThat(budget.used()).isZero();
    assertThat(seen.get()).hasMessage("socket gone");
  }
}
