package net.wanrelay.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.pmt.PmtState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prober on loopback without queues or rules (SO_MARK needs CAP_NET_ADMIN, so root only): with
 * nobody answering the probe, the connection is the NO_PEER leg and carries data; a refused port
 * is FAILED and learns nothing.
 */
class ProberLoopbackTest {
  private MultiThreadIoEventLoopGroup group;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void setUp() {
    assumeTrue(Epoll.isAvailable(), "epoll needed");
    assumeTrue(net.wanrelay.discovery.e2e.NamespaceTopologyAccess.isRoot(), "SO_MARK needs CAP_NET_ADMIN");
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  }

  @AfterEach
  void tearDown() {
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private Prober prober() {
    return new Prober(group, new Prober.Config(OptionFormat.DEFAULT, 0x77, Duration.ofSeconds(2),
        Duration.ofSeconds(2), false), registry);
  }

  @Test
  void unansweredProbeIsTheNoPeerLegAndCarriesData() throws Exception {
    try (ServerSocket ss = new ServerSocket()) {
      ss.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread echo = new Thread(() -> {
        try (Socket s = ss.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          out.write(in.readNBytes(5));
          out.flush();
        } catch (Exception ignored) {
          // test ends
        }
      });
      echo.start();
      PeerMappingTable pmt = new PeerMappingTable(registry);
      InetSocketAddress server = (InetSocketAddress) ss.getLocalSocketAddress();
      ProbeOutcome o = prober().probeAndLearn(new InetSocketAddress("127.0.0.1", 0), server, pmt)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(o).isInstanceOf(ProbeOutcome.NoPeer.class);
      io.netty.channel.Channel ch = ((ProbeOutcome.NoPeer) o).channel();
      CompletableFuture<String> got = new CompletableFuture<>();
      ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
          got.complete(msg.toString(StandardCharsets.UTF_8));
        }
      });
      ch.config().setAutoRead(true);
      ch.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8));
      assertThat(got.get(5, TimeUnit.SECONDS)).isEqualTo("hello");
      ch.close().sync();
      echo.join(5000);
      assertThat(pmt.lookup(server.getAddress(), server.getPort()).state()).isEqualTo(PmtState.NO_PEER);
    }
  }

  @Test
  void refusedIsFailedAndLearnsNothing() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = ss.getLocalPort();
    }
    PeerMappingTable pmt = new PeerMappingTable(registry);
    ProbeOutcome o = prober().probeAndLearn(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", port), pmt).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(o).isInstanceOf(ProbeOutcome.Failed.class);
    assertThat(((ProbeOutcome.Failed) o).cause().getMessage()).containsIgnoringCase("refused");
    assertThat(pmt.snapshot()).isEmpty();
  }
}
