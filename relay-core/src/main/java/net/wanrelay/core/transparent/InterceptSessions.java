package net.wanrelay.core.transparent;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.DirectLegFactory;
import net.wanrelay.core.tcp.SessionLimiter;
import net.wanrelay.core.tcp.Sockets;
import net.wanrelay.core.tcp.TcpSession;
import net.wanrelay.core.trunk.TrunkTcpLegFactory;
import net.wanrelay.discovery.ProbeOutcome;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the router's decision for each intercepted client connection (CP side). Every step
 * for one client runs on the client channel's event loop; a probe leg made on another loop is
 * moved onto it before bridging, so a {@link TcpSession} stays confined to one thread.
 *
 * <p>The client channel has AUTO_READ off and an {@code EarlyInbound} handler, so whatever the
 * client sends while the route is being decided (probe, waiting for a trunk) is held, then handed
 * to the leg in order: no byte is lost on any route.
 */
final class InterceptSessions {
  private static final Logger log = LoggerFactory.getLogger(InterceptSessions.class);
  private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
  private static final long TRUNK_POLL_MILLIS = 10;

  /** Probes a server on behalf of a client and records the result (the discovery Prober). */
  @FunctionalInterface
  interface Discoverer {
    CompletionStage<ProbeOutcome> probeAndLearn(InetSocketAddress client, InetSocketAddress server, PeerMappingTable pmt);
  }

  /** Trunk links: configured peers by name, learned SPs by address. */
  interface Links {
    Optional<PeerLink> named(String name);

    Optional<PeerLink> discovered(InetSocketAddress sp);
  }

  private final InPathRouter router;
  private final Discoverer discoverer;
  private final Links links;
  private final Transport transport;
  private final RelayMetrics metrics;
  private final SessionLimiter limiter;
  private final boolean transparentSource;
  private final Duration connectTimeout;
  private final Duration idleTimeout;
  private final Duration trunkWait;
  private final Function<InetSocketAddress, Boolean> isOwnListener;
  private final Function<Channel, InetSocketAddress> originalDestination;

  /**
   * @param trunkWait how long a session waits for the trunk to a learned SP to come up before it
   *     passes through instead (its data is held meanwhile)
   * @param isOwnListener true for a destination that is this relay's own intercept listener
   *     (a connection made straight to it, not TPROXY'd): refused, or it would loop
   */
  InterceptSessions(InPathRouter router, Discoverer discoverer, Links links, Transport transport, RelayMetrics metrics,
      SessionLimiter limiter, boolean transparentSource, Duration connectTimeout, Duration idleTimeout,
      Duration trunkWait, Function<InetSocketAddress, Boolean> isOwnListener) {
    this(router, discoverer, links, transport, metrics, limiter, transparentSource, connectTimeout, idleTimeout, trunkWait,
        isOwnListener, ch -> (InetSocketAddress) ch.localAddress());
  }

  /** @param originalDestination where a client meant to go (TPROXY: the accepted socket's local address) */
  InterceptSessions(InPathRouter router, Discoverer discoverer, Links links, Transport transport, RelayMetrics metrics,
      SessionLimiter limiter, boolean transparentSource, Duration connectTimeout, Duration idleTimeout,
      Duration trunkWait, Function<InetSocketAddress, Boolean> isOwnListener,
      Function<Channel, InetSocketAddress> originalDestination) {
    this.originalDestination = originalDestination;
    this.router = router;
    this.discoverer = discoverer;
    this.links = links;
    this.transport = transport;
    this.metrics = metrics;
    this.limiter = limiter;
    this.transparentSource = transparentSource;
    this.connectTimeout = connectTimeout;
    this.idleTimeout = idleTimeout;
    this.trunkWait = trunkWait;
    this.isOwnListener = isOwnListener;
  }

  /** One accepted connection whose route is not decided yet; owns its limiter slot until then. */
  private final class Pending {
    final Channel client;
    final InetSocketAddress source;
    final InetSocketAddress destination;
    boolean handedOff;

