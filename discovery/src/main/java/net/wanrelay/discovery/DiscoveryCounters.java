package net.wanrelay.discovery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@code wanrelay_discovery_events_total{event}}: what the option writers and readers did. */
final class DiscoveryCounters {
  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  DiscoveryCounters(MeterRegistry registry) {
    this.registry = registry;
  }

  void inc(String event) {
    counters.computeIfAbsent(event, e -> Counter.builder("wanrelay_discovery_events_total").tag("event", e)
        .description("Discovery option writer/reader events").register(registry)).increment();
  }

  double count(String event) {
    Counter c = counters.get(event);
    return c == null ? 0 : c.count();
  }
}
