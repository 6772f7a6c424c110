package io.unimatte.service;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's memory as the OS sees it. Resident set size from {@code /proc/self/status} on Linux;
 * elsewhere unknown ({@code -1}): the budget then falls back on the Java heap alone.
 */
public final class ProcessMemory {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final String RSS_KEY = "VmRSS:";
  private static final String PEAK_KEY = "VmHWM:";
  private static final long KIB = 1024;

  private ProcessMemory() {
  }

  /** Resident set size in bytes, or -1 where the OS does not tell. */
  public static long residentBytes() {
    return statusBytes(RSS_KEY);
  }

  /** The highest resident set size so far in bytes, or -1 where the OS does not tell. */
  public static long peakResidentBytes() {
    return statusBytes(PEAK_KEY);
  }

  /** The machine's memory (or the container's limit) in bytes, as the JVM sees it; -1 when unknown. */
  public static long machineBytes() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return -1;
  }

  private static long statusBytes(String key) {
    if (!Files.isReadable(STATUS)) {
      return -1;
    }
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(key)) {
          String[] parts = line.substring(key.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) * KIB;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
