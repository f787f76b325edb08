package net.wanrelay.core.transparent;

import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.TrunkNode;
import net.wanrelay.core.config.HostPort;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.config.RelayConfig.DiscoveryConfig;
import net.wanrelay.core.config.RelayConfig.InterceptConfig;
import net.wanrelay.discovery.DiscoveryResponder;
import net.wanrelay.discovery.Prober;
import net.wanrelay.discovery.kernel.CommandRunner;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.kernel.KernelRuleSet;
import net.wanrelay.discovery.kernel.KernelRulesWriter;
import net.wanrelay.discovery.kernel.KernelSupport;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.rules.InPathRules;
import net.wanrelay.discovery.rules.PeeringRules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transparent interception and auto-discovery (DESIGN.md section 5), started by the relay when the
 * config has an {@code intercept:} section.
 *
 * <ul>
 *   <li>CP ({@code intercept.tcp-ports}): IP_TRANSPARENT listener on {@code tproxy-listen}, the
 *       {@link Prober} with its two NFQUEUE workers, the PMT, in-path rules; see
 *       {@link InterceptSessions} for the routes.
 *   <li>SP ({@code trunk.listen}): the {@link DiscoveryResponder} (discovery listener and SYN-ACK
 *       writer) answering with {@code discovery.advertise} (or the trunk listen address); server
 *       legs are opened by the trunk's default acceptor, from the client's address when
 *       {@code transparent-source} (the relay sets that on the trunk).
 *   <li>Kernel rules ({@code apply-rules}): applied once the queues are bound, removed on close
 *       and when start fails.
 * </ul>
 */
