package net.wanrelay.core.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Holds what the client sends before its far leg is ready. Epoll reads once on its own when a FIN
 * arrives (even with AUTO_READ off), so data and the half-close can come before the copy path is
 * ready for them. This handler keeps them and hands them over, in order, at the first read
 * request: whoever owns the copy path asks for a read only once it can take data.
 */
public final class EarlyInbound extends ChannelDuplexHandler {
  private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
  private boolean inputShutdown;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      held.add(buf);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputShutdown = true;
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    handOver(ctx);
    ctx.read();
  }

  /** Leaves the pipeline, replaying what it held to the handlers after it. */
  private void handOver(ChannelHandlerContext ctx) {
    ArrayDeque<ByteBuf> replay = new ArrayDeque<>(held);
    held.clear();
    // A removed handler's context still forwards to the handlers after it.
    ctx.pipeline().remove(this);
    boolean any = !replay.isEmpty();
    ByteBuf buf;
    while ((buf = replay.poll()) != null) {
      ctx.fireChannelRead(buf);
    }
    if (any) {
      ctx.fireChannelReadComplete();
    }
    if (inputShutdown) {
      ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    // Removed without a hand-over (the session failed): drop what we held.
    ByteBuf buf;
    while ((buf = held.poll()) != null) {
      buf.release();
    }
  }
}
