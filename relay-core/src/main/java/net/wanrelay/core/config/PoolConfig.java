package net.wanrelay.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * An upstream pool: a service name over several addresses, a choice policy, an active health
 * probe per address, and a fallback when none is healthy. {@code resumable} (UDP): a flow moves to
 * another member with its next datagram when its member leaves the rotation or is diverted.
 */
public record PoolConfig(
    String name,
    Policy policy,
    List<HostPort> members,
    HealthConfig health,
    Optional<HostPort> fallback,
    boolean resumable) {

  public enum Policy { PRIMARY_BACKUP, ROUND_ROBIN, LEAST_SESSIONS, LOWEST_RTT }

  /**
   * The health probe: {@code send} bytes and expect a reply starting with {@code expect}; with
   * neither, a plain connect (the weakest kind of probe). With {@code protocol: udp} the probe is one
   * datagram ({@code send}, required) and a reply starting with {@code expect} (or any reply).
   */
  public record HealthConfig(
      Duration interval, Duration timeout, int rise, int fall, Optional<String> send, Optional<String> expect,
      RelayConfig.Protocol protocol) {}
}
