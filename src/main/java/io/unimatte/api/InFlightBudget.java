package io.unimatte.api;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * The bytes that request bodies and WebSocket messages may hold in memory at once, across every HTTP
 * verticle of the process ({@code server.maxInFlightBytes}). An upload reserves its declared length before
 * its body is read; one that does not fit is answered 503 {@code server_busy} at once, so a crowd of large
 * or stalled uploads meets a refusal instead of an {@code OutOfMemoryError}.
 */
public final class InFlightBudget implements MeterBinder {
  private static final Logger LOG = Logger.getLogger(InFlightBudget.class.getName());
  /**
   * With {@code maxInFlightBytes = 0} the budget is this fraction of the maximum heap: a body is copied
   * about twice more while it is parsed, and decoding needs room of its own.
   */
  static final int AUTO_HEAP_DIVISOR = 4;

  private final long limit;
  private final AtomicLong held = new AtomicLong();

  private InFlightBudget(long limit) {
    this.limit = limit;
  }

  /**
   * The budget of {@code server.maxInFlightBytes}: that many bytes, or with 0 a quarter of the maximum heap.
   *
   * @param maxRequestBytes {@code server.maxRequestBytes}, only to warn when one upload can never fit
   */
  public static InFlightBudget of(long configured, long maxRequestBytes) {
    if (configured < 0) {
      throw new IllegalArgumentException("server.maxInFlightBytes must be >= 0 (0: a quarter of the heap), was "
          + configured);
    }
    long limit = configured > 0 ? configured : Runtime.getRuntime().maxMemory() / AUTO_HEAP_DIVISOR;
    LOG.info("event=inflight_budget bytes=" + limit + (configured == 0 ? " source=heap" : " source=config"));
    if (limit < maxRequestBytes) {
      LOG.warning("event=inflight_budget_small bytes=" + limit + " maxRequestBytes=" + maxRequestBytes
          + " note=uploads_over_the_budget_get_413");
    }
    return new InFlightBudget(limit);
  }

  /** Takes {@code bytes} from the budget; false (and nothing taken) when they do not fit now. */
  boolean tryAcquire(long bytes) {
    while (true) {
      long now = held.get();
      if (now + bytes > limit) {
        return false;
      }
      if (held.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Gives back bytes taken with {@link #tryAcquire}. */
  void release(long bytes) {
    held.addAndGet(-bytes);
  }

  /** The whole budget in bytes. */
  public long limit() {
    return limit;
  }

  /** Bytes held now. */
  public long held() {
    return held.get();
  }

  /** {@code unimatte_inflight_bytes} and its limit, and the heap they protect, on {@code /metrics}. */
  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("unimatte.inflight.bytes", this, InFlightBudget::held)
        .description("bytes of request bodies and WebSocket messages held now").register(registry);
    Gauge.builder("unimatte.inflight.limit.bytes", this, InFlightBudget::limit)
        .description("server.maxInFlightBytes in effect").register(registry);
    Runtime rt = Runtime.getRuntime();
    Gauge.builder("unimatte.heap.used.bytes", rt, r -> r.totalMemory() - r.freeMemory())
        .description("JVM heap in use (collected or not)").register(registry);
    Gauge.builder("unimatte.heap.max.bytes", rt, Runtime::maxMemory)
        .description("the JVM's maximum heap").register(registry);
  }
}
