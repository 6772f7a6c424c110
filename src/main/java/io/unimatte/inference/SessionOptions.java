package io.unimatte.inference;

import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * TensorFlow session settings from the {@code inference} section of {@code config.json}.
 *
 * @param intraOpThreads threads inside one op (matrix multiplications): the machine's cores
 * @param interOpThreads ops run side by side; 1 keeps the cores on one convolution at a time
 * @param bf16           oneDNN bfloat16 auto-mixed-precision on CPU (changes soft alpha slightly)
 * @param gpuFp16        float16 auto-mixed-precision on GPU
 */
public record SessionOptions(int intraOpThreads, int interOpThreads, boolean bf16, boolean gpuFp16) {

  /** Reads the options; {@code bf16} is {@code on}, {@code off} or {@code auto} (on where the CPU has AVX512-BF16/AMX). */
  public static SessionOptions from(JsonObject inference) {
    String bf16 = inference.getString("bf16", "off").toLowerCase(Locale.ROOT);
    boolean useBf16 = switch (bf16) {
      case "on" -> true;
      case "off" -> false;
      case "auto" -> cpuHasBf16();
      default -> throw new IllegalArgumentException("inference.bf16 must be on, off or auto, got '" + bf16 + "'");
    };
    return new SessionOptions(AppConfig.requireInt(inference, "intraOpThreads"),
        AppConfig.requireInt(inference, "interOpThreads"), useBf16, inference.getBoolean("gpuFp16", false));
  }

  /** True where /proc/cpuinfo lists a bfloat16 instruction set (AVX512-BF16 or AMX-BF16). */
  public static boolean cpuHasBf16() {
    try {
      String info = Files.readString(Path.of("/proc/cpuinfo"));
      return info.contains("avx512_bf16") || info.contains("amx_bf16");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
