package io.unimatte.imaging;

/** Reconstruction kernels for {@link Resizer}, each with its support radius at scale 1. */
enum ResampleFilter {
  /** Bilinear when enlarging; a tent-weighted area average when the support is stretched for shrinking. */
  TRIANGLE(1) {
    @Override
    double eval(double x) {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    }
  },
  /** Bicubic with a = −0.5: interpolating, sharp, mild overshoot (clamped by the caller). */
  CATMULL_ROM(2) {
    @Override
    double eval(double x) {
      x = Math.abs(x);
      if (x < 1) {
        return (1.5 * x - 2.5) * x * x + 1;
      }
      if (x < 2) {
        return ((-0.5 * x + 2.5) * x - 4) * x + 2;
      }
      return 0;
    }
  },
  /** Windowed sinc with three lobes: the sharpest of the three when shrinking. */
  LANCZOS3(3) {
    @Override
    double eval(double x) {
      x = Math.abs(x);
      if (x < 1e-9) {
        return 1;
      }
      if (x >= 3) {
        return 0;
      }
      double px = Math.PI * x;
      return 3 * Math.sin(px) * Math.sin(px / 3) / (px * px);
    }
  };

  final double support;

  ResampleFilter(double support) {
    this.support = support;
  }

  abstract double eval(double x);
}
