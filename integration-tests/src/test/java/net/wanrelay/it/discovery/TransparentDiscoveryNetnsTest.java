package net.wanrelay.it.discovery;

import static net.wanrelay.it.discovery.DiscoveryBed.awaitMetric;
import static net.wanrelay.it.discovery.DiscoveryBed.metric;
import static net.wanrelay.it.discovery.DiscoveryBed.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import net.wanrelay.it.discovery.DiscoveryBed.Exchange;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.TestbedAssumptions;
import net.wanrelay.it.netns.Topology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transparent mode end to end in network namespaces (root only; skipped with the reason
 * otherwise): client -> cproxy (CP relay) -> wan -> [sproxy (SP relay)] -> server, both relays run
 * as {@code java -jar wanrelay.jar run -c cfg.yaml} with {@code intercept:} and apply their own
 * kernel rules. The client connects to the server's own address; nothing on the client or server
 * knows about the relays.
 */
class TransparentDiscoveryNetnsTest {
  private static final int SEND = 1 << 20;

  @BeforeEach
  void needsTestbed() {
    TestbedAssumptions.assumeTestbed();
  }

  /**
   * With an SP on the path the first session is probed (PMT PEER) and the trunk to the SP made;
   * later sessions are carried on the trunk, a known server without a probe. After the SP stops,
   * its PMT entry is dropped and the next session is probed again and passes through. Bytes equal
   * by SHA-256 both ways; the server always sees the client's own address.
   */
  @Test
  void sessionsGoOverTheTrunkWhenAnSpIsOnThePath() throws Exception {
    Path dir = DiscoveryBed.workDir("with-sp");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().withoutWanEmulator().build()) {
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      String spWan = t.address(Topology.SPROXY, Topology.WAN);
      String serverSubnet = server.substring(0, server.lastIndexOf('.')) + ".0/24";
      try (HashingServer srv = t.call(Topology.SERVER, () -> HashingServer.bind(DiscoveryBed.SERVER_PORT))) {
        NsProcess sp = DiscoveryBed.startRelay(t, Topology.SPROXY, jar, dir,
            DiscoveryBed.spConfig(spWan + ":7800", serverSubnet));
        NsProcess cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, DiscoveryBed.cpConfig());
        try {
          withSp(t, srv, server, client);
          assertThat(sp.isAlive()).isTrue();
          DiscoveryBed.saveOutput(dir, "sp", sp);
          sp.close(); // SIGTERM: the SP drains, removes its rules, its trunk goes down
          spGone(t, srv, server, client);
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
        }
        assertThat(cp.isAlive()).isTrue();
      }
    }
  }

  private static final String TRUNK = "route=\"trunk\"";
  private static final String PASS = "route=\"passthrough\"";

  private static void withSp(Topology t, HashingServer srv, String server, String client) throws Exception {
    // First contact: probed on the client's SYN, the SP answers (PMT PEER) and the trunk to it is
    // connected on demand. The session waits up to 3 s for that trunk, else passes through (a
    // cold JVM on a busy machine can take longer), so its route is either; its bytes are not.
    Exchange first = DiscoveryBed.exchange(t, server, SEND, 1);
    assertThat(first.echoedSha256()).as("server's SHA-256 of what the client sent").isEqualTo(first.sentSha256());
    assertThat(first.replyIntact()).as("server -> client bytes intact").isTrue();
    String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 1, "protocol=\"tcp\"");
    assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"peer\"")).isEqualTo(1);
    assertThat(metric(m, "wanrelay_sessions_total", TRUNK) + metric(m, "wanrelay_sessions_total", PASS)).isEqualTo(1);
    awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");

    // Trunk up: sessions are carried on it.
    double trunkBefore = metric(m, "wanrelay_sessions_total", TRUNK);
    double bytesBefore = metric(m, "wanrelay_trunk_bytes_total", "direction=\"tx\"");
    Exchange second = DiscoveryBed.exchange(t, server, SEND, 2);
    assertThat(second.echoedSha256()).isEqualTo(second.sentSha256());
    assertThat(second.replyIntact()).isTrue();
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == trunkBefore + 1, TRUNK);
    assertThat(metric(m, "wanrelay_pmt_entries", "state=\"peer\"")).isEqualTo(1);
    assertThat(metric(m, "wanrelay_trunk_bytes_total", "direction=\"tx\"") - bytesBefore).as("CP trunk tx bytes")
        .isGreaterThan(SEND / 2.0);
    assertThat(metric(scrape(t, Topology.SPROXY), "wanrelay_trunk_bytes_total", "direction=\"rx\""))
        .isGreaterThan(SEND / 2.0);
    double probes = metric(m, "wanrelay_discovery_probes_total");

    // A known server: no probe, straight to the trunk.
    Exchange third = DiscoveryBed.exchange(t, server, SEND, 3);
    assertThat(third.echoedSha256()).isEqualTo(third.sentSha256());
    assertThat(third.replyIntact()).isTrue();
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == trunkBefore + 2, TRUNK);
    assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no probe to a known server").isEqualTo(probes);
    assertThat(metric(m, "wanrelay_sessions_total", TRUNK, "outcome=\"completed\"")).isEqualTo(trunkBefore + 2);

    assertThat(srv.seen()).hasSize(3);
    for (HashingServer.Seen s : srv.seen()) {
      assertThat(s.peer().getAddress().getHostAddress()).as("address the server saw").isEqualTo(client);
      assertThat(s.bytes()).isEqualTo(SEND);
    }
  }

  /**
   * The SP went away: its PMT entry turns back to unknown once the trunk is down, and the next
   * session is probed again and passes through (server still sees the client), no error.
   */
  private static void spGone(Topology t, HashingServer srv, String server, String client) throws Exception {
    String before = awaitMetric(t, Topology.CPROXY, "wanrelay_pmt_entries", v -> v == 0, "state=\"peer\"");
    double probes = metric(before, "wanrelay_discovery_probes_total");
    double passed = metric(before, "wanrelay_sessions_total", PASS);
    Exchange during = DiscoveryBed.exchange(t, server, SEND, 5);
    assertThat(during.echoedSha256()).isEqualTo(during.sentSha256());
    assertThat(during.replyIntact()).isTrue();
    String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == passed + 1, PASS);
    assertThat(metric(m, "wanrelay_discovery_probes_total")).as("re-probed after the trunk died").isEqualTo(probes + 1);
    assertThat(srv.seen()).hasSize(4);
    assertThat(srv.seen().get(3).peer().getAddress().getHostAddress()).isEqualTo(client);
  }

  /**
   * Without an SP the probe connection itself becomes the pass-through leg (PMT NO_PEER); the next
   * session passes through without a probe. Byte-exact, the server sees the client's address.
   */
  @Test
  void sessionsPassThroughWhenNoSpIsOnThePath() throws Exception {
    Path dir = DiscoveryBed.workDir("without-sp");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().withoutSproxy().withoutWanEmulator().build()) {
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      try (HashingServer srv = t.call(Topology.SERVER, () -> HashingServer.bind(DiscoveryBed.SERVER_PORT))) {
        NsProcess cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, DiscoveryBed.cpConfig());
        try {
          withoutSp(t, srv, server, client);
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
        }
        assertThat(cp.isAlive()).isTrue();
      }
    }
  }

  private static void withoutSp(Topology t, HashingServer srv, String server, String client) throws Exception {
    {
      {
        Exchange first = DiscoveryBed.exchange(t, server, SEND, 3);
        assertThat(first.echoedSha256()).isEqualTo(first.sentSha256());
        assertThat(first.replyIntact()).isTrue();
        String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 1, "route=\"passthrough\"");
        assertThat(metric(m, "wanrelay_sessions_total", "route=\"passthrough\"", "outcome=\"completed\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_sessions_total", "route=\"trunk\"")).isZero();
        assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"no_peer\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_pmt_entries", "state=\"no_peer\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_session_bytes_total", "route=\"passthrough\"", "direction=\"client_to_server\""))
            .isEqualTo(SEND);

        Exchange second = DiscoveryBed.exchange(t, server, SEND, 4);
        assertThat(second.echoedSha256()).isEqualTo(second.sentSha256());
        assertThat(second.replyIntact()).isTrue();
        m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 2, "route=\"passthrough\"");
        assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no second probe to a known server").isEqualTo(1);

        assertThat(srv.seen()).hasSize(2);
        for (HashingServer.Seen s : srv.seen()) {
          assertThat(s.peer().getAddress().getHostAddress()).as("address the server saw").isEqualTo(client);
        }
      }
    }
  }
}
