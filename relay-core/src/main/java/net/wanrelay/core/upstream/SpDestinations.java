package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.wanrelay.channel.DestinationResolver;
import net.wanrelay.channel.TrunkStream;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.core.config.RelayConfig.DestinationMapping;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;

/**
 * SP: where an OPEN from a peer goes. A destination listed in {@code trunk.destinations} goes to
 * its fixed target or to a healthy member of its pool (the pool's policy, health and fallback, as
 * for a listener; the member's open-session count follows the stream); then the divert map applies,
 * as for every new session. Runs on the trunk event loop and never blocks.
 */
final class SpDestinations implements DestinationResolver {
  private record Target(InetSocketAddress address, Pool pool) {}

  private final Map<String, Target> byDestination = new HashMap<>();
  private final DivertMap divert;
  private final RelayMetrics metrics;

  SpDestinations(List<DestinationMapping> mappings, Map<String, Pool> pools, DivertMap divert, RelayMetrics metrics) {
    this.divert = divert;
    this.metrics = metrics;
    for (DestinationMapping m : mappings) {
      InetSocketAddress match = m.match().resolve();
      byDestination.put(OpenSessions.text(match),
          new Target(m.pool() == null ? m.target().resolve() : null, m.pool() == null ? null : pools.get(m.pool())));
    }
  }

  @Override
  public InetSocketAddress resolve(OpenRequest request, String peerNodeId) {
    return route(request, null);
  }

  @Override
  public InetSocketAddress resolve(TrunkStream stream) {
    return route(stream.request(), stream);
  }

  private InetSocketAddress route(OpenRequest request, TrunkStream stream) {
    InetSocketAddress dst = request.destination();
    Target t = byDestination.isEmpty() ? null : byDestination.get(OpenSessions.text(dst));
    if (t == null) {
      return dst.isUnresolved() ? dst : divert.apply(dst);
    }
    if (t.pool() == null) {
      return divert.apply(t.address());
    }
    Member member = t.pool().choose();
    if (member != null) {
      member.sessions.incrementAndGet();
      if (stream != null) {
        stream.whenClosed(member.sessions::decrementAndGet);
      } else {
        member.sessions.decrementAndGet(); // no stream to follow: do not leak the count
      }
      return divert.apply(member.address);
    }
    if (t.pool().fallback.isPresent()) {
      return divert.apply(t.pool().fallback.get());
    }
    metrics.refused(request.protocol() == net.wanrelay.channel.frame.StreamProtocol.TCP ? Protocol.TCP : Protocol.UDP,
        PoolTcpLegs.NO_HEALTHY);
    return null; // OPEN_FAIL denied: no healthy member, no fallback
  }
}
