package net.wanrelay.discovery.rules;

import java.util.ArrayList;
import java.util.List;

/** Ports as "22", "80,443", "8000-8999" or "any". */
public record PortSet(List<Range> ranges) {
  /** An inclusive port range. */
  public record Range(int low, int high) {}

  public static final PortSet ANY = new PortSet(List.of(new Range(1, 65535)));

  public PortSet {
    ranges = List.copyOf(ranges);
  }

  public static PortSet parse(String text) {
    if (text == null || text.isBlank() || text.trim().equalsIgnoreCase("any")) {
      return ANY;
    }
    List<Range> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      int dash = p.indexOf('-');
      try {
        int lo = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
        int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1).trim());
        if (lo < 1 || hi > 65535 || lo > hi) {
          throw new IllegalArgumentException("port range " + p + " out of 1..65535");
        }
        out.add(new Range(lo, hi));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad port list element '" + p + "' in " + text);
      }
    }
    return new PortSet(out);
  }

  public static PortSet of(int port) {
    return parse(Integer.toString(port));
  }

  public boolean contains(int port) {
    for (Range r : ranges) {
      if (port >= r.low() && port <= r.high()) {
        return true;
      }
    }
    return port == 0 && isAny(); // "any" also matches an unknown port
  }

  public boolean isAny() {
    return ranges.size() == 1 && ranges.get(0).low() <= 1 && ranges.get(0).high() == 65535;
  }

  @Override
  public String toString() {
    if (isAny()) {
      return "any";
    }
    StringBuilder b = new StringBuilder();
    for (Range r : ranges) {
      b.append(b.length() == 0 ? "" : ",").append(r.low()).append(r.low() == r.high() ? "" : "-" + r.high());
    }
    return b.toString();
  }
}