    Pending(Channel client) {
      this.client = client;
      this.source = (InetSocketAddress) client.remoteAddress();
      this.destination = originalDestination.apply(client);
      client.closeFuture().addListener(f -> {
        if (!handedOff) {
          handedOff = true; // the client left before any leg existed
          limiter.release();
        }
      });
    }

    /** Creates the session (which owns the slot from now on), or null when the client is gone. */
    TcpSession session(Route route) {
      if (handedOff || !client.isActive()) {
        return null;
      }
      handedOff = true;
      return new TcpSession(client, route, destination, metrics, limiter);
    }
  }

  /** Entry point: a new intercepted client connection, on its event loop, AUTO_READ off. */
  void accept(Channel client) {
    if (!limiter.tryAcquire()) {
      metrics.refused(Protocol.TCP, "max_sessions");
      Sockets.reset(client);
      return;
    }
    Pending p = new Pending(client);
    if (isOwnListener.apply(p.destination)) {
      deny(p, "connection straight to the intercept listener");
      return;
    }
    InPathRouter.Decision d = router.decide(p.destination, p.source);
    log.debug("{} -> {}: {}", p.source, p.destination, d);
    if (d instanceof InPathRouter.Decision.Deny) {
      deny(p, "in-path rule deny");
    } else if (d instanceof InPathRouter.Decision.NamedPeer n) {
      namedPeer(p, n.peer());
    } else if (d instanceof InPathRouter.Decision.DiscoveredPeer sp) {
      discoveredPeer(p, sp.sp());
    } else if (d instanceof InPathRouter.Decision.Probe) {
      probe(p);
    } else {
      passThrough(p);
    }
  }

  private void deny(Pending p, String why) {
    TcpSession s = p.session(Route.DENY);
    metrics.refused(Protocol.TCP, "denied");
    log.debug("{} -> {} refused: {}", p.source, p.destination, why);
    if (s != null) {
      s.end(Outcome.REFUSED);
    }
    Sockets.reset(p.client);
  }

  private void namedPeer(Pending p, String peer) {
    Optional<PeerLink> link = links.named(peer);
    if (link.isEmpty()) {
      // config validation makes this unreachable; fail closed rather than leak the slot
      deny(p, "no trunk peer " + peer);
      return;
    }
    trunk(p, link.get());
  }

  private void trunk(Pending p, PeerLink link) {
    TcpSession s = p.session(Route.TRUNK);
    if (s != null) {
      new TrunkTcpLegFactory(link, metrics, idleTimeout).start(s);
    }
  }

  /** Over the learned SP's trunk; waits (bounded) for it to come up, else passes through. */
  private void discoveredPeer(Pending p, InetSocketAddress sp) {
    Optional<PeerLink> link = links.discovered(sp);
    if (link.isEmpty()) {
      passThrough(p); // no trunk key configured: the SP cannot be used
      return;
    }
    if (link.get().isUp()) {
      trunk(p, link.get());
      return;
    }
    long deadline = System.nanoTime() + trunkWait.toNanos();
    awaitTrunk(p, link.get(), deadline);
  }

