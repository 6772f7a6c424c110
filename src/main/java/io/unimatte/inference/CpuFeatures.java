package io.unimatte.inference;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What the CPU can do, as the operating system reports it: the {@code flags} (x86) or {@code Features}
 * (ARM) lines of {@code /proc/cpuinfo} on Linux, {@code sysctl hw.optional} on macOS. Used to decide
 * whether bfloat16 inference pays. Anything unreadable gives an empty set, never an error, and so
 * bfloat16 off.
 */
public final class CpuFeatures {
  private static final Path CPUINFO = Path.of("/proc/cpuinfo");
  private static final long SYSCTL_TIMEOUT_MS = 2_000;
  /** x86 flags that give oneDNN fast bfloat16 matrix multiplications. */
  private static final Set<String> X86_BF16 = Set.of("avx512_bf16", "amx_bf16");
  /** The ARM feature (Linux {@code Features} line) and its macOS sysctl name. */
  private static final String ARM_BF16 = "bf16";
  private static final String MAC_BF16 = "hw.optional.arm.feat_bf16";
  /** Where macOS keeps sysctl (not on the PATH of every launcher). */
  private static final Path MAC_SYSCTL = Path.of("/usr/sbin/sysctl");
  /**
   * Why bfloat16 stays off on macOS whatever the CPU has: TensorFlow compiles its bfloat16 rewrite
   * ({@code auto_mixed_precision_onednn_bfloat16}) only into oneDNN builds, and its macOS build has
   * no oneDNN, so the rewrite would be skipped with a warning and the model run in fp32.
   */
  static final String NO_ONEDNN_ON_MAC = "TensorFlow's macOS build has no oneDNN bfloat16";

  /**
   * The bfloat16 decision for {@code inference.bf16}.
   *
   * @param enabled whether sessions use oneDNN bfloat16 auto-mixed-precision
   * @param reason  why, in a few words (logged and shown by {@code /health} and {@code /api/v1/models})
   */
  public record Bf16Decision(boolean enabled, String reason) {
  }

  private final Set<String> flags;
  private final String source;
  /** Whether the TensorFlow build for this OS can run oneDNN bfloat16 (Linux and Windows; not macOS). */
  private final boolean onednnBf16;

  private CpuFeatures(Set<String> flags, String source, boolean onednnBf16) {
    this.flags = Set.copyOf(flags);
    this.source = source;
    this.onednnBf16 = onednnBf16;
  }

  /** This machine's features (read once per call: cheap, done at start-up). */
  public static CpuFeatures detect() {
    try {
      if (Files.isReadable(CPUINFO)) {
        return fromCpuinfo(Files.readString(CPUINFO));
      }
    } catch (IOException | RuntimeException e) {
      return new CpuFeatures(Set.of(), "unreadable /proc/cpuinfo", true);
    }
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac")) {
      return fromSysctl(sysctl());
    }
    return new CpuFeatures(Set.of(), "no CPU feature source on " + System.getProperty("os.name"), true);
  }

  /**
   * Features from the text of {@code /proc/cpuinfo}: those on every {@code flags} (x86) or
   * {@code Features} (ARM) line, so a machine whose cores differ (big.LITTLE ARM) counts only what
   * all of them have: a thread may run on any core.
   */
  public static CpuFeatures fromCpuinfo(String cpuinfo) {
    Set<String> common = null;
    for (String line : cpuinfo.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      if (key.equals("flags") || key.equals("features")) {
        Set<String> these = words(line.substring(colon + 1));
        if (common == null) {
          common = these;
        } else {
          common.retainAll(these);
        }
      }
    }
    return common == null ? new CpuFeatures(Set.of(), "no flags in /proc/cpuinfo", true)
        : new CpuFeatures(common, "/proc/cpuinfo", true);
  }

  /**
   * Features from macOS {@code sysctl hw.optional} output ({@code name: 1} lines; only those set to 1
   * count). bfloat16 stays off there whatever they say (see {@link #NO_ONEDNN_ON_MAC}).
   */
  public static CpuFeatures fromSysctl(String output) {
    Set<String> set = new TreeSet<>();
    for (String line : output.split("\n")) {
      String[] kv = line.split(":", 2);
      if (kv.length == 2 && kv[1].trim().equals("1")) {
        set.add(kv[0].trim().toLowerCase(Locale.ROOT));
      }
    }
    return new CpuFeatures(set, "sysctl", false);
  }

  /** Whether the CPU has fast bfloat16 instructions (AVX512-BF16/AMX on x86, BF16 on ARM). */
  public boolean hasBf16() {
    return flags.stream().anyMatch(f -> X86_BF16.contains(f) || f.equals(ARM_BF16) || f.equals(MAC_BF16));
  }

  /**
   * Decides {@code inference.bf16}: {@code on}/{@code off} force it, {@code auto} follows {@link #hasBf16()};
   * off on macOS either way, where TensorFlow cannot run it.
   *
   * @throws IllegalArgumentException for another setting
   */
  public Bf16Decision decideBf16(String setting) {
    String s = setting == null ? "auto" : setting.toLowerCase(Locale.ROOT);
    return switch (s) {
      case "on" -> onednnBf16 ? new Bf16Decision(true, "forced on by inference.bf16")
          : new Bf16Decision(false, "on ignored: " + NO_ONEDNN_ON_MAC);
      case "off" -> new Bf16Decision(false, "forced off by inference.bf16");
      case "auto" -> !onednnBf16
          ? new Bf16Decision(false, "auto: " + NO_ONEDNN_ON_MAC
              + (hasBf16() ? " (the CPU has " + bf16Flags() + ")" : "") + " (" + source + ")")
          : hasBf16()
          ? new Bf16Decision(true, "auto: the CPU has " + bf16Flags() + " (" + source + ")")
          : new Bf16Decision(false, "auto: no bfloat16 instructions (" + source + ")");
      default -> throw new IllegalArgumentException("inference.bf16 must be on, off or auto, got '" + setting + "'");
    };
  }

  private String bf16Flags() {
    return String.join("+", new TreeSet<>(flags.stream()
        .filter(f -> X86_BF16.contains(f) || f.equals(ARM_BF16) || f.equals(MAC_BF16)).toList()));
  }

  private static Set<String> words(String text) {
    return new TreeSet<>(Arrays.stream(text.trim().toLowerCase(Locale.ROOT).split("\\s+"))
        .filter(w -> !w.isEmpty()).toList());
  }

  private static String sysctl() {
    String command = Files.isExecutable(MAC_SYSCTL) ? MAC_SYSCTL.toString() : "sysctl";
    Path out = null;
    try {
      // output to a file, not a pipe: a pipe that fills would block sysctl until the timeout
      out = Files.createTempFile("unimatte-sysctl", ".txt");
      Process p = new ProcessBuilder(command, "hw.optional").redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      if (!p.waitFor(SYSCTL_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return "";
      }
      return p.exitValue() == 0 ? Files.readString(out, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          // a left-over temp file of a few KB: not worth failing the start for
        }
      }
    }
  }
}
