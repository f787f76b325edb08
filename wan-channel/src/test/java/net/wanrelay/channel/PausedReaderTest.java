package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stream whose receiver stopped reading must not slow the other streams of the trunk, and the
 * bytes held for it must stay within its window (asserted on the trunk's own counters).
 */
class PausedReaderTest {
  private static final int STREAMS = 4;
  private static final int SIZE = 8 << 20;
  private EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private long runBatch(LoopbackTrunk t, byte[] data) throws Exception {
    long start = System.nanoTime();
    List<CompletableFuture<byte[]>> answers = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      answers.add(TestClients.sendAndCollect(group, t.frontAddress(), data, 0, SIZE));
    }
    String expected = Hashes.sha256Hex(data);
    for (CompletableFuture<byte[]> a : answers) {
      assertThat(HexFormat.of().formatHex(a.get(60, TimeUnit.SECONDS))).isEqualTo(expected);
    }
    return System.nanoTime() - start;
  }

  @Test
  void pausedReaderStallsOnlyItsOwnStreamWithBoundedBuffers() throws Exception {
    byte[] data = new byte[SIZE];
    Hashes.fill(new SplittableRandom(3), data);
    byte[] stalledData = new byte[32 << 20];
    AtomicLong received = new AtomicLong();
    Channel sink = TestServers.hashingSink(group, received);
    io.netty.channel.group.ChannelGroup pausedChildren =
        new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    Channel paused = TestServers.pausedSink(group, pausedChildren);
    TrunkSettings settings = LoopbackTrunk.testSettings();
    try (LoopbackTrunk t = new LoopbackTrunk(group, settings, 1, "off")) {
      t.awaitUp(1);
      t.target = (InetSocketAddress) sink.localAddress();
      runBatch(t, data); // warm-up (JIT, pools)
      long baseline = Math.min(runBatch(t, data), runBatch(t, data));

      t.target = (InetSocketAddress) paused.localAddress();
      CompletableFuture<byte[]> stalled = TestClients.sendAndCollect(group, t.frontAddress(), stalledData, 0,
          stalledData.length);
      TrunkConnection cpConn = t.link().connections().get(0);
      LoopbackTrunk.await(() -> t.spPeer().streamsActive() == 1, 10_000, "paused stream open");
      TrunkConnection spConn = t.sp.connections().get(0);
      TrunkStream held = spConn.eventLoop().submit(() -> spConn.streams().get(0)).get();
      // Wait until the paused stream is really stuck: SP holds bytes and the count stops moving.
      long last = -1;
      for (int i = 0; i < 200; i++) {
        long now = spConn.eventLoop().submit(held::bufferedBytes).get();
        if (now > 0 && now == last) {
          break;
        }
        last = now;
        Thread.sleep(100);
      }
      t.target = (InetSocketAddress) sink.localAddress();
      long withPaused = Math.min(runBatch(t, data), Math.min(runBatch(t, data), runBatch(t, data)));

      // Memory: the SP holds at most the paused stream's window; the CP at most about one read.
      int window = spConn.eventLoop().submit(held::receiveWindow).get();
      long heldBytes = spConn.eventLoop().submit(held::bufferedBytes).get();
      System.out.printf("paused-reader: SP holds %d bytes for the paused stream, its window is %d%n", heldBytes, window);
      assertThat(stalled).isNotDone();
      assertThat(held.isClosed()).isFalse();
      assertThat(window).isLessThanOrEqualTo(settings.maxWindow);
      assertThat(heldBytes).isPositive().isLessThanOrEqualTo(window);
      assertThat(t.spPeer().bufferedBytes()).isEqualTo(heldBytes);
      assertThat(spConn.eventLoop().submit(spConn::reservedWindowBytes).get()).isLessThanOrEqualTo(settings.linkBudget);
      long cpPending = cpConn.eventLoop().submit(cpConn::bufferedSendBytes).get();
      assertThat(cpPending).isLessThanOrEqualTo(256 * 1024);
      assertThat(t.cpPeer().windowStalls()).isPositive();

      // Baseline again without the paused stream, to be fair to a machine whose load drifts.
      pausedChildren.close().sync();
      assertThat(stalled.handle((r, e) -> e == null ? "closed" : e.toString()).get(10, TimeUnit.SECONDS)).isNotNull();
      LoopbackTrunk.await(() -> t.spPeer().streamsActive() == 0, 20_000, "paused stream gone");
      baseline = Math.min(baseline, Math.min(runBatch(t, data), runBatch(t, data)));
      double ratio = (double) withPaused / baseline;
      System.out.printf("paused-reader: baseline %.1f ms, with a paused stream %.1f ms, ratio %.2f%n",
          baseline / 1e6, withPaused / 1e6, ratio);
      assertThat(ratio).as("others' batch time with a paused stream vs without").isLessThan(2.0);
      assertThat(t.spPeer().bufferedBytes()).isZero();
    } finally {
      sink.close().sync();
      paused.close().sync();
    }
  }
}
