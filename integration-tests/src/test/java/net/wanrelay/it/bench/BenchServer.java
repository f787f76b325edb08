package net.wanrelay.it.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.it.netns.Traffic;
import net.wanrelay.testsupport.Hashes;

/**
 * The server end of the benchmark, on one port so each relay pair needs one forwarding rule.
 * The first byte picks the exchange: {@code 'R'} reads a 64-byte request and answers 512 bytes
 * (a short session), {@code 'B'} reads everything to EOF and records bytes, hash and when the
 * last byte came (a bulk transfer).
 */
final class BenchServer implements AutoCloseable {
  static final int REQUEST = 64;
  static final int REPLY = 512;

  /** A finished bulk upload. */
  record Bulk(long bytes, String sha256, long lastByteNanos) {}

  private final ServerSocket server;
  private final BlockingQueue<Bulk> bulks = new LinkedBlockingQueue<>();
  private final AtomicLong bulkBytes = new AtomicLong();

  BenchServer(Topology topo, String node, int port) {
    this.server = topo.call(node, () -> {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(port), 256);
      return s;
    });
    Traffic.serveEach(server, "bench-server", this::handle);
  }

  private void handle(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      int mode = in.read();
      if (mode == 'R') {
        new DataInputStream(in).readFully(new byte[REQUEST]);
        out.write(new byte[REPLY]);
        out.flush();
      } else if (mode == 'B') {
        MessageDigest md = Hashes.sha256();
        byte[] buf = new byte[1 << 16];
        long n = 0;
        long last = System.nanoTime();
        int r;
        while ((r = in.read(buf)) >= 0) {
          md.update(buf, 0, r);
          n += r;
          bulkBytes.addAndGet(r);
          last = System.nanoTime();
        }
        bulks.add(new Bulk(n, Hashes.hex(md.digest()), last));
      }
    } catch (IOException e) {
      // an aborted bulk transfer (time cap) ends here; its bytes were counted in bulkBytes
    }
  }

  /** Bulk bytes received so far (all connections). */
  long bulkBytes() {
    return bulkBytes.get();
  }

  void resetBulkBytes() {
    bulkBytes.set(0);
  }

  Bulk nextBulk(long seconds) throws InterruptedException {
    return bulks.poll(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
