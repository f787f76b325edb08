package net.wanrelay.it.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.wanrelay.it.metrics.RepoLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay process on SIGTERM: stops accepting, lets an open session finish within the drain
 * timeout, and exits 0.
 */
class GracefulShutdownTest {
  @TempDir Path dir;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void sigtermDrainsOpenSessionsAndExitsZero() throws Exception {
    Path jar = RepoLayout.privateRelayJar(dir);
    ExecutorService pool = Executors.newCachedThreadPool();
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      int listen = freePort();
      int admin = freePort();
      Path config = dir.resolve("relay.yaml");
      Files.writeString(config, """
          node: { admin: 127.0.0.1:%d, drain-timeout: 20s }
          listeners:
            - { name: slow, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
          """.formatted(admin, listen, server.getLocalPort()));
      Process relay = new ProcessBuilder("java", "-jar", jar.toString(), "run", "-c", config.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
      try {
        awaitHealthy(admin, relay);
        // The server answers only after the relay was told to stop.
        Future<?> serverSide = pool.submit(() -> {
          try (Socket c = server.accept()) {
            c.getInputStream().readAllBytes();
            Thread.sleep(1500);
            c.getOutputStream().write("late reply".getBytes(StandardCharsets.UTF_8));
          }
          return null;
        });
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listen)) {
          client.setSoTimeout(30_000);
          client.getOutputStream().write("request".getBytes(StandardCharsets.UTF_8));
          client.shutdownOutput();
          Thread.sleep(300); // the session is open on both legs
          relay.destroy(); // SIGTERM
          InputStream in = client.getInputStream();
          assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("late reply");
        }
        serverSide.get(30, TimeUnit.SECONDS);
        assertThat(relay.waitFor(30, TimeUnit.SECONDS)).as("relay exited").isTrue();
        assertThat(relay.exitValue()).as("exit code; log:%n%s", Files.readString(dir.resolve("relay.log"))).isZero();
        assertThat(Files.readString(dir.resolve("relay.log"))).contains("stopping, draining").contains("wanrelay: stopped");
      } finally {
        relay.destroyForcibly();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits for /healthz (not the listener: a probe connection would become a session). */
  private static void awaitHealthy(int adminPort, Process relay) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      assertThat(relay.isAlive()).as("relay still running").isTrue();
      try {
        var c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + adminPort + "/healthz").toURL().openConnection();
        c.setConnectTimeout(1000);
        c.setReadTimeout(1000);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // not up yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("relay did not become healthy on admin port " + adminPort);
  }
}
