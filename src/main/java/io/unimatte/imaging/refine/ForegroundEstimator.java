package io.unimatte.imaging.refine;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.Parallel;
import java.util.Objects;

/**
 * Estimates the foreground colour F of semi-transparent pixels, so that a cutout's soft edges carry
 * the subject's colour instead of the old background's. Implements the multi-level method of Germer
 * et al. 2020 ("Fast Multi-Level Foreground Estimation"): solve {@code I = αF + (1−α)B} per pixel
 * with a smoothness term towards the 4 neighbours' F and B, coarse to fine on an image pyramid, with
 * a few in-place (Gauss-Seidel) sweeps per level.
 *
 * <p>Memory and time are kept near-linear in the edge size: the small levels (up to
 * {@value #MAX_FULL_LEVEL_PIXELS} pixels by default) are solved on all their pixels, the larger ones only on the
 * cells that hold band pixels ({@code 5 < α < 250} at full resolution) and {@value #BAND_MARGIN_CELLS}
 * cells around them, and the full resolution level only on the band itself; neighbours outside what a
 * level solves keep fixed values (the photo's colour where it is known, the coarser estimate elsewhere).
 * Far from the band a coarse level's estimate only ever reaches pixels that show at most 2% of it, so
 * this changes what shows by a level or two at most, and keeps a 48-MP photo's pyramid from holding
 * a 12-MP level of floats.
 * Pixels with {@code α ≥ 250} are at least 98% subject, so their photo colour is their foreground
 * colour to within 2% of the background's difference, invisible, and they keep it; pixels with
 * {@code 0 < α ≤ 5} are at most 2% visible and take the coarser estimate. Models leave many such
 * near-hard pixels (ISNet: a quarter of the soft ones), so this saves much of the finest level.
 * Stateless apart from its parameters and thread-safe.
 *
 * <p>Longer than most files on purpose: the multi-level solver, its full-resolution pass and the
 * split over idle cores belong together.
 */
public final class ForegroundEstimator {

  /** From this alpha up a pixel keeps the photo's colour (≥ 98% subject). */
  private static final int NEAR_OPAQUE = 250;
  /** Up to this alpha a pixel takes the coarse estimate (≤ 2% visible). */
  private static final int NEAR_CLEAR = 5;
  private static final float INV_255 = 1f / 255f;
  /** Fewest rows per part when a pass over the image is split over cores. */
  private static final int MIN_ROWS_PER_PART = 32;
  /** Fewest pixels per part of a pass over the band. */
  private static final int MIN_PIXELS_PER_PART = 1 << 16;
  private static final int CHANNELS = 3;
  private static final int NEIGHBOURS = 4;
  /** Below this the 2×2 system is singular (no neighbours and α(1−α) fills the diagonal): keep the old values. */
  private static final float MIN_DETERMINANT = 1e-12f;
  /**
   * Pyramid levels up to this many pixels are solved everywhere, larger ones near the band only: at
   * 12 MP the two largest levels below full resolution (0.8 and 3 MP), at 0.5 MP none.
   */
  static final int MAX_FULL_LEVEL_PIXELS = 1 << 18;
  /**
   * Band pixels per strip of the full-resolution level (about 60 bytes each while it is solved): bounds
   * that level's memory, and gives the cores strips to share.
   */
  static final int STRIP_BAND_PIXELS = 1 << 18;
  /**
   * Rows above and below its own that a strip solves too but does not write: across a strip's edge
   * the sweeps then see solved neighbours, and the strips agree with one solve of the whole band to
   * within a level of colour.
   */
  static final int STRIP_HALO_ROWS = 16;
  /** Cells around a band cell that a level solved near the band solves too. */
  private static final int BAND_MARGIN_CELLS = 2;

  /**
   * Solver parameters.
   *
   * @param regularization  smoothness weight that applies everywhere (keeps the system solvable)
   * @param gradientWeight  extra smoothness weight per unit of alpha change between neighbours
   * @param smallIterations sweeps on the small levels (cheap, and they set the global colours)
   * @param bigIterations   sweeps on the large levels
   * @param smallSize       a level with at most {@code smallSize²} pixels counts as small
   */
  public record Params(double regularization, double gradientWeight, int smallIterations, int bigIterations,
      int smallSize) {

    /** The paper's / pymatting's published defaults. */
    public static final Params DEFAULTS = new Params(1e-5, 1.0, 10, 2, 32);

    public Params {
      if (!(regularization > 0) || !(gradientWeight >= 0) || smallIterations < 1 || bigIterations < 1
          || smallSize < 1) {
        throw new IllegalArgumentException("invalid foreground-estimation parameters: " + regularization
            + ", " + gradientWeight + ", " + smallIterations + ", " + bigIterations + ", " + smallSize);
      }
    }
  }

