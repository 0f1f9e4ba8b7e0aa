/**
 * Sockets a prober owns must never raise an unhandled 'error' event: Node turns one into an
 * exception that ends the process, and with it every other line's result (issue 11: a TLS socket
 * destroyed at the deadline with no listener left killed whole runs).
 */

function ignore(): void {
  // The prober's own listeners classify the errors it cares about; late ones (after its outcome
  // was decided, or during teardown) have nothing left to change.
}

/**
 * Give an emitter a permanent 'error' listener, so an error after the prober's one-shot listeners
 * were used up (a second error, a destroy with an error during teardown) is absorbed. Returns it.
 */
export function absorbErrors<T extends NodeJS.EventEmitter>(emitter: T): T {
  emitter.on('error', ignore);
  return emitter;
}

/**
 * At the deadline, fail every socket in `sockets` with an ETIMEDOUT error. undici waits for a
 * custom connector's callback even after its request was aborted, and a stalled TCP connect or TLS
 * handshake never calls it by itself: failing the sockets makes their 'error' listeners call it,
 * so the probe ends on time. Returns the function that removes the abort listener.
 */
export function failSocketsOnAbort(signal: AbortSignal, sockets: readonly NodeJS.EventEmitter[]): () => void {
  const fail = (): void => {
    for (const s of sockets) (s as unknown as { destroy(err?: Error): void }).destroy(Object.assign(new Error('probe deadline'), { code: 'ETIMEDOUT' }));
  };
  if (signal.aborted) {
    fail();
    return () => undefined;
  }
  signal.addEventListener('abort', fail, { once: true });
  return () => signal.removeEventListener('abort', fail);
}
