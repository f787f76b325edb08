package net.wanrelay.it.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/** Nothing of the test bed outlives a run: not after a failed test, a killed JVM, or a stale run. */
class TeardownTest {
  @BeforeEach
  void testbed() {
    TestbedAssumptions.assumeTestbed();
  }

  /** Fails on purpose; run only through the test kit below (surefire skips nested classes). */
  static class FailingTopologyUser {
    static volatile String runId;

    @RegisterExtension
    static final TopologyExtension NET = new TopologyExtension(Topology.Builder::withoutWanEmulator);

    @Test
    void failsWhileTheTopologyIsUp() {
      runId = NET.topology().runId();
      assertThat(Topology.existingNamespaces()).anyMatch(ns -> ns.startsWith(runId));
      throw new AssertionError("deliberate failure");
    }
  }

  @Test
  void aFailedTestLeavesNoNamespaceBehind() {
    FailingTopologyUser.runId = null;
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(FailingTopologyUser.class)).execute()
        .testEvents().assertStatistics(s -> s.started(1).failed(1));
    assertThat(FailingTopologyUser.runId).isNotNull();
    assertThat(Topology.existingNamespaces()).noneMatch(ns -> ns.startsWith(FailingTopologyUser.runId));
  }

  @Test
  void staleNamespacesOfDeadRunsGoWithTheirProcessesWhileLiveRunsStay() throws Exception {
    long deadPid = new ProcessBuilder("true").start().onExit().get().pid();
    String stale = Topology.PREFIX + deadPid + "-dead-client";
    String live = Topology.PREFIX + ProcessHandle.current().pid() + "-beef-client"; // a parallel run of ours
    Commands.run(List.of("ip", "netns", "add", stale)).orThrow();
    Commands.run(List.of("ip", "netns", "add", live)).orThrow();
    Process leftover = new ProcessBuilder("ip", "netns", "exec", stale, "sleep", "300").start();
    try {
      assertThat(Topology.existingNamespaces()).contains(stale, live);
      List<String> removed = Topology.removeStale();
      assertThat(removed).contains(stale).doesNotContain(live);
      assertThat(Topology.existingNamespaces()).doesNotContain(stale).contains(live);
      assertThat(leftover.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS).isAlive()).isFalse();
    } finally {
      leftover.destroyForcibly();
      Commands.run(List.of("ip", "netns", "del", live));
      Commands.run(List.of("ip", "netns", "del", stale));
    }
  }

  @Test
  void aJvmEndedBySigtermRemovesItsNamespacesAndOneKilledHardIsCleanedUpNextRun() throws Exception {
    // SIGTERM: the shutdown hook tears down, emulator process included.
    try (NsHolder soft = NsHolder.start()) {
      soft.process.destroy();
      soft.process.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(Topology.existingNamespaces()).noneMatch(ns -> ns.startsWith(soft.runId));
    }
    // SIGKILL: nothing runs in the dying JVM; the next build (removeStale) cleans up.
    try (NsHolder hard = NsHolder.start()) {
      hard.process.destroyForcibly();
      hard.process.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(Topology.existingNamespaces()).anyMatch(ns -> ns.startsWith(hard.runId));
      Topology.removeStale();
      assertThat(Topology.existingNamespaces()).noneMatch(ns -> ns.startsWith(hard.runId));
    }
  }

  /** A child JVM that builds a default topology (with emulator) and waits to be killed. */
  record NsHolder(Process process, String runId) implements AutoCloseable {
    static NsHolder start() throws Exception {
      List<String> cmd = new java.util.ArrayList<>(Topology.javaCommand());
      cmd.add(TopologyHolderMain.class.getName());
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      NsProcess out = new NsProcess("host", "holder", p);
      String line = out.awaitLine(Pattern.compile("^UP "), Duration.ofSeconds(60));
      return new NsHolder(p, line.substring(3).strip());
    }

    @Override
    public void close() {
      process.destroyForcibly();
      for (String ns : Topology.existingNamespaces()) {
        if (ns.startsWith(runId)) {
          Commands.run(List.of("ip", "netns", "del", ns));
        }
      }
    }
  }
}
