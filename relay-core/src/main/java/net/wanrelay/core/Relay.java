package net.wanrelay.core;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.admin.AdminServer;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.config.RelayConfig.ListenerConfig;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.config.RelayConfig.Via;
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
  private final List<TcpListener> tcpListeners = new ArrayList<>();
  private final List<UdpListener> udpListeners = new ArrayList<>();
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private AdminServer admin;
  private volatile boolean draining;

  public Relay(RelayConfig config) {
    this(config, Transport.detect());
  }

  public Relay(RelayConfig config, Transport transport) {
    this.config = config;
    this.transport = transport;
    this.limiter = new SessionLimiter(config.limits().maxSessions());
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
    workers = transport.newGroup(0);
    try {
      admin = new AdminServer(config.node().admin().resolve(), metrics::scrape, () -> !draining);
      admin.start(transport, boss);
      for (ListenerConfig l : config.listeners()) {
        startListener(l);
      }
    } catch (Exception e) {
      close();
      throw e;
    }
    return this;
  }

  private void startListener(ListenerConfig l) throws InterruptedException {
    Route route = l.via().kind() == Via.Kind.DIRECT ? Route.DIRECT : Route.TRUNK;
    InetSocketAddress listen = l.listen().resolve();
    InetSocketAddress target = l.target().resolve();
    if (l.protocol() == Protocol.TCP) {
      TcpListener listener = new TcpListener(l.name(), listen, target, route, tcpLegs(l.via()), limiter, metrics);
      listener.start(transport, boss, workers);
      tcpListeners.add(listener);
      log.info("listener {}: tcp {} -> {} via {}", l.name(), listener.localAddress(), l.target(), l.via());
    } else {
      UdpListener listener = new UdpListener(l.name(), listen, target, route, udpLegs(l.via()), metrics,
          config.limits().maxUdpFlows(), config.limits().udpIdleTimeout());
      listener.start(transport, workers);
      udpListeners.add(listener);
      log.info("listener {}: udp {} -> {} via {}", l.name(), listener.localAddress(), l.target(), l.via());
    }
  }

  private TcpLegFactory tcpLegs(Via via) {
    if (via.kind() == Via.Kind.DIRECT) {
      return new DirectLegFactory(transport, metrics, config.limits().connectTimeout(), config.limits().idleTimeout());
    }
    throw new IllegalStateException("via " + via + ": the trunk is not available in this build");
  }

  private UdpLegFactory udpLegs(Via via) {
    if (via.kind() == Via.Kind.DIRECT) {
      return new DirectUdpLegFactory(transport);
    }
    throw new IllegalStateException("via " + via + ": the trunk is not available in this build");
  }

  public List<TcpListener> tcpListeners() {
    return tcpListeners;
  }

  public List<UdpListener> udpListeners() {
    return udpListeners;
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
    draining = true;
    tcpListeners.forEach(TcpListener::stopAccepting);
    udpListeners.forEach(UdpListener::stop);
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
