package io.unimatte.modelimport;

/** The bytes are not a well-formed ONNX model, or use a feature this reader does not decode. */
public class OnnxFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OnnxFormatException(String message) {
    super(message);
  }

  public OnnxFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
