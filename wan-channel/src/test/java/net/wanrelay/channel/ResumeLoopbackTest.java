package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streams that outlive their trunk connection, over a real loopback trunk: the trunk socket is
 * killed with a TCP RST mid-transfer, the CP reconnects, and the transfer completes byte-exact
 * without the client noticing; past the grace time, or to a restarted peer, the client gets a RST.
 */
class ResumeLoopbackTest {
  private static final int SIZE = 24 * 1024 * 1024;
  private EventLoopGroup group;
  private final byte[] data = new byte[SIZE];

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
    new SplittableRandom(9).nextBytes(data);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Closes the first trunk connection of {@code node} with SO_LINGER 0: the peer sees a RST. */
  static void killTrunk(TrunkNode node) {
    Channel ch = node.connections().get(0).channel();
    ch.config().setOption(ChannelOption.SO_LINGER, 0);
    ch.close();
  }

  @Test
  void uploadSurvivesTrunkResetsFromBothSides() throws Exception {
    AtomicLong received = new AtomicLong();
    AtomicBoolean killedByCp = new AtomicBoolean();
    AtomicBoolean killedBySp = new AtomicBoolean();
    LoopbackTrunk[] trunk = new LoopbackTrunk[1];
    // The sink kills the trunk from inside its read path, so the cut lands mid-transfer however fast loopback is.
    AtomicLong peakHeld = new AtomicLong();
    Channel sink = TestServers.hashingSink(group, k -> {
      long n = received.addAndGet(k);
      if (trunk[0] != null) {
        peakHeld.accumulateAndGet(trunk[0].cpPeer().replayHeld(), Math::max);
      }
      if (n > SIZE / 4 && killedByCp.compareAndSet(false, true)) {
        killTrunk(trunk[0].cp);
      } else if (n > SIZE * 2 / 3 && killedBySp.compareAndSet(false, true)) {
        killTrunk(trunk[0].sp);
      }
    });
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      trunk[0] = t;
      t.awaitUp(1);
      t.target = (InetSocketAddress) sink.localAddress();
      byte[] answer = TestClients.sendAndCollect(group, t.frontAddress(), data, 0, SIZE).get(60, TimeUnit.SECONDS);

      assertThat(answer).as("SHA-256 of what the server read").isEqualTo(Hashes.sha256().digest(data));
      assertThat(received.get()).isEqualTo(SIZE);
      assertThat(killedByCp).isTrue();
      assertThat(killedBySp).isTrue();
      assertThat(t.cpPeer().streamsResumed()).isEqualTo(2);
      assertThat(t.spPeer().streamsResumed()).isEqualTo(2);
      assertThat(t.cpPeer().reconnects()).isGreaterThanOrEqualTo(2);
      LoopbackTrunk.await(() -> t.cpPeer().streamsActive() == 0 && t.spPeer().streamsActive() == 0, 5000, "streams gone");
      assertThat(t.cpPeer().streamsSuspended()).isZero();
      // What the CP held for a resend never exceeded one stream's largest window, and is all released.
      assertThat(peakHeld.get()).isPositive().isLessThanOrEqualTo(t.settings.maxWindow);
      assertThat(t.cpPeer().replayHeld()).isZero();
      assertThat(t.spPeer().replayHeld()).isZero();
      System.out.printf("resume upload: %d MiB, replayed cp=%.0f sp=%.0f bytes, peak held for replay on the CP %d bytes%n",
          SIZE >> 20, t.cpPeer().replayedBytes(), t.spPeer().replayedBytes(), peakHeld.get());
    } finally {
      sink.close().awaitUninterruptibly();
    }
  }

  @Test
  void downloadSurvivesATrunkReset() throws Exception {
    Channel source = sourceServer();
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "lz4")) {
      t.awaitUp(1);
      t.target = (InetSocketAddress) source.localAddress();
      MessageDigest d = Hashes.sha256();
      long n = 0;
      boolean killed = false;
      try (Socket c = new Socket()) {
        c.connect(t.frontAddress(), 5000);
        c.setSoTimeout(20_000);
        c.setReceiveBufferSize(64 * 1024);
        InputStream in = c.getInputStream();
        byte[] buf = new byte[64 * 1024];
        int r;
        while ((r = in.read(buf)) >= 0) {
          d.update(buf, 0, r);
          n += r;
          if (!killed && n > SIZE / 3) {
            killed = true;
            killTrunk(t.sp);
          }
        }
      }
      assertThat(n).isEqualTo(SIZE);
      assertThat(d.digest()).isEqualTo(Hashes.sha256().digest(data));
      assertThat(t.spPeer().streamsResumed()).isEqualTo(1);
      assertThat(t.cpPeer().streamsResumed()).isEqualTo(1);
    } finally {
      source.close().awaitUninterruptibly();
    }
  }

  @Test
  void pastTheGraceTimeTheClientGetsAReset() throws Exception {
    TrunkSettings s = LoopbackTrunk.testSettings().toBuilder().resumeGrace(Duration.ofMillis(400)).build();
    try (java.net.ServerSocket echo = BlockingServers.echo(); LoopbackTrunk t = new LoopbackTrunk(group, s, 1, "off")) {
      t.awaitUp(1);
      t.target = BlockingServers.addr(echo);
      try (Socket c = echoedThrough(t, "ping")) {
        t.link().stopReconnecting(); // no replacement connection this time
        killTrunk(t.cp);
        LoopbackTrunk.await(() -> t.cpPeer().streamsSuspended() == 1, 5000, "stream suspended");
        InputStream in = c.getInputStream();
        assertThatThrownBy(() -> {
          if (in.read() < 0) {
            throw new AssertionError("EOF instead of reset");
          }
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
      }
      LoopbackTrunk.await(() -> t.spPeer().resumeResets("grace_expired") == 1, 5000, "SP reset after grace");
      assertThat(t.cpPeer().resumeResets("grace_expired")).isEqualTo(1);
      assertThat(t.cpPeer().streamsResumed()).isZero();
      LoopbackTrunk.await(() -> t.cpPeer().streamsActive() == 0 && t.spPeer().streamsActive() == 0
          && t.cpPeer().streamsSuspended() == 0 && t.spPeer().streamsSuspended() == 0, 5000, "gauges back to 0");
    }
  }

  @Test
  void aRestartedPeerDoesNotResume() throws Exception {
    try (java.net.ServerSocket echo = BlockingServers.echo();
        LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      t.target = BlockingServers.addr(echo);
      try (Socket c = echoedThrough(t, "ping")) {
        // The SP process "dies" without a word: its socket resets and its state is gone.
        TrunkNode old = t.sp;
        killTrunk(old);
        old.shutdown(Duration.ZERO);
        LoopbackTrunk.await(() -> t.cpPeer().streamsSuspended() == 1, 5000, "stream suspended");
        t.sp = t.startSp(t.spPort, "off");
        InputStream in = c.getInputStream();
        assertThatThrownBy(() -> {
          if (in.read() < 0) {
            throw new AssertionError("EOF instead of reset");
          }
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
      }
      assertThat(t.cpPeer().resumeResets("peer_restarted")).isEqualTo(1);
      assertThat(t.cpPeer().streamsResumed()).isZero();
      // New sessions work on the new connection.
      echoedThrough(t, "again").close();
    }
  }

  /** A client connection through the trunk's front whose {@code word} came back from the echo server. */
  private static Socket echoedThrough(LoopbackTrunk t, String word) throws java.io.IOException {
    Socket c = new Socket();
    try {
      c.connect(t.frontAddress(), 5000);
      c.setSoTimeout(10_000);
      c.getOutputStream().write(word.getBytes());
      assertThat(c.getInputStream().readNBytes(word.length())).isEqualTo(word.getBytes());
      return c;
    } catch (java.io.IOException | AssertionError e) {
      c.close();
      throw e;
    }
  }

  /** Sends {@link #data} to every client, then closes. */
  private Channel sourceServer() throws InterruptedException {
    return new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }
}
