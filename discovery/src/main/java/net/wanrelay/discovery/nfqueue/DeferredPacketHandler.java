package net.wanrelay.discovery.nfqueue;

import java.util.function.Consumer;

/**
 * Decides on one queued packet, now or later: the handler passes its verdict to {@code verdict}
 * exactly once, from any thread (a middle relay holds an SP's SYN-ACK while it probes onward).
 * The kernel keeps the packet meanwhile; verdicts may be given out of order. If the handler throws
 * before answering, the packet is accepted unchanged; further answers after the first are ignored.
 */
@FunctionalInterface
public interface DeferredPacketHandler {
  void onPacket(NfqMessages.Packet packet, Consumer<Verdict> verdict) throws Exception;
}
