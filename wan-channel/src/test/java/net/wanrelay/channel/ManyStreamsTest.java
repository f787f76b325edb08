package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** 1,000 concurrent TCP sessions over one trunk connection, 1 MiB each, byte-exact. */
class ManyStreamsTest {
  private static final int STREAMS = 1000;
  private static final int SIZE = 1 << 20;
  private EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Test
  void thousandConcurrentStreamsOfOneMebibyteArriveIntact() throws Exception {
    byte[] base = new byte[2 * SIZE];
    Hashes.fill(new SplittableRandom(42), base);
    AtomicLong received = new AtomicLong();
    Channel sink = TestServers.hashingSink(group, received);
    // 1 GiB through paranoid leak tracking can starve the event loops for seconds on a loaded
    // 2-core machine; this test is about the bytes, so a starved heartbeat must not end the trunk.
    TrunkSettings settings = LoopbackTrunk.testSettings().toBuilder().heartbeatTimeout(Duration.ofSeconds(60)).build();
    try (LoopbackTrunk t = new LoopbackTrunk(group, settings, 1, "off")) {
      t.target = (InetSocketAddress) sink.localAddress();
      t.awaitUp(1);
      List<CompletableFuture<byte[]>> answers = new ArrayList<>();
      List<byte[]> expected = new ArrayList<>();
      for (int i = 0; i < STREAMS; i++) {
        int off = (int) ((i * 104_729L) % SIZE);
        MessageDigest d = Hashes.sha256();
        d.update(base, off, SIZE);
        expected.add(d.digest());
        answers.add(TestClients.sendAndCollect(group, t.frontAddress(), base, off, SIZE));
      }
      int ok = 0;
      for (int i = 0; i < STREAMS; i++) {
        byte[] got = answers.get(i).get(90, TimeUnit.SECONDS);
        assertThat(HexFormat.of().formatHex(got)).as("stream %d", i).isEqualTo(HexFormat.of().formatHex(expected.get(i)));
        ok++;
      }
      assertThat(ok).isEqualTo(STREAMS);
      assertThat(received.get()).isEqualTo((long) STREAMS * SIZE);
      assertThat(t.cpPeer().txPayload()).isEqualTo((double) STREAMS * SIZE);
      assertThat(t.spPeer().rxPayload()).isEqualTo((double) STREAMS * SIZE);
      // Exactly one trunk connection carried them all (no per-session TCP handshakes to the SP).
      assertThat(t.link().connections()).hasSize(1);
      LoopbackTrunk.await(() -> t.cpPeer().streamsActive() == 0 && t.spPeer().streamsActive() == 0, 10_000,
          "all streams closed");
      assertThat(t.spPeer().bufferedBytes()).isZero();
      assertThat(t.cpPeer().bufferedBytes()).isZero();
    } finally {
      sink.close().sync();
    }
  }
}
