package net.wanrelay.channel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Consumer;

/** Small thread-per-connection servers on 127.0.0.1 for behaviour tests. */
final class BlockingServers {
  private BlockingServers() {}

  static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  /** Runs {@code handler} for each accepted socket on its own thread; close the ServerSocket to stop. */
  static ServerSocket tcp(Consumer<Socket> handler) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try {
          Socket s = ss.accept();
          Thread w = new Thread(() -> {
            try (s) {
              handler.accept(s);
            } catch (IOException ignored) {
              // test server
            }
          });
          w.setDaemon(true);
          w.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "test-tcp-server");
    t.setDaemon(true);
    t.start();
    return ss;
  }

  /** Echoes every byte back until EOF, then closes. */
  static ServerSocket echo() throws IOException {
    return tcp(s -> {
      try {
        s.getInputStream().transferTo(s.getOutputStream());
      } catch (IOException ignored) {
        // peer reset
      }
    });
  }

  /** UDP echo on 127.0.0.1; close the socket to stop. */
  static DatagramSocket udpEcho() throws IOException {
    DatagramSocket ds = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    Thread t = new Thread(() -> {
      byte[] buf = new byte[65536];
      while (!ds.isClosed()) {
        try {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          ds.receive(p);
          ds.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), p.getSocketAddress()));
        } catch (IOException e) {
          return;
        }
      }
    }, "test-udp-echo");
    t.setDaemon(true);
    t.start();
    return ds;
  }

  static InetSocketAddress addr(ServerSocket ss) {
    return new InetSocketAddress("127.0.0.1", ss.getLocalPort());
  }
}
