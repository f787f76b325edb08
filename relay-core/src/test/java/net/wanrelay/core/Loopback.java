package net.wanrelay.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.testsupport.Hashes;

/** Blocking-socket helpers for loopback tests (plain java.net, so they share nothing with the relay). */
final class Loopback {
  private Loopback() {}

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Relay startRelay(String yaml) throws Exception {
    RelayConfig config = ConfigLoader.parse("test.yaml", yaml);
    return new Relay(config).start();
  }

  /** A TCP server that echoes every connection until the client half-closes, then half-closes too. */
  static final class BlockingEcho implements AutoCloseable {
    final ServerSocket server;
    final ExecutorService pool = Executors.newCachedThreadPool();
    final AtomicLong accepted = new AtomicLong();

    BlockingEcho() throws IOException {
      server = new ServerSocket(0, 2048, java.net.InetAddress.getLoopbackAddress());
      pool.submit(() -> {
        while (!server.isClosed()) {
          Socket s;
          try {
            s = server.accept();
          } catch (IOException e) {
            return null;
          }
          accepted.incrementAndGet();
          pool.submit(() -> {
            try (s) {
              InputStream in = s.getInputStream();
              OutputStream out = s.getOutputStream();
              byte[] buf = new byte[64 * 1024];
              int n;
              while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
              }
              s.shutdownOutput();
            }
            return null;
          });
        }
        return null;
      });
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
      pool.shutdownNow();
    }
  }

  /** Writes {@code total} seeded random bytes; returns their SHA-256. */
  static String writeRandom(OutputStream out, long total, long seed) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    MessageDigest digest = Hashes.sha256();
    byte[] buf = new byte[64 * 1024];
    long left = total;
    while (left > 0) {
      int n = (int) Math.min(buf.length, left);
      Hashes.fill(random, buf);
      digest.update(buf, 0, n);
      out.write(buf, 0, n);
      left -= n;
    }
    return Hashes.hex(digest.digest());
  }

  /** Reads to EOF; returns the SHA-256 and counts bytes into {@code count}. */
  static String readAll(InputStream in, AtomicLong count) throws IOException {
    MessageDigest digest = Hashes.sha256();
    byte[] buf = new byte[64 * 1024];
    int n;
    while ((n = in.read(buf)) > 0) {
      digest.update(buf, 0, n);
      count.addAndGet(n);
    }
    return Hashes.hex(digest.digest());
  }

  static Socket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5000);
    s.setSoTimeout(60_000);
    return s;
  }

  static String httpGet(InetSocketAddress admin, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + admin.getPort() + path).toURL().openConnection();
    c.setConnectTimeout(5000);
    c.setReadTimeout(5000);
    try (InputStream in = c.getResponseCode() < 400 ? c.getInputStream() : c.getErrorStream()) {
      return c.getResponseCode() + "\n" + new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
