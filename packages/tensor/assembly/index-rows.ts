// Row lookups along the first axis of a float32 table [len, inner] (an Embedding's weight):
// the gather out[j] = table[index[j]] and its gradient, the scatter-add table[index[j]] += src[j].
// The gather splits by output row. The scatter-add splits by table row: every share reads all
// the indices and adds, in index order, only the rows that fall in its block, so each table
// element receives its additions in the same order as a serial loop (the reference's) — the same
// bits on any thread count and equal to the reference (float32 adds, one rounding each).

@inline function copyRow(dst: usize, src: usize, inner: i32): void {
  let t = 0;
  for (; t + 4 <= inner; t += 4) v128.store(dst + <usize>t * 4, v128.load(src + <usize>t * 4));
  for (; t < inner; t++) store<f32>(dst + <usize>t * 4, load<f32>(src + <usize>t * 4));
}

@inline function addRow(dst: usize, src: usize, inner: i32): void {
  let t = 0;
  for (; t + 4 <= inner; t += 4) {
    const o = <usize>t * 4;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; t < inner; t++) store<f32>(dst + <usize>t * 4, load<f32>(dst + <usize>t * 4) + load<f32>(src + <usize>t * 4));
}

/**
 * Share `share` of `shares` of the lookup described at `desc` (i32 words): mode (0 gather,
 * 1 scatter-add), table, index (i32, m entries, each in [0, len)), rows (the gathered rows or
 * the gradient's, [m, inner]), m, inner, len.
 */
export function indexRowsTask(desc: usize, share: i32, shares: i32): void {
  const table = <usize>load<i32>(desc, 4), index = <usize>load<i32>(desc, 8), rows = <usize>load<i32>(desc, 12);
  const m = load<i32>(desc, 16), inner = load<i32>(desc, 20), len = load<i32>(desc, 24);
  const bytes = <usize>inner * 4;
  if (load<i32>(desc) == 0) {
    const j1 = <i32>(<i64>m * (share + 1) / shares);
    for (let j = <i32>(<i64>m * share / shares); j < j1; j++) {
      copyRow(rows + <usize>j * bytes, table + <usize>load<i32>(index + <usize>j * 4) * bytes, inner);
    }
    return;
  }
  const v0 = <i32>(<i64>len * share / shares);
  const v1 = <i32>(<i64>len * (share + 1) / shares);
  if (v0 >= v1) return;
  for (let j = 0; j < m; j++) {
    const v = load<i32>(index + <usize>j * 4);
    if (v < v0 || v >= v1) continue;
    addRow(table + <usize>v * bytes, rows + <usize>j * bytes, inner);
  }
}
