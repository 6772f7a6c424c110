package io.unimatte.inference;

import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonObject;


/**
 * TensorFlow session settings from the {@code inference} section of {@code config.json}.
 *
 * @param intraOpThreads threads inside one op (matrix multiplications): the machine's cores
 * @param interOpThreads ops run side by side; 1 keeps the cores on one convolution at a time
 * @param bf16           oneDNN bfloat16 auto-mixed-precision on CPU (changes soft alpha slightly), and why
 * @param gpuFp16        float16 auto-mixed-precision on GPU
 */
public record SessionOptions(int intraOpThreads, int interOpThreads, CpuFeatures.Bf16Decision bf16,
                             boolean gpuFp16) {

  /** Options with bfloat16 forced on or off (tests, benchmarks). */
  public SessionOptions(int intraOpThreads, int interOpThreads, boolean bf16, boolean gpuFp16) {
    this(intraOpThreads, interOpThreads, new CpuFeatures.Bf16Decision(bf16, "forced " + (bf16 ? "on" : "off")),
        gpuFp16);
  }

  /**
   * Reads the options; {@code bf16} is {@code on}, {@code off} or {@code auto} (on where the CPU reports
   * AVX512-BF16, AMX-BF16 or ARM BF16), decided against {@code cpu}.
   */
  public static SessionOptions from(JsonObject inference, CpuFeatures cpu) {
    return new SessionOptions(AppConfig.requireInt(inference, "intraOpThreads"),
        AppConfig.requireInt(inference, "interOpThreads"), cpu.decideBf16(AppConfig.requireString(inference, "bf16")),
        inference.getBoolean("gpuFp16", false));
  }
}
