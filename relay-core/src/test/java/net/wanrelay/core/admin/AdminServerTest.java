package net.wanrelay.core.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.core.admin.AdminServer.ApiException;
import net.wanrelay.core.admin.AdminServer.ApiResponse;
import net.wanrelay.core.net.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Routing, authorization and error answers of the admin API. */
class AdminServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final AtomicInteger changes = new AtomicInteger();
  private EventLoopGroup group;
  private AdminServer admin;

  @BeforeEach
  void start() throws Exception {
    Transport transport = Transport.detect();
    group = transport.newGroup(1);
    admin = new AdminServer(new InetSocketAddress("127.0.0.1", 0), () -> "# metrics\n", () -> true);
    admin.countRequestsIn(registry);
    admin.addRoute(HttpMethod.GET, "/api/thing", r -> ApiResponse.ok("{\"changes\":" + changes.get() + "}"));
    admin.addRoute(HttpMethod.PUT, "/api/thing", r -> {
      if (r.body().isBlank()) {
        throw new ApiException(400, "empty body");
      }
      changes.incrementAndGet();
      return ApiResponse.ok("{}");
    });
    admin.start(transport, group);
  }

  @AfterEach
  void stop() {
    admin.stop();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private HttpResponse<String> call(String method, String path, String body, String token) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.localAddress().getPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private double count(String path, int status) {
    var c = registry.find("wanrelay.admin.requests").tag("path", path).tag("status", Integer.toString(status)).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void changesAreRefusedWith403WhenNoTokenIsConfigured() throws Exception {
    var r = call("PUT", "/api/thing", "x", "anything");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("admin-token");
    assertThat(changes.get()).isZero();
    assertThat(call("GET", "/api/thing", null, null).body()).isEqualTo("{\"changes\":0}");
    assertThat(count("/api/thing", 403)).isEqualTo(1.0);
  }

  @Test
  void tokenIsRequiredAndChecked() throws Exception {
    admin.adminToken(Optional.of("s3cret-token"));
    assertThat(call("PUT", "/api/thing", "x", null).statusCode()).isEqualTo(401);
    assertThat(call("PUT", "/api/thing", "x", "s3cret-tokeN").statusCode()).isEqualTo(401);
    assertThat(changes.get()).isZero();
    assertThat(call("PUT", "/api/thing", "x", "s3cret-token").statusCode()).isEqualTo(200);
    assertThat(changes.get()).isEqualTo(1);
    var bad = call("PUT", "/api/thing", "", "s3cret-token");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).isEqualTo("{\"error\":\"empty body\"}\n");
    assertThat(count("/api/thing", 401)).isEqualTo(2.0);
    assertThat(count("/api/thing", 200)).isEqualTo(1.0);
    assertThat(count("/api/thing", 400)).isEqualTo(1.0);
  }

  @Test
  void unknownPathsAndMethodsGetClearErrors() throws Exception {
    var notFound = call("GET", "/api/nope?x=%22", null, null);
    assertThat(notFound.statusCode()).isEqualTo(404);
    assertThat(notFound.body()).contains("no such path: /api/nope");
    var wrongMethod = call("DELETE", "/api/thing", null, null);
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.body()).contains("allowed: GET, PUT");
    assertThat(call("POST", "/metrics", "", null).statusCode()).isEqualTo(405);
    assertThat(call("GET", "/metrics", null, null).body()).isEqualTo("# metrics\n");
    assertThat(count("other", 404)).isEqualTo(1.0);
    assertThat(count("/api/thing", 405)).isEqualTo(1.0);
    assertThat(count("/metrics", 405)).isEqualTo(1.0);
    assertThat(AdminServer.quote("a\"b\\c\n")).isEqualTo("\"a\\\"b\\\\c\\u000a\"");
  }
}
