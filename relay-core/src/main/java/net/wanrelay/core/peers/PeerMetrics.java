package net.wanrelay.core.peers;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** Metrics of peer choice, races and trunk connects (docs/PEERS.md). */
public final class PeerMetrics {
  private final MeterRegistry registry;
  // Looked up once per session: a registry lookup builds and hashes a meter id every time.
  private final java.util.concurrent.ConcurrentMap<String, Timer> trunkConnect = new java.util.concurrent.ConcurrentHashMap<>();

  public PeerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** A session of a primary-first or consistent-hash group went to {@code peer}. */
  public void chosen(String group, String peer) {
    Counter.builder("wanrelay.peer.choices").description("Sessions sent to a peer of a peer group")
        .tag("group", group).tag("peer", peer).register(registry).increment();
  }

  /** One entrant of a race: won, lost (reset because another SP answered first) or failed (OPEN_FAIL, trunk error). */
  public void race(String group, String peer, String result) {
    Counter.builder("wanrelay.race").description("Raced OPENs by peer and result")
        .tag("group", group).tag("peer", peer).tag("result", result).register(registry).increment();
  }

  /** A race in which no SP answered within the race timeout (the client was reset). */
  public void raceTimeout(String group) {
    Counter.builder("wanrelay.race.timeouts").description("Races without an OPEN_ACK within the race timeout")
        .tag("group", group).register(registry).increment();
  }

  /** SP: a raced OPEN left unanswered because the session limit was reached. */
  public void raceSilent() {
    Counter.builder("wanrelay.race.silent").description("Raced OPENs this SP left unanswered at its session limit")
        .register(registry).increment();
  }

  /** Time from accepting the client to the OPEN_ACK of its trunk stream. */
  public Timer trunkConnect(String peer) {
    return trunkConnect.computeIfAbsent(peer, p -> Timer.builder("wanrelay.trunk.connect")
        .description("Accept to OPEN_ACK of a trunk session").tag("peer", p).register(registry));
  }
}
