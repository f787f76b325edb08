package net.wanrelay.it.resume;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import net.wanrelay.it.discovery.DiscoveryBed;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.Traffic;
import net.wanrelay.testsupport.Hashes;

/**
 * A relay pair (the shaded relay jar) in cproxy/sproxy in explicit mode, with a heartbeat short
 * enough (1 s / 3 s) that a WAN outage of a few seconds really kills the trunk connection, and the
 * default resume grace (30 s) unless told otherwise.
 */
final class ResumeBed {
  static final int SERVER_PORT = 5001;
  static final int FRONT_PORT = 5011;
  static final String KEY = "resume-it-shared-secret-0123456789";
  static final Duration START_TIMEOUT = Duration.ofSeconds(40);

  private ResumeBed() {}

  static Path workDir(String name) throws IOException {
    Path d = Path.of("target", "resume-it", name).toAbsolutePath();
    Files.createDirectories(d);
    return d;
  }

  /** relay-core's shaded jar (or -Dwanrelay.jar=PATH), copied into {@code dir} (others rebuild it). */
  static Path relayJar(Path dir) throws IOException {
    String given = System.getProperty("wanrelay.jar");
    Path jar;
    if (given != null) {
      jar = Path.of(given);
    } else {
      Path root = Path.of("").toAbsolutePath();
      if (!Files.exists(root.resolve("relay-core"))) {
        root = root.getParent();
      }
      jar = root.resolve("relay-core/target/wanrelay.jar");
    }
    if (!Files.exists(jar)) {
      throw new IllegalStateException("build the relay jar first (./mvnw package -pl relay-core -am): " + jar);
    }
    return Files.copy(jar, dir.resolve("wanrelay.jar"), StandardCopyOption.REPLACE_EXISTING);
  }

  static String cpConfig(Topology t, String grace) {
    return """
        node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        listeners:
          - { name: bulk, protocol: tcp, listen: 0.0.0.0:%d, target: %s:%d, via: peer:sp }
        trunk:
          peers:
            - { name: sp, address: %s:7800, key: "%s", connections: 1 }
          congestion-control: cubic
          compression: off
          heartbeat-interval: 1s
          heartbeat-timeout: 3s
          resume-grace: %s
        """.formatted(FRONT_PORT, t.address(Topology.SERVER), SERVER_PORT, t.address(Topology.SPROXY), KEY, grace);
  }

  static String spConfig(Topology t, String grace) {
    String server = t.address(Topology.SERVER);
    return """
        node: { id: sp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          listen: 0.0.0.0:7800
          key: "%s"
          allow: [ %s/24 ]
          congestion-control: cubic
          compression: off
          heartbeat-interval: 1s
          heartbeat-timeout: 3s
          resume-grace: %s
        """.formatted(KEY, server.substring(0, server.lastIndexOf('.')) + ".0", grace);
  }

  static NsProcess startRelay(Topology t, String node, Path jar, Path dir, String yaml) throws IOException {
    Path cfg = dir.resolve(node + ".yaml");
    Files.writeString(cfg, yaml);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    NsProcess p = t.spawn(node, List.of(java, "-Xms64m", "-Xmx384m", "-XX:+UseSerialGC",
        "-jar", jar.toString(), "run", "-c", cfg.toString()));
    p.awaitLine(Pattern.compile("wanrelay .* running"), START_TIMEOUT);
    return p;
  }

  /**
   * From the client namespace, through cproxy's listener: sends {@code bytes} seeded random bytes,
   * runs {@code midway} once {@code at} bytes were written (the transfer goes on meanwhile), then
   * half-closes and reads to EOF. An exception here means the client saw its connection fail.
   */
  static Traffic.Digest send(Topology t, long bytes, long seed, long at, Runnable midway) throws IOException {
    Socket s = t.call(Topology.CLIENT, () -> {
      Socket c = new Socket();
      c.connect(new InetSocketAddress(t.address(Topology.CPROXY), FRONT_PORT), 10_000);
      return c;
    });
    MessageDigest md = Hashes.sha256();
    SplittableRandom random = new SplittableRandom(seed);
    byte[] buf = new byte[65536];
    boolean fired = false;
    try (s; OutputStream out = s.getOutputStream()) {
      s.setSoTimeout(120_000);
      long sent = 0;
      while (sent < bytes) {
        int n = (int) Math.min(buf.length, bytes - sent);
        Hashes.fill(random, buf);
        md.update(buf, 0, n);
        out.write(buf, 0, n);
        sent += n;
        if (!fired && sent >= at) {
          fired = true;
          Thread th = new Thread(midway, "midway");
          th.setDaemon(true);
          th.start();
        }
      }
      s.shutdownOutput();
      if (s.getInputStream().read() != -1) {
        throw new IOException("unexpected reply byte");
      }
    }
    return new Traffic.Digest(bytes, Hashes.hex(md.digest()));
  }

  static String scrape(Topology t, String node) {
    return DiscoveryBed.scrape(t, node);
  }

  static double metric(String text, String name, String... labels) {
    return DiscoveryBed.metric(text, name, labels);
  }

  static void save(Path dir, String name, Topology t, String node, NsProcess p) {
    try {
      Files.writeString(dir.resolve(name + ".log"), p.output());
      Files.writeString(dir.resolve(name + ".metrics"), scrape(t, node));
    } catch (IOException | RuntimeException e) {
      // diagnostics only
    }
  }
}
