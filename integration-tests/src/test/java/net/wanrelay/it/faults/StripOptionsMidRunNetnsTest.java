package net.wanrelay.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.wanrelay.it.faults.LeakCheck.Baseline;
import net.wanrelay.it.faults.Transfer.End;
import net.wanrelay.it.faults.Transfer.Result;
import net.wanrelay.it.metrics.RepoLayout;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.TopologyExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Transparent mode (both relays intercept and discover by themselves, as separate processes) when
 * a middlebox on the WAN starts scrubbing TCP options off SYNs mid-run ({@code strip-options on}
 * in the WAN emulator): sessions already on the trunk carry on, new sessions to a server the CP
 * already knows go on the trunk without a probe, and a new server (whose probe is now stripped)
 * is reached by pass-through. No client sees an error; every byte is checked at both ends.
 */
class StripOptionsMidRunNetnsTest {
  @RegisterExtension
  static final TopologyExtension NET = new TopologyExtension(b -> b.withSecondServer());

  static final String KEY = "faults-it-transparent-key-0123";
  static final int PORT = 8080;
  static final Duration DEADLINE = Duration.ofSeconds(60);

  static RelayNode cp;
  static RelayNode sp;
  static FaultServer server;
  static FaultServer server2;
  static long seeds = 5000;

  @AfterAll
  static void stop() throws Exception {
    for (RelayNode r : new RelayNode[] {cp, sp}) {
      if (r != null) {
        r.close();
      }
    }
    for (FaultServer s : new FaultServer[] {server, server2}) {
      if (s != null) {
        s.close();
      }
    }
  }

