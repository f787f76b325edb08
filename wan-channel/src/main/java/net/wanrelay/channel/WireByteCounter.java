package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * First handler of a trunk pipeline: counts the bytes on the socket (WAN side) into
 * {@code wanrelay_trunk_bytes_total{peer,direction}}. The peer is known only after the
 * handshake; bytes before that are added when it is set.
 */
final class WireByteCounter extends ChannelDuplexHandler {
  private TrunkMetrics.Peer peer;
  private long earlyRx;
  private long earlyTx;

  void peer(TrunkMetrics.Peer p) {
    peer = p;
    p.rxBytes.increment(earlyRx);
    p.txBytes.increment(earlyTx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    long n = size(msg);
    if (peer != null) {
      peer.rxBytes.increment(n);
    } else {
      earlyRx += n;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    long n = size(msg);
    if (peer != null) {
      peer.txBytes.increment(n);
    } else {
      earlyTx += n;
    }
    ctx.write(msg, promise);
  }

  private static long size(Object msg) {
    if (msg instanceof ByteBuf b) {
      return b.readableBytes();
    }
    if (msg instanceof ByteBufHolder h) {
      return h.content().readableBytes();
    }
    return 0;
  }
}
