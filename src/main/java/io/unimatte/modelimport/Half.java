package io.unimatte.modelimport;

/** IEEE 754 binary16 conversions (Java 17 has no {@code Float.float16ToFloat}). */
public final class Half {

  private static final int SIGN_MASK = 0x8000;
  private static final int EXPONENT_MASK = 0x7C00;
  private static final int MANTISSA_MASK = 0x03FF;
  private static final int MANTISSA_BITS = 10;
  private static final int HALF_EXPONENT_BIAS = 15;
  private static final int FLOAT_EXPONENT_BIAS = 127;
  private static final int FLOAT_MANTISSA_BITS = 23;
  private static final int FLOAT_EXPONENT_ALL_ONES = 0xFF;
  /** 2^-24: the value of the least significant bit of a subnormal half. */
  private static final float SUBNORMAL_UNIT = 0x1p-24f;

  private Half() {
  }

  /** Widens the 16 bits of a half-precision float to a float, exactly. */
  public static float toFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h & SIGN_MASK) << 16;
    int exponent = (h & EXPONENT_MASK) >>> MANTISSA_BITS;
    int mantissa = h & MANTISSA_MASK;
    if (exponent == 0) {
      // zero or subnormal: value = mantissa * 2^-24, exactly representable in float
      float magnitude = mantissa * SUBNORMAL_UNIT;
      return sign != 0 ? -magnitude : magnitude;
    }
    if (exponent == (EXPONENT_MASK >>> MANTISSA_BITS)) {
      // infinity or NaN: keep the payload bits
      return Float.intBitsToFloat(sign | (FLOAT_EXPONENT_ALL_ONES << FLOAT_MANTISSA_BITS)
          | (mantissa << (FLOAT_MANTISSA_BITS - MANTISSA_BITS)));
    }
    int floatExponent = exponent - HALF_EXPONENT_BIAS + FLOAT_EXPONENT_BIAS;
    return Float.intBitsToFloat(sign | (floatExponent << FLOAT_MANTISSA_BITS)
        | (mantissa << (FLOAT_MANTISSA_BITS - MANTISSA_BITS)));
  }

  /** Narrows a float to half precision, rounding to nearest even (used by tests and tools). */
  public static short fromFloat(float value) {
    int f = Float.floatToRawIntBits(value);
    int sign = (f >>> 16) & SIGN_MASK;
    int exponent = ((f >>> FLOAT_MANTISSA_BITS) & FLOAT_EXPONENT_ALL_ONES);
    int mantissa = f & ((1 << FLOAT_MANTISSA_BITS) - 1);
    if (exponent == FLOAT_EXPONENT_ALL_ONES) {
      int nanBit = mantissa != 0 ? 0x200 : 0;
      return (short) (sign | EXPONENT_MASK | nanBit);
    }
    int halfExponent = exponent - FLOAT_EXPONENT_BIAS + HALF_EXPONENT_BIAS;
    if (halfExponent >= 0x1F) {
      return (short) (sign | EXPONENT_MASK); // overflow to infinity
    }
    int shift = FLOAT_MANTISSA_BITS - MANTISSA_BITS;
    if (halfExponent <= 0) {
      if (halfExponent < -MANTISSA_BITS) {
        return (short) sign; // underflow to signed zero
      }
      // subnormal: add the implicit bit, then shift further right
      mantissa |= 1 << FLOAT_MANTISSA_BITS;
      shift += 1 - halfExponent;
      halfExponent = 0;
    }
    int half = mantissa >>> shift;
    int remainder = mantissa & ((1 << shift) - 1);
    int halfway = 1 << (shift - 1);
    int result = sign | (halfExponent << MANTISSA_BITS) | half;
    if (remainder > halfway || (remainder == halfway && (half & 1) != 0)) {
      result++; // may carry into the exponent, which is the correct rounding
    }
    return (short) result;
  }
}
