package net.wanrelay.core.config;

/** A configuration problem, reported as one line naming the file, line, column and key. */
public final class ConfigException extends Exception {
  public ConfigException(String message) {
    super(oneLine(message));
  }

  /**
   * Messages quote the file's own text (values, YAML parser context); control characters in it
   * (a newline in a quoted value, say) are escaped so the report stays one line and cannot forge
   * log lines.
   */
  private static String oneLine(String message) {
    if (message == null || message.chars().noneMatch(Character::isISOControl)) {
      return message;
    }
    StringBuilder b = new StringBuilder(message.length() + 8);
    for (char c : message.toCharArray()) {
      if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c == '\t') {
        b.append("\\t");
      } else if (Character.isISOControl(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
