package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.testsupport.Hashes;
import net.wanrelay.testsupport.RefusedSessions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Session semantics over a real loopback trunk: half-close, resets, restart, auth, UDP, compression. */
class SessionBehaviourTest {
  private static final byte[] ASCII_HELLO = "hello".getBytes(StandardCharsets.US_ASCII);
  private EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private static Socket client(LoopbackTrunk t) throws IOException {
    Socket s = new Socket();
    s.connect(t.frontAddress(), 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  @Test
  void halfCloseTravelsBothWays() throws Exception {
    CompletableFuture<String> serverGot = new CompletableFuture<>();
    // Client closes first: the server sees EOF, still answers, then closes its side.
    try (ServerSocket replyAfterEof = BlockingServers.tcp(s -> {
          try {
            byte[] in = BlockingServers.readAll(s.getInputStream());
            s.getOutputStream().write(("got " + new String(in, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
          } catch (IOException e) {
            serverGot.completeExceptionally(e);
          }
        });
        // Server closes first: the client sees EOF, still sends, the server reads it.
        ServerSocket greetFirst = BlockingServers.tcp(s -> {
          try {
            s.getOutputStream().write("greeting".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            serverGot.complete(new String(BlockingServers.readAll(s.getInputStream()), StandardCharsets.US_ASCII));
          } catch (IOException e) {
            serverGot.completeExceptionally(e);
          }
        });
        LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      t.target = BlockingServers.addr(replyAfterEof);
      try (Socket c = client(t)) {
        c.getOutputStream().write(ASCII_HELLO);
        c.shutdownOutput();
        assertThat(new String(BlockingServers.readAll(c.getInputStream()), StandardCharsets.US_ASCII)).isEqualTo("got hello");
      }
      t.target = BlockingServers.addr(greetFirst);
      try (Socket c = client(t)) {
        assertThat(new String(BlockingServers.readAll(c.getInputStream()), StandardCharsets.US_ASCII)).isEqualTo("greeting");
        c.getOutputStream().write("late words".getBytes(StandardCharsets.US_ASCII));
        c.shutdownOutput();
        assertThat(serverGot.get(10, TimeUnit.SECONDS)).isEqualTo("late words");
      }
      LoopbackTrunk.await(() -> t.cpPeer().streamsActive() == 0 && t.spPeer().streamsActive() == 0, 5000, "streams closed");
    }
  }

  @Test
  void openToAClosedPortEndsAsResetAtTheClient() throws Exception {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      t.target = new InetSocketAddress("127.0.0.1", closedPort);
      // 0-RTT data, dropped with the refused stream
      RefusedSessions.assertReset(t.frontAddress(), ASCII_HELLO);
      LoopbackTrunk.await(() -> t.cpPeer().streamsActive() == 0 && t.spPeer().streamsActive() == 0, 5000, "streams closed");
    }
  }

  @Test
  void destinationOutsideTheAllowListIsDeniedAndCounted() throws Exception {
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      t.target = new InetSocketAddress("::1", 9); // loopback, but not in 127.0.0.0/8
      RefusedSessions.assertReset(t.frontAddress(), new byte[0]);
      LoopbackTrunk.await(() -> t.spPeer().openDenied() == 1, 5000, "denied counter");
      // Raw open through the API reports the reason.
      AtomicReference<Throwable> failure = new AtomicReference<>();
      t.link().openStream(new net.wanrelay.channel.frame.OpenRequest(net.wanrelay.channel.frame.StreamProtocol.TCP,
          new InetSocketAddress("::1", 9), null, 0), new StreamListener() {
            @Override
            public void onData(TrunkStream s, ByteBuf data) { data.release(); }
            @Override
            public void onFin(TrunkStream s) {}
            @Override
            public void onReset(TrunkStream s, ErrorCode code, String message) {}
            @Override
            public void onOpenFail(TrunkStream s, ErrorCode code, String message) {
              failure.set(new TrunkOpenException(code, message));
            }
          });
      LoopbackTrunk.await(() -> failure.get() != null, 5000, "OPEN_FAIL");
      assertThat(((TrunkOpenException) failure.get()).code()).isEqualTo(ErrorCode.DENIED);
    }
  }

  @Test
  void wrongKeyIsRefusedAndTheLinkStaysDown() throws Exception {
    byte[] wrong = "not-the-right-key-at-all".getBytes(StandardCharsets.US_ASCII);
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off", wrong)) {
      LoopbackTrunk.await(() -> t.cp.metrics().authFailures("bad_proof") >= 2, 10_000, "two refused attempts");
      assertThat(t.link().isUp()).isFalse();
      assertThat(t.sp.metrics().authFailures("peer_rejected")).isGreaterThanOrEqualTo(1);
      assertThat(t.cpRegistry.find("wanrelay.trunk.up").tag("peer", "sp").gauge().value()).isZero();
      RefusedSessions.assertReset(t.frontAddress(), new byte[0]);
    }
  }

  @Test
  void restartedPeerComesBackAndOpenSessionsAreReset() throws Exception {
    try (ServerSocket echo = BlockingServers.echo();
        LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 2, "off")) {
      t.awaitUp(2);
      t.target = BlockingServers.addr(echo);
      Socket open = client(t);
      open.getOutputStream().write(ASCII_HELLO);
      assertThat(open.getInputStream().readNBytes(5)).isEqualTo(ASCII_HELLO);

      t.sp.shutdown(Duration.ofMillis(300));
      // The open session ends promptly with a reset, not a hang.
      InputStream in = open.getInputStream();
      assertThatThrownBy(() -> {
        if (in.read() < 0) {
          throw new SocketException("EOF instead of reset");
        }
      }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
      open.close();
      LoopbackTrunk.await(() -> !t.link().isUp(), 5000, "link down");
      // The SP resets open streams (RST frames) just before it closes: the gauge follows the close.
      LoopbackTrunk.await(() -> t.cpRegistry.find("wanrelay.trunk.up").tag("peer", "sp").gauge().value() == 0, 5000,
          "trunk.up gauge 0");

      t.sp = t.startSp(t.spPort, "off");
      t.awaitUp(2);
      assertThat(t.cpPeer().reconnects()).isGreaterThanOrEqualTo(2);
      try (Socket c = client(t)) {
        c.getOutputStream().write("again".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(c.getInputStream().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("again");
      }
    }
  }

  @Test
  void drainLetsOpenSessionsFinishAndTakesNoNewOnes() throws Exception {
    try (ServerSocket echo = BlockingServers.echo();
        LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off")) {
      t.awaitUp(1);
      t.target = BlockingServers.addr(echo);
      Socket open = client(t);
      open.getOutputStream().write(ASCII_HELLO);
      assertThat(open.getInputStream().readNBytes(5)).isEqualTo(ASCII_HELLO);
      TrunkNode sp = t.sp;
      CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
        long start = System.nanoTime();
        sp.shutdown(Duration.ofSeconds(20));
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      });
      LoopbackTrunk.await(() -> t.link().connectionsUp() == 0, 5000, "CP saw GOAWAY");
      // New sessions are not put on the draining connection.
      RefusedSessions.assertReset(t.frontAddress(), new byte[0]);
      // The open one still works and ends cleanly.
      open.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(open.getInputStream().readNBytes(10), StandardCharsets.US_ASCII)).isEqualTo("still here");
      open.shutdownOutput();
      assertThat(open.getInputStream().read()).isEqualTo(-1);
      open.close();
      assertThat(drained.get(15, TimeUnit.SECONDS)).as("drain ended when the last stream did").isLessThan(15_000);
      t.sp = null;
    }
  }

  @Test
  void udpFlowsRoundTripAndExpireWhenIdle() throws Exception {
    TrunkSettings s = LoopbackTrunk.testSettings().toBuilder().udpIdleTimeout(Duration.ofMillis(1500)).build();
    try (DatagramSocket echo = BlockingServers.udpEcho();
        LoopbackTrunk t = new LoopbackTrunk(group, s, 1, "off")) {
      t.awaitUp(1);
      List<String> replies = new CopyOnWriteArrayList<>();
      CompletableFuture<ErrorCode> ended = new CompletableFuture<>();
      UdpFlow flow = t.link().openUdp((InetSocketAddress) echo.getLocalSocketAddress(),
          new InetSocketAddress("127.0.0.1", 40000), new UdpFlow.Receiver() {
            @Override
            public void onDatagram(UdpFlow f, ByteBuf d) {
              replies.add(d.toString(StandardCharsets.US_ASCII));
              d.release();
            }

            @Override
            public void onClosed(UdpFlow f, ErrorCode reason) {
              ended.complete(reason);
            }
          });
      for (int i = 0; i < 3; i++) {
        flow.send(Unpooled.copiedBuffer("dgram-" + i, StandardCharsets.US_ASCII));
      }
      LoopbackTrunk.await(() -> replies.size() == 3, 5000, "3 replies");
      assertThat(replies).containsExactlyInAnyOrder("dgram-0", "dgram-1", "dgram-2");
      assertThat(t.spPeer().rxPayload()).isEqualTo(21); // 3 x "dgram-N" crossed as DATAGRAMs
      assertThat(ended.get(10, TimeUnit.SECONDS)).isEqualTo(ErrorCode.IDLE);
      LoopbackTrunk.await(() -> t.spPeer().streamsActive() == 0 && t.cpPeer().streamsActive() == 0, 5000,
          "flow expired on both sides");
      assertThat(flow.isClosed()).isTrue();
      flow.send(Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII)); // dropped and released
    }
  }

  @Test
  void compressionShrinksTextAndLeavesRandomDataAlone() throws Exception {
    throughAdaptiveTrunkToSink(t -> {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; sb.length() < 4 << 20; i++) {
        sb.append("GET /api/v1/items/").append(i % 500).append(" HTTP/1.1\r\nHost: example.internal\r\n\r\n");
      }
      byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
      byte[] got = TestClients.sendAndCollect(group, t.frontAddress(), text, 0, text.length).get(30, TimeUnit.SECONDS);
      assertThat(HexFormat.of().formatHex(got)).isEqualTo(Hashes.sha256Hex(text));
      double saved = t.cpPeer().compressionSaved();
      assertThat(saved).as("text compressed").isGreaterThan(text.length * 0.5);
      assertThat(t.cpPeer().txBytes()).as("wire bytes below payload").isLessThan(text.length * 0.5);

      byte[] random = new byte[4 << 20];
      Hashes.fill(new SplittableRandom(7), random);
      double txBefore = t.cpPeer().txBytes();
      got = TestClients.sendAndCollect(group, t.frontAddress(), random, 0, random.length).get(30, TimeUnit.SECONDS);
      assertThat(HexFormat.of().formatHex(got)).isEqualTo(Hashes.sha256Hex(random));
      assertThat(t.cpPeer().compressionSaved() - saved).as("random data not shrunk").isLessThan(random.length * 0.01);
      assertThat(t.cpPeer().txBytes() - txBefore).isGreaterThanOrEqualTo(random.length);
    });
  }

