package net.wanrelay.core.upstream;

import static net.wanrelay.core.upstream.PoolTesting.http;
import static net.wanrelay.core.upstream.PoolTesting.metric;
import static net.wanrelay.core.upstream.PoolTesting.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import net.wanrelay.core.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** UDP pools: datagram health probes, and flows of a resumable pool moving with their next datagram. */
class PoolUdpTest {
  private static final String TOKEN = "udp-pool-test-token-123456";
  private Relay relay;
  private UdpNameServer a;
  private UdpNameServer b;
  private UdpNameServer c;

  @AfterEach
  void tearDown() {
    if (relay != null) {
      relay.close();
    }
    for (UdpNameServer s : new UdpNameServer[] {a, b, c}) {
      if (s != null) {
        s.close();
      }
    }
  }

  private boolean up(String pool, UdpNameServer s) {
    for (JsonNode p : PoolTesting.getJson(relay, "/api/pools").get("pools")) {
      if (p.get("name").asText().equals(pool)) {
        for (JsonNode m : p.get("members")) {
          if (m.get("address").asText().equals(s.address())) {
            return m.get("healthy").asBoolean();
          }
        }
      }
    }
    throw new AssertionError();
  }

  /** Sends one datagram on the flow's socket and returns the reply (retrying a lost datagram). */
  private static String ask(DatagramSocket flow, InetSocketAddress to) throws Exception {
    byte[] q = "who".getBytes(StandardCharsets.UTF_8);
    for (int attempt = 0; attempt < 5; attempt++) {
      flow.send(new DatagramPacket(q, q.length, to));
      DatagramPacket r = new DatagramPacket(new byte[256], 256);
      try {
        flow.receive(r);
        return new String(r.getData(), 0, r.getLength(), StandardCharsets.UTF_8);
      } catch (SocketTimeoutException e) {
        // retry
      }
    }
    return null;
  }

  @Test
  void resumableFlowsMoveWhenTheirMemberFailsOrIsDiverted() throws Exception {
    a = new UdpNameServer("A");
    b = new UdpNameServer("B");
    c = new UdpNameServer("C");
    int port = PoolTesting.freePort();
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d, admin-token: "%s" }
        pools:
          dns:
            policy: primary-backup
            resumable: true
            members: [ %s, %s ]
            health: { protocol: udp, interval: 100ms, timeout: 200ms, rise: 2, fall: 2, send: "ping", expect: "pong" }
        listeners:
          - { name: dns, protocol: udp, listen: 127.0.0.1:%d, target: "pool:dns" }
        """.formatted(PoolTesting.freePort(), TOKEN, a.address(), b.address(), port));
    InetSocketAddress listener = new InetSocketAddress("127.0.0.1", port);
    waitUntil("A and B up", () -> up("dns", a) && up("dns", b));

    try (DatagramSocket flow = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      flow.setSoTimeout(1000);
      assertThat(ask(flow, listener)).isEqualTo("A");
      assertThat(ask(flow, listener)).isEqualTo("A");

      a.mute(true);
      waitUntil("A leaves", () -> !up("dns", a));
      // The same flow (same client socket) moves to B with its next datagram.
      assertThat(ask(flow, listener)).isEqualTo("B");
      assertThat(metric(relay, "wanrelay_upstream_flow_moves_total{pool=\"dns\"}")).isEqualTo(1.0);

      // Diverting B moves the flow again.
      var put = http(relay, "PUT", "/api/divert", "{\"from\":\"" + b.address() + "\",\"to\":\"" + c.address() + "\"}", TOKEN);
      assertThat(put.statusCode()).isEqualTo(200);
      assertThat(ask(flow, listener)).isEqualTo("C");
      assertThat(metric(relay, "wanrelay_upstream_flow_moves_total{pool=\"dns\"}")).isEqualTo(2.0);
      assertThat(metric(relay, "wanrelay_divert_hits_total")).isEqualTo(1.0);

      // Deleting the entry moves the flow back to its member B (still healthy).
      assertThat(http(relay, "DELETE", "/api/divert?from=" + b.address(), null, TOKEN).statusCode()).isEqualTo(200);
      assertThat(ask(flow, listener)).isEqualTo("B");
    }
    assertThat(c.requests.get()).isGreaterThanOrEqualTo(1);
  }
}
