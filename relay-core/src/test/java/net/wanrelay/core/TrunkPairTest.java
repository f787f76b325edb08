package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.RefusedSessions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two relays on loopback: an SP accepting the trunk and a CP whose listeners go {@code via: peer:sp}. */
class TrunkPairTest {
  private static final String KEY = "trunk-pair-test-key-0123456789";
  private Relay sp;
  private Relay cp;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    if (cp != null) {
      cp.close();
    }
    if (sp != null) {
      sp.close();
    }
    pool.shutdownNow();
  }

  private void startPair(int tcpTarget, int udpTarget, String allow) throws Exception {
    startPair(tcpTarget, udpTarget, allow, "");
  }

  /** {@code trunkExtra}: one more {@code key: value} for both relays' trunk sections. */
  private void startPair(int tcpTarget, int udpTarget, String allow, String trunkExtra) throws Exception {
    int trunkPort = Loopback.freePort();
    sp = Loopback.startRelay("""
        node: { id: sp, admin: 127.0.0.1:%d }
        trunk: { listen: 127.0.0.1:%d, key: "%s", allow: [ %s ] %s }
        """.formatted(Loopback.freePort(), trunkPort, KEY, allow, trunkExtra.isEmpty() ? "" : ", " + trunkExtra));
    cp = Loopback.startRelay("""
        node: { id: cp, admin: 127.0.0.1:%d }
        trunk:
          peers: [ { name: sp, address: 127.0.0.1:%d, key: "%s", connections: 2 } ]
          compression: adaptive
          %s
        listeners:
          - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
          - { name: u, protocol: udp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
        """.formatted(Loopback.freePort(), trunkPort, KEY, trunkExtra,
            Loopback.freePort(), tcpTarget, Loopback.freePort(), udpTarget));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cp.trunk().orElseThrow().link("sp").isUp() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(cp.trunk().orElseThrow().link("sp").isUp()).as("trunk up").isTrue();
  }

  private Map<String, Double> metrics(Relay relay) throws Exception {
    return MetricsEndpointTest.parse(Loopback.httpGet(relay.adminAddress(), "/metrics").substring(4));
  }

  /**
   * Waits (10 s at most) for {@code name} to reach {@code value}: the CP counts a failed OPEN in a
   * listener on the open future, which may run after the client's socket was already reset.
   */
  private void awaitMetric(Relay relay, String name, double value) throws Exception {
    Map<String, Double> m = metrics(relay);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Double.valueOf(value).equals(m.get(name)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      m = metrics(relay);
    }
    assertThat(m).containsEntry(name, value);
  }

  @Test
  void tcpSessionsCrossTheTrunkByteExact() throws Exception {
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      startPair(echo.port(), 9, "127.0.0.0/8");
      InetSocketAddress cpListener = cp.tcpListeners().get(0).localAddress();
      long size = 64L << 20;
      try (Socket s = Loopback.connect(cpListener)) {
        AtomicLong got = new AtomicLong();
        Future<String> reader = pool.submit(() -> Loopback.readAll(s.getInputStream(), got));
        String sent = Loopback.writeRandom(s.getOutputStream(), size, 5);
        s.shutdownOutput();
        assertThat(reader.get(120, TimeUnit.SECONDS)).isEqualTo(sent);
        assertThat(got.get()).isEqualTo(size);
      }
      // Ten more short sessions in parallel over the same trunk.
      var results = new java.util.ArrayList<Future<Boolean>>();
      for (int i = 0; i < 10; i++) {
        final int seed = i;
        results.add(pool.submit(() -> {
          try (Socket s = Loopback.connect(cpListener)) {
            String sent = Loopback.writeRandom(s.getOutputStream(), 100_000 + seed, seed);
            s.shutdownOutput();
            return Loopback.readAll(s.getInputStream(), new AtomicLong()).equals(sent);
          }
        }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isTrue();
      }
      Map<String, Double> m = Map.of();
      for (int i = 0; i < 100; i++) {
        m = metrics(cp);
        if (m.getOrDefault("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"trunk\"}", 0.0) == 11) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(m).containsEntry("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"trunk\"}", 11.0);
      double lan = m.get("wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"tcp\",route=\"trunk\"}");
      assertThat(lan).isEqualTo((double) size + 10 * 100_000 + 45);
      assertThat(m.get("wanrelay_trunk_bytes_total{direction=\"tx\",peer=\"sp\"}")).as("WAN bytes carry the LAN bytes").isGreaterThan(lan);
      assertThat(m).containsEntry("wanrelay_trunk_up{peer=\"sp\"}", 1.0);
    }
  }

  @Test
  void tinyRequestsWithImmediateFinArriveWhole() throws Exception {
    // Data and FIN in one segment reach the relay before the stream exists (0-RTT path).
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      startPair(echo.port(), 9, "127.0.0.0/8");
      for (int i = 0; i < 50; i++) {
        try (Socket s = Loopback.connect(cp.tcpListeners().get(0).localAddress())) {
          s.getOutputStream().write(("request " + i).getBytes());
          s.shutdownOutput();
          assertThat(new String(s.getInputStream().readAllBytes())).isEqualTo("request " + i);
        }
      }
    }
  }

  @Test
  void serverThatClosesRightAfterALargeReplyLosesNothingToASlowClient() throws Exception {
    // The server writes 4 MiB and closes at once; the client only starts reading a second later,
    // so most of the reply still waits for stream credit when the server's socket is gone.
    try (java.net.ServerSocket server = new java.net.ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Future<String> serverSide = pool.submit(() -> {
        try (Socket c = server.accept()) {
          c.getInputStream().readAllBytes();
          return Loopback.writeRandom(c.getOutputStream(), 4 << 20, 77);
        }
      });
      startPair(server.getLocalPort(), 9, "127.0.0.0/8");
      try (Socket s = Loopback.connect(cp.tcpListeners().get(0).localAddress())) {
        s.getOutputStream().write("get".getBytes());
        s.shutdownOutput();
        String sent = serverSide.get(30, TimeUnit.SECONDS);
        Thread.sleep(1000);
        AtomicLong got = new AtomicLong();
        assertThat(Loopback.readAll(s.getInputStream(), got)).isEqualTo(sent);
        assertThat(got.get()).isEqualTo(4 << 20);
      }
    }
  }

  @Test
  void dedupFromTheConfigSendsRepeatedDataAsReferences() throws Exception {
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      startPair(echo.port(), 9, "127.0.0.0/8", "dedup: { enabled: true, memory: 64MiB }");
      InetSocketAddress listener = cp.tcpListeners().get(0).localAddress();
      long size = 8L << 20;
      double[] wire = new double[2];
      for (int round = 0; round < 2; round++) {
        double before = metrics(cp).get("wanrelay_trunk_bytes_total{direction=\"tx\",peer=\"sp\"}");
        try (Socket s = Loopback.connect(listener)) {
          Future<String> reader = pool.submit(() -> Loopback.readAll(s.getInputStream(), new AtomicLong()));
          String sent = Loopback.writeRandom(s.getOutputStream(), size, 1234); // same bytes both rounds
          s.shutdownOutput();
          assertThat(reader.get(120, TimeUnit.SECONDS)).isEqualTo(sent);
        }
        wire[round] = metrics(cp).get("wanrelay_trunk_bytes_total{direction=\"tx\",peer=\"sp\"}") - before;
      }
      assertThat(wire[0]).as("first transfer carries the bytes").isGreaterThan(size * 0.9);
      assertThat(wire[1]).as("second transfer: references, not bytes").isLessThan(size * 0.05);
    }
  }

  @Test
  void refusedServerLegResetsTheClient() throws Exception {
    int closed = Loopback.freePort();
    startPair(closed, 9, "127.0.0.0/8");
    // The reset may beat the end of connect() or the write (RefusedSessions counts all three).
    RefusedSessions.assertReset(cp.tcpListeners().get(0).localAddress(), "hello".getBytes());
    awaitMetric(cp, "wanrelay_connect_failures_total{protocol=\"tcp\",reason=\"refused\"}", 1.0);
  }

  @Test
  void destinationsOutsideTheAllowListAreDenied() throws Exception {
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      startPair(echo.port(), 9, "10.0.0.0/8");
      RefusedSessions.assertReset(cp.tcpListeners().get(0).localAddress(), new byte[] {1});
      assertThat(echo.accepted.get()).as("the SP never connected").isZero();
      awaitMetric(cp, "wanrelay_connect_failures_total{protocol=\"tcp\",reason=\"denied\"}", 1.0);
      assertThat(metrics(sp)).containsEntry("wanrelay_trunk_open_denied_total{peer=\"cp\"}", 1.0);
    }
  }

  @Test
  void udpFlowsRoundTripOverTheTrunk() throws Exception {
    try (DatagramSocket echo = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      pool.submit(() -> {
        byte[] buf = new byte[2048];
        while (!echo.isClosed()) {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          echo.receive(p);
          echo.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
        }
        return null;
      });
      startPair(9, echo.getLocalPort(), "127.0.0.0/8");
      InetSocketAddress udp = cp.udpListeners().get(0).localAddress();
      for (int c = 0; c < 5; c++) {
        try (DatagramSocket client = new DatagramSocket()) {
          client.setSoTimeout(3000);
          for (int i = 0; i < 10; i++) {
            byte[] msg = ("client " + c + " datagram " + i).getBytes();
            client.send(new DatagramPacket(msg, msg.length, udp));
            DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
            client.receive(reply);
            assertThat(new String(reply.getData(), 0, reply.getLength())).isEqualTo(new String(msg));
          }
        }
      }
      assertThat(metrics(cp)).containsEntry("wanrelay_sessions_active{protocol=\"udp\",route=\"trunk\"}", 5.0);
    }
  }
}
