package net.wanrelay.core.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import net.wanrelay.core.net.Transport;

/**
 * One health check of one address, run on one event loop without blocking: connect, then (when
 * configured) send the probe bytes and expect a reply that starts with the expected bytes, all
 * within the timeout. With nothing to send, the connect alone is the check; with bytes to send and
 * nothing to expect, any reply byte passes. The channel is closed on every path and the result is
 * reported exactly once.
 */
final class HealthProbe extends ChannelInboundHandlerAdapter {
  /** Receives the result: passed or not, latency (start to pass) and a short reason. */
  interface Result {
    void done(boolean ok, long nanos, String detail);
  }

  private final byte[] expect;
  private final ProbeRun run;
  private int matched;

  private HealthProbe(byte[] expect, Result result) {
    this.expect = expect;
    this.run = new ProbeRun(result);
  }

  /** Starts a probe; returns its channel so the owner can close it on shutdown. */
  static Channel start(Transport transport, EventLoop loop, InetSocketAddress address, long timeoutMillis,
      byte[] send, byte[] expect, Result result) {
    HealthProbe probe = new HealthProbe(expect, result);
    ChannelFuture connect = new Bootstrap()
        .group(loop)
        .channelFactory(transport.socketChannels())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeoutMillis))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_LINGER, 0) // no TIME_WAIT pile-up from a probe every second
        .handler(probe)
        .connect(address);
    probe.run.arm(connect, timeoutMillis, send);
    return connect.channel();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    run.channel(ctx.channel());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (run.finished() || !(msg instanceof ByteBuf buf)) {
        return;
      }
      if (expect.length == 0) {
        finish(buf.isReadable(), "replied");
        return;
      }
      while (buf.isReadable() && matched < expect.length) {
        if (buf.readByte() != expect[matched]) {
          finish(false, "unexpected_reply");
          return;
        }
        matched++;
      }
      if (matched == expect.length) {
        finish(true, "expected_reply");
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    finish(false, "closed");
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    finish(false, "error");
  }

  private void finish(boolean ok, String detail) {
    run.finish(ok, detail);
  }
}
