package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.core.transparent.InPathRouter.Decision;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.rules.InPathRule;
import net.wanrelay.discovery.rules.InPathRules;
import org.junit.jupiter.api.Test;

class InPathRouterTest {
  private final AtomicLong clock = new AtomicLong();
  private final PeerMappingTable pmt = new PeerMappingTable(clock::get,
      new PeerMappingTable.Ttls(Duration.ofMinutes(30), Duration.ofMinutes(5), Duration.ofMinutes(60)), false,
      new SimpleMeterRegistry());
  private static final InetSocketAddress SP1 = new InetSocketAddress("10.9.2.2", 7800);
  private static final InetSocketAddress SP2 = new InetSocketAddress("10.9.2.3", 7800);

  private InPathRouter router(List<InPathRule> rules, Set<String> peersUp, Set<InetSocketAddress> spsUp) {
    return new InPathRouter(new InPathRules(rules), pmt, peersUp::contains, spsUp::contains);
  }

  private static InetSocketAddress dst(String ip, int port) {
    return new InetSocketAddress(ip, port);
  }

  @Test
  void consistentHashSpreadsClientsOverAClusterAndSkipsDownSps() throws Exception {
    InetSocketAddress sp3 = new InetSocketAddress("10.9.2.4", 7800);
    List<InetSocketAddress> cluster = List.of(SP1, SP2, sp3);
    InetSocketAddress server = dst("10.9.3.2", 445);
    pmt.recordPeer(pmt.keyFor(server.getAddress(), 445), cluster);
    java.util.Set<InetSocketAddress> up = new java.util.HashSet<>(cluster);
    InPathRouter r = new InPathRouter(new InPathRules(List.of()), pmt, n -> false, up::contains,
        new net.wanrelay.discovery.PeerSelector(net.wanrelay.discovery.PeerSelector.Policy.CONSISTENT_HASH));
    java.util.Map<Integer, InetSocketAddress> before = new java.util.HashMap<>();
    for (int c = 1; c <= 200; c++) {
      InetSocketAddress client = new InetSocketAddress("10.1.0." + c, 40000 + c);
      Decision d = r.decide(server, client);
      InetSocketAddress sp = ((Decision.DiscoveredPeer) d).sp();
      before.put(c, sp);
      assertThat(r.decide(server, new InetSocketAddress("10.1.0." + c, 50000))).as("client port does not matter").isEqualTo(d);
      assertThat(r.pick(cluster, client, server)).as("probe answer: same choice").isEqualTo(sp);
    }
    assertThat(new java.util.HashSet<>(before.values())).as("all SPs used").hasSize(3);
    up.remove(SP2);
    for (int c = 1; c <= 200; c++) {
      InetSocketAddress sp = ((Decision.DiscoveredPeer) r.decide(server, new InetSocketAddress("10.1.0." + c, 1))).sp();
      if (before.get(c).equals(SP2)) {
        assertThat(sp).isIn(SP1, sp3);
      } else {
        assertThat(sp).as("client %d keeps its SP", c).isEqualTo(before.get(c));
      }
    }
    // Primary-first (the default) ignores the client.
    InPathRouter p = router(List.of(), Set.of(), Set.of(SP1, SP2, sp3));
    assertThat(((Decision.DiscoveredPeer) p.decide(server, new InetSocketAddress("10.1.0.9", 1))).sp()).isEqualTo(SP1);
  }

