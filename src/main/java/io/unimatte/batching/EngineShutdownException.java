package io.unimatte.batching;

/**
 * The engine is shutting down: either the item was submitted after {@code shutdown} was called, or it was
 * still queued when the shutdown grace period ran out. Code {@code shutting_down}.
 */
public final class EngineShutdownException extends EngineException {

  private static final long serialVersionUID = 1L;

  public EngineShutdownException(String engineName) {
    super(SHUTTING_DOWN, "engine '" + engineName + "' is shutting down", null);
  }
}
