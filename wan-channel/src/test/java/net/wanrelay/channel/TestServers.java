package net.wanrelay.channel;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;

/** Servers for loopback tests. */
final class TestServers {
  private TestServers() {}

  /**
   * Reads everything, and at EOF answers with the SHA-256 (32 bytes) of what it read, then
   * closes. Proves byte-exact transfer and carries a half-close end to end.
   */
  static Channel hashingSink(EventLoopGroup group, AtomicLong received) throws InterruptedException {
    return sink(group, received::addAndGet, true);
  }

  /** Like {@link #hashingSink(EventLoopGroup, AtomicLong)}, telling {@code onRead} the size of every read as it happens. */
  static Channel hashingSink(EventLoopGroup group, java.util.function.LongConsumer onRead) throws InterruptedException {
    return sink(group, onRead, true);
  }

  /** Like {@link #hashingSink} but answers with the byte count (8 bytes) instead of a digest. */
  static Channel countingSink(EventLoopGroup group, AtomicLong received) throws InterruptedException {
    return sink(group, received::addAndGet, false);
  }

  private static Channel sink(EventLoopGroup group, java.util.function.LongConsumer onRead, boolean hash)
      throws InterruptedException {
    return new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              final MessageDigest digest = Hashes.sha256();
              long count;

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                count += b.readableBytes();
                if (hash) {
                  digest.update(b.nioBuffer());
                }
                onRead.accept(b.readableBytes());
                b.release();
              }

              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownEvent) {
                  ctx.writeAndFlush(hash ? Unpooled.wrappedBuffer(digest.digest()) : Unpooled.buffer(8).writeLong(count)).addListener(ChannelFutureListener.CLOSE);
                }
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  /** Accepts connections and never reads from them (a stalled receiver). */
  static Channel pausedSink(EventLoopGroup group, io.netty.channel.group.ChannelGroup children)
      throws InterruptedException {
    return new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.SO_RCVBUF, 64 * 1024)
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            children.add(ctx.channel());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }
}
