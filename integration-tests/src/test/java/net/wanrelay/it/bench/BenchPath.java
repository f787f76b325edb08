package net.wanrelay.it.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.it.netns.Commands;
import net.wanrelay.it.netns.ExecResult;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;

/** One way for the client to reach the bench server: direct, or through a relay pair in cproxy/sproxy. */
abstract class BenchPath implements AutoCloseable {
  /** The bench server's port (in the server namespace). */
  static final int SERVER_PORT = 5001;

  final String name;
  /** The port the client connects to; distinct per path, so relays in one namespace never share one. */
  final int port;
  final List<NsProcess> processes = new ArrayList<>();

  BenchPath(String name, int port) {
    this.name = name;
    this.port = port;
  }

  /** Starts what the path needs; returns the host the client connects to (at {@link #port}). */
  abstract String start(Topology t) throws Exception;

  /** " (NAME: last line; ...)" for processes that exited, else "". */
  String exitReasons() {
    List<String> reasons = new ArrayList<>();
    for (NsProcess p : processes) {
      if (!p.isAlive()) {
        List<String> lines = p.output().lines().filter(l -> !l.isBlank()).toList();
        reasons.add(p + ": " + (lines.isEmpty() ? "no output" : lines.get(lines.size() - 1).strip()));
      }
    }
    return reasons.isEmpty() ? "" : " (" + String.join("; ", reasons) + ")";
  }

  String output() {
    StringBuilder b = new StringBuilder();
    for (NsProcess p : processes) {
      String out = p.output();
      b.append("--- ").append(p).append('\n').append(out.length() > 3000 ? out.substring(out.length() - 3000) : out);
    }
    return b.toString();
  }

  @Override
  public void close() {
    processes.forEach(NsProcess::close);
  }

  /** Plain routing to the server. */
  static final class Direct extends BenchPath {
    Direct() {
      super("direct", SERVER_PORT);
    }

    @Override
    String start(Topology t) {
      return t.address(Topology.SERVER);
    }
  }

  /** Debian's kcptun pair: KCP over UDP between cproxy and sproxy, the flags the design names. */
  static final class Kcptun extends BenchPath {
    static final List<String> FLAGS = List.of("--crypt", "none", "--nocomp", "--mode", "fast3",
        "--sndwnd", "4096", "--rcvwnd", "4096", "--quiet");

    Kcptun() {
      super("kcptun", 5002);
    }

    @Override
    String start(Topology t) {
      if (!Commands.run(List.of("sh", "-c", "command -v kcptun-client && command -v kcptun-server")).ok()) {
        throw new IllegalStateException("kcptun-client/kcptun-server not installed (apt-get install kcptun)");
      }
      List<String> server = new ArrayList<>(List.of("kcptun-server", "-l", ":29900", "-t",
          t.address(Topology.SERVER) + ":" + SERVER_PORT));
      server.addAll(FLAGS);
      processes.add(t.spawn(Topology.SPROXY, server));
      List<String> client = new ArrayList<>(List.of("kcptun-client", "-l", ":" + port, "-r",
          t.address(Topology.SPROXY) + ":29900"));
      client.addAll(FLAGS);
      processes.add(t.spawn(Topology.CPROXY, client));
      return t.address(Topology.CPROXY);
    }
  }

  /**
   * The wanrelay pair in explicit mode: cproxy's listener forwards over the trunk to peer "sp",
   * sproxy accepts the trunk and opens the server leg. Needs the runnable jar: system property
   * {@code wanrelay.jar}, else relay-core/target/wanrelay.jar (copied first, since others rebuild it).
   */
  static final class Wanrelay extends BenchPath {
    private static final String KEY = "wanrelay-bench-shared-secret";
    private Path dir;

    Wanrelay() {
      super("wanrelay", 5003);
    }

    String cproxyConfig(Topology t) {
      return """
          node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
          listeners:
            - { name: bench, protocol: tcp, listen: 0.0.0.0:%d, target: %s:%d, via: peer:sp }
          trunk:
            peers:
              - { name: sp, address: %s:7800, key: "%s", connections: 2 }
            congestion-control: bbr
            compression: off
          """.formatted(port, t.address(Topology.SERVER), SERVER_PORT, t.address(Topology.SPROXY), KEY);
    }

