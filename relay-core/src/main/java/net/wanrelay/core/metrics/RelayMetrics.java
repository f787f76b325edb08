package net.wanrelay.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import net.wanrelay.core.config.RelayConfig.Protocol;

/**
 * The relay's session meters, kept apart from the handlers that feed them. Meter lookups are
 * cached per tag combination so the data path only touches an adder.
 */
public final class RelayMetrics {
  /** Where a session went. */
  public enum Route { DIRECT, TRUNK, PASSTHROUGH, UPSTREAM, DENY }

  /** How a session ended. */
  public enum Outcome { COMPLETED, RESET, CONNECT_FAILED, IDLE_TIMEOUT, SILENT_TIMEOUT, REFUSED, ERROR }

  private final PrometheusMeterRegistry registry;
  private final ConcurrentMap<String, AtomicInteger> active = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final AtomicInteger udpFlowsActive = new AtomicInteger();
  private final AtomicLong totalActiveSessions = new AtomicLong();
  // The per-session meters by enum ordinals: every session touches them, and building a string key
  // for the general cache cost more than the count itself. Filled lazily; a race registers the
  // same meter twice, which the registry answers with the one it has.
  private static final int ROUTES = Route.values().length;
  private static final int OUTCOMES = Outcome.values().length;
  private final AtomicReferenceArray<AtomicInteger> activeByRoute =
      new AtomicReferenceArray<>(Protocol.values().length * ROUTES);
  private final AtomicReferenceArray<Counter> endedByOutcome =
      new AtomicReferenceArray<>(Protocol.values().length * ROUTES * OUTCOMES);
  private final AtomicReferenceArray<Counter> bytesByDirection =
      new AtomicReferenceArray<>(Protocol.values().length * ROUTES * 2);

  public RelayMetrics() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    Gauge.builder("wanrelay.udp.flows.active", udpFlowsActive, AtomicInteger::get)
        .description("UDP flows currently tracked").register(registry);
    // Register the common series up front so dashboards and alerts see zeros, not gaps.
    for (Protocol p : Protocol.values()) {
      for (Route r : new Route[] {Route.DIRECT, Route.TRUNK}) {
        activeGauge(p, r);
        sessionBytes(p, r, true);
        sessionBytes(p, r, false);
      }
      connectFailures(p, "refused");
      refusals(p, "max_sessions");
    }
    for (String reason : new String[] {"accept_rate", "memory"}) {
      refusals(Protocol.TCP, reason);
    }
    udpFlows("expired");
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  private static String tag(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private AtomicInteger activeGauge(Protocol protocol, Route route) {
    int i = protocol.ordinal() * ROUTES + route.ordinal();
    AtomicInteger g = activeByRoute.get(i);
    if (g == null) {
      g = registerActiveGauge(protocol, route);
      activeByRoute.set(i, g);
    }
    return g;
  }

  private AtomicInteger registerActiveGauge(Protocol protocol, Route route) {
    return active.computeIfAbsent(tag(protocol) + "/" + tag(route), k -> {
      AtomicInteger value = new AtomicInteger();
      Gauge.builder("wanrelay.sessions.active", value, AtomicInteger::get)
          .description("Sessions currently open")
          .tag("protocol", tag(protocol)).tag("route", tag(route))
          .register(registry);
      return value;
    });
  }

  private Counter counter(String name, String description, String... tags) {
    String key = name + String.join("/", tags);
    return counters.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags).register(registry));
  }

  public void sessionOpened(Protocol protocol, Route route) {
    activeGauge(protocol, route).incrementAndGet();
    totalActiveSessions.incrementAndGet();
  }

  public void sessionClosed(Protocol protocol, Route route, Outcome outcome) {
    activeGauge(protocol, route).decrementAndGet();
    totalActiveSessions.decrementAndGet();
    int i = (protocol.ordinal() * ROUTES + route.ordinal()) * OUTCOMES + outcome.ordinal();
    Counter c = endedByOutcome.get(i);
    if (c == null) {
      c = counter("wanrelay.sessions", "Sessions ended, by outcome",
          "protocol", tag(protocol), "route", tag(route), "outcome", tag(outcome));
      endedByOutcome.set(i, c);
    }
    c.increment();
  }

  /** Counts a session that never started (cap reached, denied). */
  public void refused(Protocol protocol, String reason) {
    refusals(protocol, reason).increment();
  }

  private Counter refusals(Protocol protocol, String reason) {
    return counter("wanrelay.sessions.refused", "Sessions refused before they started",
        "protocol", tag(protocol), "reason", reason);
  }

  public void connectFailure(Protocol protocol, String reason) {
    connectFailures(protocol, reason).increment();
  }

  private Counter connectFailures(Protocol protocol, String reason) {
    return counter("wanrelay.connect.failures", "Failed connects to a target",
        "protocol", tag(protocol), "reason", reason);
  }

  /** Payload bytes on the LAN side of a session, client-to-server or server-to-client. */
  public Counter sessionBytes(Protocol protocol, Route route, boolean clientToServer) {
    int i = (protocol.ordinal() * ROUTES + route.ordinal()) * 2 + (clientToServer ? 0 : 1);
    Counter c = bytesByDirection.get(i);
    if (c == null) {
      c = registerSessionBytes(protocol, route, clientToServer);
      bytesByDirection.set(i, c);
    }
    return c;
  }

  private Counter registerSessionBytes(Protocol protocol, Route route, boolean clientToServer) {
    return counter("wanrelay.session.bytes", "Session payload bytes on the LAN side",
        "protocol", tag(protocol), "route", tag(route),
        "direction", clientToServer ? "client_to_server" : "server_to_client");
  }

  public void udpFlowOpened() {
    udpFlowsActive.incrementAndGet();
    udpFlows("opened").increment();
  }

  public void udpFlowClosed(String outcome) {
    udpFlowsActive.decrementAndGet();
    udpFlows(outcome).increment();
  }

  public Counter udpFlows(String outcome) {
    return counter("wanrelay.udp.flows", "UDP flows by event", "outcome", outcome);
  }

  public Counter udpDropped(String reason) {
    return counter("wanrelay.udp.dropped", "UDP datagrams dropped", "reason", reason);
  }

  public long activeSessions() {
    return totalActiveSessions.get();
  }
}
