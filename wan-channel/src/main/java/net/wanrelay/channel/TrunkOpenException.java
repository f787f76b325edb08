package net.wanrelay.channel;

import java.io.IOException;
import net.wanrelay.channel.frame.ErrorCode;

/** A stream open was refused (OPEN_FAIL) or the stream was reset before it was acknowledged. */
public final class TrunkOpenException extends IOException {
  private final ErrorCode code;

  public TrunkOpenException(ErrorCode code, String message) {
    super(code.label() + (message == null || message.isEmpty() ? "" : ": " + message));
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
