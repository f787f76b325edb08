package net.wanrelay.core.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.wanrelay.channel.TrunkTls;
import net.wanrelay.core.config.RelayConfig.DedupConfig;
import net.wanrelay.core.config.RelayConfig.DestinationMapping;
import net.wanrelay.core.config.RelayConfig.DiscoveryConfig;
import net.wanrelay.core.config.RelayConfig.InterceptConfig;
import net.wanrelay.core.config.RelayConfig.LimitsConfig;
import net.wanrelay.discovery.rules.Cidr;
import net.wanrelay.discovery.rules.InPathRule;
import net.wanrelay.discovery.rules.PeeringRule;
import net.wanrelay.discovery.rules.PortSet;
import net.wanrelay.core.config.RelayConfig.ListenerConfig;
import net.wanrelay.core.config.RelayConfig.NodeConfig;
import net.wanrelay.core.config.RelayConfig.PeerConfig;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.config.RelayConfig.TlsConfig;
import net.wanrelay.core.config.RelayConfig.TrunkConfig;
import net.wanrelay.core.config.RelayConfig.TrunkTimers;
import net.wanrelay.core.config.RelayConfig.Via;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads and validates the YAML config. Every problem is one {@link ConfigException} line naming the
 * file, line, column and key; the first problem stops the load, so nothing starts half-configured.
 */
public final class ConfigLoader {
  static final int MIN_KEY_BYTES = 16;
  private static final Set<String> COMPRESSION = Set.of("off", "lz4", "zstd", "adaptive");

  private ConfigLoader() {}

