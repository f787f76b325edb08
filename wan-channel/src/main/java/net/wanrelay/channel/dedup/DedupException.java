package net.wanrelay.channel.dedup;

/**
 * A de-duplication protocol or format error: a malformed token, a bound exceeded, a literal whose
 * bytes do not match its fingerprint, a token in the wrong direction. The stream that carried it
 * must be reset; the chunk stores stay valid.
 */
public final class DedupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DedupException(String message) {
    super(message);
  }

  public DedupException(String message, Throwable cause) {
    super(message, cause);
  }
}
