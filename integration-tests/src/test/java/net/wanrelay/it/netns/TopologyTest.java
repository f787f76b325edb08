package net.wanrelay.it.netns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The default five-namespace chain: plain kernel routing from client to server through all hops. */
class TopologyTest {
  @RegisterExtension
  static final TopologyExtension NET = new TopologyExtension();

  @Test
  void namespacesCarryTheRunPrefixAndAddressesFollowThePlan() {
    Topology t = NET.topology();
    assertThat(t.nodes()).containsExactly("client", "cproxy", "wan", "sproxy", "server");
    assertThat(Topology.existingNamespaces()).contains(t.namespace("client"), t.namespace("server"));
    assertThat(t.namespace("wan")).startsWith(t.runId() + "-").startsWith("wrt-" + ProcessHandle.current().pid() + "-");
    assertThat(t.address("client")).isEqualTo("10.9.0.1");
    assertThat(t.address("sproxy")).isEqualTo("10.9.2.2");
    assertThat(t.address("server")).isEqualTo("10.9.3.2");
    assertThat(t.address("cproxy", "wan")).isEqualTo("10.9.1.1");
    assertThat(t.exec("cproxy", "cat /proc/sys/net/ipv4/ip_forward").stdout().strip()).isEqualTo("1");
    assertThat(t.exec("wan", "cat /proc/sys/net/ipv4/conf/all/rp_filter").stdout().strip()).isEqualTo("0");
  }

  @Test
  void tcpTransferOf32MiBCrossesEveryHopIntact() throws Exception {
    Topology t = NET.topology();
    t.wan().set("both", "delay=5ms");
    long bytes = 32L << 20;
    long sproxyBefore = Traffic.interfaceCounter(t, "sproxy", "server", "tx_bytes");
    try (Traffic.TcpSink sink = Traffic.tcpSink(t, "server", 5001)) {
      Traffic.Digest sent = Traffic.sendTcp(t, "client", t.address("server"), 5001, bytes, 42);
      Traffic.Digest got = sink.next(120);
      assertThat(got).isEqualTo(sent);
      assertThat(got.bytes()).isEqualTo(bytes);
    }
    // The bytes went through the emulator and were forwarded by sproxy, not some shortcut.
    Map<String, Long> stats = t.wan().stats();
    assertThat(stats.get("c2s.bytes")).isGreaterThan(bytes);
    assertThat(stats.get("s2c.passed")).isPositive();
    assertThat(Traffic.interfaceCounter(t, "sproxy", "server", "tx_bytes") - sproxyBefore).isGreaterThan(bytes);
  }

  @Test
  void udpExchangeComesBackByteForByte() throws Exception {
    Topology t = NET.topology();
    try (Traffic.UdpEcho echo = Traffic.udpEcho(t, "server", 5353, true);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 5353)) {
      c.setSoTimeout(5000);
      SplittableRandom random = new SplittableRandom(7);
      MessageDigest sent = Hashes.sha256();
      MessageDigest back = Hashes.sha256();
      for (int i = 0; i < 200; i++) {
        byte[] payload = new byte[1 + random.nextInt(1400)];
        Hashes.fill(random, payload);
        sent.update(payload);
        c.send(new DatagramPacket(payload, payload.length));
        byte[] in = new byte[2048];
        DatagramPacket p = new DatagramPacket(in, in.length);
        c.receive(p);
        back.update(in, 0, p.getLength());
      }
      assertThat(Hashes.hex(back.digest())).isEqualTo(Hashes.hex(sent.digest()));
      assertThat(echo.received()).isEqualTo(200);
      // The emulator counts a packet after writing it on, so the echo can be back first: wait.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (t.wan().stats().get("c2s.passed") < 200 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(t.wan().stats().get("c2s.passed")).isGreaterThanOrEqualTo(200);
    }
  }

  @Test
  void twentyFiveMillisecondsEachWayGivesFiftyMillisecondRoundTrips() throws Exception {
    Topology t = NET.topology();
    t.wan().symmetric(Duration.ofMillis(25), 0, "unlimited");
    try (Traffic.UdpEcho echo = Traffic.udpEcho(t, "server", 7, true);
        DatagramSocket c = Traffic.udpClient(t, "client", t.address("server"), 7)) {
      Traffic.udpRoundTrips(c, 3, 64); // warm-up: JIT, neighbour discovery
      List<Long> rtts = Traffic.udpRoundTrips(c, 30, 64);
      assertThat(rtts).hasSize(30);
      double medianMs = Traffic.median(rtts) / 1e6;
      System.out.printf("UDP RTT over 25 ms + 25 ms: median %.2f ms, min %.2f, max %.2f%n", medianMs,
          rtts.stream().mapToLong(Long::longValue).min().orElseThrow() / 1e6,
          rtts.stream().mapToLong(Long::longValue).max().orElseThrow() / 1e6);
      assertThat(medianMs).isBetween(45.0, 55.0);
      assertThat(echo.received()).isEqualTo(33); // every probe reached the server once
    }
  }
}
