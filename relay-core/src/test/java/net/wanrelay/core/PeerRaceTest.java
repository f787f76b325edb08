package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import net.wanrelay.channel.TrunkConnection;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Race over three SPs whose trunks sit behind 10, 50 and 100 ms delay proxies (each way). Each SP
 * maps the service address to its own echo server ({@code trunk.destinations}), so the test sees
 * on the server side which SP carried a session and which ones only had their streams reset.
 * Every SP allows one session ({@code limits.max-sessions: 1}).
 */
class PeerRaceTest {
  private static final String KEY = "peer-race-test-key-0123456789";
  private static final long[] DELAYS = {10, 50, 100};
  private final List<AutoCloseable> closeLast = new ArrayList<>();
  private final List<Relay> sps = new ArrayList<>();
  private final List<RecordingEcho> backends = new ArrayList<>();
  private Relay cp;

  @AfterEach
  void tearDown() throws Exception {
    if (cp != null) {
      cp.close();
    }
    sps.forEach(Relay::close);
    for (AutoCloseable c : closeLast) {
      c.close();
    }
  }

  @Test
  void fastestSpWinsOthersAreResetAndABusySpStaysSilent() throws Exception {
    int service = Loopback.freePort(); // nothing listens here: only the SPs' mapping knows it
    StringBuilder peers = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      RecordingEcho backend = new RecordingEcho();
      backends.add(backend);
      closeLast.add(backend);
      int trunkPort = Loopback.freePort();
      sps.add(Loopback.startRelay("""
          node: { id: sp%d, admin: 127.0.0.1:%d }
          limits: { max-sessions: 1 }
          trunk:
            listen: 127.0.0.1:%d
            key: "%s"
            allow: [ 127.0.0.0/8 ]
            destinations: [ { match: 127.0.0.1:%d, target: 127.0.0.1:%d } ]
          """.formatted(i + 1, Loopback.freePort(), trunkPort, KEY, service, backend.port())));
      DelayProxy proxy = new DelayProxy(new InetSocketAddress("127.0.0.1", trunkPort), DELAYS[i]);
      closeLast.add(0, proxy);
      peers.append("    - { name: sp%d, address: 127.0.0.1:%d, key: \"%s\", connections: 1 }\n"
          .formatted(i + 1, proxy.address().getPort(), KEY));
    }
    cp = Loopback.startRelay("""
        node: { id: cp, admin: 127.0.0.1:%d }
        trunk:
          peers:
        %s
        peer-groups:
          site: { peers: [ sp3, sp2, sp1 ], policy: race, race-timeout: 1500ms }
        listeners:
          - { name: svc, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: group:site }
        """.formatted(Loopback.freePort(), peers, Loopback.freePort(), service));
    await("all trunks up", () -> cp.trunk().orElseThrow().links().stream().allMatch(l -> l.isUp()));
    InetSocketAddress listener = cp.tcpListeners().get(0).localAddress();

