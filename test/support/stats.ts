// Goodness-of-fit tests for the generator's distributions: Pearson's chi-square (p-value from the regularized
// upper incomplete gamma function), Kolmogorov-Smirnov (p-value from the Kolmogorov distribution, with
// Stephens' small-sample correction), and the functions they need (log-gamma, erfc, normal CDF).

/** ln Γ(x) for x > 0: Stirling's series at x >= 15 (error < 1e-15), shifted there by Γ(x + 1) = x Γ(x). */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  let shift = 0;
  while (x < 15) {
    shift += Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Q(a, x) = Γ(a, x) / Γ(a): the series for P when x < a + 1, else Lentz's continued fraction for Q. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPrefix) * h;
}

/** P(χ²_df > stat). */
export function chiSquareSf(stat: number, df: number): number {
  return gammaQ(df / 2, stat / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
  bins: number;
}

/**
 * Pearson's test of observed counts against expected probabilities (any positive scale: normalized here).
 * Adjacent bins are pooled, in order, until each expects at least `minExpected` (so tails of Zipf or binomial
 * distributions do not invalidate the chi-square approximation); df = pooled bins - 1.
 */
export function chiSquareTest(observed: ArrayLike<number>, expected: ArrayLike<number>, minExpected = 5): ChiSquareResult {
  if (observed.length !== expected.length) throw new Error(`chiSquareTest: ${observed.length} observed bins, ${expected.length} expected`);
  let n = 0;
  let total = 0;
  for (let i = 0; i < observed.length; i++) { n += observed[i]; total += expected[i]; }
  const obs: number[] = [];
  const exp: number[] = [];
  let o = 0;
  let e = 0;
  for (let i = 0; i < observed.length; i++) {
    o += observed[i];
    e += (expected[i] / total) * n;
    if (e >= minExpected) { obs.push(o); exp.push(e); o = 0; e = 0; }
  }
  if (e > 0 || o > 0) {
    if (exp.length) { obs[obs.length - 1] += o; exp[exp.length - 1] += e; } else { obs.push(o); exp.push(e); }
  }
  let statistic = 0;
  for (let i = 0; i < obs.length; i++) {
    if (exp[i] === 0) {
      if (obs[i] > 0) statistic = Infinity;
      continue;
    }
    statistic += (obs[i] - exp[i]) ** 2 / exp[i];
  }
  const df = obs.length - 1;
  return { statistic, df, p: df > 0 ? chiSquareSf(statistic, df) : 1, bins: obs.length };
}

/** erfc(x), Numerical Recipes' Chebyshev fit (relative error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(K > x) for the Kolmogorov distribution. */
export function kolmogorovSf(x: number): number {
  if (x <= 0) return 1;
  if (x < 1.18) {
    // The theta-function form converges fast for small x: P(K <= x) = √(2π)/x Σ exp(-(2k-1)²π²/(8x²)).
    let s = 0;
    for (let k = 1; k < 20; k++) s += Math.exp(-((2 * k - 1) ** 2) * Math.PI * Math.PI / (8 * x * x));
    return 1 - (Math.sqrt(2 * Math.PI) / x) * s;
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    s += (k % 2 ? 1 : -1) * term;
    if (term < 1e-18) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

export interface KsResult {
  statistic: number;
  n: number;
  p: number;
}

/**
 * One-sample Kolmogorov-Smirnov test of `samples` against `cdf`. For an integer-valued sample pass
 * `cdfBefore` (the CDF just below a value, e.g. F(k - 0.5) when F(k + 0.5) is the CDF at k): ties are then
 * compared at both sides of each step exactly, and the p-value is conservative, as KS is for discrete data.
 */
export function ksTest(samples: ArrayLike<number>, cdf: (x: number) => number, cdfBefore: (x: number) => number = cdf): KsResult {
  const xs = Float64Array.from(samples).sort();
  const n = xs.length;
  let d = 0;
  for (let a = 0; a < n;) {
    let b = a;
    while (b + 1 < n && xs[b + 1] === xs[a]) b++;
    const v = xs[a];
    d = Math.max(d, Math.abs((b + 1) / n - cdf(v)), Math.abs(a / n - cdfBefore(v)));
    a = b + 1;
  }
  const sqrtN = Math.sqrt(n);
  return { statistic: d, n, p: kolmogorovSf(d * (sqrtN + 0.12 + 0.11 / sqrtN)) };
}

/** Binomial(n, p) probabilities of 0..n, from log-gamma (independent of the generator's recurrence). */
export function binomialPmf(n: number, p: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lnN = lnGamma(n + 1);
  for (let k = 0; k <= n; k++) {
    out[k] = Math.exp(lnN - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  }
  return out;
}

/** Zipf weights 1/k^s for ranks 1..n (unnormalized: chiSquareTest normalizes). */
export function zipfWeights(n: number, s: number): Float64Array {
  return Float64Array.from({ length: n }, (_, k) => (k + 1) ** -s);
}

/** How many standard deviations `count` successes in `n` trials lie from what probability `p` predicts. */
export function binomialZ(count: number, n: number, p: number): number {
  return (count - n * p) / Math.sqrt(n * p * (1 - p));
}
