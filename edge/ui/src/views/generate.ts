import type { Job } from '../../../../shared/schemas/jobs.ts';
import type { ModelInfo } from '../../../../shared/schemas/models.ts';
import { byId, h } from '../dom.ts';
import { showError } from '../notify.ts';
import { api } from '../session.ts';
import { rememberFileName } from './file-names.ts';

/** A format's name as the form shows it. */
const formatLabels: Record<string, string> = { wav: 'WAV (lossless)', mp3: 'MP3 (smaller)' };

/** The generate form: model (with its cost), prompt, seed, duration and output format. */
export function setUpGenerate(onCreated: (job: Job) => void): { load(): Promise<void> } {
  const form = byId<HTMLFormElement>('generate-form');
  const select = form.elements.namedItem('model') as HTMLSelectElement;
  const cost = byId('model-cost');
  const format = form.elements.namedItem('format') as HTMLSelectElement;
  const formatField = byId('format-field');
  const reference = form.elements.namedItem('reference') as HTMLInputElement;
  const referenceField = byId('reference-field');
  /** The input field of the chosen model that takes an uploaded file, if it has one. */
  const fileField = (model: ModelInfo | undefined) =>
    Object.entries((model?.input.properties ?? {}) as Record<string, { format?: string }>).find(
      ([, p]) => p.format === 'overture-file',
    )?.[0];
  const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
  let models: ModelInfo[] = [];
  // No job can be asked for before there is a model to ask it of.
  if (button) button.disabled = true;

  const describe = () => {
    const model = models.find((m) => m.id === select.value);
    cost.textContent = model ? `${model.cost} credit${model.cost === 1 ? '' : 's'} per job` : '';
    // The formats this model offers; none to choose: the field goes.
    const formats = model?.output.formats ?? [];
    format.replaceChildren(
      ...formats.map((f) => h('option', { value: f }, formatLabels[f] ?? f.toUpperCase())),
    );
    formatField.hidden = formats.length === 0;
    referenceField.hidden = fileField(model) === undefined;
  };
  select.addEventListener('change', describe);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const input: Record<string, unknown> = { prompt: String(data.get('prompt') ?? '') };
    const seed = String(data.get('seed') ?? '').trim();
    const duration = String(data.get('duration') ?? '').trim();
    if (seed !== '') input.seed = Number(seed);
    if (duration !== '') input.duration = Number(duration);
    if (button) button.disabled = true;
    try {
      // The clip goes up first; the job names it by its id.
      const field = fileField(models.find((m) => m.id === select.value));
      const clip = reference.files?.[0];
      if (field && clip && !referenceField.hidden) {
        const uploaded = await api.uploadFile(clip, clip.type || 'audio/wav', clip.name);
        input[field] = uploaded.id;
        rememberFileName(uploaded.id, clip.name);
      }
      // One key per press: a retried request never makes (or charges) a second job.
      const body = formatField.hidden
        ? { model: select.value, input }
        : { model: select.value, input, format: format.value as 'wav' | 'mp3' };
      onCreated(await api.createJob(body, crypto.randomUUID()));
    } catch (error) {
      showError(error, 'Could not start the job');
    } finally {
      if (button) button.disabled = false;
    }
  });

  return {
    async load() {
      try {
        models = (await api.models()).data;
        select.replaceChildren(
          ...models.map((m) =>
            h('option', { value: m.id }, `${m.id} — ${m.description.slice(0, 60)}`),
          ),
        );
        describe();
        if (button) button.disabled = models.length === 0;
      } catch (error) {
        showError(error, 'Could not load the models');
      }
    },
  };
}
