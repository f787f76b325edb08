package net.wanrelay.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on loopback that holds every chunk for a fixed delay in each direction (a WAN
 * stand-in for a trunk): bytes keep their order, a half-close is delayed like data, a closed side
 * closes the other after the queue drained. Blocking sockets and two threads per direction.
 */
final class DelayProxy implements AutoCloseable {
  private static final byte[] EOF = new byte[0];

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final long delayNanos;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "delay-proxy");
    t.setDaemon(true);
    return t;
  });
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  DelayProxy(InetSocketAddress target, long delayMillis) throws IOException {
    this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
    this.target = target;
    this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMillis);
    pool.submit(this::acceptLoop);
  }

  InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
  }

  private Void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out = new Socket();
        try {
          out.connect(target, 5000);
        } catch (IOException e) {
          in.close();
          continue;
        }
        in.setTcpNoDelay(true);
        out.setTcpNoDelay(true);
        sockets.add(in);
        sockets.add(out);
        java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();
        pipe(in, out, ended);
        pipe(out, in, ended);
      } catch (IOException e) {
        return null;
      }
    }
    return null;
  }

  /** One direction: a reader stamps chunks, a writer sends each once its delay has passed. */
  private void pipe(Socket from, Socket to, java.util.concurrent.atomic.AtomicInteger ended) {
    record Chunk(long due, byte[] bytes) {}
    LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    pool.submit(() -> {
      byte[] buf = new byte[64 * 1024];
      try {
        InputStream in = from.getInputStream();
        int n;
        while ((n = in.read(buf)) > 0) {
          queue.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buf, n)));
        }
      } catch (IOException ignored) {
        // reset or closed: end this direction like an EOF
      }
      queue.add(new Chunk(System.nanoTime() + delayNanos, EOF));
      return null;
    });
    pool.submit(() -> {
      try {
        OutputStream out = to.getOutputStream();
        while (true) {
          Chunk c = queue.take();
          long wait = c.due() - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (c.bytes() == EOF) {
            to.shutdownOutput();
            if (ended.incrementAndGet() == 2) {
              from.close();
              to.close();
            }
            return null;
          }
          out.write(c.bytes());
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        closeQuietly(from);
        closeQuietly(to);
        return null;
      }
    });
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    sockets.forEach(DelayProxy::closeQuietly);
    pool.shutdownNow();
  }
}
