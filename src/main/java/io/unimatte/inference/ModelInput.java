package io.unimatte.inference;

/**
 * One preprocessed image for a session: {@code height × width × 3} floats, channels last, already
 * in the model's colour order and normalisation. Fixed-size models get {@code size × size}.
 *
 * @param pixels HWC floats
 * @param width  columns
 * @param height rows
 */
public record ModelInput(float[] pixels, int width, int height) {
  public ModelInput {
    if (pixels.length != width * height * 3) {
      throw new IllegalArgumentException("input has " + pixels.length + " floats, expected " + width + " × "
          + height + " × 3");
    }
  }
}