    // Session 1: the client writes at once (early data), before any SP answered.
    try (Socket s1 = Loopback.connect(listener)) {
      String sent = exchange(s1, 64 * 1024, 1);
      assertThat(backends.get(0).bytesIn.get()).as("sp1's server got the whole request").isEqualTo(64 * 1024);
      assertThat(sent).isNotNull();
      await("losers' streams gone on their SPs", () -> streams(sps.get(1)) == 0 && streams(sps.get(2)) == 0);
      await("losers' server legs closed", () -> backends.get(1).open.get() == 0 && backends.get(2).open.get() == 0);
      assertThat(backends.get(1).bytesIn.get() + backends.get(2).bytesIn.get())
          .as("no early data reached a losing SP's server").isZero();
      assertThat(streams(sps.get(0))).as("the winner keeps its stream").isEqualTo(1);
      assertThat(backends.get(0).open.get()).isEqualTo(1);
      Map<String, Double> m = metrics(cp);
      assertThat(sum(m, "wanrelay_race_total", "peer=\"sp1\"", "result=\"won\"")).isEqualTo(1);
      assertThat(sum(m, "wanrelay_race_total", "peer=\"sp2\"", "result=\"lost\"")).isEqualTo(1);
      assertThat(sum(m, "wanrelay_race_total", "peer=\"sp3\"", "result=\"lost\"")).isEqualTo(1);
      String sessions = Loopback.httpGet(cp.adminAddress(), "/api/sessions");
      assertThat(sessions).contains("\"peer\":\"sp1\"").doesNotContain("\"connectMillis\":null");

      // Session 2 while session 1 holds sp1's only slot: sp1 stays silent, the 50 ms SP wins.
      try (Socket s2 = Loopback.connect(listener)) {
        exchange(s2, 32 * 1024, 2);
        assertThat(backends.get(1).bytesIn.get()).isEqualTo(32 * 1024);
        assertThat(backends.get(0).bytesIn.get()).as("nothing more reached busy sp1").isEqualTo(64 * 1024);
        assertThat(sum(metrics(sps.get(0)), "wanrelay_race_silent_total")).isEqualTo(1);
        assertThat(sum(metrics(cp), "wanrelay_race_total", "peer=\"sp2\"", "result=\"won\"")).isEqualTo(1);

        // Session 3: sp1 and sp2 full, the 100 ms SP wins.
        try (Socket s3 = Loopback.connect(listener)) {
          exchange(s3, 16 * 1024, 3);
          assertThat(backends.get(2).bytesIn.get()).isEqualTo(16 * 1024);

          // Session 4: every SP full and silent: the race times out and the client is reset.
          try (Socket s4 = Loopback.connect(listener)) {
            s4.setSoTimeout(10_000);
            assertThat(readUntilEnd(s4.getInputStream())).as("reset, no data").isEqualTo(-1);
          }
          Map<String, Double> after = metrics(cp);
          assertThat(sum(after, "wanrelay_race_timeouts_total", "group=\"site\"")).isEqualTo(1);
          assertThat(sum(after, "wanrelay_connect_failures_total", "reason=\"race_timeout\"")).isEqualTo(1);
          assertThat(sum(after, "wanrelay_trunk_connect_seconds_count", "peer=\"sp1\"")).isEqualTo(1);
          assertThat(sum(after, "wanrelay_trunk_connect_seconds_count", "peer=\"sp3\"")).isEqualTo(1);
          // The timed-out session is among the recent ones, with its failure and outcome.
          await("ended session listed", () -> {
            try {
              String list = Loopback.httpGet(cp.adminAddress(), "/api/sessions");
              return list.contains("\"failure\":\"race_timeout\"") && list.contains("\"outcome\":\"connect_failed\"");
            } catch (IOException e) {
              return false;
            }
          });
        }
      }
    }
    // Every slot is released once the sessions end: a new session wins on sp1 again.
    await("slots released", () -> streams(sps.get(0)) + streams(sps.get(1)) + streams(sps.get(2)) == 0);
    try (Socket s5 = Loopback.connect(listener)) {
      exchange(s5, 1024, 5);
    }
    assertThat(sum(metrics(cp), "wanrelay_race_total", "peer=\"sp1\"", "result=\"won\"")).isEqualTo(2);
  }

  /** Sends {@code size} random bytes at once and reads the echo back; the SHA-256 must match. */
  private static String exchange(Socket s, int size, long seed) throws IOException {
    byte[] data = new byte[size];
    new SplittableRandom(seed).nextBytes(data);
    OutputStream out = s.getOutputStream();
    out.write(data);
    out.flush();
    s.setSoTimeout(15_000);
    InputStream in = s.getInputStream();
    byte[] got = in.readNBytes(size);
    assertThat(Hashes.sha256Hex(got)).as("echo of session %d", seed).isEqualTo(Hashes.sha256Hex(data));
    return Hashes.sha256Hex(data);
  }

  /** Reads to the end; -1 for EOF or a reset without any data. */
  private static int readUntilEnd(InputStream in) throws IOException {
    try {
      return in.read();
    } catch (SocketException e) {
      return -1; // connection reset
    }
  }

  private static int streams(Relay sp) {
    int n = 0;
    for (TrunkConnection c : sp.trunk().orElseThrow().connections()) {
      n += c.activeStreams();
    }
    return n;
  }

  static Map<String, Double> metrics(Relay relay) throws Exception {
    return MetricsEndpointTest.parse(Loopback.httpGet(relay.adminAddress(), "/metrics").substring(4));
  }

  /** Sum of the samples of {@code name} whose labels contain every fragment. */
  static double sum(Map<String, Double> m, String name, String... labelFragments) {
    double total = 0;
    for (var e : m.entrySet()) {
      String k = e.getKey();
      if (!(k.equals(name) || k.startsWith(name + "{"))) {
        continue;
      }
      boolean all = true;
      for (String f : labelFragments) {
        all &= k.contains(f);
      }
      if (all) {
        total += e.getValue();
      }
    }
    return total;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }
}
