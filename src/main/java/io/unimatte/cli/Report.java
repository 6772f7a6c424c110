package io.unimatte.cli;

import io.vertx.core.json.JsonObject;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;

import java.io.PrintStream;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What the user sees: one progress bar over all images (done / total, img/s, ETA) on stderr, one
 * line per failure with the file and its error code, and a summary at the end; or with
 * {@code --json} one JSON line per image on stdout. Thread-safe: the runners report from their
 * own threads.
 */
final class Report {
  /** Codes of failures that happen in the tool itself, beside the API's (docs/errors.md). */
  static final String READ_FAILED = "read_failed";
  static final String WRITE_FAILED = "write_failed";
  static final String CONNECTION_FAILED = "connection_failed";

  /** How often the bar redraws itself (speed and ETA move even when no image finishes). */
  private static final int BAR_REFRESH_MS = 500;
  private static final String PREFIX = "unimatte: ";
  /** Ignored files named in the summary; beyond that only their count. */
  private static final int IGNORED_NAMED = 3;
  /** Cutouts flagged for review named in the summary; {@code --json} lists every one. */
  private static final int REVIEW_NAMED = 10;

  /** A finished image, as reported. */
  record Done(String output, int width, int height, String model, double confidence, boolean review, boolean cached,
              long millis, JsonObject extra) {
  }

  private final boolean json;
  private final boolean quiet;
  private final boolean wantBar;
  private final PrintStream out;
  private final PrintStream err;
  private final Object lock = new Object();
  private ProgressBar bar;
  private LockedConsumer barOutput;
  private long startNanos;
  private int total;
  private int done;
  private int failed;
  private final List<String> reviewNames = new java.util.ArrayList<>();
  private int cached;

  /**
   * @param json  one JSON line per image on {@code out} instead of failure lines
   * @param quiet no bar, notices or summary: failures only
   * @param bar   draw the progress bar (an interactive terminal)
   */
  Report(boolean json, boolean quiet, boolean bar, PrintStream out, PrintStream err) {
    this.json = json;
    this.quiet = quiet;
    this.wantBar = bar && !quiet && !json;
    this.out = out;
    this.err = err;
  }

  /** A line for the user (loading the model, stopping): above the bar; none with {@code --quiet}. */
  void notice(String message) {
    if (!quiet) {
      line(PREFIX + message);
    }
  }

  /** Processing starts: {@code total} images to cut. */
  void begin(int total) {
    synchronized (lock) {
      this.total = total;
      startNanos = System.nanoTime();
      if (wantBar && total > 0) {
        barOutput = new LockedConsumer(new ConsoleProgressBarConsumer(err), lock);
        bar = new ProgressBarBuilder().setTaskName("cut").setInitialMax(total).setConsumer(barOutput)
            .setUnit(" img", 1).showSpeed(new DecimalFormat("0.00")).setUpdateIntervalMillis(BAR_REFRESH_MS)
            .build();
      }
    }
  }

  void done(String name, Done d) {
    synchronized (lock) {
      done++;
      if (d.review()) {
        reviewNames.add(d.output());
      }
      cached += d.cached() ? 1 : 0;
      if (json) {
        JsonObject j = new JsonObject().put("file", name).put("status", "done").put("output", d.output())
            .put("width", d.width()).put("height", d.height()).put("model", d.model())
            .put("confidence", Math.round(d.confidence() * 1000) / 1000.0).put("review", d.review())
            .put("cached", d.cached()).put("ms", d.millis());
        if (d.extra() != null) {
          j.mergeIn(d.extra());
        }
        jsonLine(j);
      }
      step();
    }
  }

  void failed(String name, String code, String message, JsonObject extra) {
    synchronized (lock) {
      failed++;
      if (json) {
        JsonObject j = new JsonObject().put("file", name).put("status", "failed").put("code", code)
            .put("message", message);
        if (extra != null) {
          j.mergeIn(extra);
        }
        jsonLine(j);
        step();
      } else {
        step(); // first, so the bar redrawn under the line already counts it
        line("failed " + name + ": " + code + (message == null || message.isBlank() ? "" : " (" + message + ")"));
      }
    }
  }

