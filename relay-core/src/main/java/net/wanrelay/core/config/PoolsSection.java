package net.wanrelay.core.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import net.wanrelay.core.config.PoolConfig.HealthConfig;
import net.wanrelay.core.config.PoolConfig.Policy;

/** Reads the {@code pools:} section: one mapping per pool name. */
final class PoolsSection {
  private PoolsSection() {}

  static Map<String, PoolConfig> read(Optional<ConfigSection> maybe) throws ConfigException {
    Map<String, PoolConfig> pools = new LinkedHashMap<>();
    if (maybe.isEmpty()) {
      return pools;
    }
    ConfigSection all = maybe.get();
    for (String name : all.keys()) {
      ConfigSection p = all.optionalSection(name).orElseThrow();
      Policy policy = p.optional("policy", PoolsSection::policy).orElse(Policy.ROUND_ROBIN);
      var members = p.list("members", HostPort::parse);
      if (members.isEmpty()) {
        throw p.error("members", "a pool needs at least one member");
      }
      HealthConfig health = health(p.optionalSection("health"));
      Optional<HostPort> fallback = p.optional("fallback", HostPort::parse);
      boolean resumable = p.bool("resumable", false);
      p.finish();
      pools.put(name, new PoolConfig(name, policy, members, health, fallback, resumable));
    }
    all.finish();
    return pools;
  }

  private static HealthConfig health(Optional<ConfigSection> maybe) throws ConfigException {
    if (maybe.isEmpty()) {
      return new HealthConfig(Duration.ofSeconds(1), Duration.ofMillis(500), 2, 2, Optional.empty(), Optional.empty(),
          RelayConfig.Protocol.TCP);
    }
    ConfigSection h = maybe.get();
    HealthConfig health = new HealthConfig(
        h.duration("interval", Duration.ofSeconds(1)),
        h.duration("timeout", Duration.ofMillis(500)),
        h.integer("rise", 2, 1, 100),
        h.integer("fall", 2, 1, 100),
        h.optionalString("send").map(PoolsSection::unescape),
        h.optionalString("expect").map(PoolsSection::unescape),
        h.optional("protocol", PoolsSection::protocol).orElse(RelayConfig.Protocol.TCP));
    if (health.protocol() == RelayConfig.Protocol.UDP && health.send().isEmpty()) {
      throw h.error("protocol", "a udp probe needs 'send' (there is no connect to check)");
    }
    if (health.interval().toMillis() < 10) {
      throw h.error("interval", "must be at least 10ms");
    }
    if (health.timeout().toMillis() < 1) {
      throw h.error("timeout", "must be at least 1ms");
    }
    if (health.expect().isPresent() && health.send().isEmpty()) {
      throw h.error("expect", "'expect' needs 'send' (the probe sends first, then reads the reply)");
    }
    h.finish();
    return health;
  }

  private static RelayConfig.Protocol protocol(String text) {
    return switch (text) {
      case "tcp" -> RelayConfig.Protocol.TCP;
      case "udp" -> RelayConfig.Protocol.UDP;
      default -> throw new IllegalArgumentException("'" + text + "' is not tcp or udp");
    };
  }

  private static Policy policy(String text) {
    try {
      return Policy.valueOf(text.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not primary-backup, round-robin, least-sessions or lowest-rtt");
    }
  }

  /** YAML double-quoted strings already unescape \n; this also accepts a literal backslash-n. */
  private static String unescape(String text) {
    return text.replace("\\n", "\n").replace("\\r", "\r");
  }
}
