package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  // name{labels} value: the Prometheus text exposition format, one sample per line.
  private static final Pattern SAMPLE = Pattern.compile(
      "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\",?)*\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( [0-9]+)?$");

  static Map<String, Double> parse(String body) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : body.split("\n")) {
      if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("Prometheus sample line: %s", line).isTrue();
      String value = line.substring(line.lastIndexOf(' ') + 1);
      samples.put(line.substring(0, line.lastIndexOf(' ')), Double.parseDouble(value.replace("+Inf", "Infinity")));
    }
    return samples;
  }

  @Test
  void metricsParseAndCountersMatchTheTrafficSent() throws Exception {
    var pool = Executors.newSingleThreadExecutor();
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho();
         DatagramSocket udpEcho = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      pool.submit(() -> {
        byte[] buf = new byte[2048];
        while (!udpEcho.isClosed()) {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          udpEcho.receive(p);
          udpEcho.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
        }
        return null;
      });
      try (Relay relay = Loopback.startRelay("""
          node: { admin: 127.0.0.1:%d }
          listeners:
            - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
            - { name: u, protocol: udp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
          """.formatted(Loopback.freePort(), Loopback.freePort(), echo.port(), Loopback.freePort(), udpEcho.getLocalPort()))) {
        InetSocketAddress tcp = relay.tcpListeners().get(0).localAddress();
        InetSocketAddress udp = relay.udpListeners().get(0).localAddress();
        long tcpBytes = 0;
        for (int i = 0; i < 5; i++) {
          try (Socket s = Loopback.connect(tcp)) {
            Loopback.writeRandom(s.getOutputStream(), 10_000 + i, i);
            s.shutdownOutput();
            Loopback.readAll(s.getInputStream(), new AtomicLong());
            tcpBytes += 10_000 + i;
          }
        }
        try (DatagramSocket c = new DatagramSocket()) {
          c.setSoTimeout(2000);
          for (int i = 0; i < 3; i++) {
            c.send(new DatagramPacket(new byte[100], 100, udp));
            c.receive(new DatagramPacket(new byte[200], 200));
          }
        }
        assertThat(Loopback.httpGet(relay.adminAddress(), "/healthz")).isEqualTo("200\nok\n");
        Map<String, Double> m = Map.of();
        for (int i = 0; i < 100; i++) {
          m = parse(Loopback.httpGet(relay.adminAddress(), "/metrics").substring(4));
          if (m.getOrDefault("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"direct\"}", 0.0) == 5) {
            break;
          }
          Thread.sleep(50);
        }
        assertThat(m).containsEntry("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"direct\"}", 5.0);
        assertThat(m).containsEntry("wanrelay_sessions_active{protocol=\"tcp\",route=\"direct\"}", 0.0);
        assertThat(m).containsEntry("wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"tcp\",route=\"direct\"}", (double) tcpBytes);
        assertThat(m).containsEntry("wanrelay_session_bytes_total{direction=\"server_to_client\",protocol=\"tcp\",route=\"direct\"}", (double) tcpBytes);
        assertThat(m).containsEntry("wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"udp\",route=\"direct\"}", 300.0);
        assertThat(m).containsEntry("wanrelay_session_bytes_total{direction=\"server_to_client\",protocol=\"udp\",route=\"direct\"}", 300.0);
        assertThat(m).containsEntry("wanrelay_udp_flows_active", 1.0);
        assertThat(m).containsEntry("wanrelay_sessions_active{protocol=\"udp\",route=\"direct\"}", 1.0);
        assertThat(m.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"));
        assertThat(Loopback.httpGet(relay.adminAddress(), "/nope")).startsWith("404");
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
