/**
 * Pictures for error analysis: a confusion matrix (SVG) and the misclassified digits as an SVG that
 * captions each with its true and predicted class (the plain PNG grid is @kiln/vision's
 * saveImageGrid).
 */
import { tensor } from '@kiln/tensor';
import { encodePng, functional } from '@kiln/vision';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A confusion matrix as SVG: rows are true classes, columns predicted ones; each cell is shaded
 * by its share of the row (recall on the diagonal, confusions off it) and shows the count.
 */
export function confusionMatrixSvg(matrix: number[][], classes: readonly string[], title: string): string {
  const k = classes.length;
  if (matrix.length !== k || matrix.some((r) => r.length !== k)) throw new Error(`demo: confusionMatrixSvg: matrix must be ${k}×${k} for ${k} classes`);
  const cell = 40, L = 70, T = 70, W = L + k * cell + 90, H = T + k * cell + 50;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L + (k * cell) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${L + (k * cell) / 2}" y="${T - 28}" text-anchor="middle">predicted</text>`,
    `<text transform="translate(18 ${T + (k * cell) / 2}) rotate(-90)" text-anchor="middle">true</text>`,
  ];
  let total = 0, correct = 0;
  matrix.forEach((row, i) => {
    const n = row.reduce((a, b) => a + b, 0);
    total += n;
    correct += row[i]!;
    out.push(`<text x="${L - 8}" y="${T + i * cell + cell / 2 + 4}" text-anchor="end">${esc(classes[i]!)}</text>`);
    row.forEach((v, j) => {
      const share = n ? v / n : 0;
      // diagonal in blue, confusions in red; white at 0
      const [r, g, b] = i === j ? [255 - 224 * share, 255 - 150 * share, 255 - 60 * share] : [255 - 40 * Math.min(1, share * 5), 255 - 200 * Math.min(1, share * 5), 255 - 200 * Math.min(1, share * 5)];
      const x = L + j * cell, y = T + i * cell;
      out.push(`<rect class="cell" data-true="${i}" data-pred="${j}" data-count="${v}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r.toFixed(0)},${g.toFixed(0)},${b.toFixed(0)})" stroke="#ccc"/>`);
      if (v) out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${i === j && share > 0.6 ? 'white' : 'black'}">${v}</text>`);
    });
  });
  classes.forEach((c, j) => out.push(`<text x="${L + j * cell + cell / 2}" y="${T - 8}" text-anchor="middle">${esc(c)}</text>`));
  out.push(`<text x="${L + (k * cell) / 2}" y="${H - 16}" text-anchor="middle">${correct} of ${total} right (${total ? ((100 * correct) / total).toFixed(2) : '0'}%); shading: share of the true class's row</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** One misclassified example: the image and its true and predicted class (and the model's confidence). */
export interface Miss { image: Float32Array; label: number; predicted: number; confidence: number }

/** The misclassified digits as an SVG grid, each captioned "true → predicted (confidence)". */
export function misclassifiedSvg(misses: Miss[], side: number, cols: number, title: string): string {
  const scale = 3, cw = side * scale + 16, ch = side * scale + 30, T = 40;
  const rows = Math.max(1, Math.ceil(misses.length / cols));
  const W = cols * cw + 10, H = T + rows * ch + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  misses.forEach((m, n) => {
    const x = 8 + (n % cols) * cw, y = T + Math.floor(n / cols) * ch;
    const png = Buffer.from(encodePng(functional.toImage(tensor(m.image, { shape: [1, side, side] })))).toString('base64');
    out.push(`<image class="miss" data-true="${m.label}" data-pred="${m.predicted}" x="${x}" y="${y}" width="${side * scale}" height="${side * scale}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`);
    out.push(`<text x="${x + (side * scale) / 2}" y="${y + side * scale + 14}" text-anchor="middle">${m.label} → ${m.predicted} (${Math.round(100 * m.confidence)}%)</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
