// Every hook call is bounded in time: a hook that never settles must not hold a session, a store
// reference or a shutdown forever. Its late result is ignored.

export class HookTimeoutError extends Error {
  override readonly name = 'HookTimeoutError';
  constructor(
    readonly hook: string,
    readonly timeoutMs: number,
  ) {
    super(`${hook} did not answer within ${timeoutMs} ms`);
  }
}

export async function callHook<T>(hook: string, timeoutMs: number, call: () => T | Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HookTimeoutError(hook, timeoutMs)), timeoutMs);
  });
  try {
    // Promise.resolve().then(...) turns a synchronous throw into a rejection like an async one.
    return await Promise.race([Promise.resolve().then(call), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
