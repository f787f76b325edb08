package net.wanrelay.discovery.nfqueue;

/**
 * Decides on one queued packet. Runs on the queue's worker thread: keep it short. Anything it
 * throws (or a null verdict) turns into NF_ACCEPT of the unchanged packet and a counter.
 */
@FunctionalInterface
public interface PacketHandler {
  Verdict onPacket(NfqMessages.Packet packet) throws Exception;
}
