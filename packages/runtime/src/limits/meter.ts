import { FuelExhaustedError, type LimitError, TimeoutError } from '../errors.js';

/** Fuel granted per refuel when a deadline must be checked: about a millisecond of execution. */
const TIMED_SLICE = 1_000_000;
/** Fuel granted per refuel when only a fuel limit (or nothing) applies. */
const FREE_SLICE = 0x3fffffff;

/**
 * The host side of injected fuel metering for one plug-in instance. The plug-in counts down
 * `global` and calls `refuel` when it goes negative; refuel accounts for the slice, checks the
 * fuel limit and the deadline, and either grants another slice or leaves the counter negative,
 * which makes the injected code trap. The reason is kept in `abort` for the caller to report.
 */
export class Meter {
  /** The counter the plug-in's modules import as `tenon.fuel`. */
  readonly global = new WebAssembly.Global({ value: 'i32', mutable: true }, FREE_SLICE);
  /** Why the last call was stopped, if it was. */
  abort: LimitError | undefined;
  #granted = FREE_SLICE;
  #spent = 0;
  #limit = Number.POSITIVE_INFINITY;
  #deadline = Number.POSITIVE_INFINITY;
  #timeoutMs = 0;
  #started = 0;
  #name: string | undefined;
  /** The counter as finish() last read it, while no plug-in code has run since and the run it ended had no fuel limit. */
  #counter: number | undefined;

  /**
   * Start metering a call of plug-in function `name` (or, with undefined, an instantiation):
   * `fuel` units at most, `timeoutMs` of wall clock at most, counted from `now` (a performance.now()
   * reading the caller took anyway; read here when not given).
   */
  start(name: string | undefined, fuel: number | undefined, timeoutMs: number | undefined, now?: number): void {
    this.abort = undefined;
    this.#name = name;
    this.#timeoutMs = timeoutMs ?? 0;
    // the clock is read only when a deadline needs it: this runs on every call
    this.#started = timeoutMs === undefined ? 0 : (now ?? performance.now());
    this.#deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.#started + timeoutMs;
    const counter = this.#counter;
    this.#counter = undefined;
    // No fuel limit, and the counter stands where the last such run left it: count on from there
    // rather than write the plug-in's global (used = spent + granted - counter = 0). Under a
    // deadline only a counter within a timed slice will do, so that the clock is checked as often.
    if (fuel === undefined && counter !== undefined && (timeoutMs === undefined || counter <= TIMED_SLICE)) {
      this.#spent = counter - this.#granted;
      return;
    }
    this.#spent = 0;
    this.#limit = fuel ?? Number.POSITIVE_INFINITY;
    this.#grant();
  }

  /** The end of a run started by start(): the fuel it used. */
  finish(): number {
    if (this.abort) return this.#spent;
    const counter = this.global.value as number;
    if (this.#limit === Number.POSITIVE_INFINITY) this.#counter = counter;
    return this.#spent + this.#granted - counter;
  }

  get #what(): string {
    return this.#name === undefined ? 'Instantiation' : `Plug-in function "${this.#name}"`;
  }

  /** Fuel used since start() (up to the charge that stopped the call, if one did). */
  get used(): number {
    return this.abort ? this.#spent : this.#spent + this.#granted - (this.global.value as number);
  }

  /** The current call's deadline, in performance.now() milliseconds (Infinity when none). */
  get deadline(): number {
    return this.#deadline;
  }

  /** Milliseconds since start(). */
  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** True when the deadline has passed (host functions check it too: their time counts). */
  overdue(): boolean {
    return this.#deadline !== Number.POSITIVE_INFINITY && performance.now() > this.#deadline;
  }

  readonly refuel = (): void => {
    if (this.abort) {
      this.#stop(this.abort);
      return;
    }
    this.#account();
    if (this.#spent > this.#limit) {
      this.#stop(new FuelExhaustedError(`${this.#what} ran out of fuel: used ${this.#spent} of ${this.#limit}`, this.#spent, this.#limit));
    } else if (this.overdue()) {
      this.timeout();
    } else {
      this.#grant();
    }
  };

  /** Stop the current call for running past its deadline. */
  timeout(): void {
    this.#stop(
      new TimeoutError(
        `${this.#what} ran past its ${this.#timeoutMs} ms deadline (stopped after ${this.elapsedMs.toFixed(1)} ms)`,
        this.#timeoutMs,
      ),
    );
  }

  /** Move what the plug-in counted down into #spent. */
  #account(): void {
    this.#spent += this.#granted - (this.global.value as number);
    this.#granted = 0;
    this.global.value = 0;
  }

  #stop(error: LimitError): void {
    if (!this.abort) {
      this.#account();
      this.abort = error;
    }
    this.global.value = -0x40000000;
  }

  #grant(): void {
    const slice = this.#deadline === Number.POSITIVE_INFINITY ? FREE_SLICE : TIMED_SLICE;
    this.#granted = Math.max(0, Math.min(slice, this.#limit - this.#spent));
    this.global.value = this.#granted;
  }
}
