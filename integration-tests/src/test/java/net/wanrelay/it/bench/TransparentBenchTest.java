package net.wanrelay.it.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.TestbedAssumptions;
import net.wanrelay.it.netns.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Transparent mode in the WAN benchmark (tagged {@code bench}; run by bench/wan-bench.sh). At
 * 25 ms one way each direction (50 ms RTT), 100 Mbit/s: time to first byte of short sessions
 * (connect, 64 B request, 512 B reply) for the direct path, the transparent pair with the PMT warm
 * (a server already known to be behind the SP: the session goes on the trunk at once), the first
 * contact with a new server (the probe rides the connection's own SYN), and the same two without
 * an SP on the path (pass-through). The client always connects to the server's own address; the
 * direct path uses another server port, which the CP does not intercept. New servers are fresh
 * addresses on the server host (the PMT learns per server address). Prints a table with ratios.
 */
@Tag("bench")
class TransparentBenchTest {
  static final int SESSIONS = Integer.getInteger("bench.sessions", 200);
  static final int FIRST_CONTACTS = Integer.getInteger("bench.firstContacts", 50);
  static final int INTERCEPTED = 5101;
  static final int NOT_INTERCEPTED = 5102;
  static final String KEY = "transparent-bench-shared-secret";

  @Test
  void transparentModeTimeToFirstByte() throws Exception {
    TestbedAssumptions.assumeTestbed();
    Path dir = Path.of("target", "transparent-bench").toAbsolutePath();
    Files.createDirectories(dir);
    Path jar = Files.copy(BenchPath.Wanrelay.jar(), dir.resolve("wanrelay.jar"), StandardCopyOption.REPLACE_EXISTING);
    try (Topology t = Topology.builder().build();
        BenchServer s1 = new BenchServer(t, Topology.SERVER, INTERCEPTED);
        BenchServer s2 = new BenchServer(t, Topology.SERVER, NOT_INTERCEPTED)) {
      t.wan().set("both", "delay=25ms loss=0 rate=100mbit queue=1000");
      String server = t.address(Topology.SERVER);
      String prefix = server.substring(0, server.lastIndexOf('.') + 1);
      // fresh server addresses: .10.. for first contacts without an SP, .110.. with one
      StringBuilder addrs = new StringBuilder();
      for (int i = 0; i < FIRST_CONTACTS; i++) {
        addrs.append("ip addr add ").append(prefix).append(10 + i).append("/32 dev ").append(Topology.SPROXY).append("; ");
        addrs.append("ip addr add ").append(prefix).append(110 + i).append("/32 dev ").append(Topology.SPROXY).append("; ");
      }
      t.exec(Topology.SERVER, addrs.toString()).orThrow();

      List<String> rows = new ArrayList<>();
      BenchClient.timeToFirstByte(t, server, NOT_INTERCEPTED, 3); // warm the JIT and ARP
      List<Long> direct = BenchClient.timeToFirstByte(t, server, NOT_INTERCEPTED, SESSIONS);
      double d = median(direct);
      rows.add(row("direct", direct, d));

      NsProcess cp = start(t, jar, dir, Topology.CPROXY, cpConfig());
      // no SP on the path (sproxy only routes)
      String noSpServer = prefix + 9;
      t.exec(Topology.SERVER, "ip addr add " + noSpServer + "/32 dev " + Topology.SPROXY).orThrow();
      BenchClient.timeToFirstByte(t, noSpServer, INTERCEPTED, 1); // learns no_peer
      BenchClient.warmUp(t, noSpServer, INTERCEPTED, 16, WanBenchTest.WARM_SESSIONS); // JIT, not measured
      List<Long> noSpWarm = BenchClient.timeToFirstByte(t, noSpServer, INTERCEPTED, SESSIONS);
      rows.add(row("no SP, PMT warm (pass-through)", noSpWarm, d));
      List<Long> noSpFirst = firstContacts(t, prefix, 10);
      rows.add(row("no SP, first contacts (probe)", noSpFirst, d));

      NsProcess sp = start(t, jar, dir, Topology.SPROXY, spConfig(t.address(Topology.SPROXY, Topology.WAN), prefix + "0/24"));
      BenchClient.timeToFirstByte(t, server, INTERCEPTED, 1); // learns peer, brings the trunk up
      awaitTrunk(t);
      BenchClient.warmUp(t, server, INTERCEPTED, 16, WanBenchTest.WARM_SESSIONS); // JIT, not measured
      List<Long> warm = BenchClient.timeToFirstByte(t, server, INTERCEPTED, SESSIONS);
      rows.add(row("pair, PMT warm (trunk)", warm, d));
      List<Long> first = firstContacts(t, prefix, 110);
      rows.add(row("pair, first contacts (probe)", first, d));
      String cpMetrics = scrape(t, Topology.CPROXY);
      sp.close();
      cp.close();

      double noSpWarmLimit = d * 1.05 + 1.0;
      StringBuilder out = new StringBuilder();
      out.append("Transparent mode, RTT 50 ms, 100 Mbit/s: time to first byte in ms (ratio to direct)\n");
      out.append(String.format(Locale.ROOT, "before the warm rows: %d short sessions through the same path, not measured"
          + " (JIT warm-up of the relays)%n", WanBenchTest.WARM_SESSIONS));
      out.append(String.format(Locale.ROOT, "%-34s %8s %8s %8s %7s%n", "path", "median", "p90", "n", "ratio"));
      rows.forEach(out::append);
      out.append(String.format(Locale.ROOT, "targets: pair warm <= 0.55 x direct: %.2f %s; first contact no extra RTT "
              + "(<= direct + 25 ms): %.1f vs %.1f %s; no SP warm <= direct x 1.05 + 1 ms = %.1f: %.1f %s; "
              + "no SP first contact: %.1f%n",
          median(warm) / d, median(warm) / d <= 0.55 ? "met" : "NOT met",
          median(first), d, median(first) <= d + 25 ? "met" : "NOT met",
          noSpWarmLimit, median(noSpWarm), median(noSpWarm) <= noSpWarmLimit ? "met" : "NOT met", median(noSpFirst)));
      out.append("CP counters: ").append(String.join(" ", grep(cpMetrics, "wanrelay_discovery_probes_total",
          "wanrelay_sessions_total{"))).append('\n');
      out.toString().lines().forEach(l -> System.out.println("[transparent] " + l));
      Files.writeString(Path.of("target", "transparent-bench.txt"), out.toString(), StandardCharsets.UTF_8);
      assertThat(warm).hasSize(SESSIONS);
    }
  }

  private static List<Long> firstContacts(Topology t, String prefix, int from) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < FIRST_CONTACTS; i++) {
      out.addAll(BenchClient.timeToFirstByte(t, prefix + (from + i), INTERCEPTED, 1));
    }
    return out;
  }

  private static String row(String name, List<Long> ttfb, double direct) {
    return String.format(Locale.ROOT, "%-34s %8.1f %8.1f %8d %7.2f%n", name, median(ttfb), p90(ttfb), ttfb.size(),
        median(ttfb) / direct);
  }

  static double median(List<Long> nanos) {
    List<Long> s = nanos.stream().sorted().toList();
    return s.get(s.size() / 2) / 1e6;
  }

  static double p90(List<Long> nanos) {
    List<Long> s = nanos.stream().sorted().toList();
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(s.size() * 0.9) - 1)) / 1e6;
  }

  private static List<String> grep(String text, String... prefixes) {
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      for (String p : prefixes) {
        if (line.startsWith(p) && !line.endsWith(" 0.0")) {
          out.add(line.replace("wanrelay_", ""));
        }
      }
    }
    return out;
  }

  private static String cpConfig() {
    return """
        node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk: { key: "%s", congestion-control: bbr, compression: off }
        intercept:
          tcp-ports: [%d]
          tproxy-listen: 0.0.0.0:7777
          transparent-source: true
          apply-rules: true
        discovery: { probe-timeout: 3s }
        """.formatted(KEY, INTERCEPTED);
  }

  private static String spConfig(String advertise, String allow) {
    return """
        node: { id: sp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk: { listen: 0.0.0.0:7800, key: "%s", allow: [ %s ], congestion-control: bbr, compression: off }
        intercept:
          transparent-source: true
          apply-rules: true
        discovery: { advertise: "%s:7800" }
        """.formatted(KEY, allow, advertise);
  }

  private static NsProcess start(Topology t, Path jar, Path dir, String node, String yaml) throws Exception {
    Path cfg = dir.resolve(node + ".yaml");
    Files.writeString(cfg, yaml);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    NsProcess p = t.spawn(node, List.of(java, "-Xms64m", "-Xmx256m", "-jar", jar.toString(), "run", "-c", cfg.toString()));
    p.awaitLine(Pattern.compile("wanrelay .* running"), Duration.ofSeconds(60));
    return p;
  }

  private static void awaitTrunk(Topology t) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (grep(scrape(t, Topology.CPROXY), "wanrelay_trunk_up{").stream().anyMatch(l -> l.endsWith(" 1.0"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("trunk to the SP did not come up");
  }

  private static String scrape(Topology t, String node) {
    return t.call(node, () -> {
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress("127.0.0.1", 9464), 5000);
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
    });
  }
}
