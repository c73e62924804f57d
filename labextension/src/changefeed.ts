/**
 * One poller of the change feed (`GET /nbtrack/api/changes`) for the whole extension: it polls
 * while anything holds it — the runs sidebar while it is visible, the cell badges while a notebook
 * is open — so runs made elsewhere (another notebook, a script, a teammate on a shared store) show
 * up in both, and nothing polls when nothing would show the news.
 */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IChanges, NbtrackApi } from './api';

/** How often the feed is polled while held (Lumino's Poll backs off after errors, up to a minute,
 * and stands by while the browser tab is hidden). */
export const POLL_MS = 3000;

export class ChangeFeed implements IDisposable {
  constructor(api: NbtrackApi, intervalMs: number = POLL_MS) {
    this.poll = new Poll({
      auto: false,
      name: 'nbtrack:changes',
      frequency: { interval: intervalMs, backoff: true, max: 60_000 },
      standby: 'when-hidden',
      factory: async () => {
        try {
          const first = this.cursor === null;
          const changes = await api.changes(this.cursor ?? '');
          this.cursor = changes.cursor;
          if (!first) {
            this._polled.emit(changes); // the first answer only sets where "since" starts
          }
        } catch (error) {
          this._failed.emit(error instanceof Error ? error.message : String(error));
          throw error; // the poll backs off
        }
      }
    });
  }

  /** Every poll's answer (runs created, changed or deleted since the last one; maybe none). */
  get polled(): ISignal<this, IChanges> {
    return this._polled;
  }

  /** A poll failed (the server is down, say); the message. */
  get failed(): ISignal<this, string> {
    return this._failed;
  }

  get isDisposed(): boolean {
    return this.poll.isDisposed;
  }

  /** Keep the feed polling until the returned handle is disposed. */
  hold(): IDisposable {
    this.holders += 1;
    if (this.holders === 1) {
      void this.poll.start();
    }
    return new DisposableDelegate(() => {
      this.holders -= 1;
      if (this.holders === 0 && !this.poll.isDisposed) {
        void this.poll.stop();
      }
    });
  }

  dispose(): void {
    if (!this.poll.isDisposed) {
      this.poll.dispose();
      Signal.clearData(this);
    }
  }

  private readonly poll: Poll;
  private cursor: string | null = null;
  private holders = 0;
  private readonly _polled = new Signal<this, IChanges>(this);
  private readonly _failed = new Signal<this, string>(this);
}
