package net.wanrelay.discovery.pmt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The peer mapping table of a CP: for each server (and optionally port), whether an SP sits on the
 * path. State machine in docs/DISCOVERY.md. Thread-safe; expired entries read as UNKNOWN and are
 * dropped when seen. Lookups try the exact server:port first, then the server's any-port entry.
 */
public final class PeerMappingTable {
  /** Probe results counted in {@code wanrelay_discovery_probes_total{result}}. */
  public enum ProbeResult {
    PEER, NO_PEER, STRIPPED, TIMEOUT;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Time-to-live of each learned state. */
  public record Ttls(Duration peer, Duration noPeer, Duration holdDown) {
    public static final Ttls DEFAULT = new Ttls(Duration.ofMinutes(30), Duration.ofMinutes(5), Duration.ofMinutes(60));
  }

  private final Map<PmtKey, PmtEntry> entries = new ConcurrentHashMap<>();
  private final LongSupplier nanoClock;
  private final Ttls ttls;
  private final boolean perPort;
  private final Map<ProbeResult, Counter> probeCounters = new EnumMap<>(ProbeResult.class);

  /**
   * @param nanoClock monotonic clock in nanoseconds (System::nanoTime in production)
   * @param perPort learn per server:port (true) or per server address (false)
   */
  public PeerMappingTable(LongSupplier nanoClock, Ttls ttls, boolean perPort, MeterRegistry registry) {
    this.nanoClock = nanoClock;
    this.ttls = ttls;
    this.perPort = perPort;
    for (PmtState s : PmtState.values()) {
      Gauge.builder("wanrelay_pmt_entries", this, t -> t.count(s))
          .tag("state", s.label()).description("PMT entries by state").register(registry);
    }
    for (ProbeResult r : ProbeResult.values()) {
      probeCounters.put(r, Counter.builder("wanrelay_discovery_probes_total").tag("result", r.label())
          .description("Discovery probes by result").register(registry));
    }
  }

  public PeerMappingTable(MeterRegistry registry) {
    this(System::nanoTime, Ttls.DEFAULT, false, registry);
  }

  /** The key the table learns under for this destination. */
  public PmtKey keyFor(InetAddress server, int port) {
    return new PmtKey(server, perPort ? port : PmtKey.ANY_PORT);
  }

  /** What is known about {@code server:port}; UNKNOWN when nothing (or only expired entries). */
  public PmtEntry lookup(InetAddress server, int port) {
    long now = nanoClock.getAsLong();
    PmtEntry e = live(new PmtKey(server, port), now);
    if (e == null && port != PmtKey.ANY_PORT) {
      e = live(PmtKey.of(server), now);
    }
    return e != null ? e : PmtEntry.unknown(keyFor(server, port));
  }

  private PmtEntry live(PmtKey key, long now) {
    PmtEntry e = entries.get(key);
    if (e != null && e.expiredAt(now)) {
      entries.remove(key, e); // only if nobody replaced it meanwhile
      return null;
    }
    return e;
  }

  public void recordPeer(PmtKey key, List<InetSocketAddress> peers) {
    if (peers.isEmpty()) {
      throw new IllegalArgumentException("a PEER entry needs at least one peer");
    }
    putLearned(key, PmtState.PEER, peers, ttls.peer());
    probeCounters.get(ProbeResult.PEER).increment();
  }

  public void recordNoPeer(PmtKey key) {
    putLearned(key, PmtState.NO_PEER, List.of(), ttls.noPeer());
    probeCounters.get(ProbeResult.NO_PEER).increment();
  }

  /** The option was stripped or the SYN carrying it dropped: contact without it for a while. */
  public void recordStripped(PmtKey key) {
    putLearned(key, PmtState.HOLD_DOWN, List.of(), ttls.holdDown());
    probeCounters.get(ProbeResult.STRIPPED).increment();
  }

  /** Neither the probe nor a plain retry got through: counts, learns nothing (server down?). */
  public void recordTimeout(PmtKey key) {
    probeCounters.get(ProbeResult.TIMEOUT).increment();
  }

  private void putLearned(PmtKey key, PmtState state, List<InetSocketAddress> peers, Duration ttl) {
    PmtEntry e = new PmtEntry(key, state, peers, nanoClock.getAsLong() + ttl.toNanos());
    entries.compute(key, (k, old) -> old != null && old.state() == PmtState.STATIC ? old : e);
  }

  /** A fixed-target entry from configuration: never expires, never probed, kept on peerDown. */
  public void putStatic(PmtKey key, List<InetSocketAddress> peers) {
    if (peers.isEmpty()) {
      throw new IllegalArgumentException("a STATIC entry needs at least one peer");
    }
    entries.put(key, new PmtEntry(key, PmtState.STATIC, peers, Long.MAX_VALUE));
  }

  public void remove(PmtKey key) {
    entries.remove(key);
  }

  /**
   * A trunk to {@code sp} went down: its learned PEER entries turn back to UNKNOWN (re-probed on
   * next use). Returns how many entries were dropped. STATIC entries stay (configuration decides).
   */
  public int peerDown(InetSocketAddress sp) {
    int[] n = {0};
    entries.values().removeIf(e -> {
      boolean hit = e.state() == PmtState.PEER && e.peers().contains(sp);
      if (hit) {
        n[0]++;
      }
      return hit;
    });
    return n[0];
  }

  /**
   * An SP announced that it now listens at {@code to} instead of {@code from}: every PEER and
   * STATIC entry naming {@code from} names {@code to} in its place (same position, same expiry).
   * Returns how many entries changed.
   */
  public int repoint(InetSocketAddress from, InetSocketAddress to) {
    int n = 0;
    for (PmtEntry e : List.copyOf(entries.values())) {
      if (!e.peers().contains(from)) {
        continue;
      }
      List<InetSocketAddress> peers = new java.util.ArrayList<>(e.peers().size());
      for (InetSocketAddress p : e.peers()) {
        InetSocketAddress q = p.equals(from) ? to : p;
        if (!peers.contains(q)) {
          peers.add(q);
        }
      }
      if (entries.replace(e.key(), e, new PmtEntry(e.key(), e.state(), peers, e.expiresAtNanos()))) {
        n++;
      }
    }
    return n;
  }

  /** Live entries in {@code state}; UNKNOWN is never stored, so always 0. */
  public int count(PmtState state) {
    long now = nanoClock.getAsLong();
    return (int) entries.values().stream().filter(e -> e.state() == state && !e.expiredAt(now)).count();
  }

  /** A snapshot of the live entries (for the admin API). */
  public List<PmtEntry> snapshot() {
    long now = nanoClock.getAsLong();
    return entries.values().stream().filter(e -> !e.expiredAt(now)).toList();
  }
}
