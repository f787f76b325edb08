package net.wanrelay.it.netns;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips (never silently passes) tests that need the namespace test bed where it cannot be built. */
public final class TestbedAssumptions {
  private TestbedAssumptions() {}

  public static void assumeTestbed() {
    var reason = Testbed.unavailableReason();
    assumeTrue(reason.isEmpty(), () -> "SKIPPED: namespace test bed unavailable: " + reason.orElse(""));
  }
}
