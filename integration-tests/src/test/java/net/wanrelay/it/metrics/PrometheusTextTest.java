package net.wanrelay.it.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  private static final String TEXT = String.join("\n",
      "# HELP wanrelay_session_bytes_total Session payload bytes on the LAN side",
      "# TYPE wanrelay_session_bytes_total counter",
      "wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"tcp\",route=\"trunk\"} 1024.0",
      "wanrelay_session_bytes_total{direction=\"server_to_client\",protocol=\"tcp\",route=\"trunk\"} 2048.0",
      "wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"udp\",route=\"direct\"} 6.0",
      "wanrelay_trunk_up{peer=\"sp\"} 1",
      "weird_label{v=\"a \\\"quoted\\\", comma\\\\ and } brace\"} 3 1700000000000",
      "jvm_threads_live_threads 17.0",
      "process_start_time_seconds +Inf",
      "");

  @Test
  void parsesNamesLabelsAndValues() {
    PrometheusText t = PrometheusText.parse(TEXT);
    assertThat(t.names()).containsExactly("jvm_threads_live_threads", "process_start_time_seconds",
        "wanrelay_session_bytes_total", "wanrelay_trunk_up", "weird_label");
    assertThat(t.sum("wanrelay_session_bytes_total", Map.of("route", "trunk"))).isEqualTo(3072.0);
    assertThat(t.sum("wanrelay_session_bytes_total", Map.of("protocol", "udp"))).isEqualTo(6.0);
    assertThat(t.sum("wanrelay_trunk_up", Map.of("peer", "sp"))).isEqualTo(1.0);
    assertThat(t.sum("wanrelay_trunk_up", Map.of("peer", "other"))).isZero();
    assertThat(t.samples()).filteredOn(s -> s.name().equals("weird_label"))
        .singleElement().satisfies(s -> {
          assertThat(s.labels()).containsEntry("v", "a \"quoted\", comma\\ and } brace");
          assertThat(s.value()).isEqualTo(3.0);
        });
    assertThat(t.sum("process_start_time_seconds", Map.of())).isInfinite();
  }
}
