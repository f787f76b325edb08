package net.wanrelay.discovery.e2e;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import net.wanrelay.discovery.nfqueue.NfQueueWorker;

/**
 * Child process for the NFQUEUE fail-safe checks. Args: queue port mode, mode "throw" (a worker
 * whose handler always throws) or "none" (no worker bound: --queue-bypass). Listens on
 * 127.0.0.1:port, then connects to it and reports "CONNECTED packets=N callbackErrors=M".
 */
public final class E2eQueueMain {
  private E2eQueueMain() {}

  public static void main(String[] args) throws Exception {
    int queue = Integer.parseInt(args[0]);
    int port = Integer.parseInt(args[1]);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    NfQueueWorker worker = args[2].equals("throw")
        ? NfQueueWorker.start(queue, p -> {
          throw new IllegalStateException("handler bug on purpose");
        }, registry)
        : null;
    try (ServerSocket ss = new ServerSocket()) {
      ss.bind(new InetSocketAddress("127.0.0.1", port));
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        try (Socket accepted = ss.accept()) {
          accepted.setTcpNoDelay(true); // the accept itself is the point: the SYN got through
          double packets = worker == null ? 0
              : registry.get("wanrelay_nfqueue_packets_total").counter().count();
          double errors = worker == null ? 0
              : registry.get("wanrelay_nfqueue_errors_total").tag("kind", "callback").counter().count();
          System.out.println("CONNECTED packets=" + (long) packets + " callbackErrors=" + (long) errors);
        }
      } catch (Exception e) {
        System.out.println("FAILED " + e);
      }
    } finally {
      if (worker != null) {
        worker.close();
      }
    }
  }
}
