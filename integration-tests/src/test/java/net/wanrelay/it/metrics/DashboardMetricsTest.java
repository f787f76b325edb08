package net.wanrelay.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric the Grafana dashboard (docker/grafana/dashboards/*.json) queries is exported by a
 * live relay pair after a little traffic, so no panel stays empty because of a renamed or missing
 * metric.
 */
class DashboardMetricsTest {
  private static final Path DASHBOARD = RepoLayout.dockerDir().resolve("grafana/dashboards/wanrelay.json");

  @TempDir Path dir;

  @Test
  void dashboardQueriesParseIntoRelayMetricNames() {
    Set<String> names = DashboardQueries.metricNames(DashboardQueries.expressions(DASHBOARD));
    // The panels the topology must show: sessions by route, WAN reduction, discovery, trunk RTT and up.
    assertThat(names).contains("wanrelay_sessions_active", "wanrelay_session_bytes_total", "wanrelay_trunk_bytes_total",
        "wanrelay_discovery_probes_total", "wanrelay_trunk_rtt_seconds", "wanrelay_trunk_up");
    assertThat(DashboardQueries.metricNames(List.of(
        "sum by (relay) (rate(wanrelay_x_total{route=~\"trunk.*\",label=\"jvm_not_a_metric\"}[$__rate_interval])) / jvm_y")))
        .containsExactly("jvm_y", "wanrelay_x_total");
  }

  @Test
  void everyDashboardMetricIsExportedByALiveRelayPair() throws Exception {
    Set<String> wanted = DashboardQueries.metricNames(DashboardQueries.expressions(DASHBOARD));
    try (LoopbackEchoServer echo = new LoopbackEchoServer();
        RelayPair pair = RelayPair.start(RelayPair.viaFromSystemProperty(), dir, echo)) {
      byte[] payload = new byte[128 * 1024];
      Hashes.fill(new SplittableRandom(7), payload);
      assertThat(Hashes.sha256Hex(pair.tcpEcho(payload))).isEqualTo(Hashes.sha256Hex(payload));
      byte[] datagram = "wanrelay-udp-probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      assertThat(pair.udpEcho(datagram)).isEqualTo(datagram);
      assertThat(pair.connectToDeadTarget()).isEqualTo(-1);
      pair.await(pair.cpProcess(), "the pool member to pass its health probe", () -> pair.metrics(pair.cpAdminPort())
          .sum("wanrelay_upstream_health", Map.of("pool", "echo")) == 1);
      byte[] small = new byte[4096];
      Hashes.fill(new SplittableRandom(8), small);
      assertThat(pair.tcpEchoViaPool(small)).isEqualTo(small);

      // Counters are updated when sessions end; wait until the CP has counted the echo session.
      pair.await(pair.cpProcess(), "cp to count the echo session's bytes", () -> pair.metrics(pair.cpAdminPort())
          .sum("wanrelay_session_bytes_total", Map.of("direction", "client_to_server")) >= payload.length);
      pair.await(pair.cpProcess(), "cp to count the connect failure to the closed port", () -> pair.metrics(pair.cpAdminPort())
          .sum("wanrelay_connect_failures_total", Map.of("protocol", "tcp")) >= 1);

      Set<String> exported = new TreeSet<>(pair.metrics(pair.cpAdminPort()).names());
      exported.addAll(pair.metrics(pair.spAdminPort()).names());
      Set<String> missing = new TreeSet<>(wanted);
      missing.removeAll(exported);
      assertThat(missing)
          .as("metrics queried by %s but exported by neither relay (via %s); exported: %s", DASHBOARD.getFileName(),
              pair.via(), exported)
          .isEmpty();
      // The echo and pool sessions, plus the pool's health probes ("ping\n" each).
      assertThat(echo.tcpBytesEchoed()).isGreaterThanOrEqualTo(payload.length + small.length);
    }
  }
}
