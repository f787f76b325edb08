package net.wanrelay.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The whole validated configuration. Built only by {@link ConfigLoader}; never half-valid. */
public record RelayConfig(
    NodeConfig node,
    List<ListenerConfig> listeners,
    Optional<TrunkConfig> trunk,
    LimitsConfig limits,
    Optional<InterceptConfig> intercept,
    DiscoveryConfig discovery,
    java.util.Map<String, PoolConfig> pools,
    java.util.Map<String, PeerGroupConfig> peerGroups) {

  public enum Protocol { TCP, UDP }

  /**
   * Node identity, the admin endpoint, and how many I/O threads (event loops) carry sessions and
   * trunk connections.
   */
  public record NodeConfig(String id, HostPort admin, Optional<String> adminToken, Duration drainTimeout,
                           int ioThreads) {
    /** One event loop per core: more only adds thread switches. */
    public static int defaultIoThreads() {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  /**
   * Where a listener's sessions go: straight to the target, over the trunk to a named peer, or to
   * one peer of a peer group ({@code peer} then names the group).
   */
  public record Via(Kind kind, String peer) {
    public enum Kind { DIRECT, PEER, GROUP }

    public static Via direct() {
      return new Via(Kind.DIRECT, null);
    }

    @Override
    public String toString() {
      return kind == Kind.DIRECT ? "direct" : (kind == Kind.GROUP ? "group:" : "peer:") + peer;
    }
  }

  /**
   * An explicit-mode listener: {@code listen -> target} over {@code via}. The target is an address,
   * or a pool ({@code target: pool:NAME}), in which case {@code target} is null and {@code pool} names it.
   */
  public record ListenerConfig(String name, Protocol protocol, HostPort listen, HostPort target, String pool, Via via) {
    public ListenerConfig(String name, Protocol protocol, HostPort listen, HostPort target, Via via) {
      this(name, protocol, listen, target, null, via);
    }

    public String targetText() {
      return pool != null ? "pool:" + pool : String.valueOf(target);
    }
  }

  /** One outbound trunk peer. */
  public record PeerConfig(String name, HostPort address, byte[] key, int connections) {}

  /** The trunk: optional listener (SP role), its key and allow-list, and outbound peers (CP role). */
  public record TrunkConfig(
      Optional<HostPort> listen,
      Optional<byte[]> key,
      List<String> allow,
      List<PeerConfig> peers,
      String congestionControl,
      String compression,
      Optional<DedupConfig> dedup,
      List<DestinationMapping> destinations,
      Optional<TlsConfig> tls,
      TrunkTimers timers) {}

  /**
   * SP: an OPEN for {@code match} goes to {@code target}, or to a member of pool {@code pool}
   * (exactly one of the two is set). The allow-list is checked on the result.
   */
  public record DestinationMapping(HostPort match, HostPort target, String pool) {
    public String targetText() {
      return pool != null ? "pool:" + pool : String.valueOf(target);
    }
  }

  /**
   * TLS 1.3 with mutual certificates around every trunk connection, inbound and outbound (the PSK
   * handshake still runs inside): this node's PEM certificate chain and PKCS#8 key, and the CA
   * that signs the peers' certificates. Both ends of a trunk need it.
   */
  public record TlsConfig(Path cert, Path key, Path ca) {}

  /**
   * Trunk liveness and resumption: PING every {@code heartbeatInterval}, a connection silent for
   * {@code heartbeatTimeout} is closed; its streams wait up to {@code resumeGrace} for a
   * replacement connection (zero: they are reset at once).
   */
  public record TrunkTimers(Duration heartbeatInterval, Duration heartbeatTimeout, Duration resumeGrace) {
    public static final TrunkTimers DEFAULTS =
        new TrunkTimers(Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30));
  }

  /**
   * De-duplication on the trunk: a chunk store per peer under {@code store} (disk tier bounded by
   * {@code maxSize} per peer, memory tier by {@code memory}); without {@code store} memory only.
   */
  public record DedupConfig(boolean enabled, Optional<java.nio.file.Path> store, long maxSize, long memory) {}

  /**
   * Transparent mode (Linux, NET_ADMIN): ports intercepted by TPROXY, in-path rules (CP) and
   * peering rules (SP). {@code applyRules}: {@code run} writes the kernel rules at start and
   * removes them on exit.
   */
  public record InterceptConfig(
      List<Integer> tcpPorts,
      List<Integer> udpPorts,
      boolean transparentSource,
      boolean applyRules,
      HostPort tproxyListen,
      List<net.wanrelay.discovery.rules.InPathRule> inPathRules,
      List<net.wanrelay.discovery.rules.PeeringRule> peeringRules) {}

  /**
   * Discovery: the probe option, PMT lifetimes, (SP role) the trunk address advertised in probe
   * responses, and whether an SP probes onward for the probes it receives (enhanced discovery: the
   * furthest SP that answers is the one used).
   */
  public record DiscoveryConfig(
      int optionKind,
      Optional<Integer> exid,
      Duration peerTtl,
      Duration noPeerTtl,
      Duration holdDown,
      Duration probeTimeout,
      Optional<HostPort> advertise,
      net.wanrelay.discovery.PeerSelector.Policy spSelection,
      boolean probeOnward) {
    public DiscoveryConfig(int optionKind, Optional<Integer> exid, Duration peerTtl, Duration noPeerTtl,
        Duration holdDown, Duration probeTimeout, Optional<HostPort> advertise) {
      this(optionKind, exid, peerTtl, noPeerTtl, holdDown, probeTimeout, advertise,
          net.wanrelay.discovery.PeerSelector.Policy.PRIMARY_FIRST, false);
    }
  }

  /**
   * Limits applied to every route. {@code acceptRate}: new TCP connections per second per listener
   * (token bucket of {@code acceptBurst}), 0 = unlimited. {@code memory}: global budget for bytes
   * queued on session sockets. {@code silentTimeout}: a session in which no byte moved either way
   * is closed after it, ZERO = never. {@code maxStreamsPerLink} and {@code linkMemory} bound each
   * trunk connection (streams accepted, receive windows granted beyond the initial ones).
   */
  public record LimitsConfig(
      int maxSessions,
      int maxUdpFlows,
      Duration idleTimeout,
      Duration udpIdleTimeout,
      Duration connectTimeout,
      int acceptRate,
      int acceptBurst,
      long memory,
      Duration silentTimeout,
      int maxStreamsPerLink,
      long linkMemory) {

    public static final int DEFAULT_MAX_STREAMS_PER_LINK = 8192;
    public static final long DEFAULT_LINK_MEMORY = 256L << 20;

    /** The older shape: the newer limits at their defaults. */
    public LimitsConfig(int maxSessions, int maxUdpFlows, Duration idleTimeout, Duration udpIdleTimeout,
        Duration connectTimeout) {
      this(maxSessions, maxUdpFlows, idleTimeout, udpIdleTimeout, connectTimeout, 0, 0, 1L << 30,
          Duration.ofSeconds(30), DEFAULT_MAX_STREAMS_PER_LINK, DEFAULT_LINK_MEMORY);
    }
  }
}
