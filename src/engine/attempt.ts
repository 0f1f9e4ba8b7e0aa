/**
 * One attempt of a probe: its context, its deadline (an abort after the next poll phase), the
 * watchdog that leaves a prober behind when it overruns, and the outcomes of the engine's own
 * (a bug, an unknown kind). The run's workers reuse a {@link Slot} from probe to probe; a single
 * probe ({@link runOne}) has one of its own.
 */
import { loadProbers, PROBERS } from '../probers/index.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
import { because } from '../reasons.js';
import { bugStack, STACK_TRACES_ENV } from './stacks.js';

/**
 * Run one probe with its deadline; bugs become an `error` outcome marked internal. For single
 * probes outside a run's workers (the control probe, UDP rechecks): the same deadline, watchdog
 * and hard stop as a worker's attempts, from a slot of its own.
 */
export async function runOne(spec: ProbeSpec, base: Omit<ProbeContext, 'signal' | 'timeoutMs' | 'onDeadline'>, hardSignal?: AbortSignal): Promise<ProbeOutcome & { internal?: boolean }> {
  // Imported before the deadline starts: module loading is not the network's time.
  if (!PROBERS[spec.kind]) await loadProbers([spec.kind]);
  const prober = PROBERS[spec.kind];
  if (!prober) return unknownKind(spec);
  // The slot's controller and plain timer are held by this frame, not AbortSignal.any([AbortSignal.timeout()]):
  // on Node 20 the timeout signal inside a composite can be garbage-collected before it fires
  // (nodejs/node#57736). In a 4,096-target sweep through a dropping firewall that left probes
  // waiting ~130 s for the kernel's own SYN timeout instead of their 3 s deadline.
  const slot = new Slot();
  slot.arm(spec.timeoutMs);
  const onHard = (): void => slot.expire();
  if (hardSignal?.aborted) slot.expire();
  else hardSignal?.addEventListener('abort', onHard, { once: true });
  try {
    return await slot.run(spec, prober(spec, probeContext(base, slot, spec.timeoutMs)));
  } catch (err) {
    // A prober that throws before returning its promise has a bug too.
    return internalError(spec, err);
  } finally {
    slot.close();
    hardSignal?.removeEventListener('abort', onHard);
  }
}

/**
 * How long a prober may take past its deadline (or a second Ctrl-C) before the engine stops
 * waiting for it. Probers end within milliseconds of an abort; one that does not has a bug, and
 * must not keep a run (and its measured results) from ending.
 */
export function graceMs(spec: ProbeSpec): number {
  return Math.min(60_000, 2000 + spec.timeoutMs);
}

export function overran(spec: ProbeSpec): ProbeOutcome & { internal: true } {
  return {
    ...because('PROBE_OVERRAN'),
    detail: `netcheck bug: the ${spec.kind} prober did not end within ${graceMs(spec)}ms after its ${spec.timeoutMs}ms deadline`,
    internal: true,
  };
}

export function unknownKind(spec: ProbeSpec): ProbeOutcome & { internal: true } {
  return { ...because('UNKNOWN_KIND'), detail: `no prober for kind '${spec.kind}'`, internal: true };
}

/**
 * A prober that throws has a bug: say so, as an outcome, rather than crash the run. The stack goes
 * in `data.stack`; when stack traces were off for the sweep (src/engine/stacks.ts) the detail says
 * how to get it.
 */
export function internalError(spec: ProbeSpec, err: unknown): ProbeOutcome & { internal: true } {
  const stack = bugStack(err);
  const detail = `netcheck bug in the ${spec.kind} prober: ${(err as Error)?.message ?? String(err)}`;
  return stack
    ? { ...because('INTERNAL'), detail, data: { stack }, internal: true }
    : { ...because('INTERNAL'), detail: `${detail} (no stack trace: set ${STACK_TRACES_ENV}=1 to capture one)`, internal: true };
}

/**
 * The context of one attempt. One literal of plain data fields, written out in one order: a spread
 * of the run's base context cost ~5 µs per probe (a slow-path copy), and a getter in the literal
 * ~2 µs (V8 builds literals with accessors in its runtime), both a visible share of a loopback
 * connect. Plain fields also survive a prober's `{ ...ctx, lookup }`.
 */
export function probeContext(base: Omit<ProbeContext, 'signal' | 'timeoutMs' | 'onDeadline'>, slot: Slot, timeoutMs: number): ProbeContext {
  return {
    signal: slot.ac.signal,
    onDeadline: slot.onDeadline,
    timeoutMs,
    lookup: base.lookup,
    dnsServers: base.dnsServers,
    family: base.family,
    stopSignal: base.stopSignal,
    progress: base.progress,
    reflectorSecret: base.reflectorSecret,
    reflectorFingerprint: base.reflectorFingerprint,
    proxy: base.proxy,
  };
}

/**
 * What one worker of {@link runProbes} reuses from probe to probe: its AbortController and its
 * deadline timer. In a 4,096-target loopback sweep each probe costs ~70 µs of Node's own socket
 * work; a fresh AbortSignal (~4 µs: Node swaps its prototype), a setTimeout/clearTimeout pair and
 * an async wrapper per probe were a visible share of the rest (BENCHMARKS.md, item i).
 */
