package net.wanrelay.it.loopbench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server of the short-session benchmark: reads a 1 KiB request, writes the 1 KiB reply and
 * closes. Several threads block in accept on one socket, so no hand-off sits in the measured path.
 *
 * <p>Run: {@code java -cp CLASSES net.wanrelay.it.loopbench.ReplyServer --listen 127.0.0.1:0
 * [--threads 8]}; prints {@code listening 127.0.0.1:PORT} once bound and serves until killed.
 */
public final class ReplyServer implements AutoCloseable {
  private final ServerSocket server;
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLong served = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  private ReplyServer(ServerSocket server) {
    this.server = server;
  }

  public static ReplyServer start(InetSocketAddress bind, int threads) throws IOException {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1");
    }
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(bind, 4096);
    ReplyServer rs = new ReplyServer(socket);
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(rs::acceptLoop, "reply-server-" + i);
      t.setDaemon(true);
      rs.workers.add(t);
      t.start();
    }
    return rs;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** Sessions answered with a full reply. */
  public long served() {
    return served.get();
  }

  /** Sessions that ended before a full request arrived or while the reply was written. */
  public long failed() {
    return failed.get();
  }

  private void acceptLoop() {
    byte[] request = new byte[ShortSession.REQUEST_BYTES];
    byte[] reply = new byte[ShortSession.REPLY_BYTES];
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        continue; // closed (loop ends) or a transient accept failure
      }
      try (s) {
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        if (ShortSession.readFully(in, request) < request.length) {
          failed.incrementAndGet();
          continue;
        }
        ShortSession.computeReply(request, reply);
        s.getOutputStream().write(reply);
        served.incrementAndGet();
      } catch (IOException e) {
        failed.incrementAndGet();
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Thread t : workers) {
      try {
        t.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  public static void main(String[] args) throws Exception {
    String listen = "127.0.0.1:0";
    int threads = 8;
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--listen" -> listen = required(args[i], value);
          case "--threads" -> threads = Integer.parseInt(required(args[i], value));
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
      }
      InetSocketAddress bind = ShortSession.loopbackAddress(listen);
      ReplyServer rs = start(bind, threads);
      InetSocketAddress a = rs.address();
      System.out.println("listening " + a.getAddress().getHostAddress() + ":" + a.getPort());
      System.out.flush();
      Thread.currentThread().join();
    } catch (IllegalArgumentException e) {
      System.err.println("ReplyServer: " + e.getMessage()
          + "\nusage: ReplyServer --listen 127.0.0.1:PORT [--threads N]");
      System.exit(2);
    }
  }

  private static String required(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }
}
