package net.wanrelay.discovery.nfqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NfQueueWorkerTest {
  /** Hands scripted datagrams to the worker and records what it sends. */
  static final class FakeTransport implements NetlinkTransport {
    final BlockingQueue<byte[]> toWorker = new LinkedBlockingQueue<>();
    final BlockingQueue<byte[]> sent = new LinkedBlockingQueue<>();
    volatile boolean closed;

    @Override
    public void send(byte[] message) {
      sent.add(message);
    }

    @Override
    public int receive(byte[] buf) throws IOException {
      try {
        byte[] d = toWorker.poll(20, TimeUnit.MILLISECONDS);
        if (d == null) {
          return 0;
        }
        if (d.length == 0) {
          return -105; // simulated overrun
        }
        System.arraycopy(d, 0, buf, 0, d.length);
        return d.length;
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static byte[] verdictAttr(byte[] msg, int type) {
    ByteBuffer b = ByteBuffer.wrap(msg).order(ByteOrder.nativeOrder());
    int pos = 20;
    while (pos + 4 <= msg.length) {
      int len = b.getShort(pos) & 0xffff;
      if ((b.getShort(pos + 2) & 0xffff) == type) {
        byte[] v = new byte[len - 4];
        System.arraycopy(msg, pos + 4, v, 0, v.length);
        return v;
      }
      pos += (len + 3) & ~3;
    }
    return null;
  }

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double counter(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  @Test
  void handlerVerdictsAndFailSafeAccept() throws Exception {
    FakeTransport t = new FakeTransport();
    t.toWorker.add(NfqTestMessages.concat(NfqTestMessages.packet(7, 1, 0x77, new byte[] {9}), NfqTestMessages.ack(1, 0)));
    PacketHandler h = p -> {
      if (p.id() == 1) {
        return Verdict.accept(new byte[] {1, 2, 3});
      }
      if (p.id() == 2) {
        throw new IllegalStateException("bug in handler");
      }
      if (p.id() == 3) {
        return null;
      }
      return Verdict.drop();
    };
    try (NfQueueWorker w = NfQueueWorker.start(7, h, registry, t)) {
      byte[] bind = t.sent.take();
      assertThat(ByteBuffer.wrap(bind).order(ByteOrder.nativeOrder()).getShort(4)).isEqualTo((short) 0x0302);
      // the packet that came before the ACK is not lost
      byte[] v1 = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(v1, NfqMessages.NFQA_VERDICT_HDR)).containsExactly(0, 0, 0, 1, 0, 0, 0, 1);
      assertThat(verdictAttr(v1, NfqMessages.NFQA_PAYLOAD)).containsExactly(1, 2, 3);

      t.toWorker.add(NfqTestMessages.packet(7, 2, 0x77, new byte[] {9}));
      byte[] v2 = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(v2, NfqMessages.NFQA_VERDICT_HDR)).containsExactly(0, 0, 0, 1, 0, 0, 0, 2);
      assertThat(verdictAttr(v2, NfqMessages.NFQA_PAYLOAD)).isNull();

      t.toWorker.add(NfqTestMessages.packet(7, 3, 0x77, new byte[] {9}));
      byte[] v3 = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(v3, NfqMessages.NFQA_VERDICT_HDR)).containsExactly(0, 0, 0, 1, 0, 0, 0, 3);

      t.toWorker.add(new byte[7]); // garbage
      t.toWorker.add(new byte[0]); // overrun
      t.toWorker.add(NfqTestMessages.packet(7, 4, 0x77, new byte[] {9}));
      byte[] v4 = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(v4, NfqMessages.NFQA_VERDICT_HDR)).containsExactly(0, 0, 0, 0, 0, 0, 0, 4);
      assertThat(w.isRunning()).isTrue();
    }
    assertThat(t.closed).isTrue();
    assertThat(counter("wanrelay_nfqueue_packets_total", "queue", "7")).isEqualTo(4);
    assertThat(counter("wanrelay_nfqueue_modified_total", "queue", "7")).isEqualTo(1);
    assertThat(counter("wanrelay_nfqueue_errors_total", "queue", "7", "kind", "callback")).isEqualTo(2);
    assertThat(counter("wanrelay_nfqueue_errors_total", "queue", "7", "kind", "malformed")).isEqualTo(1);
    assertThat(counter("wanrelay_nfqueue_errors_total", "queue", "7", "kind", "overrun")).isEqualTo(1);
  }

  @Test
  void deferredVerdictsMayComeLaterOutOfOrderAndOnlyOnce() throws Exception {
    FakeTransport t = new FakeTransport();
    t.toWorker.add(NfqTestMessages.ack(1, 0));
    java.util.Map<Long, java.util.function.Consumer<Verdict>> held = new java.util.concurrent.ConcurrentHashMap<>();
    DeferredPacketHandler h = (p, verdict) -> {
      if (p.id() == 1) {
        held.put(p.id(), verdict); // answered later, from another thread
      } else {
        verdict.accept(Verdict.drop());
      }
    };
    java.util.function.Consumer<Verdict> late;
    try (NfQueueWorker w = NfQueueWorker.startDeferred(7, h, registry, t)) {
      t.sent.take(); // bind
      t.toWorker.add(NfqTestMessages.packet(7, 1, 0x77, new byte[] {9}));
      t.toWorker.add(NfqTestMessages.packet(7, 2, 0x77, new byte[] {9}));
      byte[] first = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(first, NfqMessages.NFQA_VERDICT_HDR)).as("packet 2 answered while 1 is held")
          .containsExactly(0, 0, 0, 0, 0, 0, 0, 2);
      Thread other = new Thread(() -> {
        held.get(1L).accept(Verdict.accept(new byte[] {4, 5}));
        held.get(1L).accept(Verdict.drop()); // a second answer is ignored
      });
      other.start();
      other.join();
      byte[] second = t.sent.poll(5, TimeUnit.SECONDS);
      assertThat(verdictAttr(second, NfqMessages.NFQA_VERDICT_HDR)).containsExactly(0, 0, 0, 1, 0, 0, 0, 1);
      assertThat(verdictAttr(second, NfqMessages.NFQA_PAYLOAD)).containsExactly(4, 5);
      assertThat(t.sent.poll(200, TimeUnit.MILLISECONDS)).isNull();
      t.toWorker.add(NfqTestMessages.packet(7, 1, 0x77, new byte[] {9}));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (counter("wanrelay_nfqueue_packets_total", "queue", "7") < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      late = held.get(1L);
    }
    late.accept(Verdict.accept()); // the queue is closed: counted, nothing sent on a closed socket
    assertThat(t.sent).isEmpty();
    assertThat(counter("wanrelay_nfqueue_errors_total", "queue", "7", "kind", "late_verdict")).isEqualTo(1);
    assertThat(counter("wanrelay_nfqueue_modified_total", "queue", "7")).isEqualTo(1);
  }

  @Test
  void refusedBindIsAClearError() {
    FakeTransport t = new FakeTransport();
    t.toWorker.add(NfqTestMessages.ack(1, -1));
    assertThatThrownBy(() -> NfQueueWorker.start(7, p -> Verdict.accept(), registry, t))
        .isInstanceOf(IOException.class).hasMessageContaining("EPERM");
    assertThat(t.closed).isTrue();
    assertThat(List.of(t.sent.size())).containsExactly(1);
  }
}