export class Slot {
  /** The current attempt's {@link ProbeContext.onDeadline} callback. */
  private onExpire: (() => void) | undefined;

  /** {@link ProbeContext.onDeadline} of this slot's attempts: a field, no listener per attempt. */
  readonly onDeadline = (fn: () => void): boolean => {
    if (this.acAborted) return false;
    // Attempts run side by side within one probe (the addresses of a name, --compare-direct) each
    // register: the callbacks are chained, so every one hears the deadline.
    const before = this.onExpire;
    this.onExpire = before
      ? () => {
          before();
          fn();
        }
      : fn;
    return true;
  };

  /** The current controller has been aborted (its signal's `aborted`, kept here: a getter call per probe). */
  private acAborted = false;
  /** A listener was added to the current controller's signal by someone other than the slot. */
  private listened = false;

  ac = this.fresh();
  /** The controller the deadline timer aborts; undefined between attempts. */
  private armed: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = -1;
  /** Ends the current attempt with an outcome of the engine's own (see {@link graceMs}). */
  private bail: ((o: ProbeOutcome & { internal?: boolean }) => void) | undefined;
  private spec: ProbeSpec | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogMs = -1;

  /**
   * The controller for the next attempt. Replaced once it has been aborted, or once a prober added
   * a listener to its signal (which it may have left behind), so no probe ever sees another's abort.
   * tcp's attempts hear their deadline through {@link onDeadline} and add none: a sweep reuses one
   * controller per worker (a fresh AbortSignal costs ~4 µs: Node swaps its prototype).
   */
  controller(): AbortController {
    if (this.acAborted || this.listened) this.ac = this.fresh();
    return this.ac;
  }

  /**
   * A controller with the slot's one listener, added once for all the attempts that reuse it: it
   * passes the abort, whoever aborts (the deadline, an adaptive deadline, a second Ctrl-C), to the
   * current attempt's {@link onDeadline} callback.
   *
   * Every other listener goes through the signal's own `addEventListener`, which this instance
   * overrides to note it: `onabort`, `events.addAbortListener`, `events.once`, timers' and
   * streams' `{ signal }` options all call it (test/unit/engine.test.ts tries each). Counting the
   * listeners instead (`getEventListeners`) validated the target on every call, ~3 µs per probe.
   */
  private fresh(): AbortController {
    const ac = new AbortController();
    const signal = ac.signal;
    this.acAborted = false;
    this.listened = false;
    signal.addEventListener('abort', () => {
      if (this.ac === ac) this.acAborted = true;
      const onExpire = this.onExpire;
      this.onExpire = undefined;
      onExpire?.();
    });
    const add = signal.addEventListener;
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>): void => {
      if (this.ac === ac) this.listened = true;
      add.apply(signal, args);
    }) as AbortSignal['addEventListener'];
    return ac;
  }

  /** Bumped by every arm(): a deferred abort of an earlier attempt must not reach a later one. */
  private generation = 0;

  /**
   * Abort the current controller after `ms`, re-arming the slot's one timer (no allocation). The
   * abort waits for the next poll phase, so answers already received count first (`due`).
   */
  arm(ms: number): void {
    this.armed = this.ac;
    this.generation++;
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.due(), ms);
    this.timerMs = ms;
  }

  /**
   * The deadline timer fired: expire, unless re-armed since, but only after the event loop's next
   * poll phase. When this process was busy or starved of CPU past the deadline, the timer and the
   * network's answer (a completed handshake, a reply) are due in the same loop iteration, and
   * timers run first; the answer is already here and must count, or a late timer on this host
   * reads as silence on the network (seen under load: connects to a listening loopback port judged
   * SYN_TIMEOUT). Waiting one poll costs nothing when the network really was silent.
   */
  private due(): void {
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) this.expire();
    });
  }

  /**
   * Await one attempt of `spec`. A prober that has not returned {@link graceMs} after its deadline
   * (or a second Ctrl-C) is left behind with an internal outcome: a bug must not hang the run.
   */
  run(spec: ProbeSpec, attempt: Promise<ProbeOutcome>): Promise<ProbeOutcome & { internal?: boolean }> {
    this.spec = spec;
    return new Promise((resolve) => {
      this.bail = resolve;
      attempt.then(resolve, (err: unknown) => resolve(internalError(spec, err)));
    });
  }

  /** The deadline passed, or the user cancelled probes in flight: abort, and start the watchdog. */
  expire(): void {
    const ac = this.armed;
    if (!ac) return;
    ac.abort();
    const spec = this.spec;
    if (!spec || !this.bail) return;
    const ms = graceMs(spec);
    if (this.watchdog && this.watchdogMs === ms) this.watchdog.refresh();
    else {
      if (this.watchdog) clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => {
        if (this.armed === ac && this.spec) this.bail?.(overran(this.spec));
      }, ms);
      this.watchdogMs = ms;
    }
  }

  /** The attempt settled: a later firing of the timers aborts nothing. */
  disarm(): void {
    this.armed = undefined;
    this.onExpire = undefined;
    this.bail = undefined;
    this.spec = undefined;
  }

  /** The worker is done: the timers must not hold the process open. */
  close(): void {
    this.disarm();
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.timer = undefined;
    this.watchdog = undefined;
  }
}
