package net.wanrelay.channel;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;

/**
 * Micro-benchmark (a main, not a test): single-stream throughput through a loopback trunk pair
 * versus straight to the same counting sink, side by side in one run (byte counts checked;
 * the tests check content by SHA-256). Run with
 * {@code java -cp <test classpath> net.wanrelay.channel.TrunkThroughputBench [MiB] [compression] [dedup]}.
 */
public final class TrunkThroughputBench {
  private TrunkThroughputBench() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    String compression = args.length > 1 ? args[1] : "off";
    // Third argument "dedup": both nodes de-duplicate (memory-only stores); rounds 2+ are repeats.
    DedupSettings dedup = args.length > 2 && args[2].equals("dedup")
        ? DedupSettings.builder().memoryBytes(2L * (mib << 20)).diskBytes(0).build() : null;
    byte[] data = new byte[mib << 20];
    Hashes.fill(new SplittableRandom(1), data);
    String expected = "";
    EventLoopGroup group = Transports.newGroup(2);
    AtomicLong received = new AtomicLong();
    Channel sink = TestServers.countingSink(group, received);
    try (LoopbackTrunk t = new LoopbackTrunk(group, TrunkSettings.defaults(), 1, compression, LoopbackTrunk.KEY,
        dedup, dedup)) {
      t.target = (InetSocketAddress) sink.localAddress();
      t.awaitUp(1);
      InetSocketAddress direct = (InetSocketAddress) sink.localAddress();
      // CPU seconds of this process per GB moved: steadier than Gbit/s on a shared, loaded machine.
      System.out.printf("%-10s %10s %10s %12s%n", "path", "MiB", "Gbit/s", "cpu s/GB");
      for (int round = 0; round < 3; round++) {
        long c0 = cpuNanos();
        double d = run(group, direct, data, expected);
        long c1 = cpuNanos();
        double w = run(group, t.frontAddress(), data, expected);
        long c2 = cpuNanos();
        double gb = data.length / 1e9;
        System.out.printf("%-10s %10d %10.2f %12.2f%n", "direct", mib, d, (c1 - c0) / 1e9 / gb);
        System.out.printf("%-10s %10d %10.2f %12.2f   (ratio %.2f)%n", "trunk", mib, w, (c2 - c1) / 1e9 / gb, w / d);
      }
    } finally {
      sink.close().sync();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static double run(EventLoopGroup group, InetSocketAddress to, byte[] data, String expected) throws Exception {
    long start = System.nanoTime();
    byte[] got = TestClients.sendAndCollect(group, to, data, 0, data.length).get(300, TimeUnit.SECONDS);
    double secs = (System.nanoTime() - start) / 1e9;
    if (got.length != 8 || java.nio.ByteBuffer.wrap(got).getLong() != data.length) {
      throw new AssertionError("byte count mismatch");
    }
    return data.length * 8.0 / secs / 1e9;
  }
}