  /** An image left alone by {@code --skip-existing} (a JSON line only; the summary counts them). */
  void skipped(String name, String output) {
    if (json) {
      synchronized (lock) {
        jsonLine(new JsonObject().put("file", name).put("status", "skipped").put("reason", "output_up_to_date")
            .put("output", output));
      }
    }
  }

  int failures() {
    synchronized (lock) {
      return failed;
    }
  }

  /**
   * Closes the bar and prints the summary.
   *
   * @param notStarted images never started because the run was interrupted
   */
  void end(int skipped, List<String> ignored, int notStarted, boolean interrupted, String where) {
    ProgressBar closing;
    synchronized (lock) {
      closing = bar;
      bar = null;
    }
    if (closing != null) {
      // not under the lock: close() waits for a last redraw on the bar's thread, which takes the lock
      closing.close();
    }
    synchronized (lock) {
      if (quiet) {
        return;
      }
      double secs = (System.nanoTime() - startNanos) / (double) TimeUnit.SECONDS.toNanos(1);
      int finished = done + failed;
      StringBuilder sb = new StringBuilder(PREFIX);
      if (interrupted) {
        sb.append("interrupted: ");
      }
      sb.append(done).append(" done, ").append(failed).append(" failed");
      if (notStarted > 0) {
        sb.append(", ").append(notStarted).append(" not started");
      }
      sb.append(" of ").append(total).append(total == 1 ? " image" : " images");
      if (total > 0) {
        sb.append(String.format(Locale.ROOT, " in %.1f s (%.2f img/s, %s)", secs, secs > 0 ? finished / secs : 0.0,
            where));
      }
      if (!reviewNames.isEmpty()) {
        sb.append("; ").append(reviewNames.size()).append(" flagged for review (low confidence)");
      }
      if (cached > 0) {
        sb.append("; ").append(cached).append(" from the result cache");
      }
      line(sb.toString());
      if (!reviewNames.isEmpty()) {
        // the few a shop should check by hand, by name
        List<String> named = reviewNames.subList(0, Math.min(REVIEW_NAMED, reviewNames.size()));
        line(PREFIX + "check by hand: " + String.join(", ", named)
            + (reviewNames.size() > named.size() ? ", … (--json lists every one)" : ""));
      }
      if (skipped > 0) {
        line(PREFIX + skipped + " skipped: output newer than the input (--skip-existing)");
      }
      if (!ignored.isEmpty()) {
        List<String> named = ignored.subList(0, Math.min(IGNORED_NAMED, ignored.size()));
        line(PREFIX + ignored.size() + " ignored, not images by their extension: " + String.join(", ", named)
            + (ignored.size() > named.size() ? ", …" : ""));
      }
      if (interrupted) {
        line(PREFIX + "run the same command with --skip-existing to go on where it stopped");
      }
    }
  }

  private void step() {
    if (bar != null) {
      bar.step();
    }
  }

  private void jsonLine(JsonObject j) {
    out.println(j.encode());
    out.flush();
  }

  /** A whole line on stderr, above the bar when there is one (the bar redraws itself below it). */
  private void line(String text) {
    synchronized (lock) {
      if (barOutput != null && bar != null) {
        barOutput.clear();
        err.print('\r');
        err.println(text);
        bar.refresh();
      } else {
        err.println(text);
      }
      err.flush();
    }
  }

  /**
   * The library's console output with the report's lock around every redraw, so a failure line and
   * a redraw from the bar's own thread never interleave.
   */
  private static final class LockedConsumer implements ProgressBarConsumer {
    private final ProgressBarConsumer delegate;
    private final Object lock;

    LockedConsumer(ProgressBarConsumer delegate, Object lock) {
      this.delegate = delegate;
      this.lock = lock;
    }

    @Override
    public int getMaxRenderedLength() {
      return delegate.getMaxRenderedLength();
    }

    @Override
    public void accept(String rendered) {
      synchronized (lock) {
        delegate.accept(rendered);
      }
    }

    @Override
    public void clear() {
      synchronized (lock) {
        delegate.clear();
      }
    }

    @Override
    public void close() {
      synchronized (lock) {
        delegate.close();
      }
    }
  }
}
