package net.wanrelay.it.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The far end of the idle-session benchmark: one selector thread that accepts on several loopback
 * ports and echoes whatever arrives (a byte per session here), so 100,000 open connections cost
 * it no thread each. JDK only, so bench scripts compile it with javac.
 *
 * <p>{@code java net.wanrelay.it.soak.IdleEchoServer --listen 127.0.0.1 --ports 9001,9002,...}
 */
public final class IdleEchoServer {
  private IdleEchoServer() {}

  public static void main(String[] args) throws IOException {
    String host = "127.0.0.1";
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--listen" -> host = args[++i];
        case "--ports" -> {
          for (String p : args[++i].split(",")) {
            ports.add(Integer.parseInt(p.trim()));
          }
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    InetAddress address = InetAddress.getByName(host);
    if (!address.isLoopbackAddress()) {
      throw new IllegalArgumentException("loopback addresses only: " + host);
    }
    Selector selector = Selector.open();
    for (int port : ports) {
      ServerSocketChannel server = ServerSocketChannel.open();
      server.bind(new InetSocketAddress(address, port), 8192);
      server.configureBlocking(false);
      server.register(selector, SelectionKey.OP_ACCEPT);
    }
    System.out.println("idle-echo: listening on " + host + " ports " + ports);
    System.out.flush();
    ByteBuffer buf = ByteBuffer.allocateDirect(16 * 1024);
    long open = 0;
    while (true) {
      selector.select();
      Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        try {
          if (key.isAcceptable()) {
            SocketChannel c;
            while ((c = ((ServerSocketChannel) key.channel()).accept()) != null) {
              c.configureBlocking(false);
              c.register(selector, SelectionKey.OP_READ);
              open++;
            }
          } else if (key.isReadable()) {
            SocketChannel c = (SocketChannel) key.channel();
            buf.clear();
            int n = c.read(buf);
            if (n < 0) {
              key.cancel();
              c.close();
              open--;
            } else if (n > 0) {
              buf.flip();
              c.write(buf); // a byte or a few: the socket buffer always takes it
            }
          }
        } catch (IOException e) {
          key.cancel();
          key.channel().close();
          open--;
        }
      }
    }
  }
}
