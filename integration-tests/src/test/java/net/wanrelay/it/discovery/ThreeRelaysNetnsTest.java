package net.wanrelay.it.discovery;

import static net.wanrelay.it.discovery.DiscoveryBed.awaitMetric;
import static net.wanrelay.it.discovery.DiscoveryBed.metric;
import static net.wanrelay.it.discovery.DiscoveryBed.scrape;
import static net.wanrelay.it.discovery.HardPathsBed.TRUNK;
import static net.wanrelay.it.discovery.HardPathsBed.intactExchange;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.TestbedAssumptions;
import net.wanrelay.it.netns.Topology;
import org.junit.jupiter.api.Test;

/**
 * Enhanced discovery with three relays in the path (root only; skipped with the reason
 * otherwise): client -> cproxy (CP) -> wan -> mproxy (SP with {@code probe-onward}) -> sproxy (SP)
 * -> server. The middle relay receives the CP's probe, holds its SYN-ACK, probes onward itself,
 * and answers with sproxy's response: the last relay before the server carries the sessions.
 */
class ThreeRelaysNetnsTest {
  private static final int SEND = 1 << 20;

  @Test
  void theLastRelayBeforeTheServerCarriesTheSessions() throws Exception {
    TestbedAssumptions.assumeTestbed();
    Path dir = DiscoveryBed.workDir("three-relays");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().withThirdRelay().build()) {
      t.wan().set("both", "delay=5ms");
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      String middle = t.address(Topology.MPROXY, Topology.WAN) + ":7800";
      String last = t.address(Topology.SPROXY, Topology.MPROXY) + ":7800";
      String allow = HardPathsBed.subnet24(server);
      NsProcess sp = null;
      NsProcess mp = null;
      NsProcess cp = null;
      try (HashingServer srv = t.call(Topology.SERVER, () -> HashingServer.bind(DiscoveryBed.SERVER_PORT))) {
        sp = DiscoveryBed.startRelay(t, Topology.SPROXY, jar, dir, HardPathsBed.spConfig("sp", last, allow, ""));
        mp = DiscoveryBed.startRelay(t, Topology.MPROXY, jar, dir,
            HardPathsBed.spConfig("mp", middle, allow, "probe-onward: true, probe-timeout: 2s"));
        cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, HardPathsBed.cpConfig("probe-timeout: 3s"));

        List<WanCapture.Syn> behindMiddle;
        try (WanCapture cap = WanCapture.start(t, Topology.MPROXY, Topology.SPROXY, dir.resolve("mproxy-sproxy.pcap"))) {
          intactExchange(t, server, SEND, 1);
          awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 1, "protocol=\"tcp\"");
          behindMiddle = cap.stop(OptionFormat.DEFAULT);
        }
        String m = scrape(t, Topology.CPROXY);
        assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"peer\"")).isEqualTo(1);
        String pmt = HardPathsBed.pmt(t, Topology.CPROXY);
        assertThat(pmt).as("the CP learned the furthest SP").contains("\"state\":\"peer\"").contains(last)
            .doesNotContain(middle);
        String mm = scrape(t, Topology.MPROXY);
        assertThat(metric(mm, "wanrelay_discovery_events_total", "event=\"probe_seen\"")).isEqualTo(1);
        assertThat(metric(mm, "wanrelay_discovery_events_total", "event=\"onward_peer\"")).isEqualTo(1);
        assertThat(metric(scrape(t, Topology.SPROXY), "wanrelay_discovery_events_total", "event=\"probe_seen\""))
            .as("sproxy saw the middle relay's onward probe").isEqualTo(1);
        // between the middle and the last relay: the onward probe (flag RELAYED, from the client's
        // address) and sproxy's response naming itself
        String serverPort = server + ":" + DiscoveryBed.SERVER_PORT;
        List<WanCapture.Syn> onward = behindMiddle.stream().filter(s -> !s.isSynAck() && s.to().equals(serverPort)
            && s.probe().isPresent()).toList();
        assertThat(onward).as("%s", behindMiddle).hasSize(1);
        assertThat(onward.get(0).probe().get().flags() & ProbeRequest.FLAG_RELAYED).isNotZero();
        assertThat(onward.get(0).packet().source().getHostAddress()).isEqualTo(client);
        assertThat(behindMiddle.stream().filter(s -> s.isSynAck() && s.from().equals(serverPort)
            && s.response().isPresent()).map(s -> s.response().get().peers().toString()).toList())
            .hasSize(1).allMatch(p -> p.contains(last));

        awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-" + last + "\"");
        double trunkBefore = metric(scrape(t, Topology.CPROXY), "wanrelay_sessions_total", TRUNK);
        intactExchange(t, server, SEND, 2);
        intactExchange(t, server, SEND, 3);
        m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == trunkBefore + 2, TRUNK,
            "outcome=\"completed\"");
        assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no probe to a known server").isEqualTo(1);
        assertThat(metric(scrape(t, Topology.SPROXY), "wanrelay_trunk_bytes_total", "direction=\"rx\""))
            .as("the last relay carried the sessions").isGreaterThan(2.0 * SEND);
        assertThat(metric(scrape(t, Topology.MPROXY), "wanrelay_trunk_bytes_total"))
            .as("the middle relay's trunk carried nothing").isZero();
        assertThat(srv.seen()).hasSize(3)
            .allMatch(s -> s.peer().getAddress().getHostAddress().equals(client) && s.bytes() == SEND);
      } finally {
        HardPathsBed.saveAll(dir, cp, mp, sp);
      }
    }
  }
}
