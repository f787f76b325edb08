package net.wanrelay.core;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Optional;
import net.wanrelay.channel.DedupSettings;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.PeerSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import net.wanrelay.core.config.PeerGroupConfig;
import net.wanrelay.core.peers.PeerGroup;
import net.wanrelay.core.peers.PeerMetrics;
import net.wanrelay.core.peers.RaceTcpLegFactory;
import net.wanrelay.core.peers.SpAdmission;
import net.wanrelay.channel.TrunkNode;
import net.wanrelay.core.admin.AdminServer;
import net.wanrelay.core.config.RelayConfig.PeerConfig;
import net.wanrelay.core.config.RelayConfig.TrunkConfig;
import net.wanrelay.core.transparent.PmtJson;
import net.wanrelay.core.transparent.TransparentContext;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.core.transparent.TransparentMode;
import net.wanrelay.core.trunk.TrunkTcpLegFactory;
import net.wanrelay.core.trunk.TrunkUdpLegFactory;
import net.wanrelay.core.upstream.UpstreamContext;
import net.wanrelay.core.upstream.Upstreams;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.config.RelayConfig.ListenerConfig;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.config.RelayConfig.Via;
import net.wanrelay.core.limits.AdmissionLimits;
import net.wanrelay.core.limits.MemoryBudget;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.DirectLegFactory;
import net.wanrelay.core.tcp.SessionLimiter;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpListener;
import net.wanrelay.core.udp.DirectUdpLegFactory;
import net.wanrelay.core.udp.UdpLegFactory;
import net.wanrelay.core.udp.UdpListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running relay: its listeners, admin endpoint and (when configured) trunk, built from a
 * validated {@link RelayConfig}. Start either fully or not at all: a failure during start closes
 * what was opened and rethrows.
 */
