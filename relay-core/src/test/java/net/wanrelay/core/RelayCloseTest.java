package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Closing a relay twice (an explicit close, then the shutdown hook) is harmless. */
class RelayCloseTest {
  @Test
  void aSecondCloseDoesNothing() throws Exception {
    Relay relay = Loopback.startRelay("""
        node: { id: twice, admin: 127.0.0.1:%d }
        listeners:
          - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:9, via: direct }
        """.formatted(Loopback.freePort(), Loopback.freePort()));
    InetSocketAddress admin = relay.adminAddress();
    assertThat(Loopback.httpGet(admin, "/healthz")).startsWith("200");
    relay.close();
    relay.close();
    assertThatThrownBy(() -> Loopback.httpGet(admin, "/healthz")).isInstanceOf(ConnectException.class);
  }
}
