package io.unimatte.modelimport;

import java.util.Collection;
import java.util.TreeSet;

/** An ONNX graph uses an op (or an op variant) that the importer cannot translate. */
public final class UnsupportedOpException extends RuntimeException {
  private final String opType;

  public UnsupportedOpException(String opType, String nodeName, String detail, Collection<String> supported) {
    super("unsupported ONNX op '" + opType + "' (node '" + nodeName + "')" + (detail == null ? "" : ": " + detail)
        + "; supported ops: " + String.join(", ", new TreeSet<>(supported)), null, false, false);
    this.opType = opType;
  }

  /** The op type that could not be translated. */
  public String opType() {
    return opType;
  }
}