  private final Params params;
  private final int maxFullLevelPixels;
  private final int stripBandPixels;

  public ForegroundEstimator() {
    this(Params.DEFAULTS);
  }

  public ForegroundEstimator(Params params) {
    this(params, MAX_FULL_LEVEL_PIXELS, STRIP_BAND_PIXELS);
  }

  /**
   * With levels above {@code maxFullLevelPixels} solved near the band only, and strips of
   * {@code stripBandPixels} at full resolution (tests: the same on smaller images).
   */
  ForegroundEstimator(Params params, int maxFullLevelPixels, int stripBandPixels) {
    this.params = Objects.requireNonNull(params, "params");
    if (maxFullLevelPixels < 1 || stripBandPixels < 1) {
      throw new IllegalArgumentException("level and strip sizes must be positive: " + maxFullLevelPixels
          + ", " + stripBandPixels);
    }
    this.maxFullLevelPixels = maxFullLevelPixels;
    this.stripBandPixels = stripBandPixels;
  }

  public Params params() {
    return params;
  }

  /**
   * ARGB with the estimated foreground colour in RGB and the matte in A. Pixels with α ≥ 250 (so
   * every opaque pixel) keep the photo's RGB exactly; pixels with α = 0 are transparent black. The source image's own alpha
   * is ignored (multiply it into the matte first, e.g. with {@code Compositor.matte}).
   */
  public int[] estimate(DecodedImage img, byte[] alpha) {
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    int w = img.width();
    int h = img.height();
    int levels = Math.max(1, (int) Math.ceil(Math.log(Math.max(w, h)) / Math.log(2)));
    float reg = (float) params.regularization();
    float gw = (float) params.gradientWeight();

    int[] lws = new int[levels];
    int[] lhs = new int[levels];
    int firstPartial = levels;
    for (int lv = 1; lv < levels; lv++) {
      lws[lv] = levelSize(w, lv, levels);
      lhs[lv] = levelSize(h, lv, levels);
      if (firstPartial == levels && (long) lws[lv] * lhs[lv] > maxFullLevelPixels) {
        firstPartial = lv;
      }
    }
    byte[][] masks = bandMasks(alpha, w, h, lws, lhs, firstPartial);

    // Level 0 is one pixel; its F and B start as that pixel's colour.
    Level prev = new Level(Grid.coarse(img, alpha, 1, 1, null), null);
    for (int lv = 1; lv < levels; lv++) {
      int lw = lws[lv];
      int lh = lhs[lv];
      Grid g = lv < firstPartial ? Grid.coarse(img, alpha, lw, lh, prev.grid)
          : nearBand(img, alpha, lw, lh, masks[lv], prev);
      g.solve(iterationsFor(lw, lh), reg, gw);
      prev = new Level(g, prev);
    }
    int[] out = new int[img.pixelCount()];
    finestLevel(img, alpha, prev, out, iterationsFor(w, h), reg, gw, stripBandPixels);
    return out;
  }

