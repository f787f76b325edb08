package net.wanrelay.it.discovery;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server (made inside a namespace) that reads each connection to its end, then answers with
 * the SHA-256 of what it read followed by {@link #reply(int)} bytes, and closes. It records the
 * remote address of each connection: the address the server saw.
 */
final class HashingServer implements AutoCloseable {
  /**
   * Below the trunk's initial stream window (256 KiB) on purpose: a reply that needs a window
   * update before the server's FIN currently loses its tail on the SP (wan-channel
   * TcpStreamBridge closes the socket when both FINs are queued and then resets the stream with
   * data still waiting for credit); seen with 256 KiB + 32 bytes: 32 bytes lost, client reset.
   */
  static final int REPLY_BYTES = 64 * 1024;

  /** What one connection looked like from the server. */
  record Seen(InetSocketAddress peer, long bytes, byte[] sha256) {}

  private final ServerSocket socket;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  /** Call inside {@code Topology.call(node, ...)}: the socket is bound in that namespace. */
  static HashingServer bind(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress("0.0.0.0", port));
    return new HashingServer(s);
  }

  private HashingServer(ServerSocket socket) {
    this.socket = socket;
    this.acceptor = new Thread(this::acceptLoop, "hashing-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The deterministic reply body (same on both ends). */
  static byte[] reply(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + (i >>> 8));
    }
    return b;
  }

  private void acceptLoop() {
    while (!socket.isClosed()) {
      try {
        Socket c = socket.accept();
        Thread t = new Thread(() -> serve(c), "hashing-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket c) {
    try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        md.update(buf, 0, n);
        total += n;
      }
      byte[] digest = md.digest();
      seen.add(new Seen((InetSocketAddress) c.getRemoteSocketAddress(), total, digest));
      out.write(digest);
      out.write(reply(REPLY_BYTES));
      out.flush();
    } catch (IOException | NoSuchAlgorithmException e) {
      // the test sees the missing reply
    }
  }

  List<Seen> seen() {
    return seen;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
