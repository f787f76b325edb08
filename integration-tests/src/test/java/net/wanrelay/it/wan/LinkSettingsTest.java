package net.wanrelay.it.wan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LinkSettingsTest {
  @Test
  void parsesEveryKeyWithUnits() {
    LinkSettings s = LinkSettings.PASS_THROUGH.with("delay=25ms jitter=500us loss=1% rate=100mbit queue=256kib");
    assertThat(s.delayNanos()).isEqualTo(25_000_000L);
    assertThat(s.jitterNanos()).isEqualTo(500_000L);
    assertThat(s.loss()).isEqualTo(0.01);
    assertThat(s.rateBitsPerSecond()).isEqualTo(100_000_000L);
    assertThat(s.queueBytes()).isEqualTo(256 * 1024);
    assertThat(s.queuePackets()).isZero();
    LinkSettings t = s.with("loss=0.02 queue=50 rate=unlimited delay=1.5s");
    assertThat(t.loss()).isEqualTo(0.02);
    assertThat(t.queuePackets()).isEqualTo(50);
    assertThat(t.queueBytes()).isZero();
    assertThat(t.rateBitsPerSecond()).isZero();
    assertThat(t.delayNanos()).isEqualTo(1_500_000_000L);
    assertThat(t.jitterNanos()).isEqualTo(500_000L); // untouched keys keep their value
  }

  @Test
  void toStringRoundTripsThroughWith() {
    LinkSettings s = LinkSettings.PASS_THROUGH.with("delay=25ms jitter=1ms loss=0.5% rate=20mbit queue=300");
    assertThat(LinkSettings.PASS_THROUGH.with(s.toString())).isEqualTo(s);
  }

  @Test
  void rejectsBadInputWithAClearMessage() {
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("delay=25")).hasMessageContaining("needs a unit");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("latency=25ms")).hasMessageContaining("unknown setting 'latency'");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("loss=2")).hasMessageContaining("within 0..1");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("rate=fast")).hasMessageContaining("bad rate");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("rate=10mbps")).hasMessageContaining("unknown rate unit");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("delay")).hasMessageContaining("key=value");
    assertThatThrownBy(() -> LinkSettings.PASS_THROUGH.with("delay=-1ms")).hasMessageContaining("bad duration");
  }
}
