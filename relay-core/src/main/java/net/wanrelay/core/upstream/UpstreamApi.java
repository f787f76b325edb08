package net.wanrelay.core.upstream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Iterator;
import net.wanrelay.core.admin.AdminServer;
import net.wanrelay.core.admin.AdminServer.ApiException;
import net.wanrelay.core.admin.AdminServer.ApiRequest;
import net.wanrelay.core.admin.AdminServer.ApiResponse;
import net.wanrelay.core.config.HostPort;

/** The admin API of pools, the divert map and open sessions (see docs/POOLS.md). */
final class UpstreamApi {
  /** Most sessions listed by one {@code GET /api/sessions}. */
  static final int MAX_SESSIONS_LISTED = 1000;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Collection<Pool> pools;
  private final DivertMap divert;
  private final OpenSessions sessions;

  UpstreamApi(Collection<Pool> pools, DivertMap divert, OpenSessions sessions) {
    this.pools = pools;
    this.divert = divert;
    this.sessions = sessions;
  }

  void register(AdminServer admin) {
    admin.addRoute(HttpMethod.GET, "/api/divert", r -> ApiResponse.ok(divertList()));
    admin.addRoute(HttpMethod.PUT, "/api/divert", this::putDivert);
    admin.addRoute(HttpMethod.DELETE, "/api/divert", this::deleteDivert);
    admin.addRoute(HttpMethod.GET, "/api/pools", r -> ApiResponse.ok(poolList()));
    admin.addRoute(HttpMethod.GET, "/api/sessions", r -> ApiResponse.ok(sessionList()));
  }

  private ApiResponse putDivert(ApiRequest request) {
    JsonNode body;
    try {
      body = JSON.readTree(request.body());
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "body is not valid JSON: " + e.getOriginalMessage());
    }
    if (body == null || !body.isObject()) {
      throw new ApiException(400, "body must be a JSON object like {\"from\":\"10.0.0.1:80\",\"to\":\"10.0.0.2:80\"}");
    }
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!field.equals("from") && !field.equals("to")) {
        throw new ApiException(400, "unknown field '" + field + "' (expected 'from' and 'to')");
      }
    }
    InetSocketAddress from = address(body, "from");
    InetSocketAddress to = address(body, "to");
    String fromText = OpenSessions.text(from);
    String toText = OpenSessions.text(to);
    DivertMap.Entry replaced = divert.put(from, fromText, to, toText);
    ObjectNode out = JSON.createObjectNode().put("from", fromText).put("to", toText);
    out.put("replaced", replaced == null ? null : replaced.toText());
    return ApiResponse.ok(out.toString());
  }

  private ApiResponse deleteDivert(ApiRequest request) {
    InetSocketAddress from = parse("from", request.requiredParam("from"));
    DivertMap.Entry removed = divert.remove(from);
    if (removed == null) {
      throw new ApiException(404, "no divert entry for " + OpenSessions.text(from));
    }
    return ApiResponse.ok(JSON.createObjectNode().put("from", removed.fromText()).put("removed", removed.toText()).toString());
  }

  private static InetSocketAddress address(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || !v.isTextual()) {
      throw new ApiException(400, "'" + field + "' must be a string \"host:port\"");
    }
    return parse(field, v.asText());
  }

  private static InetSocketAddress parse(String field, String text) {
    HostPort hp;
    try {
      hp = HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "'" + field + "': " + e.getMessage());
    }
    InetSocketAddress a = hp.resolve();
    if (a.isUnresolved()) {
      throw new ApiException(400, "'" + field + "': cannot resolve '" + hp.host() + "'");
    }
    return a;
  }

  private String divertList() {
    ArrayNode list = JSON.createArrayNode();
    for (DivertMap.Entry e : divert.entries()) {
      list.addObject().put("from", e.fromText()).put("to", e.toText()).put("hits", e.hits().get());
    }
    return JSON.createObjectNode().set("entries", list).toString();
  }

  private String poolList() {
    ArrayNode list = JSON.createArrayNode();
    for (Pool p : pools) {
      ObjectNode o = list.addObject();
      o.put("name", p.name()).put("policy", p.config.policy().name().toLowerCase().replace('_', '-'));
      o.put("fallback", p.fallback.map(OpenSessions::text).orElse(null));
      ArrayNode members = o.putArray("members");
      for (Member m : p.members) {
        ObjectNode mo = members.addObject();
        mo.put("address", m.text).put("state", m.state().name().toLowerCase()).put("healthy", m.usable());
        mo.put("sessions", m.sessions.get());
        double rtt = m.ewmaRttSeconds();
        if (Double.isNaN(rtt)) {
          mo.putNull("rttMillis");
        } else {
          mo.put("rttMillis", Math.round(rtt * 1e6) / 1e3);
        }
        mo.put("consecutiveFailures", m.consecutiveFailures()).put("consecutivePasses", m.consecutivePasses());
        mo.put("lastCheck", m.lastResult());
      }
    }
    return JSON.createObjectNode().set("pools", list).toString();
  }

  private String sessionList() {
    ArrayNode list = JSON.createArrayNode();
    for (OpenSessions.Entry e : sessions.first(MAX_SESSIONS_LISTED)) {
      render(list.addObject(), e);
    }
    ArrayNode recent = JSON.createArrayNode();
    for (OpenSessions.Entry e : sessions.recent()) {
      ObjectNode o = recent.addObject();
      render(o, e);
      o.put("closedAtMillis", e.closedMillis);
      var outcome = e.session.outcome();
      o.put("outcome", outcome == null ? null : outcome.name().toLowerCase(java.util.Locale.ROOT));
    }
    ObjectNode out = JSON.createObjectNode().put("open", sessions.size()).put("listed", list.size());
    out.set("sessions", list);
    out.set("recent", recent);
    return out.toString();
  }

  private static void render(ObjectNode o, OpenSessions.Entry e) {
    o.put("listener", e.listener).put("client", OpenSessions.text(e.client));
    o.put("original", e.original).put("actual", OpenSessions.text(e.actual));
    o.put("openedAtMillis", e.openedMillis);
    o.put("bytesClientToServer", e.session.bytesClientToServer());
    o.put("bytesServerToClient", e.session.bytesServerToClient());
    long c = e.session.connectNanos();
    if (c < 0) {
      o.putNull("connectMillis");
    } else {
      o.put("connectMillis", Math.round(c / 1e3) / 1e3);
    }
    o.put("peer", e.session.peer());
    o.put("failure", e.session.failure());
  }
}