  /**
   * For each level from {@code first} on, the cells to solve: those holding a band pixel of the full
   * image, and {@link #BAND_MARGIN_CELLS} around them. One pass over the matte marks the largest level;
   * each smaller one is marked from the next larger one.
   */
  private static byte[][] bandMasks(byte[] alpha, int w, int h, int[] lws, int[] lhs, int first) {
    int levels = lws.length;
    byte[][] masks = new byte[levels][];
    if (first >= levels) {
      return masks;
    }
    int top = levels - 1;
    int tw = lws[top];
    int th = lhs[top];
    byte[] topMask = new byte[tw * th];
    int[] cellX = cellMap(w, tw);
    int[] cellY = cellMap(h, th);
    // Parts may share a cell row; they only ever write 1 there.
    Parallel.forRange(h, MIN_ROWS_PER_PART, (y0, y1) -> {
      for (int y = y0; y < y1; y++) {
        int row = y * w;
        int cellRow = cellY[y] * tw;
        for (int x = 0; x < w; x++) {
          if (isBand(alpha[row + x])) {
            topMask[cellRow + cellX[x]] = 1;
          }
        }
      }
    });
    masks[top] = topMask;
    for (int lv = top - 1; lv >= first; lv--) {
      int lw = lws[lv];
      int fw = lws[lv + 1];
      int fh = lhs[lv + 1];
      byte[] mask = new byte[lw * lhs[lv]];
      byte[] finer = masks[lv + 1];
      int[] cx = cellMap(fw, lw);
      int[] cy = cellMap(fh, lhs[lv]);
      for (int y = 0; y < fh; y++) {
        int row = cy[y] * lw;
        for (int x = 0; x < fw; x++) {
          if (finer[y * fw + x] != 0) {
            mask[row + cx[x]] = 1;
          }
        }
      }
      masks[lv] = mask;
    }
    for (int lv = first; lv < levels; lv++) {
      masks[lv] = dilate(masks[lv], lws[lv], lhs[lv], BAND_MARGIN_CELLS);
    }
    return masks;
  }

  /** For each of {@code n} fine samples, the coarse cell of {@code cells} that holds it. */
  private static int[] cellMap(int n, int cells) {
    int[] map = new int[n];
    for (int i = 0; i < n; i++) {
      map[i] = (int) ((long) i * cells / n);
    }
    return map;
  }

  /** The mask grown by {@code r} cells in every direction (a square around each marked cell). */
  private static byte[] dilate(byte[] mask, int lw, int lh, int r) {
    byte[] rows = new byte[mask.length];
    for (int y = 0; y < lh; y++) {
      int row = y * lw;
      for (int x = 0; x < lw; x++) {
        if (mask[row + x] != 0) {
          for (int d = Math.max(0, x - r), e = Math.min(lw - 1, x + r); d <= e; d++) {
            rows[row + d] = 1;
          }
        }
      }
    }
    byte[] out = new byte[mask.length];
    for (int y = 0; y < lh; y++) {
      int row = y * lw;
      for (int x = 0; x < lw; x++) {
        if (rows[row + x] != 0) {
          for (int d = Math.max(0, y - r), e = Math.min(lh - 1, y + r); d <= e; d++) {
            out[d * lw + x] = 1;
          }
        }
      }
    }
    return out;
  }

  /**
   * A level solved only on the cells of {@code mask}, in raster order; their neighbours outside it get
   * fixed slots after them. Every cell's colour and matte are sampled from the photo (nearest), its
   * unknowns start from {@code prev}; a fixed neighbour whose layer is fully visible takes the photo's
   * colour for it, as on the full-resolution level.
   */
  private static Grid nearBand(DecodedImage img, byte[] alpha, int lw, int lh, byte[] mask, Level prev) {
    int cells = lw * lh;
    int[] slots = new int[cells];
    IntList order = new IntList();
    for (int c = 0; c < cells; c++) {
      slots[c] = mask[c] != 0 ? order.add(c) : -1;
    }
    int active = order.size;
    int[] nb = new int[active * NEIGHBOURS];
    for (int k = 0; k < active; k++) {
      int c = order.values[k];
      int y = c / lw;
      int x = c - y * lw;
      int k4 = k * NEIGHBOURS;
      nb[k4] = x == 0 ? -1 : slot(slots, order, c - 1);
      nb[k4 + 1] = x == lw - 1 ? -1 : slot(slots, order, c + 1);
      nb[k4 + 2] = y == 0 ? -1 : slot(slots, order, c - lw);
      nb[k4 + 3] = y == lh - 1 ? -1 : slot(slots, order, c + lw);
    }
    int m = order.size;
    int[] cellOf = order.values;
    Grid g = new Grid(m, active, nb);
    g.width = lw;
    g.height = lh;
    g.slots = slots;
    int[] argb = img.argb();
    int iw = img.width();
    int[] sx = nearestMap(lw, iw);
    int[] sy = nearestMap(lh, img.height());
    int[] qx = nearestMap(lw, prev.width);
    int[] qy = nearestMap(lh, prev.height);
    Parallel.forRange(m, MIN_PIXELS_PER_PART, (from, to) -> {
      for (int k = from; k < to; k++) {
        int c = cellOf[k];
        int y = c / lw;
        int x = c - y * lw;
        int src = sy[y] * iw + sx[x];
        g.set(k, alpha[src] & 0xFF, argb[src], prev, qx[x], qy[y], k >= active);
      }
    });
    return g;
  }

