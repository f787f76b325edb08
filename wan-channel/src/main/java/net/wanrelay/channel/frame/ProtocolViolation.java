package net.wanrelay.channel.frame;

import io.netty.handler.codec.DecoderException;

/**
 * A peer broke the trunk protocol. {@link #reason()} is a short stable label used as the
 * {@code reason} tag of {@code wanrelay_trunk_protocol_errors_total}; the connection is closed.
 */
public final class ProtocolViolation extends DecoderException {
  private final String reason;
  private final ErrorCode code;

  public ProtocolViolation(String reason, String detail) {
    this(ErrorCode.PROTOCOL_ERROR, reason, detail);
  }

  public ProtocolViolation(ErrorCode code, String reason, String detail) {
    super(reason + ": " + detail);
    this.reason = reason;
    this.code = code;
  }

  public String reason() {
    return reason;
  }

  public ErrorCode code() {
    return code;
  }
}
