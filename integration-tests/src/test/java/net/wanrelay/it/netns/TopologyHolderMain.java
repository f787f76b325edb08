package net.wanrelay.it.netns;

/** Child-JVM helper for {@link TeardownTest}: builds a topology, says so, and waits to be killed. */
public final class TopologyHolderMain {
  private TopologyHolderMain() {}

  public static void main(String[] args) throws Exception {
    Topology t = Topology.builder().build();
    System.out.println("UP " + t.runId());
    System.out.flush();
    Thread.sleep(120_000);
    t.close();
  }
}
