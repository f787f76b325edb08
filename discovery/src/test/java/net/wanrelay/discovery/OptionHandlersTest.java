package net.wanrelay.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import net.wanrelay.discovery.nfqueue.NfqMessages;
import net.wanrelay.discovery.nfqueue.Verdict;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.TcpOptionInserter;
import net.wanrelay.discovery.packet.TestPackets;
import net.wanrelay.discovery.rules.PeeringRule;
import net.wanrelay.discovery.rules.PeeringRules;
import org.junit.jupiter.api.Test;

/** The NFQUEUE handlers of Prober and DiscoveryResponder on hand-built packets (no kernel). */
class OptionHandlersTest {
  private final ProbeOptionCodec codec = new ProbeOptionCodec(OptionFormat.DEFAULT);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static NfqMessages.Packet queued(byte[] payload) {
    return new NfqMessages.Packet(7, 1, 0x0800, 3, 0x77, payload);
  }

  private ProbeResponse answer() throws Exception {
    return new ProbeResponse(1, 0, 7800, List.of((Inet4Address) InetAddress.getByName("10.9.2.2")));
  }

  private DiscoveryResponder responder(PeeringRules rules) throws Exception {
    return new DiscoveryResponder(null, new DiscoveryResponder.Config(new InetSocketAddress(7801), 0x78,
        OptionFormat.DEFAULT, answer(), rules), registry, s -> { });
  }

  @Test
  void proberAddsTheProbeToASyn() throws Exception {
    Prober prober = new Prober(null, Prober.Config.defaults(), registry);
    byte[] syn = TestPackets.syn("10.9.1.2", 40000, "10.9.3.2", 80, TestPackets.LINUX_SYN_OPTIONS);
    Verdict v = prober.synWriter().onPacket(queued(syn));
    assertThat(v.modified()).isTrue();
    Ipv4TcpPacket out = Ipv4TcpPacket.parse(v.payload()).value();
    assertThat(out.checksumsValid()).isTrue();
    ProbeRequest req = codec.decodeRequest(codec.findOurs(out.options().value()).orElseThrow()).value();
    assertThat(req.version()).isEqualTo(1);
    assertThat(prober.events("probe_added_untracked")).isEqualTo(1);
  }

  @Test
  void proberLeavesGarbageAndNonSynsAlone() throws Exception {
    Prober prober = new Prober(null, Prober.Config.defaults(), registry);
    assertThat(prober.synWriter().onPacket(queued(new byte[] {0x45, 0})).modified()).isFalse();
    byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
    assertThat(prober.synWriter().onPacket(queued(synAck)).modified()).isFalse();
    assertThat(prober.events("syn_unparseable")).isEqualTo(1);
    assertThat(prober.events("syn_writer_not_syn")).isEqualTo(1);
  }

  @Test
  void proberCountsUnsolicitedAndMalformedResponses() throws Exception {
    Prober prober = new Prober(null, Prober.Config.defaults(), registry);
    byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
    byte[] withResponse = TcpOptionInserter.insert(synAck, codec.encodeResponse(answer())).packet();
    Verdict v = prober.synAckReader().onPacket(queued(withResponse));
    assertThat(v.modified()).isFalse();
    assertThat(v.code()).isEqualTo(NfqMessages.NF_ACCEPT);
    assertThat(prober.events("response_unsolicited")).isEqualTo(1);
    byte[] bad = TcpOptionInserter.insert(synAck, new byte[] {(byte) 253, 8, 0x57, 0x52, 0x12, 0, 0, 0}).packet();
    prober.synAckReader().onPacket(queued(bad));
    assertThat(prober.events("response_malformed")).isEqualTo(1);
    prober.synAckReader().onPacket(queued(synAck));
    assertThat(prober.events("synack_without_response")).isEqualTo(1);
  }

  @Test
  void responderAddsTheResponseThatTheProberReads() throws Exception {
    DiscoveryResponder r = responder(new PeeringRules(List.of()));
    byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
    Verdict v = r.synAckWriter().onPacket(queued(synAck));
    assertThat(v.modified()).isTrue();
    Ipv4TcpPacket out = Ipv4TcpPacket.parse(v.payload()).value();
    assertThat(out.checksumsValid()).isTrue();
    assertThat(out.options().value().usedLength()).isEqualTo(32); // 20 Linux + 12 (one address)
    ProbeResponse resp = codec.decodeResponse(codec.findOurs(out.options().value()).orElseThrow()).value();
    assertThat(resp.peers()).containsExactly(new InetSocketAddress("10.9.2.2", 7800));
    assertThat(r.events("response_added")).isEqualTo(1);
  }

  @Test
  void responderWithholdsForPassThroughPeeringRules() throws Exception {
    DiscoveryResponder r = responder(new PeeringRules(List.of(
        PeeringRule.of("10.9.1.0/24", null, "any", PeeringRule.Action.PASS_THROUGH))));
    byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
    assertThat(r.synAckWriter().onPacket(queued(synAck)).modified()).isFalse();
    assertThat(r.events("response_withheld")).isEqualTo(1);
  }

  @Test
  void responderCannotAddToAFullSynAck() throws Exception {
    DiscoveryResponder r = responder(new PeeringRules(List.of()));
    byte[] full = new byte[40];
    java.util.Arrays.fill(full, (byte) 1);
    byte[] synAck = TestPackets.synAck("10.9.3.2", 80, "10.9.1.2", 40000, full);
    Verdict v = r.synAckWriter().onPacket(queued(synAck));
    assertThat(v.modified()).isFalse();
    assertThat(r.events("response_not_added")).isEqualTo(1);
  }
}
