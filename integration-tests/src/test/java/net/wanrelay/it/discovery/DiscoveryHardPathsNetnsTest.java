package net.wanrelay.it.discovery;

import static net.wanrelay.it.discovery.DiscoveryBed.awaitMetric;
import static net.wanrelay.it.discovery.DiscoveryBed.metric;
import static net.wanrelay.it.discovery.DiscoveryBed.scrape;
import static net.wanrelay.it.discovery.HardPathsBed.PASS;
import static net.wanrelay.it.discovery.HardPathsBed.TRUNK;
import static net.wanrelay.it.discovery.HardPathsBed.intactExchange;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.TopologyExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Discovery on paths that are not friendly (root only; skipped with the reason otherwise): a
 * capture on the WAN link, a WAN that strips the probe option, one that drops SYNs carrying it,
 * and an SP that crashes and comes back. One topology for the class (client, cproxy, wan with the
 * emulator, sproxy, server); each test starts its own relays ({@code java -jar wanrelay.jar run})
 * and stops them (SIGTERM: they remove their kernel rules).
 */
class DiscoveryHardPathsNetnsTest {
  private static final int SEND = 256 * 1024;

  @RegisterExtension
  static final TopologyExtension NET = new TopologyExtension(b -> b);

  private static Path jar;
  private Path dir;
  private Topology t;
  private String server;
  private String client;
  private String spWan;
  private HashingServer srv;
  private NsProcess sp;
  private NsProcess cp;

  @BeforeAll
  static void relayJar() throws Exception {
    jar = DiscoveryBed.relayJar(DiscoveryBed.workDir("hard-paths"));
  }

  @BeforeEach
  void start(TestInfo info) throws Exception {
    dir = DiscoveryBed.workDir("hard-paths/" + info.getTestMethod().orElseThrow().getName());
    t = NET.topology();
    t.wan().set("both", "delay=5ms");
    server = t.address(Topology.SERVER);
    client = t.address(Topology.CLIENT);
    spWan = t.address(Topology.SPROXY, Topology.WAN);
    srv = t.call(Topology.SERVER, () -> HashingServer.bind(DiscoveryBed.SERVER_PORT));
  }

  @AfterEach
  void stop() throws Exception {
    HardPathsBed.saveAll(dir, cp, sp);
    for (NsProcess p : new NsProcess[] {cp, sp}) {
      if (p != null) {
        p.close();
      }
    }
    srv.close();
  }

  private NsProcess startSp() throws Exception {
    return DiscoveryBed.startRelay(t, Topology.SPROXY, jar, dir,
        HardPathsBed.spConfig("sp", spWan + ":7800", HardPathsBed.subnet24(server), ""));
  }

