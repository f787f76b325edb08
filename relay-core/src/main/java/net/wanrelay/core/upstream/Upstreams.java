package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.udp.UdpLegFactory;

/**
 * Upstream pools with health probes, and the runtime divert map (DESIGN.md section 6).
 * Placeholder: pools are refused at start; the divert map is empty.
 */
public final class Upstreams implements AutoCloseable {
  private Upstreams() {}

  public static Upstreams start(UpstreamContext ctx) {
    if (!ctx.config().pools().isEmpty()) {
      throw new IllegalStateException("upstream pools are not available in this build");
    }
    return new Upstreams();
  }

  /** Legs for a listener whose target is {@code pool:NAME}. */
  public TcpLegFactory tcpLegs(String pool) {
    throw new IllegalStateException("upstream pools are not available in this build");
  }

  public UdpLegFactory udpLegs(String pool) {
    throw new IllegalStateException("upstream pools are not available in this build");
  }

  /** The destination a new session should use instead of {@code original} (divert map), or it. */
  public InetSocketAddress divert(InetSocketAddress original) {
    return original;
  }

  @Override
  public void close() {}
}
