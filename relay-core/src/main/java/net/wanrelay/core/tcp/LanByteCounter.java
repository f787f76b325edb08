package net.wanrelay.core.tcp;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Counts a session's payload bytes on the client socket (the LAN side) for routes whose copy
 * path is not ours (the trunk bridge): reads are client-to-server, writes server-to-client.
 */
public final class LanByteCounter extends ChannelDuplexHandler {
  private final TcpSession session;
  private final Counter clientToServer;
  private final Counter serverToClient;

  public LanByteCounter(TcpSession session, Counter clientToServer, Counter serverToClient) {
    this.session = session;
    this.clientToServer = clientToServer;
    this.serverToClient = serverToClient;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      int n = buf.readableBytes();
      clientToServer.increment(n);
      session.bytesClientToServer += n;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      int n = buf.readableBytes();
      serverToClient.increment(n);
      session.bytesServerToClient += n;
    }
    ctx.write(msg, promise);
  }
}
