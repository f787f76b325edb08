package net.wanrelay.it.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TCP and UDP echo on 127.0.0.1, the "server" behind a relay in loopback tests. TCP echoes until
 * the client half-closes, then closes; UDP sends every datagram back to its sender.
 */
public final class LoopbackEchoServer implements AutoCloseable {
  private final ServerSocket tcp;
  private final DatagramSocket udp;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "loopback-echo");
    t.setDaemon(true);
    return t;
  });
  private final AtomicLong tcpBytes = new AtomicLong();
  private final AtomicLong udpDatagrams = new AtomicLong();

  public LoopbackEchoServer() {
    try {
      InetAddress lo = InetAddress.getLoopbackAddress();
      tcp = new ServerSocket(0, 50, lo);
      udp = new DatagramSocket(new InetSocketAddress(lo, 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    threads.execute(this::acceptLoop);
    threads.execute(this::udpLoop);
  }

  public int tcpPort() {
    return tcp.getLocalPort();
  }

  public int udpPort() {
    return udp.getLocalPort();
  }

  /** Bytes echoed over TCP so far: proof that a session reached the server. */
  public long tcpBytesEchoed() {
    return tcpBytes.get();
  }

  public long udpDatagramsEchoed() {
    return udpDatagrams.get();
  }

  private void acceptLoop() {
    while (!tcp.isClosed()) {
      try {
        Socket s = tcp.accept();
        threads.execute(() -> echo(s));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void echo(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      byte[] buf = new byte[16384];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        tcpBytes.addAndGet(n);
      }
      s.shutdownOutput();
    } catch (IOException ignored) {
      // the client went away; nothing to answer
    }
  }

  private void udpLoop() {
    byte[] buf = new byte[65535];
    while (!udp.isClosed()) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        udp.receive(p);
        udp.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), p.getSocketAddress()));
        udpDatagrams.incrementAndGet();
      } catch (SocketException closed) {
        return;
      } catch (IOException ignored) {
        // one bad datagram does not stop the echo
      }
    }
  }

  @Override
  public void close() {
    try {
      tcp.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    udp.close();
    threads.shutdownNow();
    try {
      threads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
