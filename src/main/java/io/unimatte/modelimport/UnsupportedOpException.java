package io.unimatte.modelimport;

import java.util.Collection;
import java.util.TreeSet;

/** A source graph (ONNX, TF.js) uses an op (or an op variant) that the importer cannot translate. */
public final class UnsupportedOpException extends RuntimeException {
  private final String opType;

  /** An ONNX op outside the converter's {@code supported} list. */
  public UnsupportedOpException(String opType, String nodeName, String detail, Collection<String> supported) {
    this("ONNX", opType, nodeName, detail, supported);
  }

  /**
   * An op of {@code format} (e.g. "ONNX", "TF.js") that cannot be translated.
   *
   * @param detail    why, or null
   * @param supported the ops that are supported, or null when the list is too long to be useful
   */
  public UnsupportedOpException(String format, String opType, String nodeName, String detail,
                                Collection<String> supported) {
    super("unsupported " + format + " op '" + opType + "' (node '" + nodeName + "')"
        + (detail == null ? "" : ": " + detail)
        + (supported == null ? "" : "; supported ops: " + String.join(", ", new TreeSet<>(supported))),
        null, false, false);
    this.opType = opType;
  }

  /** The op type that could not be translated. */
  public String opType() {
    return opType;
  }
}
