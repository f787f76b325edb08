package net.wanrelay.discovery.pmt;

/** What the CP knows about the path to a server. */
public enum PmtState {
  /** Nothing known (never probed, expired, or its peer went down): probe. */
  UNKNOWN,
  /** An SP answered: use the trunk to one of the listed peers. Expires, then re-probed. */
  PEER,
  /** No SP answered: pass through until the entry expires. */
  NO_PEER,
  /** Configured fixed target: never expires, never probed. */
  STATIC,
  /** The path strips or drops the probe option: contact without it until expiry, then re-test. */
  HOLD_DOWN;

  /** Lower-case label used in metrics. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
