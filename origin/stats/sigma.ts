// Peter J. Acklam's rational approximation of the inverse normal CDF (relative error
// below 1.15e-9 over the whole range), in three regions: two tails and the centre.
const a = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
  -3.066479806614716e1, 2.506628277459239,
] as const;
const b = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
  -1.328068155288572e1,
] as const;
const c = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
] as const;
const d = [
  7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416,
] as const;
const tail = 0.02425;

/** The lower tail (p < 0.02425): x as a function of q = sqrt(-2 ln p). */
const lowerTail = (p: number): number => {
  const q = Math.sqrt(-2 * Math.log(p));
  return (
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  );
};

/**
 * The standard normal quantile: the x with Φ(x) = p (Excel's NORMSINV). ±Infinity at 1
 * and 0; NaN outside [0, 1].
 *
 * @example
 * inverseNormal(0.975); // ≈ 1.959964
 */
export function inverseNormal(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p < tail) return lowerTail(p);
  // The upper tail by symmetry, from 1 − p, which the caller may hold more precisely.
  if (p > 1 - tail) return -lowerTail(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** The sigma levels a process is reported within. */
export const sigmaFloor = 0;
export const sigmaCap = 6;

/**
 * The short-term sigma level of a defect rate, with the conventional 1.5 shift:
 * NORMSINV(1 − dpmo/1e6) + 1.5, computed as 1.5 − NORMSINV(dpmo/1e6) (the same by
 * symmetry, without losing the digits of a small rate to 1 − x). Clamped to 0..6: no
 * defect at all is reported as 6, the customary ceiling, rather than infinity, so the
 * level never rises as the rate gets worse; a rate past ~933,193 dpmo reads 0.
 *
 * @example
 * sigmaLevel(66_807); // ≈ 3.0
 * sigmaLevel(3.4); // ≈ 6.0
 */
export function sigmaLevel(dpmo: number): number {
  const level = 1.5 - inverseNormal(dpmo / 1_000_000);
  return Math.min(sigmaCap, Math.max(sigmaFloor, level));
}
