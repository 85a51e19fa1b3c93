import { terminalStatuses } from '../../../../shared/job-states.ts';
import { outputFormats } from '../../../../shared/output-formats.ts';
import type { Job } from '../../../../shared/schemas/jobs.ts';
import { byId, h } from '../dom.ts';
import { showError } from '../notify.ts';
import { api } from '../session.ts';
import { fileName } from './file-names.ts';
import { queueLine } from './queue-line.ts';
import { drawWaveform } from './waveform.ts';

/** A download's file extension, from the output's content type. */
const extensionOf = (contentType: string): string =>
  Object.values(outputFormats).find((f) => contentType.startsWith(f.contentType))?.extension ??
  'bin';

const terminal = new Set<string>(terminalStatuses);

interface Card {
  job: Job;
  el: HTMLLIElement;
  status: HTMLElement;
  meta: HTMLElement;
  queue: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
  result: HTMLElement;
  error: HTMLElement;
  cancel: HTMLButtonElement;
  actions: HTMLElement;
  /** The object URL of the loaded output, revoked when the card goes. */
  outputUrl?: string;
}

const seconds = (from: string | null, to: string | null) => {
  if (!from || !to) return '';
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return s < 0.1 ? 'under 0.1 s' : `${s.toFixed(1)} s`;
};

/**
 * The list of the user's jobs, newest first: each card shows status, its place in line and
 * estimated start while queued, a progress bar, then a player with a waveform and a download
 * link, or the error.
 */
export class JobList {
  readonly #cards = new Map<string, Card>();
  readonly #list = byId<HTMLOListElement>('job-list');
  readonly #more = byId<HTMLButtonElement>('more');
  #cursor: string | null = null;
  /** Called for every job that is not finished yet, so the socket follows it. */
  onActive: (job: Job) => void = () => {};
  onFinished: (job: Job) => void = () => {};

  constructor() {
    this.#more.addEventListener('click', () => void this.loadMore());
  }

