package net.wanrelay.core.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.wanrelay.core.config.PeerGroupConfig.Policy;
import net.wanrelay.core.config.RelayConfig.PeerConfig;
import net.wanrelay.core.config.RelayConfig.TrunkConfig;

/** Reads the {@code peer-groups:} section: one mapping per group name. */
final class PeerGroupsSection {
  static final Duration DEFAULT_RACE_TIMEOUT = Duration.ofSeconds(3);

  private PeerGroupsSection() {}

  static Map<String, PeerGroupConfig> read(Optional<ConfigSection> maybe, Optional<TrunkConfig> trunk)
      throws ConfigException {
    Map<String, PeerGroupConfig> groups = new LinkedHashMap<>();
    if (maybe.isEmpty()) {
      return groups;
    }
    ConfigSection all = maybe.get();
    Set<String> known = new HashSet<>();
    trunk.ifPresent(t -> t.peers().stream().map(PeerConfig::name).forEach(known::add));
    for (String name : all.keys()) {
      ConfigSection g = all.optionalSection(name).orElseThrow();
      List<String> peers = g.list("peers", s -> s);
      if (peers.isEmpty()) {
        throw g.error("peers", "a peer group needs at least one peer");
      }
      Set<String> seen = new HashSet<>();
      for (String p : peers) {
        if (!known.contains(p)) {
          throw g.error("peers", "no trunk peer named '" + p + "' (define it under trunk.peers)");
        }
        if (!seen.add(p)) {
          throw g.error("peers", "peer '" + p + "' is listed twice");
        }
      }
      Policy policy = g.optional("policy", PeerGroupsSection::policy).orElse(Policy.PRIMARY_FIRST);
      Optional<Duration> timeout = g.optional("race-timeout", ConfigSection::parseDuration);
      if (timeout.isPresent() && policy != Policy.RACE) {
        throw g.error("race-timeout", "only used with policy: race");
      }
      Duration raceTimeout = timeout.orElse(DEFAULT_RACE_TIMEOUT);
      if (raceTimeout.toMillis() < 1) {
        throw g.error("race-timeout", "must be at least 1ms");
      }
      g.finish();
      groups.put(name, new PeerGroupConfig(name, List.copyOf(peers), policy, raceTimeout));
    }
    all.finish();
    return groups;
  }

  private static Policy policy(String text) {
    try {
      return Policy.valueOf(text.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not primary-first, consistent-hash or race");
    }
  }
}
