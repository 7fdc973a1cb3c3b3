package dev.handoff.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Columns padded to their widest cell; numbers right-aligned, everything else left-aligned. */
final class Table {
  private final String[] headers;
  private final List<Object[]> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = headers;
  }

  Table row(Object... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException(
          headers.length + " columns, row has " + cells.length + " cells");
    }
    rows.add(cells);
    return this;
  }

  void print(PrintWriter out) {
    int[] width = new int[headers.length];
    boolean[] numeric = new boolean[headers.length];
    for (int c = 0; c < headers.length; c++) {
      width[c] = headers[c].length();
      numeric[c] = !rows.isEmpty();
    }
    for (Object[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], text(row[c]).length());
        numeric[c] &= row[c] instanceof Number;
      }
    }
    line(out, headers, width, numeric);
    for (Object[] row : rows) {
      line(out, row, width, numeric);
    }
  }

  private static void line(PrintWriter out, Object[] cells, int[] width, boolean[] numeric) {
    var sb = new StringBuilder();
    for (int c = 0; c < cells.length; c++) {
      String t = text(cells[c]);
      boolean last = c == cells.length - 1;
      if (numeric[c]) {
        sb.append(" ".repeat(width[c] - t.length())).append(t);
      } else {
        sb.append(t);
        if (!last) {
          sb.append(" ".repeat(width[c] - t.length()));
        }
      }
      if (!last) {
        sb.append("  ");
      }
    }
    out.println(sb.toString().stripTrailing());
  }

  private static String text(Object cell) {
    return cell == null ? "-" : cell.toString();
  }
}
