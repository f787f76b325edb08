package net.wanrelay.it.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.wanrelay.it.netns.Commands;
import net.wanrelay.it.netns.TestbedAssumptions;
import net.wanrelay.it.netns.Topology;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The WAN benchmark (not part of verify: tagged {@code bench}, which the build excludes). Runs
 * side by side in one topology, at 25 ms one way each direction (50 ms RTT) and 100 Mbit/s each
 * way, without and with 1% loss each way: time to first byte of short sessions, and goodput of
 * one 64 MiB upload with the end hosts on cubic and on bbr, for the direct path, the kcptun pair
 * and the wanrelay pair. Prints a table with ratios to direct (also written to
 * target/wan-bench.txt). Run: bench/wan-bench.sh, or
 * {@code ./mvnw -pl integration-tests verify -Dtest.excludedGroups= -Dgroups=bench}.
 */
@Tag("bench")
class WanBenchTest {
  static final int SESSIONS = Integer.getInteger("bench.sessions", 200);
  static final long UPLOAD_BYTES = Long.getLong("bench.uploadMiB", 64) << 20;
  static final long CAP_NANOS = Duration.ofSeconds(Long.getLong("bench.capSeconds", 60)).toNanos();
  static final String QUEUE = System.getProperty("bench.queue", "1000");
  /** Short sessions through each path before anything is measured (JIT warm-up of the relays). */
  static final int WARM_SESSIONS = Integer.getInteger("bench.warmSessions", 3000);

  record Condition(String name, String settings) {}

  /** One measured cell: a number, or why there is none. */
  record Cell(double value, String note) {
    static Cell of(double v) {
      return new Cell(v, "");
    }

    static Cell na(String why) {
      return new Cell(Double.NaN, why);
    }
  }

  @Test
  void wanBench() throws Exception {
    TestbedAssumptions.assumeTestbed();
    List<Condition> conditions = List.of(
        new Condition("RTT 50 ms", "delay=25ms loss=0 rate=100mbit queue=" + QUEUE),
        new Condition("RTT 50 ms + 1% loss", "delay=25ms loss=1% rate=100mbit queue=" + QUEUE));
    List<BenchPath> paths = List.of(new BenchPath.Direct(), new BenchPath.Kcptun(), new BenchPath.Wanrelay());
    // results.get(condition).get(path) -> {ttfb median ms, ttfb p90 ms, cubic Mbit/s, bbr Mbit/s}
    Map<String, Map<String, Cell[]>> results = new LinkedHashMap<>();
    Map<String, String> hosts = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    int measured = 0;
    String trunkNote = "";

    String allowedBefore = allowCongestionControls(List.of("cubic", "bbr"));
    try (Topology t = Topology.builder().build(); BenchServer server = new BenchServer(t, Topology.SERVER, BenchPath.SERVER_PORT)) {
      t.wan().set("both", conditions.get(0).settings());
      for (BenchPath p : paths) {
        try {
          String host = p.start(t);
          BenchPath.awaitUsable(t, host, Duration.ofSeconds(40), p);
          hosts.put(p.name, host);
        } catch (Exception e) {
          unavailable.put(p.name, firstLine(e.getMessage()));
          System.out.println("[bench] " + p.name + " unavailable: " + e.getMessage());
        }
      }
      for (BenchPath p : paths) {
        String host = hosts.get(p.name);
        if (host != null && WARM_SESSIONS > 0) {
          long start = System.nanoTime();
          BenchClient.warmUp(t, host, p.port, 16, WARM_SESSIONS);
          System.out.printf(Locale.ROOT, "[bench] warm-up %s: %d sessions in %.1f s%n", p.name, WARM_SESSIONS,
              (System.nanoTime() - start) / 1e9);
        }
      }
      for (Condition c : conditions) {
        t.wan().set("both", c.settings());
        Map<String, Cell[]> row = new LinkedHashMap<>();
        results.put(c.name(), row);
        for (BenchPath p : paths) {
          String host = hosts.get(p.name);
          if (host == null) {
            Cell na = Cell.na("n/a");
            row.put(p.name, new Cell[] {na, na, na, na});
            continue;
          }
          Cell[] cells = new Cell[4];
          try {
            BenchClient.timeToFirstByte(t, host, p.port, 5); // warm-up
            List<Long> ttfb = BenchClient.timeToFirstByte(t, host, p.port, SESSIONS);
            cells[0] = Cell.of(percentile(ttfb, 50) / 1e6);
            cells[1] = Cell.of(percentile(ttfb, 90) / 1e6);
            measured++;
          } catch (RuntimeException e) {
            cells[0] = cells[1] = Cell.na("failed");
            System.out.println("[bench] " + c.name() + " " + p.name + " TTFB failed: " + e + "\n" + p.output());
          }
          int k = 2;
          for (String cc : List.of("cubic", "bbr")) {
            t.sysctl(Topology.CLIENT, "net.ipv4.tcp_congestion_control", cc);
            t.sysctl(Topology.SERVER, "net.ipv4.tcp_congestion_control", cc);
            try {
              cells[k] = goodput(t, server, host, p.port, 1000 + k);
              measured++;
            } catch (RuntimeException | AssertionError e) {
              cells[k] = Cell.na("failed");
              System.out.println("[bench] " + c.name() + " " + p.name + " " + cc + " upload failed: " + e + "\n" + p.output());
            }
            k++;
          }
          row.put(p.name, cells);
          System.out.printf(Locale.ROOT, "[bench] %s %-8s TTFB median %s ms, goodput cubic %s, bbr %s Mbit/s%n",
              c.name(), p.name, fmt(cells[0]), fmt(cells[2]), fmt(cells[3]));
        }
      }
      if (hosts.containsKey("wanrelay")) {
        long tx = BenchPath.Wanrelay.trunkTxBytes(t);
        trunkNote = "wanrelay: cproxy's wanrelay_trunk_bytes_total{direction=\"tx\"} after the run: "
            + (tx < 0 ? "unreadable" : (tx >> 20) + " MiB") + " (the uploads alone are "
            + (2 * conditions.size() * (UPLOAD_BYTES >> 20)) + " MiB unless capped)\n";
        System.out.print("[bench] " + trunkNote);
      }
    } finally {
      paths.forEach(BenchPath::close);
      if (allowedBefore != null) {
        Commands.run(List.of("sysctl", "-qw", ALLOWED_CC + "=" + allowedBefore));
      }
    }
    String table = table(results, unavailable) + trunkNote;
    System.out.println(table);
    Files.writeString(Path.of("target", "wan-bench.txt"), table, StandardCharsets.UTF_8);
    assertThat(measured).as("measurements that produced a number").isPositive();
  }