  /** The slot of cell {@code c}, given a fixed one (appended to {@code order}) if it has none yet. */
  private static int slot(int[] slots, IntList order, int c) {
    int s = slots[c];
    if (s < 0) {
      s = order.add(c);
      slots[c] = s;
    }
    return s;
  }

  private int iterationsFor(int lw, int lh) {
    return (long) lw * lh <= (long) params.smallSize() * params.smallSize()
        ? params.smallIterations() : params.bigIterations();
  }

  /** Geometric level sizes {@code size^(lv/levels)}: each level roughly doubles the previous one. */
  private static int levelSize(int size, int lv, int levels) {
    return Math.max(1, (int) Math.round(Math.pow(size, (double) lv / levels)));
  }

  /**
   * Solves the full-resolution level on the band {@code 5 < α < 250} only and writes the result. One
   * pass over the image writes every pixel outside the band and counts the band per row; the band is
   * then solved in strips of whole rows holding about {@link #STRIP_BAND_PIXELS} band pixels each (and a
   * halo of rows around them), so
   * that memory stays bounded however much of a large photo is soft, and the strips are shared out
   * over the cores. A strip lists its band pixels in raster order and works on that list alone (no
   * per-pixel index of the whole image); each band pixel's neighbours outside the band or outside the
   * strip get a fixed slot of their own (the photo's colour where its layer is fully visible, the
   * coarser estimate elsewhere). The strips depend only on the matte, never on the number of cores,
   * so the result is the same on any machine.
   */
  private static void finestLevel(DecodedImage img, byte[] alpha, Level prev, int[] out, int iterations,
      float reg, float gw, int stripBandPixels) {
    int w = img.width();
    int h = img.height();
    int[] argb = img.argb();
    int[] px = nearestMap(w, prev.width);
    int[] py = nearestMap(h, prev.height);
    int[] rowBand = new int[h];
    Parallel.forRange(h, MIN_ROWS_PER_PART, (y0, y1) -> {
      float[] f = new float[CHANNELS];
      for (int y = y0; y < y1; y++) {
        int row = y * w;
        int count = 0;
        for (int x = 0; x < w; x++) {
          int i = row + x;
          int a = alpha[i] & 0xFF;
          if (a <= NEAR_CLEAR) {
            if (a > 0) {
              prev.fetch(px[x], py[y], f, null, 0);
              out[i] = a << 24 | to8(f[0]) << 16 | to8(f[1]) << 8 | to8(f[2]);
            }
          } else if (a >= NEAR_OPAQUE) {
            out[i] = a << 24 | argb[i] & 0xFFFFFF;
          } else {
            count++;
          }
        }
        rowBand[y] = count;
      }
    });
    IntList strips = new IntList();
    long inStrip = 0;
    for (int y = 0; y < h; y++) {
      inStrip += rowBand[y];
      if (inStrip >= stripBandPixels) {
        strips.add(y + 1);
        inStrip = 0;
      }
    }
    if (strips.size == 0 || strips.values[strips.size - 1] != h) {
      strips.add(h);
    }
    int count = strips.size;
    int[] ends = strips.values;
    Parallel.forRange(count, 1, (s0, s1) -> {
      for (int s = s0; s < s1; s++) {
        solveStrip(img, alpha, prev, out, s == 0 ? 0 : ends[s - 1], ends[s], rowBand, px, py, iterations, reg, gw);
      }
    });
  }

