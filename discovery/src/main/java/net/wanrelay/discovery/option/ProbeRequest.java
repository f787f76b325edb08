package net.wanrelay.discovery.option;

/**
 * The probe a CP puts on a SYN.
 *
 * @param version format version (1..15)
 * @param flags {@link #FLAG_RELAYED} etc.
 * @param nonce 32-bit random value identifying this probe (unsigned, kept in a long)
 */
public record ProbeRequest(int version, int flags, long nonce) {
  /** Set by a middle relay probing onward for a probe it saw (enhanced discovery). */
  public static final int FLAG_RELAYED = 0x01;
  /** The CP would accept a list of SPs (a cluster) in the answer. */
  public static final int FLAG_CLUSTER_OK = 0x02;

  public ProbeRequest {
    if (version < 1 || version > 15) {
      throw new IllegalArgumentException("version must be 1..15, was " + version);
    }
    if (flags < 0 || flags > 0xff) {
      throw new IllegalArgumentException("flags must fit one byte, was " + flags);
    }
    if (nonce < 0 || nonce > 0xffffffffL) {
      throw new IllegalArgumentException("nonce must be an unsigned 32-bit value, was " + nonce);
    }
  }
}
