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
   * With an SP on the path the first session is probed (PMT PEER) and carried on the trunk; the
   * second goes straight to the trunk without a probe. Bytes equal by SHA-256 both ways; the
   * server sees the client's own address.
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
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
          DiscoveryBed.saveOutput(dir, "sp", sp);
        }
        assertThat(cp.isAlive()).isTrue();
        assertThat(sp.isAlive()).isTrue();
      }
    }
  }

  private static void withSp(Topology t, HashingServer srv, String server, String client) throws Exception {
    {
      {
        Exchange first = DiscoveryBed.exchange(t, server, SEND, 1);
        assertThat(first.echoedSha256()).as("server's SHA-256 of what the client sent").isEqualTo(first.sentSha256());
        assertThat(first.replyIntact()).as("server -> client bytes intact").isTrue();
        String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 1, "route=\"trunk\"");
        assertThat(metric(m, "wanrelay_sessions_total", "route=\"trunk\"", "outcome=\"completed\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_sessions_total", "route=\"passthrough\"")).isZero();
        assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"peer\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_pmt_entries", "state=\"peer\"")).isEqualTo(1);
        assertThat(metric(m, "wanrelay_trunk_bytes_total", "direction=\"tx\"")).as("CP trunk tx bytes")
            .isGreaterThan(SEND / 2.0); // compression off by default: at least the payload's worth
        assertThat(metric(m, "wanrelay_session_bytes_total", "route=\"trunk\"", "direction=\"client_to_server\""))
            .isEqualTo(SEND);
        String spm = scrape(t, Topology.SPROXY);
        assertThat(metric(spm, "wanrelay_trunk_bytes_total", "direction=\"rx\"")).isGreaterThan(SEND / 2.0);

        Exchange second = DiscoveryBed.exchange(t, server, SEND, 2);
        assertThat(second.echoedSha256()).isEqualTo(second.sentSha256());
        assertThat(second.replyIntact()).isTrue();
        m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 2, "route=\"trunk\"");
        assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no second probe to a known server").isEqualTo(1);

        assertThat(srv.seen()).hasSize(2);
        for (HashingServer.Seen s : srv.seen()) {
          assertThat(s.peer().getAddress().getHostAddress()).as("address the server saw").isEqualTo(client);
          assertThat(s.bytes()).isEqualTo(SEND);
        }
      }
    }
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
