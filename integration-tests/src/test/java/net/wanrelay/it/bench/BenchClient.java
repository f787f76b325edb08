package net.wanrelay.it.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.testsupport.Hashes;

/** The client end of the benchmark; everything runs on a thread inside the client namespace. */
final class BenchClient {
  private BenchClient() {}

  /**
   * {@code count} short sessions one after another (connect, 64-byte request, 512-byte reply);
   * returns each session's time from the start of connect to the reply's first byte, in ns.
   */
  static List<Long> timeToFirstByte(Topology topo, String host, int port, int count) {
    return topo.call("client", () -> {
      List<Long> out = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        out.add(oneSession(host, port, i));
      }
      return out;
    });
  }

  /**
   * Runs {@code sessions} short sessions on {@code threads} parallel clients, not measured. A JVM
   * relay interprets its session path until the JIT has compiled it, which takes thousands of
   * sessions; a relay in service has long been warm, and the loopback bench warms up the same way.
   */
  static void warmUp(Topology topo, String host, int port, int threads, int sessions) {
    topo.call("client", () -> {
      AtomicInteger next = new AtomicInteger();
      AtomicReference<Exception> failure = new AtomicReference<>();
      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        // Threads started here inherit this thread's network namespace.
        Thread c = new Thread(() -> {
          for (int n = next.getAndIncrement(); n < sessions && failure.get() == null; n = next.getAndIncrement()) {
            try {
              oneSession(host, port, n);
            } catch (IOException e) {
              failure.compareAndSet(null, e);
            }
          }
        }, "warm-up-" + i);
        c.start();
        clients.add(c);
      }
      for (Thread c : clients) {
        c.join();
      }
      if (failure.get() != null) {
        throw new IOException("warm-up through " + host + ":" + port + " failed", failure.get());
      }
      return null;
    });
  }

  /** One short session; returns the time from the start of connect to the reply's first byte. */
  private static long oneSession(String host, int port, int i) throws IOException {
    byte[] request = new byte[1 + BenchServer.REQUEST];
    request[0] = 'R';
    long start = System.nanoTime();
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(10_000);
      s.connect(new InetSocketAddress(host, port), 10_000);
      OutputStream o = s.getOutputStream();
      o.write(request);
      o.flush();
      InputStream in = s.getInputStream();
      int first = in.read();
      long ttfb = System.nanoTime() - start;
      if (first < 0) {
        throw new IOException("session " + i + ": connection closed before the reply");
      }
      new DataInputStream(in).readFully(new byte[BenchServer.REPLY - 1]);
      return ttfb;
    }
  }

  /** Outcome of one bulk upload. */
  record Upload(long bytes, String sha256, long startNanos, boolean capped, long receivedAtCap) {}

  /**
   * Uploads {@code bytes} seeded random bytes; stops writing and aborts the connection (RST)
   * once {@code capNanos} have passed, so a crawling transfer cannot stall the whole run.
   */
  static Upload upload(Topology topo, String host, int port, long bytes, long seed, long capNanos,
      java.util.function.LongSupplier receivedSoFar) {
    return topo.call("client", () -> {
      long start = System.nanoTime();
      Socket s = new Socket();
      s.connect(new InetSocketAddress(host, port), 10_000);
      MessageDigest md = Hashes.sha256();
      SplittableRandom random = new SplittableRandom(seed);
      byte[] buf = new byte[1 << 16];
      OutputStream o = s.getOutputStream();
      o.write('B');
      long left = bytes;
      boolean capped = false;
      long receivedAtCap = -1;
      // Write in chunks; the cap is checked between them (a blocked write waits for the window).
      while (left > 0) {
        if (System.nanoTime() - start > capNanos) {
          capped = true;
          receivedAtCap = receivedSoFar.getAsLong();
          break;
        }
        int n = (int) Math.min(buf.length, left);
        Hashes.fill(random, buf);
        md.update(buf, 0, n);
        o.write(buf, 0, n);
        left -= n;
      }
      if (capped) {
        s.setSoLinger(true, 0);
        s.close();
      } else {
        s.shutdownOutput();
        s.getInputStream().read(); // wait for the server's close: everything arrived
        s.close();
      }
      return new Upload(bytes - left, Hashes.hex(md.digest()), start, capped, receivedAtCap);
    });
  }
}