  /**
   * Solves the band pixels of rows {@code [from, to)} with {@link #STRIP_HALO_ROWS} more on each side and
   * writes those of its own rows; see {@link #finestLevel}.
   */
  private static void solveStrip(DecodedImage img, byte[] alpha, Level prev, int[] out, int from, int to,
      int[] rowBand, int[] px, int[] py, int iterations, float reg, float gw) {
    int w = img.width();
    int h = img.height();
    int y0 = Math.max(0, from - STRIP_HALO_ROWS);
    int y1 = Math.min(h, to + STRIP_HALO_ROWS);
    int[] argb = img.argb();
    int rows = y1 - y0;
    // rowStart[r]: index in pos of the first band pixel of row y0 + r
    int[] rowStart = new int[rows + 1];
    for (int r = 0; r < rows; r++) {
      rowStart[r + 1] = rowStart[r] + rowBand[y0 + r];
    }
    int active = rowStart[rows];
    if (active == 0) {
      return;
    }
    int[] pos = new int[active];
    for (int y = y0, k = 0; y < y1; y++) {
      for (int i = y * w, end = i + w; i < end; i++) {
        if (isBand(alpha[i])) {
          pos[k++] = i;
        }
      }
    }
    // Neighbour slots: band pixels by their list index; fixed neighbours appended after them.
    int[] nb = new int[active * NEIGHBOURS];
    IntList fixed = new IntList();
    for (int r = 0, k = 0; r < rows; r++) {
      int y = y0 + r;
      int up = r > 0 ? rowStart[r - 1] : 0;
      int upEnd = r > 0 ? rowStart[r] : 0;
      int down = r < rows - 1 ? rowStart[r + 1] : 0;
      int downEnd = r < rows - 1 ? rowStart[r + 2] : 0;
      for (; k < rowStart[r + 1]; k++) {
        int i = pos[k];
        int x = i - y * w;
        int k4 = k * NEIGHBOURS;
        nb[k4] = x == 0 ? -1 : k > 0 && pos[k - 1] == i - 1 ? k - 1 : active + fixed.add(i - 1);
        nb[k4 + 1] = x == w - 1 ? -1 : k + 1 < active && pos[k + 1] == i + 1 ? k + 1 : active + fixed.add(i + 1);
        if (y == 0) {
          nb[k4 + 2] = -1;
        } else {
          // band pixels of the row above (none when it is outside the strip), in x order
          while (up < upEnd && pos[up] < i - w) {
            up++;
          }
          nb[k4 + 2] = up < upEnd && pos[up] == i - w ? up : active + fixed.add(i - w);
        }
        if (y == h - 1) {
          nb[k4 + 3] = -1;
        } else {
          while (down < downEnd && pos[down] < i + w) {
            down++;
          }
          nb[k4 + 3] = down < downEnd && pos[down] == i + w ? down : active + fixed.add(i + w);
        }
      }
    }
    int m = active + fixed.size;
    Grid g = new Grid(m, active, nb);
    int[] fixedPos = fixed.values;
    for (int k = 0; k < m; k++) {
      int i = k < active ? pos[k] : fixedPos[k - active];
      int y = i / w;
      int x = i - y * w;
      // band pixels (5 < α < 250) never have a fully visible layer: the rule only touches fixed neighbours
      g.set(k, alpha[i] & 0xFF, argb[i], prev, px[x], py[y], true);
    }
    g.solve(iterations, reg, gw);
    for (int k = rowStart[from - y0], end = rowStart[to - y0]; k < end; k++) {
      int k3 = k * CHANNELS;
      int i = pos[k];
      out[i] = (alpha[i] & 0xFF) << 24 | to8(g.fg[k3]) << 16 | to8(g.fg[k3 + 1]) << 8 | to8(g.fg[k3 + 2]);
    }
  }

  /** A growable list of ints. */
  private static final class IntList {
    int[] values = new int[1024];
    int size;

