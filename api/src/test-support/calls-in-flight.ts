/**
 * Counts how many calls of some methods run at once: each named method of each prototype
 * is replaced by one that holds every call `holdMs` before running the original, long
 * enough for calls a request starts together to overlap. `restore` puts the originals back.
 */
export function callsInFlight(
  methods: readonly (readonly [prototype: object, name: string])[],
  holdMs = 20,
): { most: () => number; restore: () => void } {
  let inFlight = 0;
  let most = 0;
  const restorers = methods.map(([prototype, name]) => {
    const original = Reflect.get(prototype, name) as (...args: unknown[]) => Promise<unknown>;
    Reflect.set(prototype, name, async function (this: unknown, ...args: unknown[]) {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        return await original.apply(this, args);
      } finally {
        inFlight -= 1;
      }
    });
    return () => Reflect.set(prototype, name, original);
  });
  return {
    most: () => most,
    restore: () => {
      for (const restore of restorers) restore();
    },
  };
}
