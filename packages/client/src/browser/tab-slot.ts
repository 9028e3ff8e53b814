// Which storage slot a tab owns. Each slot is one replica (its own IndexedDB database and site
// id); a Web Lock per slot makes the owner exclusive, so two tabs never write one replica. The
// browser releases a tab's locks when the tab closes or reloads, and a reloading tab asks for the
// slot it had first (remembered in sessionStorage, which lives as long as the tab), so it comes
// back to its own replica, unsent writes and sync position included.

export interface TabSlot {
  readonly index: number;
  release(): void;
}

function lockManager(): LockManager {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) {
    throw new Error(
      'openBrowserDatabase needs the Web Locks API (navigator.locks): serve the page over https or from localhost',
    );
  }
  return locks;
}

/** Slot `index` if no tab holds it now. */
export async function tryTakeSlot(name: string, index: number): Promise<TabSlot | undefined> {
  const release = await tryLock(lockManager(), `syncord:${name}:slot:${index}`);
  return release && { index, release };
}

export async function takeSlot(name: string, maxSlots: number): Promise<TabSlot> {
  lockManager();
  const remembered = readRemembered(name, maxSlots);
  const order =
    remembered === undefined ? range(maxSlots) : [remembered, ...range(maxSlots).filter((i) => i !== remembered)];
  for (const index of order) {
    const slot = await tryTakeSlot(name, index);
    if (!slot) continue;
    remember(name, index);
    return slot;
  }
  throw new Error(`openBrowserDatabase('${name}'): all ${maxSlots} storage slots are held by open tabs (maxTabs)`);
}

/** Takes the lock if nobody holds it; resolves with the function that releases it. */
function tryLock(locks: LockManager, lockName: string): Promise<(() => void) | undefined> {
  return new Promise((resolve, reject) => {
    locks
      .request(lockName, { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(undefined);
        // The lock is held until this promise settles.
        return new Promise<void>((release) => resolve(release));
      })
      .catch(reject);
  });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const rememberKey = (name: string): string => `syncord:${name}:slot`;

function readRemembered(name: string, maxSlots: number): number | undefined {
  try {
    const text = globalThis.sessionStorage?.getItem(rememberKey(name));
    const n = text === null || text === undefined ? NaN : Number(text);
    return Number.isSafeInteger(n) && n >= 0 && n < maxSlots ? n : undefined;
  } catch {
    return undefined; // storage blocked: any free slot will do
  }
}

function remember(name: string, index: number): void {
  try {
    globalThis.sessionStorage?.setItem(rememberKey(name), String(index));
  } catch {
    // Storage blocked: a reload then takes the first free slot, which is still a whole replica.
  }
}
