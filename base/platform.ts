/**
 * Platform semantics as containerd's platforms package defines them, which BuildKit uses to pick a manifest from an
 * index and to tell which platforms a worker runs: normalizing (architecture aliases, default variants) and the
 * ordered list of platforms a wanted one accepts (arm/v7 takes v7, then v6, then v5; arm64 takes arm64/v8 and then
 * 32-bit arm; amd64/v3 takes v3, v2, v1, then 386).
 */
import type { Platform } from './oci.js';

function withVariant(p: Platform, architecture: string, variant: string): Platform {
  const { variant: _old, ...rest } = p;
  return variant === '' ? { ...rest, architecture } : { ...rest, architecture, variant };
}

/** normalizePlatform lowercases and renames as containerd's Normalize: aarch64 → arm64 (v8 dropped), armhf → arm/v7, arm → arm/v7, x86_64 → amd64 (v1 dropped). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  const arch = p.architecture.toLowerCase();
  const variant = (p.variant ?? '').toLowerCase();
  const base: Platform = { ...p, os };
  switch (arch) {
    case 'i386':
      return withVariant(base, '386', '');
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return withVariant(base, 'amd64', variant === 'v1' ? '' : variant);
    case 'aarch64':
    case 'arm64':
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') return withVariant(base, 'arm64', '');
      return withVariant(base, 'arm64', variant === '9' || variant === '9.0' || variant === 'v9.0' ? 'v9' : variant);
    case 'armhf':
      return withVariant(base, 'arm', 'v7');
    case 'armel':
      return withVariant(base, 'arm', 'v6');
    case 'arm':
      if (variant === '' || variant === '7') return withVariant(base, 'arm', 'v7');
      return withVariant(base, 'arm', ['5', '6', '8'].includes(variant) ? `v${variant}` : variant);
    default:
      return withVariant(base, arch, variant);
  }
}

/** The arm64 variants an arm64 variant includes, newest first (containerd's arm64variantToVersion). */
function arm64Variants(variant: string): string[] {
  const m = /^v(8|9)(?:\.(\d))?$/.exec(variant);
  if (m === null) return [];
  const major = Number(m[1]);
  const minor = Number(m[2] ?? '0');
  // v9.N includes v8.(N+5), at most v8.9.
  const ranges: [number, number][] = major === 9 ? [[9, minor], [8, Math.min(minor + 5, 9)]] : [[8, minor]];
  const out: string[] = [];
  for (const [maj, top] of ranges) for (let n = top; n >= 0; n--) out.push(n === 0 ? `v${maj}` : `v${maj}.${n}`);
  return out;
}

/** platformVector lists the platforms a (normalized) platform can run, best first, as containerd's Only matcher orders them. */
export function platformVector(p: Platform): Platform[] {
  const variantNumber = (prefix: string): number => (p.variant?.startsWith(prefix) === true ? Number(p.variant.slice(prefix.length)) : Number.NaN);
  switch (p.architecture) {
    case 'amd64': {
      const out = [p];
      const level = variantNumber('v');
      for (let v = level - 1; v >= 1; v--) out.push(withVariant(p, 'amd64', `v${v}`));
      return [...out, withVariant(p, '386', '')];
    }
    case 'arm': {
      const out = [p];
      const level = variantNumber('v');
      for (let v = level - 1; v >= 5; v--) out.push(withVariant(p, 'arm', `v${v}`));
      return out;
    }
    case 'arm64': {
      const variant = p.variant ?? 'v8';
      const own = arm64Variants(variant).map((v) => withVariant(p, 'arm64', v));
      const arm = variant.startsWith('v8') || variant.startsWith('v9') ? 'v8' : variant;
      return [...own, ...platformVector(withVariant(p, 'arm', arm))];
    }
    default:
      return [p];
  }
}

/** samePlatform compares two platforms after normalizing both: os, architecture and variant (os.version is Windows-only). */
export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '');
}

/** A candidate's OS features must all be among the wanted platform's, as containerd's matcher requires. */
function hasFeatures(wanted: Platform, candidate: Platform): boolean {
  const have = new Set(wanted['os.features'] ?? []);
  return (candidate['os.features'] ?? []).every((f) => have.has(f));
}

/**
 * platformRank tells how well `candidate` serves `wanted`: 0 for the platform itself, higher for each fallback
 * (an older variant, a 32-bit architecture), undefined when it cannot.
 */
export function platformRank(wanted: Platform, candidate: Platform): number | undefined {
  if (!hasFeatures(wanted, candidate)) return undefined;
  const i = platformVector(normalizePlatform(wanted)).findIndex((p) => samePlatform(p, candidate));
  return i < 0 ? undefined : i;
}
