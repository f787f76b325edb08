package net.wanrelay.it.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import java.util.regex.Pattern;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;

/**
 * A relay as its own JVM process ({@code java -jar wanrelay.jar run -c cfg}) inside a namespace,
 * so a test can really kill it ({@code kill -9}) and start it again on the same config. Reads
 * its metrics from the admin port inside the namespace and its open files from /proc.
 */
final class RelayNode implements AutoCloseable {
  static final int ADMIN_PORT = 9464;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Topology topology;
  private final String node;
  private final Path jar;
  private final Path config;
  private final Path logDir;
  private NsProcess process;
  private int starts;

  RelayNode(Topology topology, String node, Path jar, Path dir, String yaml) {
    this.topology = topology;
    this.node = node;
    this.jar = jar;
    this.config = dir.resolve(node + ".yaml");
    this.logDir = dir;
    try {
      Files.writeString(config, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String node() {
    return node;
  }

  /** Starts the process and waits until it says it runs and /healthz answers 200. */
  RelayNode start() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    process = topology.spawn(node, List.of(java, "-Xms32m", "-Xmx160m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
        // Every buffer tracked: a leaked one is reported (LEAK:) once it is collected (see gc()).
        "-Dio.netty.leakDetection.level=paranoid", "-jar", jar.toString(), "run", "-c", config.toString()));
    starts++;
    process.awaitLine(Pattern.compile("wanrelay .* running"), START_TIMEOUT);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!healthy()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IllegalStateException(this + " never became healthy; output:\n" + process.output());
      }
      sleep(100);
    }
    return this;
  }

  private boolean healthy() {
    try {
      String r = http("/healthz");
      return r.startsWith("HTTP/1.1 200") || r.startsWith("HTTP/1.0 200");
    } catch (RuntimeException e) {
      return false;
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL: no drain, no GOAWAY; the kernel closes its sockets. Waits until it is gone. */
  void kill9() {
    ProcessHandle h = ProcessHandle.of(process.pid()).orElseThrow();
    h.destroyForcibly();
    try {
      h.onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("pid " + h.pid() + " survived SIGKILL", e);
    }
    saveLog();
  }

  /** A full GC in the relay (jcmd), so buffers that were dropped unreleased reach Netty's leak detector. */
  void gc() {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    net.wanrelay.it.netns.Commands.run(List.of(jcmd, Long.toString(process.pid()), "GC.run"), null, Duration.ofSeconds(30))
        .orThrow();
  }

  /** Open file descriptors of the process (/proc/PID/fd). */
  int openFds() {
    String[] fds = Path.of("/proc", Long.toString(process.pid()), "fd").toFile().list();
    if (fds == null) {
      throw new IllegalStateException(this + " has no /proc entry");
    }
    return fds.length;
  }

  String scrape() {
    String all = http("/metrics");
    int body = all.indexOf("\r\n\r\n");
    return body < 0 ? all : all.substring(body + 4);
  }

  /** Sum of the samples of {@code name} whose label text contains every {@code k="v"} given. */
  double metric(String name, String... labels) {
    return sample(scrape(), name, labels);
  }

  static double sample(String text, String name, String... labels) {
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

  /** Polls until {@code name{labels}} satisfies {@code ok}; returns the value or fails after {@code within}. */
  double awaitMetric(Duration within, String name, DoublePredicate ok, String... labels) {
    long deadline = System.nanoTime() + within.toNanos();
    double v = metric(name, labels);
    while (!ok.test(v)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + List.of(labels) + " on " + node + " is " + v + " after " + within);
      }
      sleep(100);
      v = metric(name, labels);
    }
    return v;
  }

  /** Polls until {@code name{label}} satisfies {@code ok}; returns that scrape. */
  String awaitMetricText(String name, String label, DoublePredicate ok) {
    awaitMetric(Duration.ofSeconds(10), name, ok, label);
    return scrape();
  }

  /** The sample lines of one metric, for a report. */
  static List<String> lines(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name)).toList();
  }

  /** Polls until the open fds are at most {@code limit}; returns the last count. */
  int awaitFdsAtMost(int limit, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    int n = openFds();
    while (n > limit && System.nanoTime() < deadline) {
      sleep(100);
      n = openFds();
    }
    return n;
  }

  String output() {
    return process == null ? "" : process.output();
  }

  /** Keeps the output of this run next to the config (target/faults-it/...). */
  void saveLog() {
    if (process == null) {
      return;
    }
    try {
      Files.writeString(logDir.resolve(node + "-" + starts + ".log"), process.output());
    } catch (IOException ignored) {
      // a missing log must not hide the test's own result
    }
  }

  private String http(String path) {
    return topology.call(node, () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", ADMIN_PORT), 3000);
        s.setSoTimeout(5000);
        s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
    });
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (process != null) {
      saveLog();
      process.close();
    }
  }

  @Override
  public String toString() {
    return "relay@" + node + (process == null ? "" : "(pid " + process.pid() + ")");
  }
}
