package net.wanrelay.core.upstream;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A blocking loopback server for pool tests (plain java.net, sharing nothing with the relay).
 * Line protocol: "ping" is answered "pong" (the health probe), "who" is answered with the
 * server's name and counted as a session request, anything else is echoed. It can be muted (keeps
 * accepting and reading, never answers) and given a reply delay.
 */
final class LineServer implements AutoCloseable {
  final String name;
  final AtomicInteger whoRequests = new AtomicInteger();
  final AtomicLong pings = new AtomicLong();
  /** Connections accepted and not yet closed (to see that probes do not pile up). */
  final AtomicInteger openConnections = new AtomicInteger();
  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private volatile boolean muted;
  private volatile long delayMillis;

  LineServer(String name) throws IOException {
    this.name = name;
    server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
    threads.submit(this::acceptLoop);
  }

  int port() {
    return server.getLocalPort();
  }

  String address() {
    return "127.0.0.1:" + port();
  }

  void mute(boolean on) {
    muted = on;
  }

  void delay(long millis) {
    delayMillis = millis;
  }

  private Void acceptLoop() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return null;
      }
      threads.submit(() -> serve(s));
    }
    return null;
  }

  private Void serve(Socket s) {
    openConnections.incrementAndGet();
    try (s) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = s.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        if (muted) {
          continue;
        }
        long d = delayMillis;
        if (d > 0) {
          Thread.sleep(d);
        }
        String reply;
        if (line.equals("ping")) {
          pings.incrementAndGet();
          reply = "pong";
        } else if (line.equals("who")) {
          whoRequests.incrementAndGet();
          reply = name;
        } else {
          reply = line;
        }
        out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // client went away (probes close with RST); nothing to do
    } finally {
      openConnections.decrementAndGet();
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
