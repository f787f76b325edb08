package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import net.wanrelay.core.config.PoolConfig;
import net.wanrelay.core.tcp.DirectLegFactory;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.udp.DirectUdpLegFactory;
import net.wanrelay.core.udp.UdpLegFactory;

/**
 * Upstream pools with health probes, the runtime divert map and the list of open sessions
 * (DESIGN.md section 6), plus their admin API when the context carries the admin server.
 */
public final class Upstreams implements AutoCloseable {
  private final Map<String, Pool> pools = new LinkedHashMap<>();
  private final DivertMap divert;
  private final OpenSessions sessions = new OpenSessions();
  private final DirectLegFactory direct;
  private final DirectUdpLegFactory directUdp;
  private final UpstreamContext ctx;

  private Upstreams(UpstreamContext ctx) {
    this.ctx = ctx;
    this.divert = new DivertMap(ctx.metrics().registry());
    var limits = ctx.config().limits();
    this.direct = new DirectLegFactory(ctx.transport(), ctx.metrics(), limits.connectTimeout(), limits.idleTimeout());
    this.directUdp = new DirectUdpLegFactory(ctx.transport());
  }

  /** Builds the pools, starts their probes and registers the admin API (when an admin server is given). */
  public static Upstreams start(UpstreamContext ctx) {
    Upstreams u = new Upstreams(ctx);
    for (PoolConfig p : ctx.config().pools().values()) {
      u.pools.put(p.name(), new Pool(p, ctx.transport(), ctx.workers(), ctx.metrics().registry()));
    }
    u.pools.values().forEach(Pool::start);
    if (ctx.admin() != null) {
      ctx.admin().adminToken(ctx.config().node().adminToken());
      ctx.admin().countRequestsIn(ctx.metrics().registry());
      new UpstreamApi(u.pools.values(), u.divert, u.sessions).register(ctx.admin());
    }
    return u;
  }

  /** Legs for a listener whose target is {@code pool:NAME}. */
  public TcpLegFactory tcpLegs(String pool) {
    return new PoolTcpLegs(pool(pool), direct, divert, sessions, ctx.metrics());
  }

  public UdpLegFactory udpLegs(String pool) {
    return new PoolUdpLegs(pool(pool), directUdp, divert, ctx.metrics());
  }

  private Pool pool(String name) {
    Pool p = pools.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no pool named '" + name + "'");
    }
    return p;
  }

  /**
   * Wraps a TCP listener's legs so its sessions show in {@code GET /api/sessions}; {@code original}
   * is the listener's configured target ("10.0.0.1:80" or "pool:NAME").
   */
  public TcpLegFactory tracked(String listener, String original, TcpLegFactory legs) {
    return sessions.tracking(listener, original, legs);
  }

  /** SP: where OPENs from peers go ({@code trunk.destinations}, pools, the divert map). */
  public net.wanrelay.channel.DestinationResolver spDestinations(
      java.util.List<net.wanrelay.core.config.RelayConfig.DestinationMapping> mappings) {
    return new SpDestinations(mappings, pools, divert, ctx.metrics());
  }

  /** The destination a new session should use instead of {@code original} (divert map), or it. */
  public InetSocketAddress divert(InetSocketAddress original) {
    return divert.apply(original);
  }

  /** Number of open TCP sessions listed for the admin API. */
  public int trackedSessions() {
    return sessions.size();
  }

  @Override
  public void close() {
    pools.values().forEach(Pool::close);
  }
}
