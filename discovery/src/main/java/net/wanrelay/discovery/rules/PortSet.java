package net.wanrelay.discovery.rules;

import java.util.ArrayList;
import java.util.List;

/** Ports as "22", "80,443", "8000-8999" or "any". */
public record PortSet(List<int[]> ranges) {
  public static final PortSet ANY = new PortSet(List.of(new int[] {0, 65535}));

  public static PortSet parse(String text) {
    if (text == null || text.isBlank() || text.trim().equalsIgnoreCase("any")) {
      return ANY;
    }
    List<int[]> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      int dash = p.indexOf('-');
      try {
        int lo = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
        int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1).trim());
        if (lo < 1 || hi > 65535 || lo > hi) {
          throw new IllegalArgumentException("port range " + p + " out of 1..65535");
        }
        out.add(new int[] {lo, hi});
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad port list element '" + p + "' in " + text);
      }
    }
    return new PortSet(List.copyOf(out));
  }

  public static PortSet of(int port) {
    return parse(Integer.toString(port));
  }

  public boolean contains(int port) {
    for (int[] r : ranges) {
      if (port >= r[0] && port <= r[1]) {
        return true;
      }
    }
    return false;
  }

  public boolean isAny() {
    return this == ANY || ranges.size() == 1 && ranges.get(0)[0] <= 1 && ranges.get(0)[1] == 65535;
  }

  @Override
  public String toString() {
    if (isAny()) {
      return "any";
    }
    StringBuilder b = new StringBuilder();
    for (int[] r : ranges) {
      b.append(b.length() == 0 ? "" : ",").append(r[0]).append(r[0] == r[1] ? "" : "-" + r[1]);
    }
    return b.toString();
  }
}