    /** Appends {@code v}; returns its index. */
    int add(int v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, size + (size >> 1));
      }
      values[size] = v;
      return size++;
    }
  }

  private static boolean isBand(byte a) {
    int v = a & 0xFF;
    return v > NEAR_CLEAR && v < NEAR_OPAQUE;
  }

  private static int to8(float v) {
    return (int) (v * 255f + 0.5f); // v is already clamped to [0, 1] by the solver
  }

  /** Nearest source index for each of {@code dst} samples, pixel centres aligned. */
  private static int[] nearestMap(int dst, int src) {
    int[] map = new int[dst];
    for (int i = 0; i < dst; i++) {
      map[i] = Math.min(src - 1, (int) ((i + 0.5) * src / dst));
    }
    return map;
  }

  /**
   * A solved pyramid level as the next one reads it: every cell's slot in {@code grid}, or, where a level
   * solved near the band has none, the same place on the coarser level.
   */
  private static final class Level {
    final Grid grid;
    final int width;
    final int height;
    /** Each cell's slot; null where every cell {@code y·width + x} is its own slot. */
    final int[] slots;
    final Level coarser;

    Level(Grid grid, Level coarser) {
      this.grid = grid;
      this.width = grid.width;
      this.height = grid.height;
      this.slots = grid.slots;
      this.coarser = coarser;
    }

    /** Copies the F (and, unless {@code bg} is null, B) estimate of cell (x, y) to {@code off}. */
    void fetch(int x, int y, float[] fg, float[] bg, int off) {
      Level l = this;
      while (true) {
        int c = y * l.width + x;
        int s = l.slots == null ? c : l.slots[c];
        if (s >= 0) {
          System.arraycopy(l.grid.fg, s * CHANNELS, fg, off, CHANNELS);
          if (bg != null) {
            System.arraycopy(l.grid.bg, s * CHANNELS, bg, off, CHANNELS);
          }
          return;
        }
        Level next = l.coarser;
        x = Math.min(next.width - 1, (int) ((x + 0.5) * next.width / l.width));
        y = Math.min(next.height - 1, (int) ((y + 0.5) * next.height / l.height));
        l = next;
      }
    }
  }

  /**
   * One pyramid level in compact form: pixel {@code k} has colour {@code img[3k..]}, matte
   * {@code alpha[k]} and unknowns {@code fg[3k..]}, {@code bg[3k..]}; the first {@code active}
   * pixels are solved, with 4 neighbour indices each in {@code nb} (−1 where there is none).
   */
  private static final class Grid {
    final float[] img;
    final float[] alpha;
    final float[] fg;
    final float[] bg;
    /** Neighbour slots of the band level; null on a full level, whose neighbours follow from its width. */
    final int[] nb;
    final int active;
    int width;
    int height;
    /** On a level solved near the band: each cell's slot, −1 where the level has none. */
    int[] slots;

    /** A band level: {@code active} solved pixels of {@code m}, neighbours in {@code nb}. */
    Grid(int m, int active, int[] nb) {
      img = new float[m * CHANNELS];
      alpha = new float[m];
      fg = new float[m * CHANNELS];
      bg = new float[m * CHANNELS];
      this.nb = nb;
      this.active = active;
    }

    /** A full {@code lw×lh} level. */
    Grid(int lw, int lh) {
      this(lw * lh, lw * lh, null);
      width = lw;
      height = lh;
    }

    /** A full {@code lw×lh} level sampled (nearest) from the photo, unknowns taken from {@code prev}. */
    static Grid coarse(DecodedImage img, byte[] alpha, int lw, int lh, Grid prev) {
      Grid g = new Grid(lw, lh);
      int[] argb = img.argb();
      int[] sx = nearestMap(lw, img.width());
      int[] sy = nearestMap(lh, img.height());
      int[] qx = prev == null ? null : nearestMap(lw, prev.width);
      int[] qy = prev == null ? null : nearestMap(lh, prev.height);
      float[] gi = g.img;
      float[] gf = g.fg;
      float[] gb = g.bg;
      for (int y = 0; y < lh; y++) {
        int srow = sy[y] * img.width();
        int qrow = prev == null ? 0 : qy[y] * prev.width;
        for (int x = 0; x < lw; x++) {
          int k = y * lw + x;
          int s = srow + sx[x];
          int p = argb[s];
          int k3 = k * CHANNELS;
          g.alpha[k] = (alpha[s] & 0xFF) * INV_255;
          float r = ((p >> 16) & 0xFF) * INV_255;
          float gg = ((p >> 8) & 0xFF) * INV_255;
          float b = (p & 0xFF) * INV_255;
          gi[k3] = r;
          gi[k3 + 1] = gg;
          gi[k3 + 2] = b;
          if (prev == null) {
            gf[k3] = r;
            gf[k3 + 1] = gg;
            gf[k3 + 2] = b;
            gb[k3] = r;
            gb[k3 + 1] = gg;
            gb[k3 + 2] = b;
          } else {
            int q3 = (qrow + qx[x]) * CHANNELS;
            gf[k3] = prev.fg[q3];
            gf[k3 + 1] = prev.fg[q3 + 1];
            gf[k3 + 2] = prev.fg[q3 + 2];
            gb[k3] = prev.bg[q3];
            gb[k3 + 1] = prev.bg[q3 + 1];
            gb[k3 + 2] = prev.bg[q3 + 2];
          }
        }
      }
      return g;
    }

    /**
     * Slot {@code k} from a photo pixel of matte {@code a} and colour {@code p}: its unknowns start from
     * {@code prev} at cell (qx, qy). For a fixed slot ({@code fixed}), a fully visible layer is the photo
     * itself: F where {@code α ≥ 250}, B where {@code α ≤ 5}.
     */
    void set(int k, int a, int p, Level prev, int qx, int qy, boolean fixed) {
      int k3 = k * CHANNELS;
      alpha[k] = a * INV_255;
      img[k3] = ((p >> 16) & 0xFF) * INV_255;
      img[k3 + 1] = ((p >> 8) & 0xFF) * INV_255;
      img[k3 + 2] = (p & 0xFF) * INV_255;
      prev.fetch(qx, qy, fg, bg, k3);
      if (fixed && a >= NEAR_OPAQUE) {
        System.arraycopy(img, k3, fg, k3, CHANNELS);
      } else if (fixed && a <= NEAR_CLEAR) {
        System.arraycopy(img, k3, bg, k3, CHANNELS);
      }
    }

    /**
     * In-place sweeps: each active pixel's (F, B) becomes the least-squares solution of
     * {@code αF + (1−α)B = I} plus {@code Σ w_j (|F − F_j|² + |B − B_j|²)} with
     * {@code w_j = reg + gw·|α − α_j|}; a 2×2 system shared by the three channels.
     */
    void solve(int iterations, float reg, float gw) {
      for (int it = 0; it < iterations; it++) {
        if (nb == null) {
          for (int y = 0, k = 0; y < height; y++) {
            for (int x = 0; x < width; x++, k++) {
              update(k, x > 0 ? k - 1 : -1, x < width - 1 ? k + 1 : -1, y > 0 ? k - width : -1,
                  y < height - 1 ? k + width : -1, reg, gw);
            }
          }
        } else {
          for (int k = 0; k < active; k++) {
            int k4 = k * NEIGHBOURS;
            update(k, nb[k4], nb[k4 + 1], nb[k4 + 2], nb[k4 + 3], reg, gw);
          }
        }
      }
    }

    /** One pixel's update from its neighbours left, right, up and down (−1: none), in that order. */
    private void update(int k, int n0, int n1, int n2, int n3, float reg, float gw) {
      float[] alpha = this.alpha;
      float[] fg = this.fg;
      float[] bg = this.bg;
      float a0 = alpha[k];
      float a1 = 1f - a0;
      float a00 = a0 * a0;
      float a01 = a0 * a1;
      float a11 = a1 * a1;
      int k3 = k * CHANNELS;
      float ir = img[k3];
      float ig = img[k3 + 1];
      float ib = img[k3 + 2];
      float fr = a0 * ir;
      float fgn = a0 * ig;
      float fb = a0 * ib;
      float br = a1 * ir;
      float bgn = a1 * ig;
      float bb = a1 * ib;
      for (int d = 0; d < NEIGHBOURS; d++) {
        int j = d == 0 ? n0 : d == 1 ? n1 : d == 2 ? n2 : n3;
        if (j < 0) {
          continue;
        }
        float wj = reg + gw * Math.abs(a0 - alpha[j]);
        a00 += wj;
        a11 += wj;
        int j3 = j * CHANNELS;
        fr += wj * fg[j3];
        fgn += wj * fg[j3 + 1];
        fb += wj * fg[j3 + 2];
        br += wj * bg[j3];
        bgn += wj * bg[j3 + 1];
        bb += wj * bg[j3 + 2];
      }
      float det = a00 * a11 - a01 * a01;
      if (det < MIN_DETERMINANT) {
        return;
      }
      float inv = 1f / det;
      fg[k3] = clamp01((a11 * fr - a01 * br) * inv);
      fg[k3 + 1] = clamp01((a11 * fgn - a01 * bgn) * inv);
      fg[k3 + 2] = clamp01((a11 * fb - a01 * bb) * inv);
      bg[k3] = clamp01((a00 * br - a01 * fr) * inv);
      bg[k3 + 1] = clamp01((a00 * bgn - a01 * fgn) * inv);
      bg[k3 + 2] = clamp01((a00 * bb - a01 * fb) * inv);
    }

    private static float clamp01(float v) {
      return v < 0f ? 0f : Math.min(v, 1f);
    }
  }
}
