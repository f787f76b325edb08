package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local socket of a bridge closes on its own event loop once both directions have ended. A
 * socket shut down both ways reports EPOLLHUP on every epoll_wait until it is closed, so a close
 * that waits for a hop through the stream's (busy) loop keeps the socket's loop spinning.
 */
class BridgeCloseTest {
  private EventLoopGroup group;
  private EventLoopGroup clientLoops;

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
    clientLoops = Transports.newGroup(1);
  }

  @AfterEach
  void tearDown() {
    clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Test
  void orderlyCloseNeedsNoTurnOfTheStreamLoop() throws Exception {
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    // The server answers, ends its side, then waits for the client's end.
    try (ServerSocket server = BlockingServers.tcp(s -> {
          try {
            s.getInputStream().read(new byte[16]);
            s.getOutputStream().write("reply".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            BlockingServers.readAll(s.getInputStream());
          } catch (IOException ignored) {
            // the test fails on the client side
          }
        });
        LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      // Client sockets live on a loop of their own, never the trunk connection's.
      Channel front = new ServerBootstrap().group(clientLoops).channel(Transports.serverChannel(clientLoops))
          .childOption(ChannelOption.AUTO_READ, false)
          .childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelActive(ChannelHandlerContext ctx) {
                  ctx.pipeline().remove(this);
                  accepted.complete(ctx.channel());
                  t.link().openTcp(ctx.channel(), BlockingServers.addr(server),
                      (InetSocketAddress) ctx.channel().remoteAddress());
                }
              });
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket client = new Socket()) {
        client.connect(front.localAddress(), 5000);
        client.setSoTimeout(10_000);
        client.getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(BlockingServers.readAll(client.getInputStream()), StandardCharsets.US_ASCII))
            .isEqualTo("reply");
        Channel relaySide = accepted.get(5, TimeUnit.SECONDS);
        assertThat(relaySide.eventLoop()).isNotSameAs(t.link().connections().get(0).eventLoop());

        EventLoop streamLoop = t.link().connections().get(0).eventLoop();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        streamLoop.execute(() -> {
          blocked.countDown();
          try {
            release.await(20, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        try {
          assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
          client.shutdownOutput();
          // Both directions of the relay's socket have ended: it closes while the stream loop is busy.
          assertThat(relaySide.closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
        } finally {
          release.countDown();
        }
      } finally {
        front.close().sync();
      }
      // The stream still ends cleanly afterwards (orderly close, no reset counted).
      LoopbackTrunk.await(() -> t.link().connections().get(0).activeStreams() == 0, 10_000, "stream closed");
    }
  }
}