  static final String ALLOWED_CC = "net.ipv4.tcp_allowed_congestion_control";

  /**
   * A namespace other than the host's may only pick a default congestion control that the host
   * lists in tcp_allowed_congestion_control (else EPERM). Adds the missing ones for the run and
   * returns the previous list to restore, or null when nothing had to change.
   */
  static String allowCongestionControls(List<String> wanted) {
    String before = Commands.run(List.of("sysctl", "-n", ALLOWED_CC)).orThrow().stdout().strip();
    List<String> allowed = new ArrayList<>(List.of(before.split("\\s+")));
    if (allowed.containsAll(wanted)) {
      return null;
    }
    wanted.stream().filter(w -> !allowed.contains(w)).forEach(allowed::add);
    Commands.run(List.of("sysctl", "-qw", ALLOWED_CC + "=" + String.join(" ", allowed))).orThrow();
    System.out.println("[bench] host " + ALLOWED_CC + " was '" + before + "', now '" + String.join(" ", allowed)
        + "' for this run (restored at the end)");
    return before;
  }

  private static Cell goodput(Topology t, BenchServer server, String host, int port, long seed) throws InterruptedException {
    server.resetBulkBytes();
    BenchClient.Upload up = BenchClient.upload(t, host, port, UPLOAD_BYTES, seed, CAP_NANOS, server::bulkBytes);
    if (up.capped()) {
      double mbit = up.receivedAtCap() * 8 / (CAP_NANOS / 1e9) / 1e6;
      server.nextBulk(5); // the aborted connection's record, if any
      return new Cell(mbit, "*");
    }
    BenchServer.Bulk got = server.nextBulk(30);
    assertThat(got).as("upload finished at the server").isNotNull();
    assertThat(got.bytes()).isEqualTo(up.bytes());
    assertThat(got.sha256()).as("SHA-256 of the upload").isEqualTo(up.sha256());
    return Cell.of(got.bytes() * 8 / ((got.lastByteNanos() - up.startNanos()) / 1e9) / 1e6);
  }

  static long percentile(List<Long> values, int p) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }

  private static String fmt(Cell c) {
    return Double.isNaN(c.value()) ? c.note() : String.format(Locale.ROOT, "%.1f%s", c.value(), c.note());
  }

  private static String ratio(Cell c, Cell direct) {
    if (Double.isNaN(c.value()) || Double.isNaN(direct.value()) || direct.value() == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2fx", c.value() / direct.value());
  }

  private static String firstLine(String s) {
    return s == null ? "?" : s.lines().findFirst().orElse(s);
  }

  static String table(Map<String, Map<String, Cell[]>> results, Map<String, String> unavailable) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%nWAN bench: 25 ms one way each direction, 100 Mbit/s each way, queue %s packets; "
        + "%d short sessions (64 B request, 512 B reply); one %d MiB upload of random data (SHA-256 checked).%n"
        + "Every path first ran %d short sessions, not measured (16 at a time: JIT warm-up of the relays).%n",
        QUEUE, SESSIONS, UPLOAD_BYTES >> 20, WARM_SESSIONS));
    b.append("TTFB ratio < 1 is better; goodput ratio > 1 is better. * = capped at ")
        .append(CAP_NANOS / 1_000_000_000L).append(" s, goodput of the bytes that arrived by then.\n\n");
    String head = String.format(Locale.ROOT, "%-22s %-9s %12s %10s %7s %14s %7s %14s %7s%n", "condition", "path",
        "TTFB med ms", "p90 ms", "ratio", "cubic Mbit/s", "ratio", "bbr Mbit/s", "ratio");
    b.append(head).append("-".repeat(head.length() - 1)).append('\n');
    for (var cond : results.entrySet()) {
      Cell[] direct = cond.getValue().get("direct");
      for (var row : cond.getValue().entrySet()) {
        Cell[] c = row.getValue();
        b.append(String.format(Locale.ROOT, "%-22s %-9s %12s %10s %7s %14s %7s %14s %7s%n", cond.getKey(), row.getKey(),
            fmt(c[0]), fmt(c[1]), ratio(c[0], direct[0]), fmt(c[2]), ratio(c[2], direct[2]), fmt(c[3]),
            ratio(c[3], direct[3])));
      }
    }
    for (var u : unavailable.entrySet()) {
      b.append("n/a ").append(u.getKey()).append(": ").append(u.getValue()).append('\n');
    }
    b.append("Reference on this machine (DESIGN.md 8): TTFB direct 101 ms, kcptun 51; goodput at 1% loss "
        + "cubic: direct 2.3, kcptun 58; bbr: direct 88, kcptun 58 Mbit/s.\n");
    return b.toString();
  }
}