    static String sproxyConfig(Topology t) {
      String server = t.address(Topology.SERVER);
      return """
          node: { id: sp, admin: 127.0.0.1:9464, drain-timeout: 1s }
          trunk:
            listen: 0.0.0.0:7800
            key: "%s"
            allow: [ %s/24 ]
            congestion-control: bbr
            compression: off
          """.formatted(KEY, server.substring(0, server.lastIndexOf('.')) + ".0");
    }

    @Override
    String start(Topology t) throws IOException {
      Path jar = jar();
      dir = Files.createTempDirectory("wrt-bench");
      Path jarCopy = dir.resolve("wanrelay.jar");
      Files.copy(jar, jarCopy, StandardCopyOption.REPLACE_EXISTING);
      Path cp = dir.resolve("cproxy.yaml");
      Path sp = dir.resolve("sproxy.yaml");
      Files.writeString(cp, cproxyConfig(t), StandardCharsets.UTF_8);
      Files.writeString(sp, sproxyConfig(t), StandardCharsets.UTF_8);
      for (Path cfg : List.of(cp, sp)) {
        ExecResult check = Commands.run(List.of(java(), "-jar", jarCopy.toString(), "check-config", "-c", cfg.toString()));
        if (!check.ok()) {
          throw new IllegalStateException("check-config " + cfg.getFileName() + " failed: "
              + (check.stderr() + check.stdout()).strip());
        }
      }
      NsProcess spProc = t.spawn(Topology.SPROXY, List.of(java(), "-jar", jarCopy.toString(), "run", "-c", sp.toString()));
      processes.add(spProc);
      NsProcess cpProc = t.spawn(Topology.CPROXY, List.of(java(), "-jar", jarCopy.toString(), "run", "-c", cp.toString()));
      processes.add(cpProc);
      // Wait for cproxy's admin port, so a session that succeeds afterwards went through this relay.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (trunkTxBytes(t) < 0) {
        if (!cpProc.isAlive() || !spProc.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("wanrelay relays did not come up" + exitReasons() + ":\n" + output());
        }
        sleep(300);
      }
      return t.address(Topology.CPROXY);
    }

    /**
     * Sum of {@code wanrelay_trunk_bytes_total} samples with {@code direction="tx"} on cproxy's
     * admin port, to show the bench traffic really rode the trunk; -1 if it cannot be read.
     */
    static long trunkTxBytes(Topology t) {
      try {
        String body = t.call(Topology.CPROXY, () -> {
          try (java.net.Socket s = new java.net.Socket("127.0.0.1", 9464)) {
            s.getOutputStream().write("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          }
        });
        double sum = 0;
        for (String line : body.split("\n")) {
          if (line.startsWith("wanrelay_trunk_bytes_total{") && line.contains("direction=\"tx\"")) {
            sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).strip());
          }
        }
        return (long) sum;
      } catch (RuntimeException e) {
        return -1;
      }
    }

    private static String java() {
      return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static Path jar() {
      String prop = System.getProperty("wanrelay.jar", "");
      List<Path> candidates = new ArrayList<>();
      if (!prop.isBlank()) {
        candidates.add(Path.of(prop));
      }
      Path here = Path.of("").toAbsolutePath();
      candidates.add(here.resolve("../relay-core/target/wanrelay.jar").normalize());
      candidates.add(here.resolve("relay-core/target/wanrelay.jar"));
      for (Path p : candidates) {
        if (Files.isRegularFile(p)) {
          return p;
        }
      }
      throw new IllegalStateException("wanrelay.jar not found (tried " + candidates + "); build it with "
          + "./mvnw -q -B package -DskipTests -pl relay-core -am, or pass -Dwanrelay.jar=PATH");
    }

    @Override
    public void close() {
      super.close();
      if (dir != null) {
        Commands.run(List.of("rm", "-rf", dir.toString()));
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits until a short session through the path succeeds (relays up, trunk connected). */
  static void awaitUsable(Topology t, String host, Duration timeout, BenchPath path) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      for (NsProcess p : path.processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException(path.name + ": " + p + " exited:\n" + path.output());
        }
      }
      try {
        BenchClient.timeToFirstByte(t, host, path.port, 1);
        sleep(500);
        for (NsProcess p : path.processes) {
          if (!p.isAlive()) {
            throw new IllegalStateException(path.name + ": " + p + " exited:\n" + path.output());
          }
        }
        return;
      } catch (RuntimeException e) {
        last = e;
        Thread.sleep(300);
      }
    }
    throw new IllegalStateException(path.name + " not usable within " + timeout + ": " + last + "\n" + path.output());
  }

}
