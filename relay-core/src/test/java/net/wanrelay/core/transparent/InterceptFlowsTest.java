package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.udp.UdpLeg;
import net.wanrelay.discovery.ProbeOutcome;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.pmt.PmtState;
import net.wanrelay.discovery.rules.Cidr;
import net.wanrelay.discovery.rules.InPathRule;
import net.wanrelay.discovery.rules.InPathRules;
import net.wanrelay.discovery.rules.PortSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing of intercepted UDP flows without sockets: the client sockets, pass-through legs,
 * trunks and the prober are fakes that record what crossed them; every step runs on an
 * EmbeddedChannel's event loop with a fake clock. Payloads are compared byte for byte.
 */
class InterceptFlowsTest {
  private static final InetSocketAddress SERVER = new InetSocketAddress("10.9.3.2", 5300);
  private static final InetSocketAddress SP = new InetSocketAddress("10.9.2.2", 7800);
  private static final Duration IDLE = Duration.ofSeconds(30);
  private static final Duration TRUNK_WAIT = Duration.ofSeconds(3);

  private final EmbeddedChannel ch = new EmbeddedChannel();
  private final EventLoop loop = ch.eventLoop();
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final RelayMetrics metrics = new RelayMetrics();
  private final PeerMappingTable pmt = new PeerMappingTable(clock::get, PeerMappingTable.Ttls.DEFAULT, false,
      metrics.registry());
  private final List<InetSocketAddress> probed = new ArrayList<>();
  private CompletableFuture<ProbeOutcome> probeAnswer = new CompletableFuture<>();
  private final Map<FlowTable.Key, FakeSocket> clients = new HashMap<>();
  private final List<FakeLeg> passLegs = new ArrayList<>();
  private final FakeTrunk trunk = new FakeTrunk("sp-10.9.2.2:7800");
  private final FakeTrunk named = new FakeTrunk("east");
  private InterceptFlows flows;
  private boolean failClientSocket;

  @AfterEach
  void tearDown() {
    if (flows != null) {
      flows.close();
    }
    ch.finishAndReleaseAll();
  }

  // ---- the fakes ----

  /** Records what was sent to the client; lets the test inject later client datagrams. */
  private static final class FakeSocket implements InterceptFlows.ClientSocket {
    final InterceptFlows.ClientSide side;
    final List<String> sent = new ArrayList<>();
    boolean closed;

    FakeSocket(InterceptFlows.ClientSide side) {
      this.side = side;
    }