  @Test
  void shortSessionsToADestinationThatNeverCompressesStopBeingSampled() throws Exception {
    throughAdaptiveTrunkToSink(t -> {
      for (int i = 0; i < 8; i++) {
        byte[] random = new byte[4096];
        Hashes.fill(new SplittableRandom(100 + i), random);
        byte[] got = TestClients.sendAndCollect(group, t.frontAddress(), random, 0, random.length).get(30, TimeUnit.SECONDS);
        assertThat(HexFormat.of().formatHex(got)).isEqualTo(Hashes.sha256Hex(random));
      }
      // Three sessions sampled and failed; the next five started without a sample.
      assertThat(t.cpPeer().compressionPresumedIncompressible()).isEqualTo(5);
      assertThat(t.cpPeer().compressionSaved()).isZero();
    });
  }

  private interface TrunkCase {
    void run(LoopbackTrunk t) throws Exception;
  }

  /** Runs {@code test} over a one-connection trunk with adaptive compression to a hashing sink. */
  private void throughAdaptiveTrunkToSink(TrunkCase test) throws Exception {
    Channel sink = TestServers.hashingSink(group, new AtomicLong());
    try (LoopbackTrunk t = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "adaptive")) {
      t.awaitUp(1);
      t.target = (InetSocketAddress) sink.localAddress();
      test.run(t);
    } finally {
      sink.close().sync();
    }
  }
}
