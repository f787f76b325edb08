package net.wanrelay.core.upstream;

import static net.wanrelay.core.upstream.PoolTesting.healthy;
import static net.wanrelay.core.upstream.PoolTesting.member;
import static net.wanrelay.core.upstream.PoolTesting.metric;
import static net.wanrelay.core.upstream.PoolTesting.waitUntil;
import static net.wanrelay.core.upstream.PoolTesting.who;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.core.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A member that still accepts TCP but no longer answers data leaves the rotation and returns. */
class PoolHealthTest {
  private final List<LineServer> servers = new ArrayList<>();
  private Relay relay;

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) {
      relay.close();
    }
    for (LineServer s : servers) {
      s.close();
    }
  }

  private LineServer server(String name) throws Exception {
    LineServer s = new LineServer(name);
    servers.add(s);
    return s;
  }

  @Test
  void dataExchangeProbeCatchesAMuteMemberThatAConnectProbeMisses() throws Exception {
    LineServer a = server("A");
    LineServer b = server("B");
    LineServer c = server("C");
    String members = "[ %s, %s, %s ]".formatted(a.address(), b.address(), c.address());
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d }
        pools:
          data:
            policy: round-robin
            members: %s
            health: { interval: 100ms, timeout: 200ms, rise: 2, fall: 2, send: "ping\\n", expect: "pong" }
          connect:
            policy: round-robin
            members: %s
            health: { interval: 100ms, timeout: 200ms, rise: 2, fall: 2 }
        listeners:
          - { name: data, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:data" }
          - { name: connect, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:connect" }
        """.formatted(PoolTesting.freePort(), members, members, PoolTesting.freePort(), PoolTesting.freePort()));
    InetSocketAddress data = PoolTesting.listener(relay, "data");
    for (LineServer s : servers) {
      waitUntil(s.name + " up in both pools", () -> healthy(relay, "data", s) && healthy(relay, "connect", s));
    }
    assertThat(metric(relay, "wanrelay_upstream_health{address=\"" + b.address() + "\",pool=\"data\"}")).isEqualTo(1.0);

    b.mute(true);
    waitUntil("B leaves the data pool", () -> !healthy(relay, "data", b));
    assertThat(member(relay, "data", b).get("lastCheck").asText()).isEqualTo("timeout");
    assertThat(metric(relay, "wanrelay_upstream_failovers_total{pool=\"data\"}")).isEqualTo(1.0);
    assertThat(metric(relay, "wanrelay_upstream_health{address=\"" + b.address() + "\",pool=\"data\"}")).isEqualTo(0.0);
    // The connect-only probe keeps passing against the same mute server.
    String passes = "wanrelay_upstream_probes_total{address=\"" + b.address() + "\",pool=\"connect\",result=\"pass\"}";
    double before = metric(relay, passes);
    waitUntil("three more connect probes of B", () -> metric(relay, passes) >= before + 3);
    assertThat(healthy(relay, "connect", b)).isTrue();
    // Probes of the mute server do not pile up: one in flight per pool at most (plus one closing).
    for (int i = 0; i < 5; i++) {
      assertThat(b.openConnections.get()).isLessThanOrEqualTo(4);
      Thread.sleep(100);
    }
    assertThat(metric(relay, "wanrelay_upstream_failovers_total{pool=\"connect\"}")).isEqualTo(0.0);

    int bSessions = b.whoRequests.get();
    int aBefore = a.whoRequests.get();
    int cBefore = c.whoRequests.get();
    for (int i = 0; i < 30; i++) {
      assertThat(who(data)).isIn("A", "C");
    }
    assertThat(b.whoRequests.get()).isEqualTo(bSessions);
    assertThat(a.whoRequests.get() - aBefore).isEqualTo(15);
    assertThat(c.whoRequests.get() - cBefore).isEqualTo(15);

    b.mute(false);
    waitUntil("B returns to the data pool", () -> healthy(relay, "data", b));
    assertThat(member(relay, "data", b).get("consecutivePasses").asInt()).isGreaterThanOrEqualTo(2);
    int bBack = b.whoRequests.get();
    for (int i = 0; i < 30; i++) {
      who(data);
    }
    assertThat(b.whoRequests.get() - bBack).isEqualTo(10);
  }
}
