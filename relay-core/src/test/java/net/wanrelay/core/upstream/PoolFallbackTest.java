package net.wanrelay.core.upstream;

import static net.wanrelay.core.upstream.PoolTesting.metric;
import static net.wanrelay.core.upstream.PoolTesting.waitUntil;
import static net.wanrelay.core.upstream.PoolTesting.who;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import net.wanrelay.core.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** With no healthy member: the fallback, or a clean counted refusal; a dead member is never tried. */
class PoolFallbackTest {
  private Relay relay;
  private LineServer live;
  private LineServer fallback;

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) {
      relay.close();
    }
    for (LineServer s : new LineServer[] {live, fallback}) {
      if (s != null) {
        s.close();
      }
    }
  }

  private String poolMember(String pool, int index) {
    for (var p : PoolTesting.getJson(relay, "/api/pools").get("pools")) {
      if (p.get("name").asText().equals(pool)) {
        return p.get("members").get(index).get("state").asText();
      }
    }
    throw new AssertionError("no pool " + pool);
  }

  @Test
  void allDownUsesTheFallbackOrRefusesCleanlyAndNeverTriesADeadMember() throws Exception {
    live = new LineServer("live");
    fallback = new LineServer("fallback");
    int dead1 = PoolTesting.freePort();
    int dead2 = PoolTesting.freePort();
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d }
        pools:
          withFallback:
            members: [ 127.0.0.1:%d, 127.0.0.1:%d ]
            health: { interval: 100ms, timeout: 200ms, rise: 2, fall: 1, send: "ping\\n", expect: "pong" }
            fallback: %s
          refusing:
            members: [ 127.0.0.1:%d, 127.0.0.1:%d ]
            health: { interval: 100ms, timeout: 200ms, rise: 2, fall: 1 }
          mixed:
            members: [ 127.0.0.1:%d, %s ]
            health: { interval: 100ms, timeout: 200ms, rise: 2, fall: 1, send: "ping\\n", expect: "pong" }
        listeners:
          - { name: withFallback, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:withFallback" }
          - { name: refusing, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:refusing" }
          - { name: mixed, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:mixed" }
        """.formatted(PoolTesting.freePort(), dead1, dead2, fallback.address(), dead1, dead2, dead1, live.address(),
        PoolTesting.freePort(), PoolTesting.freePort(), PoolTesting.freePort()));
    for (String pool : new String[] {"withFallback", "refusing"}) {
      for (int i = 0; i < 2; i++) {
        int index = i;
        waitUntil(pool + " member " + i + " down", () -> poolMember(pool, index).equals("down"));
      }
    }
    waitUntil("mixed: dead down, live up", () -> poolMember("mixed", 0).equals("down") && poolMember("mixed", 1).equals("up"));

    InetSocketAddress withFallback = PoolTesting.listener(relay, "withFallback");
    for (int i = 0; i < 5; i++) {
      assertThat(who(withFallback)).isEqualTo("fallback");
    }
    assertThat(fallback.whoRequests.get()).isEqualTo(5);

    InetSocketAddress refusing = PoolTesting.listener(relay, "refusing");
    for (int i = 0; i < 4; i++) {
      assertThat(who(refusing)).isNull();
    }
    String refused = "wanrelay_sessions_refused_total{protocol=\"tcp\",reason=\"no_healthy_upstream\"}";
    waitUntil("four refusals counted", () -> metric(relay, refused) == 4.0);
    assertThat(metric(relay, "wanrelay_sessions_total{outcome=\"refused\",protocol=\"tcp\",route=\"upstream\"}")).isEqualTo(4.0);

    InetSocketAddress mixed = PoolTesting.listener(relay, "mixed");
    for (int i = 0; i < 10; i++) {
      assertThat(who(mixed)).isEqualTo("live");
    }
    // No session ever tried a dead member: no connect failure at all.
    assertThat(metric(relay, "wanrelay_connect_failures_total{protocol=\"tcp\",reason=\"refused\"}")).isEqualTo(0.0);
    // A session ends on the relay shortly after its client saw the answer and closed.
    waitUntil("every session ended", () -> relay.metrics().activeSessions() == 0);
  }

  @Test
  void failedSessionConnectsCountAsFailedChecks() throws Exception {
    live = new LineServer("live");
    fallback = new LineServer("other");
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d }
        pools:
          p:
            policy: primary-backup
            members: [ %s, %s ]
            health: { interval: 1h, timeout: 500ms, rise: 2, fall: 2 }
        listeners:
          - { name: p, protocol: tcp, listen: 127.0.0.1:%d, target: "pool:p" }
        """.formatted(PoolTesting.freePort(), live.address(), fallback.address(), PoolTesting.freePort()));
    waitUntil("both up", () -> poolMember("p", 0).equals("up") && poolMember("p", 1).equals("up"));
    InetSocketAddress p = PoolTesting.listener(relay, "p");
    assertThat(who(p)).isEqualTo("live");
    live.close(); // the primary now refuses connects; the next probe is an hour away
    int livePort = live.port();
    waitUntil("the closed port refuses", () -> {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", livePort)) {
        return false;
      } catch (java.io.IOException e) {
        return true;
      }
    });
    assertThat(who(p)).isNull();
    assertThat(poolMember("p", 0)).isEqualTo("up"); // one failure, fall is 2
    assertThat(who(p)).isNull();
    waitUntil("primary down after two failed session connects", () -> poolMember("p", 0).equals("down"));
    assertThat(who(p)).isEqualTo("other");
    assertThat(metric(relay, "wanrelay_upstream_failovers_total{pool=\"p\"}")).isEqualTo(1.0);
    assertThat(metric(relay, "wanrelay_connect_failures_total{protocol=\"tcp\",reason=\"refused\"}")).isEqualTo(2.0);
  }
}
