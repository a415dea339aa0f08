/**
 * A package-lock.json for a consumer project of packed @kiln tarballs, with every third-party
 * package at the version and integrity the monorepo's own lockfile pins. `npm ci --offline` then
 * installs from the local npm cache by integrity alone (a clean `npm ci` caches tarballs, not the
 * registry documents that resolving a version range would need).
 */
interface LockEntry {
  version?: string; resolved?: string; integrity?: string; link?: boolean; dev?: boolean; optional?: boolean; peer?: boolean; devOptional?: boolean;
  dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>; [k: string]: unknown;
}

export interface TarballPackage {
  name: string; version: string; integrity: string; file: string; location: string; // `location`: its folder in the monorepo lockfile
  dependencies: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string>;
}

/** Builds the lockfile; `rootLock` is the monorepo's package-lock.json, `file` paths relative to the consumer. */
export function consumerLock(rootLock: { packages: Record<string, LockEntry> }, name: string, tarballs: TarballPackage[]): object {
  const lock = rootLock.packages;
  const byName = new Map(tarballs.map((t) => [t.name, t]));
  const packages: Record<string, LockEntry> = {
    '': { name, dependencies: Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.file}`])) },
  };
  /** Where npm would find `dep` from the monorepo folder `from` (its node_modules, then each parent's). */
  const find = (from: string, dep: string): string | null => {
    for (let p = from; ; ) {
      const candidate = p ? `${p}/node_modules/${dep}` : `node_modules/${dep}`;
      if (lock[candidate]) return candidate;
      if (!p) return null;
      const cut = p.lastIndexOf('/node_modules/');
      p = cut >= 0 ? p.slice(0, cut) : '';
    }
  };
  const toConsumer = (path: string): string => {
    for (const t of tarballs) if (path.startsWith(`${t.location}/`)) return `node_modules/${t.name}${path.slice(t.location.length)}`;
    return path;
  };
  const visit = (from: string, deps: Record<string, string>, optionalPeers: Set<string>) => {
    for (const dep of Object.keys(deps)) {
      if (byName.has(dep) || optionalPeers.has(dep)) continue;
      const at = find(from, dep);
      if (!at) throw new Error(`consumerLock: ${dep} (needed from '${from}') is not in the monorepo lockfile`);
      const key = toConsumer(at);
      if (packages[key]) continue;
      const { dev, devOptional, peer, optional, ...entry } = lock[at]!;
      void [dev, devOptional, peer, optional];
      // the monorepo lockfile leaves out registry URLs; without one npm would ask the registry where the tarball is
      const pkgName = at.slice(at.lastIndexOf('node_modules/') + 'node_modules/'.length);
      entry.resolved ??= `https://registry.npmjs.org/${pkgName}/-/${pkgName.split('/').pop()}-${entry.version}.tgz`;
      packages[key] = entry;
      const next = { ...entry.dependencies, ...entry.optionalDependencies };
      for (const [p, v] of Object.entries(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[p]?.optional) next[p] = v;
      visit(at, next, new Set());
    }
  };
  for (const t of tarballs) {
    packages[`node_modules/${t.name}`] = {
      version: t.version, resolved: `file:${t.file}`, integrity: t.integrity, license: 'MIT',
      dependencies: t.dependencies, ...(t.peerDependencies ? { peerDependencies: t.peerDependencies } : {}),
      ...(t.peerDependenciesMeta ? { peerDependenciesMeta: t.peerDependenciesMeta } : {}), ...(t.bin ? { bin: t.bin } : {}),
    };
    const optionalPeers = new Set(Object.keys(t.peerDependenciesMeta ?? {}).filter((p) => t.peerDependenciesMeta![p]!.optional));
    visit(t.location, { ...t.dependencies, ...t.peerDependencies }, optionalPeers);
  }
  return { name, lockfileVersion: 3, requires: true, packages };
}
