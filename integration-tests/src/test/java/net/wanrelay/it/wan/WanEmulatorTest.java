package net.wanrelay.it.wan;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.wanrelay.it.netns.Libc;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.TopologyExtension;
import net.wanrelay.it.netns.Traffic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The emulator in a real topology: measured delay, loss, rate, outages and option stripping. */
class WanEmulatorTest {
  @RegisterExtension
  static final TopologyExtension NET = new TopologyExtension();

  @Test
  void asymmetricDelaysAddUpInTheRoundTrip() throws Exception {
    Topology t = NET.topology();
    t.wan().set("c2s", "delay=30ms");
    t.wan().set("s2c", "delay=10ms");
    try (Traffic.UdpEcho echo = Traffic.udpEcho(t, "server", 7, true);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 7)) {
      Traffic.udpRoundTrips(c, 3, 64);
      List<Long> rtts = Traffic.udpRoundTrips(c, 20, 64);
      assertThat(rtts).hasSize(20);
      assertThat(Traffic.median(rtts) / 1e6).isBetween(36.0, 44.0);
      assertThat(echo.received()).isEqualTo(23);
    }
  }

  @Test
  void onePercentLossStaysWithinFourSigmaOfTheBinomialMean() throws Exception {
    Topology t = NET.topology();
    t.wan().set("c2s", "loss=1%");
    int n = 20_000;
    long rcvbufErrorsBefore = udpCounter(t, "server", "RcvbufErrors");
    try (Traffic.UdpEcho sink = Traffic.udpEcho(t, "server", 9, false);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 9)) {
      byte[] payload = new byte[100];
      for (int i = 0; i < n; i++) {
        c.send(new DatagramPacket(payload, payload.length));
        if (i % 200 == 199) {
          Thread.sleep(2); // stay far below what the emulator's reader can take, so only loss= drops
        }
      }
      Map<String, Long> stats = awaitSettled(t, "c2s", n);
      long lost = stats.get("c2s.lost");
      awaitReceived(sink, n - lost);
      // A busy machine may let the sink's socket buffer overflow; the kernel counts those apart.
      long overflowed = udpCounter(t, "server", "RcvbufErrors") - rcvbufErrorsBefore;
      double mean = n * 0.01;
      double sigma = Math.sqrt(n * 0.01 * 0.99);
      System.out.printf("loss 1%%: %d of %d lost (expected %.0f +- %.1f at 4 sigma)%n", lost, n, mean, 4 * sigma);
      assertThat((double) lost).isBetween(mean - 4 * sigma, mean + 4 * sigma);
      assertThat(sink.received() + overflowed).isEqualTo(n - lost); // nothing lost but what loss= dropped
      assertThat(stats.get("c2s.queue_drops")).isZero();
    }
  }

  @Test
  void rateLimitHoldsTcpGoodputJustBelowTheSetRate() throws Exception {
    Topology t = NET.topology();
    t.wan().set("both", "delay=5ms rate=100mbit queue=1000");
    long bytes = 16L << 20;
    try (Traffic.TcpSink sink = Traffic.tcpSink(t, "server", 5002)) {
      long start = System.nanoTime();
      Traffic.Digest sent = Traffic.sendTcp(t, "client", t.address("server"), 5002, bytes, 3);
      assertThat(sink.next(60)).isEqualTo(sent);
      double mbit = bytes * 8 / ((System.nanoTime() - start) / 1e9) / 1e6;
      System.out.printf("TCP goodput at rate=100mbit: %.1f Mbit/s%n", mbit);
      // Payload is ~96.5% of the wire rate; the limiter must neither leak nor starve the flow.
      // The UDP flood test measures the limiter exactly; here the lower bound only guards against a
      // shaper that starves TCP, kept loose for a busy 2-core machine.
      assertThat(mbit).isBetween(40.0, 100.0);
    }
  }

  @Test
  void udpFloodLeavesAtTheSetRate() throws Exception {
    Topology t = NET.topology();
    t.wan().set("c2s", "rate=100mbit queue=300");
    int size = 1400;
    int wire = size + 28; // IPv4 and UDP headers: the limiter counts IP packet bytes
    long rcvbufErrorsBefore = udpCounter(t, "server", "RcvbufErrors");
    try (Traffic.UdpEcho sink = Traffic.udpEcho(t, "server", 13, false);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 13)) {
      byte[] payload = new byte[size];
      // Offer about 137 Mbit/s for 1.5 s: 12 datagrams of 1428 wire bytes per millisecond.
      long start = System.nanoTime();
      int sent = 0;
      for (int ms = 0; ms < 1500; ms++) {
        for (int k = 0; k < 12; k++) {
          c.send(new DatagramPacket(payload, payload.length));
          sent++;
        }
        long due = start + (ms + 1) * 1_000_000L;
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
      }
      Map<String, Long> stats = awaitSettled(t, "c2s", 1); // wait for the queue to drain
      awaitReceived(sink, stats.get("c2s.passed"));
      double offered = (double) sent * wire * 8 / ((System.nanoTime() - start) / 1e9) / 1e6;
      // Datagrams the sink's socket buffer could not take still crossed the link.
      long overflowed = udpCounter(t, "server", "RcvbufErrors") - rcvbufErrorsBefore;
      double delivered = (double) (sink.received() + overflowed) * wire * 8 / (sink.receivingNanos() / 1e9) / 1e6;
      System.out.printf("UDP flood: offered >= %.1f Mbit/s, delivered %.1f Mbit/s at rate=100mbit, %d queue drops%n",
          offered, delivered, stats.get("c2s.queue_drops"));
      assertThat(stats.get("c2s.queue_drops")).isPositive(); // it really was over the rate
      assertThat(delivered).isBetween(93.0, 101.0);
    }
  }

  @Test
  void cutDropsEverythingUntilItEnds() throws Exception {
    Topology t = NET.topology();
    try (Traffic.UdpEcho sink = Traffic.udpEcho(t, "server", 11, false);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 11)) {
      byte[] payload = new byte[64];
      t.wan().cut(Duration.ofMillis(700));
      for (int i = 0; i < 10; i++) {
        c.send(new DatagramPacket(payload, payload.length));
      }
      Thread.sleep(900);
      for (int i = 0; i < 10; i++) {
        c.send(new DatagramPacket(payload, payload.length));
      }
      awaitReceived(sink, 10);
      Thread.sleep(100);
      assertThat(sink.received()).isEqualTo(10);
      assertThat(t.wan().stats().get("c2s.cut_drops")).isEqualTo(10);
    }
  }

  @Test
  void stripOptionsTurnsAProbeOptionIntoNopsOnTheWayToTheServer() throws Exception {
    Topology t = NET.topology();
    byte[] options = SynOptionStripperTest.concat(SynOptionStripperTest.LINUX_OPTIONS, SynOptionStripperTest.PROBE);
    byte[] probeSegment = Arrays.copyOfRange(SynOptionStripperTest.segment(0x02, options, new byte[0]), 40, 68);

    byte[] intact = sendSynAndCapture(t, 40001);
    assertThat(Arrays.copyOfRange(intact, 40, 68)).isEqualTo(probeSegment);

    t.wan().stripOptions(true);
    byte[] stripped = sendSynAndCapture(t, 40002);
    assertThat(Arrays.copyOfRange(stripped, 40, 60)).isEqualTo(SynOptionStripperTest.LINUX_OPTIONS);
    assertThat(Arrays.copyOfRange(stripped, 60, 68)).containsOnly(1);
    assertThat(SynOptionStripper.tcpChecksum(stripped, 20, stripped.length)).isZero();
    assertThat(t.wan().stats().get("c2s.stripped")).isEqualTo(1);
  }

  /** Sends a hand-made SYN from client and returns it as the server's kernel received it. */
  private static byte[] sendSynAndCapture(Topology t, int sourcePort) throws Exception {
    byte[] options = SynOptionStripperTest.concat(SynOptionStripperTest.LINUX_OPTIONS, SynOptionStripperTest.PROBE);
    byte[] syn = SynOptionStripperTest.segment(0x02, options, new byte[0]);
    syn[20] = (byte) (sourcePort >> 8);
    syn[21] = (byte) sourcePort;
    syn[36] = 0;
    syn[37] = 0;
    int sum = SynOptionStripper.tcpChecksum(syn, 20, syn.length);
    syn[36] = (byte) (sum >> 8);
    syn[37] = (byte) sum;
    int listen = t.call("server", () -> Libc.socket(Libc.AF_INET, Libc.SOCK_RAW, Libc.IPPROTO_TCP));
    int send = t.call("client", () -> Libc.socket(Libc.AF_INET, Libc.SOCK_RAW, Libc.IPPROTO_RAW));
    try {
      byte[] timeout = new byte[16]; // struct timeval {2 s, 0 us}
      timeout[0] = 2;
      Libc.setsockopt(listen, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeout, timeout.length);
      byte[] to = new byte[16]; // struct sockaddr_in for 10.9.3.2
      to[0] = Libc.AF_INET;
      System.arraycopy(new byte[] {10, 9, 3, 2}, 0, to, 4, 4);
      Libc.sendto(send, syn, syn.length, 0, to, to.length);
      byte[] buf = new byte[2048];
      while (true) {
        int n = (int) Libc.recv(listen, buf, buf.length, 0);
        int ihl = (buf[0] & 0xf) * 4;
        int port = (buf[ihl] & 0xff) << 8 | (buf[ihl + 1] & 0xff);
        if (port == sourcePort && (buf[ihl + 13] & 0x02) != 0) {
          return Arrays.copyOf(buf, n);
        }
      }
    } finally {
      Libc.close(listen);
      Libc.close(send);
    }
  }

  private static Map<String, Long> awaitSettled(Topology t, String dir, long packets) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (true) {
      Map<String, Long> s = t.wan().stats();
      long seen = s.get(dir + ".passed") + s.get(dir + ".lost") + s.get(dir + ".queue_drops") + s.get(dir + ".cut_drops");
      if ((seen >= packets && s.get(dir + ".in_flight") == 0) || System.nanoTime() > deadline) {
        assertThat(seen).as("packets the emulator saw").isGreaterThanOrEqualTo(packets);
        return s;
      }
      Thread.sleep(50);
    }
  }

  /** A counter from the Udp: lines of /proc/net/snmp inside the node's namespace. */
  private static long udpCounter(Topology t, String node, String name) {
    List<String> lines = t.exec(node, "grep '^Udp:' /proc/net/snmp").orThrow().stdout().lines().toList();
    List<String> names = List.of(lines.get(0).split("\\s+"));
    return Long.parseLong(lines.get(1).split("\\s+")[names.indexOf(name)]);
  }

  private static void awaitReceived(Traffic.UdpEcho sink, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (sink.received() < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }
}
