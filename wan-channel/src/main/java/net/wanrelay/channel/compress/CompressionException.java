package net.wanrelay.channel.compress;

/**
 * A compressed block could not be decoded: unknown codec id, corrupt or truncated data, a checksum
 * mismatch, or an output larger than the receiver allows. The stream that carried the block should
 * be reset; the link itself is still fine.
 */
public final class CompressionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CompressionException(String message) {
    super(message);
  }

  public CompressionException(String message, Throwable cause) {
    super(message, cause);
  }
}
