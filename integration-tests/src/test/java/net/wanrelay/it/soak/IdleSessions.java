package net.wanrelay.it.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Opens many TCP sessions and holds them open, idle: each connects from a source address spread
 * over 127.0.0.0/8 (so neither the client nor the relay runs out of ephemeral ports), sends one
 * byte and waits for its echo (so the session really crossed the relay pair), then stays silent.
 * At most {@code --window} sessions are being set up at once. When all are up it writes
 * {@code --ready FILE}, holds them until {@code --release FILE} exists, then closes them all.
 *
 * <p>{@code java net.wanrelay.it.soak.IdleSessions --targets 127.0.0.1:P1,127.0.0.1:P2 --sessions 100000
 * [--window 500] [--per-source 1000] [--ready F] [--release F] [--timeout-seconds 1800]}
 *
 * <p>Prints progress lines and one result line {@code established=N errors=E seconds=S rate=R
 * errors_by_kind={..}}.
 */
public final class IdleSessions {
  private IdleSessions() {}

  private static final class Session {
    final SocketChannel channel;
    boolean echoed;

    Session(SocketChannel channel) {
      this.channel = channel;
    }
  }

  public static void main(String[] args) throws Exception {
    List<InetSocketAddress> targets = new ArrayList<>();
    int sessions = 1000;
    int window = 500;
    int perSource = 1000;
    Path ready = null;
    Path release = null;
    long timeoutSeconds = 1800;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--targets" -> {
          for (String t : args[++i].split(",")) {
            int colon = t.lastIndexOf(':');
            InetSocketAddress a = new InetSocketAddress(InetAddress.getByName(t.substring(0, colon)),
                Integer.parseInt(t.substring(colon + 1)));
            if (!a.getAddress().isLoopbackAddress()) {
              throw new IllegalArgumentException("loopback targets only: " + t);
            }
            targets.add(a);
          }
        }
        case "--sessions" -> sessions = Integer.parseInt(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        case "--per-source" -> perSource = Integer.parseInt(args[++i]);
        case "--ready" -> ready = Path.of(args[++i]);
        case "--release" -> release = Path.of(args[++i]);
        case "--timeout-seconds" -> timeoutSeconds = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("--targets is required");
    }
    Selector selector = Selector.open();
    List<SocketChannel> held = new ArrayList<>(sessions);
    Map<String, Long> errors = new TreeMap<>();
    ByteBuffer one = ByteBuffer.allocate(1);
    long start = System.nanoTime();
    long deadline = start + timeoutSeconds * 1_000_000_000L;
    int started = 0;
    int pending = 0;
    long lastReport = start;
    while (held.size() + errorCount(errors) < sessions && System.nanoTime() < deadline) {
      while (pending < window && started < sessions) {
        int n = started++;
        // 127.1.0.1, 127.1.0.2, ...: perSource sessions per source address.
        int src = n / perSource + 1;
        InetAddress source = InetAddress.getByAddress(new byte[] {127, (byte) (1 + (src >> 16)), (byte) (src >> 8), (byte) src});
        SocketChannel c = SocketChannel.open();
        try {
          c.configureBlocking(false);
          c.bind(new InetSocketAddress(source, 0));
          c.connect(targets.get(n % targets.size()));
          c.register(selector, SelectionKey.OP_CONNECT, new Session(c));
          pending++;
        } catch (IOException e) {
          count(errors, "connect:" + e.getClass().getSimpleName());
          c.close();
        }
      }
      selector.select(200);
      Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        Session s = (Session) key.attachment();
        try {
          if (key.isConnectable()) {
            s.channel.finishConnect();
            s.channel.write(ByteBuffer.wrap(new byte[] {'h'}));
            key.interestOps(SelectionKey.OP_READ);
          } else if (key.isReadable()) {
            one.clear();
            int r = s.channel.read(one);
            if (r < 0) {
              throw new IOException("closed before the echo");
            }
            if (r == 1 && one.get(0) == 'h' && !s.echoed) {
              s.echoed = true;
              key.interestOps(0);
              held.add(s.channel);
              pending--;
            }
          }
        } catch (IOException e) {
          count(errors, e.getMessage() != null && e.getMessage().contains("reset") ? "reset"
              : e.getMessage() != null && e.getMessage().contains("refused") ? "refused" : "io");
          key.cancel();
          s.channel.close();
          pending--;
        }
      }
      long now = System.nanoTime();
      if (now - lastReport > 5_000_000_000L) {
        lastReport = now;
        System.out.printf(Locale.ROOT, "idle-sessions: %d established, %d errors, %.0f s%n",
            held.size(), errorCount(errors), (now - start) / 1e9);
        System.out.flush();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "established=%d errors=%d seconds=%.1f rate=%.0f errors_by_kind=%s%n",
        held.size(), errorCount(errors), seconds, held.size() / seconds, errors);
    System.out.flush();
    if (ready != null) {
      Files.writeString(ready, held.size() + "\n");
    }
    if (release != null) {
      while (!Files.exists(release)) {
        Thread.sleep(200);
      }
    }
    // Every held session must still be open (nothing closed it while idle): a read would block.
    long closedWhileHeld = 0;
    for (SelectionKey key : selector.keys()) {
      if (key.isValid()) {
        key.interestOps(SelectionKey.OP_READ);
      }
    }
    selector.selectNow();
    for (SelectionKey key : selector.selectedKeys()) {
      one.clear();
      try {
        if (((Session) key.attachment()).channel.read(one) < 0) {
          closedWhileHeld++;
        }
      } catch (IOException e) {
        closedWhileHeld++;
      }
    }
    for (SocketChannel c : held) {
      c.close();
    }
    System.out.println("closed=" + held.size() + " closed_by_peer_while_held=" + closedWhileHeld);
  }

  private static void count(Map<String, Long> errors, String kind) {
    errors.merge(kind, 1L, Long::sum);
  }

  private static long errorCount(Map<String, Long> errors) {
    long n = 0;
    for (long v : errors.values()) {
      n += v;
    }
    return n;
  }
}
