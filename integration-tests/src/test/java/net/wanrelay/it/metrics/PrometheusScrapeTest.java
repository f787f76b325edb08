package net.wanrelay.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoublePredicate;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scrapes a live relay pair with the scrape
 * configuration of docker/prometheus/prometheus.yml, its compose target hosts rewritten to the
 * pair's loopback admin ports: both targets are up, and the byte counters rise with traffic.
 */
class PrometheusScrapeTest {
  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration PATIENCE = Duration.ofSeconds(90);

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @Test
  void prometheusScrapesBothRelaysAndSeesTheBytesRise() throws Exception {
    assumeTrue(Files.isExecutable(PROMETHEUS),
        "SKIPPED: " + PROMETHEUS + " not found; install Debian's prometheus package to run this test");
    Files.createDirectories(dir.resolve("relays"));
    try (LoopbackEchoServer echo = new LoopbackEchoServer();
        RelayPair pair = RelayPair.start(RelayPair.viaFromSystemProperty(), dir.resolve("relays"), echo)) {
      int promPort = RelayPair.freeTcpPort();
      Path config = rewriteScrapeConfig(Map.of("cproxy", pair.cpAdminPort(), "sproxy", pair.spAdminPort()));
      List<String> cmd = List.of(PROMETHEUS.toString(), "--config.file=" + config,
          "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + promPort,
          "--storage.tsdb.retention.time=1h", "--log.level=warn");
      try (ManagedProcess prom = ManagedProcess.start("prometheus", cmd, dir.resolve("prometheus.log"))) {
        awaitQuery(prom, promPort, "up{job=\"wanrelay\",relay=\"cproxy\"}", v -> v == 1);
        awaitQuery(prom, promPort, "up{job=\"wanrelay\",relay=\"sproxy\"}", v -> v == 1);
        // LAN-side payload of the session on the CP; WAN-side wire bytes of the trunk on both relays.
        // (The SP does not count its trunk-opened server legs as sessions, so its session counters stay
        // flat in peer mode; with via: direct the SP relays a session of its own and counts it.)
        String cpSession = "sum(wanrelay_session_bytes_total{relay=\"cproxy\"}) or vector(0)";
        String spSession = "sum(wanrelay_session_bytes_total{relay=\"sproxy\"}) or vector(0)";
        String cpTrunk = "sum(wanrelay_trunk_bytes_total{relay=\"cproxy\"}) or vector(0)";
        String spTrunk = "sum(wanrelay_trunk_bytes_total{relay=\"sproxy\"}) or vector(0)";
        boolean peer = pair.via() == RelayPair.Via.PEER;
        double cpSessionBefore = query(promPort, cpSession);
        double spBefore = query(promPort, peer ? spTrunk : spSession);
        double cpTrunkBefore = query(promPort, cpTrunk);

        byte[] payload = new byte[256 * 1024];
        Hashes.fill(new SplittableRandom(11), payload);
        assertThat(Hashes.sha256Hex(pair.tcpEcho(payload))).isEqualTo(Hashes.sha256Hex(payload));

        // Both directions of the echo are counted: at least twice the payload (random bytes do not compress).
        double cpSessionAfter = awaitQuery(prom, promPort, cpSession, v -> v >= cpSessionBefore + 2.0 * payload.length);
        assertThat(cpSessionAfter - cpSessionBefore).isGreaterThanOrEqualTo(2.0 * payload.length);
        double spAfter = awaitQuery(prom, promPort, peer ? spTrunk : spSession, v -> v >= spBefore + 2.0 * payload.length);
        assertThat(spAfter - spBefore).isGreaterThanOrEqualTo(2.0 * payload.length);
        if (peer) {
          double cpTrunkAfter = awaitQuery(prom, promPort, cpTrunk, v -> v >= cpTrunkBefore + 2.0 * payload.length);
          assertThat(cpTrunkAfter - cpTrunkBefore).isGreaterThanOrEqualTo(2.0 * payload.length);
        }

        // Every dashboard query is valid PromQL for this Prometheus (Grafana's $__rate_interval set to 1m).
        for (String expr : DashboardQueries.expressions(RepoLayout.dockerDir().resolve("grafana/dashboards/wanrelay.json"))) {
          String promql = expr.replace("$__rate_interval", "1m");
          assertThat(queryStatus(promPort, promql)).as("dashboard query %s", promql).isEqualTo("success");
        }
      }
    }
  }

  /**
   * docker/prometheus/prometheus.yml with a 1 s scrape interval and every target host (a compose
   * service name) replaced by the loopback admin port of the matching relay.
   */
  @SuppressWarnings("unchecked")
  private Path rewriteScrapeConfig(Map<String, Integer> adminPortByHost) throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Map<String, Object> root = yaml.readValue(RepoLayout.dockerDir().resolve("prometheus/prometheus.yml").toFile(), Map.class);
    Map<String, Object> global = (Map<String, Object>) root.computeIfAbsent("global", k -> new HashMap<>());
    global.put("scrape_interval", "1s");
    global.put("evaluation_interval", "1s");
    int rewritten = 0;
    for (Map<String, Object> job : (List<Map<String, Object>>) root.get("scrape_configs")) {
      job.put("scrape_interval", "1s");
      for (Map<String, Object> sc : (List<Map<String, Object>>) job.get("static_configs")) {
        List<String> targets = new ArrayList<>();
        for (String target : (List<String>) sc.get("targets")) {
          String host = target.substring(0, target.lastIndexOf(':'));
          Integer port = adminPortByHost.get(host);
          assertThat(port).as("scrape target %s is not one of the relays %s", target, adminPortByHost.keySet()).isNotNull();
          targets.add("127.0.0.1:" + port);
          rewritten++;
        }
        sc.put("targets", targets);
      }
    }
    assertThat(rewritten).as("scrape targets in prometheus.yml").isEqualTo(adminPortByHost.size());
    Path out = dir.resolve("prometheus.yml");
    yaml.writeValue(out.toFile(), root);
    return out;
  }

  /** Polls an instant query until its single value satisfies {@code done}; returns that value. */
  private double awaitQuery(ManagedProcess prom, int port, String promql, DoublePredicate done) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    double last = Double.NaN;
    while (System.nanoTime() < deadline) {
      prom.requireAlive();
      try {
        last = query(port, promql);
        if (done.test(last)) {
          return last;
        }
      } catch (IOException notReady) {
        // Prometheus still starting
      }
      RelayPair.sleep(500);
    }
    throw new AssertionError("Prometheus query " + promql + " never satisfied the condition; last value " + last
        + "; prometheus log:\n" + prom.logTail());
  }

  /** The API's status for an instant query ("success", or "error" with a 400 for bad PromQL). */
  private String queryStatus(int port, String promql) throws IOException {
    HttpResponse<String> r = get(port, promql);
    return JSON.readTree(r.body()).path("status").asText() + (r.statusCode() == 200 ? "" : ": " + r.body());
  }

  private HttpResponse<String> get(int port, String promql) throws IOException {
    URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    try {
      return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** One instant query; NaN when the result vector is empty. */
  private double query(int port, String promql) throws IOException {
    HttpResponse<String> r = get(port, promql);
    if (r.statusCode() != 200) {
      throw new IOException("query " + promql + " answered " + r.statusCode() + ": " + r.body());
    }
    JsonNode result = JSON.readTree(r.body()).path("data").path("result");
    if (result.isEmpty()) {
      return Double.NaN;
    }
    assertThat(result.size()).as("series for %s: %s", promql, result).isEqualTo(1);
    return Double.parseDouble(result.get(0).path("value").get(1).asText());
  }
}
