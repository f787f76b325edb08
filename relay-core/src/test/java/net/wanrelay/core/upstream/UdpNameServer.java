package net.wanrelay.core.upstream;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** A blocking loopback UDP server: "ping" -> "pong", anything else -> its name (counted); can be muted. */
final class UdpNameServer implements AutoCloseable {
  final String name;
  final AtomicInteger requests = new AtomicInteger();
  private final DatagramSocket socket;
  private final Thread thread;
  private volatile boolean muted;

  UdpNameServer(String name) throws IOException {
    this.name = name;
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    thread = new Thread(this::serve, "udp-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  String address() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  void mute(boolean on) {
    muted = on;
  }

  private void serve() {
    byte[] buf = new byte[2048];
    while (!socket.isClosed()) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(p);
        if (muted) {
          continue;
        }
        String text = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
        String reply;
        if (text.equals("ping")) {
          reply = "pong";
        } else {
          requests.incrementAndGet();
          reply = name;
        }
        byte[] out = reply.getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
