package net.wanrelay.core.limits;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Sits at the head of a session socket's pipeline: counts the bytes queued for the socket against
 * the {@link MemoryBudget} until the write completes (or fails), and holds a read request back
 * while the budget is exceeded. Every read of a session socket (AUTO_READ is off) passes here, so
 * this pauses every route the same way.
 */
public final class MemoryBudgetHandler extends ChannelDuplexHandler implements MemoryBudget.Parked {
  public static final String NAME = "memory-budget";

  private final MemoryBudget budget;
  private ChannelHandlerContext ctx;
  private boolean readHeld;

  public MemoryBudgetHandler(MemoryBudget budget) {
    this.budget = budget;
  }

  /** A handler for another socket of the same session (its server leg), on the same budget. */
  public MemoryBudgetHandler sameBudget() {
    return new MemoryBudgetHandler(budget);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    long n = msg instanceof ByteBuf b ? b.readableBytes() : msg instanceof ByteBufHolder h ? h.content().readableBytes() : 0;
    if (n == 0) {
      ctx.write(msg, promise);
      return;
    }
    budget.add(n);
    if (promise.isVoid()) {
      // A void promise takes no listener; keep its contract (a failure reaches exceptionCaught).
      ChannelPromise tracked = ctx.newPromise();
      tracked.addListener(f -> {
        budget.release(n);
        if (!f.isSuccess()) {
          ctx.fireExceptionCaught(f.cause());
        }
      });
      ctx.write(msg, tracked);
    } else {
      promise.addListener(f -> budget.release(n));
      ctx.write(msg, promise);
    }
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    if (budget.exceeded()) {
      if (!readHeld) {
        readHeld = true;
        budget.park(this);
      }
      return;
    }
    ctx.read();
  }

  /** Called from any thread once the budget has room again. */
  @Override
  public void resume() {
    ChannelHandlerContext c = ctx;
    c.executor().execute(() -> {
      if (!readHeld) {
        return;
      }
      readHeld = false;
      if (c.channel().isActive() && !c.isRemoved()) {
        read(c);
      }
    });
  }

  boolean readHeld() {
    return readHeld;
  }
}
