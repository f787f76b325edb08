package net.wanrelay.discovery.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JVM started inside a network namespace on the test class path, driven by stdin/stdout lines. */
final class ChildJvm implements AutoCloseable {
  private final String name;
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final OutputStream stdin;

  private ChildJvm(String name, Process process, Path out) {
    this.name = name;
    this.process = process;
    this.stdin = process.getOutputStream();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
          java.io.Writer copy = java.nio.file.Files.newBufferedWriter(out)) {
        String l;
        while ((l = r.readLine()) != null) {
          lines.add(l);
          copy.write(l + "\n");
          copy.flush();
        }
      } catch (IOException ignored) {
        // process ended
      }
    }, "child-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  static ChildJvm start(String ns, String name, Class<?> main, Path log, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx128m", "-Dio.netty.leakDetection.level=paranoid",
        "-cp", classPath(), main.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    return new ChildJvm(name, p, Path.of(log.toString().replaceAll("\\.log$", "") + ".out"));
  }

  /** The next line starting with {@code prefix}, skipping others; fails after the timeout. */
  String expect(String prefix, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (true) {
      long left = deadline - System.nanoTime();
      String l = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
      if (l == null) {
        throw new AssertionError(name + ": no line starting with '" + prefix + "' within " + timeoutMillis
            + " ms (alive=" + process.isAlive() + ")");
      }
      if (l.startsWith(prefix)) {
        return l;
      }
    }
  }

  /** Lines received so far that start with {@code prefix}, without waiting. */
  List<String> drain(String prefix) {
    List<String> all = new ArrayList<>();
    lines.drainTo(all);
    return all.stream().filter(l -> l.startsWith(prefix)).toList();
  }

  void send(String line) throws IOException {
    stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
  }

  /** Ends the child early (stdin closed, then killed if it lingers); close() then does nothing more. */
  void stop() {
    close();
  }

  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already gone
    }
    try {
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(3, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
