package net.wanrelay.discovery.rules;

import java.net.InetAddress;
import java.util.List;

/** CP in-path rules: the first rule that matches wins; nothing matches means auto-discover. */
public final class InPathRules {
  private final List<InPathRule> rules;

  public InPathRules(List<InPathRule> rules) {
    this.rules = List.copyOf(rules);
  }

  public InPathRule match(InetAddress destination, int port) {
    for (InPathRule r : rules) {
      if (r.matches(destination, port)) {
        return r;
      }
    }
    return InPathRule.DEFAULT;
  }

  public List<InPathRule> rules() {
    return rules;
  }
}
