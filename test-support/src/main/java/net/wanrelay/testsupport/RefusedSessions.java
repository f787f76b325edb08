package net.wanrelay.testsupport;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;

/** Checks that a relay front refuses a session with a TCP reset. */
public final class RefusedSessions {
  private RefusedSessions() {}

  /**
   * Connects, writes {@code firstBytes} (may be empty) and reads. A refused session ends in a
   * reset, and on loopback that reset can arrive before {@code connect()} returns or before the
   * write, so all three steps count; EOF, data or a refused connect (nothing listening) do not.
   */
  public static SocketException assertReset(InetSocketAddress front, byte[] firstBytes) {
    SocketException e = assertThrows(SocketException.class, () -> {
      try (Socket s = new Socket()) {
        s.connect(front, 5000);
        s.setSoTimeout(10_000);
        if (firstBytes.length > 0) {
          s.getOutputStream().write(firstBytes);
        }
        int first = s.getInputStream().read();
        throw new AssertionError(first < 0 ? "EOF instead of a reset" : "data instead of a reset");
      }
    });
    if (e instanceof ConnectException) {
      throw new AssertionError("nothing accepted the connection: " + e.getMessage(), e);
    }
    return e;
  }
}
