package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TCP listeners accept on every worker loop (one SO_REUSEPORT socket per loop, with epoll). What
 * must still hold: a port that something else listens on fails the start, as a plain bind would
 * (SO_REUSEPORT alone would let a second relay share it silently); sessions work whichever loop
 * accepts them.
 */
class ListenerPerLoopTest {

  @Test
  void busyPortFailsTheStart() throws Exception {
    // The other listener has SO_REUSEPORT too (as another relay would): the kernel alone would let
    // the relay join its port.
    try (ServerSocket other = new ServerSocket()) {
      other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      String yaml = """
          node: { id: busy, admin: 127.0.0.1:%d }
          listeners:
            - { name: taken, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:9, via: direct }
          """.formatted(Loopback.freePort(), other.getLocalPort());
      assertThatThrownBy(() -> Loopback.startRelay(yaml).close())
          .hasMessageContaining("127.0.0.1:" + other.getLocalPort());
    }
  }

  @Test
  void sessionsOnEveryLoopReachTheTarget() throws Exception {
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho();
        Relay relay = Loopback.startRelay("""
            node: { id: fwd, admin: 127.0.0.1:%d }
            listeners:
              - { name: echo, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: direct }
            """.formatted(Loopback.freePort(), Loopback.freePort(), echo.port()))) {
      InetSocketAddress listen = relay.tcpListeners().get(0).localAddress();
      // Enough connections that the kernel's spread touches every loop's socket.
      List<Socket> open = new ArrayList<>();
      try {
        for (int i = 0; i < 64; i++) {
          Socket s = Loopback.connect(listen);
          open.add(s);
          OutputStream out = s.getOutputStream();
          out.write(new byte[] {(byte) i, 1, 2});
          out.flush();
        }
        for (int i = 0; i < open.size(); i++) {
          InputStream in = open.get(i).getInputStream();
          assertThat(in.readNBytes(3)).containsExactly((byte) i, 1, 2);
        }
      } finally {
        for (Socket s : open) {
          s.close();
        }
      }
    }
  }
}
