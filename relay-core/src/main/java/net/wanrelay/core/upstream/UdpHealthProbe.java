package net.wanrelay.core.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import net.wanrelay.core.net.Transport;

/**
 * One UDP health check: a connected datagram socket sends the probe payload and expects a reply
 * that starts with the expected bytes (or any reply) within the timeout. An ICMP port unreachable
 * fails it at once. The socket is closed on every path and the result reported exactly once.
 */
final class UdpHealthProbe extends SimpleChannelInboundHandler<DatagramPacket> {
  private final byte[] expect;
  private final ProbeRun run;

  private UdpHealthProbe(byte[] expect, HealthProbe.Result result) {
    this.expect = expect;
    this.run = new ProbeRun(result);
  }

  static Channel start(Transport transport, EventLoop loop, InetSocketAddress address, long timeoutMillis,
      byte[] send, byte[] expect, HealthProbe.Result result) {
    UdpHealthProbe probe = new UdpHealthProbe(expect, result);
    ChannelFuture connect = new Bootstrap().group(loop).channel(transport.datagramChannel()).handler(probe).connect(address);
    probe.run.arm(connect, timeoutMillis, send);
    return connect.channel();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    run.channel(ctx.channel());
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
    ByteBuf content = packet.content();
    boolean ok = content.readableBytes() >= expect.length
        && ByteBufUtil.equals(content, content.readerIndex(), Unpooled.wrappedBuffer(expect), 0, expect.length);
    finish(ok, ok ? "expected_reply" : "unexpected_reply");
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    finish(false, "unreachable");
  }

  private void finish(boolean ok, String detail) {
    run.finish(ok, detail);
  }
}
