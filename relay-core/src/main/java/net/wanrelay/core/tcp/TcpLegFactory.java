package net.wanrelay.core.tcp;

/**
 * Starts the far side of a freshly accepted client connection: a direct server leg, or a stream
 * on the trunk. Called on the client channel's event loop with AUTO_READ off; the factory owns the
 * client channel from then on and must end {@code session} on every path.
 */
@FunctionalInterface
public interface TcpLegFactory {
  void start(TcpSession session);
}
