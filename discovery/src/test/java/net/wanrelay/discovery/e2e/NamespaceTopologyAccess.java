package net.wanrelay.discovery.e2e;

/** Lets tests in other packages ask whether they run as root. */
public final class NamespaceTopologyAccess {
  private NamespaceTopologyAccess() {}

  public static boolean isRoot() {
    return NamespaceTopology.isRoot();
  }
}
