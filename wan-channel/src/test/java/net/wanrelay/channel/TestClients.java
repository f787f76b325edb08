package net.wanrelay.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DuplexChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** Netty clients for loopback tests. */
final class TestClients {
  private TestClients() {}

  /**
   * Connects, sends {@code data[off, off+len)}, half-closes, and completes with everything the
   * server answered until it closed.
   */
  static CompletableFuture<byte[]> sendAndCollect(EventLoopGroup group, InetSocketAddress to, byte[] data, int off,
      int len) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    new Bootstrap().group(group).channel(Transports.socketChannel(group))
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            ch.writeAndFlush(Unpooled.wrappedBuffer(data, off, len)).addListener(f -> {
              if (f.isSuccess()) {
                ((DuplexChannel) ch).shutdownOutput();
              } else {
                result.completeExceptionally(f.cause());
                ch.close();
              }
            });
          }

          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] chunk = new byte[b.readableBytes()];
            b.readBytes(chunk);
            b.release();
            answer.write(chunk, 0, chunk.length);
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            result.complete(answer.toByteArray());
          }

          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
          }
        })
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .connect(to).addListener(f -> {
          if (!f.isSuccess()) {
            result.completeExceptionally(f.cause());
          }
        });
    return result;
  }
}
