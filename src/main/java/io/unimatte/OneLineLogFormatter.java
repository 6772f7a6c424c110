package io.unimatte;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One log line per event: {@code time level logger message}. A throwable's stack trace is printed
 * only for unexpected errors (level SEVERE); everything else gets its message on the same line.
 */
public final class OneLineLogFormatter extends Formatter {

  /** Replaces the root logger's handlers with one console handler using this format. */
  public static void install() {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(new OneLineLogFormatter());
    handler.setLevel(Level.ALL);
    root.addHandler(handler);
  }

  @Override
  public String format(LogRecord r) {
    StringBuilder sb = new StringBuilder(128)
        .append(Instant.ofEpochMilli(r.getMillis())).append(' ')
        .append(r.getLevel().getName()).append(' ')
        .append(shortName(r.getLoggerName())).append(' ')
        .append(formatMessage(r).replace('\n', ' '));
    Throwable t = r.getThrown();
    if (t != null) {
      sb.append(" error=").append(t);
    }
    sb.append('\n');
    if (t != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) {
      java.io.StringWriter sw = new java.io.StringWriter();
      t.printStackTrace(new java.io.PrintWriter(sw));
      sb.append(sw);
    }
    return sb.toString();
  }

  private static String shortName(String name) {
    if (name == null) {
      return "-";
    }
    int dot = name.lastIndexOf('.');
    return dot < 0 ? name : name.substring(dot + 1);
  }
}
