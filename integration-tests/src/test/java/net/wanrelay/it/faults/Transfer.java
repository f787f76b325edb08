package net.wanrelay.it.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.it.netns.Topology;
import net.wanrelay.testsupport.Hashes;

/**
 * One client session against {@link FaultServer}, run on its own thread from the client
 * namespace: an upload ({@code U}), a download ({@code D}) or a download the server resets
 * ({@code R}). It records progress while running and, at the end, how it ended as the client saw
 * it. A session that neither completes nor ends within its deadline is reported as {@link End#HUNG}.
 */
final class Transfer {
  /** How the session ended for the client. */
  enum End {
    /** Every byte arrived and the far end's SHA-256 (upload) or ours (download) matched. */
    COMPLETED,
    /** The connection was reset (ECONNRESET / broken pipe). */
    RESET,
    /** A clean end of stream before the transfer was complete. */
    EARLY_EOF,
    /** No byte and no end within the read timeout, or the deadline passed. */
    HUNG,
    /** Anything else (e.g. connect refused, wrong bytes). */
    ERROR
  }

  /** What the client saw: the end, bytes moved, whether every received byte was the pattern. */
  record Result(End end, long sent, long received, boolean prefixOk, String detail) {}

  private final FaultServer.Header header;
  private final AtomicLong progress = new AtomicLong();
  private final CompletableFuture<Result> result = new CompletableFuture<>();
  private volatile Socket socket;
  private volatile boolean abortRequested;

  private Transfer(FaultServer.Header header) {
    this.header = header;
  }

  /** Connects from {@code node} to host:port and runs the session on a daemon thread. */
  static Transfer start(Topology t, String node, String host, int port, FaultServer.Header header, Duration readTimeout) {
    Transfer tr = new Transfer(header);
    Thread th = new Thread(() -> tr.run(t, node, host, port, readTimeout), "transfer-" + header.mode() + header.seed());
    th.setDaemon(true);
    th.start();
    return tr;
  }

  static FaultServer.Header upload(long seed, long length, long pace) {
    return new FaultServer.Header('U', seed, length, pace);
  }

  static FaultServer.Header download(long seed, long length, long pace) {
    return new FaultServer.Header('D', seed, length, pace);
  }

  static FaultServer.Header resetAfter(long seed, long length) {
    return new FaultServer.Header('R', seed, length, 0);
  }

  FaultServer.Header header() {
    return header;
  }

  long seed() {
    return header.seed();
  }

  /** Bytes written (upload) or read (download) so far. */
  long progress() {
    return progress.get();
  }

  /** Aborts the session from the client: close with SO_LINGER 0, i.e. a TCP RST. */
  void abort() throws IOException {
    abortRequested = true;
    Socket s = socket;
    if (s != null) {
      s.setSoLinger(true, 0);
      s.close();
    }
  }

  /** Waits for the end; a session still running at the deadline is closed and reported HUNG. */
  Result await(Duration deadline) {
    try {
      return result.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      Socket s = socket;
      try {
        if (s != null) {
          s.close();
        }
      } catch (IOException ignored) {
        // closing is all we can do
      }
      return new Result(End.HUNG, -1, progress.get(), true, "no end within " + deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private volatile long endedNanos;

  private void finish(Result r) {
    endedNanos = System.nanoTime();
    result.complete(r);
  }

  /** System.nanoTime() when the client saw the end (0 while running). */
  long endedNanos() {
    return endedNanos;
  }

  private void run(Topology t, String node, String host, int port, Duration readTimeout) {
    long sent = 0;
    long received = 0;
    boolean prefixOk = true;
    try {
      socket = t.call(node, () -> {
        Socket c = new Socket();
        c.connect(new InetSocketAddress(host, port), 10_000);
        return c;
      });
      socket.setSoTimeout((int) readTimeout.toMillis());
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(header.encode());
      FaultPattern pattern = new FaultPattern(header.seed());
      byte[] buf = new byte[64 * 1024];
      if (header.mode() == 'U') {
        MessageDigest md = Hashes.sha256();
        long start = System.nanoTime();
        while (sent < header.length()) {
          int n = (int) Math.min(header.pace() > 0 ? 16 * 1024 : buf.length, header.length() - sent);
          if (header.pace() > 0) {
            long wait = start + TimeUnit.SECONDS.toNanos(1) * sent / header.pace() - System.nanoTime();
            if (wait > 0) {
              FaultServer.sleepNanos(wait);
            }
          }
          pattern.fill(sent, buf, n);
          md.update(buf, 0, n);
          out.write(buf, 0, n);
          sent += n;
          progress.set(sent);
        }
        socket.shutdownOutput();
        byte[] expected = md.digest();
        byte[] got = in.readNBytes(32);
        received = got.length;
        if (got.length < 32) {
          finish(new Result(End.EARLY_EOF, sent, received, true, "reply cut after " + got.length + " bytes"));
          return;
        }
        boolean equal = Arrays.equals(expected, got);
        int more = in.read();
        finish(new Result(equal && more < 0 ? End.COMPLETED : End.ERROR, sent, received, equal,
            equal ? "server SHA-256 equal" : "server SHA-256 differs"));
      } else {
        socket.shutdownOutput(); // nothing more to send: the half-close crosses the relays too
        MessageDigest md = Hashes.sha256();
        int r;
        while ((r = in.read(buf)) >= 0) {
          prefixOk &= received + r <= header.length() && pattern.matching(received, buf, r) == r;
          md.update(buf, 0, r);
          received += r;
          progress.set(received);
        }
        boolean complete = received == header.length() && prefixOk;
        finish(new Result(complete ? End.COMPLETED : End.EARLY_EOF, sent, received, prefixOk,
            complete ? "SHA-256 " + Hashes.hex(md.digest()) : "EOF after " + received + " of " + header.length()));
      }
    } catch (SocketTimeoutException e) {
      finish(new Result(End.HUNG, sent, received, prefixOk, "read timeout: " + e.getMessage()));
    } catch (IOException | RuntimeException e) {
      String m = String.valueOf(e.getMessage());
      boolean reset = m.contains("reset") || m.contains("Broken pipe") || m.contains("Socket closed") && abortRequested;
      finish(new Result(reset ? End.RESET : End.ERROR, sent, received, prefixOk, e.toString()));
    } finally {
      Socket s = socket;
      if (s != null && !s.isClosed()) {
        try {
          s.close();
        } catch (IOException ignored) {
          // already ended
        }
      }
    }
  }

  @Override
  public String toString() {
    return "Transfer(" + header + ", progress " + progress.get() + ")";
  }
}
