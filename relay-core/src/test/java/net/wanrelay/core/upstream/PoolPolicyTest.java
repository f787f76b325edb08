package net.wanrelay.core.upstream;

import static net.wanrelay.core.upstream.PoolTesting.ask;
import static net.wanrelay.core.upstream.PoolTesting.healthy;
import static net.wanrelay.core.upstream.PoolTesting.member;
import static net.wanrelay.core.upstream.PoolTesting.waitUntil;
import static net.wanrelay.core.upstream.PoolTesting.who;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.wanrelay.core.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Round robin, least sessions, lowest RTT and primary/backup choose as specified. */
class PoolPolicyTest {
  private final List<LineServer> servers = new ArrayList<>();
  private final List<Socket> held = new ArrayList<>();
  private Relay relay;

  @AfterEach
  void tearDown() throws Exception {
    for (Socket s : held) {
      s.close();
    }
    if (relay != null) {
      relay.close();
    }
    for (LineServer s : servers) {
      s.close();
    }
  }

  private InetSocketAddress poolOfThree(String policy) throws Exception {
    for (String name : new String[] {"A", "B", "C"}) {
      servers.add(new LineServer(name));
    }
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d }
        pools:
          p:
            policy: %s
            members: [ %s, %s, %s ]
            health: { interval: 100ms, timeout: 500ms, rise: 1, fall: 3, send: "ping\\n", expect: "pong" }
        listeners:
          - { name: p, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:p" }
        """.formatted(PoolTesting.freePort(), policy,
        servers.get(0).address(), servers.get(1).address(), servers.get(2).address(), PoolTesting.freePort()));
    for (LineServer s : servers) {
      waitUntil(s.name + " up", () -> healthy(relay, "p", s));
    }
    return PoolTesting.listener(relay, "p");
  }

  private Socket hold(InetSocketAddress at, String expectServer) throws Exception {
    Socket s = PoolTesting.open(at);
    held.add(s);
    assertThat(ask(s, "who")).isEqualTo(expectServer);
    return s;
  }

  @Test
  void roundRobinSpreads300SessionsEvenly() throws Exception {
    InetSocketAddress at = poolOfThree("round-robin");
    Map<String, Integer> landed = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      landed.merge(who(at), 1, Integer::sum);
    }
    assertThat(landed.keySet()).containsExactlyInAnyOrder("A", "B", "C");
    for (LineServer s : servers) {
      assertThat(landed.get(s.name)).isBetween(95, 105);
      assertThat(s.whoRequests.get()).isEqualTo(landed.get(s.name));
      waitUntil(s.name + " has no open sessions", () -> member(relay, "p", s).get("sessions").asInt() == 0);
    }
    // A session ends on the relay shortly after its client saw the answer and closed.
    waitUntil("every session ended", () -> relay.metrics().activeSessions() == 0);
  }

  @Test
  void leastSessionsPicksTheMemberWithFewestOpenSessions() throws Exception {
    InetSocketAddress at = poolOfThree("least-sessions");
    // Injected load: six held sessions spread two per member.
    Map<String, List<Socket>> byServer = new HashMap<>();
    for (int i = 0; i < 6; i++) {
      Socket s = PoolTesting.open(at);
      held.add(s);
      byServer.computeIfAbsent(ask(s, "who"), k -> new ArrayList<>()).add(s);
    }
    assertThat(byServer).hasSize(3).allSatisfy((k, v) -> assertThat(v).hasSize(2));
    // B's sessions end: B now has the fewest and takes the next two.
    for (Socket s : byServer.get("B")) {
      s.close();
    }
    LineServer b = servers.get(1);
    waitUntil("B has no open sessions", () -> member(relay, "p", b).get("sessions").asInt() == 0);
    hold(at, "B");
    hold(at, "B");
    assertThat(member(relay, "p", servers.get(0)).get("sessions").asInt()).isEqualTo(2);
    assertThat(member(relay, "p", b).get("sessions").asInt()).isEqualTo(2);
    assertThat(PoolTesting.metric(relay,
        "wanrelay_upstream_sessions_active{address=\"" + b.address() + "\",pool=\"p\"}")).isEqualTo(2.0);
  }

  @Test
  void lowestRttPicksTheFastestAnsweringMemberAndFollowsAChange() throws Exception {
    InetSocketAddress at = poolOfThree("lowest-rtt");
    LineServer a = servers.get(0);
    LineServer b = servers.get(1);
    LineServer c = servers.get(2);
    a.delay(80);
    c.delay(40);
    waitUntil("B measured fastest", () -> rtt(b) < rtt(c) && rtt(c) < rtt(a) && rtt(a) > 60);
    for (int i = 0; i < 10; i++) {
      assertThat(who(at)).isEqualTo("B");
    }
    b.delay(150);
    waitUntil("C measured fastest", () -> rtt(c) < rtt(a) && rtt(a) < rtt(b));
    int cBefore = c.whoRequests.get();
    for (int i = 0; i < 3; i++) {
      assertThat(who(at)).isEqualTo("C");
    }
    assertThat(c.whoRequests.get() - cBefore).isEqualTo(3);
  }

  @Test
  void primaryBackupUsesTheFirstHealthyMemberInOrder() throws Exception {
    InetSocketAddress at = poolOfThree("primary-backup");
    for (int i = 0; i < 5; i++) {
      assertThat(who(at)).isEqualTo("A");
    }
    servers.get(0).mute(true);
    waitUntil("A leaves", () -> !healthy(relay, "p", servers.get(0)));
    for (int i = 0; i < 5; i++) {
      assertThat(who(at)).isEqualTo("B");
    }
  }

  private double rtt(LineServer s) {
    var v = member(relay, "p", s).get("rttMillis");
    return v.isNull() ? Double.NaN : v.asDouble();
  }
}
