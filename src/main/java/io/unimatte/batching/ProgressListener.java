package io.unimatte.batching;

/**
 * Receives {@link ProgressEvent}s.
 *
 * <p>Called synchronously: from the engine thread for {@code INFERRING} and most {@code FAILED} events,
 * and from the submitting thread when {@code submit} itself is refused ({@code queue_full},
 * {@code shutting_down}). Implementations must therefore be thread-safe and fast (hand off to a queue or
 * event bus rather than doing I/O); a slow listener slows every batch. Exceptions thrown are logged and
 * otherwise ignored.
 */
@FunctionalInterface
public interface ProgressListener {

  void onEvent(ProgressEvent event);

  /** A listener that ignores every event. */
  static ProgressListener noop() {
    return event -> { };
  }
}