  clear(): void {
    for (const card of this.#cards.values())
      if (card.outputUrl) URL.revokeObjectURL(card.outputUrl);
    this.#cards.clear();
    this.#list.replaceChildren();
    this.#cursor = null;
    this.#more.hidden = true;
    this.#empty();
  }

  async loadFirstPage(): Promise<void> {
    this.clear();
    await this.loadMore();
  }

  async loadMore(): Promise<void> {
    try {
      const page = await api.jobs({ limit: 10, ...(this.#cursor ? { cursor: this.#cursor } : {}) });
      for (const job of page.data) this.upsert(job, 'end');
      this.#cursor = page.nextCursor;
      this.#more.hidden = page.nextCursor === null;
    } catch (error) {
      showError(error, 'Could not load your jobs');
    }
  }

  /** Adds or updates a job's card; a new job goes first. */
  upsert(job: Job, where: 'start' | 'end' = 'start'): void {
    let card = this.#cards.get(job.id);
    // Only a job seen unfinished can finish now: a finished one loaded from the list has not.
    const wasActive = card !== undefined && !terminal.has(card.job.status);
    if (!card) {
      card = this.#create(job);
      this.#cards.set(job.id, card);
      if (where === 'start') this.#list.prepend(card.el);
      else this.#list.append(card.el);
    } else if (job.seq < card.job.seq) {
      return;
    }
    card.job = job;
    this.#render(card);
    this.#empty();
    if (!terminal.has(job.status)) this.onActive(job);
    else if (wasActive) this.onFinished(job);
  }

  /** A queued job's new place in line and estimated start, heard on the socket. */
  moveInQueue(jobId: string, position: number, etaSeconds: number): void {
    const card = this.#cards.get(jobId);
    if (card?.job.status !== 'queued') return;
    card.job = { ...card.job, queuePosition: position, etaSeconds };
    this.#render(card);
  }

  #empty(): void {
    byId('jobs-empty').hidden = this.#cards.size > 0;
  }

  #create(job: Job): Card {
    const status = h('span', { class: 'status' });
    const meta = h('span', { class: 'meta' });
    const prompt =
      typeof job.input.prompt === 'string' ? job.input.prompt : JSON.stringify(job.input);
    const queue = h('p', { class: 'meta' });
    const fill = h('div');
    const bar = h(
      'div',
      {
        class: 'progress',
        role: 'progressbar',
        'aria-label': `Progress of “${prompt.slice(0, 40)}”`,
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': 0,
      },
      fill,
    );
    const result = h('div', { class: 'result' });
    const error = h('p', { class: 'job-error' });
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const actions = h('div', { class: 'job-actions' }, cancel);
    // The reference clip a job follows, by the name it was uploaded under.
    const reference = h('p', { class: 'meta reference' });
    const referenceId = job.input.reference;
    reference.hidden = typeof referenceId !== 'string';
    if (typeof referenceId === 'string') {
      reference.textContent = `Reference: ${referenceId}`;
      void fileName(referenceId).then((name) => {
        reference.textContent = `Reference: ${name ?? 'a file that is gone'}`;
      });
    }
    const el = h(
      'li',
      { class: 'job', 'data-job-id': job.id },
      h('div', { class: 'job-head' }, status, meta),
      h('p', { class: 'prompt' }, prompt),
      reference,
      queue,
      bar,
      result,
      error,
      actions,
    );
    const card: Card = { job, el, status, meta, queue, bar, fill, result, error, cancel, actions };
    cancel.addEventListener('click', () => void this.#cancel(card));
    return card;
  }

  #render(card: Card): void {
    const { job } = card;
    card.el.dataset.status = job.status;
    card.status.textContent = job.status;
    card.status.className = `status ${job.status}`;
    const took = seconds(job.startedAt, job.finishedAt);
    card.meta.textContent = [
      job.model,
      `${job.cost} credit${job.cost === 1 ? '' : 's'}`,
      new Date(job.createdAt).toLocaleString(),
      took && `took ${took}`,
    ]
      .filter(Boolean)
      .join(' · ');
    card.queue.textContent =
      job.status === 'queued' && job.queuePosition
        ? queueLine(job.queuePosition, job.etaSeconds)
        : '';
    card.queue.hidden = card.queue.textContent === '';
    const percent = Math.round(job.progress * 100);
    card.bar.setAttribute('aria-valuenow', String(percent));
    card.fill.style.width = `${percent}%`;
    card.bar.hidden = job.status !== 'queued' && job.status !== 'running';
    card.actions.hidden = terminal.has(job.status);
    card.error.textContent = job.error ? `${job.error.message} (${job.error.code})` : '';
    card.error.hidden = !job.error;
    if (job.status === 'succeeded' && job.output && !card.outputUrl) void this.#loadOutput(card);
  }

  async #cancel(card: Card): Promise<void> {
    card.cancel.disabled = true;
    try {
      this.upsert(await api.cancelJob(card.job.id));
    } catch (error) {
      showError(error, 'Could not cancel the job');
    } finally {
      card.cancel.disabled = false;
    }
  }

  /** Fetches the output with the session's token, then shows a player, a waveform and a link. */
  async #loadOutput(card: Card): Promise<void> {
    card.outputUrl = 'loading';
    try {
      const res = await api.output(card.job.id);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      card.outputUrl = url;
      const canvas = h('canvas', {
        class: 'waveform',
        role: 'img',
        'aria-label': 'Waveform of the result',
      });
      const audio = h('audio', { controls: true, preload: 'metadata', src: url });
      const extension = extensionOf(card.job.output?.contentType ?? '');
      const link = h(
        'a',
        { href: url, download: `${card.job.id}.${extension}`, class: 'button secondary' },
        'Download',
      );
      card.result.replaceChildren(canvas, audio, h('div', { class: 'job-actions' }, link));
      await drawWaveform(canvas, await blob.arrayBuffer()).catch(() => {
        canvas.hidden = true;
      });
    } catch (error) {
      card.outputUrl = undefined;
      showError(error, 'Could not load the result');
    }
  }
}
