package net.wanrelay.core.upstream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runtime rewrites of a session's destination: one entry per original destination (a second put
 * replaces it). Consulted once when a session starts, so open sessions keep their destination.
 * Not transitive: a -> b and b -> c send a's new sessions to b.
 */
final class DivertMap {
  /** One entry, with the number of new sessions it redirected. */
  record Entry(InetSocketAddress from, InetSocketAddress to, String fromText, String toText, AtomicLong hits) {}

  private final ConcurrentMap<InetSocketAddress, Entry> entries = new ConcurrentHashMap<>();
  private final Counter hits;

  DivertMap(MeterRegistry registry) {
    hits = Counter.builder("wanrelay.divert.hits")
        .description("New sessions sent elsewhere by the divert map").register(registry);
  }

  InetSocketAddress apply(InetSocketAddress original) {
    if (original == null || entries.isEmpty()) {
      return original;
    }
    Entry e = entries.get(original);
    if (e == null) {
      return original;
    }
    hits.increment();
    e.hits().incrementAndGet();
    return e.to();
  }

  /** Where {@code original} goes now, without counting a hit (for flows checking whether to move). */
  InetSocketAddress peek(InetSocketAddress original) {
    Entry e = entries.isEmpty() ? null : entries.get(original);
    return e == null ? original : e.to();
  }

  /** Sets or replaces the entry for {@code from}; returns the entry it replaced, or null. */
  Entry put(InetSocketAddress from, String fromText, InetSocketAddress to, String toText) {
    return entries.put(from, new Entry(from, to, fromText, toText, new AtomicLong()));
  }

  Entry remove(InetSocketAddress from) {
    return entries.remove(from);
  }

  List<Entry> entries() {
    List<Entry> list = new ArrayList<>(entries.values());
    list.sort(Comparator.comparing(Entry::fromText));
    return list;
  }
}
