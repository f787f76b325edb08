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

  private static final java.util.Map<byte[], java.nio.ByteBuffer> DIRECT = new java.util.WeakHashMap<>();

  /**
   * One direct copy per data array, shared by all clients: written as wrapped NIO buffers, so the
   * sockets need no per-chunk copy and (PARANOID) leak tracking does not slow the load generator.
   */
  private static synchronized java.nio.ByteBuffer directCopy(byte[] data) {
    return DIRECT.computeIfAbsent(data, d -> java.nio.ByteBuffer.allocateDirect(d.length).put(d).flip());
  }

  /**
   * Connects, sends {@code data[off, off+len)}, half-closes, and completes with everything the
   * server answered until it closed.
   */
  static CompletableFuture<byte[]> sendAndCollect(EventLoopGroup group, InetSocketAddress to, byte[] data, int off,
      int len) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    java.nio.ByteBuffer direct = directCopy(data);
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    new Bootstrap().group(group).channelFactory(Transports.socketChannels(group))
        .handler(new ChannelInboundHandlerAdapter() {
          private int sent;
          private boolean finished;

          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            pump(ctx.channel());
          }

          @Override
          public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx.channel());
          }

          /** Writes 64 KiB chunks while the socket is writable, then half-closes. */
          private void pump(Channel ch) {
            while (sent < len && ch.isWritable()) {
              int n = Math.min(64 * 1024, len - sent);
              int at = sent;
              sent += n; // before write(): a write can re-enter pump() through a writability change
              ch.write(Unpooled.wrappedBuffer(direct.duplicate().position(off + at).limit(off + at + n).slice()));
              if (sent == len && !finished) {
                finished = true;
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                  if (f.isSuccess()) {
                    ((DuplexChannel) ch).shutdownOutput();
                  } else {
                    result.completeExceptionally(f.cause());
                    ch.close();
                  }
                });
                return;
              }
            }
            ch.flush();
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
