package net.wanrelay.discovery.nfqueue;

/** What to do with a queued packet: accept (optionally with replacement bytes) or drop. */
public record Verdict(int code, byte[] payload) {
  private static final Verdict ACCEPT = new Verdict(NfqMessages.NF_ACCEPT, null);
  private static final Verdict DROP = new Verdict(NfqMessages.NF_DROP, null);

  public static Verdict accept() {
    return ACCEPT;
  }

  /** Accept, sending {@code replacement} instead of the queued packet. */
  public static Verdict accept(byte[] replacement) {
    return new Verdict(NfqMessages.NF_ACCEPT, replacement);
  }

  public static Verdict drop() {
    return DROP;
  }

  public boolean modified() {
    return payload != null;
  }
}
