package net.wanrelay.core.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import org.junit.jupiter.api.Test;

class SilentSessionCloserTest {
  private final RelayMetrics metrics = new RelayMetrics();
  private final SessionLimiter limiter = new SessionLimiter(10);

  private EmbeddedChannel session() {
    EmbeddedChannel ch = new EmbeddedChannel();
    assertThat(limiter.tryAcquire()).isTrue();
    TcpSession s = new TcpSession(ch, Route.DIRECT, null, metrics, limiter);
    ch.pipeline().addFirst(new SilentSessionCloser(s, Duration.ofSeconds(5)));
    return ch;
  }

  private boolean scraped(String line) {
    return metrics.scrape().contains(line);
  }

  @Test
  void aSessionThatNeverSendsIsClosedAndCounted() {
    EmbeddedChannel ch = session();
    ch.advanceTimeBy(4, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isTrue();
    ch.advanceTimeBy(2, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    assertThat(limiter.open()).as("its slot is free again").isZero();
    assertThat(scraped("wanrelay_sessions_total{outcome=\"silent_timeout\",protocol=\"tcp\",route=\"direct\"} 1.0")).isTrue();
  }

  @Test
  void aByteFromTheClientDisarmsIt() {
    EmbeddedChannel ch = session();
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {1}));
    assertThat(ch.pipeline().get(SilentSessionCloser.class)).isNull();
    ch.advanceTimeBy(10, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isTrue();
    ((io.netty.buffer.ByteBuf) ch.readInbound()).release();
    assertThat(limiter.open()).isEqualTo(1);
    ch.finishAndReleaseAll();
  }

  @Test
  void aByteFromTheServerDisarmsItToo() {
    EmbeddedChannel ch = session();
    ch.writeAndFlush(Unpooled.wrappedBuffer("220 ready\r\n".getBytes()));
    assertThat(ch.pipeline().get(SilentSessionCloser.class)).isNull();
    ch.advanceTimeBy(10, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isTrue();
    ch.finishAndReleaseAll();
  }

  @Test
  void anEmptyReadDoesNotCount() {
    EmbeddedChannel ch = session();
    ch.writeInbound(Unpooled.EMPTY_BUFFER);
    ch.advanceTimeBy(6, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    ch.finishAndReleaseAll();
  }
}
