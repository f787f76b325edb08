package net.wanrelay.discovery.option;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The answer an SP puts on its SYN-ACK: the trunk addresses of the SP (several for a cluster, in
 * preference order) sharing one trunk port.
 *
 * @param version format version (1..15)
 * @param flags reserved, 0 for now
 * @param port the trunk port, 1..65535
 * @param addresses 1..{@link ProbeOptionCodec#MAX_RESPONSE_ADDRESSES} IPv4 addresses
 */
public record ProbeResponse(int version, int flags, int port, List<Inet4Address> addresses) {
  public ProbeResponse {
    if (version < 1 || version > 15) {
      throw new IllegalArgumentException("version must be 1..15, was " + version);
    }
    if (flags < 0 || flags > 0xff) {
      throw new IllegalArgumentException("flags must fit one byte, was " + flags);
    }
    if (port < 1 || port > 0xffff) {
      throw new IllegalArgumentException("port must be 1..65535, was " + port);
    }
    addresses = List.copyOf(addresses);
    if (addresses.isEmpty() || addresses.size() > ProbeOptionCodec.MAX_RESPONSE_ADDRESSES) {
      throw new IllegalArgumentException("1.." + ProbeOptionCodec.MAX_RESPONSE_ADDRESSES
          + " addresses fit the SYN-ACK option space, got " + addresses.size());
    }
  }

  /** The trunk endpoints in preference order. */
  public List<InetSocketAddress> peers() {
    return addresses.stream().map(a -> new InetSocketAddress(a, port)).toList();
  }
}
