package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A processor the test steers: each call records its batch, then blocks until the test hands out a
 * permit (or opens the gate for good), then applies {@link #behaviour}, by default doubling every input.
 */
final class GatedProcessor implements BatchProcessor<Integer, Integer> {

  interface Behaviour {
    List<Integer> apply(List<Integer> inputs) throws Exception;
  }

  static final Behaviour DOUBLE = inputs -> inputs.stream().map(i -> i * 2).toList();

  private final LinkedBlockingQueue<List<Integer>> started = new LinkedBlockingQueue<>();
  private final List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());
  private final Semaphore permits = new Semaphore(0);
  private volatile boolean open;
  volatile Behaviour behaviour = DOUBLE;
  volatile Thread lastThread;

  /** A processor that never blocks. */
  static GatedProcessor opened() {
    GatedProcessor p = new GatedProcessor();
    p.open();
    return p;
  }

  @Override
  public List<Integer> process(List<Integer> inputs) throws Exception {
    List<Integer> copy = List.copyOf(inputs);
    lastThread = Thread.currentThread();
    batches.add(copy);
    started.add(copy);
    if (!open) {
      permits.acquire();
    }
    return behaviour.apply(copy);
  }

  /** Waits for the next processor call to start and returns its batch. */
  List<Integer> awaitCall() throws InterruptedException {
    List<Integer> batch = started.poll(5, TimeUnit.SECONDS);
    assertNotNull(batch, "processor was not called within 5 s");
    return batch;
  }

  /** Lets {@code n} blocked or future calls proceed. */
  void release(int n) {
    permits.release(n);
  }

  /** Lets every current and future call proceed. */
  void open() {
    open = true;
    permits.release(10_000);
  }

  List<List<Integer>> batches() {
    synchronized (batches) {
      return List.copyOf(batches);
    }
  }

  List<Integer> processedInputs() {
    return batches().stream().flatMap(List::stream).toList();
  }
}