  private void awaitTrunk(Pending p, PeerLink link, long deadline) {
    if (!p.client.isActive()) {
      return; // the close listener gave the slot back
    }
    if (link.isUp()) {
      trunk(p, link);
    } else if (System.nanoTime() - deadline >= 0) {
      log.info("trunk to {} not up within {} ms: {} -> {} passes through", link.name(), trunkWait.toMillis(),
          p.source, p.destination);
      passThrough(p);
    } else {
      p.client.eventLoop().schedule(() -> awaitTrunk(p, link, deadline), TRUNK_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void probe(Pending p) {
    InetSocketAddress from = new InetSocketAddress(p.source.getAddress(), 0);
    EventLoop loop = p.client.eventLoop();
    CompletionStage<ProbeOutcome> outcome;
    try {
      outcome = discoverer.probeAndLearn(from, p.destination, router.pmt());
    } catch (RuntimeException e) {
      onProbe(p, new ProbeOutcome.Failed(e));
      return;
    }
    outcome.whenComplete((o, err) -> loop.execute(() -> onProbe(p, o != null ? o : new ProbeOutcome.Failed(err))));
  }

  private void onProbe(Pending p, ProbeOutcome o) {
    if (o instanceof ProbeOutcome.Peer peer) {
      discoveredPeer(p, router.pick(peer.peers(), p.source, p.destination));
    } else if (o instanceof ProbeOutcome.NoPeer n) {
      adoptLeg(p, n.channel());
    } else if (o instanceof ProbeOutcome.Stripped st) {
      adoptLeg(p, st.channel());
    } else if (o instanceof ProbeOutcome.Timeout) {
      failed(p, "probe_timeout");
    } else {
      failed(p, reason(((ProbeOutcome.Failed) o).cause()));
    }
  }

  /** The probe connection becomes the pass-through leg: no second connect to the server. */
  private void adoptLeg(Pending p, Channel leg) {
    TcpSession s = p.session(Route.PASSTHROUGH);
    if (s == null) {
      leg.close();
      return;
    }
    EventLoop loop = p.client.eventLoop();
    if (leg.eventLoop() == loop) {
      bridge(s, leg);
      return;
    }
    // Move the leg onto the client's loop so the session's state has a single owner thread.
    leg.deregister().addListener(d -> {
      if (!d.isSuccess()) {
        loop.execute(() -> legLost(s, leg, d.cause()));
        return;
      }
      loop.register(leg).addListener(r -> {
        if (r.isSuccess()) {
          bridge(s, leg);
        } else {
          legLost(s, leg, r.cause());
        }
      });
    });
  }

  private void legLost(TcpSession s, Channel leg, Throwable cause) {
    log.warn("could not move the probe leg to the client's event loop", cause);
    leg.close();
    metrics.connectFailure(Protocol.TCP, "error");
    s.end(Outcome.ERROR);
    Sockets.reset(s.client());
  }

  private void bridge(TcpSession s, Channel leg) {
    if (!s.client().isActive() || !leg.isActive()) {
      s.end(Outcome.RESET);
      leg.close();
      Sockets.reset(s.client());
      return;
    }
    leg.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    leg.config().setOption(ChannelOption.TCP_NODELAY, true);
    leg.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
    DirectLegFactory.bridge(s, s.client(), leg, metrics, idleTimeout);
  }

  private void failed(Pending p, String reason) {
    TcpSession s = p.session(Route.PASSTHROUGH);
    metrics.connectFailure(Protocol.TCP, reason);
    if (s != null) {
      s.end(Outcome.CONNECT_FAILED);
    }
    Sockets.reset(p.client);
  }

  /** A plain connection to the original destination, from the client's address when configured. */
  private void passThrough(Pending p) {
    TcpSession s = p.session(Route.PASSTHROUGH);
    if (s == null) {
      return;
    }
    Channel client = p.client;
    Bootstrap b = new Bootstrap().group(client.eventLoop()).channelFactory(transport.socketChannels())
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .handler(new ChannelInboundHandlerAdapter());
    if (transparentSource) {
      b.option(EpollChannelOption.IP_TRANSPARENT, true).localAddress(new InetSocketAddress(p.source.getAddress(), 0));
    }
    ChannelFuture connect = b.connect(p.destination);
    Channel server = connect.channel();
    client.closeFuture().addListener(f -> {
      if (!connect.isDone()) {
        s.end(Outcome.RESET);
        server.close();
      }
    });
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        metrics.connectFailure(Protocol.TCP, reason(f.cause()));
        s.end(Outcome.CONNECT_FAILED);
        Sockets.reset(client);
      } else if (!client.isActive()) {
        s.end(Outcome.RESET);
        server.close();
      } else {
        DirectLegFactory.bridge(s, client, server, metrics, idleTimeout);
      }
    });
  }

  static String reason(Throwable cause) {
    if (cause == null) {
      return "error";
    }
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "timeout";
    }
    String m = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (m.contains("refused")) {
      return "refused";
    }
    if (m.contains("unreachable") || m.contains("no route")) {
      return "unreachable";
    }
    return "error";
  }
}