public final class Relay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Relay.class);

  private final RelayConfig config;
  private final Transport transport;
  private final RelayMetrics metrics = new RelayMetrics();
  private final SessionLimiter limiter;
  private final AdmissionLimits admissionLimits;
  private final List<TcpListener> tcpListeners = new ArrayList<>();
  private final List<UdpListener> udpListeners = new ArrayList<>();
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private AdminServer admin;
  private TrunkNode trunk;
  private TransparentMode transparent;
  private Upstreams upstreams;
  private volatile PeerMappingTable pmt;
  private PeerMetrics peerMetrics;
  private final Map<String, PeerGroup> peerGroups = new LinkedHashMap<>();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean draining;
  /** Set once every listener is bound: /healthz answers 200 only from then on (readiness). */
  private volatile boolean started;

  public Relay(RelayConfig config) {
    this(config, Transport.detect());
  }

  public Relay(RelayConfig config, Transport transport) {
    this.config = config;
    this.transport = transport;
    this.limiter = new SessionLimiter(config.limits().maxSessions());
    var l = config.limits();
    this.admissionLimits = new AdmissionLimits(l.acceptRate(), l.acceptBurst(),
        new MemoryBudget(l.memory(), metrics.registry()), l.silentTimeout());
  }

  public RelayMetrics metrics() {
    return metrics;
  }

  public Transport transport() {
    return transport;
  }

  public EventLoopGroup workers() {
    return workers;
  }

  public Relay start() throws Exception {
    boss = transport.newGroup(1);
    // One event loop per core by default (node.io-threads), as proxies usually run: more loops than
    // cores only add thread switches, and trunk connections are spread over these loops (PeerLink).
    workers = transport.newGroup(config.node().ioThreads());
    try {
      admin = new AdminServer(config.node().admin().resolve(), metrics::scrape, () -> started && !draining);
      admin.start(transport, boss);
      upstreams = Upstreams.start(new UpstreamContext(config, transport, workers, metrics, admin));
      peerMetrics = new PeerMetrics(metrics.registry());
      if (config.trunk().isPresent()) {
        trunk = startTrunk(config.trunk().get());
        for (PeerGroupConfig g : config.peerGroups().values()) {
          peerGroups.put(g.name(), new PeerGroup(g, g.peers().stream().map(trunk::link).toList()));
        }
      }
      for (ListenerConfig l : config.listeners()) {
        startListener(l);
      }
      pmt = peerMappingTable();
      admin.addJsonView("/api/pmt", () -> PmtJson.render(pmt, System.nanoTime()));
      if (config.intercept().isPresent()) {
        transparent = TransparentMode.start(new TransparentContext(
            config, transport, boss, workers, metrics, limiter, Optional.ofNullable(trunk), pmt));
      }
    } catch (Exception e) {
      close();
      throw e;
    }
    started = true;
    return this;
  }

  private TrunkNode startTrunk(TrunkConfig t) throws InterruptedException, javax.net.ssl.SSLException {
    TrunkNode.Builder b = TrunkNode.builder()
        .nodeId(config.node().id())
        .eventLoopGroup(workers)
        .meterRegistry(metrics.registry())
        .allow(t.allow())
        .congestionControl(t.congestionControl())
        .compression(t.compression());
    // Server legs opened for peers honour limits.connect-timeout like direct legs (it was a fixed
    // 10 s before: a black-holed target held the client that long whatever the config said).
    var settings = net.wanrelay.channel.TrunkSettings.defaults().toBuilder()
        .maxStreams(config.limits().maxStreamsPerLink())
        .linkBudget(config.limits().linkMemory())
        .connectTimeout(config.limits().connectTimeout())
        .heartbeatInterval(t.timers().heartbeatInterval())
        .heartbeatTimeout(t.timers().heartbeatTimeout())
        .resumeGrace(t.timers().resumeGrace());
    if (config.intercept().map(RelayConfig.InterceptConfig::transparentSource).orElse(false)) {
      // SP in transparent mode: server legs leave from the client's own address (IP_TRANSPARENT)
      settings.transparentSource(true);
    }
    b.settings(settings.build());
    t.listen().ifPresent(l -> b.listen(l.resolve()));
    t.dedup().filter(d -> d.enabled()).ifPresent(d -> b.dedup(DedupSettings.builder()
        .store(d.store().orElse(null)).diskBytes(d.maxSize()).memoryBytes(d.memory()).build()));
    t.key().ifPresent(b::serverKey);
    // SP: OPEN destinations through trunk.destinations / pools / the divert map; TCP streams
    // count against limits.max-sessions (raced OPENs at the limit get no answer).
    b.destinationResolver(upstreams.spDestinations(t.destinations()));
    b.wrapAcceptor(a -> new SpAdmission(a, limiter, metrics, peerMetrics));
    if (t.tls().isPresent()) {
      RelayConfig.TlsConfig tls = t.tls().get();
      b.tls(net.wanrelay.channel.TrunkTls.fromPem(tls.cert().toFile(), tls.key().toFile(), tls.ca().toFile()));
    }
    for (PeerConfig p : t.peers()) {
      b.peer(new PeerSpec(p.name(), p.address().host(), p.address().port(), p.key(), p.connections()));
    }
    config.discovery().advertise().ifPresent(a -> b.advertise(a.resolve()));
    TrunkNode node = b.build();
    // A peer that came back from a new address (ANNOUNCE): its links already follow it; the PMT
    // entries naming its old address move with it.
    node.onPeerMoved((id, from, to) -> {
      PeerMappingTable table = pmt;
      int n = from == null || table == null ? 0 : table.repoint(from, to);
      log.info("trunk: peer {} now at {} (was {}): {} PMT entries moved", id, to, from, n);
    });
    node.start();
    awaitPeers(node, Duration.ofSeconds(5));
    t.listen().ifPresent(l -> log.info("trunk: accepting peers on {}, allowed destinations {}", node.boundAddress(), t.allow()));
    for (PeerConfig p : t.peers()) {
      log.info("trunk: peer {} at {} ({} connections)", p.name(), p.address(), p.connections());
    }
    return node;
  }

  /**
   * The relay's one peer mapping table. In explicit mode it holds a static entry per listener
   * that goes over a peer (target -> that peer's trunk address); transparent mode learns into it.
   */
  private PeerMappingTable peerMappingTable() {
    var d = config.discovery();
    PeerMappingTable table = new PeerMappingTable(System::nanoTime,
        new PeerMappingTable.Ttls(d.peerTtl(), d.noPeerTtl(), d.holdDown()), false, metrics.registry());
    for (ListenerConfig l : config.listeners()) {
      if (l.via().kind() != Via.Kind.PEER || l.target() == null) {
        continue;
      }
      InetSocketAddress target = l.target().resolve();
      config.trunk().flatMap(t -> t.peers().stream().filter(p -> p.name().equals(l.via().peer())).findFirst())
          .ifPresent(p -> {
            InetSocketAddress peer = p.address().resolve();
            if (!target.isUnresolved() && !peer.isUnresolved()) {
              table.putStatic(table.keyFor(target.getAddress(), target.getPort()), List.of(peer));
            }
          });
    }
    return table;
  }

  /**
   * Gives configured peers a moment to come up before the listeners open, so the first sessions
   * find a trunk; a peer that is still down is logged and retried in the background.
   */
  private static void awaitPeers(TrunkNode node, Duration atMost) throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (System.nanoTime() < deadline && node.links().stream().anyMatch(l -> !l.isUp())) {
      Thread.sleep(20);
    }
    node.links().stream().filter(l -> !l.isUp()).forEach(l ->
        log.warn("trunk: peer {} is not up yet; its sessions are reset until it is", l.name()));
  }

  /** The peer groups of {@code peer-groups:}, by name (empty without a trunk). */
  public Map<String, PeerGroup> peerGroups() {
    return peerGroups;
  }

  public Optional<TrunkNode> trunk() {
    return Optional.ofNullable(trunk);
  }

  private void startListener(ListenerConfig l) throws InterruptedException {
    Route route = l.via().kind() == Via.Kind.DIRECT ? Route.DIRECT : Route.TRUNK;
    InetSocketAddress listen = l.listen().resolve();
    InetSocketAddress target = l.pool() == null ? l.target().resolve() : null;
    if (l.pool() != null) {
      route = Route.UPSTREAM;
    }
    if (l.protocol() == Protocol.TCP) {
      TcpLegFactory legs = upstreams.tracked(l.name(), l.targetText(), l.pool() != null ? upstreams.tcpLegs(l.pool()) : tcpLegs(l.via()));
      TcpListener listener = new TcpListener(l.name(), listen, target, route, legs, limiter, metrics, upstreams::divert)
          .admissionLimits(admissionLimits);
      listener.start(transport, boss, workers);
      tcpListeners.add(listener);
      log.info("listener {}: tcp {} -> {} via {}", l.name(), listener.localAddress(), l.targetText(), l.via());
    } else {
      UdpLegFactory legs = l.pool() != null ? upstreams.udpLegs(l.pool()) : udpLegs(l.via());
      UdpListener listener = new UdpListener(l.name(), listen, target, route, legs, metrics,
          config.limits().maxUdpFlows(), config.limits().udpIdleTimeout(), upstreams::divert);
      listener.start(transport, workers);
      udpListeners.add(listener);
      log.info("listener {}: udp {} -> {} via {}", l.name(), listener.localAddress(), l.targetText(), l.via());
    }
  }

  private TcpLegFactory tcpLegs(Via via) {
    if (via.kind() == Via.Kind.DIRECT) {
      return new DirectLegFactory(transport, metrics, config.limits().connectTimeout(), config.limits().idleTimeout());
    }
    if (via.kind() == Via.Kind.GROUP) {
      PeerGroup g = peerGroups.get(via.peer());
      if (g.config().policy() == PeerGroupConfig.Policy.RACE) {
        return new RaceTcpLegFactory(g, metrics, peerMetrics, config.limits().idleTimeout());
      }
      return new TrunkTcpLegFactory(session -> {
        PeerLink link = g.choose((InetSocketAddress) session.client().remoteAddress(), session.target());
        peerMetrics.chosen(g.name(), link.name());
        return link;
      }, metrics, peerMetrics, config.limits().idleTimeout());
    }
    return new TrunkTcpLegFactory(trunk.link(via.peer()), metrics, config.limits().idleTimeout());
  }

  private UdpLegFactory udpLegs(Via via) {
    if (via.kind() == Via.Kind.DIRECT) {
      return new DirectUdpLegFactory(transport);
    }
    if (via.kind() == Via.Kind.GROUP) {
      PeerGroup g = peerGroups.get(via.peer());
      return new TrunkUdpLegFactory((client, target) -> {
        PeerLink link = g.choose(client, target);
        peerMetrics.chosen(g.name(), link.name());
        return link;
      });
    }
    return new TrunkUdpLegFactory(trunk.link(via.peer()));
  }

  public List<TcpListener> tcpListeners() {
    return tcpListeners;
  }

  public List<UdpListener> udpListeners() {
    return udpListeners;
  }

  /** The admin HTTP server, for parts that add their own views or API calls. */
  public AdminServer admin() {
    return admin;
  }

  public Optional<Upstreams> upstreams() {
    return Optional.ofNullable(upstreams);
  }

  public InetSocketAddress adminAddress() {
    return admin.localAddress();
  }

  /**
   * Stops accepting, lets open sessions finish for up to {@code drainTimeout}, then closes the
   * rest. Returns the number of sessions that were still open when the drain time ran out.
   */
  public long shutdown(Duration drainTimeout) {
    draining = true;
    tcpListeners.forEach(TcpListener::stopAccepting);
    if (transparent != null) {
      transparent.close();
      transparent = null;
    }
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    while (metrics.activeSessions() - udpFlowCount() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long left = Math.max(0, metrics.activeSessions() - udpFlowCount());
    if (trunk != null) {
      // GOAWAY to peers: they stop opening streams here; what is still open is closed.
      trunk.shutdown(Duration.ofMillis(Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
      trunk = null;
    }
    close();
    return left;
  }

  private long udpFlowCount() {
    long n = 0;
    for (UdpListener l : udpListeners) {
      n += l.flowCount();
    }
    return n;
  }

  @Override
  public void close() {
    // Idempotent: a second close (e.g. the shutdown hook after an explicit close) does nothing.
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    draining = true;
    tcpListeners.forEach(TcpListener::stopAccepting);
    udpListeners.forEach(UdpListener::stop);
    if (transparent != null) {
      transparent.close();
    }
    if (upstreams != null) {
      upstreams.close();
    }
    if (trunk != null) {
      trunk.shutdown(Duration.ZERO);
    }
    if (admin != null) {
      admin.stop();
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (boss != null) {
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
