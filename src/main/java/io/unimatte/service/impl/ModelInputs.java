package io.unimatte.service.impl;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.Resizer;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.ModelInput;

/** Turns a decoded photo into the input a model's contract asks for. */
final class ModelInputs {
  private ModelInputs() {
  }

  /**
   * Fixed-size models get the photo stretched to {@code size}²; any-size models get it as it is, or
   * scaled down so its longer side is at most {@code maxSide}. Channels follow the model's colour order.
   */
  static ModelInput prepare(DecodedImage img, ModelDescriptor model) {
    ModelDescriptor.Input in = model.input();
    int w;
    int h;
    if (in.size() > 0) {
      w = in.size();
      h = in.size();
    } else {
      double scale = in.maxSide() > 0 ? Math.min(1.0, in.maxSide() / (double) Math.max(img.width(), img.height())) : 1.0;
      w = Math.max(1, (int) Math.round(img.width() * scale));
      h = Math.max(1, (int) Math.round(img.height() * scale));
    }
    float[] mean = in.mean();
    float[] std = in.std();
    if (in.bgr()) {
      // the resizer writes RGB: give it the statistics in RGB order, then swap the channels
      mean = new float[] {mean[2], mean[1], mean[0]};
      std = new float[] {std[2], std[1], std[0]};
    }
    float[] px = Resizer.toModelInput(img, w, h, mean, std, null, 0);
    if (in.bgr()) {
      for (int i = 0; i < px.length; i += 3) {
        float r = px[i];
        px[i] = px[i + 2];
        px[i + 2] = r;
      }
    }
    return new ModelInput(px, w, h);
  }
}
