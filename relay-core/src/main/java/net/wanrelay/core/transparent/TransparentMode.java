package net.wanrelay.core.transparent;

/**
 * Transparent interception and auto-discovery (DESIGN.md section 5). Placeholder until the
 * transparent frontends land: reports that the mode is not available.
 */
public final class TransparentMode implements AutoCloseable {
  private TransparentMode() {}

  /** Starts interception for {@code ctx.config().intercept()}; throws when it cannot. */
  public static TransparentMode start(TransparentContext ctx) {
    throw new IllegalStateException("transparent mode (intercept:) is not available in this build");
  }

  @Override
  public void close() {}
}
