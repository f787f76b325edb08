package net.wanrelay.it.faults;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.Traffic;
import net.wanrelay.testsupport.Hashes;

/**
 * The server end of the fault cases, in the server namespace. A client opens with a header
 * ({@link Header}); the mode says what the server does:
 * <ul>
 *   <li>{@code U} upload: reads {@code length} bytes, checks they are the pattern, answers their
 *       SHA-256 (32 bytes) and closes;
 *   <li>{@code D} download: sends {@code length} bytes of the pattern (paced), half-closes, reads to EOF;
 *   <li>{@code R} reset: sends {@code length} bytes, then closes with a TCP RST (SO_LINGER 0).
 * </ul>
 * Every connection's end is recorded as a {@link Leg}: bytes each way, whether what arrived was an
 * exact prefix of the pattern, and how the leg ended (eof, reset, error).
 */
final class FaultServer implements AutoCloseable {
  /** What the client asks for: mode, pattern seed, bytes, pace in bytes per second (0: unpaced). */
  record Header(char mode, long seed, long length, long pace) {
    static final int SIZE = 25;

    byte[] encode() {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(SIZE);
      b.put((byte) mode).putLong(seed).putLong(length).putLong(pace);
      return b.array();
    }

    static Header read(DataInputStream in) throws IOException {
      char mode = (char) in.readUnsignedByte();
      return new Header(mode, in.readLong(), in.readLong(), in.readLong());
    }
  }

  /** How one server leg ended. */
  record Leg(char mode, long seed, long bytesIn, long bytesOut, boolean prefixOk, String sha256In, String end,
      long endedNanos) {
    boolean endedByError() {
      return !end.equals("eof");
    }
  }

  private final ServerSocket server;
  private final List<Leg> legs = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  private FaultServer(ServerSocket server) {
    this.server = server;
    Traffic.serveEach(server, "fault-server", this::serve);
  }

  static FaultServer start(Topology t, String node, int port) {
    return new FaultServer(t.call(node, () -> {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(port), 256);
      return s;
    }));
  }

  private void serve(Socket s) {
    open.add(s);
    Header h = null;
    long in = 0;
    long out = 0;
    boolean prefixOk = true;
    MessageDigest md = Hashes.sha256();
    String end = "eof";
    try (s) {
      s.setSoTimeout(120_000);
      DataInputStream din = new DataInputStream(s.getInputStream());
      h = Header.read(din);
      FaultPattern pattern = new FaultPattern(h.seed());
      OutputStream os = s.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      switch (h.mode()) {
        case 'U' -> {
          int r;
          while ((r = din.read(buf)) >= 0) {
            prefixOk &= in + r <= h.length() && pattern.matching(in, buf, r) == r;
            md.update(buf, 0, r);
            in += r;
          }
          os.write(md.digest());
          os.flush();
        }
        case 'D', 'R' -> {
          out = send(os, pattern, h, buf);
          if (h.mode() == 'R') {
            s.setSoLinger(true, 0);
            end = "reset-sent";
            return;
          }
          s.shutdownOutput();
          InputStream rest = s.getInputStream();
          while (rest.read(buf) >= 0) {
            // the client has nothing more to say; wait for its close
          }
        }
        default -> throw new IOException("unknown mode " + h.mode());
      }
    } catch (EOFException e) {
      end = "eof-in-header";
    } catch (IOException e) {
      // A write after the peer's RST fails with EPIPE: that is a reset too.
      String m = String.valueOf(e.getMessage());
      end = (m.toLowerCase().contains("reset") || m.contains("Broken pipe") ? "reset: " : "error: ") + m;
    } finally {
      open.remove(s);
      if (h != null) {
        legs.add(new Leg(h.mode(), h.seed(), in, out, prefixOk, Hashes.hex(md.digest()), end, System.nanoTime()));
      }
    }
  }

  private static long send(OutputStream os, FaultPattern pattern, Header h, byte[] buf) throws IOException {
    long sent = 0;
    long start = System.nanoTime();
    while (sent < h.length()) {
      int n = (int) Math.min(buf.length, h.length() - sent);
      if (h.pace() > 0) {
        n = (int) Math.min(n, 16 * 1024);
        long due = start + TimeUnit.SECONDS.toNanos(1) * sent / h.pace();
        long wait = due - System.nanoTime();
        if (wait > 0) {
          sleepNanos(wait);
        }
      }
      pattern.fill(sent, buf, n);
      os.write(buf, 0, n);
      sent += n;
    }
    os.flush();
    return sent;
  }

  static void sleepNanos(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Legs that ended so far. */
  List<Leg> legs() {
    return new ArrayList<>(legs);
  }

  /** The leg of the connection with this seed, once it ended. */
  Optional<Leg> leg(long seed) {
    return legs.stream().filter(l -> l.seed() == seed).findFirst();
  }

  /** Connections still open at the server. */
  int openLegs() {
    return open.size();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
