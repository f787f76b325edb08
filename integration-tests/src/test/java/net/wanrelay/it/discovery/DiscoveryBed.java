package net.wanrelay.it.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.DoublePredicate;
import java.util.regex.Pattern;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;

/** Relays, configs, clients and metrics for the transparent-mode namespace tests. */
public final class DiscoveryBed {
  static final int SERVER_PORT = 8080;
  static final String KEY = "transparent-it-key-0123456789ab";
  static final Duration START_TIMEOUT = Duration.ofSeconds(40);

  private DiscoveryBed() {}

  /** relay-core's shaded jar (or -Dwanrelay.jar=PATH), copied (others rebuild it) into {@code dir}. */
  static Path relayJar(Path dir) throws IOException {
    String given = System.getProperty("wanrelay.jar");
    if (given != null) {
      Files.createDirectories(dir);
      return Files.copy(Path.of(given), dir.resolve("wanrelay.jar"), StandardCopyOption.REPLACE_EXISTING);
    }
    Path root = Path.of("").toAbsolutePath();
    if (!Files.exists(root.resolve("relay-core"))) {
      root = root.getParent();
    }
    Path jar = root.resolve("relay-core/target/wanrelay.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException("build the relay jar first (mvn package -pl relay-core): " + jar);
    }
    Files.createDirectories(dir);
    return Files.copy(jar, dir.resolve("wanrelay.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  static Path workDir(String name) throws IOException {
    Path d = Path.of("target", "discovery-it", name).toAbsolutePath();
    Files.createDirectories(d);
    return d;
  }

  static String cpConfig() {
    return """
        node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          key: "%s"
        intercept:
          tcp-ports: [%d]
          tproxy-listen: 0.0.0.0:7777
          transparent-source: true
          apply-rules: true
        discovery: { probe-timeout: 2s }
        """.formatted(KEY, SERVER_PORT);
  }

  static String spConfig(String advertise, String serverSubnet) {
    return """
        node: { id: sp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          listen: 0.0.0.0:7800
          key: "%s"
          allow: [ %s ]
          compression: off
        intercept:
          transparent-source: true
          apply-rules: true
        discovery: { advertise: "%s" }
        """.formatted(KEY, serverSubnet, advertise);
  }

  /** Starts {@code java -jar wanrelay.jar run -c cfg} in the node's namespace and waits for "running". */
  static NsProcess startRelay(Topology t, String node, Path jar, Path dir, String yaml) throws IOException {
    Path cfg = dir.resolve(node + ".yaml");
    Files.writeString(cfg, yaml);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    NsProcess p = t.spawn(node, List.of(java, "-Xms32m", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", jar.toString(), "run", "-c", cfg.toString()));
    p.awaitLine(Pattern.compile("wanrelay .* running"), START_TIMEOUT);
    return p;
  }

  /** Result of one client exchange. */
  record Exchange(byte[] sentSha256, byte[] echoedSha256, boolean replyIntact, long sent) {}

  /**
   * From the client namespace: connects to the server, sends {@code bytes} random bytes, half-closes,
   * reads the server's digest of them and the fixed reply.
   */
  static Exchange exchange(Topology t, String server, int bytes, long seed) throws Exception {
    Socket s = t.call(Topology.CLIENT, () -> {
      Socket c = new Socket();
      c.connect(new InetSocketAddress(server, SERVER_PORT), 10_000);
      return c;
    });
    try (s) {
      s.setSoTimeout(20_000);
      byte[] payload = new byte[bytes];
      new Random(seed).nextBytes(payload);
      OutputStream out = s.getOutputStream();
      for (int off = 0; off < bytes; off += 16 * 1024) {
        out.write(payload, off, Math.min(16 * 1024, bytes - off));
      }
      out.flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      byte[] digest = in.readNBytes(32);
      byte[] reply = in.readAllBytes();
      return new Exchange(MessageDigest.getInstance("SHA-256").digest(payload), digest,
          java.util.Arrays.equals(reply, HashingServer.reply(HashingServer.REPLY_BYTES)), bytes);
    }
  }

  /** The node's Prometheus text from its admin port (inside its namespace). */
  public static String scrape(Topology t, String node) {
    return t.call(node, DiscoveryBed::scrapeHere);
  }

  private static String scrapeHere() throws IOException {
    {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", 9464), 5000);
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int body = all.indexOf("\r\n\r\n");
        return body < 0 ? all : all.substring(body + 4);
      }
    }
  }

  /** Sum of the samples of {@code name} whose labels include every {@code k="v"} given. */
  public static double metric(String text, String name, String... labels) {
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** Polls the node's metrics until {@code name{labels}} satisfies {@code ok}; returns the last scrape. */
  static String awaitMetric(Topology t, String node, String name, DoublePredicate ok, String... labels)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String text = scrape(t, node);
    while (!ok.test(metric(text, name, labels)) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      text = scrape(t, node);
    }
    assertThat(metric(text, name, labels)).as("%s%s on %s", name, List.of(labels), node).matches(ok::test);
    return text;
  }

  /** Keeps a relay's output next to its config (target/discovery-it/...). */
  static void saveOutput(Path dir, String name, NsProcess p) throws IOException {
    Files.writeString(dir.resolve(name + ".log"), p.output());
    try {
      Files.writeString(dir.resolve(name + ".metrics"), scrape(p.namespace()));
    } catch (RuntimeException e) {
      Files.writeString(dir.resolve(name + ".metrics"), "scrape failed: " + e);
    }
  }

  private static String scrape(String namespace) {
    CompletableFuture<String> f = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        Topology.enterNamespace(namespace);
        f.complete(scrapeHere());
      } catch (Throwable e) {
        f.completeExceptionally(e);
      }
    });
    t.setDaemon(true);
    t.start();
    return f.join();
  }

  static List<String> lines(String text, String name) {
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith(name)) {
        out.add(line);
      }
    }
    return out;
  }
}
