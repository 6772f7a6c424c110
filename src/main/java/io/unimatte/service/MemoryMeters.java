package io.unimatte.service;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The process's memory and its budget as Micrometer meters: {@code unimatte_memory_resident_bytes}
 * (RSS; -1 where the OS does not tell), {@code unimatte_memory_budget_bytes},
 * {@code unimatte_memory_images_capacity_bytes}, {@code unimatte_memory_images_inflight_bytes},
 * {@code unimatte_memory_images_waiting}, and the counters {@code unimatte_memory_images_delayed_total}
 * and {@code unimatte_memory_images_refused_total} ({@code reason}: {@code busy}, {@code too_large}).
 */
public final class MemoryMeters implements MeterBinder {
  private static final String REASON = "reason";
  private final MemoryBudget budget;

  public MemoryMeters(MemoryBudget budget) {
    this.budget = budget;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("unimatte.memory.resident.bytes", ProcessMemory::residentBytes)
        .description("resident memory of the process (RSS); -1 where the OS does not tell").register(registry);
    Gauge.builder("unimatte.memory.budget.bytes", budget, b -> b.budgetBytes() == Long.MAX_VALUE ? -1 : b.budgetBytes())
        .description("server.memoryBudgetBytes as resolved (-1: unlimited)").register(registry);
    Gauge.builder("unimatte.memory.images.capacity.bytes", budget, MemoryBudget::capacity)
        .description("room for images in flight: the budget less the resident base, within the heap").register(registry);
    Gauge.builder("unimatte.memory.images.inflight.bytes", budget, MemoryBudget::inFlightBytes)
        .description("what the images in flight are reckoned to take").register(registry);
    Gauge.builder("unimatte.memory.images.waiting", budget, MemoryBudget::waitingImages)
        .description("images waiting for room in the budget").register(registry);
    FunctionCounter.builder("unimatte.memory.images.delayed", budget, b -> b.counts()[1])
        .description("images that waited for room before they were admitted or refused").register(registry);
    FunctionCounter.builder("unimatte.memory.images.refused", budget, b -> b.counts()[2])
        .tag(REASON, "busy").description("images refused by the memory budget").register(registry);
    FunctionCounter.builder("unimatte.memory.images.refused", budget, b -> b.counts()[3])
        .tag(REASON, "too_large").description("images refused by the memory budget").register(registry);
  }
}