  @Test
  void firstMatchingRuleWinsAndTheDefaultIsAutoDiscover() {
    InPathRouter r = router(List.of(
        InPathRule.of("10.9.0.0/16", "22", InPathRule.Action.PASS_THROUGH),
        InPathRule.of("10.9.0.0/16", "23", InPathRule.Action.DENY),
        InPathRule.fixedTarget("10.2.0.0/16", null, "hq", "hq-2"),
        InPathRule.of("10.9.0.0/16", null, InPathRule.Action.DENY)), Set.of("hq"), Set.of());

    assertThat(r.decide(dst("10.9.3.2", 22))).isEqualTo(new Decision.PassThrough("in-path rule"));
    assertThat(r.decide(dst("10.9.3.2", 23))).isEqualTo(new Decision.Deny());
    assertThat(r.decide(dst("10.9.3.2", 80))).isEqualTo(new Decision.Deny());
    assertThat(r.decide(dst("10.2.1.1", 443))).isEqualTo(new Decision.NamedPeer("hq"));
    assertThat(r.decide(dst("192.0.2.1", 80))).as("no rule: auto-discover, nothing known").isEqualTo(new Decision.Probe());
  }

  @Test
  void fixedTargetFallsBackToTheBackupOnlyWhenItIsUp() {
    List<InPathRule> rules = List.of(InPathRule.fixedTarget("10.2.0.0/16", null, "hq", "hq-2"));
    assertThat(router(rules, Set.of("hq-2"), Set.of()).decide(dst("10.2.0.1", 80))).isEqualTo(new Decision.NamedPeer("hq-2"));
    assertThat(router(rules, Set.of(), Set.of()).decide(dst("10.2.0.1", 80)))
        .as("both down: the primary (its open fails cleanly with a RST)").isEqualTo(new Decision.NamedPeer("hq"));
    assertThat(router(rules, Set.of("hq", "hq-2"), Set.of()).decide(dst("10.2.0.1", 80))).isEqualTo(new Decision.NamedPeer("hq"));
  }

  @Test
  void autoDiscoverFollowsThePmt() throws Exception {
    InPathRouter r = router(List.of(), Set.of(), Set.of(SP2));
    InetAddress peer = InetAddress.getByName("10.9.3.2");
    InetAddress none = InetAddress.getByName("10.9.3.3");
    InetAddress stripped = InetAddress.getByName("10.9.3.4");
    pmt.recordPeer(pmt.keyFor(peer, 80), List.of(SP1, SP2));
    pmt.recordNoPeer(pmt.keyFor(none, 80));
    pmt.recordStripped(pmt.keyFor(stripped, 80));

    assertThat(r.decide(new InetSocketAddress(peer, 80))).as("first SP whose trunk is up")
        .isEqualTo(new Decision.DiscoveredPeer(SP2));
    assertThat(router(List.of(), Set.of(), Set.of()).decide(new InetSocketAddress(peer, 8080)))
        .as("none up: the primary").isEqualTo(new Decision.DiscoveredPeer(SP1));
    assertThat(r.decide(new InetSocketAddress(none, 80))).isEqualTo(new Decision.PassThrough("pmt no_peer"));
    assertThat(r.decide(new InetSocketAddress(stripped, 80))).isEqualTo(new Decision.PassThrough("pmt hold_down"));

    clock.addAndGet(Duration.ofMinutes(6).toNanos());
    assertThat(r.decide(new InetSocketAddress(none, 80))).as("NO_PEER expired: probe again").isEqualTo(new Decision.Probe());
    pmt.peerDown(SP1);
    assertThat(r.decide(new InetSocketAddress(peer, 80))).as("trunk to the SP died: probe again").isEqualTo(new Decision.Probe());
  }

  @Test
  void pmtJsonListsTheEntries() throws Exception {
    pmt.recordPeer(pmt.keyFor(InetAddress.getByName("10.9.3.2"), 80), List.of(SP1));
    pmt.recordNoPeer(pmt.keyFor(InetAddress.getByName("10.9.3.3"), 80));
    String json = PmtJson.render(pmt, clock.get());
    assertThat(json).isEqualTo("{\"entries\":["
        + "{\"server\":\"10.9.3.2\",\"port\":null,\"state\":\"peer\",\"peers\":[\"10.9.2.2:7800\"],\"expires_in_seconds\":1800},"
        + "{\"server\":\"10.9.3.3\",\"port\":null,\"state\":\"no_peer\",\"peers\":[],\"expires_in_seconds\":300}]}");
  }
}