  public static RelayConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
    return parse(file.toString(), text, file.toAbsolutePath().getParent());
  }

  public static RelayConfig parse(String fileName, String yaml) throws ConfigException {
    return parse(fileName, yaml, Path.of("."));
  }

  private static RelayConfig parse(String fileName, String yaml, Path baseDir) throws ConfigException {
    Node root = compose(fileName, new StringReader(yaml));
    if (root == null) {
      throw new ConfigException(fileName + ":1:1: the file is empty");
    }
    ConfigSection top = new ConfigSection(fileName, "", root);
    NodeConfig node = node(top.optionalSection("node"), baseDir);
    LimitsConfig limits = limits(top.optionalSection("limits"));
    Map<String, PoolConfig> pools = PoolsSection.read(top.optionalSection("pools"));
    Optional<TrunkConfig> trunk = trunk(top.optionalSection("trunk"), baseDir, pools);
    Map<String, PeerGroupConfig> groups = PeerGroupsSection.read(top.optionalSection("peer-groups"), trunk);
    List<ListenerConfig> listeners = listeners(top, trunk, pools, groups);
    Optional<InterceptConfig> intercept = intercept(top.optionalSection("intercept"), trunk);
    DiscoveryConfig discovery = discovery(top.optionalSection("discovery"));
    top.finish();
    return new RelayConfig(node, listeners, trunk, limits, intercept, discovery, pools, groups);
  }

  private static Node compose(String fileName, Reader reader) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(4 * 1024 * 1024);
    try {
      return new Yaml(options).compose(reader);
    } catch (MarkedYAMLException e) {
      var mark = e.getProblemMark();
      String where = mark == null ? "1:1" : (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
      throw new ConfigException(fileName + ":" + where + ": invalid YAML: " + e.getProblem());
    } catch (YAMLException e) {
      throw new ConfigException(fileName + ": invalid YAML: " + e.getMessage());
    } catch (RuntimeException e) {
      // SnakeYAML reports some malformed input (e.g. a tag with spaces) as IllegalArgumentException.
      throw new ConfigException(fileName + ": invalid YAML: " + e.getMessage());
    }
  }

  private static NodeConfig node(Optional<ConfigSection> maybe, Path baseDir) throws ConfigException {
    HostPort defaultAdmin = new HostPort("127.0.0.1", 9464);
    if (maybe.isEmpty()) {
      return new NodeConfig("wanrelay", defaultAdmin, Optional.empty(), Duration.ofSeconds(10),
          NodeConfig.defaultIoThreads());
    }
    ConfigSection s = maybe.get();
    String id = s.string("id", "wanrelay");
    HostPort admin = s.optional("admin", HostPort::parse).orElse(defaultAdmin);
    Optional<String> token = secret(s, "admin-token", "admin-token-file", baseDir)
        .map(bytes -> new String(bytes, StandardCharsets.UTF_8).trim());
    Duration drain = s.duration("drain-timeout", Duration.ofSeconds(10));
    int ioThreads = s.integer("io-threads", NodeConfig.defaultIoThreads(), 1, 1024);
    s.finish();
    return new NodeConfig(id, admin, token, drain, ioThreads);
  }

  private static LimitsConfig limits(Optional<ConfigSection> maybe) throws ConfigException {
    LimitsConfig defaults = new LimitsConfig(
        10_000, 10_000, Duration.ofMinutes(5), Duration.ofSeconds(60), Duration.ofSeconds(10));
    if (maybe.isEmpty()) {
      return defaults;
    }
    ConfigSection s = maybe.get();
    int maxSessions = s.integer("max-sessions", defaults.maxSessions(), 1, 10_000_000);
    int maxUdpFlows = s.integer("max-udp-flows", defaults.maxUdpFlows(), 1, 10_000_000);
    Duration idle = positive(s, "idle-timeout", defaults.idleTimeout());
    Duration udpIdle = positive(s, "udp-idle-timeout", defaults.udpIdleTimeout());
    Duration connect = positive(s, "connect-timeout", defaults.connectTimeout());
    int acceptRate = s.integer("accept-rate", 0, 0, 10_000_000);
    int acceptBurst = s.integer("accept-burst", Math.max(1, acceptRate), 1, 10_000_000);
    long memory = size(s, "memory", defaults.memory(), 64L << 10);
    Duration silent = s.duration("silent-timeout", defaults.silentTimeout());
    if (silent.isNegative()) {
      throw s.error("silent-timeout", "must be 0 (never) or greater");
    }
    int maxStreams = s.integer("max-streams-per-link", defaults.maxStreamsPerLink(), 1, 10_000_000);
    long linkMemory = size(s, "link-memory", defaults.linkMemory(), 1L << 20);
    s.finish();
    return new LimitsConfig(maxSessions, maxUdpFlows, idle, udpIdle, connect,
        acceptRate, acceptBurst, memory, silent, maxStreams, linkMemory);
  }

  private static long size(ConfigSection s, String key, long defaultValue, long min) throws ConfigException {
    long v = s.optional(key, ConfigLoader::bytes).orElse(defaultValue);
    if (v < min) {
      throw s.error(key, "must be at least " + min + " bytes");
    }
    return v;
  }

  private static Duration positive(ConfigSection s, String key, Duration defaultValue) throws ConfigException {
    Duration d = s.duration(key, defaultValue);
    if (d.isZero() || d.isNegative()) {
      throw s.error(key, "must be greater than zero");
    }
    return d;
  }

  private static Optional<TrunkConfig> trunk(Optional<ConfigSection> maybe, Path baseDir,
      Map<String, PoolConfig> pools) throws ConfigException {
    if (maybe.isEmpty()) {
      return Optional.empty();
    }
    ConfigSection s = maybe.get();
    Optional<HostPort> listen = s.optional("listen", HostPort::parse);
    Optional<byte[]> key = secret(s, "key", "key-file", baseDir);
    if (listen.isPresent() && key.isEmpty()) {
      throw s.error("listen", "a trunk listener needs 'key' or 'key-file' to authenticate peers");
    }
    List<String> allow = s.list("allow", ConfigLoader::checkAllowEntry);
    List<PeerConfig> peers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigSection p : s.sections("peers")) {
      String name = p.string("name");
      if (!names.add(name)) {
        throw p.error("name", "duplicate peer name '" + name + "'");
      }
      HostPort address = p.required("address", HostPort::parse);
      Optional<byte[]> peerKey = secret(p, "key", "key-file", baseDir);
      if (peerKey.isEmpty()) {
        throw p.error((String) null, "missing required key 'key' or 'key-file'");
      }
      int connections = p.integer("connections", 2, 1, 16);
      p.finish();
      peers.add(new PeerConfig(name, address, peerKey.get(), connections));
    }
    String cc = s.string("congestion-control", "bbr");
    if (!cc.matches("[a-z0-9_]{1,15}")) {
      throw s.error("congestion-control", "'" + cc + "' is not a congestion control name (e.g. bbr, cubic)");
    }
    String compression = s.string("compression", "adaptive");
    if (!COMPRESSION.contains(compression)) {
      throw s.error("compression", "'" + compression + "' is not one of off, lz4, zstd, adaptive");
    }
    Optional<DedupConfig> dedup = dedup(s.optionalSection("dedup"), baseDir);
    List<DestinationMapping> destinations = destinations(s, listen.isPresent(), pools);
    Optional<TlsConfig> tls = tls(s.optionalSection("tls"), baseDir);
    TrunkTimers timers = trunkTimers(s);
    s.finish();
    return Optional.of(new TrunkConfig(listen, key, allow, peers, cc, compression, dedup, destinations, tls, timers));
  }

  /** {@code trunk.destinations}: SP rewrites of OPEN destinations, to an address or a pool. */
  private static List<DestinationMapping> destinations(ConfigSection trunk, boolean listens,
      Map<String, PoolConfig> pools) throws ConfigException {
    List<DestinationMapping> result = new ArrayList<>();
    Set<String> matches = new HashSet<>();
    for (ConfigSection d : trunk.sections("destinations")) {
      if (!listens) {
        throw d.error((String) null, "destinations rewrite OPENs from peers: they need trunk.listen");
      }
      HostPort match = d.required("match", HostPort::parse);
      if (!matches.add(match.toString())) {
        throw d.error("match", "duplicate destination " + match);
      }
      String target = d.string("target");
      DestinationMapping m;
      if (target.startsWith("pool:")) {
        String pool = target.substring(5);
        if (!pools.containsKey(pool)) {
          throw d.error("target", "no pool named '" + pool + "' (define it under pools)");
        }
        m = new DestinationMapping(match, null, pool);
      } else {
        m = new DestinationMapping(match, d.required("target", HostPort::parse), null);
      }
      d.finish();
      result.add(m);
    }
    return result;
  }

  private static Optional<TlsConfig> tls(Optional<ConfigSection> maybe, Path baseDir) throws ConfigException {
    if (maybe.isEmpty()) {
      return Optional.empty();
    }
    ConfigSection t = maybe.get();
    TlsConfig tls = new TlsConfig(baseDir.resolve(t.string("cert")), baseDir.resolve(t.string("key")),
        baseDir.resolve(t.string("ca")));
    // Load them now, so check-config reports an unreadable file or a bad PEM at its key.
    try {
      TrunkTls.fromPem(tls.cert().toFile(), tls.key().toFile(), tls.ca().toFile());
    } catch (javax.net.ssl.SSLException | RuntimeException e) {
      String what = e.getMessage() == null ? e.toString() : e.getMessage();
      if (e.getCause() != null && e.getCause().getMessage() != null) {
        what += ": " + e.getCause().getMessage();
      }
      throw t.error((String) null, "cannot load the TLS certificate, key or CA: " + what);
    }
    t.finish();
    return Optional.of(tls);
  }

  private static TrunkTimers trunkTimers(ConfigSection s) throws ConfigException {
    TrunkTimers d = TrunkTimers.DEFAULTS;
    Duration interval = positive(s, "heartbeat-interval", d.heartbeatInterval());
    Duration timeout = positive(s, "heartbeat-timeout", d.heartbeatTimeout());
    if (timeout.compareTo(interval.multipliedBy(2)) < 0) {
      throw s.error("heartbeat-timeout", "must be at least twice heartbeat-interval (" + interval.toMillis() + " ms)");
    }
    Duration grace = s.duration("resume-grace", d.resumeGrace());
    if (grace.isNegative() || grace.compareTo(Duration.ofHours(1)) > 0) {
      throw s.error("resume-grace", "must be between 0 (off) and 1h");
    }
    return new TrunkTimers(interval, timeout, grace);
  }

  private static Optional<DedupConfig> dedup(Optional<ConfigSection> maybe, Path baseDir) throws ConfigException {
    if (maybe.isEmpty()) {
      return Optional.empty();
    }
    ConfigSection d = maybe.get();
    boolean enabled = d.bool("enabled", true);
    Optional<Path> store = d.optionalString("store").map(baseDir::resolve);
    long maxSize = d.optional("max-size", ConfigLoader::bytes).orElse(4L << 30);
    long memory = d.optional("memory", ConfigLoader::bytes).orElse(64L << 20);
    d.finish();
    return Optional.of(new DedupConfig(enabled, store, maxSize, memory));
  }

  /** A size such as 512MiB, 20GiB, 1048576 (bytes). */
  static long bytes(String text) {
    String t = text.trim();
    int split = 0;
    while (split < t.length() && Character.isDigit(t.charAt(split))) {
      split++;
    }
    if (split == 0) {
      throw new IllegalArgumentException("'" + text + "' is not a size (e.g. 64MiB, 20GiB)");
    }
    long unit = switch (t.substring(split).trim()) {
      case "", "B" -> 1L;
      case "KiB", "KB", "k" -> 1L << 10;
      case "MiB", "MB", "M" -> 1L << 20;
      case "GiB", "GB", "G" -> 1L << 30;
      case "TiB", "TB", "T" -> 1L << 40;
      default -> throw new IllegalArgumentException("'" + text + "' has an unknown unit (use B, KiB, MiB, GiB or TiB)");
    };
    try {
      long value = Math.multiplyExact(Long.parseLong(t.substring(0, split)), unit);
      if (value <= 0) {
        throw new IllegalArgumentException("'" + text + "' must be greater than zero");
      }
      return value;
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
  }

  /** Checks "CIDR" or "CIDR:port" (IPv4) and returns it unchanged. */
  static String checkAllowEntry(String entry) {
    String cidr = entry;
    int colon = entry.indexOf(':');
    if (colon >= 0) {
      cidr = entry.substring(0, colon);
      String port = entry.substring(colon + 1);
      HostPort.parse("0.0.0.0:" + port);
    }
    int slash = cidr.indexOf('/');
    String address = slash < 0 ? cidr : cidr.substring(0, slash);
    HostPort.parse(address + ":1");
    if (!address.matches("[0-9.]+")) {
      throw new IllegalArgumentException("'" + entry + "' is not CIDR or CIDR:port (IPv4)");
    }
    if (slash >= 0) {
      String bits = cidr.substring(slash + 1);
      if (!bits.matches("[0-9]{1,2}") || Integer.parseInt(bits) > 32) {
        throw new IllegalArgumentException("'" + entry + "' has a bad prefix length");
      }
    }
    return entry;
  }

  /** A secret given inline ({@code key}) or in a file ({@code key-file}), at least 16 bytes. */
  private static Optional<byte[]> secret(ConfigSection s, String inlineKey, String fileKey, Path baseDir)
      throws ConfigException {
    Optional<String> inline = s.optionalString(inlineKey);
    Optional<String> file = s.optionalString(fileKey);
    if (inline.isPresent() && file.isPresent()) {
      throw s.error(fileKey, "give either '" + inlineKey + "' or '" + fileKey + "', not both");
    }
    byte[] bytes;
    String key;
    if (inline.isPresent()) {
      bytes = inline.get().getBytes(StandardCharsets.UTF_8);
      key = inlineKey;
    } else if (file.isPresent()) {
      Path path = baseDir.resolve(file.get());
      try {
        bytes = new String(Files.readAllBytes(path), StandardCharsets.UTF_8).trim().getBytes(StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw s.error(fileKey, "cannot read " + path + ": " + e.getMessage());
      }
      key = fileKey;
    } else {
      return Optional.empty();
    }
    if (bytes.length < MIN_KEY_BYTES) {
      throw s.error(key, "secret is too short (" + bytes.length + " bytes; at least " + MIN_KEY_BYTES + ")");
    }
    return Optional.of(bytes);
  }

  private static List<ListenerConfig> listeners(ConfigSection top, Optional<TrunkConfig> trunk,
      Map<String, PoolConfig> pools, Map<String, PeerGroupConfig> groups) throws ConfigException {
    List<ListenerConfig> result = new ArrayList<>();
    Map<String, String> byName = new HashMap<>();
    Map<String, String> byAddress = new HashMap<>();
    for (ConfigSection l : top.sections("listeners")) {
      String name = l.string("name");
      if (byName.putIfAbsent(name, l.path()) != null) {
        throw l.error("name", "duplicate listener name '" + name + "' (first at " + byName.get(name) + ")");
      }
      Protocol protocol = l.optional("protocol", ConfigLoader::protocol).orElse(Protocol.TCP);
      HostPort listen = l.required("listen", HostPort::parse);
      String addressKey = protocol + " " + listen;
      if (byAddress.putIfAbsent(addressKey, l.path()) != null) {
        throw l.error("listen", "duplicate listener: " + protocol.name().toLowerCase() + " " + listen
            + " is already used by " + byAddress.get(addressKey));
      }
      String targetText = l.string("target");
      HostPort target = null;
      String pool = null;
      if (targetText.startsWith("pool:")) {
        pool = targetText.substring(5);
        if (!pools.containsKey(pool)) {
          throw l.error("target", "no pool named '" + pool + "' (define it under pools)");
        }
      } else {
        target = l.required("target", HostPort::parse);
      }
      Via via = l.optional("via", ConfigLoader::via).orElse(Via.direct());
      if (via.kind() == Via.Kind.PEER
          && trunk.map(t -> t.peers().stream().noneMatch(p -> p.name().equals(via.peer()))).orElse(true)) {
        throw l.error("via", "no trunk peer named '" + via.peer() + "' (define it under trunk.peers)");
      }
      if (via.kind() == Via.Kind.GROUP) {
        PeerGroupConfig g = groups.get(via.peer());
        if (g == null) {
          throw l.error("via", "no peer group named '" + via.peer() + "' (define it under peer-groups)");
        }
        if (g.policy() == PeerGroupConfig.Policy.RACE && protocol == Protocol.UDP) {
          throw l.error("via", "peer group '" + g.name() + "' races OPENs, which is for tcp listeners only");
        }
        if (pool != null) {
          throw l.error("target", "a pool target is chosen on this relay; it cannot also go via a peer group");
        }
      }
      l.finish();
      result.add(new ListenerConfig(name, protocol, listen, target, pool, via));
    }
    return result;
  }

  private static Optional<InterceptConfig> intercept(Optional<ConfigSection> maybe, Optional<TrunkConfig> trunk)
      throws ConfigException {
    if (maybe.isEmpty()) {
      return Optional.empty();
    }
    ConfigSection s = maybe.get();
    List<Integer> tcpPorts = s.list("tcp-ports", ConfigLoader::port);
    List<Integer> udpPorts = s.list("udp-ports", ConfigLoader::port);
    boolean transparentSource = s.bool("transparent-source", true);
    boolean applyRules = s.bool("apply-rules", true);
    HostPort tproxy = s.optional("tproxy-listen", HostPort::parse).orElse(new HostPort("0.0.0.0", 7777));
    List<InPathRule> inPath = new ArrayList<>();
    Set<String> peerNames = new HashSet<>();
    trunk.ifPresent(t -> t.peers().forEach(p -> peerNames.add(p.name())));
    for (ConfigSection r : s.sections("in-path-rules")) {
      Cidr dst = r.optional("dst", Cidr::parse).orElse(Cidr.ANY_V4);
      PortSet ports = r.optional("port", PortSet::parse).orElse(PortSet.ANY);
      String action = r.string("action");
      InPathRule rule = switch (action) {
        case "auto-discover" -> new InPathRule(dst, ports, InPathRule.Action.AUTO_DISCOVER, null, null);
        case "pass-through" -> new InPathRule(dst, ports, InPathRule.Action.PASS_THROUGH, null, null);
        case "deny" -> new InPathRule(dst, ports, InPathRule.Action.DENY, null, null);
        case "fixed-target" -> {
          String peer = r.string("peer");
          Optional<String> backup = r.optionalString("backup");
          for (String name : backup.isPresent() ? List.of(peer, backup.get()) : List.of(peer)) {
            if (!peerNames.contains(name)) {
              throw r.error(name.equals(peer) ? "peer" : "backup", "no trunk peer named '" + name + "'");
            }
          }
          yield new InPathRule(dst, ports, InPathRule.Action.FIXED_TARGET, peer, backup.orElse(null));
        }
        default -> throw r.error("action", "'" + action + "' is not auto-discover, fixed-target, pass-through or deny");
      };
      r.finish();
      inPath.add(rule);
    }
    List<PeeringRule> peering = new ArrayList<>();
    for (ConfigSection r : s.sections("peering-rules")) {
      Cidr src = r.optional("src", Cidr::parse).orElse(Cidr.ANY_V4);
      Cidr dst = r.optional("dst", Cidr::parse).orElse(Cidr.ANY_V4);
      PortSet ports = r.optional("port", PortSet::parse).orElse(PortSet.ANY);
      String action = r.string("action");
      PeeringRule.Action a = switch (action) {
        case "accept" -> PeeringRule.Action.ACCEPT;
        case "pass-through" -> PeeringRule.Action.PASS_THROUGH;
        default -> throw r.error("action", "'" + action + "' is not accept or pass-through");
      };
      r.finish();
      peering.add(new PeeringRule(src, dst, ports, a));
    }
    s.finish();
    return Optional.of(new InterceptConfig(tcpPorts, udpPorts, transparentSource, applyRules, tproxy, inPath, peering));
  }

  private static DiscoveryConfig discovery(Optional<ConfigSection> maybe) throws ConfigException {
    DiscoveryConfig defaults = new DiscoveryConfig(253, Optional.of(0x5752), Duration.ofMinutes(30),
        Duration.ofMinutes(5), Duration.ofMinutes(60), Duration.ofSeconds(3), Optional.empty());
    if (maybe.isEmpty()) {
      return defaults;
    }
    ConfigSection s = maybe.get();
    int kind = s.integer("option-kind", 253, 1, 255);
    if (kind <= 8) {
      throw s.error("option-kind", kind + " is a standard TCP option kind; use 253/254 (experimental) or an unassigned kind");
    }
    Optional<Integer> exid = s.optional("exid", ConfigLoader::exid);
    if (kind >= 253 && exid.isEmpty()) {
      exid = Optional.of(0x5752);
    }
    if (kind < 253 && exid.isPresent()) {
      throw s.error("exid", "an ExID is only used with the experimental kinds 253 and 254");
    }
    DiscoveryConfig d = new DiscoveryConfig(kind, exid,
        positive(s, "peer-ttl", defaults.peerTtl()),
        positive(s, "no-peer-ttl", defaults.noPeerTtl()),
        positive(s, "hold-down", defaults.holdDown()),
        positive(s, "probe-timeout", defaults.probeTimeout()),
        s.optional("advertise", HostPort::parse),
        s.optional("sp-selection", ConfigLoader::spSelection).orElse(net.wanrelay.discovery.PeerSelector.Policy.PRIMARY_FIRST),
        s.bool("probe-onward", false));
    s.finish();
    return d;
  }

  private static net.wanrelay.discovery.PeerSelector.Policy spSelection(String text) {
    return switch (text) {
      case "primary-first" -> net.wanrelay.discovery.PeerSelector.Policy.PRIMARY_FIRST;
      case "consistent-hash" -> net.wanrelay.discovery.PeerSelector.Policy.CONSISTENT_HASH;
      default -> throw new IllegalArgumentException("'" + text + "' is not primary-first or consistent-hash");
    };
  }

  private static int port(String text) {
    return HostPort.parse("0.0.0.0:" + text).port();
  }

  private static int exid(String text) {
    try {
      int v = text.startsWith("0x") ? Integer.parseInt(text.substring(2), 16) : Integer.parseInt(text);
      if (v < 0 || v > 0xffff) {
        throw new IllegalArgumentException(text + " out of range (0-0xffff)");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a 16-bit number");
    }
  }

  private static Protocol protocol(String text) {
    return switch (text) {
      case "tcp" -> Protocol.TCP;
      case "udp" -> Protocol.UDP;
      default -> throw new IllegalArgumentException("'" + text + "' is not tcp or udp");
    };
  }

  private static Via via(String text) {
    if (text.equals("direct")) {
      return Via.direct();
    }
    if (text.startsWith("peer:") && text.length() > 5) {
      return new Via(Via.Kind.PEER, text.substring(5));
    }
    if (text.startsWith("group:") && text.length() > 6) {
      return new Via(Via.Kind.GROUP, text.substring(6));
    }
    if (text.equals("auto")) {
      throw new IllegalArgumentException("'auto' needs discovery, which explicit listeners do not support yet; use direct or peer:NAME");
    }
    throw new IllegalArgumentException("'" + text + "' is not direct, peer:NAME or group:NAME");
  }
}
