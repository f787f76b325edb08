package net.wanrelay.it.netns;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One topology per test class: register it on a static field,
 * <pre>
 *   {@literal @}RegisterExtension
 *   static final TopologyExtension NET = new TopologyExtension(b -> b.withoutSproxy());
 *   ... NET.topology().exec("client", "...")
 * </pre>
 * Skips the class (with the reason) where the test bed cannot be built, resets the WAN emulator
 * before each test, and removes everything after the class, whether its tests passed or not.
 */
public final class TopologyExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  private final UnaryOperator<Topology.Builder> customizer;
  private Topology topology;

  public TopologyExtension() {
    this(UnaryOperator.identity());
  }

  public TopologyExtension(UnaryOperator<Topology.Builder> customizer) {
    this.customizer = customizer;
  }

  public Topology topology() {
    if (topology == null) {
      throw new IllegalStateException("topology not built (register the extension on a static field)");
    }
    return topology;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    TestbedAssumptions.assumeTestbed();
    topology = customizer.apply(Topology.builder()).build();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (topology != null && hasEmulator()) {
      topology.wan().reset();
      topology.wan().resetStats();
    }
  }

  private boolean hasEmulator() {
    try {
      topology.wan();
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (topology != null) {
      topology.close();
      topology = null;
    }
  }
}
