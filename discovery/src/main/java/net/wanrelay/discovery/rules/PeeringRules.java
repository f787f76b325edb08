package net.wanrelay.discovery.rules;

import java.net.InetAddress;
import java.util.List;

/** SP peering rules: the first match wins; nothing matches means accept (answer the probe). */
public final class PeeringRules {
  private final List<PeeringRule> rules;

  public PeeringRules(List<PeeringRule> rules) {
    this.rules = List.copyOf(rules);
  }

  public PeeringRule match(InetAddress source, InetAddress destination, int port) {
    for (PeeringRule r : rules) {
      if (r.matches(source, destination, port)) {
        return r;
      }
    }
    return PeeringRule.DEFAULT;
  }

  public List<PeeringRule> rules() {
    return rules;
  }
}
