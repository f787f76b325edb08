package net.wanrelay.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** An echo server that counts connections accepted, connections still open and bytes received. */
final class RecordingEcho implements AutoCloseable {
  final ServerSocket server;
  final AtomicInteger accepted = new AtomicInteger();
  final AtomicInteger open = new AtomicInteger();
  final AtomicLong bytesIn = new AtomicLong();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  RecordingEcho() throws IOException {
    server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    pool.submit(() -> {
      while (!server.isClosed()) {
        Socket s;
        try {
          s = server.accept();
        } catch (IOException e) {
          return null;
        }
        accepted.incrementAndGet();
        open.incrementAndGet();
        pool.submit(() -> {
          try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
              bytesIn.addAndGet(n);
              out.write(buf, 0, n);
              out.flush();
            }
            s.shutdownOutput();
          } catch (IOException ignored) {
            // reset by the relay: counted as closed below
          } finally {
            open.decrementAndGet();
          }
          return null;
        });
      }
      return null;
    });
  }

  int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}
