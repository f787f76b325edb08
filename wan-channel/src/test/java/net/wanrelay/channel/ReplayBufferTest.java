package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {
  private static ByteBuf bytes(int from, int n) {
    ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(n);
    for (int i = 0; i < n; i++) {
      b.writeByte((from + i) & 0xFF);
    }
    return b;
  }

  @Test
  void acksReleaseWholeAndPartialChunks() {
    ReplayBuffer r = new ReplayBuffer();
    ByteBuf a = bytes(0, 100);
    ByteBuf b = bytes(100, 100);
    r.append(a);
    r.append(b);
    assertThat(r.size()).isEqualTo(200);
    r.ack(150);
    assertThat(a.refCnt()).as("fully acknowledged chunk released").isZero();
    assertThat(b.refCnt()).isOne();
    assertThat(r.start()).isEqualTo(150);
    assertThat(r.size()).isEqualTo(50);
    r.ack(150); // repeated ack: nothing changes
    assertThat(r.size()).isEqualTo(50);
    r.ack(200);
    assertThat(b.refCnt()).isZero();
    assertThat(r.size()).isZero();
    assertThat(r.end()).isEqualTo(200);
  }

  @Test
  void rewindHandsBackExactlyTheUnreceivedBytesInOrder() {
    ReplayBuffer r = new ReplayBuffer();
    r.append(bytes(0, 1000));
    r.append(bytes(1000, 500));
    r.append(bytes(1500, 700));
    r.ack(200);
    List<ByteBuf> again = r.rewind(1200);
    CompositeByteBuf all = Unpooled.compositeBuffer();
    again.forEach(x -> all.addComponent(true, x));
    assertThat(all.readableBytes()).isEqualTo(1000);
    for (int i = 0; i < 1000; i++) {
      assertThat((int) all.getUnsignedByte(i)).isEqualTo((1200 + i) & 0xFF);
    }
    all.release();
    assertThat(r.start()).isEqualTo(1200);
    assertThat(r.end()).isEqualTo(1200);
    assertThat(r.size()).isZero();
    // Sending goes on from the rewound offset.
    r.append(bytes(1200, 10));
    assertThat(r.end()).isEqualTo(1210);
    r.release();
  }

  @Test
  void offsetsOutsideWhatWasSentAreRefused() {
    ReplayBuffer r = new ReplayBuffer();
    r.append(bytes(0, 100));
    r.ack(40);
    assertThatThrownBy(() -> r.ack(101)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.rewind(101)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.rewind(39)).isInstanceOf(IllegalArgumentException.class);
    assertThat(r.size()).isEqualTo(60);
    r.release();
    assertThat(r.size()).isZero();
  }

  @Test
  void aFullBufferIsHeldWithoutACopyAndASmallPieceOfABigOneIsCopied() {
    ReplayBuffer r = new ReplayBuffer();
    ByteBuf full = bytes(0, 128 * 1024);
    ByteBuf held = full.retainedDuplicate();
    r.append(held);
    assertThat(r.copiedBytes()).isZero();
    ByteBuf big = ByteBufAllocator.DEFAULT.directBuffer(128 * 1024).writeBytes(new byte[100]);
    r.append(big.retainedSlice(0, 100));
    assertThat(r.copiedBytes()).isEqualTo(100);
    assertThat(big.refCnt()).as("the big buffer is not kept alive").isOne();
    big.release();
    full.release();
    assertThat(r.size()).isEqualTo(128 * 1024 + 100);
    r.release();
    assertThat(full.refCnt()).isZero();
  }

  @Test
  void emptyBuffersAreNotKept() {
    ReplayBuffer r = new ReplayBuffer();
    ByteBuf empty = ByteBufAllocator.DEFAULT.buffer(0);
    r.append(empty);
    assertThat(empty.refCnt()).isZero();
    assertThat(r.size()).isZero();
  }
}
