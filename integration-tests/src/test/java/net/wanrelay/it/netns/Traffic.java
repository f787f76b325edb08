package net.wanrelay.it.netns;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;

/**
 * Traffic end points for namespace tests, run inside this JVM: sockets are created on threads
 * that entered the node's namespace ({@link Topology#call}).
 */
public final class Traffic {
  private Traffic() {}

  /**
   * Accepts connections on a daemon thread until {@code server} is closed, and hands each to
   * {@code handler} on a daemon thread of its own.
   */
  public static void serveEach(ServerSocket server, String name, java.util.function.Consumer<Socket> handler) {
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException e) {
          return;
        }
        Thread t = new Thread(() -> handler.accept(s), name + "-conn");
        t.setDaemon(true);
        t.start();
      }
    }, name);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Bytes and SHA-256 of one direction of a transfer. */
  public record Digest(long bytes, String sha256) {}

  /** Accepts TCP connections and records, per connection, the bytes it received and their hash. */
  public static final class TcpSink implements AutoCloseable {
    private final ServerSocket server;
    private final BlockingQueue<Digest> received = new LinkedBlockingQueue<>();

    TcpSink(ServerSocket server) {
      this.server = server;
      serveEach(server, "tcp-sink", this::drain);
    }

    private void drain(Socket s) {
      MessageDigest md = Hashes.sha256();
      long n = 0;
      byte[] buf = new byte[65536];
      try (s; InputStream in = s.getInputStream()) {
        int r;
        while ((r = in.read(buf)) >= 0) {
          md.update(buf, 0, r);
          n += r;
        }
      } catch (IOException e) {
        n = -1 - n; // marks a connection that ended in an error
      }
      received.add(new Digest(n, Hashes.hex(md.digest())));
    }

    /** The next finished connection's digest (waits up to {@code seconds}). */
    public Digest next(long seconds) throws InterruptedException {
      Digest d = received.poll(seconds, TimeUnit.SECONDS);
      if (d == null) {
        throw new AssertionError("no connection finished within " + seconds + " s");
      }
      return d;
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  public static TcpSink tcpSink(Topology topo, String node, int port) {
    return new TcpSink(topo.call(node, () -> {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(port), 64);
      return s;
    }));
  }

  /** Connects from {@code node} and sends {@code bytes} seeded pseudo-random bytes; returns what was sent. */
  public static Digest sendTcp(Topology topo, String node, String host, int port, long bytes, long seed)
      throws IOException {
    Socket s = topo.call(node, () -> {
      Socket c = new Socket();
      c.connect(new InetSocketAddress(host, port), 10_000);
      return c;
    });
    MessageDigest md = Hashes.sha256();
    SplittableRandom random = new SplittableRandom(seed);
    byte[] buf = new byte[65536];
    try (s; OutputStream out = s.getOutputStream()) {
      long left = bytes;
      while (left > 0) {
        int n = (int) Math.min(buf.length, left);
        Hashes.fill(random, buf);
        md.update(buf, 0, n);
        out.write(buf, 0, n);
        left -= n;
      }
      s.shutdownOutput();
    }
    return new Digest(bytes, Hashes.hex(md.digest()));
  }

  /** Echoes every UDP datagram back to its sender, and counts them. */
  public static final class UdpEcho implements AutoCloseable {
    private final DatagramSocket socket;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile long firstNanos;
    private volatile long lastNanos;
    private final boolean reply;

    UdpEcho(DatagramSocket socket, boolean reply) {
      this.socket = socket;
      this.reply = reply;
      Thread t = new Thread(this::loop, "udp-echo");
      t.setDaemon(true);
      t.start();
    }

    private void loop() {
      byte[] buf = new byte[65536];
      while (!socket.isClosed()) {
        try {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          socket.receive(p);
          long now = System.nanoTime();
          if (count.getAndIncrement() == 0) {
            firstNanos = now;
          }
          lastNanos = now;
          bytes.addAndGet(p.getLength());
          if (reply) {
            socket.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), p.getSocketAddress()));
          }
        } catch (IOException e) {
          if (socket.isClosed()) {
            return;
          }
        }
      }
    }

    /** Payload bytes received so far. */
    public long receivedBytes() {
      return bytes.get();
    }

    /** Nanoseconds between the first and the last datagram received. */
    public long receivingNanos() {
      return lastNanos - firstNanos;
    }

    /** Datagrams received so far. */
    public long received() {
      return count.get();
    }

    @Override
    public void close() {
      socket.close();
    }
  }

  /** A UDP echo server ({@code reply=false}: a counting sink) on {@code port} in {@code node}. */
  public static UdpEcho udpEcho(Topology topo, String node, int port, boolean reply) {
    return new UdpEcho(topo.call(node, () -> {
      DatagramSocket s = new DatagramSocket(null);
      s.setReuseAddress(true);
      s.setReceiveBufferSize(8 << 20);
      s.bind(new InetSocketAddress(port));
      return s;
    }), reply);
  }

  /** A UDP socket opened in {@code node} and connected to host:port. */
  public static DatagramSocket udpClient(Topology topo, String node, String host, int port) {
    return topo.call(node, () -> {
      DatagramSocket s = new DatagramSocket();
      s.connect(new InetSocketAddress(host, port));
      return s;
    });
  }

  /**
   * Sends {@code count} numbered datagrams one at a time and waits for each echo (or a 2 s
   * timeout); returns the round-trip times in nanoseconds of those that came back.
   */
  public static List<Long> udpRoundTrips(DatagramSocket s, int count, int size) throws IOException {
    List<Long> rtts = new ArrayList<>();
    byte[] out = new byte[Math.max(size, 8)];
    byte[] in = new byte[out.length + 16];
    s.setSoTimeout(2000);
    for (int i = 0; i < count; i++) {
      ByteBuffer.wrap(out).putLong(0, i);
      long start = System.nanoTime();
      s.send(new DatagramPacket(out, out.length));
      while (true) {
        DatagramPacket p = new DatagramPacket(in, in.length);
        try {
          s.receive(p);
        } catch (SocketTimeoutException e) {
          break;
        }
        if (p.getLength() == out.length && ByteBuffer.wrap(in).getLong(0) == i) {
          rtts.add(System.nanoTime() - start);
          break;
        }
      }
    }
    return rtts;
  }

  /** Median of the values (sorted copy). */
  public static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }

  /** A statistics counter (e.g. rx_bytes) of the interface in {@code node} that leads to {@code neighbour}. */
  public static long interfaceCounter(Topology topo, String node, String neighbour, String counter) {
    ExecResult r = topo.exec(node, "cat /sys/class/net/" + neighbour + "/statistics/" + counter).orThrow();
    return Long.parseLong(r.stdout().strip());
  }
}
