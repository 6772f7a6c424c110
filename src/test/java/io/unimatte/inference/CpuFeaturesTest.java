package io.unimatte.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bfloat16 decision on flag lists of real CPUs (abridged to the lines that matter). */
class CpuFeaturesTest {
  /** Intel Xeon Sapphire Rapids: AVX-512 with BF16 and AMX. */
  private static final String SAPPHIRE_RAPIDS = """
      processor\t: 0
      vendor_id\t: GenuineIntel
      model name\t: Intel(R) Xeon(R) Platinum 8481C
      flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
      processor\t: 1
      flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
      """;
  /** AMD EPYC Zen 3 (the development machine's kind): AVX2 and FMA, no AVX-512. */
  private static final String EPYC_ZEN3 = """
      processor\t: 0
      vendor_id\t: AuthenticAMD
      model name\t: AMD EPYC 7B13
      flags\t\t: fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma bmi1 bmi2 sha_ni vaes
      """;
  /** AMD EPYC Zen 4: AVX-512 with BF16, no AMX. */
  private static final String EPYC_ZEN4 = "flags\t\t: fpu sse2 avx avx2 avx512f avx512_bf16 avx512_vnni\n";
  /** Intel Ice Lake: AVX-512 without BF16. */
  private static final String ICE_LAKE = "flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bitalg\n";
  /** ARM Neoverse V1 (Graviton3): BF16 in the Features line. */
  private static final String GRAVITON3 = """
      processor\t: 0
      BogoMIPS\t: 2100.00
      Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm bf16 i8mm sve
      CPU implementer\t: 0x41
      """;
  /** ARM Neoverse N1 (Graviton2): no BF16. */
  private static final String GRAVITON2 = "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp\n";
  /** A big.LITTLE ARM board whose little cores (Cortex-A55) lack BF16 while the big ones (A76+) have it. */
  private static final String MIXED_ARM = """
      processor\t: 0
      Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
      processor\t: 4
      Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp bf16 i8mm
      """;
  /** macOS on Apple M2 ({@code sysctl hw.optional}). */
  private static final String APPLE_M2 = """
      hw.optional.arm.FEAT_BF16: 1
      hw.optional.arm.FEAT_I8MM: 1
      hw.optional.neon: 1
      """;
  /** macOS on Apple M1: the feature is listed but absent. */
  private static final String APPLE_M1 = "hw.optional.arm.FEAT_BF16: 0\nhw.optional.neon: 1\n";

  @Test
  void autoTurnsBf16OnWhereTheCpuHasIt() {
    for (String cpu : new String[] {SAPPHIRE_RAPIDS, EPYC_ZEN4, GRAVITON3}) {
      CpuFeatures.Bf16Decision d = CpuFeatures.fromCpuinfo(cpu).decideBf16("auto");
      assertTrue(d.enabled(), cpu);
      assertTrue(d.reason().startsWith("auto: the CPU has "), d.reason());
    }
    assertEquals("auto: the CPU has amx_bf16+avx512_bf16 (/proc/cpuinfo)",
        CpuFeatures.fromCpuinfo(SAPPHIRE_RAPIDS).decideBf16("auto").reason());
    assertEquals("auto: the CPU has bf16 (/proc/cpuinfo)", CpuFeatures.fromCpuinfo(GRAVITON3).decideBf16("auto").reason());
  }

  @Test
  void autoLeavesItOffElsewhere() {
    for (String cpu : new String[] {EPYC_ZEN3, ICE_LAKE, GRAVITON2, "", "processor : 0\n"}) {
      assertFalse(CpuFeatures.fromCpuinfo(cpu).decideBf16("auto").enabled(), cpu);
    }
    assertFalse(CpuFeatures.fromSysctl(APPLE_M1).decideBf16("auto").enabled());
    assertFalse(CpuFeatures.fromSysctl("").decideBf16("AUTO").enabled());
  }

  @Test
  void onlyWhatEveryCoreHasCounts() {
    assertFalse(CpuFeatures.fromCpuinfo(MIXED_ARM).hasBf16());
    assertFalse(CpuFeatures.fromCpuinfo(MIXED_ARM).decideBf16("auto").enabled());
    assertTrue(CpuFeatures.fromCpuinfo(SAPPHIRE_RAPIDS + SAPPHIRE_RAPIDS).hasBf16());
  }

  @Test
  void macOsReadsTheCpuButKeepsFp32() {
    assertTrue(CpuFeatures.fromSysctl(APPLE_M2).hasBf16(), "FEAT_BF16 is read");
    assertFalse(CpuFeatures.fromSysctl(APPLE_M1).hasBf16());
    CpuFeatures.Bf16Decision auto = CpuFeatures.fromSysctl(APPLE_M2).decideBf16("auto");
    assertFalse(auto.enabled(), "TensorFlow's macOS build cannot run the oneDNN rewrite");
    assertEquals("auto: " + CpuFeatures.NO_ONEDNN_ON_MAC + " (the CPU has hw.optional.arm.feat_bf16) (sysctl)",
        auto.reason());
    assertFalse(CpuFeatures.fromSysctl(APPLE_M2).decideBf16("on").enabled());
  }

  @Test
  void onAndOffForceIt() {
    assertTrue(CpuFeatures.fromCpuinfo(EPYC_ZEN3).decideBf16("on").enabled());
    assertTrue(CpuFeatures.fromCpuinfo(GRAVITON2).decideBf16("on").enabled());
    assertFalse(CpuFeatures.fromCpuinfo(SAPPHIRE_RAPIDS).decideBf16("off").enabled());
    assertThrows(IllegalArgumentException.class, () -> CpuFeatures.fromCpuinfo(EPYC_ZEN3).decideBf16("maybe"));
  }

  @Test
  void thisMachineGivesADecisionWithAReason() {
    CpuFeatures.Bf16Decision d = CpuFeatures.detect().decideBf16("auto");
    assertTrue(d.reason().startsWith("auto: "), d.reason());
  }
}