  @Test
  void strippingStartsMidRun() throws Exception {
    Topology t = NET.topology();
    Path dir = Files.createDirectories(Path.of("target", "faults-it", "strip").toAbsolutePath());
    Path jar = RepoLayout.privateRelayJar(dir);
    String s1 = t.address(Topology.SERVER);
    String s2 = t.address(Topology.SERVER2);
    server = FaultServer.start(t, Topology.SERVER, PORT);
    server2 = FaultServer.start(t, Topology.SERVER2, PORT);
    t.wan().set("both", "delay=5ms");
    sp = new RelayNode(t, Topology.SPROXY, jar, dir, """
        node: { id: sp, admin: 127.0.0.1:%d, drain-timeout: 1s }
        trunk:
          listen: 0.0.0.0:7800
          key: "%s"
          allow: [ 10.9.0.0/16 ]
          compression: off
        intercept:
          transparent-source: true
          apply-rules: true
        discovery: { advertise: "%s:7800" }
        """.formatted(RelayNode.ADMIN_PORT, KEY, t.address(Topology.SPROXY, Topology.WAN))).start();
    cp = new RelayNode(t, Topology.CPROXY, jar, dir, """
        node: { id: cp, admin: 127.0.0.1:%d, drain-timeout: 1s }
        trunk:
          key: "%s"
          compression: off
        intercept:
          tcp-ports: [%d]
          tproxy-listen: 0.0.0.0:7777
          transparent-source: true
          apply-rules: true
        discovery: { probe-timeout: 2s }
        """.formatted(RelayNode.ADMIN_PORT, KEY, PORT)).start();

    // Discovery of the SP on the first session, then the trunk carries the sessions to server 1.
    assertThat(run(t, s1, Transfer.download(++seeds, 1 << 20, 0)).end()).isEqualTo(End.COMPLETED);
    cp.awaitMetric(Duration.ofSeconds(30), "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");
    assertThat(cp.metric("wanrelay_pmt_entries", "state=\"peer\"")).isEqualTo(1);
    assertThat(run(t, s1, Transfer.upload(++seeds, 1 << 20, 0)).end()).isEqualTo(End.COMPLETED);
    Baseline cpBefore = Baseline.of(cp);
    Baseline spBefore = Baseline.of(sp);
    String m0 = cp.scrape();
    double trunk0 = RelayNode.sample(m0, "wanrelay_sessions_total", "route=\"trunk\"");
    double pass0 = RelayNode.sample(m0, "wanrelay_sessions_total", "route=\"passthrough\"");
    double probes0 = RelayNode.sample(m0, "wanrelay_discovery_probes_total");

    // Long sessions on the trunk, then the middlebox starts stripping.
    List<Transfer> running = List.of(start(t, s1, Transfer.upload(++seeds, 16 << 20, 4 << 20)),
        start(t, s1, Transfer.download(++seeds, 16 << 20, 4 << 20)));
    PairFaultsNetnsTest.awaitProgress(running, 1 << 20);
    t.wan().stripOptions(true);
    try {
      // A known server: trunk without a probe. A new one: its probe is scrubbed, pass-through;
      // the second session to it finds it known (no_peer) and is not probed again.
      Transfer toKnown = start(t, s1, Transfer.upload(++seeds, 2 << 20, 0));
      Transfer firstToNew = start(t, s2, Transfer.upload(++seeds, 2 << 20, 0));
      assertThat(firstToNew.await(DEADLINE).end()).as("first session to server 2").isEqualTo(End.COMPLETED);
      Transfer secondToNew = start(t, s2, Transfer.download(++seeds, 2 << 20, 0));
      List<Transfer> all = new ArrayList<>(running);
      all.addAll(List.of(toKnown, firstToNew, secondToNew));
      for (Transfer tr : all) {
        Result r = tr.await(DEADLINE);
        assertThat(r.end()).as("%s while options are stripped: %s", tr, r).isEqualTo(End.COMPLETED);
      }
      checkLegs(server, all.subList(0, 3));
      checkLegs(server2, all.subList(3, 5));
      Map<String, Long> wan = t.wan().stats();
      assertThat(wan.get("c2s.stripped") + wan.get("s2c.stripped")).as("SYNs scrubbed by the emulator").isPositive();
      String m = cp.awaitMetricText("wanrelay_sessions_total", "route=\"passthrough\"", v -> v == pass0 + 2);
      System.out.println("strippingStartsMidRun: emulator " + wan + "; probes " + RelayNode.lines(m, "wanrelay_discovery_probes_total")
          + "; pmt " + RelayNode.lines(m, "wanrelay_pmt_entries"));
      assertThat(RelayNode.sample(m, "wanrelay_sessions_total", "route=\"trunk\"")).as("trunk sessions")
          .isEqualTo(trunk0 + 3);
      assertThat(RelayNode.sample(m, "wanrelay_discovery_probes_total") - probes0).as("probes (server 2 only)").isEqualTo(1);
      assertThat(RelayNode.sample(m, "wanrelay_discovery_probes_total", "result=\"peer\""))
          .as("no peer found through the scrubbing middlebox").isEqualTo(RelayNode.sample(m0, "wanrelay_discovery_probes_total", "result=\"peer\""));
    } finally {
      t.wan().stripOptions(false);
    }
    System.out.println("strippingStartsMidRun: " + LeakCheck.assertBackTo(cpBefore) + "; " + LeakCheck.assertBackTo(spBefore));
  }

  private static Transfer start(Topology t, String host, FaultServer.Header h) {
    return Transfer.start(t, Topology.CLIENT, host, PORT, h, Duration.ofSeconds(40));
  }

  private static Result run(Topology t, String host, FaultServer.Header h) {
    return start(t, host, h).await(DEADLINE);
  }

  private static void checkLegs(FaultServer srv, List<Transfer> transfers) {
    for (Transfer tr : transfers) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (srv.leg(tr.seed()).isEmpty() && System.nanoTime() < deadline) {
        RelayNode.sleep(50);
      }
      FaultServer.Leg leg = srv.leg(tr.seed()).orElseThrow(() -> new AssertionError("no server leg for " + tr));
      assertThat(leg.prefixOk()).isTrue();
      assertThat(leg.end()).isEqualTo("eof");
      assertThat(tr.header().mode() == 'U' ? leg.bytesIn() : leg.bytesOut()).isEqualTo(tr.header().length());
    }
  }
}
