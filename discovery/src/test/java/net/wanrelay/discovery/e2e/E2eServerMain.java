package net.wanrelay.discovery.e2e;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Child process in the server namespace: echo server that reports each accepted peer address. */
public final class E2eServerMain {
  private E2eServerMain() {}

  public static void main(String[] args) throws Exception {
    try (ServerSocket ss = new ServerSocket()) {
      ss.setReuseAddress(true);
      ss.bind(new InetSocketAddress(Integer.parseInt(args[0])));
      System.out.println("READY");
      System.out.flush();
      Thread stdinWatch = new Thread(() -> {
        try {
          while (System.in.read() >= 0) {
            // wait for the parent to close stdin
          }
        } catch (Exception ignored) {
          // parent gone
        }
        System.exit(0);
      });
      stdinWatch.setDaemon(true);
      stdinWatch.start();
      while (true) {
        Socket s = ss.accept();
        System.out.println("ACCEPT " + ((InetSocketAddress) s.getRemoteSocketAddress()).getAddress().getHostAddress());
        System.out.flush();
        Thread t = new Thread(() -> echo(s));
        t.setDaemon(true);
        t.start();
      }
    }
  }

  private static void echo(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      byte[] buf = new byte[4096];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (Exception ignored) {
      // peer closed
    }
  }
}
