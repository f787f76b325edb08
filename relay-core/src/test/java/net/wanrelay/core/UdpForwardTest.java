package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UdpForwardTest {
  private Relay relay;
  private DatagramSocket echo;
  private final ExecutorService pool = Executors.newSingleThreadExecutor();
  private final AtomicInteger echoed = new AtomicInteger();

  @AfterEach
  void tearDown() {
    if (relay != null) {
      relay.close();
    }
    if (echo != null) {
      echo.close();
    }
    pool.shutdownNow();
  }

  private void startEcho() throws Exception {
    echo = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    pool.submit(() -> {
      byte[] buf = new byte[65535];
      while (!echo.isClosed()) {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        echo.receive(p);
        echoed.incrementAndGet();
        echo.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
      }
      return null;
    });
  }

  @Test
  void hundredFlowsEchoAndExpireWhenIdle() throws Exception {
    startEcho();
    int port = Loopback.freePort();
    relay = Loopback.startRelay("""
        node: { admin: 127.0.0.1:%d }
        listeners:
          - { name: u, protocol: udp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
        limits: { udp-idle-timeout: 3s }
        """.formatted(Loopback.freePort(), port, echo.getLocalPort()));
    InetSocketAddress relayAddress = relay.udpListeners().get(0).localAddress();
    List<DatagramSocket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        c.setSoTimeout(2000);
        clients.add(c);
      }
      int ok = 0;
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < clients.size(); i++) {
          DatagramSocket c = clients.get(i);
          byte[] msg = ("flow-" + i + "-round-" + round).getBytes(StandardCharsets.UTF_8);
          c.send(new DatagramPacket(msg, msg.length, relayAddress));
          DatagramPacket reply = new DatagramPacket(new byte[1500], 1500);
          c.receive(reply);
          if (new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8).equals("flow-" + i + "-round-" + round)) {
            ok++;
          }
        }
      }
      assertThat(ok).isEqualTo(300);
      assertThat(relay.udpListeners().get(0).flowCount()).isEqualTo(100);
      String metrics = Loopback.httpGet(relay.adminAddress(), "/metrics");
      assertThat(MetricsEndpointTest.parse(metrics.substring(4)).get("wanrelay_udp_flows_active")).isGreaterThan(0.0);
      // Idle for longer than the timeout: every flow is gone and counted as expired.
      long deadline = System.nanoTime() + 15_000_000_000L;
      while (relay.udpListeners().get(0).flowCount() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(relay.udpListeners().get(0).flowCount()).isZero();
      metrics = Loopback.httpGet(relay.adminAddress(), "/metrics");
      // Every flow that was opened has expired (on a loaded machine a flow may expire and reopen
      // between rounds, so the count is at least 100, not exactly 100).
      var m = MetricsEndpointTest.parse(metrics.substring(4));
      double opened = m.get("wanrelay_udp_flows_total{outcome=\"opened\"}");
      assertThat(opened).isGreaterThanOrEqualTo(100.0);
      assertThat(m).containsEntry("wanrelay_udp_flows_total{outcome=\"expired\"}", opened);
      assertThat(m).containsEntry("wanrelay_udp_flows_active", 0.0);
      assertThat(m).containsEntry("wanrelay_sessions_total{outcome=\"idle_timeout\",protocol=\"udp\",route=\"direct\"}", opened);
    } finally {
      clients.forEach(DatagramSocket::close);
    }
  }

  @Test
  void flowsBeyondTheCapAreDroppedAndCounted() throws Exception {
    startEcho();
    relay = Loopback.startRelay("""
        node: { admin: 127.0.0.1:%d }
        listeners:
          - { name: u, protocol: udp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
        limits: { max-udp-flows: 2 }
        """.formatted(Loopback.freePort(), Loopback.freePort(), echo.getLocalPort()));
    InetSocketAddress relayAddress = relay.udpListeners().get(0).localAddress();
    try (DatagramSocket a = new DatagramSocket(); DatagramSocket b = new DatagramSocket(); DatagramSocket c = new DatagramSocket()) {
      for (DatagramSocket s : List.of(a, b, c)) {
        s.setSoTimeout(5000);
        s.send(new DatagramPacket(new byte[] {1}, 1, relayAddress));
      }
      a.receive(new DatagramPacket(new byte[10], 10));
      b.receive(new DatagramPacket(new byte[10], 10));
      try {
        c.setSoTimeout(1000);
        c.receive(new DatagramPacket(new byte[10], 10));
        throw new AssertionError("the third flow must not be forwarded");
      } catch (java.net.SocketTimeoutException expected) {
        // dropped, as it should be
      }
    }
    assertThat(Loopback.httpGet(relay.adminAddress(), "/metrics"))
        .contains("wanrelay_udp_dropped_total{reason=\"max_flows\"} 1.0");
    assertThat(echoed.get()).isEqualTo(2);
  }
}
