package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * De-duplication through a real loopback trunk pair: the same data twice, a 1%-edited version,
 * both nodes restarted on the same store directories, and a wiped receiver store. Every output
 * is checked by SHA-256 (the sink answers with the digest of what reached it); the wire bytes are
 * the CP's trunk tx counter (frame headers, tokens, pings and all).
 */
class DedupTrunkTest {
  @TempDir Path dir;
  EventLoopGroup group;
  Channel sink;
  LoopbackTrunk trunk;

  @BeforeEach
  void setUp() throws Exception {
    group = Transports.newGroup(2);
    sink = TestServers.hashingSink(group, new AtomicLong());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (trunk != null) {
      trunk.close();
    }
    sink.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void repeatsEditsRestartsAndAWipedStore() throws Exception {
    runScenario(64);
  }

  @Test
  @Tag("bench")
  void repeatsEditsRestartsAndAWipedStore256MiB() throws Exception {
    runScenario(256);
  }

  @Test
  void nodesWithoutDedupStillTalkToANodeWithIt() throws Exception {
    trunk = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off", LoopbackTrunk.KEY,
        settings("cp"), null);
    trunk.target = (InetSocketAddress) sink.localAddress();
    trunk.awaitUp(1);
    byte[] data = random(2 << 20, 7);
    double first = transferRatio(data);
    double second = transferRatio(data);
    assertThat(first).isGreaterThan(0.99);
    assertThat(second).isGreaterThan(0.99); // no dedup negotiated: the repeat costs the same
    assertThat(counter(trunk.cpRegistry, "wanrelay.dedup.plain.bytes")).isZero();
  }

  private void runScenario(int mib) throws Exception {
    byte[] data = random(mib << 20, 1);
    start();

    double first = transferRatio(data);
    assertThat(first).as("first transfer (cold stores)").isBetween(0.99, 1.02);

    double second = transferRatio(data);
    assertThat(second).as("same data again").isLessThanOrEqualTo(0.02);

    byte[] edited = edited(data, 0.01, 2048, 2);
    double third = transferRatio(edited);
    assertThat(third).as("1%% changed in 2 KiB edits").isLessThanOrEqualTo(0.10);

    assertThat(counter(trunk.cpRegistry, "wanrelay.dedup.ref.bytes")).isGreaterThan(data.length);
    assertThat(counter(trunk.cpRegistry, "wanrelay.dedup.literal.bytes")).isGreaterThanOrEqualTo(data.length);
    assertThat(gauge(trunk.spRegistry, "wanrelay.dedup.store.disk.bytes")).isGreaterThan(data.length);

    // Both nodes restarted on the same directories: the disk tiers still hold the chunks.
    trunk.close();
    trunk = null;
    start();
    double afterRestart = transferRatio(data);
    assertThat(afterRestart).as("after restarting both nodes").isLessThanOrEqualTo(0.05);
    assertThat(counter(trunk.spRegistry, "wanrelay.dedup.asks")).isZero();

    // The receiver's store is wiped while the sender still believes it has every chunk.
    trunk.close();
    trunk = null;
    deleteTree(dir.resolve("sp"));
    start();
    double wiped = transferRatio(data);
    assertThat(counter(trunk.spRegistry, "wanrelay.dedup.asks")).as("asks").isGreaterThan(0);
    assertThat(counter(trunk.cpRegistry, "wanrelay.dedup.supply.bytes")).isGreaterThan(0);
    assertThat(wiped).as("wiped receiver: refs, asks, supplies").isGreaterThan(0.5);
    // And the receiver learnt the chunks again: the next repeat is cheap once more.
    assertThat(transferRatio(data)).isLessThanOrEqualTo(0.02);
  }

  private void start() throws Exception {
    trunk = new LoopbackTrunk(group, LoopbackTrunk.testSettings(), 1, "off", LoopbackTrunk.KEY,
        settings("cp"), settings("sp"));
    trunk.target = (InetSocketAddress) sink.localAddress();
    trunk.awaitUp(1);
  }

  private DedupSettings settings(String node) {
    // A long flush delay: on this shared machine a reader thread can stall for tens of ms, and
    // every flush in mid-chunk costs one chunk of references (the ratios are what is tested).
    return DedupSettings.builder().store(dir.resolve(node)).memoryBytes(16L << 20).diskBytes(2L << 30)
        .flushDelay(java.time.Duration.ofMillis(50)).build();
  }

  /** Sends {@code data} CP -> SP -> sink; asserts the sink got exactly it; returns wire/plain. */
  private double transferRatio(byte[] data) throws Exception {
    double before = trunk.cpPeer().txBytes();
    byte[] digest = TestClients.sendAndCollect(group, trunk.frontAddress(), data, 0, data.length)
        .get(300, TimeUnit.SECONDS);
    assertThat(digest).as("SHA-256 of what reached the server").isEqualTo(Hashes.sha256().digest(data));
    double ratio = (trunk.cpPeer().txBytes() - before) / data.length;
    System.out.printf("dedup trunk: %d MiB, wire/plain %.4f%n", data.length >> 20, ratio);
    return ratio;
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    Hashes.fill(new SplittableRandom(seed), b);
    return b;
  }

  /** A copy with {@code fraction} of its bytes overwritten in random {@code editSize}-byte runs. */
  private static byte[] edited(byte[] data, double fraction, int editSize, long seed) {
    byte[] out = data.clone();
    SplittableRandom r = new SplittableRandom(seed);
    int edits = (int) (data.length * fraction / editSize);
    byte[] run = new byte[editSize];
    for (int i = 0; i < edits; i++) {
      r.nextBytes(run);
      System.arraycopy(run, 0, out, r.nextInt(data.length - editSize), editSize);
    }
    return out;
  }

  private static double counter(SimpleMeterRegistry registry, String name) {
    return registry.find(name).functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
  }

  private static double gauge(SimpleMeterRegistry registry, String name) {
    return registry.find(name).gauges().stream().mapToDouble(g -> g.value()).sum();
  }

  private static void deleteTree(Path p) throws Exception {
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