    @Override
    public boolean send(ByteBuf payload) {
      sent.add(payload.toString(StandardCharsets.UTF_8));
      payload.release();
      return true;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** A server-side leg that records what it carried; replies go back through {@code replies}. */
  private static final class FakeLeg implements UdpLeg {
    final FlowTable.Key key;
    final UdpLeg.Replies replies;
    final List<String> sent = new ArrayList<>();
    boolean closed;

    FakeLeg(FlowTable.Key key, UdpLeg.Replies replies) {
      this.key = key;
      this.replies = replies;
    }

    @Override
    public boolean send(ByteBuf payload) {
      sent.add(payload.toString(StandardCharsets.UTF_8));
      payload.release();
      return true;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static final class FakeTrunk implements InterceptFlows.Trunk {
    final String name;
    boolean up = true;
    final List<FakeLeg> legs = new ArrayList<>();

    FakeTrunk(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public boolean isUp() {
      return up;
    }

    @Override
    public UdpLeg open(EventLoop loop, FlowTable.Key key, UdpLeg.Replies replies) {
      FakeLeg l = new FakeLeg(key, replies);
      legs.add(l);
      return l;
    }
  }

  private void start(List<InPathRule> rules, int maxFlows) {
    InPathRouter router = new InPathRouter(new InPathRules(rules), pmt, n -> true, sp -> trunk.up);
    InterceptFlows.Trunks trunks = new InterceptFlows.Trunks() {
      @Override
      public Optional<InterceptFlows.Trunk> named(String name) {
        return name.equals("east") ? Optional.of(named) : Optional.empty();
      }

      @Override
      public Optional<InterceptFlows.Trunk> discovered(InetSocketAddress sp) {
        return sp.equals(SP) ? Optional.of(trunk) : Optional.empty();
      }
    };
    InterceptSessions.Discoverer discoverer = (client, server, table) -> {
      assertThat(client.getPort()).as("probe from an ephemeral port").isZero();
      probed.add(server);
      return probeAnswer.thenApply(o -> learn(table, server, o));
    };
    flows = new InterceptFlows(loop, router, discoverer, trunks, (l, key, side) -> {
      if (failClientSocket) {
        throw new java.net.BindException("Address already in use");
      }
      FakeSocket s = new FakeSocket(side);
      clients.put(key, s);
      return s;
    }, (l, key, replies) -> {
      FakeLeg leg = new FakeLeg(key, replies);
      passLegs.add(leg);
      return leg;
    }, metrics, maxFlows, IDLE, TRUNK_WAIT, clock::get, dst -> dst.getPort() == 7777);
  }

  /** What the real Prober.probeAndLearn records. */
  private static ProbeOutcome learn(PeerMappingTable pmt, InetSocketAddress server, ProbeOutcome o) {
    var key = pmt.keyFor(server.getAddress(), server.getPort());
    if (o instanceof ProbeOutcome.Peer p) {
      pmt.recordPeer(key, p.peers());
    } else if (o instanceof ProbeOutcome.NoPeer) {
      pmt.recordNoPeer(key);
    } else if (o instanceof ProbeOutcome.Stripped) {
      pmt.recordStripped(key);
    } else if (o instanceof ProbeOutcome.Timeout) {
      pmt.recordTimeout(key);
    }
    return o;
  }

  private static FlowTable.Key key(int clientPort) {
    return new FlowTable.Key(new InetSocketAddress("10.9.0.1", clientPort), SERVER);
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  private void send(FlowTable.Key key, String s) {
    flows.datagram(key, text(s));
    ch.runPendingTasks();
  }

  private double count(String name, String tag, String value) {
    Counter c = metrics.registry().find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }

  private double sessions(String route, String outcome) {
    Counter c = metrics.registry().find("wanrelay.sessions").tag("protocol", "udp").tag("route", route)
        .tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double active(String route) {
    Gauge g = metrics.registry().find("wanrelay.sessions.active").tag("protocol", "udp").tag("route", route).gauge();
    return g == null ? 0 : g.value();
  }

  private double probes(String result) {
    return count("wanrelay_discovery_probes_total", "result", result);
  }

  // ---- the tests ----

  @Test
  void unknownServerIsProbedOnceWhileTheFlowsWaitThenTheirDatagramsGoOnTheTrunkInOrder() {
    start(List.of(), 100);
    send(key(1000), "a1");
    send(key(1000), "a2");
    send(key(1001), "b1");
    assertThat(probed).as("one probe for two flows to the same destination").containsExactly(SERVER);
    assertThat(trunk.legs).isEmpty();
    assertThat(passLegs).as("held, not passed through while the probe runs").isEmpty();

    probeAnswer.complete(new ProbeOutcome.Peer(List.of(SP), null));
    ch.runPendingTasks();

    assertThat(pmt.lookup(SERVER.getAddress(), SERVER.getPort()).state()).isEqualTo(PmtState.PEER);
    assertThat(probes("peer")).isEqualTo(1);
    assertThat(trunk.legs).hasSize(2);
    FakeLeg a = trunk.legs.get(0);
    assertThat(a.key).isEqualTo(key(1000));
    assertThat(a.sent).containsExactly("a1", "a2");
    assertThat(trunk.legs.get(1).sent).containsExactly("b1");
    send(key(1000), "a3");
    assertThat(a.sent).containsExactly("a1", "a2", "a3");

    // a reply from the SP goes to the client through the flow's own socket (the server's address)
    a.replies.reply(text("reply-a"));
    assertThat(clients.get(key(1000)).sent).containsExactly("reply-a");
    assertThat(clients.get(key(1001)).sent).isEmpty();
    assertThat(count("wanrelay.udp.intercept.flows", "route", "trunk")).isEqualTo(2);
    assertThat(active("trunk")).isEqualTo(2);
    Counter c2s = metrics.sessionBytes(net.wanrelay.core.config.RelayConfig.Protocol.UDP,
        RelayMetrics.Route.TRUNK, true);
    assertThat(c2s.count()).isEqualTo(8); // a1 a2 b1 a3
  }

  @Test
  void aKnownPeerIsUsedAtOnceWithoutProbe() {
    pmt.recordPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()), List.of(SP));
    start(List.of(), 100);
    send(key(1000), "x");
    assertThat(probed).isEmpty();
    assertThat(trunk.legs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("x"));
  }

  @Test
  void refusedProbeMeansNoSpForUdpLearnsNoPeerAndPassesThrough() {
    start(List.of(), 100);
    send(key(1000), "first");
    probeAnswer.complete(new ProbeOutcome.Failed(new ConnectException("Connection refused")));
    ch.runPendingTasks();
    assertThat(passLegs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("first"));
    assertThat(pmt.lookup(SERVER.getAddress(), SERVER.getPort()).state()).isEqualTo(PmtState.NO_PEER);
    assertThat(probes("no_peer")).isEqualTo(1);
    assertThat(count("wanrelay.udp.intercept.flows", "route", "passthrough")).isEqualTo(1);

    passLegs.get(0).replies.reply(text("pong"));
    assertThat(clients.get(key(1000)).sent).containsExactly("pong");

    // the next flow to the same server: no probe, straight through
    send(key(1001), "second");
    assertThat(probed).hasSize(1);
    assertThat(passLegs).hasSize(2);
    assertThat(passLegs.get(1).sent).containsExactly("second");
  }

  @Test
  void probeOutcomesMapToRoutes() {
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.Peer(List.of(SP), null)))
        .isEqualTo(InterceptFlows.RouteAfterProbe.TRUNK);
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.NoPeer(new EmbeddedChannel())))
        .isEqualTo(InterceptFlows.RouteAfterProbe.PASS_THROUGH);
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.Stripped(new EmbeddedChannel())))
        .isEqualTo(InterceptFlows.RouteAfterProbe.PASS_THROUGH);
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.Timeout()))
        .isEqualTo(InterceptFlows.RouteAfterProbe.PASS_THROUGH_LEARN_NO_PEER);
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.Failed(new ConnectException("Connection refused"))))
        .isEqualTo(InterceptFlows.RouteAfterProbe.PASS_THROUGH_LEARN_NO_PEER);
    assertThat(InterceptFlows.afterProbe(new ProbeOutcome.Failed(new java.io.IOException("bind failed"))))
        .as("a local failure teaches nothing").isEqualTo(InterceptFlows.RouteAfterProbe.PASS_THROUGH);
  }

  @Test
  void aTcpLegFromTheProbeIsClosedAndTheFlowPassesThrough() {
    start(List.of(), 100);
    send(key(1000), "q");
    EmbeddedChannel probeLeg = new EmbeddedChannel();
    probeAnswer.complete(new ProbeOutcome.NoPeer(probeLeg));
    ch.runPendingTasks();
    probeLeg.runPendingTasks();
    assertThat(probeLeg.isOpen()).as("the TCP probe connection is of no use to UDP").isFalse();
    assertThat(passLegs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("q"));
    assertThat(pmt.lookup(SERVER.getAddress(), SERVER.getPort()).state()).isEqualTo(PmtState.NO_PEER);
  }

  @Test
  void aLocalProbeFailurePassesThroughAndLearnsNothing() {
    start(List.of(), 100);
    send(key(1000), "q");
    probeAnswer.complete(new ProbeOutcome.Failed(new java.io.IOException("SYN-ACK reader is not running")));
    ch.runPendingTasks();
    assertThat(passLegs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("q"));
    assertThat(pmt.lookup(SERVER.getAddress(), SERVER.getPort()).state()).isEqualTo(PmtState.UNKNOWN);
  }

  @Test
  void theHoldQueueIsBoundedAndOverflowIsCounted() {
    start(List.of(), 100);
    int n = InterceptFlows.MAX_HELD_DATAGRAMS + 6;
    for (int i = 0; i < n; i++) {
      send(key(1000), "d" + i);
    }
    assertThat(count("wanrelay.udp.dropped", "reason", "held_full")).isEqualTo(6);
    probeAnswer.complete(new ProbeOutcome.Timeout());
    ch.runPendingTasks();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < InterceptFlows.MAX_HELD_DATAGRAMS; i++) {
      expected.add("d" + i);
    }
    assertThat(passLegs.get(0).sent).as("the first ones, in order").isEqualTo(expected);
    assertThat(probes("timeout")).isEqualTo(1);
    assertThat(pmt.lookup(SERVER.getAddress(), SERVER.getPort()).state()).isEqualTo(PmtState.NO_PEER);
  }

  @Test
  void heldBytesAreBoundedToo() {
    start(List.of(), 100);
    byte[] big = new byte[InterceptFlows.MAX_HELD_BYTES / 2];
    for (int i = 0; i < 3; i++) {
      flows.datagram(key(1000), Unpooled.wrappedBuffer(big));
    }
    assertThat(count("wanrelay.udp.dropped", "reason", "held_full")).isEqualTo(1);
    flows.close(); // ends the pending flow: its held datagrams are released (LeakGuard checks)
    assertThat(count("wanrelay.udp.flows", "outcome", "shutdown")).isEqualTo(1);
  }

  @Test
  void aTrunkStillComingUpIsAwaitedThenUsed() {
    pmt.recordPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()), List.of(SP));
    trunk.up = false;
    start(List.of(), 100);
    ch.freezeTime();
    send(key(1000), "w1");
    send(key(1000), "w2");
    assertThat(trunk.legs).isEmpty();
    trunk.up = true;
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(20));
    ch.advanceTimeBy(20, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(trunk.legs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("w1", "w2"));
    assertThat(passLegs).isEmpty();
  }

  @Test
  void aTrunkThatDoesNotComeUpInTimeIsPassedBy() {
    pmt.recordPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()), List.of(SP));
    trunk.up = false;
    start(List.of(), 100);
    ch.freezeTime();
    send(key(1000), "w1");
    for (int i = 0; i < 10 && passLegs.isEmpty(); i++) {
      clock.addAndGet(TRUNK_WAIT.toNanos() / 4);
      ch.advanceTimeBy(TRUNK_WAIT.toMillis() / 4, TimeUnit.MILLISECONDS);
      ch.runScheduledPendingTasks();
    }
    assertThat(trunk.legs).isEmpty();
    assertThat(passLegs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("w1"));
  }

  @Test
  void inPathRulesComeFirst() {
    start(List.of(
        new InPathRule(Cidr.parse("10.9.3.0/24"), PortSet.parse("53"), InPathRule.Action.DENY, null, null),
        new InPathRule(Cidr.parse("10.9.3.0/24"), PortSet.parse("5301"), InPathRule.Action.FIXED_TARGET, "east", null),
        new InPathRule(Cidr.parse("10.9.3.0/24"), PortSet.parse("5302"), InPathRule.Action.PASS_THROUGH, null, null)),
        100);
    FlowTable.Key denied = new FlowTable.Key(new InetSocketAddress("10.9.0.1", 1), new InetSocketAddress("10.9.3.2", 53));
    send(denied, "no");
    send(denied, "no");
    assertThat(count("wanrelay.udp.dropped", "reason", "denied")).isEqualTo(2);
    assertThat(count("wanrelay.udp.intercept.flows", "route", "deny")).isEqualTo(1);
    assertThat(passLegs).isEmpty();

    send(new FlowTable.Key(new InetSocketAddress("10.9.0.1", 1), new InetSocketAddress("10.9.3.2", 5301)), "fixed");
    assertThat(named.legs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("fixed"));
    send(new FlowTable.Key(new InetSocketAddress("10.9.0.1", 1), new InetSocketAddress("10.9.3.2", 5302)), "pass");
    assertThat(passLegs).singleElement().satisfies(l -> assertThat(l.sent).containsExactly("pass"));
    assertThat(probed).isEmpty();

    clock.addAndGet(IDLE.toNanos());
    flows.expireIdle();
    assertThat(sessions("deny", "refused")).isEqualTo(1);
    assertThat(flows.flowCount()).isZero();
  }

  @Test
  void idleFlowsExpireAndCloseBothSockets() {
    pmt.recordNoPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()));
    start(List.of(), 100);
    send(key(1000), "1");
    clock.addAndGet(IDLE.toNanos() - 1);
    passLegs.get(0).replies.reply(text("r")); // activity either way keeps the flow
    clock.addAndGet(IDLE.toNanos() - 1);
    flows.expireIdle();
    assertThat(flows.flowCount()).isEqualTo(1);
    clock.addAndGet(2);
    flows.expireIdle();
    assertThat(flows.flowCount()).isZero();
    assertThat(passLegs.get(0).closed).isTrue();
    assertThat(clients.get(key(1000)).closed).isTrue();
    assertThat(sessions("passthrough", "idle_timeout")).isEqualTo(1);
    assertThat(count("wanrelay.udp.flows", "outcome", "expired")).isEqualTo(1);
    assertThat(active("passthrough")).isZero();

    send(key(1000), "2"); // the same 4-tuple again is a new flow
    assertThat(passLegs).hasSize(2);
    assertThat(passLegs.get(1).sent).containsExactly("2");
  }

  @Test
  void aLegThatEndsEndsTheFlowAndLaterDatagramsStartANewOne() {
    pmt.recordNoPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()));
    start(List.of(), 100);
    send(key(1000), "1");
    passLegs.get(0).replies.closed("error");
    assertThat(clients.get(key(1000)).closed).isTrue();
    assertThat(sessions("passthrough", "error")).isEqualTo(1);
    passLegs.get(0).replies.reply(text("late")); // a reply racing the end is released, not sent
    assertThat(clients.get(key(1000)).sent).isEmpty();
    send(key(1000), "2");
    assertThat(passLegs).hasSize(2);
  }

  @Test
  void capOwnListenerAndFailedClientSocketsDropWithAReason() {
    pmt.recordNoPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()));
    start(List.of(), 2);
    send(key(1), "a");
    send(key(2), "b");
    send(key(3), "c");
    assertThat(count("wanrelay.udp.dropped", "reason", "max_flows")).isEqualTo(1);
    assertThat(passLegs).hasSize(2);
    send(new FlowTable.Key(new InetSocketAddress("10.9.0.1", 4), new InetSocketAddress("10.9.1.1", 7777)), "loop");
    assertThat(count("wanrelay.udp.dropped", "reason", "to_listener")).isEqualTo(1);

    // the client went away (ICMP on its socket): the flow ends and frees its place
    clients.get(key(1)).side.clientFailed("client_unreachable");
    assertThat(flows.flowCount()).isEqualTo(1);
    assertThat(count("wanrelay.udp.flows", "outcome", "client_unreachable")).isEqualTo(1);
    assertThat(passLegs.get(0).closed).isTrue();

    // the client socket cannot be bound: the flow never starts
    failClientSocket = true;
    send(key(5), "e");
    assertThat(count("wanrelay.udp.dropped", "reason", "client_socket")).isEqualTo(1);
    assertThat(flows.flowCount()).isEqualTo(1);
    assertThat(passLegs).hasSize(2);
  }

  @Test
  void laterClientDatagramsArriveOnTheFlowSocket() {
    pmt.recordNoPeer(pmt.keyFor(SERVER.getAddress(), SERVER.getPort()));
    start(List.of(), 100);
    send(key(1000), "via-listener");
    clients.get(key(1000)).side.fromClient(text("via-flow-socket"));
    assertThat(passLegs.get(0).sent).containsExactly("via-listener", "via-flow-socket");
  }
}
