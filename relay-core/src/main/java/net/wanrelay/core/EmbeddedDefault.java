package net.wanrelay.core;

import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.net.Transport;

/**
 * What {@code wanrelay run} starts without a config: a built-in echo target on loopback and a
 * relay in front of it, so a newcomer can connect at once and watch the metrics move.
 */
public final class EmbeddedDefault {
  public static final int ECHO_PORT = 17000;
  public static final int TCP_PORT = 17001;
  public static final int UDP_PORT = 17001;
  public static final int DIRECT_PORT = 17002;
  public static final int TRUNK_PORT = 17800;

  private final EventLoopGroup group;
  private final EchoServer echo;
  private final RelayConfig config;

  private EmbeddedDefault(EventLoopGroup group, EchoServer echo, RelayConfig config) {
    this.group = group;
    this.echo = echo;
    this.config = config;
  }

  /**
   * One process plays both ends of a pair: its trunk listener (SP role) is also its own peer
   * (CP role), so sessions really cross an authenticated trunk on loopback.
   */
  static String yaml(String key) {
    return """
        node: { id: embedded, admin: 127.0.0.1:9464, drain-timeout: 5s }
        trunk:
          listen: 127.0.0.1:%d
          key: "%s"
          allow: [ 127.0.0.1/32 ]
          peers: [ { name: self, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
        listeners:
          - { name: echo-tcp, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:self }
          - { name: echo-udp, protocol: udp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:self }
          - { name: echo-direct, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: direct }
        """.formatted(TRUNK_PORT, key, TRUNK_PORT, key, TCP_PORT, ECHO_PORT, UDP_PORT, ECHO_PORT, DIRECT_PORT, ECHO_PORT);
  }

  private static String randomKey() {
    byte[] bytes = new byte[24];
    new java.security.SecureRandom().nextBytes(bytes);
    return java.util.HexFormat.of().formatHex(bytes);
  }

  public static EmbeddedDefault start() throws InterruptedException, ConfigException {
    Transport transport = Transport.detect();
    EventLoopGroup group = transport.newGroup(1);
    EchoServer echo = new EchoServer();
    try {
      echo.start(transport, group, new InetSocketAddress("127.0.0.1", ECHO_PORT));
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
    return new EmbeddedDefault(group, echo, ConfigLoader.parse("<embedded default>", yaml(randomKey())));
  }

  public RelayConfig config() {
    return config;
  }

  public void describe(PrintWriter out, Relay relay) {
    out.println("  embedded default: a loopback relay pair (trunk on 127.0.0.1:" + TRUNK_PORT
        + ") in front of a built-in echo target on 127.0.0.1:" + ECHO_PORT);
    out.println("  try:  echo hello | nc -q1 127.0.0.1 " + TCP_PORT + "      (TCP over the trunk)");
    out.println("        echo hello | nc -u -w1 127.0.0.1 " + UDP_PORT + "    (UDP over the trunk)");
    out.println("        echo hello | nc -q1 127.0.0.1 " + DIRECT_PORT + "      (TCP, plain forward)");
    out.println("  stop with Ctrl-C");
  }

  public void stop() {
    echo.stop();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
