package net.wanrelay.core.tcp;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;

/**
 * Copies bytes from its channel to the peer channel with backpressure: it asks for the next read
 * only while the peer is writable, and the peer's writability change (seen by the peer's own
 * CopyHandler) resumes reading. AUTO_READ is off on both channels, so memory per direction is
 * bounded by one read buffer plus the peer's high water mark. A FIN is carried as a half-close,
 * an RST as an RST.
 */
final class CopyHandler extends ChannelInboundHandlerAdapter {
  private final Channel peer;
  private final TcpSession session;
  private final boolean fromClient;
  private final Counter bytes;

  CopyHandler(Channel peer, TcpSession session, boolean fromClient, Counter bytes) {
    this.peer = peer;
    this.session = session;
    this.fromClient = fromClient;
    this.bytes = bytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf) || !peer.isActive()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int n = buf.readableBytes();
    bytes.increment(n);
    if (fromClient) {
      session.bytesClientToServer += n;
    } else {
      session.bytesServerToClient += n;
    }
    peer.write(buf, peer.voidPromise());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
    if (peer.isWritable()) {
      ctx.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // Our channel drained below its low water mark: the peer may read again.
    if (ctx.channel().isWritable() && peer.isActive()) {
      peer.read();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // The sender half-closed: forward its FIN after the bytes already queued.
      if (session.inputDone(fromClient)) {
        session.end(Outcome.COMPLETED);
        Sockets.flushAndClose(peer);
        Sockets.flushAndClose(ctx.channel());
      } else {
        Sockets.flushAndShutdownOutput(peer);
      }
    } else if (evt instanceof IdleStateEvent) {
      session.end(Outcome.IDLE_TIMEOUT);
      ctx.close();
      peer.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    session.end(Outcome.COMPLETED);
    Sockets.flushAndClose(peer);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // An abort on one side becomes an abort on the other; the session ended by reset.
    session.end(cause instanceof IOException ? Outcome.RESET : Outcome.ERROR);
    Sockets.reset(peer);
    ctx.close();
  }
}
