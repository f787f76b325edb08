package net.wanrelay.core.transparent;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import net.wanrelay.core.trunk.TrunkUdpLegFactory;
import net.wanrelay.core.udp.UdpLeg;
import net.wanrelay.discovery.ProbeOutcome;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Intercepted UDP flows on the CP (DESIGN.md section 5 point 7): the first datagram of a flow
 * picks its route with the in-path rules and the PMT, exactly like a TCP connection:
 *
 * <ul>
 *   <li>peer (learned or fixed target): DATAGRAM frames on the trunk to that SP;
 *   <li>no-peer, hold-down or a pass-through rule: straight to the server from the client's
 *       address and port;
 *   <li>unknown: a TCP probe to the server's address and the flow's port (one probe per
 *       destination, shared by the flows that start meanwhile), then one of the above;
 *   <li>deny: every datagram of the flow is dropped and counted.
 * </ul>
 *
 * <p>While the route is not known yet (probe running, trunk to a just-learned SP coming up) the
 * flow's datagrams are held in a small bounded queue rather than passed through: a flow then
 * keeps one path from its first datagram (the server never sees it arrive from two places and
 * replies never come back on the wrong one), at the cost of the probe's round trip on the first
 * datagram of the first flow to a server the PMT does not know yet.
 *
 * <p>Replies always reach the client from the server's address: each flow has a client socket
 * bound (transparently) to the original destination and connected to the client; the kernel
 * then also delivers the client's later datagrams of the flow to that socket.
 *
 * <p>Confined to one event loop (the UDP intercept listener's): no locks.
 */
final class InterceptFlows {
  private static final Logger log = LoggerFactory.getLogger(InterceptFlows.class);
  /** Datagrams held per flow while its route is being decided. */
  static final int MAX_HELD_DATAGRAMS = 64;
  static final int MAX_HELD_BYTES = 256 * 1024;
  static final long TRUNK_POLL_MILLIS = 10;

  /** The flow's socket towards the client: sends from the server's address. */
  interface ClientSocket {
    /** Sends one datagram to the client; takes ownership. False when it could not be sent. */
    boolean send(ByteBuf payload);

    void close();
  }

  /** What a client socket reports to its flow. */
  interface ClientSide {
    /** A later datagram of the flow from the client (owned by the callee). */
    void fromClient(ByteBuf payload);

    /** The socket failed (bind failed, ICMP from the client): the flow ends. */
    void clientFailed(String reason);
  }

  /** Makes a flow's client socket (IP_TRANSPARENT, bound to the server, connected to the client). */
  @FunctionalInterface
  interface ClientSockets {
    ClientSocket open(EventLoop loop, FlowTable.Key key, ClientSide side) throws Exception;
  }

  /** Pass-through legs: straight to the server, from the client's address and port. */
  @FunctionalInterface
  interface PassThroughLegs {
    UdpLeg open(EventLoop loop, FlowTable.Key key, UdpLeg.Replies replies);
  }

  /** A trunk to a peer, as far as a UDP flow needs one. */
  interface Trunk {
    String name();

    boolean isUp();

    /** A flow of DATAGRAM frames on this trunk; may throw when the trunk takes no flow. */
    UdpLeg open(EventLoop loop, FlowTable.Key key, UdpLeg.Replies replies);
  }

  /** Trunks: configured peers by name, learned SPs by address (empty: cannot be used). */
  interface Trunks {
    Optional<Trunk> named(String name);

    Optional<Trunk> discovered(InetSocketAddress sp);
  }

  /** The relay's trunk links as {@link Trunks}. */
  static Trunks trunks(InterceptSessions.Links links) {
    return new Trunks() {
      @Override
      public Optional<Trunk> named(String name) {
        return links.named(name).map(InterceptFlows::trunk);
      }

      @Override
      public Optional<Trunk> discovered(InetSocketAddress sp) {
        return links.discovered(sp).map(InterceptFlows::trunk);
      }
    };
  }

  private static Trunk trunk(PeerLink link) {
    return new Trunk() {
      @Override
      public String name() {
        return link.name();
      }

      @Override
      public boolean isUp() {
        return link.isUp();
      }

      @Override
      public UdpLeg open(EventLoop loop, FlowTable.Key key, UdpLeg.Replies replies) {
        return new TrunkUdpLegFactory(link).open(loop, key.client(), key.server(), replies);
      }
    };
  }

  private final EventLoop loop;
  private final InPathRouter router;
  private final InterceptSessions.Discoverer discoverer;
  private final Trunks trunks;
  private final ClientSockets clientSockets;
  private final PassThroughLegs passThroughLegs;
  private final RelayMetrics metrics;
  private final FlowTable<Flow> table;
  private final long idleNanos;
  private final long trunkWaitNanos;
  private final LongSupplier clock;
  private final Predicate<InetSocketAddress> isOwnListener;
  /** Flows waiting for the probe of their destination, by destination. */
  private final Map<InetSocketAddress, List<Flow>> probing = new HashMap<>();
  private final Map<Route, Counter> routed = new HashMap<>();
  private final Map<Route, Counter[]> bytes = new HashMap<>();
  private boolean closed;

  /**
   * @param loop the event loop every call comes on (the UDP intercept listener's)
   * @param trunkWait how long a flow waits for the trunk to a learned SP before it passes through
   * @param isOwnListener true for a destination that is the relay's own UDP intercept listener
   *     (sent straight to it, not TPROXY'd): dropped, or it would loop
   */
  InterceptFlows(EventLoop loop, InPathRouter router, InterceptSessions.Discoverer discoverer,
      Trunks trunks, ClientSockets clientSockets, PassThroughLegs passThroughLegs, RelayMetrics metrics, int maxFlows,
      Duration idleTimeout, Duration trunkWait, LongSupplier clock, Predicate<InetSocketAddress> isOwnListener) {
    this.loop = loop;
    this.router = router;
    this.discoverer = discoverer;
    this.trunks = trunks;
    this.clientSockets = clientSockets;
    this.passThroughLegs = passThroughLegs;
    this.metrics = metrics;
    this.table = new FlowTable<>(maxFlows);
    this.idleNanos = idleTimeout.toNanos();
    this.trunkWaitNanos = trunkWait.toNanos();
    this.clock = clock;
    this.isOwnListener = isOwnListener;
    for (Route r : new Route[] {Route.TRUNK, Route.PASSTHROUGH, Route.DENY}) {
      routed.put(r, Counter.builder("wanrelay.udp.intercept.flows")
          .description("Intercepted UDP flows by the route chosen for them (transparent mode)")
          .tag("route", r.name().toLowerCase(Locale.ROOT)).register(metrics.registry()));
      bytes.put(r, new Counter[] {metrics.sessionBytes(Protocol.UDP, r, true), metrics.sessionBytes(Protocol.UDP, r, false)});
    }
  }

  /** A datagram that reached the intercept listener: the first of a new flow, or one of a known flow. */
  void datagram(FlowTable.Key key, ByteBuf payload) {
    Flow f = table.get(key);
    if (f == null) {
      f = open(key);
      if (f == null) {
        payload.release();
        return;
      }
    }
    f.fromClient(payload);
  }

  private Flow open(FlowTable.Key key) {
    if (closed) {
      drop("shutdown");
      return null;
    }
    if (isOwnListener.test(key.server())) {
      drop("to_listener");
      return null;
    }
    if (table.isFull()) {
      drop("max_flows");
      metrics.refused(Protocol.UDP, "max_flows");
      return null;
    }
    Flow f = new Flow(key);
    table.add(key, f);
    metrics.udpFlowOpened();
    try {
      f.client = clientSockets.open(loop, key, f);
    } catch (Exception e) {
      log.debug("{}: no client socket: {}", key, e.toString());
      drop("client_socket");
      f.end(Outcome.ERROR, "client_socket");
      return null;
    }
    if (f.ended) {
      return null; // the socket failed at once
    }
    InPathRouter.Decision d = router.decide(key.server(), key.client());
    log.debug("udp {}: {}", key, d);
    if (d instanceof InPathRouter.Decision.Deny) {
      deny(f);
    } else if (d instanceof InPathRouter.Decision.NamedPeer n) {
      Optional<Trunk> link = trunks.named(n.peer());
      if (link.isPresent()) {
        trunk(f, link.get());
      } else {
        deny(f); // config validation makes this unreachable; fail closed
      }
    } else if (d instanceof InPathRouter.Decision.DiscoveredPeer sp) {
      discoveredPeer(f, sp.sp());
    } else if (d instanceof InPathRouter.Decision.Probe) {
      probe(f);
    } else {
      passThrough(f);
    }
    return f;
  }

  private void deny(Flow f) {
    metrics.refused(Protocol.UDP, "denied");
    f.routed(Route.DENY, null);
  }

  private void passThrough(Flow f) {
    if (f.ended) {
      return;
    }
    f.routed(Route.PASSTHROUGH, passThroughLegs.open(loop, f.key, f));
  }

  private void trunk(Flow f, Trunk link) {
    if (f.ended) {
      return;
    }
    UdpLeg leg;
    try {
      leg = link.open(loop, f.key, f);
    } catch (RuntimeException e) {
      log.info("udp {}: trunk {} refused the flow ({}): passes through", f.key, link.name(), e.toString());
      passThrough(f);
      return;
    }
    f.routed(Route.TRUNK, leg);
  }

  /** Over the learned SP's trunk; waits (bounded, datagrams held) for it to come up, else passes through. */
  private void discoveredPeer(Flow f, InetSocketAddress sp) {
    Optional<Trunk> link = trunks.discovered(sp);
    if (link.isEmpty()) {
      passThrough(f); // no trunk key configured: the SP cannot be used
    } else {
      awaitTrunk(f, link.get(), clock.getAsLong() + trunkWaitNanos);
    }
  }

  private void awaitTrunk(Flow f, Trunk link, long deadline) {
    if (f.ended) {
      return;
    }
    if (link.isUp()) {
      trunk(f, link);
    } else if (clock.getAsLong() - deadline >= 0) {
      log.info("trunk to {} not up within {} ms: udp {} passes through", link.name(),
          TimeUnit.NANOSECONDS.toMillis(trunkWaitNanos), f.key);
      passThrough(f);
    } else {
      loop.schedule(() -> awaitTrunk(f, link, deadline), TRUNK_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** One probe per destination; flows starting meanwhile wait for the same answer. */
  private void probe(Flow f) {
    InetSocketAddress server = f.key.server();
    List<Flow> waiting = probing.get(server);
    if (waiting != null) {
      waiting.add(f);
      return;
    }
    waiting = new ArrayList<>();
    waiting.add(f);
    probing.put(server, waiting);
    InetSocketAddress from = new InetSocketAddress(f.key.client().getAddress(), 0);
    CompletionStage<ProbeOutcome> outcome;
    try {
      outcome = discoverer.probeAndLearn(from, server, router.pmt());
    } catch (RuntimeException e) {
      onProbe(server, new ProbeOutcome.Failed(e));
      return;
    }
    outcome.whenComplete((o, err) -> {
      ProbeOutcome result = o != null ? o : new ProbeOutcome.Failed(err);
      try {
        loop.execute(() -> onProbe(server, result));
      } catch (RejectedExecutionException e) {
        closeLeg(result); // shutting down
      }
    });
  }

  private void onProbe(InetSocketAddress server, ProbeOutcome o) {
    List<Flow> waiting = probing.remove(server);
    closeLeg(o); // a TCP leg is of no use to a UDP flow
    RouteAfterProbe next = afterProbe(o);
    if (next == RouteAfterProbe.PASS_THROUGH_LEARN_NO_PEER) {
      // No SP answered: a UDP server need not listen on TCP (refused) nor answer at all (timeout).
      // Either way the SYN crossed the path without an SP taking it, so the destination is NO_PEER.
      PeerMappingTable pmt = router.pmt();
      pmt.recordNoPeer(pmt.keyFor(server.getAddress(), server.getPort()));
    }
    if (waiting == null) {
      return;
    }
    for (Flow f : waiting) {
      if (next == RouteAfterProbe.TRUNK) {
        discoveredPeer(f, router.pick(((ProbeOutcome.Peer) o).peers(), f.key.client(), f.key.server()));
      } else {
        passThrough(f);
      }
    }
  }

  /** What a probe's outcome means for a UDP flow. */
  enum RouteAfterProbe {
    TRUNK,
    /** The PMT learned it already (NO_PEER or HOLD_DOWN), or it cannot be learned (local failure). */
    PASS_THROUGH,
    /** Pass through and record NO_PEER (the prober learns nothing from these for TCP). */
    PASS_THROUGH_LEARN_NO_PEER
  }

  static RouteAfterProbe afterProbe(ProbeOutcome o) {
    if (o instanceof ProbeOutcome.Peer) {
      return RouteAfterProbe.TRUNK;
    }
    if (o instanceof ProbeOutcome.Timeout) {
      return RouteAfterProbe.PASS_THROUGH_LEARN_NO_PEER;
    }
    if (o instanceof ProbeOutcome.Failed failed && "refused".equals(InterceptSessions.reason(failed.cause()))) {
      return RouteAfterProbe.PASS_THROUGH_LEARN_NO_PEER;
    }
    return RouteAfterProbe.PASS_THROUGH;
  }

  private static void closeLeg(ProbeOutcome o) {
    if (o instanceof ProbeOutcome.NoPeer n) {
      n.channel().close();
    } else if (o instanceof ProbeOutcome.Stripped s) {
      s.channel().close();
    }
  }

  /** Ends the flows idle for the idle timeout; call periodically on the loop. */
  void expireIdle() {
    for (Flow f : table.expire(clock.getAsLong(), idleNanos)) {
      f.end(Outcome.IDLE_TIMEOUT, "expired");
    }
  }

  /** Ends every flow; later datagrams are dropped. */
  void close() {
    closed = true;
    for (Flow f : table.clear()) {
      f.end(Outcome.COMPLETED, "shutdown");
    }
  }

  int flowCount() {
    return table.size();
  }

  private void drop(String reason) {
    metrics.udpDropped(reason).increment();
  }

  /** One intercepted flow. */
  private final class Flow implements FlowTable.Entry, UdpLeg.Replies, ClientSide {
    final FlowTable.Key key;
    ClientSocket client;
    UdpLeg leg;
    /** Null while the route is being decided. */
    Route route;
    final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    int heldBytes;
    long lastActivity = clock.getAsLong();
    boolean ended;

    Flow(FlowTable.Key key) {
      this.key = key;
    }

    @Override
    public long lastActivityNanos() {
      return lastActivity;
    }

    void routed(Route r, UdpLeg newLeg) {
      if (ended) {
        if (newLeg != null) {
          newLeg.close();
        }
        return;
      }
      route = r;
      leg = newLeg;
      metrics.sessionOpened(Protocol.UDP, r);
      routed.get(r).increment();
      ByteBuf b;
      while (!ended && (b = held.poll()) != null) {
        heldBytes -= b.readableBytes();
        forward(b);
      }
      releaseHeld(); // if the leg failed while the held datagrams were being sent
    }

    @Override
    public void fromClient(ByteBuf payload) {
      if (ended) {
        payload.release();
        drop("flow_ended");
        return;
      }
      lastActivity = clock.getAsLong();
      if (route == null) {
        hold(payload);
      } else {
        forward(payload);
      }
    }

    private void hold(ByteBuf payload) {
      if (held.size() >= MAX_HELD_DATAGRAMS || heldBytes + payload.readableBytes() > MAX_HELD_BYTES) {
        payload.release();
        drop("held_full");
        return;
      }
      heldBytes += payload.readableBytes();
      held.add(payload);
    }

    private void forward(ByteBuf payload) {
      if (route == Route.DENY) {
        payload.release();
        drop("denied");
        return;
      }
      int n = payload.readableBytes();
      if (leg.send(payload)) {
        bytes.get(route)[0].increment(n);
      } else {
        drop("backpressure");
      }
    }

    @Override
    public void clientFailed(String reason) {
      end(Outcome.ERROR, reason);
    }

    @Override
    public void reply(ByteBuf payload) {
      if (ended) {
        payload.release();
        return;
      }
      lastActivity = clock.getAsLong();
      int n = payload.readableBytes();
      if (client.send(payload)) {
        bytes.get(route)[1].increment(n);
      } else {
        drop("backpressure");
      }
    }

    @Override
    public void closed(String reason) {
      end(Outcome.ERROR, reason);
    }

    void end(Outcome outcome, String flowOutcome) {
      if (ended) {
        return;
      }
      ended = true;
      table.remove(key, this);
      releaseHeld();
      if (leg != null) {
        leg.close();
      }
      if (client != null) {
        client.close();
      }
      if (route != null) {
        metrics.sessionClosed(Protocol.UDP, route, route == Route.DENY ? Outcome.REFUSED : outcome);
      }
      metrics.udpFlowClosed(flowOutcome);
      log.debug("udp {} ended: {} ({})", key, flowOutcome, route);
    }

    private void releaseHeld() {
      ByteBuf b;
      while ((b = held.poll()) != null) {
        b.release();
      }
      heldBytes = 0;
    }
  }
}
