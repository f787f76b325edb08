package net.wanrelay.discovery.pmt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PeerMappingTableTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PeerMappingTable.Ttls ttls =
      new PeerMappingTable.Ttls(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(60));
  private final PeerMappingTable pmt = new PeerMappingTable(now::get, ttls, false, registry);
  private final InetAddress server = addr("10.9.3.2");
  private final InetSocketAddress sp1 = new InetSocketAddress("10.9.2.2", 7800);
  private final InetSocketAddress sp2 = new InetSocketAddress("10.9.2.3", 7800);

  private static InetAddress addr(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private double gauge(String state) {
    return registry.get("wanrelay_pmt_entries").tag("state", state).gauge().value();
  }

  private double probes(String result) {
    return registry.get("wanrelay_discovery_probes_total").tag("result", result).counter().count();
  }

  @Test
  void repointMovesEntriesOfAnSpThatChangedItsAddress() {
    InetSocketAddress moved = new InetSocketAddress("10.9.2.9", 7900);
    InetAddress other = addr("10.9.3.3");
    InetAddress third = addr("10.9.3.4");
    pmt.recordPeer(pmt.keyFor(server, 80), List.of(sp1, sp2));
    pmt.putStatic(pmt.keyFor(other, 80), List.of(sp1));
    pmt.recordPeer(pmt.keyFor(third, 80), List.of(sp2));
    advance(Duration.ofSeconds(10));
    assertThat(pmt.repoint(sp1, moved)).isEqualTo(2);
    assertThat(pmt.lookup(server, 80).peers()).containsExactly(moved, sp2);
    assertThat(pmt.lookup(other, 80).peers()).containsExactly(moved);
    assertThat(pmt.lookup(other, 80).state()).isEqualTo(PmtState.STATIC);
    assertThat(pmt.lookup(third, 80).peers()).containsExactly(sp2);
    // the learned entry keeps its expiry: 30 s from when it was learned, not from the move
    advance(Duration.ofSeconds(20));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(pmt.repoint(sp1, moved)).isZero();
  }

  @Test
  void unknownUntilLearned() {
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(gauge("unknown")).isZero();
  }

  @Test
  void peerExpiresBackToUnknown() {
    pmt.recordPeer(pmt.keyFor(server, 80), List.of(sp1, sp2));
    PmtEntry e = pmt.lookup(server, 443); // per-address table: any port
    assertThat(e.state()).isEqualTo(PmtState.PEER);
    assertThat(e.peers()).containsExactly(sp1, sp2);
    assertThat(gauge("peer")).isEqualTo(1);
    assertThat(probes("peer")).isEqualTo(1);
    advance(Duration.ofSeconds(29));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.PEER);
    advance(Duration.ofSeconds(1));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(gauge("peer")).isZero();
    assertThat(pmt.snapshot()).isEmpty();
  }

  @Test
  void noPeerHoldsForItsTtl() {
    pmt.recordNoPeer(pmt.keyFor(server, 80));
    advance(Duration.ofSeconds(4));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.NO_PEER);
    assertThat(gauge("no_peer")).isEqualTo(1);
    advance(Duration.ofSeconds(1));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(probes("no_peer")).isEqualTo(1);
  }

  @Test
  void strippedGoesToHoldDownThenRetest() {
    pmt.recordStripped(pmt.keyFor(server, 80));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.HOLD_DOWN);
    assertThat(probes("stripped")).isEqualTo(1);
    assertThat(gauge("hold_down")).isEqualTo(1);
    advance(Duration.ofSeconds(60));
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
  }

  @Test
  void timeoutCountsButLearnsNothing() {
    pmt.recordTimeout(pmt.keyFor(server, 80));
    assertThat(probes("timeout")).isEqualTo(1);
    assertThat(pmt.lookup(server, 80).state()).isEqualTo(PmtState.UNKNOWN);
  }

  @Test
  void staticNeverExpiresAndIsNotOverwrittenByLearning() {
    pmt.putStatic(PmtKey.of(server), List.of(sp1));
    advance(Duration.ofDays(400));
    pmt.recordNoPeer(PmtKey.of(server));
    PmtEntry e = pmt.lookup(server, 22);
    assertThat(e.state()).isEqualTo(PmtState.STATIC);
    assertThat(e.peers()).containsExactly(sp1);
    assertThat(pmt.peerDown(sp1)).isZero();
    assertThat(gauge("static")).isEqualTo(1);
  }

  @Test
  void peerDownTurnsOnlyThatPeersEntriesToUnknown() {
    InetAddress other = addr("10.9.4.2");
    InetAddress third = addr("10.9.5.2");
    pmt.recordPeer(PmtKey.of(server), List.of(sp1));
    pmt.recordPeer(PmtKey.of(other), List.of(sp2, sp1));
    pmt.recordPeer(PmtKey.of(third), List.of(sp2));
    assertThat(pmt.peerDown(sp1)).isEqualTo(2);
    assertThat(pmt.lookup(server, 1).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(pmt.lookup(other, 1).state()).isEqualTo(PmtState.UNKNOWN);
    assertThat(pmt.lookup(third, 1).state()).isEqualTo(PmtState.PEER);
    assertThat(gauge("peer")).isEqualTo(1);
  }

  @Test
  void perPortTablePrefersTheExactPortThenTheAddress() {
    PeerMappingTable t = new PeerMappingTable(now::get, ttls, true, new SimpleMeterRegistry());
    t.recordPeer(t.keyFor(server, 80), List.of(sp1));
    assertThat(t.lookup(server, 80).state()).isEqualTo(PmtState.PEER);
    assertThat(t.lookup(server, 443).state()).isEqualTo(PmtState.UNKNOWN);
    t.putStatic(PmtKey.of(server), List.of(sp2));
    assertThat(t.lookup(server, 443).peers()).containsExactly(sp2);
    assertThat(t.lookup(server, 80).peers()).containsExactly(sp1);
  }

  @Test
  void relearningReplacesAndRestartsTheTtl() {
    PmtKey k = PmtKey.of(server);
    pmt.recordNoPeer(k);
    advance(Duration.ofSeconds(3));
    pmt.recordPeer(k, List.of(sp1));
    advance(Duration.ofSeconds(10));
    assertThat(pmt.lookup(server, 0).state()).isEqualTo(PmtState.PEER);
    assertThat(gauge("no_peer")).isZero();
  }
}