public final class TransparentMode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TransparentMode.class);
  /** How long a session waits for the trunk to a just-learned SP before it passes through. */
  static final Duration TRUNK_WAIT = Duration.ofSeconds(3);

  private final List<AutoCloseable> opened = new ArrayList<>();
  private PeerMappingTable pmt;
  private KernelRuleSet appliedRules;
  private InterceptListener listener;
  private TransparentUdpListener udpListener;
  private Prober prober;
  private boolean closed;

  private TransparentMode() {}

  /** Starts interception for {@code ctx.config().intercept()}; throws (naming what is missing) when it cannot. */
  public static TransparentMode start(TransparentContext ctx) throws Exception {
    RelayConfig config = ctx.config();
    InterceptConfig intercept = config.intercept().orElseThrow(() -> new IllegalStateException("no intercept: section"));
    Set<Role> roles = KernelRulesFromConfig.roles(config);
    requireKernelSupport(ctx);
    TransparentMode mode = new TransparentMode();
    try {
      mode.startRoles(ctx, intercept, roles);
    } catch (Exception | Error e) {
      mode.close();
      throw e;
    }
    return mode;
  }

  private static void requireKernelSupport(TransparentContext ctx) {
    KernelSupport.Report report = KernelSupport.check();
    List<String> missing = new ArrayList<>();
    report.features().forEach((name, f) -> {
      if (!f.available()) {
        missing.add(name + " (" + f.detail() + ")");
      }
    });
    if (!ctx.transport().isEpoll()) {
      missing.add("epoll transport for the relay's event loops (" + ctx.transport().whyNotEpoll() + ")");
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("transparent mode (intercept:) cannot start, missing: " + String.join("; ", missing)
          + ". Remove the intercept: section to run in explicit mode.");
    }
  }

  private void startRoles(TransparentContext ctx, InterceptConfig intercept, Set<Role> roles) throws Exception {
    RelayConfig config = ctx.config();
    DiscoveryConfig d = config.discovery();
    var registry = ctx.metrics().registry();
    pmt = ctx.pmt() != null ? ctx.pmt()
        : new PeerMappingTable(System::nanoTime, new PeerMappingTable.Ttls(d.peerTtl(), d.noPeerTtl(), d.holdDown()),
            false, registry);
    if (roles.contains(Role.SP)) {
      ProbeResponse answer = answer(config);
      DiscoveryResponder.Config rc = new DiscoveryResponder.Config(
          new InetSocketAddress("0.0.0.0", KernelRulesFromConfig.DISCOVERY_PORT), KernelRulesFromConfig.LISTENER_MARK,
          KernelRulesFromConfig.format(d), answer, new PeeringRules(intercept.peeringRules()));
      DiscoveryResponder responder = new DiscoveryResponder(ctx.workers(), rc, registry,
          seen -> log.debug("probe from {} for {}", seen.client(), seen.server()));
      opened.add(responder);
      if (d.probeOnward()) {
        Duration onwardTimeout = onwardTimeout(d);
        responder.probeOnward(prober(ctx, intercept), onwardTimeout);
        log.info("transparent SP: probing onward for each probe received (enhanced discovery, up to {} ms)",
            onwardTimeout.toMillis());
      }
      responder.startListener().startQueue(KernelRulesFromConfig.RESPONSE_QUEUE);
      for (var r : KernelRulesFromConfig.narrowedPassThroughRules(intercept.peeringRules())) {
        log.warn("peering rule {}: the kernel excludes its source {} for every destination", r, r.source());
      }
      log.info("transparent SP: answering probes with trunk {}:{} ({})", answer.addresses(), answer.port(),
          intercept.transparentSource() ? "server legs from the client's address" : "server legs from the relay's address");
    }
    if (roles.contains(Role.CP)) {
      Prober prober = prober(ctx, intercept);
      DiscoveredTrunks trunks = new DiscoveredTrunks(config.node().id(), config.trunk(), ctx.trunk(), ctx.workers(),
          registry, pmt);
      opened.add(trunks);
      Optional<TrunkNode> node = ctx.trunk();
      InPathRouter router = new InPathRouter(new InPathRules(intercept.inPathRules()), pmt,
          name -> node.map(n -> n.link(name).isUp()).orElse(false), trunks::isUp,
          new net.wanrelay.discovery.PeerSelector(config.discovery().spSelection()));
      InterceptSessions.Links links = new InterceptSessions.Links() {
        @Override
        public Optional<PeerLink> named(String name) {
          return node.map(n -> n.link(name));
        }

        @Override
        public Optional<PeerLink> discovered(InetSocketAddress sp) {
          return trunks.link(sp);
        }
      };
      int tproxyPort = intercept.tproxyListen().port();
      InterceptSessions sessions = new InterceptSessions(router, prober::probeAndLearn, links, ctx.transport(),
          ctx.metrics(), ctx.limiter(), intercept.transparentSource(), config.limits().connectTimeout(),
          config.limits().idleTimeout(), TRUNK_WAIT, dst -> dst.getPort() == tproxyPort && isLocal(dst.getAddress()));
      listener = new InterceptListener(intercept.tproxyListen().resolve(), true, sessions::accept);
      opened.add(listener);
      listener.start(ctx.transport(), ctx.boss(), ctx.workers());
      log.info("transparent CP: intercepting tcp ports {} on {} ({} in-path rules, transparent source {})",
          intercept.tcpPorts(), listener.localAddress(), intercept.inPathRules().size(), intercept.transparentSource());
      if (!intercept.udpPorts().isEmpty()) {
        startUdp(ctx, intercept, router, prober, links);
      }
    }
    if (intercept.applyRules()) {
      KernelRuleSet rules = KernelRulesWriter.build(KernelRulesFromConfig.params(config));
      appliedRules = rules; // set first: a half-applied set is removed on failure too
      KernelRulesWriter.apply(rules, CommandRunner.local());
      log.info("kernel rules applied for roles {} (removed on exit)", roles);
    }
  }

  private void startUdp(TransparentContext ctx, InterceptConfig intercept, InPathRouter router, Prober prober,
      InterceptSessions.Links links) throws InterruptedException {
    RelayConfig config = ctx.config();
    EventLoop loop = ctx.workers().next();
    int port = intercept.tproxyListen().port();
    TransparentUdpListener.KernelSockets sockets =
        new TransparentUdpListener.KernelSockets(ctx.transport(), intercept.transparentSource());
    InterceptFlows flows = new InterceptFlows(loop, router, prober::probeAndLearn, InterceptFlows.trunks(links),
        sockets, sockets,
        ctx.metrics(), config.limits().maxUdpFlows(), config.limits().udpIdleTimeout(), TRUNK_WAIT, System::nanoTime,
        dst -> dst.getPort() == port && isLocal(dst.getAddress()));
    udpListener = new TransparentUdpListener(intercept.tproxyListen().resolve(), flows, ctx.metrics(),
        config.limits().udpIdleTimeout());
    opened.add(udpListener);
    udpListener.start(ctx.transport(), loop);
    log.info("transparent CP: intercepting udp ports {} on {} (flows idle after {} s)", intercept.udpPorts(),
        udpListener.localAddress(), config.limits().udpIdleTimeout().toSeconds());
  }

  /** The relay's one prober (its queues bound once), shared by the CP role and onward probes. */
  private Prober prober(TransparentContext ctx, InterceptConfig intercept) throws IOException {
    if (prober == null) {
      DiscoveryConfig d = ctx.config().discovery();
      Prober p = new Prober(ctx.workers(), new Prober.Config(KernelRulesFromConfig.format(d),
          KernelRulesFromConfig.PROBE_MARK, d.probeTimeout(), d.probeTimeout(), intercept.transparentSource()),
          ctx.metrics().registry());
      opened.add(p);
      p.startQueues(KernelRulesFromConfig.PROBE_QUEUE, KernelRulesFromConfig.SYN_ACK_QUEUE);
      prober = p;
    }
    return prober;
  }

  /**
   * An onward probe must end well before the probing CP gives up (its probe timeout, same config
   * key): half of it, at least 200 ms.
   */
  static Duration onwardTimeout(DiscoveryConfig d) {
    return Duration.ofMillis(Math.max(200, d.probeTimeout().toMillis() / 2));
  }

  /** The SP's probe response: discovery.advertise, else the trunk listen address (must be unicast IPv4). */
  static ProbeResponse answer(RelayConfig config) {
    HostPort hp = config.discovery().advertise()
        .or(() -> config.trunk().flatMap(RelayConfig.TrunkConfig::listen))
        .orElseThrow(() -> new IllegalArgumentException("SP role needs trunk.listen"));
    InetAddress a = hp.resolve().getAddress();
    if (!(a instanceof Inet4Address) || a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isMulticastAddress()) {
      throw new IllegalArgumentException("discovery.advertise: the SP must advertise a unicast IPv4 trunk address"
          + " reachable by CPs, not " + hp + (config.discovery().advertise().isEmpty()
          ? " (trunk.listen; set discovery.advertise)" : ""));
    }
    return new ProbeResponse(1, 0, hp.port(), List.of((Inet4Address) a));
  }

  private static boolean isLocal(InetAddress a) {
    if (a.isAnyLocalAddress() || a.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(a) != null;
    } catch (SocketException e) {
      return false;
    }
  }

  /** The PMT as JSON text for the admin API ({@code GET /api/pmt}). */
  public String pmtJson() {
    return pmt == null ? "{\"entries\":[]}" : PmtJson.render(pmt, System.nanoTime());
  }

  /** The peer mapping table (CP); null before start. */
  public PeerMappingTable pmt() {
    return pmt;
  }

  /** The intercept listener's bound address (CP role), or null. */
  public InetSocketAddress interceptAddress() {
    return listener == null ? null : listener.localAddress();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (appliedRules != null) {
      try {
        KernelRulesWriter.remove(appliedRules, CommandRunner.local());
        log.info("kernel rules removed");
      } catch (IOException | RuntimeException e) {
        log.warn("removing the kernel rules failed (run 'wanrelay rules --remove -c FILE'): {}", e.toString());
      }
    }
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        log.warn("closing {} failed: {}", opened.get(i).getClass().getSimpleName(), e.toString());
      }
    }
    opened.clear();
  }
}
