package net.wanrelay.channel;

import java.net.InetSocketAddress;
import net.wanrelay.channel.frame.OpenRequest;

/**
 * SP hook run for every peer-opened stream before the allow-list check: may rewrite the
 * destination (pools, divert map) or return null to refuse it (OPEN_FAIL denied). Called on an
 * event loop: must not block. The result must be a resolved address.
 */
@FunctionalInterface
public interface DestinationResolver {
  DestinationResolver IDENTITY = (request, peer) -> request.destination();

  InetSocketAddress resolve(OpenRequest request, String peerNodeId);

  /**
   * The form {@link ServerLegAcceptor} calls: like {@link #resolve(OpenRequest, String)}, with the
   * stream at hand for resolvers that follow it (e.g. count a pool member's open sessions until
   * {@link TrunkStream#whenClosed}).
   */
  default InetSocketAddress resolve(TrunkStream stream) {
    return resolve(stream.request(), stream.connection().peerNodeId());
  }
}
