package net.wanrelay.discovery.nfqueue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one NFQUEUE queue on its own thread: binds the queue over netlink, receives queued
 * packets, asks a {@link PacketHandler} and sends the verdict. Fail-safe: a handler error yields
 * NF_ACCEPT of the unchanged packet; the queue is bound fail-open; the iptables rules are meant
 * to use --queue-bypass so packets flow untouched when no worker is bound.
 *
 * <p>Metrics: {@code wanrelay_nfqueue_packets_total{queue}}, {@code wanrelay_nfqueue_modified_total{queue}},
 * {@code wanrelay_nfqueue_errors_total{queue,kind=callback|malformed|overrun|send|late_verdict}}. A
 * {@link DeferredPacketHandler} may give its verdict later from another thread.
 */
public final class NfQueueWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NfQueueWorker.class);
  private static final int COPY_RANGE = 0xffff;
  private static final int MAX_QUEUE_LEN = 1024;

  private final int queue;
  private final DeferredPacketHandler handler;
  private final NetlinkTransport socket;
  private final List<NfqMessages.Packet> early;
  private final Thread thread;
  private final Counter packets;
  private final Counter modified;
  private final Counter callbackErrors;
  private final Counter malformed;
  private final Counter overruns;
  private final Counter sendErrors;
  private final Counter lateVerdicts;
  private volatile boolean running = true;
  /** Guards the socket between verdicts sent from other threads and the final close. */
  private final Object sendLock = new Object();
  private boolean socketClosed;

  private NfQueueWorker(int queue, DeferredPacketHandler handler, NetlinkTransport socket, MeterRegistry registry,
      List<NfqMessages.Packet> early) {
    this.queue = queue;
    this.early = early;
    this.handler = handler;
    this.socket = socket;
    String q = Integer.toString(queue);
    this.packets = Counter.builder("wanrelay_nfqueue_packets_total").tag("queue", q).register(registry);
    this.modified = Counter.builder("wanrelay_nfqueue_modified_total").tag("queue", q).register(registry);
    this.callbackErrors = error(registry, q, "callback");
    this.malformed = error(registry, q, "malformed");
    this.overruns = error(registry, q, "overrun");
    this.sendErrors = error(registry, q, "send");
    this.lateVerdicts = error(registry, q, "late_verdict");
    this.thread = new Thread(this::loop, "nfqueue-" + queue);
    this.thread.setDaemon(true);
  }

  private static Counter error(MeterRegistry registry, String queue, String kind) {
    return Counter.builder("wanrelay_nfqueue_errors_total").tag("queue", queue).tag("kind", kind).register(registry);
  }

  /**
   * Binds {@code queue} in the current network namespace and starts serving it. Fails with a
   * clear IOException (no CAP_NET_ADMIN, queue taken by another process, no NFQUEUE support).
   */
  public static NfQueueWorker start(int queue, PacketHandler handler, MeterRegistry registry) throws IOException {
    return start(queue, handler, registry, NetlinkSocket.open(200, 4 << 20));
  }

  /** As {@link #start(int, PacketHandler, MeterRegistry)} with a handler that may answer later. */
  public static NfQueueWorker startDeferred(int queue, DeferredPacketHandler handler, MeterRegistry registry)
      throws IOException {
    return startDeferred(queue, handler, registry, NetlinkSocket.open(200, 4 << 20));
  }

  /** As {@link #start(int, PacketHandler, MeterRegistry)} over a given transport (tests). */
  static NfQueueWorker start(int queue, PacketHandler handler, MeterRegistry registry, NetlinkTransport socket)
      throws IOException {
    return startDeferred(queue, (p, verdict) -> {
      Verdict v = handler.onPacket(p);
      if (v == null) {
        throw new IllegalStateException("handler returned no verdict");
      }
      verdict.accept(v);
    }, registry, socket);
  }

  /** As {@link #startDeferred(int, DeferredPacketHandler, MeterRegistry)} over a given transport (tests). */
  static NfQueueWorker startDeferred(int queue, DeferredPacketHandler handler, MeterRegistry registry,
      NetlinkTransport socket) throws IOException {
    List<NfqMessages.Packet> early = new java.util.ArrayList<>();
    try {
      socket.send(NfqMessages.bind(queue, 1, COPY_RANGE, MAX_QUEUE_LEN));
      awaitAck(socket, 1, "bind queue " + queue, early);
    } catch (IOException e) {
      socket.close();
      throw e;
    }
    NfQueueWorker w = new NfQueueWorker(queue, handler, socket, registry, early);
    w.thread.start();
    log.info("NFQUEUE {} bound", queue);
    return w;
  }

  /** Waits for the kernel's answer to request {@code seq}; packets that come first are kept. */
  private static void awaitAck(NetlinkTransport socket, int seq, String what, List<NfqMessages.Packet> early)
      throws IOException {
    byte[] buf = new byte[8192];
    for (int tries = 0; tries < 25; tries++) { // 25 x 200 ms receive timeout
      int n = socket.receive(buf);
      if (n <= 0) {
        continue;
      }
      for (NfqMessages.Message m : NfqMessages.parse(buf, n)) {
        if (m instanceof NfqMessages.Packet p) {
          early.add(p);
        } else if (m instanceof NfqMessages.Ack ack && ack.seq() == seq) {
          if (ack.error() != 0) {
            throw new IOException(what + " refused: errno " + (-ack.error())
                + (ack.error() == -1 ? " (EPERM: needs CAP_NET_ADMIN)" : "")
                + (ack.error() == -16 ? " (EBUSY: another process has this queue)" : ""));
          }
          return;
        }
      }
    }
    throw new IOException(what + ": no answer from the kernel");
  }

  public int queue() {
    return queue;
  }

  public boolean isRunning() {
    return running && thread.isAlive();
  }

  private void loop() {
    byte[] buf = new byte[COPY_RANGE + 4096];
    try {
      early.forEach(this::handle);
      early.clear();
      while (running) {
        int n;
        try {
          n = socket.receive(buf);
        } catch (IOException e) {
          if (running) {
            log.error("NFQUEUE {}: receive failed, worker stops (packets bypass the queue)", queue, e);
          }
          return;
        }
        if (n == 0) {
          continue;
        }
        if (n < 0) {
          overruns.increment(); // the kernel dropped (fail-open accepted) messages we were too slow for
          continue;
        }
        List<NfqMessages.Message> messages = NfqMessages.parse(buf, n);
        for (NfqMessages.Message m : messages) {
          if (m instanceof NfqMessages.Packet p) {
            handle(p);
          } else if (m instanceof NfqMessages.Malformed bad) {
            malformed.increment();
            log.warn("NFQUEUE {}: malformed message skipped: {}", queue, bad.reason());
          }
        }
      }
    } finally {
      running = false;
      synchronized (sendLock) {
        socketClosed = true;
        socket.close(); // closed on this thread, so no receive is in flight on a reused descriptor
      }
    }
  }

  private void handle(NfqMessages.Packet p) {
    packets.increment();
    java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
    try {
      handler.onPacket(p, v -> {
        if (answered.compareAndSet(false, true)) {
          send(p, v == null ? Verdict.accept() : v);
        }
      });
    } catch (Throwable t) { // fail-safe: never lose a packet because of our own bug
      callbackErrors.increment();
      log.warn("NFQUEUE {}: handler failed for packet {}, accepting it unchanged", queue, p.id(), t);
      if (answered.compareAndSet(false, true)) {
        send(p, Verdict.accept());
      }
    }
  }

  private void send(NfqMessages.Packet p, Verdict v) {
    if (v.modified()) {
      modified.increment();
    }
    synchronized (sendLock) {
      if (socketClosed) {
        lateVerdicts.increment(); // the queue is gone: the kernel dropped what it held (the sender retransmits)
        return;
      }
      try {
        socket.send(NfqMessages.verdict(queue, p.id(), v.code(), v.payload()));
      } catch (IOException e) {
        sendErrors.increment();
        log.warn("NFQUEUE {}: verdict for packet {} not sent", queue, p.id(), e);
      }
    }
  }

  /** Stops the worker; the queue is released when its socket closes (packets then bypass). */
  @Override
  public void close() {
    running = false;
    if (Thread.currentThread() != thread) {
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
