package net.wanrelay.core.upstream;

import static net.wanrelay.core.upstream.PoolTesting.ask;
import static net.wanrelay.core.upstream.PoolTesting.getJson;
import static net.wanrelay.core.upstream.PoolTesting.http;
import static net.wanrelay.core.upstream.PoolTesting.metric;
import static net.wanrelay.core.upstream.PoolTesting.who;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.Socket;
import net.wanrelay.core.Relay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The divert map through the admin API: new sessions follow it, open ones stay, changes need the token. */
class DivertApiTest {
  private static final String TOKEN = "divert-test-token-0123456789";
  private Relay relay;
  private LineServer a;
  private LineServer b;
  private LineServer c;

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) {
      relay.close();
    }
    for (LineServer s : new LineServer[] {a, b, c}) {
      if (s != null) {
        s.close();
      }
    }
  }

  private static String divertBody(LineServer from, LineServer to) {
    return "{\"from\":\"" + from.address() + "\",\"to\":\"" + to.address() + "\"}";
  }

  @Test
  void newSessionsFollowTheMapOpenOnesStayAndChangesNeedTheToken() throws Exception {
    a = new LineServer("A");
    b = new LineServer("B");
    c = new LineServer("C");
    relay = PoolTesting.startRelay("""
        node: { admin: 127.0.0.1:%d, admin-token: "%s" }
        listeners:
          - { name: svc, protocol: tcp, listen: 127.0.0.1:%d, target: %s }
        """.formatted(PoolTesting.freePort(), TOKEN, PoolTesting.freePort(), a.address()));
    InetSocketAddress svc = PoolTesting.listener(relay, "svc");

    try (Socket s = PoolTesting.open(svc)) {
      assertThat(ask(s, "who")).isEqualTo("A");

      var put = http(relay, "PUT", "/api/divert", divertBody(a, b), TOKEN);
      assertThat(put.statusCode()).isEqualTo(200);
      assertThat(put.body()).contains("\"to\":\"" + b.address() + "\"");

      assertThat(ask(s, "who")).isEqualTo("A"); // the open session stays on A
      assertThat(who(svc)).isEqualTo("B");       // a new one goes to B

      // The admin API lists S with where it was meant to go and where it went.
      PoolTesting.waitUntil("only S is open", () -> relay.upstreams().orElseThrow().trackedSessions() == 1);
      JsonNode sessions = getJson(relay, "/api/sessions");
      assertThat(sessions.get("open").asInt()).isEqualTo(1);
      JsonNode open = sessions.get("sessions").get(0);
      assertThat(open.get("listener").asText()).isEqualTo("svc");
      assertThat(open.get("original").asText()).isEqualTo(a.address());
      assertThat(open.get("actual").asText()).isEqualTo(a.address());
      assertThat(open.get("bytesClientToServer").asLong()).isEqualTo(8); // "who\n" twice
      assertThat(open.get("bytesServerToClient").asLong()).isEqualTo(4); // "A\n" twice
      assertThat(open.get("connectMillis").isNumber()).isTrue();

      // A second call for the same destination replaces the entry.
      assertThat(http(relay, "PUT", "/api/divert", divertBody(a, c), TOKEN).statusCode()).isEqualTo(200);
      JsonNode entries = getJson(relay, "/api/divert").get("entries");
      assertThat(entries).hasSize(1);
      assertThat(entries.get(0).get("to").asText()).isEqualTo(c.address());
      assertThat(who(svc)).isEqualTo("C");
      assertThat(ask(s, "who")).isEqualTo("A");
    }

    // Without the token, or with a wrong one: 401 and nothing changes.
    var noToken = http(relay, "PUT", "/api/divert", divertBody(a, b), null);
    assertThat(noToken.statusCode()).isEqualTo(401);
    assertThat(noToken.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    assertThat(http(relay, "PUT", "/api/divert", divertBody(a, b), "wrong-token").statusCode()).isEqualTo(401);
    assertThat(http(relay, "DELETE", "/api/divert?from=" + a.address(), null, null).statusCode()).isEqualTo(401);
    assertThat(getJson(relay, "/api/divert").get("entries").get(0).get("to").asText()).isEqualTo(c.address());
    assertThat(who(svc)).isEqualTo("C");

    // Bad input gets a clear 400 and changes nothing.
    var badJson = http(relay, "PUT", "/api/divert", "{\"from\":", TOKEN);
    assertThat(badJson.statusCode()).isEqualTo(400);
    assertThat(badJson.body()).contains("not valid JSON");
    assertThat(http(relay, "PUT", "/api/divert", "{\"from\":\"" + a.address() + "\",\"to\":\"nowhere:99999\"}", TOKEN)
        .body()).contains("out of range");
    assertThat(http(relay, "PUT", "/api/divert", "{\"from\":\"" + a.address() + "\",\"to\":\"" + b.address()
        + "\",\"extra\":1}", TOKEN).statusCode()).isEqualTo(400);
    assertThat(getJson(relay, "/api/divert").get("entries")).hasSize(1);

    // Delete: new sessions go to A again.
    assertThat(http(relay, "DELETE", "/api/divert?from=" + a.address(), null, TOKEN).statusCode()).isEqualTo(200);
    assertThat(http(relay, "DELETE", "/api/divert?from=" + a.address(), null, TOKEN).statusCode()).isEqualTo(404);
    assertThat(getJson(relay, "/api/divert").get("entries")).isEmpty();
    assertThat(who(svc)).isEqualTo("A");

    assertThat(a.whoRequests.get()).isEqualTo(4);
    assertThat(b.whoRequests.get()).isEqualTo(1);
    assertThat(c.whoRequests.get()).isEqualTo(2);
    assertThat(metric(relay, "wanrelay_divert_hits_total")).isEqualTo(3.0);
    assertThat(metric(relay, "wanrelay_admin_requests_total{path=\"/api/divert\",status=\"401\"}")).isEqualTo(3.0);
    assertThat(metric(relay, "wanrelay_admin_requests_total{path=\"/api/divert\",status=\"200\"}")).isGreaterThanOrEqualTo(3.0);
  }
}
