package net.wanrelay.it.loopbench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The short-session exchange of the loopback benchmark: the client sends a 1 KiB request, the
 * server answers a 1 KiB reply computed from every request byte (so a corrupted request or reply
 * is detected), then both close.
 */
final class ShortSession {
  static final int REQUEST_BYTES = 1024;
  static final int REPLY_BYTES = 1024;

  private ShortSession() {}

  /** A request pattern that differs per session, so replies cannot be mixed up between sessions. */
  static void fillRequest(byte[] request, long sessionId) {
    long x = sessionId * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < request.length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      request[i] = (byte) x;
    }
  }

  /** The reply for a request: reversed and XOR-ed, so each reply byte depends on one request byte. */
  static void computeReply(byte[] request, byte[] reply) {
    for (int i = 0; i < REPLY_BYTES; i++) {
      reply[i] = (byte) (request[REQUEST_BYTES - 1 - (i % REQUEST_BYTES)] ^ 0xA5);
    }
  }

  static boolean replyMatches(byte[] request, byte[] reply, byte[] scratch) {
    computeReply(request, scratch);
    return java.util.Arrays.equals(reply, scratch);
  }

  /** Reads until {@code buf} is full or EOF; returns the number of bytes read. */
  static int readFully(InputStream in, byte[] buf) throws IOException {
    int n = 0;
    while (n < buf.length) {
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }

  /** Parses HOST:PORT and insists on a loopback address: this benchmark never leaves the machine. */
  static InetSocketAddress loopbackAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("'" + hostPort + "' is not HOST:PORT");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + hostPort + "' has a bad port");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("'" + hostPort + "' has a bad port");
    }
    InetAddress address;
    try {
      address = InetAddress.getByName(hostPort.substring(0, colon));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + hostPort + "': unknown host");
    }
    if (!address.isLoopbackAddress()) {
      throw new IllegalArgumentException("'" + hostPort + "' is not a loopback address (127.0.0.0/8 only)");
    }
    return new InetSocketAddress(address, port);
  }
}
