package net.wanrelay.core.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;

/**
 * Closes a session in which no byte has moved either way within {@code timeout} of its accept:
 * the connect-and-say-nothing flood (slowloris) would otherwise hold its session slots until the
 * much longer idle timeout. The first byte in either direction (so server-first protocols are
 * safe) cancels the timer and removes this handler.
 */
public final class SilentSessionCloser extends ChannelDuplexHandler {
  private final TcpSession session;
  private final Duration timeout;
  private ScheduledFuture<?> timer;

  public SilentSessionCloser(TcpSession session, Duration timeout) {
    this.session = session;
    this.timeout = timeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timer = ctx.executor().schedule(() -> {
      if (!ctx.isRemoved()) {
        session.end(Outcome.SILENT_TIMEOUT);
        Sockets.reset(ctx.channel());
      }
    }, timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b && b.isReadable()) {
      ctx.pipeline().remove(this);
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf b && b.isReadable()) {
      ctx.pipeline().remove(this);
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
    }
    ctx.fireChannelInactive();
  }
}
