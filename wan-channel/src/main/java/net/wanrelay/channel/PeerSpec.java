package net.wanrelay.channel;

import java.nio.charset.StandardCharsets;

/**
 * An outbound peer: name (metric tag and {@link TrunkNode#link(String)} key), trunk address,
 * pre-shared key and the number of parallel TCP connections to keep.
 */
public record PeerSpec(String name, String host, int port, byte[] key, int connections) {
  public PeerSpec {
    if (name == null || name.isBlank() || host == null || host.isBlank()) {
      throw new IllegalArgumentException("peer name and host are required");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("peer " + name + ": port " + port + " out of range");
    }
    if (key == null || key.length < 16) {
      throw new IllegalArgumentException("peer " + name + ": key must have at least 16 bytes");
    }
    if (connections < 1 || connections > 64) {
      throw new IllegalArgumentException("peer " + name + ": connections must be 1..64");
    }
    key = key.clone();
  }

  public PeerSpec(String name, String host, int port, String key, int connections) {
    this(name, host, port, key.getBytes(StandardCharsets.UTF_8), connections);
  }
}
