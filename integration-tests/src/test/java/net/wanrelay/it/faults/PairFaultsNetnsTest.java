package net.wanrelay.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.it.faults.LeakCheck.Baseline;
import net.wanrelay.it.faults.Transfer.End;
import net.wanrelay.it.faults.Transfer.Result;
import net.wanrelay.it.metrics.RepoLayout;
import net.wanrelay.it.netns.Commands;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.TopologyExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults around an explicit relay pair in the namespace test bed: CP ({@code cproxy}) and SP
 * ({@code sproxy}) run as separate {@code java -jar wanrelay.jar} processes, the client's sessions
 * go {@code via: peer:sp} over the trunk to the {@link FaultServer}. Every case runs uploads and
 * downloads (bytes checked at both ends), asserts what the client sees within a stated deadline
 * (a liveness bound, not a performance figure) and ends with {@link LeakCheck} on both relays.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PairFaultsNetnsTest {
  @RegisterExtension
  static final TopologyExtension NET = new TopologyExtension();

  static final String KEY = "faults-it-trunk-key-0123456789";
  static final int SERVER_PORT = 5001;
  static final int DATA = 6001;
  static final int CLOSED_PORT = 6002;
  static final int NO_HOST = 6003;
  static final int BLACK_HOLE = 6004;
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** Every session ends (completes or is reset) within this after the fault, or it is HUNG. */
  static final Duration SESSION_DEADLINE = Duration.ofSeconds(45);
  static final Duration READ_TIMEOUT = Duration.ofSeconds(40);

  static Topology t;
  static Path dir;
  static FaultServer server;
  static RelayNode sp;
  static RelayNode cp;
  static String cpAddress;
  static long seeds = 1000;

  @BeforeAll
  static void startPair() throws Exception {
    t = NET.topology();
    dir = Files.createDirectories(Path.of("target", "faults-it", "pair").toAbsolutePath());
    Path jar = RepoLayout.privateRelayJar(dir);
    cpAddress = t.address(Topology.CPROXY);
    server = FaultServer.start(t, Topology.SERVER, SERVER_PORT);
    // A target whose SYNs vanish (connect timeout), and a subnet the SP has an unreachable route to.
    t.exec(Topology.SERVER, "nft add table inet faults && nft add chain inet faults in '{ type filter hook input priority 0; }'"
        + " && nft add rule inet faults in tcp dport 5004 drop").orThrow();
    t.exec(Topology.SPROXY, "ip route add unreachable 10.9.99.0/24").orThrow();
    sp = new RelayNode(t, Topology.SPROXY, jar, dir, spConfig(""));
    cp = new RelayNode(t, Topology.CPROXY, jar, dir, cpConfig(""));
    sp.start();
    cp.start();
    cp.awaitMetric(Duration.ofSeconds(30), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp\"");
    // Warm-up with the concurrency of the cases, so Netty's pools have their chunks before any baseline.
    for (Result r : awaitAll(List.of(upload(4 << 20, 0), download(4 << 20, 0), upload(4 << 20, 0), download(4 << 20, 0)))) {
      assertThat(r.end()).as("warm-up %s", r).isEqualTo(End.COMPLETED);
    }
  }

  static String spConfig(String extraTrunk) {
    return """
        node: { id: sp, admin: 127.0.0.1:%d, drain-timeout: 1s }
        listeners: []
        trunk:
          listen: 0.0.0.0:7800
          key: "%s"
          allow: [ 10.9.0.0/16 ]
          compression: off
        %s
        limits: { connect-timeout: %ds }
        """.formatted(RelayNode.ADMIN_PORT, KEY, extraTrunk, CONNECT_TIMEOUT.toSeconds());
  }

  static String cpConfig(String extraTrunk) {
    String serverAddr = t.address(Topology.SERVER);
    return """
        node: { id: cp, admin: 127.0.0.1:%d, drain-timeout: 1s }
        listeners:
          - { name: data, protocol: tcp, listen: 0.0.0.0:%d, target: "%s:%d", via: peer:sp }
          - { name: closed-port, protocol: tcp, listen: 0.0.0.0:%d, target: "%s:5002", via: peer:sp }
          - { name: no-host, protocol: tcp, listen: 0.0.0.0:%d, target: "10.9.99.9:5001", via: peer:sp }
          - { name: black-hole, protocol: tcp, listen: 0.0.0.0:%d, target: "%s:5004", via: peer:sp }
        trunk:
          peers: [ { name: sp, address: "%s:7800", key: "%s", connections: 1 } ]
          compression: off
        %s
        limits: { connect-timeout: %ds }
        """.formatted(RelayNode.ADMIN_PORT, DATA, serverAddr, SERVER_PORT, CLOSED_PORT, serverAddr, NO_HOST,
        BLACK_HOLE, serverAddr, t.address(Topology.SPROXY, Topology.WAN), KEY, extraTrunk, CONNECT_TIMEOUT.toSeconds());
  }

  @AfterAll
  static void stopPair() throws Exception {
    for (RelayNode r : new RelayNode[] {cp, sp}) {
      if (r != null) {
        r.close();
      }
    }
    if (server != null) {
      server.close();
    }
  }

  @BeforeEach
  void smallWanDelay() {
    t.wan().set("both", "delay=5ms");
  }

  // ---- cases ------------------------------------------------------------------------------

  /** The server resets one session's leg: that client sees an RST after a prefix; the others complete. */
  @Test
  @Order(1)
  void serverResetsItsLeg() throws Exception {
    Baseline cpBefore = Baseline.of(cp);
    Baseline spBefore = Baseline.of(sp);
    List<Transfer> others = List.of(upload(6 << 20, 3 << 20), download(6 << 20, 3 << 20));
    awaitProgress(others, 512 << 10);
    Transfer reset = Transfer.start(t, Topology.CLIENT, cpAddress, DATA, Transfer.resetAfter(++seeds, 1 << 20), READ_TIMEOUT);
    Result r = reset.await(SESSION_DEADLINE);
    assertThat(r.end()).as("client of the reset leg: %s", r).isEqualTo(End.RESET);
    assertThat(r.prefixOk()).as("what arrived before the reset is the server's data").isTrue();
    assertThat(r.received()).isLessThanOrEqualTo(1 << 20);
    for (Result o : awaitAll(others)) {
      assertThat(o.end()).as("concurrent session %s", o).isEqualTo(End.COMPLETED);
    }
    checkServerLegs(others);
    System.out.println("serverResetsItsLeg: " + LeakCheck.assertBackTo(cpBefore) + "; " + LeakCheck.assertBackTo(spBefore));
  }

  /** The client aborts (RST) mid-transfer: its server legs are reset, the other sessions complete. */
  @Test
  @Order(2)
  void clientAbortsMidTransfer() throws Exception {
    Baseline cpBefore = Baseline.of(cp);
    Baseline spBefore = Baseline.of(sp);
    List<Transfer> aborted = List.of(upload(32 << 20, 4 << 20), download(32 << 20, 4 << 20));
    List<Transfer> others = List.of(upload(6 << 20, 3 << 20), download(6 << 20, 3 << 20));
    awaitProgress(aborted, 1 << 20);
    long abortedAt = System.nanoTime();
    for (Transfer a : aborted) {
      a.abort();
    }
    for (Transfer a : aborted) {
      FaultServer.Leg leg = awaitLeg(a.seed(), Duration.ofSeconds(10));
      assertThat(leg.end()).as("server leg of an aborted %s", a).startsWith("reset");
      assertThat(leg.prefixOk()).isTrue();
      assertThat(leg.bytesIn() + leg.bytesOut()).isLessThan(32L << 20);
    }
    System.out.printf("clientAbortsMidTransfer: server legs reset %d ms after the client's RST%n",
        (System.nanoTime() - abortedAt) / 1_000_000);
    for (Result o : awaitAll(others)) {
      assertThat(o.end()).as("concurrent session %s", o).isEqualTo(End.COMPLETED);
    }
    checkServerLegs(others);
    System.out.println("clientAbortsMidTransfer: " + LeakCheck.assertBackTo(cpBefore) + "; " + LeakCheck.assertBackTo(spBefore));
  }

  /**
   * OPEN to a closed port, to an unreachable host and to a black-holed one: the client sees an
   * RST (OPEN_FAIL), counted by reason; the black hole within the configured connect timeout.
   */
  @Test
  @Order(3)
  void failedServerConnectsResetTheClient() throws Exception {
    Baseline cpBefore = Baseline.of(cp);
    Baseline spBefore = Baseline.of(sp);
    String m = cp.scrape();
    Transfer busy = upload(6 << 20, 3 << 20);
    for (var c : List.of(new Object[] {CLOSED_PORT, "refused"}, new Object[] {NO_HOST, "unreachable"},
        new Object[] {BLACK_HOLE, "timeout"})) {
      int port = (int) c[0];
      String reason = (String) c[1];
      double before = RelayNode.sample(m, "wanrelay_connect_failures_total", "reason=\"" + reason + "\"");
      long start = System.nanoTime();
      Result r = Transfer.start(t, Topology.CLIENT, cpAddress, port, Transfer.download(++seeds, 1024, 0), READ_TIMEOUT)
          .await(SESSION_DEADLINE);
      long ms = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("failedServerConnectsResetTheClient: %s -> %s after %d ms%n", reason, r, ms);
      assertThat(r.end()).as("client of a session to a %s target: %s", reason, r).isEqualTo(End.RESET);
      assertThat(r.received()).isZero();
      if (reason.equals("timeout")) {
        assertThat(ms).as("reset after the connect timeout, not before").isGreaterThanOrEqualTo(CONNECT_TIMEOUT.toMillis() - 100);
      }
      assertThat(ms).as("reset within connect timeout + 5 s").isLessThan(CONNECT_TIMEOUT.toMillis() + 5000);
      cp.awaitMetric(Duration.ofSeconds(5), "wanrelay_connect_failures_total", v -> v == before + 1, "reason=\"" + reason + "\"");
      m = cp.scrape();
    }
    assertThat(busy.await(SESSION_DEADLINE).end()).isEqualTo(End.COMPLETED);
    checkServerLegs(List.of(busy));
    System.out.println("failedServerConnectsResetTheClient: " + LeakCheck.assertBackTo(cpBefore) + "; " + LeakCheck.assertBackTo(spBefore));
  }

  /**
   * kill -9 of the SP mid-transfer, then a restart: the open sessions end (how is asserted below),
   * never with wrong bytes; the CP's trunk reconnects by itself and new sessions cross it.
   */
  @Test
  @Order(4)
  void spKilledMidTransferAndRestarted() throws Exception {
    Baseline cpBefore = Baseline.of(cp);
    Baseline spFirst = Baseline.of(sp);
    double reconnects = cp.metric("wanrelay_trunk_reconnects_total", "peer=\"sp\"");
    List<Transfer> open = List.of(upload(32 << 20, 4 << 20), download(32 << 20, 4 << 20),
        upload(32 << 20, 4 << 20), download(32 << 20, 4 << 20));
    awaitProgress(open, 1 << 20);
    long killedAt = System.nanoTime();
    sp.kill9();
    // Restarted at once, as a supervisor would. With stream resume (a resume grace time) the CP
    // may hold its clients until the trunk is back and finds a new SP incarnation, or the grace
    // time ends; without it the lost trunk connection resets them at once. Either way: an RST.
    sp.start();
    List<Result> ends = awaitAll(open);
    System.out.println("spKilledMidTransferAndRestarted: sessions ended " + msAfter(killedAt, open) + " ms after kill -9: " + ends);
    for (Result r : ends) {
      assertThat(r.end()).as("open session when the SP died: %s", r).isEqualTo(End.RESET);
      assertThat(r.prefixOk()).as("bytes before the end are the server's").isTrue();
    }
    cp.awaitMetric(Duration.ofSeconds(40), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp\"");
    assertThat(cp.metric("wanrelay_trunk_reconnects_total", "peer=\"sp\"")).as("reconnects").isGreaterThan(reconnects);
    double tx = cp.metric("wanrelay_trunk_bytes_total", "peer=\"sp\"", "direction=\"tx\"");
    List<Transfer> fresh = List.of(upload(4 << 20, 0), download(4 << 20, 0));
    for (Result r : awaitAll(fresh)) {
      assertThat(r.end()).as("new session after the restart: %s", r).isEqualTo(End.COMPLETED);
    }
    checkServerLegs(fresh);
    assertThat(cp.metric("wanrelay_trunk_bytes_total", "peer=\"sp\"", "direction=\"tx\"") - tx)
        .as("the new upload crossed the trunk").isGreaterThan(4 << 20);
    // The restarted SP is a new process: compare it with the first one's counts.
    System.out.println("spKilledMidTransferAndRestarted: " + LeakCheck.assertBackTo(cpBefore) + "; "
        + LeakCheck.assertBackTo(new Baseline(sp, spFirst.fds(), spFirst.directBytes())));
  }

  /**
   * kill -9 of the CP mid-transfer: the clients' connections end at once (not hung); the SP resets
   * the streams and closes the server legs. A restarted CP carries new sessions.
   */
  @Test
  @Order(5)
  void cpKilledMidTransfer() throws Exception {
    Baseline spBefore = Baseline.of(sp);
    Baseline cpFirst = Baseline.of(cp);
    List<Transfer> open = List.of(upload(32 << 20, 4 << 20), download(32 << 20, 4 << 20),
        upload(32 << 20, 4 << 20), download(32 << 20, 4 << 20));
    awaitProgress(open, 1 << 20);
    long killedAt = System.nanoTime();
    cp.kill9();
    List<Result> ends = awaitAll(open);
    System.out.println("cpKilledMidTransfer: sessions ended " + msAfter(killedAt, open) + " ms after kill -9: " + ends);
    for (int i = 0; i < open.size(); i++) {
      Result r = ends.get(i);
      // The kernel closes a dead process's sockets: with the client's data still unread (uploads)
      // that is an RST; a download's socket has nothing unread, so its client sees a FIN early.
      End expected = open.get(i).header().mode() == 'U' ? End.RESET : End.EARLY_EOF;
      assertThat(r.end()).as("client of %s when the CP died: %s", open.get(i), r).isEqualTo(expected);
      assertThat(r.prefixOk()).isTrue();
    }
    // Restarted at once. The SP ends the dead CP's streams when its trunk connection closes, or,
    // with stream resume, when the new CP incarnation connects (at the latest after the grace time).
    cp.start();
    for (Transfer o : open) {
      FaultServer.Leg leg = awaitLeg(o.seed(), SESSION_DEADLINE);
      assertThat(leg.prefixOk()).isTrue();
    }
    System.out.println("cpKilledMidTransfer: server legs closed " + open.stream()
        .map(o -> server.leg(o.seed()).orElseThrow()).map(l -> (l.endedNanos() - killedAt) / 1_000_000 + " ms: " + l.end()).toList()
        + " after kill -9");
    sp.awaitMetric(SESSION_DEADLINE, "wanrelay_trunk_streams_active", v -> v == 0);
    assertThat(server.openLegs()).as("server legs left open").isZero();
    System.out.println("cpKilledMidTransfer: " + LeakCheck.assertBackTo(spBefore));
    cp.awaitMetric(Duration.ofSeconds(30), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp\"");
    List<Transfer> fresh = List.of(upload(4 << 20, 0), download(4 << 20, 0));
    for (Result r : awaitAll(fresh)) {
      assertThat(r.end()).as("new session through the restarted CP: %s", r).isEqualTo(End.COMPLETED);
    }
    checkServerLegs(fresh);
    System.out.println("cpKilledMidTransfer (restarted cp vs the first): "
        + LeakCheck.assertBackTo(new Baseline(cp, cpFirst.fds(), cpFirst.directBytes())));
  }

  /**
   * Four SP deaths in a row, then four CP deaths, each mid-transfer with six sessions and followed
   * by an immediate restart: every session ends with a prefix and a reset (or the CP's early FIN),
   * a fresh session works after each restart, and the relay that survived the series holds no
   * more fds, direct memory or streams than before it. Slow (about a minute): {@code slow-faults}.
   */
  @Test
  @Order(6)
  @Tag("slow-faults")
  void repeatedKillsLeaveNothingBehind() throws Exception {
    for (RelayNode victim : List.of(sp, cp)) {
      boolean killSp = victim == sp;
      RelayNode survivor = killSp ? cp : sp;
      Baseline before = Baseline.of(survivor);
      double reconnects = cp.metric("wanrelay_trunk_reconnects_total", "peer=\"sp\"");
      for (int round = 0; round < 4; round++) {
        List<Transfer> open = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          open.add(upload(32 << 20, 4 << 20));
          open.add(download(32 << 20, 4 << 20));
        }
        awaitProgress(open, 1 << 20);
        long killedAt = System.nanoTime();
        (killSp ? sp : cp).kill9();
        (killSp ? sp : cp).start();
        List<Result> ends = awaitAll(open);
        for (int i = 0; i < open.size(); i++) {
          Result r = ends.get(i);
          assertThat(r.end()).as("round %d, %s killed: %s", round, killSp ? "SP" : "CP", r)
              .isIn(End.RESET, End.EARLY_EOF);
          assertThat(r.prefixOk()).isTrue();
        }
        System.out.printf("repeatedKills: %s killed, round %d: sessions ended %s ms after the kill%n",
            killSp ? "SP" : "CP", round, msAfter(killedAt, open));
        cp.awaitMetric(Duration.ofSeconds(40), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp\"");
        Transfer fresh = upload(1 << 20, 0);
        assertThat(fresh.await(SESSION_DEADLINE).end()).as("new session after round %d", round).isEqualTo(End.COMPLETED);
      }
      if (killSp) {
        assertThat(cp.metric("wanrelay_trunk_reconnects_total", "peer=\"sp\"") - reconnects).as("CP reconnects")
            .isGreaterThanOrEqualTo(4);
      }
      System.out.println("repeatedKills: survivor of four " + (killSp ? "SP" : "CP") + " deaths: "
          + LeakCheck.assertBackTo(before));
    }
  }

  /**
   * The dedup store's disk fills up (a small tmpfs mounted for the test and filled to the brim
   * before the relays start): sessions keep their exact bytes, each relay counts the write error
   * once and logs it once, and goes on with its memory tier.
   */
  @Test
  @Order(7)
  void dedupStoreDiskFull() throws Exception {
    Path tmpfs = Files.createDirectories(dir.resolve("dedup-tmpfs"));
    Commands.run(List.of("umount", "-l", tmpfs.toString()));
    Commands.run(List.of("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", tmpfs.toString())).orThrow();
    try {
      // Leave 64 KiB: the stores open and then run out of space on their first segment writes.
      Commands.run(List.of("dd", "if=/dev/zero", "of=" + tmpfs.resolve("filler"), "bs=64k", "count=63")).orThrow();
      cp.close();
      sp.close();
      Path jar = dir.resolve("wanrelay.jar");
      Path dedupDir = Files.createDirectories(dir.resolve("dedup"));
      String dedup = "  dedup: { enabled: true, store: \"%s\", max-size: 256MiB, memory: 32MiB }";
      sp = new RelayNode(t, Topology.SPROXY, jar, dedupDir, spConfig(dedup.formatted(tmpfs.resolve("sp")))).start();
      cp = new RelayNode(t, Topology.CPROXY, jar, dedupDir, cpConfig(dedup.formatted(tmpfs.resolve("cp")))).start();
      cp.awaitMetric(Duration.ofSeconds(30), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp\"");
      Baseline cpBefore = null;
      Baseline spBefore = null;
      for (int round = 0; round < 2; round++) {
        List<Transfer> all = List.of(upload(8 << 20, 0), download(8 << 20, 0));
        for (Result r : awaitAll(all)) {
          assertThat(r.end()).as("round %d with a full dedup disk: %s", round, r).isEqualTo(End.COMPLETED);
        }
        checkServerLegs(all);
        if (round == 0) {
          // The first round fills the new processes' pools; later rounds must not add to them.
          cpBefore = Baseline.of(cp);
          spBefore = Baseline.of(sp);
        }
      }
      for (RelayNode r : List.of(cp, sp)) {
        String m = r.scrape();
        assertThat(RelayNode.sample(m, "wanrelay_dedup_plain_bytes_total")).as("%s dedup ran", r).isGreaterThan(0);
        assertThat(RelayNode.sample(m, "wanrelay_dedup_store_disk_errors_total")).as("%s disk errors", r).isEqualTo(1);
        assertThat(RelayNode.sample(m, "wanrelay_dedup_store_disk_disabled")).as("%s disk tier disabled", r).isEqualTo(1);
        long logged = r.output().lines().filter(l -> l.contains("disk tier disabled after a write error")).count();
        assertThat(logged).as("%s log lines about the full disk", r).isEqualTo(1);
      }
      System.out.println("dedupStoreDiskFull: " + LeakCheck.assertBackTo(cpBefore) + "; " + LeakCheck.assertBackTo(spBefore));
    } finally {
      cp.close();
      sp.close();
      Commands.run(List.of("umount", "-l", tmpfs.toString()));
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  static Transfer upload(long bytes, long pace) {
    return Transfer.start(t, Topology.CLIENT, cpAddress, DATA, Transfer.upload(++seeds, bytes, pace), READ_TIMEOUT);
  }

  static Transfer download(long bytes, long pace) {
    return Transfer.start(t, Topology.CLIENT, cpAddress, DATA, Transfer.download(++seeds, bytes, pace), READ_TIMEOUT);
  }

  /** When each transfer ended, in ms after {@code since}. */
  static List<Long> msAfter(long since, List<Transfer> transfers) {
    return transfers.stream().map(tr -> (tr.endedNanos() - since) / 1_000_000).toList();
  }

  static List<Result> awaitAll(List<Transfer> transfers) {
    List<Result> out = new ArrayList<>();
    for (Transfer tr : transfers) {
      out.add(tr.await(SESSION_DEADLINE));
    }
    return out;
  }

  /** Waits until every transfer moved at least {@code bytes} (so the fault hits them mid-way). */
  static void awaitProgress(List<Transfer> transfers, long bytes) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (transfers.stream().anyMatch(tr -> tr.progress() < bytes)) {
      assertThat(System.nanoTime()).as("progress of %s", transfers).isLessThan(deadline);
      RelayNode.sleep(50);
    }
  }

  static FaultServer.Leg awaitLeg(long seed, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (server.leg(seed).isEmpty()) {
      assertThat(System.nanoTime()).as("server leg of seed %d ended", seed).isLessThan(deadline);
      RelayNode.sleep(50);
    }
    return server.leg(seed).orElseThrow();
  }

  /** Completed transfers also check out at the server: every byte in, the pattern, a clean end. */
  static void checkServerLegs(List<Transfer> completed) {
    for (Transfer tr : completed) {
      FaultServer.Leg leg = awaitLeg(tr.seed(), Duration.ofSeconds(10));
      assertThat(leg.prefixOk()).as("server side of %s", tr).isTrue();
      assertThat(leg.end()).as("server side of %s", tr).isEqualTo("eof");
      long expected = tr.header().length();
      assertThat(tr.header().mode() == 'U' ? leg.bytesIn() : leg.bytesOut()).isEqualTo(expected);
    }
  }
}