  private NsProcess startCp(String discovery) throws Exception {
    return DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, HardPathsBed.cpConfig(discovery));
  }

  /**
   * tcpdump on the WAN link next to the CP: the first connection's SYN carries the probe, the
   * SP's SYN-ACK carries its trunk address; later connections to that server are carried on the
   * trunk (their only SYNs on the WAN are the trunk's own, without our option).
   */
  @Test
  void captureShowsTheProbeOnTheSynTheResponseOnTheSynAckAndNoProbeForAKnownServer() throws Exception {
    sp = startSp();
    cp = startCp("probe-timeout: 2s");
    List<WanCapture.Syn> syns;
    try (WanCapture cap = WanCapture.start(t, Topology.WAN, Topology.CPROXY, dir.resolve("wan.pcap"))) {
      intactExchange(t, server, SEND, 1);
      awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");
      intactExchange(t, server, SEND, 2);
      intactExchange(t, server, SEND, 3);
      awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 3, "protocol=\"tcp\"");
      syns = cap.stop(OptionFormat.DEFAULT);
    }
    String m = scrape(t, Topology.CPROXY);
    String serverPort = server + ":" + DiscoveryBed.SERVER_PORT;
    List<WanCapture.Syn> toServer = syns.stream().filter(s -> !s.isSynAck() && s.to().equals(serverPort)).toList();
    List<WanCapture.Syn> fromServer = syns.stream().filter(s -> s.isSynAck() && s.from().equals(serverPort)).toList();
    assertThat(toServer).as("SYNs to the server on the WAN: %s", syns).isNotEmpty();
    assertThat(toServer.get(0).probe()).as("first SYN carries the probe").isPresent();
    assertThat(toServer.get(0).probe().get().flags() & ProbeRequest.FLAG_CLUSTER_OK).isNotZero();
    assertThat(toServer.get(0).packet().source().getHostAddress()).as("probe from the client's address").isEqualTo(client);
    assertThat(fromServer).as("SYN-ACKs for the probe").isNotEmpty();
    assertThat(fromServer.get(0).response()).as("the SP's SYN-ACK carries the response").isPresent();
    assertThat(fromServer.get(0).response().get().peers().toString()).contains(spWan + ":7800");
    // later sessions: no probe; on the trunk they make no SYN to the server at all, and a first
    // session that passed through while the trunk came up made a plain one
    assertThat(toServer.subList(1, toServer.size())).as("no probe to a known server").allMatch(s -> s.probe().isEmpty());
    assertThat(toServer.stream().map(s -> s.packet().sourcePort()).distinct().count())
        .as("one probe connection plus one per pass-through session")
        .isEqualTo(1 + (long) metric(m, "wanrelay_sessions_total", PASS));
    assertThat(metric(m, "wanrelay_sessions_total", TRUNK)).isGreaterThanOrEqualTo(2);
    List<WanCapture.Syn> trunkSyns = syns.stream().filter(s -> !s.isSynAck() && s.to().equals(spWan + ":7800")).toList();
    assertThat(trunkSyns).as("the trunk's own SYN").isNotEmpty().allMatch(s -> s.probe().isEmpty());
    assertThat(metric(m, "wanrelay_discovery_probes_total")).isEqualTo(1);
    assertThat(srv.seen()).hasSize(3).allMatch(s -> s.peer().getAddress().getHostAddress().equals(client));
  }

  /**
   * No SP answers (the sproxy namespace only routes): the first SYN carries the probe, the
   * server's SYN-ACK no response, and the second connection's SYN no probe (PMT no_peer).
   */
  @Test
  void withoutAnSpOnlyTheFirstSynCarriesTheProbe() throws Exception {
    cp = startCp("probe-timeout: 2s");
    List<WanCapture.Syn> syns;
    try (WanCapture cap = WanCapture.start(t, Topology.WAN, Topology.CPROXY, dir.resolve("wan.pcap"))) {
      intactExchange(t, server, SEND, 1);
      intactExchange(t, server, SEND, 2);
      awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 2, PASS);
      syns = cap.stop(OptionFormat.DEFAULT);
    }
    String serverPort = server + ":" + DiscoveryBed.SERVER_PORT;
    List<WanCapture.Syn> toServer = syns.stream().filter(s -> !s.isSynAck() && s.to().equals(serverPort)).toList();
    List<WanCapture.Syn> fromServer = syns.stream().filter(s -> s.isSynAck() && s.from().equals(serverPort)).toList();
    assertThat(toServer).as("%s", syns).hasSize(2);
    assertThat(toServer.get(0).probe()).isPresent();
    assertThat(toServer.get(1).probe()).as("second connection: known server, no probe").isEmpty();
    assertThat(toServer.get(1).hasUnknownOption()).isFalse();
    assertThat(fromServer).hasSize(2).allMatch(s -> s.response().isEmpty());
    String m = scrape(t, Topology.CPROXY);
    assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"no_peer\"")).isEqualTo(1);
    assertThat(metric(m, "wanrelay_discovery_probes_total")).isEqualTo(1);
    assertThat(srv.seen()).hasSize(2).allMatch(s -> s.peer().getAddress().getHostAddress().equals(client));
  }

  /**
   * The WAN scrubs unknown options from SYNs: the SP never sees the probe, so the path looks like
   * one without an SP (the CP cannot tell them apart in-band): sessions pass through intact, the
   * PMT says no_peer (re-probed when its TTL ends), no client sees an error.
   */
  @Test
  void aWanThatStripsTheOptionLooksLikeNoSpAndSessionsPassThrough() throws Exception {
    sp = startSp();
    cp = startCp("probe-timeout: 2s");
    t.wan().stripOptions(true);
    intactExchange(t, server, SEND, 1);
    intactExchange(t, server, SEND, 2);
    String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 2, PASS, "outcome=\"completed\"");
    assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"no_peer\"")).isEqualTo(1);
    assertThat(metric(m, "wanrelay_sessions_total", TRUNK)).isZero();
    assertThat(HardPathsBed.pmt(t, Topology.CPROXY)).contains("\"state\":\"no_peer\"");
    assertThat(t.wan().stats().get("c2s.stripped")).isGreaterThanOrEqualTo(1);
    assertThat(metric(scrape(t, Topology.SPROXY), "wanrelay_discovery_events_total", "event=\"probe_seen\"")).isZero();
    assertThat(srv.seen()).hasSize(2).allMatch(s -> s.peer().getAddress().getHostAddress().equals(client));
  }

  /**
   * The WAN drops SYNs that carry an unknown option: the probe times out, a plain retry connects
   * and carries the session (the client only waits), the PMT holds the server down (metric
   * probes{stripped}); within the hold-down no probe is sent; after it the server is probed
   * again and, the path now passing options, found behind the SP.
   */
  @Test
  void aWanThatDropsSynsWithTheOptionIsHeldDownThenReTested() throws Exception {
    sp = startSp();
    cp = startCp("probe-timeout: 1s, hold-down: 6s");
    t.wan().dropOptions(true);
    intactExchange(t, server, SEND, 1);
    String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 1, PASS, "outcome=\"completed\"");
    assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"stripped\"")).isEqualTo(1);
    assertThat(metric(m, "wanrelay_pmt_entries", "state=\"hold_down\"")).isEqualTo(1);
    assertThat(HardPathsBed.pmt(t, Topology.CPROXY)).contains("\"server\":\"" + server + "\"")
        .contains("\"state\":\"hold_down\"");
    assertThat(t.wan().stats().get("c2s.option_drops")).isGreaterThanOrEqualTo(1);

    intactExchange(t, server, SEND, 2);
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v == 2, PASS, "outcome=\"completed\"");
    assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no probe while held down").isEqualTo(1);

    t.wan().dropOptions(false);
    awaitMetric(t, Topology.CPROXY, "wanrelay_pmt_entries", v -> v == 0, "state=\"hold_down\"");
    intactExchange(t, server, SEND, 3);
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_discovery_probes_total", v -> v == 1, "result=\"peer\"");
    assertThat(metric(m, "wanrelay_pmt_entries", "state=\"peer\"")).isEqualTo(1);
    awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");
    intactExchange(t, server, SEND, 4);
    awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v >= 1, TRUNK, "outcome=\"completed\"");
    assertThat(srv.seen()).hasSize(4).allMatch(s -> s.peer().getAddress().getHostAddress().equals(client));
  }

  /**
   * The SP crashes (SIGKILL: no drain, its kernel rules stay) and comes back. Sessions during the
   * outage arrive intact (they pass through), the PMT entry goes back to unknown when the trunk
   * dies; once the SP is back, sessions return to the trunk by themselves (no-peer TTL 3 s here).
   */
  @Test
  void sessionsSurviveAnSpCrashAndReturnToTheTrunkWhenItIsBack() throws Exception {
    sp = startSp();
    cp = startCp("probe-timeout: 2s, no-peer-ttl: 3s");
    intactExchange(t, server, SEND, 1);
    awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");
    intactExchange(t, server, SEND, 2);
    String m = awaitMetric(t, Topology.CPROXY, "wanrelay_sessions_total", v -> v >= 1, TRUNK, "outcome=\"completed\"");
    double trunkBefore = metric(m, "wanrelay_sessions_total", TRUNK, "outcome=\"completed\"");

    ProcessHandle.of(sp.pid()).ifPresent(ProcessHandle::destroyForcibly);
    assertThat(sp.waitFor(Duration.ofSeconds(10))).as("SP killed (SIGKILL)").isEqualTo(137);
    HardPathsBed.saveAll(dir.resolve("before-crash"), sp);
    // During the outage: a session that the CP put on the trunk in the moment before it saw the
    // trunk die is reset (a clean failure, never a hang or a half delivery); later ones wait for
    // the trunk (3 s) and pass through, and once the trunk has been down 5 s the PMT entry is
    // dropped and sessions are probed again (no SP answers: pass through at once).
    int seed = 10;
    int intact = 0;
    List<String> resets = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      try {
        intactExchange(t, server, SEND, seed++);
        intact++;
      } catch (java.net.SocketTimeoutException e) {
        throw new AssertionError("a session during the outage hung", e);
      } catch (java.io.IOException e) {
        resets.add(e.toString());
      }
    }
    assertThat(resets).as("sessions reset during the outage").hasSizeLessThanOrEqualTo(1);
    assertThat(intact).isGreaterThanOrEqualTo(2);
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_pmt_entries", v -> v == 0, "state=\"peer\"");
    assertThat(metric(m, "wanrelay_connect_failures_total", "reason=\"trunk_error\"")).isEqualTo(resets.size());
    intactExchange(t, server, SEND, seed++);
    m = awaitMetric(t, Topology.CPROXY, "wanrelay_discovery_probes_total", v -> v >= 1, "result=\"no_peer\"");
    double trunkDuringOutage = metric(m, "wanrelay_sessions_total", TRUNK, "outcome=\"completed\"");
    assertThat(trunkDuringOutage).as("no session completed on a dead trunk").isEqualTo(trunkBefore);

    sp = startSp();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    double trunk = trunkBefore;
    while (trunk == trunkBefore && System.nanoTime() < deadline) {
      intactExchange(t, server, SEND, seed++);
      Thread.sleep(500);
      trunk = metric(scrape(t, Topology.CPROXY), "wanrelay_sessions_total", TRUNK, "outcome=\"completed\"");
    }
    assertThat(trunk).as("a session after the SP came back was carried on the trunk").isGreaterThan(trunkBefore);
    m = scrape(t, Topology.CPROXY);
    assertThat(metric(m, "wanrelay_sessions_total", "outcome=\"completed\"")).as("every completed session reached the server")
        .isEqualTo(srv.seen().size());
    assertThat(srv.seen()).allMatch(s -> s.peer().getAddress().getHostAddress().equals(client) && s.bytes() == SEND);
  }
}
