package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A half-close sends FIN and leaves the input open, on epoll (direct shutdown) and on NIO. */
class HalfCloseTest {
  @Test
  void defaultTransportChannel() throws Exception { // epoll on Linux
    EventLoopGroup group = Transports.newGroup(1);
    try {
      halfCloseKeepsTheInputOpen(group, Transports.socketChannels(group));
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  @Test
  void nioChannel() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      halfCloseKeepsTheInputOpen(group, NioSocketChannel::new);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private static void halfCloseKeepsTheInputOpen(EventLoopGroup group, ChannelFactory<SocketChannel> factory)
      throws Exception {
    CompletableFuture<byte[]> serverRead = new CompletableFuture<>();
    CompletableFuture<byte[]> clientRead = new CompletableFuture<>();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try (ServerSocket server = BlockingServers.tcp(s -> {
      try {
        // Reads to EOF (the client's FIN), then answers on the still open direction.
        serverRead.complete(BlockingServers.readAll(s.getInputStream()));
        s.getOutputStream().write("after your FIN".getBytes(StandardCharsets.US_ASCII));
        s.close();
      } catch (java.io.IOException e) {
        serverRead.completeExceptionally(e);
      }
    })) {
      Bootstrap b = new Bootstrap().group(group)
          .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ByteBuf buf = (ByteBuf) msg;
              byte[] bytes = new byte[buf.readableBytes()];
              buf.readBytes(bytes).release();
              got.writeBytes(bytes);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
              if (evt instanceof ChannelInputShutdownEvent) {
                clientRead.complete(got.toByteArray());
                ctx.close();
              }
            }
          });
      Channel ch = b.channelFactory(factory).connect(BlockingServers.addr(server)).sync().channel();
      CompletableFuture<ChannelFuture> shut = new CompletableFuture<>();
      ch.writeAndFlush(Unpooled.copiedBuffer("request", StandardCharsets.US_ASCII))
          .addListener(f -> shut.complete(HalfClose.shutdownOutput((DuplexChannel) ch)));
      ChannelFuture result = shut.get(5, TimeUnit.SECONDS).await();
      assertThat(result.isSuccess()).isTrue();
      assertThat(((DuplexChannel) ch).isOutputShutdown()).isTrue();
      assertThat(new String(serverRead.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII)).isEqualTo("request");
      assertThat(new String(clientRead.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII)).isEqualTo("after your FIN");
      ch.closeFuture().await(5, TimeUnit.SECONDS);
    }
  }
}
