package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TcpForwardTest {
  private Relay relay;
  private Loopback.BlockingEcho echo;

  @AfterEach
  void tearDown() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (echo != null) {
      echo.close();
    }
  }

  private InetSocketAddress forwardTo(int targetPort, String limits) throws Exception {
    int port = Loopback.freePort();
    relay = Loopback.startRelay("""
        node: { admin: 127.0.0.1:%d }
        listeners:
          - { name: fwd, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
        %s
        """.formatted(Loopback.freePort(), port, targetPort, limits));
    return relay.tcpListeners().get(0).localAddress();
  }

  @Test
  void transfers256MiBByteExactBothWays() throws Exception {
    echo = new Loopback.BlockingEcho();
    InetSocketAddress fwd = forwardTo(echo.port(), "");
    long size = 256L << 20;
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Socket s = Loopback.connect(fwd)) {
      AtomicLong received = new AtomicLong();
      Future<String> reader = pool.submit(() -> Loopback.readAll(s.getInputStream(), received));
      String sent = Loopback.writeRandom(s.getOutputStream(), size, 42);
      s.shutdownOutput();
      assertThat(reader.get(120, TimeUnit.SECONDS)).isEqualTo(sent);
      assertThat(received.get()).isEqualTo(size);
    } finally {
      pool.shutdownNow();
    }
    String metrics = waitForMetric("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"direct\"} 1.0");
    assertThat(metrics).contains("wanrelay_session_bytes_total{direction=\"client_to_server\",protocol=\"tcp\",route=\"direct\"} 2.68435456E8");
    assertThat(metrics).contains("wanrelay_session_bytes_total{direction=\"server_to_client\",protocol=\"tcp\",route=\"direct\"} 2.68435456E8");
  }

  @Test
  void halfCloseFromClientStillReceivesTheFullReply() throws Exception {
    // A server that reads the whole request first (until the client's FIN), then answers.
    try (ServerSocket server = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      InetSocketAddress fwd = forwardTo(server.getLocalPort(), "");
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<String> serverSide = pool.submit(() -> {
        try (Socket c = server.accept()) {
          byte[] request = c.getInputStream().readAllBytes();
          OutputStream out = c.getOutputStream();
          Loopback.writeRandom(out, 4 << 20, request.length);
          c.shutdownOutput();
          return new String(request, StandardCharsets.UTF_8);
        }
      });
      try (Socket s = Loopback.connect(fwd)) {
        s.getOutputStream().write("request-body".getBytes(StandardCharsets.UTF_8));
        s.shutdownOutput();
        AtomicLong got = new AtomicLong();
        String hash = Loopback.readAll(s.getInputStream(), got);
        assertThat(got.get()).isEqualTo(4 << 20);
        assertThat(hash).isEqualTo(Loopback.writeRandom(OutputStream.nullOutputStream(), 4 << 20, "request-body".length()));
      }
      assertThat(serverSide.get(10, TimeUnit.SECONDS)).isEqualTo("request-body");
      pool.shutdownNow();
    }
  }

  @Test
  void halfCloseFromServerStillDeliversTheClientsData() throws Exception {
    // The server sends its greeting and half-closes first; it still receives everything after.
    try (ServerSocket server = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      InetSocketAddress fwd = forwardTo(server.getLocalPort(), "");
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Future<String> serverSide = pool.submit(() -> {
        try (Socket c = server.accept()) {
          c.getOutputStream().write("greeting".getBytes(StandardCharsets.UTF_8));
          c.shutdownOutput();
          return Loopback.readAll(c.getInputStream(), new AtomicLong());
        }
      });
      try (Socket s = Loopback.connect(fwd)) {
        byte[] greeting = s.getInputStream().readAllBytes();
        assertThat(new String(greeting, StandardCharsets.UTF_8)).isEqualTo("greeting");
        String sent = Loopback.writeRandom(s.getOutputStream(), 8 << 20, 7);
        s.shutdownOutput();
        assertThat(serverSide.get(30, TimeUnit.SECONDS)).isEqualTo(sent);
      }
      pool.shutdownNow();
    }
  }

  @Test
  void thousandConcurrentSessionsAllComplete() throws Exception {
    echo = new Loopback.BlockingEcho();
    InetSocketAddress fwd = forwardTo(echo.port(), "limits: { max-sessions: 5000 }");
    int sessions = 1000;
    ExecutorService pool = Executors.newFixedThreadPool(200);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      final int seed = i;
      results.add(pool.submit(() -> {
        try (Socket s = Loopback.connect(fwd)) {
          String sent = Loopback.writeRandom(s.getOutputStream(), 32 * 1024 + seed, seed);
          s.shutdownOutput();
          return Loopback.readAll(s.getInputStream(), new AtomicLong()).equals(sent);
        }
      }));
    }
    int ok = 0;
    for (Future<Boolean> f : results) {
      if (f.get(120, TimeUnit.SECONDS)) {
        ok++;
      }
    }
    pool.shutdownNow();
    assertThat(ok).isEqualTo(sessions);
    waitForMetric("wanrelay_sessions_total{outcome=\"completed\",protocol=\"tcp\",route=\"direct\"} 1000.0");
  }

  @Test
  void pausedReaderKeepsRelayMemoryBounded() throws Exception {
    long total = 1L << 30;
    try (ServerSocket server = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
      InetSocketAddress fwd = forwardTo(server.getLocalPort(), "");
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try (Socket s = Loopback.connect(fwd); Socket serverSide = server.accept()) {
        Future<String> writer = pool.submit(() -> Loopback.writeRandom(s.getOutputStream(), total, 99));
        // The server does not read for a while: the relay must stop reading from the client.
        long peak = 0;
        for (int i = 0; i < 20; i++) {
          Thread.sleep(100);
          peak = Math.max(peak, relayBufferMemory());
        }
        assertThat(writer.isDone()).as("the sender must be held back").isFalse();
        // Bound: two directions x (1 MiB high water mark + a 64 KiB read) plus allocator chunk slack.
        assertThat(peak).as("relay buffer memory while the reader is paused").isLessThan(16L << 20);
        AtomicLong got = new AtomicLong();
        Future<String> reader = pool.submit(() -> Loopback.readAll(serverSide.getInputStream(), got));
        String sent = writer.get(180, TimeUnit.SECONDS);
        s.shutdownOutput();
        assertThat(reader.get(180, TimeUnit.SECONDS)).isEqualTo(sent);
        assertThat(got.get()).isEqualTo(total);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void refusedConnectResetsTheClientAndIsCounted() throws Exception {
    int closedPort = Loopback.freePort();
    InetSocketAddress fwd = forwardTo(closedPort, "");
    // The reset may even beat the end of connect() on a loaded machine.
    try (Socket s = Loopback.connect(fwd)) {
      InputStream in = s.getInputStream();
      int r = in.read();
      assertThat(r).as("no data may arrive").isEqualTo(-1);
    } catch (SocketException expected) {
      assertThat(expected.getMessage()).containsIgnoringCase("reset");
    }
    waitForMetric("wanrelay_connect_failures_total{protocol=\"tcp\",reason=\"refused\"} 1.0");
    waitForMetric("wanrelay_sessions_total{outcome=\"connect_failed\",protocol=\"tcp\",route=\"direct\"} 1.0");
  }

  @Test
  void sessionsBeyondTheCapAreRefusedAtOnceAndCounted() throws Exception {
    echo = new Loopback.BlockingEcho();
    InetSocketAddress fwd = forwardTo(echo.port(), "limits: { max-sessions: 2 }");
    try (Socket a = Loopback.connect(fwd); Socket b = Loopback.connect(fwd)) {
      // Make sure both are admitted (echo answers) before the third arrives.
      for (Socket s : List.of(a, b)) {
        s.getOutputStream().write(1);
        assertThat(s.getInputStream().read()).isEqualTo(1);
      }
      // Refused at once: the reset may even beat the end of connect().
      try (Socket c = Loopback.connect(fwd)) {
        c.setSoTimeout(5000);
        assertThat(c.getInputStream().read()).isEqualTo(-1);
      } catch (SocketException expected) {
        assertThat(expected.getMessage()).containsIgnoringCase("reset");
      }
      waitForMetric("wanrelay_sessions_refused_total{protocol=\"tcp\",reason=\"max_sessions\"} 1.0");
      a.getOutputStream().write(2);
      assertThat(a.getInputStream().read()).as("admitted sessions keep working").isEqualTo(2);
    }
  }

  @Test
  void idleSessionsAreClosed() throws Exception {
    echo = new Loopback.BlockingEcho();
    InetSocketAddress fwd = forwardTo(echo.port(), "limits: { idle-timeout: 300ms }");
    try (Socket s = Loopback.connect(fwd)) {
      s.getOutputStream().write(5);
      assertThat(s.getInputStream().read()).isEqualTo(5);
      assertThat(s.getInputStream().read()).as("closed by the idle timeout").isEqualTo(-1);
    }
    waitForMetric("wanrelay_sessions_total{outcome=\"idle_timeout\",protocol=\"tcp\",route=\"direct\"} 1.0");
  }

  private long relayBufferMemory() {
    ByteBufAllocatorMetricProvider provider = (ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT;
    return provider.metric().usedDirectMemory() + provider.metric().usedHeapMemory();
  }

  private String waitForMetric(String line) throws Exception {
    String body = "";
    for (int i = 0; i < 100; i++) {
      body = Loopback.httpGet(relay.adminAddress(), "/metrics");
      if (body.contains(line)) {
        return body;
      }
      Thread.sleep(50);
    }
    assertThat(body).contains(line);
    return body;
  }
}
