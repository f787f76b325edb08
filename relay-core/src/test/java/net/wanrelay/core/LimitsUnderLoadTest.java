package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each limit hit on loopback: the refusal is counted by reason, and sessions admitted before keep
 * moving bytes (checked by SHA-256).
 */
class LimitsUnderLoadTest {
  private static final String KEY = "limits-under-load-key-0123456789";
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    closeables.add(c);
    return c;
  }

  private Relay forward(int targetPort, String limits) throws Exception {
    return closing(Loopback.startRelay("""
        node: { admin: 127.0.0.1:%d }
        listeners:
          - { name: fwd, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d }
        limits: { %s }
        """.formatted(Loopback.freePort(), Loopback.freePort(), targetPort, limits)));
  }

  private static double metric(Relay relay, String sample) throws IOException {
    String body = Loopback.httpGet(relay.adminAddress(), "/metrics").substring(4);
    return MetricsEndpointTest.parse(body).getOrDefault(sample, 0.0);
  }

  private static String refusals(String reason) {
    return "wanrelay_sessions_refused_total{protocol=\"tcp\",reason=\"" + reason + "\"}";
  }

  private static final String ACTIVE_DIRECT = "wanrelay_sessions_active{protocol=\"tcp\",route=\"direct\"}";

  private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static BooleanSupplier metricAtLeast(Relay relay, String sample, double value) {
    return () -> {
      try {
        return metric(relay, sample) >= value;
      } catch (IOException e) {
        return false; // a slow scrape on a loaded machine: ask again until the deadline
      }
    };
  }

  /** Sends one byte; true when the relay refused the connection (EOF or reset), false on the echo. */
  private static boolean refused(Socket s) throws IOException {
    try {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(7);
      int b = s.getInputStream().read();
      if (b == 7) {
        return false;
      }
      assertThat(b).isEqualTo(-1);
      return true;
    } catch (SocketException e) {
      assertThat(e.getMessage()).containsIgnoringCase("reset");
      return true;
    }
  }

  /** Connects and sends one byte: true when refused (the reset may even beat the end of connect). */
  private static boolean refusedAttempt(InetSocketAddress address) throws IOException {
    Socket s;
    try {
      s = Loopback.connect(address);
    } catch (SocketException e) {
      assertThat(e.getMessage()).containsIgnoringCase("reset");
      return true;
    }
    try (s) {
      return refused(s);
    }
  }

  /** A full-duplex round trip through an echo: {@code size} bytes out, the same back. */
  private String echoRoundTrip(Socket s, long size, long seed) throws Exception {
    AtomicLong got = new AtomicLong();
    Future<String> sent = pool.submit(() -> Loopback.writeRandom(s.getOutputStream(), size, seed));
    MessageDigest digest = Hashes.sha256();
    byte[] buf = new byte[64 * 1024];
    InputStream in = s.getInputStream();
    while (got.get() < size) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, size - got.get()));
      assertThat(n).as("echo ended early after %d bytes", got.get()).isPositive();
      digest.update(buf, 0, n);
      got.addAndGet(n);
    }
    String hash = Hashes.hex(digest.digest());
    assertThat(hash).as("echoed bytes").isEqualTo(sent.get(60, TimeUnit.SECONDS));
    return hash;
  }

  @Test
  void connectionsBeyondTheAcceptRateAreRefusedAndTheOpenSessionKeepsFlowing() throws Exception {
    Loopback.BlockingEcho echo = closing(new Loopback.BlockingEcho());
    Relay relay = forward(echo.port(), "accept-rate: 1, accept-burst: 3");
    InetSocketAddress fwd = relay.tcpListeners().get(0).localAddress();
    try (Socket established = Loopback.connect(fwd)) {
      assertThat(refused(established)).isFalse();
      long start = System.nanoTime();
      int refusedCount = 0;
      int attempts = 12;
      for (int i = 0; i < attempts; i++) {
        if (refusedAttempt(fwd)) {
          refusedCount++;
        }
      }
      long tokensRefilled = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + 1;
      // 2 tokens were left after the established session; the rest of the flood is refused.
      assertThat(refusedCount).isGreaterThanOrEqualTo((int) (attempts - 2 - tokensRefilled));
      waitUntil("refusals counted", metricAtLeast(relay, refusals("accept_rate"), refusedCount));
      assertThat(metric(relay, refusals("accept_rate"))).isEqualTo(refusedCount);
      echoRoundTrip(established, 8 << 20, 11);
    }
  }

  @Test
  void aSlowlorisFloodAtTheCapIsRefusedAndSilentSessionsMakeRoomForAFreshClient() throws Exception {
    Loopback.BlockingEcho echo = closing(new Loopback.BlockingEcho());
    Relay relay = forward(echo.port(), "max-sessions: 8, silent-timeout: 1500ms, idle-timeout: 5m");
    InetSocketAddress fwd = relay.tcpListeners().get(0).localAddress();
    List<Socket> sockets = new ArrayList<>();
    AtomicBoolean trickling = new AtomicBoolean(true);
    try {
      Socket established = Loopback.connect(fwd);
      sockets.add(established);
      assertThat(refused(established)).isFalse();
      // Two tricklers: one byte every 200 ms, read back. They hold their slots (the cap covers them).
      List<Future<Long>> tricklers = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Socket t = Loopback.connect(fwd);
        sockets.add(t);
        tricklers.add(pool.submit(() -> {
          long echoed = 0;
          while (trickling.get()) {
            t.getOutputStream().write('.');
            assertThat(t.getInputStream().read()).isEqualTo('.');
            echoed++;
            Thread.sleep(200);
          }
          return echoed;
        }));
      }
      // Five connect and say nothing.
      List<Socket> silent = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Socket s = Loopback.connect(fwd);
        sockets.add(s);
        silent.add(s);
      }
      waitUntil("8 sessions open", metricAtLeast(relay, ACTIVE_DIRECT, 8));
      // The flood beyond the cap: refused at once, counted.
      for (int i = 0; i < 6; i++) {
        assertThat(refusedAttempt(fwd)).as("connection %d beyond the cap", i).isTrue();
      }
      waitUntil("cap refusals", metricAtLeast(relay, refusals("max_sessions"), 6));
      assertThat(metric(relay, refusals("max_sessions"))).isEqualTo(6.0);
      // Admitted sessions keep serving while the cap is full.
      echoRoundTrip(established, 1 << 20, 21);
      // The silent ones are closed by the silent timeout, which frees their slots.
      waitUntil("silent sessions closed",
          metricAtLeast(relay, "wanrelay_sessions_total{outcome=\"silent_timeout\",protocol=\"tcp\",route=\"direct\"}", 5));
      for (Socket s : silent) {
        s.setSoTimeout(10_000);
        try {
          assertThat(s.getInputStream().read()).isEqualTo(-1);
        } catch (SocketException e) {
          assertThat(e.getMessage()).containsIgnoringCase("reset");
        }
      }
      try (Socket fresh = Loopback.connect(fwd)) {
        String hash = echoRoundTrip(fresh, 1 << 20, 22);
        assertThat(hash).hasSize(64);
      }
      echoRoundTrip(established, 64 << 10, 23);
      trickling.set(false);
      for (Future<Long> t : tricklers) {
        assertThat(t.get(10, TimeUnit.SECONDS)).as("trickler echoes").isGreaterThan(5);
      }
      assertThat(metric(relay, "wanrelay_sessions_total{outcome=\"silent_timeout\",protocol=\"tcp\",route=\"direct\"}"))
          .as("only the silent ones").isEqualTo(5.0);
    } finally {
      trickling.set(false);
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  /**
   * A server that reads each connection to EOF only once {@code gate} opens, then answers with the
   * SHA-256 of what it read. Its small receive buffer makes a blocked reader back up into the relay.
   */
  private static final class GatedHashServer implements AutoCloseable {
    final ServerSocket server;
    final CountDownLatch gate = new CountDownLatch(1);
    final ExecutorService threads = Executors.newCachedThreadPool();

    GatedHashServer() throws IOException {
      server = new ServerSocket();
      server.setReceiveBufferSize(16 * 1024);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
      threads.submit(() -> {
        while (!server.isClosed()) {
          Socket s = server.accept();
          threads.submit(() -> {
            try (s) {
              gate.await();
              String hash = Loopback.readAll(s.getInputStream(), new AtomicLong());
              OutputStream out = s.getOutputStream();
              out.write((hash + "\n").getBytes(StandardCharsets.US_ASCII));
              out.flush();
            }
            return null;
          });
        }
        return null;
      });
    }

    @Override
    public void close() throws IOException {
      server.close();
      threads.shutdownNow();
    }
  }

  private Future<String[]> upload(Socket s, long size, long seed) {
    return pool.submit(() -> {
      String sent = Loopback.writeRandom(s.getOutputStream(), size, seed);
      s.shutdownOutput();
      String echoed = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      return new String[] {sent, echoed};
    });
  }

  @Test
  void overTheMemoryBudgetNewSessionsAreRefusedReadsPauseAndNoByteIsLost() throws Exception {
    GatedHashServer server = closing(new GatedHashServer());
    Relay relay = forward(server.server.getLocalPort(), "memory: 256KiB");
    InetSocketAddress fwd = relay.tcpListeners().get(0).localAddress();
    try (Socket b = Loopback.connect(fwd); Socket a = Loopback.connect(fwd)) {
      waitUntil("both admitted", metricAtLeast(relay, ACTIVE_DIRECT, 2));
      // A pushes into a server that does not read yet: the relay's queue for it grows past the budget.
      Future<String[]> bigA = upload(a, 16 << 20, 31);
      waitUntil("budget exceeded", metricAtLeast(relay, "wanrelay_limits_memory_used_bytes", 256 * 1024 + 1));
      // B (admitted before) sends now: its reads are held back, not dropped.
      Future<String[]> smallB = upload(b, 2 << 20, 32);
      waitUntil("a read paused", metricAtLeast(relay, "wanrelay_limits_reads_paused_total", 1));
      assertThat(refusedAttempt(fwd)).as("refused while over budget").isTrue();
      waitUntil("memory refusal counted", metricAtLeast(relay, refusals("memory"), 1));
      assertThat(metric(relay, refusals("memory"))).isEqualTo(1.0);

      server.gate.countDown();
      String[] ra = bigA.get(60, TimeUnit.SECONDS);
      String[] rb = smallB.get(60, TimeUnit.SECONDS);
      assertThat(ra[1]).as("A's bytes at the server").isEqualTo(ra[0]);
      assertThat(rb[1]).as("B's bytes at the server").isEqualTo(rb[0]);
    }
    waitUntil("budget drained", () -> {
      try {
        return metric(relay, "wanrelay_limits_memory_used_bytes") == 0.0;
      } catch (IOException e) {
        return false;
      }
    });
    try (Socket d = Loopback.connect(fwd)) {
      String[] rd = upload(d, 64 << 10, 33).get(30, TimeUnit.SECONDS);
      assertThat(rd[1]).as("a new session after the drain").isEqualTo(rd[0]);
    }
  }

  @Test
  void streamsBeyondTheLinkCapAreRefusedAndOpenStreamsKeepFlowing() throws Exception {
    Loopback.BlockingEcho echo = closing(new Loopback.BlockingEcho());
    int trunkPort = Loopback.freePort();
    closing(Loopback.startRelay("""
        node: { id: sp, admin: 127.0.0.1:%d }
        trunk: { listen: 127.0.0.1:%d, key: "%s", allow: [ 127.0.0.0/8 ] }
        limits: { max-streams-per-link: 2 }
        """.formatted(Loopback.freePort(), trunkPort, KEY)));
    Relay cp = closing(Loopback.startRelay("""
        node: { id: cp, admin: 127.0.0.1:%d }
        trunk:
          peers: [ { name: sp, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
        listeners:
          - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
        """.formatted(Loopback.freePort(), trunkPort, KEY, Loopback.freePort(), echo.port())));
    waitUntil("trunk up", () -> cp.trunk().orElseThrow().link("sp").isUp());
    InetSocketAddress listener = cp.tcpListeners().get(0).localAddress();
    try (Socket one = Loopback.connect(listener); Socket two = Loopback.connect(listener)) {
      assertThat(refused(one)).isFalse();
      assertThat(refused(two)).isFalse();
      assertThat(refusedAttempt(listener)).as("third stream on a link capped at 2").isTrue();
      waitUntil("failure counted", metricAtLeast(cp, "wanrelay_sessions_total{outcome=\"connect_failed\",protocol=\"tcp\",route=\"trunk\"}", 1));
      Future<String> t1 = pool.submit(() -> echoRoundTrip(one, 4 << 20, 41));
      Future<String> t2 = pool.submit(() -> echoRoundTrip(two, 4 << 20, 42));
      assertThat(t1.get(60, TimeUnit.SECONDS)).isNotEqualTo(t2.get(60, TimeUnit.SECONDS));
    }
    // Both streams closed: a new one gets a slot again.
    waitUntil("streams closed", () -> {
      try {
        return !refusedAttempt(listener);
      } catch (IOException e) {
        return false;
      }
    });
  }
}
